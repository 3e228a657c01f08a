/**
 * The store seam, stated plainly: this product keeps its state in **Redis, spoken over HTTP**
 * (Upstash's REST protocol). Atomic multi-key changes (create with the per-user cap, sign-out
 * everywhere, the per-user index) are Lua scripts, and the rate limiter runs its own scripts
 * on the same client. A backend that is not Redis would have to reimplement those scripts, so
 * the interface does not pretend otherwise: it is narrowed to the commands actually sent, and
 * another Redis client (ioredis over TCP, a test double) implements these six.
 */
import { Redis } from "@upstash/redis/cloudflare";
import { DEFAULTS } from "../defaults.js";
import { M, storeErrorName } from "../metrics/names.js";
import { metrics } from "../metrics/registry.js";
import { failureKind, type StoreFailureKind } from "./failure.js";
import { SharedSyncToken } from "./sync-token.js";

export interface SetOptions {
  /** Time to live in milliseconds. */
  px?: number;
  /** Only set when the key does not exist. */
  nx?: boolean;
  /** Only set when the key exists (never resurrects a deleted session). */
  xx?: boolean;
}

/** A Lua script run atomically in the store; the client caches its SHA after first use. */
export interface StoreScript {
  readonly name: string;
  readonly source: string;
  /**
   * The client may send it again when a `fetch` failed: a second run after a first that reached
   * Redis (its reply lost on the way back) changes nothing and answers what the first did. Left
   * unset, a failed `fetch` is a `StoreError` at once (docs/STORE.md "Retries"). @default false
   */
  readonly retrySafe?: boolean;
}

/** The Redis commands this product sends. Every method throws `StoreError` when the store cannot answer. */
export interface RedisStore {
  get(key: string): Promise<string | null>;
  /**
   * Several keys in one command (MGET), served by the nearest read replica where there is one and
   * without waiting for this client's own writes to reach it: the caller proves freshness itself
   * (session/freshness.ts). Null for a missing key.
   */
  mget(keys: string[]): Promise<(string | null)[]>;
  /** Returns true when the value was written. */
  set(key: string, value: string, options?: SetOptions): Promise<boolean>;
  getdel(key: string): Promise<string | null>;
  hgetall(key: string): Promise<Record<string, string> | null>;
  /** Runs `script` (EVALSHA with the EVAL fallback). */
  run<T = unknown>(script: StoreScript, keys: string[], args: (string | number)[]): Promise<T>;
  /** One round trip, for health checks. */
  ping(): Promise<void>;
}

/** The Upstash implementation, with its client for tools and tests that need a command outside the six. */
export interface UpstashStore extends RedisStore {
  readonly redis: Redis;
}

/** The store could not answer: callers fail closed with 503, never with a grant or a 401. */
export class StoreError extends Error {
  /** A loggable summary: the client's message without the command it echoes (which may hold data). */
  readonly reason: string;
  /** What kind of failure, for the log line and the `store.error.<kind>` metric (failure.ts). */
  readonly kind: StoreFailureKind;
  /** The store's host (never its token), so the log says which store failed. */
  readonly host: string;
  constructor(cause: unknown, host = "") {
    const text = cause instanceof Error ? `${cause.name}: ${cause.message}` : String(cause);
    const reason = text.split(", command was")[0]!.slice(0, 160);
    super(`session store unavailable: ${reason}`, { cause });
    this.name = "StoreError";
    this.reason = reason;
    this.kind = failureKind(cause);
    this.host = host;
  }
}

export interface UpstashStoreOptions {
  url: string;
  token: string;
  /**
   * Budget for one store operation including retries, in ms. The signal is created once per
   * operation and spans every retry, so this is the worst case a request waits on the store.
   * @default 1000
   */
  timeoutMs?: number;
  /**
   * Retries when `fetch` itself fails (connection refused, reset), for the calls a second run
   * cannot apply twice (retry-policy.ts). HTTP errors are not retried. @default 2
   */
  retries?: number;
}

