/**
 * MemoryBackend: an embedded, in-memory Redis 7 engine behind the local Upstash-compatible
 * server, for machines without Redis. Every command runs synchronously, so a command, a
 * pipeline entry, a transaction or a script is atomic with respect to other requests.
 */
import { CommandError, type Backend, type Outcome, type Reply } from "../types.ts";
import type { Ctx } from "./command.ts";
import { Keyspace } from "./engine.ts";
import { LuaScripting } from "./lua/host.ts";
import { execute, executeFromScript, lookup } from "./registry.ts";
import { toPublic } from "./reply.ts";

/** Keys checked per sweep tick: bounded work, about 10,000 keys a second by default. */
const SWEEP_BATCH = 1000;

export interface MemoryBackendOptions {
  /** Clock in epoch milliseconds (tests inject one to move time forward). Default Date.now. */
  now?: () => number;
  /** How often a batch of keys with an expiry is checked (keys also expire lazily on access). Default 100 ms. */
  sweepIntervalMs?: number;
}

export class MemoryBackend implements Backend {
  readonly name = "embedded (in-memory)";
  private readonly ctx: Ctx;
  private readonly db: Keyspace;
  private timer: NodeJS.Timeout | undefined;

  constructor(options: MemoryBackendOptions = {}) {
    this.db = new Keyspace(options.now ?? Date.now);
    this.ctx = { db: this.db, scripting: new LuaScripting(executeFromScript) };
    this.timer = setInterval(() => this.db.sweepSome(SWEEP_BATCH), options.sweepIntervalMs ?? 100);
    this.timer.unref();
  }

  /** The keyspace itself, for replication (src/replicas/): read its state, apply a primary's changes. */
  get keyspace(): Keyspace {
    return this.db;
  }

  /** Runs one command synchronously (for callers that do not need a promise). */
  run(args: string[]): Reply {
    return toPublic(this.db.atomically(() => execute(this.ctx, args)));
  }

  async command(args: string[]): Promise<Reply> {
    return this.run(args);
  }

  async pipeline(commands: string[][]): Promise<Outcome[]> {
    return commands.map((args) => this.outcome(args));
  }

  async transaction(commands: string[][]): Promise<Outcome[]> {
    for (const args of commands) {
      try {
        lookup(args);
      } catch (e) {
        if (e instanceof CommandError) throw new CommandError("EXECABORT Transaction discarded because of previous errors.");
        throw e;
      }
    }
    return this.db.atomically(() => commands.map((args) => this.outcome(args)));
  }

  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  private outcome(args: string[]): Outcome {
    try {
      return { result: this.run(args) };
    } catch (e) {
      if (e instanceof CommandError) return { error: e.message };
      throw e;
    }
  }
}
