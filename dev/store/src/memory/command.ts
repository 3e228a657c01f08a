/** The shape of command implementations and the context they run in. */
import type { Keyspace } from "./engine.ts";
import type { IReply } from "./reply.ts";

export interface Ctx {
  readonly db: Keyspace;
  /** The Lua scripting engine behind EVAL, EVALSHA and SCRIPT. */
  readonly scripting: ScriptHost;
}

/** What the scripting commands need from the backend. */
export interface ScriptHost {
  eval(ctx: Ctx, body: string, keys: string[], args: string[]): IReply;
  evalsha(ctx: Ctx, sha: string, keys: string[], args: string[]): IReply;
  load(body: string): string;
  exists(sha: string): boolean;
  flush(): void;
}

export interface CommandSpec {
  /** Lowercase name, as in Redis error messages ("script|load" for subcommands). */
  readonly name: string;
  /** Redis arity: n means exactly n arguments (name included), -n at least n. */
  readonly arity: number;
  /** Modifies data (refused in read-only scripts). */
  readonly write?: boolean;
  /** Not callable from scripts (EVAL, SCRIPT...). */
  readonly noscript?: boolean;
  /** Container commands (SCRIPT) dispatch on argv[1]. */
  readonly subcommands?: Record<string, CommandSpec>;
  run(ctx: Ctx, argv: string[]): IReply;
}

export type CommandTable = Record<string, CommandSpec>;

/** Helper to declare a table of commands: name → [arity, run] or full spec. */
export function commands(
  defs: Record<string, [number, CommandSpec["run"], ("write" | "noscript")?] | CommandSpec>,
): CommandTable {
  const table: CommandTable = {};
  for (const [name, def] of Object.entries(defs)) {
    table[name] = Array.isArray(def)
      ? { name, arity: def[0], run: def[1], write: def[2] === "write", noscript: def[2] === "noscript" }
      : def;
  }
  return table;
}
