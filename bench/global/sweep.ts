/**
 * The revocation sweep across regions: for each replication lag L, sessions signed in and
 * revoked in region A while region B verifies them (HTTP, through its edge cache) and holds a
 * socket for each. Each session reaches B's replica before the lag is applied, so the replica
 * holds it when it is revoked: L (or a partition) is what holds the revocation back. Measured from the revoking response in A: the first refusal in B, and the
 * close of B's socket. A grant in B to a request SENT after the stated bound is a violation.
 * Every wait is bounded; loopback only.
 */
import { randomBytes } from "node:crypto";
import { performance } from "node:perf_hooks";
import type { StoreServer } from "@edge-session/local-store";
import { api, openSocket, PASSWORD, ticketFor, type Socket } from "../realtime/client.ts";
import type { GlobalCluster } from "./cluster.ts";

export type Lag = number | "partition";

export interface SweepOptions {
  cluster: GlobalCluster;
  store: StoreServer;
  /** Where sessions are created and revoked, and where they are verified. */
  from: string;
  to: string;
  lags: Lag[];
  sessionsPerPoint: number;
  /** Sessions measured at once. @default 5 */
  parallel?: number;
  /** The stated HTTP bound in ms (SESSION_CACHE_TTL + STORE_FRESHNESS_BOUND). */
  boundMs: number;
  /** How long past the bound each session keeps being checked for grants. @default 1000 */
  watchAfterBoundMs?: number;
  /** Poll period of the verifying client. @default 25 */
  pollMs?: number;
  /** With no socket per session (the baseline run). @default true */
  sockets?: boolean;
  log?: (msg: string) => void;
}

export interface Dist {
  n: number;
  p50: number | null;
  p99: number | null;
  max: number | null;
}

