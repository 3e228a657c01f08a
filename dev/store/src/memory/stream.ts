/**
 * A stream value laid out as Redis lays it out: a sequence of macro nodes (one listpack each in
 * Redis), each with a master entry (its first ID and field names), live and deleted counters,
 * and entries marked deleted rather than removed. The layout is observable: approximate
 * trimming (`~`) and LIMIT work on whole nodes, so modelling the nodes (and their sizes in
 * bytes, see listpack.ts) makes those trims remove exactly what Redis removes.
 */
import { intElementBytes, LISTPACK_EMPTY_BYTES, stringElementBytes } from "./listpack.ts";
import { compareIds, MIN_ID, type StreamId } from "./stream-id.ts";

/** Redis' defaults for `stream-node-max-entries` and `stream-node-max-bytes`. */
const NODE_MAX_ENTRIES = 100;
const NODE_MAX_BYTES = 4096;

export interface StreamEntry {
  readonly id: StreamId;
  /** Field, value, field, value... */
  readonly fields: readonly string[];
  deleted: boolean;
}

class Node {
  readonly entries: StreamEntry[] = [];
  live = 0;
  deleted = 0;
  /** Listpack bytes apart from the two counters, which change size as they grow. */
  private bytes: number;

  constructor(
    readonly master: StreamId,
    readonly masterFields: readonly string[],
  ) {
    this.bytes = LISTPACK_EMPTY_BYTES + intElementBytes(masterFields.length) + intElementBytes(0);
    for (const f of masterFields) this.bytes += stringElementBytes(f);
  }

  /** An independent copy (a replica's, which the primary's later writes must not touch). */
  copy(): Node {
    const n = new Node(this.master, this.masterFields);
    n.bytes = this.bytes;
    n.live = this.live;
    n.deleted = this.deleted;
    for (const e of this.entries) n.entries.push({ id: e.id, fields: e.fields, deleted: e.deleted });
    return n;
  }

  get totalBytes(): number {
    return this.bytes + intElementBytes(this.live) + intElementBytes(this.deleted);
  }

  get lastId(): StreamId {
    return this.entries[this.entries.length - 1]!.id;
  }

  /** Appends an entry, encoded against the master entry (`streamAppendItem`). */
  append(entry: StreamEntry): void {
    const names = entry.fields.filter((_, i) => i % 2 === 0);
    const same = names.length === this.masterFields.length && names.every((f, i) => f === this.masterFields[i]);
    let size = intElementBytes(0); // flags: 0-3, one byte whatever they become
    size += intElementBytes(entry.id.ms - this.master.ms) + intElementBytes(entry.id.seq - this.master.seq);
    if (!same) size += intElementBytes(names.length);
    entry.fields.forEach((s, i) => {
      if (!same || i % 2 === 1) size += stringElementBytes(s);
    });
    size += intElementBytes(same ? names.length + 3 : names.length * 2 + 4);
    this.bytes += size;
    this.entries.push(entry);
    this.live++;
  }
}

/** Index of the first element of `list` for which `before` is false (list partitioned by it). */
function partition<T>(list: readonly T[], before: (x: T) => boolean): number {
  let lo = 0, hi = list.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (before(list[mid]!)) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

export interface TrimOptions {
  strategy: "maxlen" | "minid";
  maxlen?: number;
  minid?: StreamId;
  /** Remove whole nodes only. */
  approx: boolean;
  /** At most this many entries (0: no limit). */
  limit: number;
}

export class Stream {
  private readonly nodes: Node[] = [];
  /** Live entries. */
  length = 0;
  /** The largest ID ever added: IDs never go back, even after deletions. */
  lastId: StreamId = MIN_ID;

  /** An independent copy, same nodes and all (replication ships values, not commands). */
  copy(): Stream {
    const s = new Stream();
    for (const node of this.nodes) s.nodes.push(node.copy());
    s.length = this.length;
    s.lastId = this.lastId;
    return s;
  }

  /** Appends an entry whose ID is above `lastId` (the caller checks). */
  append(id: StreamId, fields: readonly string[]): void {
    let tail = this.nodes[this.nodes.length - 1];
    if (tail !== undefined) {
      let payload = 0;
      for (const f of fields) payload += Buffer.byteLength(f);
      const full = tail.totalBytes + payload >= NODE_MAX_BYTES || tail.live + tail.deleted >= NODE_MAX_ENTRIES;
      if (full) tail = undefined;
    }
    if (tail === undefined) {
      tail = new Node(id, fields.filter((_, i) => i % 2 === 0));
      this.nodes.push(tail);
    }
    tail.append({ id, fields, deleted: false });
    this.length++;
    this.lastId = id;
  }

  /** Marks the entry deleted; a node whose last live entry goes is dropped. True if it existed. */
  delete(id: StreamId): boolean {
    const n = partition(this.nodes, (node) => compareIds(node.lastId, id) < 0);
    const node = this.nodes[n];
    if (node === undefined) return false;
    const e = node.entries[partition(node.entries, (x) => compareIds(x.id, id) < 0)];
    if (e === undefined || e.deleted || compareIds(e.id, id) !== 0) return false;
    e.deleted = true;
    if (node.live === 1) this.nodes.splice(n, 1);
    else {
      node.live--;
      node.deleted++;
    }
    this.length--;
    return true;
  }

  /** Live entries with start <= id <= end, oldest first (or newest first), at most `count` (0: all). */
  range(start: StreamId, end: StreamId, count: number, reverse: boolean): StreamEntry[] {
    const out: StreamEntry[] = [];
    if (compareIds(start, end) > 0) return out;
    const first = partition(this.nodes, (node) => compareIds(node.lastId, start) < 0);
    const last = partition(this.nodes, (node) => compareIds(node.master, end) <= 0) - 1;
    const full = () => count > 0 && out.length >= count;
    for (let n = reverse ? last : first; reverse ? n >= first : n <= last; n += reverse ? -1 : 1) {
      const entries = this.nodes[n]!.entries;
      const from = partition(entries, (x) => compareIds(x.id, start) < 0);
      const to = partition(entries, (x) => compareIds(x.id, end) <= 0) - 1;
      for (let i = reverse ? to : from; reverse ? i >= from : i <= to; i += reverse ? -1 : 1) {
        if (entries[i]!.deleted) continue;
        out.push(entries[i]!);
        if (full()) return out;
      }
    }
    return out;
  }

  /** Removes entries from the head (Redis `streamTrim`); returns how many. */
  trim(o: TrimOptions): number {
    let removed = 0;
    while (this.nodes.length > 0) {
      if (o.strategy === "maxlen" && this.length <= o.maxlen!) break;
      const node = this.nodes[0]!;
      if (o.limit && removed + node.live > o.limit) break;
      const whole = o.strategy === "maxlen" ? this.length - node.live >= o.maxlen! : compareIds(node.lastId, o.minid!) < 0;
      if (whole) {
        this.nodes.shift();
        this.length -= node.live;
        removed += node.live;
        continue;
      }
      if (o.approx) break;
      // Exact: mark entries of this node deleted until the condition holds; later nodes only
      // hold larger IDs, so the trim ends here. Like Redis, the node stays even if no live
      // entry is left in it (MINID below a deleted last entry).
      let marked = 0;
      for (const e of node.entries) {
        if (o.strategy === "maxlen" ? this.length <= o.maxlen! : compareIds(e.id, o.minid!) >= 0) break;
        if (e.deleted) continue;
        e.deleted = true;
        marked++;
        this.length--;
      }
      node.live -= marked;
      node.deleted += marked;
      removed += marked;
      break;
    }
    return removed;
  }
}
