/**
 * The keyspace's insertion order with stable sequence numbers, so that SCAN can resume from a
 * cursor in O(log n): the cursor is the sequence number of the next key to visit. A key keeps
 * its number while it exists, so every key present for a whole iteration is returned exactly
 * once; keys added meanwhile get higher numbers (returned or not, as Redis allows).
 */
export class KeyOrder {
  private seqs: number[] = [];
  /** Parallel to seqs; undefined where the key was deleted (compacted away from time to time). */
  private keys: (string | undefined)[] = [];
  private readonly seqOf = new Map<string, number>();
  private nextSeq = 1;
  private dead = 0;

  add(key: string): void {
    if (this.seqOf.has(key)) return;
    const seq = this.nextSeq++;
    this.seqOf.set(key, seq);
    this.seqs.push(seq);
    this.keys.push(key);
  }

  remove(key: string): void {
    const seq = this.seqOf.get(key);
    if (seq === undefined) return;
    this.seqOf.delete(key);
    this.keys[this.firstAtOrAfter(seq)] = undefined;
    this.dead++;
    if (this.dead > 1024 && this.dead * 2 > this.keys.length) this.compact();
  }

  clear(): void {
    this.seqs = [];
    this.keys = [];
    this.seqOf.clear();
    this.dead = 0;
  }

  /** Up to `count` keys from `cursor` on, and the cursor to continue from (0: iteration over). */
  scan(cursor: number, count: number): [number, string[]] {
    let i = this.firstAtOrAfter(cursor);
    const out: string[] = [];
    for (; i < this.keys.length && out.length < count; i++) {
      const key = this.keys[i];
      if (key !== undefined) out.push(key);
    }
    while (i < this.keys.length && this.keys[i] === undefined) i++;
    return [i < this.keys.length ? this.seqs[i]! : 0, out];
  }

  private firstAtOrAfter(seq: number): number {
    let lo = 0;
    let hi = this.seqs.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.seqs[mid]! < seq) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  private compact(): void {
    const seqs: number[] = [];
    const keys: string[] = [];
    this.keys.forEach((key, i) => {
      if (key !== undefined) {
        seqs.push(this.seqs[i]!);
        keys.push(key);
      }
    });
    this.seqs = seqs;
    this.keys = keys;
    this.dead = 0;
  }
}
