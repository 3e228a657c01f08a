/**
 * A local server speaking the Upstash Redis REST protocol, as @upstash/redis uses it
 * (documented in this package's README.md):
 *
 * - `POST /` one command (`["set","k","v"]`), `POST /pipeline` and `POST /multi-exec` batches;
 *   the path form (`GET /get/k`, `POST /set/k` with the value as body) for curl;
 * - bearer-token auth (or `?_token=`), `Upstash-Encoding: base64` replies, JSON errors;
 * - a control API (stats, injected latency, faults, sibling instances) on the data port and on a
 *   separate control port that stays up while the data port "refuses connections".
 *
 * Backends: the embedded in-memory engine (default) or a real Redis (`redisUrl`). It only ever
 * binds to loopback: there is no TLS and one shared token.
 */
import { randomBytes, createHash, timingSafeEqual } from "node:crypto";
import http, { type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { ScriptRewriter, sha1 } from "./script-flags.ts";
import { regionsControl } from "./replicas/control.ts";
import { startReplication, type RegionInfo, type RegionView } from "./replicas/start.ts";
import { BadSyncToken, parseSyncToken, route, type Routed } from "./replicas/router.ts";
import type { Replication } from "./replicas/types.ts";
import { CommandError, type Backend, type Outcome, type Reply } from "./types.ts";

export type Fault = "refuse" | "status500" | "hang" | "invalid-json" | "unauthorized";
export const FAULTS: readonly Fault[] = ["refuse", "status500", "hang", "invalid-json", "unauthorized"];

export interface StoreOptions {
  /** Data port; 0 picks a free one. Default 0 (the CLI defaults to 8079). */
  port?: number;
  /** Loopback only: `127.0.0.1` (default), `::1` or `localhost` (bound as 127.0.0.1). */
  host?: string;
  /** Bearer token clients must send. Default: random. */
  token?: string;
  /** Real Redis backend when set (e.g. `redis://127.0.0.1:6379`); the embedded one otherwise. */
  redisUrl?: string;
  /** A backend to use as is (wins over `redisUrl`). It is not closed by `close()`: it is yours. */
  backend?: Backend;
  /** Port of the separate control listener. Default 0 (any free port). */
  controlPort?: number;
  /** Largest request body accepted, in bytes. Default 1 MiB; larger bodies get 413. */
  maxBodyBytes?: number;
  /** Initial injected latency of data responses, in ms. Default 0. */
  latencyMs?: number;
  /**
   * Replicated mode (see README "Replicated mode"): read regions, each with its own endpoint and
   * replica — names (`["eu","ap"]`, `"eu,ap"`) or a count (`2` → us, eu). Needs the embedded
   * engine or `redisUrl` (not a `backend` of yours). Default: none.
   */
  regions?: string[] | string | number;
  /**
   * Initial replication lag of every region, in ms.
   * @default 0
   */
  regionLagMs?: number;
  /**
   * Longest wait for a region's replica to reach a read's `upstash-sync-token` before the
   * primary serves that read.
   * @default 1000
   */
  syncWaitMs?: number;
}

export interface StoreStats {
  /** Data requests received (control requests are not counted), whatever their outcome. */
  requests: number;
  /** Requests per data endpoint (`/`, `/pipeline`, `/multi-exec`, `path` for the path form), counted when executed. */
  endpoints: Record<string, number>;
  /** Commands executed, per UPPERCASE name (a batch of 3 counts 3). */
  commands: Record<string, number>;
  /** Sum of `commands`. */
  total: number;
  /**
   * Script runs (EVAL, EVALSHA and their `_RO` forms) per script SHA1, so a caller can tell its
   * scripts apart (say, a background job's from the request path's).
   */
  scripts: Record<string, number>;
  /** Commands that Redis refused (per-command errors, discarded transactions count 1). */
  errors: number;
  /** Requests refused before any command ran: 400, 401, 404, 405, 413. */
  rejected: number;
  /** Requests answered by an injected fault (`refuse` never sees them). */
  faulted: number;
  /** When counting started (ISO 8601). */
  since: string;
}

export interface InstanceOptions {
  token?: string;
  latencyMs?: number;
  fault?: Fault | null;
}

export interface StoreServer {
  /** Base URL for `UPSTASH_REDIS_REST_URL`. */
  readonly url: string;
  /** Base URL of the control listener (stays up while the data port refuses connections). */
  readonly controlUrl: string;
  readonly token: string;
  readonly port: number;
  readonly controlPort: number;
  readonly backend: Backend;
  stats(): StoreStats;
  resetStats(): void;
  /** Delays every data response by `ms` (0 turns it off). */
  setLatency(ms: number): void;
  /** Sets or clears (`null`) a fault on the data routes; resolves once the listener state matches. */
  setFault(mode: Fault | null): Promise<void>;
  /** Current latency and fault. */
  state(): { latencyMs: number; fault: Fault | null };
  /** A sibling server on a new loopback port: same backend, its own stats, latency and faults. */
  createInstance(options?: InstanceOptions): Promise<StoreServer>;
  /** The read region this endpoint belongs to; null for the primary's endpoint (and without regions). */
  readonly region: string | null;
  /** The read regions' endpoints (empty without replicated mode). */
  readonly regions: RegionInfo[];
  /** A region's replication state: lag, partition, offsets, backlog. */
  regionStatus(name: string): Promise<RegionView>;
  /** Changes a region's replication: a lag in ms, a partition (replication stops), a heal (it resumes). */
  setRegion(name: string, change: { lagMs?: number; partition?: boolean; heal?: true }): Promise<RegionView>;
  /** Closes the listeners, every open or hanging connection, the siblings, and the backend if it was created here. */
  close(): Promise<void>;
}

const DEFAULT_MAX_BODY = 1024 * 1024;
const MAX_LATENCY_MS = 10 * 60_000;
const LOOPBACK: Record<string, { bind: string; urlHost: string }> = {
  "127.0.0.1": { bind: "127.0.0.1", urlHost: "127.0.0.1" },
  localhost: { bind: "127.0.0.1", urlHost: "127.0.0.1" },
  "::1": { bind: "::1", urlHost: "[::1]" },
  "[::1]": { bind: "::1", urlHost: "[::1]" },
};

/**
 * Commands that need a connection of their own (subscriptions, MULTI across requests, SELECT…)
 * or would take the shared Redis down. Each REST request stands alone, so these are refused.
 */
const UNAVAILABLE = new Set([
  "subscribe", "psubscribe", "ssubscribe", "unsubscribe", "punsubscribe", "sunsubscribe",
  "monitor", "sync", "psync", "multi", "exec", "discard", "watch", "unwatch",
  "select", "quit", "reset", "hello", "auth", "shutdown",
]);

function unavailable(args: string[]): string | null {
  const name = (args[0] ?? "").toLowerCase();
  if (UNAVAILABLE.has(name)) return `ERR Command is not available: '${name}'`;
  if (name === "client" && (args[1] ?? "").toLowerCase() === "reply") return `ERR Command is not available: 'client reply'`;
  return null;
}

/** The loopback address to bind, or a clear refusal. */
export function resolveLoopback(host: string | undefined): { bind: string; urlHost: string } {
  const h = (host ?? "127.0.0.1").trim().toLowerCase();
  const found = LOOPBACK[h];
  if (!found) {
    throw new Error(
      `refusing to listen on "${host}": the local store only binds to loopback (127.0.0.1, ::1 or localhost) — it has no TLS and a single shared token`,
    );
  }
  return found;
}

/** Every string of a reply as base64 of its bytes; integers and null untouched. */
function encodeReply(r: Reply, base64: boolean): unknown {
  if (r === null || typeof r === "number") return r;
  if (typeof r === "string") return base64 ? Buffer.from(r, "utf8").toString("base64") : r;
  if (Buffer.isBuffer(r)) return base64 ? r.toString("base64") : r.toString("utf8");
  return r.map((x) => encodeReply(x, base64));
}

const sha256 = (s: string) => createHash("sha256").update(s).digest();
const sameToken = (a: string, b: string) => timingSafeEqual(sha256(a), sha256(b));

function newStats(): StoreStats {
  return { requests: 0, endpoints: {}, commands: {}, total: 0, scripts: {}, errors: 0, rejected: 0, faulted: 0, since: new Date().toISOString() };
}

class HttpError extends Error {
  constructor(readonly status: number, message: string, readonly close = false) {
    super(message);
  }
}

/** What the sibling servers of one store share. */
interface Shared {
  backend: Backend;
  ownsBackend: boolean;
  rewriter: ScriptRewriter;
  bind: string;
  urlHost: string;
  maxBodyBytes: number;
  instances: Map<number, Instance>;
  root: Instance | null;
  replication?: Replication;
  /** The region endpoints, by region name. */
  regionEndpoints: Map<string, Instance>;
  syncWaitMs: number;
}

function listen(server: http.Server, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (e: NodeJS.ErrnoException) => {
      server.off("listening", onListening);
      // The code stays on the error so callers can fall back to another port.
      if (e.code === "EADDRINUSE") reject(Object.assign(new Error(`port ${port} is already in use on ${host} (another store running? port 0 picks a free one)`), { code: "EADDRINUSE" }));
      else reject(e);
    };
    const onListening = () => {
      server.off("error", onError);
      resolve((server.address() as AddressInfo).port);
    };
    server.once("error", onError);
    server.once("listening", onListening);
    server.listen(port, host);
  });
}

