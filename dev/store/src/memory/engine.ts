/** The keyspace: typed values, expiry in epoch milliseconds, lazy and periodic expiration. */
import { Errors } from "./reply.ts";
import { KeyOrder } from "./keyorder.ts";
import { Stream } from "./stream.ts";
import { SortedSet } from "./zset.ts";

export interface ValueTypes {
  string: string;
  hash: Map<string, string>;
  set: Set<string>;
  zset: SortedSet;
  list: string[];
  stream: Stream;
}
export type TypeName = keyof ValueTypes;

export interface Entry<T extends TypeName = TypeName> {
  type: T;
  value: ValueTypes[T];
  /** Epoch ms after which the key no longer exists (alive while now <= expiresAt). */
  expiresAt: number | undefined;
}

const EMPTY: { [T in TypeName]: () => ValueTypes[T] } = {
  string: () => "",
  hash: () => new Map(),
  set: () => new Set(),
  zset: () => new SortedSet(),
  list: () => [],
  stream: () => new Stream(),
};

export class Keyspace {
  private readonly entries = new Map<string, Entry>();
  private readonly order = new KeyOrder();
  /** Keys that carry an expiry, for the periodic sweep. */
  private readonly volatile = new Set<string>();
  private frozen: number | undefined;
  /** Where the periodic sweep resumes (Set iterators survive insertions and deletions). */
  private sweepCursor: Iterator<string> | undefined;
  /**
   * Told of every key whose value or expiry changes (`null`: the whole keyspace was flushed).
   * Replication ships the changed keys' resulting state, so scripts using TIME or randomness
   * and relative expiries reach replicas exactly as they are on this keyspace.
   */
  onChange: ((key: string | null) => void) | undefined;

  constructor(private readonly clock: () => number) {}

  /** Current time; constant while a command, script or transaction runs. */
  now(): number {
    return this.frozen ?? this.clock();
  }

  /** Runs fn with the clock frozen (nested calls keep the outer time). */
  atomically<T>(fn: () => T): T {
    if (this.frozen !== undefined) return fn();
    this.frozen = this.clock();
    try {
      return fn();
    } finally {
      this.frozen = undefined;
    }
  }

  /** The live entry for key, expiring it first if its time has passed. */
  lookup(key: string): Entry | undefined {
    const e = this.entries.get(key);
    if (e === undefined) return undefined;
    if (e.expiresAt !== undefined && this.now() > e.expiresAt) {
      this.delete(key);
      return undefined;
    }
    return e;
  }

  /** The value of key if it has type `type`; WRONGTYPE if it has another type. */
  get<T extends TypeName>(key: string, type: T): ValueTypes[T] | undefined {
    const e = this.lookup(key);
    if (e === undefined) return undefined;
    if (e.type !== type) throw Errors.wrongType();
    return e.value as ValueTypes[T];
  }

  /** The value of key, created empty (not yet stored) if missing. Call `store` after adding. */
  getOrEmpty<T extends TypeName>(key: string, type: T): ValueTypes[T] {
    return this.get(key, type) ?? EMPTY[type]();
  }

  /** Stores a container after a write; deletes the key when the container became empty (streams stay). */
  store<T extends TypeName>(key: string, type: T, value: ValueTypes[T]): void {
    const size = containerSize(type, value);
    // Containers are changed in place before they are stored: the change is reported here.
    this.onChange?.(key);
    if (size === 0) {
      this.delete(key);
      return;
    }
    const e = this.entries.get(key);
    if (e !== undefined && e.value === value) return;
    this.set(key, type, value, e?.expiresAt);
  }

  /** Sets key to a new value with the given expiry (undefined: persistent). */
  set<T extends TypeName>(key: string, type: T, value: ValueTypes[T], expiresAt: number | undefined): void {
    this.entries.set(key, { type, value, expiresAt });
    this.onChange?.(key);
    this.order.add(key);
    if (expiresAt === undefined) this.volatile.delete(key);
    else this.volatile.add(key);
  }

  /** Replaces the value, keeping the key's expiry (KEEPTTL, APPEND, INCR...). */
  replaceValue<T extends TypeName>(key: string, type: T, value: ValueTypes[T]): void {
    this.set(key, type, value, this.lookup(key)?.expiresAt);
  }

  setExpiry(key: string, expiresAt: number | undefined): void {
    const e = this.entries.get(key);
    if (e === undefined) return;
    e.expiresAt = expiresAt;
    this.onChange?.(key);
    if (expiresAt === undefined) this.volatile.delete(key);
    else this.volatile.add(key);
  }

  delete(key: string): boolean {
    if (this.entries.has(key)) this.onChange?.(key);
    this.volatile.delete(key);
    this.order.remove(key);
    return this.entries.delete(key);
  }

  /** One SCAN step: live keys from cursor on (see KeyOrder), and the next cursor. */
  scan(cursor: number, count: number): [number, string[]] {
    const [next, keys] = this.order.scan(cursor, count);
    return [next, keys.filter((key) => this.lookup(key) !== undefined)];
  }

  /** Live keys (expired ones are removed on the way). */
  *keys(): IterableIterator<string> {
    for (const key of [...this.entries.keys()]) if (this.lookup(key) !== undefined) yield key;
  }

  size(): number {
    this.sweep();
    return this.entries.size;
  }

  flush(): void {
    this.onChange?.(null);
    this.entries.clear();
    this.volatile.clear();
    this.order.clear();
  }

  /** Removes every expired key. */
  sweep(): void {
    for (const key of this.volatile) this.expireIfDue(key);
  }

  /** Checks at most `limit` keys that carry an expiry, continuing where the last call stopped. */
  sweepSome(limit: number): void {
    for (let i = 0; i < limit; i++) {
      this.sweepCursor ??= this.volatile.values();
      const next = this.sweepCursor.next();
      if (next.done) {
        this.sweepCursor = undefined;
        return;
      }
      this.expireIfDue(next.value);
    }
  }

  private expireIfDue(key: string): void {
    const e = this.entries.get(key);
    if (e === undefined || (e.expiresAt !== undefined && this.now() > e.expiresAt)) this.delete(key);
  }
}

function containerSize(type: TypeName, value: unknown): number {
  switch (type) {
    case "string":
      return 1;
    case "list":
      return (value as string[]).length;
    case "stream":
      return 1; // an emptied stream stays (Redis keeps its last ID, and the key)
    default:
      return (value as { size: number }).size;
  }
}
