/**
 * What the embedded primary ships to its replicas: the resulting state of every key a write
 * changed (value and absolute expiry, or its deletion), not the commands. Replaying commands
 * would re-roll SPOP and scripts' randomness, read another TIME, and restart relative expiries
 * (`EX 10` applied 2 s late would live 2 s longer); the state is the same on both sides.
 */
import type { Entry, Keyspace, TypeName, ValueTypes } from "../memory/engine.ts";
import type { Stream } from "../memory/stream.ts";
import { SortedSet } from "../memory/zset.ts";

export interface Change {
  /** The primary's offset once this change is applied. */
  offset: number;
  /** The keyspace was flushed before `keys` were written. */
  flushed: boolean;
  /** Each changed key with its copied entry, or null when it no longer exists. */
  keys: [string, Entry | null][];
}

function copyValue<T extends TypeName>(type: T, value: ValueTypes[T]): ValueTypes[T] {
  switch (type) {
    case "string":
      return value;
    case "list":
      return [...(value as string[])] as ValueTypes[T];
    case "hash":
      return new Map(value as Map<string, string>) as ValueTypes[T];
    case "set":
      return new Set(value as Set<string>) as ValueTypes[T];
    case "zset": {
      const z = new SortedSet();
      for (const [member, score] of (value as SortedSet).scores) z.set(member, score);
      return z as ValueTypes[T];
    }
    case "stream":
      return (value as Stream).copy() as ValueTypes[T];
  }
  throw new Error(`cannot copy a value of type ${type}`);
}

const copyEntry = (e: Entry): Entry => ({ type: e.type, value: copyValue(e.type, e.value), expiresAt: e.expiresAt });

/** The changed keys' current state on the primary, copied (the primary keeps changing its own). */
export function snapshot(db: Keyspace, offset: number, flushed: boolean, keys: Iterable<string>): Change {
  const out: [string, Entry | null][] = [];
  for (const key of keys) {
    const e = db.lookup(key);
    out.push([key, e === undefined ? null : copyEntry(e)]);
  }
  return { offset, flushed, keys: out };
}

/** Applies a change to a replica's keyspace (each replica gets its own copies). */
export function apply(db: Keyspace, change: Change): void {
  if (change.flushed) db.flush();
  for (const [key, e] of change.keys) {
    if (e === null) db.delete(key);
    else db.set(key, e.type, copyValue(e.type, e.value), e.expiresAt);
  }
}