/** Stops accepting and destroys every connection but `keep`; resolves once the port is really closed. */
function shut(server: http.Server, keep?: Socket): Promise<void> {
  return new Promise((resolve) => {
    if (!server.listening) {
      for (const s of connections(server)) if (s !== keep) s.destroy();
      return resolve();
    }
    server.close(() => resolve());
    for (const s of connections(server)) if (s !== keep) s.destroy();
    // With `keep` still open the close callback waits for it: the listening socket itself is
    // closed within a loop turn, which is all a "connection refused" needs.
    if (keep) setImmediate(() => setImmediate(resolve));
  });
}

const sockets = new WeakMap<http.Server, Set<Socket>>();
function track(server: http.Server): http.Server {
  const set = new Set<Socket>();
  sockets.set(server, set);
  server.on("connection", (s: Socket) => {
    set.add(s);
    s.once("close", () => set.delete(s));
  });
  return server;
}
const connections = (server: http.Server): Socket[] => [...(sockets.get(server) ?? [])];

class Instance implements StoreServer {
  readonly token: string;
  port = 0;
  controlPort = 0;
  private counters = newStats();
  private latencyMs = 0;
  private fault: Fault | null = null;
  private readonly data: http.Server;
  private readonly control: http.Server;
  private readonly hanging = new Set<ServerResponse>();
  private readonly sleeping = new Set<() => void>();
  private closed = false;
  /** Serializes listener changes (refuse ↔ reopen). */
  private transition: Promise<void> = Promise.resolve();