export function createUpstashStore(options: UpstashStoreOptions): UpstashStore {
  const timeoutMs = options.timeoutMs ?? DEFAULTS.storeTimeoutMs;
  const client = (retries: number, readYourWrites = true) =>
    new Redis({
      url: options.url,
      token: options.token,
      // Short, deliberate retries: the client's default (5, up to 2.7 s apart) would hold a
      // request for over 4 s before an outage became a 503.
      retry: { retries, backoff: (n) => 25 * 2 ** n },
      // A function, so each operation gets a fresh timeout (a fixed aborted signal would make
      // the client resolve to the abort reason instead of throwing).
      signal: () => AbortSignal.timeout(timeoutMs),
      // Values are our own JSON strings: parse them ourselves, strictly.
      automaticDeserialization: false,
      // One command per HTTP request, so store budgets are exact and ordering is what we wrote.
      enableAutoPipelining: false,
      enableTelemetry: false,
      readYourWrites,
    });
  // A retried call and a call sent once go through two clients that share one read-your-writes
  // token; the replica read of the session path sends none (it proves its freshness itself, and
  // a token would make it wait for the replica after every write of this isolate).
  //
  // Made at the first command: a request that never reaches the store (a cache hit, a forged
  // token, /api/hello) never pays for the clients' construction, the largest single piece of a
  // cold isolate's set-up (bench/profile-cold.ts).
  let made: SharedSyncToken<"retried" | "once" | "replica"> | undefined;
  const clients = () => (made ??= new SharedSyncToken({ retried: client(options.retries ?? DEFAULTS.storeRetries), once: client(0), replica: client(0, false) }));
  const shas = new Map<StoreScript, { retried: ReturnType<Redis["createScript"]>; once: ReturnType<Redis["createScript"]> }>();
  // Every command is counted and timed here (the `store` latency metric): a cache hit sends none.
  const guard = async <T>(op: () => Promise<T>): Promise<T> => {
    const started = Date.now();
    try {
      const reply = await op();
      metrics.observe(M.store, Date.now() - started);
      return reply;
    } catch (error) {
      // The host is read only on a failure: a healthy request never parses the URL.
      const failure = new StoreError(error, hostOf(options.url));
      metrics.observe(M.store, Date.now() - started);
      metrics.count(storeErrorName(failure.kind));
      throw failure;
    }
  };
  return {
    get redis() {
      return clients().redis.retried;
    },
    get: (key) => guard(() => clients().use("retried", (r) => r.get<string>(key))),
    mget: (keys) => guard(async () => (await clients().use("replica", (r) => r.mget<(string | null)[]>(...keys))).map((v) => (v == null ? null : String(v)))),
    async set(key, value, o = {}) {
      return guard(async () => {
        const opts = { ...(o.px !== undefined ? { px: Math.max(1, Math.ceil(o.px)) } : {}), ...(o.nx ? { nx: true } : o.xx ? { xx: true } : {}) };
        // NX answers "not written" when run twice: sent once. XX and plain SET write the same value again.
        const reply = await clients().use(o.nx ? "once" : "retried", (r) => r.set(key, value, opts as never));
        return reply === "OK";
      });
    },
    // A second GETDEL after a first that reached Redis would answer null: sent once.
    getdel: (key) => guard(() => clients().use("once", (r) => r.getdel<string>(key))),
    hgetall: (key) =>
      guard(async () => {
        // Without automatic deserialisation the client hands back Redis's flat [field, value, …].
        const reply = (await clients().use("retried", (r) => r.hgetall(key))) as unknown;
        if (!reply) return null;
        if (!Array.isArray(reply)) return reply as Record<string, string>;
        if (reply.length === 0) return null;
        const out: Record<string, string> = {};
        for (let i = 0; i + 1 < reply.length; i += 2) out[String(reply[i])] = String(reply[i + 1]);
        return out;
      }),
    run<T>(script: StoreScript, keys: string[], args: (string | number)[]) {
      let s = shas.get(script);
      if (!s) shas.set(script, (s = { retried: clients().redis.retried.createScript(script.source), once: clients().redis.once.createScript(script.source) }));
      const which = script.retrySafe ? "retried" : "once";
      return guard(() => clients().use(which, () => s![which].exec(keys, args.map(String)) as Promise<T>));
    },
    ping: () => guard(async () => void (await clients().use("retried", (r) => r.ping()))),
  };
}

function hostOf(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return "";
  }
}
