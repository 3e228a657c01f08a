/**
 * The real backend: commands go to a Redis server through ioredis, and replies come back raw.
 *
 * Every command is sent as an ioredis `Command` with an UPPERCASE name and buffer replies:
 * ioredis keys its reply transformers by the exact lowercase name (`hgetall` → object), so the
 * uppercase spelling reaches Redis unchanged and its RESP2 reply comes back untouched — a flat
 * array for HGETALL, Buffers for bulk and status strings, numbers for integers. Buffers are
 * decoded to UTF-8 strings here (the HTTP layer can only receive text anyway: every argument
 * arrives as a JSON string).
 *
 * All traffic shares one connection, except blocking commands (BLPOP, XREAD BLOCK, WAIT…), which
 * would stall everyone else: each of those gets a short-lived connection of its own.
 * Transactions are written as MULTI, the commands and EXEC in a single write on the shared
 * connection, so no other request's command can land inside them.
 */
import ioredis, { type Pipeline, type Redis as RedisClient } from "ioredis";
import { CommandError, type Backend, type Outcome, type Reply } from "./types.ts";

// ioredis is CommonJS whose module.exports is the Redis class carrying the other exports as
// properties: take them from the default import, which every loader (Node ESM, tsx, Vite's
// module runner in vitest) resolves to that object.
const { Redis, Command, ReplyError } = ioredis;

/** Commands that may block the connection they run on (outside MULTI). */
const BLOCKING = new Set(["BLPOP", "BRPOP", "BRPOPLPUSH", "BLMOVE", "BLMPOP", "BZPOPMIN", "BZPOPMAX", "BZMPOP", "WAIT", "WAITAOF"]);

function isBlocking(args: string[]): boolean {
  const name = (args[0] ?? "").toUpperCase();
  if (BLOCKING.has(name)) return true;
  if (name === "XREAD" || name === "XREADGROUP") return args.some((a, i) => i > 0 && a.toUpperCase() === "BLOCK");
  return false;
}

/** Raw parser output: Buffers, numbers, null, nested arrays, and errors nested in arrays. */
type RawReply = null | number | string | Buffer | Error | RawReply[];

function toReply(raw: RawReply): Reply {
  if (raw === null || raw === undefined) return null;
  if (typeof raw === "number" || typeof raw === "string") return raw;
  if (Buffer.isBuffer(raw)) return raw.toString("utf8");
  // An error nested inside an array (a Lua script can return one): clients get its message.
  if (raw instanceof Error) return raw.message;
  if (Array.isArray(raw)) return raw.map(toReply);
  return String(raw);
}

/** Redis refused the command (a reply error): the client sees the message verbatim. */
function toCommandError(e: unknown): CommandError | null {
  // ioredis types ReplyError as `any`, so narrow by hand.
  if (e instanceof Error && e instanceof (ReplyError as new () => Error)) return new CommandError(e.message);
  return null;
}

/** `redis.pipeline()` as it is at run time: raw Commands in, `[error, reply]` pairs out. */
type RawPipeline = Pipeline & { exec(): Promise<[Error | null, unknown][] | null> };

const rawCommand = (args: string[]) => new Command((args[0] ?? "").toUpperCase(), args.slice(1), { replyEncoding: null });

export interface RedisBackendOptions {
  /** How long to wait for the first connection before giving up. Default 5000 ms. */
  connectTimeoutMs?: number;
}

export class RedisBackend implements Backend {
  readonly name: string;
  private readonly redis: RedisClient;
  /** Connections opened for blocking commands, closed with the backend. */
  private readonly side = new Set<RedisClient>();
  private closed = false;
  private lastError = "";
  private connected = false;