  constructor(private readonly shared: Shared, token: string, readonly region: string | null = null) {
    this.token = token;
    this.data = track(http.createServer((req, res) => void this.handle(req, res, "data")));
    this.control = track(http.createServer((req, res) => void this.handle(req, res, "control")));
    for (const s of [this.data, this.control]) {
      // Outlive the clients' idle keep-alive (undici: 4 s, workerd similar) so they never reuse a socket we just closed.
      s.keepAliveTimeout = 65_000;
      s.on("clientError", (_e, socket: Socket) => {
        if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\ncontent-type: application/json\r\nconnection: close\r\n\r\n{"error":"ERR bad HTTP request"}');
        else socket.destroy();
      });
    }
  }

  async start(port: number, controlPort: number): Promise<void> {
    this.port = await listen(this.data, port, this.shared.bind);
    try {
      this.controlPort = await listen(this.control, controlPort, this.shared.bind);
    } catch (e) {
      await shut(this.data);
      throw e;
    }
  }

  get url() {
    return `http://${this.shared.urlHost}:${this.port}`;
  }
  get controlUrl() {
    return `http://${this.shared.urlHost}:${this.controlPort}`;
  }
  get backend() {
    return this.shared.backend;
  }
  get regions(): RegionInfo[] {
    return [...this.shared.regionEndpoints.values()].map((i) => ({ name: i.region!, url: i.url, controlUrl: i.controlUrl, port: i.port }));
  }
  private get regionUrls(): Map<string, string> {
    return new Map([...this.shared.regionEndpoints].map(([name, i]) => [name, i.url]));
  }
  async regionStatus(name: string): Promise<RegionView> {
    const answer = await regionsControl(this.shared.replication, this.regionUrls, "GET", `/_regions/${name}`, {});
    if (answer.status !== 200) throw new Error((answer.body as { error: string }).error);
    return answer.body as RegionView;
  }
  async setRegion(name: string, change: { lagMs?: number; partition?: boolean; heal?: true }): Promise<RegionView> {
    const answer = await regionsControl(this.shared.replication, this.regionUrls, "POST", `/_regions/${name}`, change);
    if (answer.status !== 200) throw new Error((answer.body as { error: string }).error);
    return answer.body as RegionView;
  }

