/**
 * Load drivers: autocannon (programmatic) for steady closed-loop load, a small burst driver
 * (each session fires N near-simultaneous requests), and a WebSocket ticket + upgrade driver.
 *
 * Latencies are collected from every response with sub-millisecond resolution (autocannon's own
 * histogram rounds to whole milliseconds, too coarse for "p50 within 1 ms of hello").
 * Everything here talks to 127.0.0.1 only, and every run is bounded by its duration.
 */
import http from "node:http";
import { performance } from "node:perf_hooks";
import autocannon from "autocannon";
import WebSocket from "ws";

export interface Sample {
  /** Responses with the expected status per second of the measured window. */
  rps: number;
  /** Latency percentiles in ms, over responses with the expected status. */
  p50: number;
  p99: number;
  /** Every response received, expected or not. */
  requests: number;
  /** Responses with another status, plus connection errors and timeouts. */
  unexpected: number;
  statusCodes: Record<string, number>;
  /** The first unexpected answer's status and body (burst and WebSocket drivers only). */
  sampleError?: string;
}

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank]!;
}

export function median(values: number[]): number {
  const v = values.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (v.length === 0) return Number.NaN;
  const mid = Math.floor(v.length / 2);
  return v.length % 2 ? v[mid]! : (v[mid - 1]! + v[mid]!) / 2;
}

function assertLoopback(url: string): void {
  const host = new URL(url).hostname;
  if (host !== "127.0.0.1") throw new Error(`bench: refusing to send load to ${host} (127.0.0.1 only)`);
}

export interface CannonOptions {
  url: string;
  method?: "GET" | "POST";
  headers?: Record<string, string>;
  /**
   * Different headers per connection (e.g. one token each): connection i sends
   * `perConnection[i % length]`, merged over `headers`. Run as one single-connection
   * autocannon instance per connection, all at once, results merged.
   */
  perConnection?: Record<string, string>[];
  /** Headers made afresh for every request (e.g. a new forged token each time), merged over `headers`. */
  headersFor?: () => Record<string, string>;
  body?: string;
  connections: number;
  durationS: number;
  expectStatus: number;
}

interface Collected {
  latencies: number[];
  statusCodes: Record<string, number>;
  requests: number;
  failures: number;
}

function cannonInstance(o: CannonOptions, headers: Record<string, string> | undefined, connections: number, into: Collected): Promise<void> {
  return new Promise((resolve, reject) => {
    const instance = autocannon(
      {
        url: o.url,
        method: o.method ?? "GET",
        headers,
        body: o.body,
        connections,
        pipelining: 1,
        duration: o.durationS,
        // The stop flag is only checked at each sample tick: 100 ms keeps fractional durations honest.
        sampleInt: 100,
        timeout: 10,
        ...(o.headersFor
          ? { requests: [{ setupRequest: (req: autocannon.Request) => ({ ...req, headers: { ...req.headers, ...o.headersFor!() } }) }] }
          : {}),
      },
      (err, result) => {
        if (err) return reject(err);
        into.failures += (result.errors ?? 0) + (result.timeouts ?? 0);
        resolve();
      },
    );
    instance.on("response", (_client, statusCode, _bytes, responseTime) => {
      into.requests++;
      into.statusCodes[statusCode] = (into.statusCodes[statusCode] ?? 0) + 1;
      if (statusCode === o.expectStatus) into.latencies.push(responseTime);
    });
  });
}

/** A closed-loop autocannon run; resolves with rps and sub-ms percentiles. */
export async function cannon(o: CannonOptions): Promise<Sample> {
  assertLoopback(o.url);
  const into: Collected = { latencies: [], statusCodes: {}, requests: 0, failures: 0 };
  const started = performance.now();
  if (o.perConnection?.length) {
    await Promise.all(
      Array.from({ length: o.connections }, (_, i) => cannonInstance(o, { ...o.headers, ...o.perConnection![i % o.perConnection!.length] }, 1, into)),
    );
  } else await cannonInstance(o, o.headers, o.connections, into);
  const elapsedS = (performance.now() - started) / 1000;
  const { latencies } = into;
  latencies.sort((a, b) => a - b);
  return {
    rps: latencies.length / Math.max(elapsedS, 1e-3),
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
    requests: into.requests,
    unexpected: into.requests - latencies.length + into.failures,
    statusCodes: into.statusCodes,
  };
}

export interface HttpReply {
  status: number;
  body: string;
  headers: http.IncomingHttpHeaders;
  ms: number;
}

/** One HTTP request over `agent`; never rejects on a status, rejects on a socket error or after `timeoutMs` (10 s) of silence. */
export function request(
  agent: http.Agent,
  url: string,
  init: { method?: string; headers?: Record<string, string>; body?: string; timeoutMs?: number } = {},
): Promise<HttpReply> {
  assertLoopback(url);
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const req = http.request(url, { agent, method: init.method ?? "GET", headers: init.headers, timeout: init.timeoutMs ?? 10_000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString("utf8"), headers: res.headers, ms: performance.now() - started }));
      res.on("error", reject);
    });
    req.on("timeout", () => req.destroy(new Error(`timeout: ${init.method ?? "GET"} ${url}`)));
    req.on("error", reject);
    req.end(init.body);
  });
}

