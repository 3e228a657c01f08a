/**
 * The contract between the local Upstash-compatible HTTP server and its backends.
 *
 * A backend executes Redis commands given as arrays of strings (the HTTP layer has already
 * turned every JSON argument into a string with `String()`), and answers with raw RESP2-shaped
 * replies: `null` (nil bulk / nil array), integers as `number`, bulk and status strings as
 * `string` (or `Buffer` for binary-safe bulk strings), and nested arrays. Nothing is turned
 * into objects or maps: `HGETALL` is a flat `[field, value, …]` array, exactly as Redis sends it.
 */
export type Reply = null | number | string | Buffer | Reply[];

/**
 * A command that Redis itself refused (`ERR …`, `WRONGTYPE …`, `NOSCRIPT …`).
 * The message is the Redis error text, prefix included, and is sent to the client verbatim.
 */
export class CommandError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "CommandError";
  }
}

/** One entry of a pipeline or transaction result: a reply, or the error of that command. */
export type Outcome = { result: Reply } | { error: string };

export interface Backend {
  /** Human-readable name printed at startup: "embedded (in-memory)" or "redis://127.0.0.1:6379". */
  readonly name: string;
  /** Runs one command. Throws `CommandError` when Redis refuses it. */
  command(args: string[]): Promise<Reply>;
  /**
   * Runs the commands in order, each independently (a failing command does not stop the rest).
   * Never returns more entries than commands.
   */
  pipeline(commands: string[][]): Promise<Outcome[]>;
  /**
   * Runs the commands atomically (MULTI/EXEC). A command Redis rejects while queueing
   * (unknown command, wrong arity) discards the whole transaction: throw `CommandError`.
   * Errors raised while executing (e.g. WRONGTYPE) are per-entry outcomes, as EXEC reports them.
   */
  transaction(commands: string[][]): Promise<Outcome[]>;
  /** Releases connections / timers. */
  close(): Promise<void>;
}