  stats(): StoreStats {
    return structuredClone(this.counters);
  }
  resetStats(): void {
    this.counters = newStats();
  }
  state() {
    return { latencyMs: this.latencyMs, fault: this.fault };
  }

  setLatency(ms: number): void {
    if (typeof ms !== "number" || !Number.isFinite(ms) || ms < 0 || ms > MAX_LATENCY_MS) {
      throw new RangeError(`latency must be a number of milliseconds between 0 and ${MAX_LATENCY_MS}`);
    }
    this.latencyMs = ms;
  }

  setFault(mode: Fault | null, keep?: Socket): Promise<void> {
    if (mode !== null && !FAULTS.includes(mode)) throw new RangeError(`unknown fault ${JSON.stringify(mode)}: use one of ${FAULTS.join(", ")} or null`);
    const previous = this.fault;
    this.fault = mode;
    // Requests held by "hang" are released (their sockets destroyed) whenever the fault changes.
    if (previous === "hang" && mode !== "hang") this.releaseHanging();
    const step = async () => {
      if (this.closed) return;
      if (this.fault === "refuse" && this.data.listening) await shut(this.data, keep);
      else if (this.fault !== "refuse" && !this.data.listening) {
        try {
          await listen(this.data, this.port, this.shared.bind);
        } catch (e) {
          this.fault = "refuse"; // still closed: say so
          throw new Error(`could not reopen port ${this.port}: ${(e as Error).message}`);
        }
      }
    };
    const done = this.transition.then(step);
    this.transition = done.catch(() => {}); // a failed reopen must not block later changes
    return done;
  }

  async createInstance(options: InstanceOptions = {}): Promise<StoreServer> {
    if (this.closed) throw new Error("this store is closed");
    const inst = new Instance(this.shared, options.token ?? this.token);
    await inst.start(0, 0);
    this.shared.instances.set(inst.port, inst);
    if (options.latencyMs !== undefined) inst.setLatency(options.latencyMs);
    if (options.fault !== undefined) await inst.setFault(options.fault);
    return inst;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.shared.instances.delete(this.port);
    if (this.shared.root === this) {
      await Promise.all([...this.shared.instances.values(), ...this.shared.regionEndpoints.values()].map((i) => i.close()));
    }
    this.releaseHanging();
    for (const wake of this.sleeping) wake();
    await this.transition;
    await Promise.all([shut(this.data), shut(this.control)]);
    if (this.shared.root === this) await this.shared.replication?.close();
    if (this.shared.root === this && this.shared.ownsBackend) await this.shared.backend.close();
  }

