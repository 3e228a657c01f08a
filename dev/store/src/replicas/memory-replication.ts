/**
 * Replication for the embedded engine: a primary `MemoryBackend` whose changes are collected
 * after every command, pipeline or transaction into numbered `Change`s, and one replica
 * `MemoryBackend` per region fed those changes, in order, through its own `LagQueue`.
 */
import { MemoryBackend } from "../memory/index.ts";
import type { Backend, Outcome, Reply } from "../types.ts";
import { LagQueue } from "./lag-queue.ts";
import { apply, snapshot, type Change } from "./memory-effects.ts";
import type { Region, RegionStatus, Replication } from "./types.ts";

/** The primary as the server sees it: the engine, plus a change collected after each call. */
class Primary implements Backend {
  readonly name: string;
  offset = 0;
  private dirty = new Set<string>();
  private flushed = false;

  constructor(private readonly engine: MemoryBackend, private readonly ship: (c: Change) => void) {
    this.name = `${engine.name}, replicated`;
    engine.keyspace.onChange = (key) => {
      if (key === null) {
        this.flushed = true;
        this.dirty.clear();
      } else this.dirty.add(key);
    };
  }

  command(args: string[]): Promise<Reply> {
    return this.collecting(() => this.engine.command(args));
  }
  pipeline(commands: string[][]): Promise<Outcome[]> {
    return this.collecting(() => this.engine.pipeline(commands));
  }
  transaction(commands: string[][]): Promise<Outcome[]> {
    return this.collecting(() => this.engine.transaction(commands));
  }
  close(): Promise<void> {
    this.engine.keyspace.onChange = undefined;
    return this.engine.close();
  }

  /** The engine runs each call synchronously: collecting right after it sees all its changes. */
  private async collecting<T>(run: () => Promise<T>): Promise<T> {
    try {
      return await run();
    } finally {
      this.collect();
    }
  }

  /** Ships what changed since the last collection as one numbered change (nothing if nothing did). */
  collect(): void {
    if (this.dirty.size === 0 && !this.flushed) return;
    const keys = this.dirty;
    const flushed = this.flushed;
    this.dirty = new Set();
    this.flushed = false;
    this.ship(snapshot(this.engine.keyspace, ++this.offset, flushed, keys));
  }
}

class MemoryRegion implements Region {
  readonly backend = new MemoryBackend();
  private applied = 0;
  private readonly line: LagQueue<Change>;
  private readonly waiters = new Set<() => void>();

  constructor(readonly name: string, private readonly primary: Primary, lagMs: number) {
    this.line = new LagQueue((c) => this.receive(c), { lagMs });
  }

  get lagMs() {
    return this.line.lagMs;
  }
  get partitioned() {
    return this.line.partitioned;
  }

  send(change: Change): void {
    this.line.push(change, change.keys.length);
  }

  private receive(change: Change): void {
    apply(this.backend.keyspace, change);
    this.applied = change.offset;
    for (const wake of [...this.waiters]) wake();
  }

  async appliedOffset(): Promise<number> {
    return this.applied;
  }

  waitFor(offset: number, timeoutMs: number): Promise<boolean> {
    if (this.applied >= offset) return Promise.resolve(true);
    return new Promise((resolve) => {
      const done = (ok: boolean) => {
        clearTimeout(timer);
        this.waiters.delete(check);
        resolve(ok);
      };
      const check = () => {
        if (this.applied >= offset) done(true);
      };
      const timer = setTimeout(() => done(this.applied >= offset), timeoutMs);
      this.waiters.add(check);
    });
  }

  setLag(ms: number): void {
    this.line.setLag(ms);
  }
  setPartitioned(on: boolean): void {
    this.line.setPartitioned(on);
  }

  async status(): Promise<RegionStatus> {
    const { items, size } = this.line.backlog;
    return { name: this.name, lagMs: this.lagMs, partitioned: this.partitioned, primaryOffset: this.primary.offset, appliedOffset: this.applied, backlog: { items, bytes: size } };
  }

  async close(): Promise<void> {
    this.line.close();
    for (const wake of [...this.waiters]) wake();
    await this.backend.close();
  }
}

export interface MemoryReplicationOptions {
  /** Region names (checked by `regionNames`). */
  regions: string[];
  /** Initial lag of every region, in ms. @default 0 */
  lagMs?: number;
}

export function memoryReplication(options: MemoryReplicationOptions): Replication {
  const regions = new Map<string, MemoryRegion>();
  const primary = new Primary(new MemoryBackend(), (change) => {
    for (const r of regions.values()) r.send(change);
  });
  for (const name of options.regions) regions.set(name, new MemoryRegion(name, primary, options.lagMs ?? 0));
  return {
    primary,
    regions,
    async primaryOffset() {
      primary.collect(); // expiries the sweep found since the last command
      return primary.offset;
    },
    async close() {
      await Promise.all([...regions.values()].map((r) => r.close()));
    },
  };
}