  private constructor(url: string, options: RedisBackendOptions) {
    this.name = RedisBackend.displayName(url);
    this.redis = new Redis(url, {
      lazyConnect: true,
      connectTimeout: options.connectTimeoutMs ?? 5000,
      // Fail requests quickly while Redis is down instead of queueing them for long.
      maxRetriesPerRequest: 1,
      retryStrategy: (times) => Math.min(100 * times, 2000),
      // No CLIENT SETINFO noise in the server's client list, no auto-pipelining reorderings.
      enableAutoPipelining: false,
    });
    this.redis.on("error", (e: Error) => {
      // ioredis reports every failed reconnection attempt; say it once per distinct message.
      // Before the first connection, connect() reports the failure itself.
      if (e.message !== this.lastError && this.connected && !this.closed) console.error(`[store] redis: ${e.message}`);
      this.lastError = e.message;
    });
    this.redis.on("ready", () => {
      this.connected = true;
      this.lastError = "";
    });
  }

  /** Connects (and checks the server answers) before returning; throws a readable error if not. */
  static async connect(url: string, options: RedisBackendOptions = {}): Promise<RedisBackend> {
    const backend = new RedisBackend(url, options);
    try {
      await backend.redis.connect();
      await backend.redis.sendCommand(rawCommand(["PING"]));
    } catch (e) {
      backend.closed = true;
      backend.redis.disconnect();
      throw new Error(`cannot reach Redis at ${backend.name}: ${backend.lastError || (e as Error).message}`);
    }
    return backend;
  }

  /** The URL without credentials, for logs and the startup banner. */
  static displayName(url: string): string {
    try {
      const u = new URL(url);
      u.username = "";
      u.password = "";
      return u.toString().replace(/\/$/, "");
    } catch {
      return "redis";
    }
  }

  async command(args: string[]): Promise<Reply> {
    if (isBlocking(args)) return this.onSideConnection(args);
    return this.send(this.redis, args);
  }

  async pipeline(commands: string[][]): Promise<Outcome[]> {
    if (commands.some(isBlocking)) {
      // One at a time, so a blocking entry only waits for its own turn.
      const out: Outcome[] = [];
      for (const args of commands) out.push(await this.outcome(this.command(args)));
      return out;
    }
    // All written back to back on the shared connection; replies come back in order.
    return Promise.all(commands.map((args) => this.outcome(this.send(this.redis, args))));
  }

  async transaction(commands: string[][]): Promise<Outcome[]> {
    this.assertOpen();
    const pipe = this.redis.pipeline() as unknown as RawPipeline;
    pipe.sendCommand(rawCommand(["MULTI"]));
    for (const args of commands) pipe.sendCommand(rawCommand(args));
    pipe.sendCommand(rawCommand(["EXEC"]));
    const results = (await pipe.exec()) ?? [];
    const exec = results[results.length - 1];
    if (!exec) throw new Error("transaction: no reply to EXEC");
    const [execError, execReply] = exec;
    if (execError) {
      const refused = toCommandError(execError);
      if (refused) throw refused; // EXECABORT: a command was refused while queueing.
      throw execError;
    }
    if (!Array.isArray(execReply)) throw new CommandError("EXECABORT Transaction discarded");
    return (execReply as RawReply[]).map((r) => (r instanceof Error ? { error: r.message } : { result: toReply(r) }));
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const c of this.side) c.disconnect();
    this.side.clear();
    await this.redis.quit().catch(() => this.redis.disconnect());
  }

  private assertOpen() {
    if (this.closed) throw new Error("the Redis backend is closed");
  }

  private async send(conn: RedisClient, args: string[]): Promise<Reply> {
    this.assertOpen();
    try {
      return toReply((await conn.sendCommand(rawCommand(args))) as RawReply);
    } catch (e) {
      throw toCommandError(e) ?? e;
    }
  }

  private async onSideConnection(args: string[]): Promise<Reply> {
    this.assertOpen();
    const conn = this.redis.duplicate({ lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    conn.on("error", () => {});
    this.side.add(conn);
    try {
      await conn.connect();
      return await this.send(conn, args);
    } finally {
      this.side.delete(conn);
      conn.disconnect();
    }
  }

  private async outcome(p: Promise<Reply>): Promise<Outcome> {
    try {
      return { result: await p };
    } catch (e) {
      if (e instanceof CommandError) return { error: e.message };
      throw e;
    }
  }
}