export interface PointResult {
  lag: string;
  sessions: number;
  /** Revoking response in A → first refusal in B (ms). */
  httpRevocationMs: Dist;
  /** Sessions never refused in B within the watch window. */
  neverRefused: number;
  /** 200s in B to requests sent after the revoking response + the stated bound. */
  grantsAfterBound: number;
  /** Refusals seen in B by status (401 revoked, 503 store unavailable or stale). */
  refusals: Record<string, number>;
  /** Revoking response in A → close frame of B's socket (ms); negative: the close came first. */
  socketCloseMs: Dist | null;
  closesMissed: number;
  /** B's verifier, over the point: stale replica reads answered at the primary, and refused (503), per minute. */
  staleReadsPerMinute: number;
  staleRefusalsPerMinute: number;
  /** B's verifier: the largest replica staleness it saw (ms; null when it read none). */
  maxStalenessMs: number | null;
  durationS: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export function dist(values: number[]): Dist {
  if (!values.length) return { n: 0, p50: null, p99: null, max: null };
  const s = [...values].sort((a, b) => a - b);
  const r = (x: number) => Math.round(x * 10) / 10;
  const at = (q: number) => r(s[Math.min(s.length - 1, Math.ceil(q * s.length) - 1)]!);
  return { n: s.length, p50: at(0.5), p99: at(0.99), max: r(s[s.length - 1]!) };
}

interface One {
  httpMs: number | null;
  grantsAfterBound: number;
  refusals: Record<string, number>;
  closeMs: number | null;
}

interface Prepared {
  token: string;
  socket: Socket | null;
}

/** A session signed in at A, verified once at B and with a socket held by B. */
async function prepare(o: SweepOptions, tag: string): Promise<Prepared> {
  const a = o.cluster.workers[o.from]!;
  const b = o.cluster.workers[o.to]!;
  const email = `g-${tag}-${randomBytes(4).toString("hex")}@example.test`;
  const reg = await api(a, "/auth/register", { body: { email, password: PASSWORD } });
  if (reg.status !== 201) throw new Error(`register at ${o.from}: ${reg.status} ${reg.text}`);
  const token = reg.json.token as string;
  let socket: Socket | null = null;
  if (o.sockets !== false) {
    socket = await openSocket(b, await ticketFor(b, token), `g${randomBytes(4).toString("hex")}`);
    await socket.hello;
  }
  const first = await api(b, "/api/me", { token });
  if (first.status !== 200) throw new Error(`first check at ${o.to}: ${first.status} ${first.text}`);
  return { token, socket };
}

/** B polls the session while A revokes it at a random moment; B's replica lags as set meanwhile. */
async function measure(o: SweepOptions, { token, socket }: Prepared): Promise<One> {
  const a = o.cluster.workers[o.from]!;
  const b = o.cluster.workers[o.to]!;
  const watchMs = o.boundMs + (o.watchAfterBoundMs ?? 1000);
  const pollMs = o.pollMs ?? 25;
  const refusals: Record<string, number> = {};
  let revokedAt = Infinity;
  let firstRefusal: number | null = null;
  let grantsAfterBound = 0;
  let stop = false;
  // B verifies continuously, so its cache holds the session at any phase when the revocation comes.
  const poller = (async () => {
    while (!stop) {
      const sent = performance.now();
      const r = await api(b, "/api/me", { token }).catch(() => null);
      if (r && r.status === 200) {
        if (sent > revokedAt + o.boundMs) grantsAfterBound++;
      } else if (r && sent > revokedAt) {
        refusals[r.status] = (refusals[r.status] ?? 0) + 1;
        firstRefusal ??= r.at;
      }
      await sleep(pollMs);
    }
  })();
  await sleep(200 + Math.random() * 1000);
  const out = await api(a, "/auth/logout", { method: "POST", token });
  if (out.status !== 200 && out.status !== 204) throw new Error(`logout at ${o.from}: ${out.status} ${out.text}`);
  revokedAt = out.at;
  const closed = socket ? Promise.race([socket.closeFrame.then((c) => c.at), sleep(watchMs).then(() => null)]) : Promise.resolve(null);
  await sleep(watchMs);
  stop = true;
  await poller;
  const closeAt = await closed;
  socket?.ws.terminate();
  return { httpMs: firstRefusal === null ? null : firstRefusal - revokedAt, grantsAfterBound, refusals, closeMs: closeAt === null ? null : closeAt - revokedAt };
}

async function setLag(store: StoreServer, region: string, lag: Lag): Promise<void> {
  if (lag === "partition") await store.setRegion(region, { partition: true });
  else await store.setRegion(region, { heal: true, lagMs: lag });
}

export async function sweep(o: SweepOptions): Promise<PointResult[]> {
  const results: PointResult[] = [];
  const parallel = o.parallel ?? 5;
  for (const lag of o.lags) {
    await o.cluster.resetFreshness(o.to);
    const started = performance.now();
    const all: One[] = [];
    for (let done = 0; done < o.sessionsPerPoint; done += parallel) {
      const n = Math.min(parallel, o.sessionsPerPoint - done);
      // Each batch's sessions reach B's replica first (lag 0): the revocation is what the lag holds back.
      await o.store.setRegion(o.to, { heal: true, lagMs: 0 });
      const ready = await Promise.all(Array.from({ length: n }, (_, i) => prepare(o, `${lag}-${done + i}`)));
      await sleep(200);
      await setLag(o.store, o.to, lag);
      all.push(...(await Promise.all(ready.map((r) => measure(o, r)))));
    }
    const durationS = (performance.now() - started) / 1000;
    const f = await o.cluster.freshness(o.to);
    const refusals: Record<string, number> = {};
    for (const one of all) for (const [k, v] of Object.entries(one.refusals)) refusals[k] = (refusals[k] ?? 0) + v;
    const closes = all.map((x) => x.closeMs).filter((x): x is number => x !== null);
    const point: PointResult = {
      lag: lag === "partition" ? "partition" : `${lag}`,
      sessions: all.length,
      httpRevocationMs: dist(all.map((x) => x.httpMs).filter((x): x is number => x !== null)),
      neverRefused: all.filter((x) => x.httpMs === null).length,
      grantsAfterBound: all.reduce((s, x) => s + x.grantsAfterBound, 0),
      refusals,
      socketCloseMs: o.sockets === false ? null : dist(closes),
      closesMissed: o.sockets === false ? 0 : all.length - closes.length,
      staleReadsPerMinute: round1((f.staleReads / durationS) * 60),
      staleRefusalsPerMinute: round1((f.staleRefusals / durationS) * 60),
      maxStalenessMs: f.stalenessMs.count ? Math.round(f.stalenessMs.maxMs) : null,
      durationS: round1(durationS),
    };
    o.log?.(`L=${point.lag}: http p99 ${point.httpRevocationMs.p99} max ${point.httpRevocationMs.max} ms (bound ${o.boundMs}), grants after bound ${point.grantsAfterBound}, never refused ${point.neverRefused}, close max ${point.socketCloseMs?.max ?? "-"} ms, stale reads/min ${point.staleReadsPerMinute}, stale refusals/min ${point.staleRefusalsPerMinute}`);
    results.push(point);
  }
  await o.store.setRegion(o.to, { heal: true, lagMs: 0 });
  return results;
}

const round1 = (x: number) => Math.round(x * 10) / 10;
