import { CommandError, type Reply } from "../types.ts";

/** A RESP status reply (`+OK`). Lua sees it as `{ok=...}`; clients see a plain string. */
export class Status {
  constructor(readonly value: string) {}
}

/** An error nested inside an array (only Lua scripts can produce one). */
export class NestedError {
  constructor(readonly message: string) {}
}

/** Replies as commands produce them internally: status replies stay distinguishable. */
export type IReply = null | number | string | Status | NestedError | IReply[];

export const OK = new Status("OK");

/** Converts an internal reply to the public `Reply` shape. */
export function toPublic(r: IReply): Reply {
  if (r instanceof Status) return r.value;
  // A nested error cannot be expressed in `Reply`; clients get its message as a string.
  if (r instanceof NestedError) return r.message;
  if (Array.isArray(r)) return r.map(toPublic);
  return r;
}

export const err = (message: string): CommandError => new CommandError(message);

export const Errors = {
  syntax: () => err("ERR syntax error"),
  wrongType: () => err("WRONGTYPE Operation against a key holding the wrong kind of value"),
  notInteger: () => err("ERR value is not an integer or out of range"),
  notFloat: () => err("ERR value is not a valid float"),
  outOfRangePositive: () => err("ERR value is out of range, must be positive"),
  overflow: () => err("ERR increment or decrement would overflow"),
  noSuchKey: () => err("ERR no such key"),
  minMaxNotFloat: () => err("ERR min or max is not a float"),
  wrongArity: (cmd: string) => err(`ERR wrong number of arguments for '${cmd}' command`),
  invalidExpire: (cmd: string) => err(`ERR invalid expire time in '${cmd}' command`),
};