export interface BurstOptions {
  url: string;
  tokens: string[];
  /** Near-simultaneous requests per session. */
  perSession: number;
  /** Sessions bursting at the same time. */
  parallelSessions: number;
  agent: http.Agent;
}

/**
 * Every session sends `perSession` requests at once (one Promise.all), `parallelSessions`
 * sessions at a time, until every token has burst once.
 */
export async function burst(o: BurstOptions): Promise<Sample> {
  assertLoopback(o.url);
  const latencies: number[] = [];
  const statusCodes: Record<string, number> = {};
  let requests = 0;
  let failures = 0;
  let sampleError: string | undefined;
  let next = 0;
  const started = performance.now();
  const lane = async () => {
    while (next < o.tokens.length) {
      const token = o.tokens[next++]!;
      const replies = await Promise.allSettled(
        Array.from({ length: o.perSession }, () => request(o.agent, o.url, { headers: { Authorization: `Bearer ${token}` } })),
      );
      for (const r of replies) {
        if (r.status === "rejected") {
          failures++;
          sampleError ??= String(r.reason);
          continue;
        }
        requests++;
        statusCodes[r.value.status] = (statusCodes[r.value.status] ?? 0) + 1;
        if (r.value.status === 200) latencies.push(r.value.ms);
        else sampleError ??= `${r.value.status} ${r.value.body.slice(0, 300)}`;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(o.parallelSessions, o.tokens.length) }, lane));
  const elapsedS = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  return {
    rps: latencies.length / Math.max(elapsedS, 1e-3),
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
    requests,
    unexpected: requests - latencies.length + failures,
    statusCodes,
    ...(sampleError ? { sampleError } : {}),
  };
}

export interface WsOptions {
  baseUrl: string;
  token: string;
  connections: number;
  durationS: number;
  agent: http.Agent;
}

export interface WsSample extends Sample {
  /** p50 of the upgrade alone (connect → first "hello" message), without the ticket request. */
  upgradeP50: number;
}

/** Opens a socket with `?token=<ticket>`, waits for the server's hello, closes. Resolves with ms. */
function upgradeOnce(baseUrl: string, ticket: string): Promise<number> {
  const wsUrl = `${baseUrl.replace(/^http/, "ws")}/ws?token=${encodeURIComponent(ticket)}`;
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const ws = new WebSocket(wsUrl, { headers: { Origin: baseUrl }, handshakeTimeout: 10_000 });
    let settled = false;
    const done = (error: Error | null) => {
      if (settled) return;
      settled = true;
      const ms = performance.now() - started;
      try {
        ws.close(1000);
      } catch {
        ws.terminate();
      }
      if (error) reject(error);
      else resolve(ms);
    };
    ws.once("message", (data) => {
      const text = String(data);
      done(text.includes('"hello"') ? null : new Error(`unexpected first message: ${text.slice(0, 80)}`));
    });
    ws.once("unexpected-response", (_req, res) => done(new Error(`upgrade refused: ${res.statusCode}`)));
    ws.once("error", (e) => done(e));
  });
}

/**
 * Closed loop per connection: `POST /auth/ws-ticket` (Bearer) then `GET /ws?token=<ticket>`
 * as a real WebSocket upgrade, until the duration is over. Latency is ticket + upgrade.
 */
export async function wsUpgrades(o: WsOptions): Promise<WsSample> {
  assertLoopback(o.baseUrl);
  const total: number[] = [];
  const upgrade: number[] = [];
  const statusCodes: Record<string, number> = {};
  let requests = 0;
  let failures = 0;
  let sampleError: string | undefined;
  const started = performance.now();
  const deadline = started + o.durationS * 1000;
  const lane = async () => {
    while (performance.now() < deadline) {
      const t0 = performance.now();
      requests++;
      try {
        const r = await request(o.agent, `${o.baseUrl}/auth/ws-ticket`, { method: "POST", headers: { Authorization: `Bearer ${o.token}` } });
        statusCodes[`ticket:${r.status}`] = (statusCodes[`ticket:${r.status}`] ?? 0) + 1;
        if (r.status !== 200) {
          failures++;
          sampleError ??= `ticket ${r.status} ${r.body.slice(0, 300)}`;
          continue;
        }
        const { ticket } = JSON.parse(r.body) as { ticket: string };
        upgrade.push(await upgradeOnce(o.baseUrl, ticket));
        statusCodes["101"] = (statusCodes["101"] ?? 0) + 1;
        total.push(performance.now() - t0);
      } catch (error) {
        failures++;
        sampleError ??= String(error);
      }
    }
  };
  await Promise.all(Array.from({ length: o.connections }, lane));
  const elapsedS = (performance.now() - started) / 1000;
  total.sort((a, b) => a - b);
  upgrade.sort((a, b) => a - b);
  return {
    rps: total.length / Math.max(elapsedS, 1e-3),
    p50: percentile(total, 50),
    p99: percentile(total, 99),
    upgradeP50: percentile(upgrade, 50),
    requests,
    unexpected: failures,
    statusCodes,
    ...(sampleError ? { sampleError } : {}),
  };
}