  private releaseHanging() {
    for (const res of this.hanging) res.destroy();
    this.hanging.clear();
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const wake = () => {
        clearTimeout(timer);
        this.sleeping.delete(wake);
        resolve();
      };
      const timer = setTimeout(wake, ms);
      this.sleeping.add(wake);
    });
  }

  // ---------------------------------------------------------------------------------------------
  // HTTP

  private async handle(req: IncomingMessage, res: ServerResponse, listener: "data" | "control"): Promise<void> {
    let isData = false;
    try {
      const url = new URL(req.url ?? "/", "http://store.invalid");
      if (url.pathname.startsWith("/_")) return await this.handleControl(req, res, url, listener);
      if (listener === "control") throw new HttpError(404, "Not Found: the control port serves /_stats, /_control and /_instances only");
      isData = true;
      return await this.handleData(req, res, url);
    } catch (e) {
      if (e instanceof HttpError) {
        if (isData) this.counters.rejected++;
        this.reply(res, e.status, { error: e.message }, e.close ? { connection: "close" } : {});
        return;
      }
      if (this.closed) return; // a request cut short by close()
      console.error(`[store] ${req.method} ${req.url}: ${(e as Error).stack ?? e}`);
      this.reply(res, 500, { error: `ERR store failure: ${(e as Error).message}` });
    }
  }

  private reply(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}, raw?: string) {
    if (res.headersSent || res.destroyed || res.writableEnded) return;
    const text = raw ?? JSON.stringify(body);
    res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(text), ...headers });
    res.end(text);
  }

  private authorize(req: IncomingMessage, url: URL) {
    const header = req.headers.authorization ?? "";
    const m = /^bearer\s+(.+)$/i.exec(header.trim());
    const given = m?.[1] ?? url.searchParams.get("_token");
    if (given === null || given === undefined || !sameToken(given, this.token)) throw new HttpError(401, "Unauthorized");
  }

  /** The body as text; 413 past the limit. Oversized bodies are drained (up to a bound) so clients see a clean 413. */
  private readBody(req: IncomingMessage): Promise<string> {
    const limit = this.shared.maxBodyBytes;
    const hardCap = Math.max(limit * 8, 8 * 1024 * 1024);
    const tooLarge = (close: boolean) => new HttpError(413, `ERR request body too large: the limit is ${limit} bytes`, close);
    const declared = Number(req.headers["content-length"] ?? NaN);
    if (declared > hardCap) return Promise.reject(tooLarge(true));
    return new Promise((resolve, reject) => {
      const chunks: Buffer[] = [];
      let size = 0;
      req.on("data", (chunk: Buffer) => {
        size += chunk.length;
        if (size <= limit) chunks.push(chunk);
        else if (size > hardCap) {
          req.removeAllListeners("data");
          req.pause();
          reject(tooLarge(true));
        }
      });
      req.once("end", () => (size > limit ? reject(tooLarge(false)) : resolve(Buffer.concat(chunks).toString("utf8"))));
      req.once("error", reject);
    });
  }

  private async handleData(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    this.counters.requests++;
    if (this.latencyMs > 0) await this.sleep(this.latencyMs);
    if (this.closed || res.destroyed) return;

    switch (this.fault) {
      case null:
        break;
      case "refuse": // Arrived just before the listener closed.
        this.counters.faulted++;
        res.destroy();
        return;
      case "status500":
        this.counters.faulted++;
        return this.reply(res, 500, { error: "ERR injected fault: status500 (the store is failing)" });
      case "unauthorized":
        this.counters.faulted++;
        return this.reply(res, 401, { error: "Unauthorized" });
      case "invalid-json":
        this.counters.faulted++;
        return this.reply(res, 200, null, {}, "<html>injected fault: invalid-json — this body is not JSON");
      case "hang":
        this.counters.faulted++;
        this.hanging.add(res);
        res.once("close", () => this.hanging.delete(res));
        return;
    }

    const path = url.pathname.replace(/\/+$/, "");
    const endpoint = path === "" ? "/" : path === "/pipeline" || path === "/multi-exec" ? path : null;
    if (endpoint && req.method !== "POST") {
      res.setHeader("allow", "POST");
      throw new HttpError(405, `Method Not Allowed: ${endpoint} takes POST`);
    }
    if (!endpoint && req.method !== "GET" && req.method !== "POST") {
      res.setHeader("allow", "GET, POST");
      throw new HttpError(405, "Method Not Allowed: commands in the path take GET or POST");
    }
    this.authorize(req, url);
    const text = await this.readBody(req);
    const base64 = String(req.headers["upstash-encoding"] ?? "").toLowerCase() === "base64";

    if (!endpoint) {
      // Path form: /set/key/value, the POST body (if any) as the last argument.
      let args: string[];
      try {
        args = path.split("/").slice(1).map((s) => decodeURIComponent(s));
      } catch {
        throw new HttpError(400, "ERR malformed percent-encoding in the path");
      }
      if (req.method === "POST" && text.length > 0) args.push(text);
      return this.runOne(res, args, "path", base64, await this.route(req, [args]));
    }

    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch (e) {
      throw new HttpError(400, `ERR the body is not valid JSON: ${(e as Error).message}`);
    }
    if (endpoint === "/") {
      const args = toCommand(body, "the body");
      return this.runOne(res, args, "/", base64, await this.route(req, [args]));
    }

    if (!Array.isArray(body)) throw new HttpError(400, `ERR ${endpoint} takes a JSON array of commands, e.g. [["set","k","v"],["get","k"]]`);
    if (body.length === 0) throw new HttpError(400, `ERR ${endpoint} takes at least one command`);
    const commands = body.map((c, i) => toCommand(c, `command ${i + 1}`));
    const routed = await this.route(req, commands);
    if (endpoint === "/pipeline") return this.runPipeline(res, commands, base64, routed);
    return this.runTransaction(res, commands, base64, routed);
  }

  /** The backend for these commands: the store's own, or in replicated mode the primary or this region's replica. */
  private async route(req: IncomingMessage, commands: string[][]): Promise<Routed> {
    const rep = this.shared.replication;
    if (!rep) return { backend: this.shared.backend, headers: async () => ({}) };
    let token: number | null;
    try {
      token = parseSyncToken(req.headers["upstash-sync-token"]);
    } catch (e) {
      if (e instanceof BadSyncToken) throw new HttpError(400, e.message);
      throw e;
    }
    return route(rep, { region: this.region, commands, token, syncWaitMs: this.shared.syncWaitMs });
  }

  private count(endpoint: string, commands: string[][]) {
    this.counters.endpoints[endpoint] = (this.counters.endpoints[endpoint] ?? 0) + 1;
    for (const args of commands) {
      const name = (args[0] ?? "").toUpperCase();
      this.counters.commands[name] = (this.counters.commands[name] ?? 0) + 1;
      this.counters.total++;
      const sha = name === "EVALSHA" || name === "EVALSHA_RO" ? (args[1] ?? "").toLowerCase() : name === "EVAL" || name === "EVAL_RO" ? sha1(args[1] ?? "") : null;
      if (sha !== null) this.counters.scripts[sha] = (this.counters.scripts[sha] ?? 0) + 1;
    }
  }

  private async runOne(res: ServerResponse, args: string[], endpoint: string, base64: boolean, routed: Routed) {
    if (args.length === 0 || args[0] === "") throw new HttpError(400, "ERR empty command");
    this.count(endpoint, [args]);
    const refusal = unavailable(args);
    let reply: Reply;
    try {
      if (refusal) throw new CommandError(refusal);
      reply = this.shared.rewriter.loadReply(args, await routed.backend.command(this.shared.rewriter.rewrite(args))) as Reply;
    } catch (e) {
      if (!(e instanceof CommandError)) throw e;
      this.counters.errors++;
      return this.reply(res, 400, { error: e.message }, await routed.headers());
    }
    this.reply(res, 200, { result: encodeReply(reply, base64) }, await routed.headers());
  }

  private async runPipeline(res: ServerResponse, commands: string[][], base64: boolean, routed: Routed) {
    this.count("/pipeline", commands);
    const out: Outcome[] = new Array(commands.length);
    const run: number[] = [];
    commands.forEach((args, i) => {
      const refusal = unavailable(args);
      if (refusal) out[i] = { error: refusal };
      else run.push(i);
    });
    if (run.length > 0) {
      const results = await routed.backend.pipeline(run.map((i) => this.shared.rewriter.rewrite(commands[i]!)));
      if (results.length !== run.length) throw new Error(`backend answered ${results.length} outcomes for ${run.length} commands`);
      run.forEach((i, j) => (out[i] = results[j]!));
    }
    this.reply(res, 200, out.map((o, i) => this.present(o, commands[i]!, base64)), await routed.headers());
  }

  private async runTransaction(res: ServerResponse, commands: string[][], base64: boolean, routed: Routed) {
    this.count("/multi-exec", commands);
    let results: Outcome[];
    try {
      for (const args of commands) {
        const refusal = unavailable(args);
        if (refusal) throw new CommandError(refusal);
      }
      results = await routed.backend.transaction(commands.map((args) => this.shared.rewriter.rewrite(args)));
    } catch (e) {
      if (!(e instanceof CommandError)) throw e;
      this.counters.errors++;
      return this.reply(res, 400, { error: e.message }, await routed.headers());
    }
    if (results.length !== commands.length) throw new Error(`backend answered ${results.length} outcomes for ${commands.length} commands`);
    this.reply(res, 200, results.map((o, i) => this.present(o, commands[i]!, base64)), await routed.headers());
  }

  private present(o: Outcome, args: string[], base64: boolean) {
    if ("error" in o) {
      this.counters.errors++;
      return { error: o.error };
    }
    return { result: encodeReply(this.shared.rewriter.loadReply(args, o.result) as Reply, base64) };
  }

  // ---------------------------------------------------------------------------------------------
  // Control API

  private async handleControl(req: IncomingMessage, res: ServerResponse, url: URL, listener: "data" | "control"): Promise<void> {
    const path = url.pathname.replace(/\/+$/, "");
    const method = req.method ?? "GET";
    const routes: Record<string, string[]> = {
      "/_stats": ["GET"],
      "/_stats/reset": ["POST"],
      "/_control": ["GET", "POST"],
      "/_instances": ["GET", "POST"],
    };
    if (path === "/_regions" || path.startsWith("/_regions/")) {
      this.authorize(req, url);
      const body = method === "POST" ? parseControlBody(await this.readBody(req)) : {};
      const answer = await regionsControl(this.shared.replication, this.regionUrls, method, path, body);
      if (answer.allow) res.setHeader("allow", answer.allow);
      return this.reply(res, answer.status, answer.body);
    }
    const instancePort = /^\/_instances\/(\d+)$/.exec(path)?.[1];
    const allowed = instancePort ? ["DELETE"] : routes[path];
    if (!allowed) throw new HttpError(404, "Not Found: control routes are /_stats, /_stats/reset, /_control, /_instances[/<port>], /_regions[/<name>]");
    if (!allowed.includes(method)) {
      res.setHeader("allow", allowed.join(", "));
      throw new HttpError(405, `Method Not Allowed: ${path} takes ${allowed.join(" or ")}`);
    }
    this.authorize(req, url);
    const body = method === "POST" ? parseControlBody(await this.readBody(req)) : {};

    if (path === "/_stats") return this.reply(res, 200, this.stats());
    if (path === "/_stats/reset") {
      this.resetStats();
      return this.reply(res, 200, this.stats());
    }
    if (path === "/_control") {
      if (method === "POST") {
        const { latencyMs, fault } = body;
        if (latencyMs !== undefined && (typeof latencyMs !== "number" || !Number.isFinite(latencyMs) || latencyMs < 0 || latencyMs > MAX_LATENCY_MS)) {
          throw new HttpError(400, `latencyMs must be a number between 0 and ${MAX_LATENCY_MS}`);
        }
        if (fault !== undefined && fault !== null && !FAULTS.includes(fault as Fault)) {
          throw new HttpError(400, `fault must be null or one of ${FAULTS.join(", ")}`);
        }
        if (typeof latencyMs === "number") this.setLatency(latencyMs);
        if (fault !== undefined) {
          // Sent through the data port itself: that connection survives "refuse" just long
          // enough to carry this answer, then closes.
          const own = listener === "data" ? req.socket : undefined;
          await this.setFault(fault as Fault | null, own);
          if (own && this.fault === "refuse") res.setHeader("connection", "close");
        }
      }
      return this.reply(res, 200, this.state());
    }
    if (path === "/_instances") {
      if (method === "GET") return this.reply(res, 200, [...this.shared.instances.values()].map((i) => i.describe()));
      const opts: InstanceOptions = {};
      if (body.token !== undefined) {
        if (typeof body.token !== "string" || body.token.length === 0) throw new HttpError(400, "token must be a non-empty string");
        opts.token = body.token;
      }
      if (body.latencyMs !== undefined) {
        if (typeof body.latencyMs !== "number" || !Number.isFinite(body.latencyMs) || body.latencyMs < 0 || body.latencyMs > MAX_LATENCY_MS) throw new HttpError(400, "latencyMs must be a number between 0 and " + MAX_LATENCY_MS);
        opts.latencyMs = body.latencyMs;
      }
      const inst = (await this.createInstance(opts)) as Instance;
      return this.reply(res, 201, inst.describe());
    }
    // DELETE /_instances/<port>
    const target = this.shared.instances.get(Number(instancePort));
    if (!target) throw new HttpError(404, `no instance on port ${instancePort}`);
    if (target === this) {
      // Deleting the instance this request runs on: answer first, then close.
      res.once("finish", () => void target.close());
      res.setHeader("connection", "close");
      return this.reply(res, 200, { closed: target.port });
    }
    await target.close();
    return this.reply(res, 200, { closed: target.port });
  }

  describe() {
    return { url: this.url, controlUrl: this.controlUrl, token: this.token, port: this.port, controlPort: this.controlPort, region: this.region, ...this.state() };
  }
}

/** A command as the JSON array the client sends; every argument goes through `String()`. */
function toCommand(value: unknown, what: string): string[] {
  if (!Array.isArray(value)) throw new HttpError(400, `ERR ${what} must be a JSON array: a command and its arguments, e.g. ["get","k"]`);
  if (value.length === 0) throw new HttpError(400, `ERR ${what} is an empty command`);
  return value.map((a) => String(a));
}

function parseControlBody(text: string): Record<string, unknown> {
  if (text.trim() === "") return {};
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch (e) {
    throw new HttpError(400, `the body is not valid JSON: ${(e as Error).message}`);
  }
  if (typeof body !== "object" || body === null || Array.isArray(body)) throw new HttpError(400, "the body must be a JSON object");
  return body as Record<string, unknown>;
}

async function createBackend(options: StoreOptions): Promise<{ backend: Backend; owns: boolean }> {
  if (options.backend) return { backend: options.backend, owns: false };
  if (options.redisUrl) {
    const { RedisBackend } = await import("./redis-backend.ts");
    return { backend: await RedisBackend.connect(options.redisUrl), owns: true };
  }
  const { MemoryBackend } = await import("./memory/index.ts");
  return { backend: new MemoryBackend(), owns: true };
}

/** Starts the server (and its backend); see `StoreOptions`. */
export async function startStore(options: StoreOptions = {}): Promise<StoreServer> {
  const { bind, urlHost } = resolveLoopback(options.host);
  const maxBodyBytes = options.maxBodyBytes ?? DEFAULT_MAX_BODY;
  if (!Number.isInteger(maxBodyBytes) || maxBodyBytes <= 0) throw new RangeError("maxBodyBytes must be a positive integer");
  const token = options.token ?? randomBytes(24).toString("base64url");
  if (token.length === 0) throw new Error("the token must not be empty");
  const syncWaitMs = options.syncWaitMs ?? 1000;
  if (!Number.isFinite(syncWaitMs) || syncWaitMs < 0) throw new RangeError("syncWaitMs must be a number of milliseconds >= 0");
  const replicated = options.regions !== undefined ? await startReplication(options) : undefined;
  const { backend, owns } = replicated ? { backend: replicated.primary, owns: true } : await createBackend(options);
  const shared: Shared = { backend, ownsBackend: owns, rewriter: new ScriptRewriter(), bind, urlHost, maxBodyBytes, instances: new Map(), root: null, replication: replicated, regionEndpoints: new Map(), syncWaitMs };
  const root = new Instance(shared, token);
  shared.root = root;
  try {
    await root.start(options.port ?? 0, options.controlPort ?? 0);
    if (options.latencyMs) root.setLatency(options.latencyMs);
    for (const name of replicated?.regions.keys() ?? []) {
      const endpoint = new Instance(shared, token, name);
      shared.regionEndpoints.set(name, endpoint);
      await endpoint.start(0, 0);
    }
  } catch (e) {
    await root.close().catch(() => {}); // closes the backend too when it was created here
    throw e;
  }
  return root;
}
