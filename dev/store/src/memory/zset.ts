/** A sorted set: member → score, plus an array kept in (score, member) order. */
import { compareBytes } from "./compare.ts";

export interface ZItem {
  member: string;
  score: number;
}

const cmp = (a: ZItem, b: ZItem): number =>
  a.score < b.score ? -1 : a.score > b.score ? 1 : compareBytes(a.member, b.member);

export class SortedSet {
  readonly scores = new Map<string, number>();
  private items: ZItem[] = [];

  get size(): number {
    return this.items.length;
  }

  /** Index of the first item >= probe. */
  private lowerBound(probe: ZItem): number {
    let lo = 0;
    let hi = this.items.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (cmp(this.items[mid]!, probe) < 0) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** Sets the member's score (adding the member if needed). */
  set(member: string, score: number): void {
    const old = this.scores.get(member);
    if (old !== undefined) {
      if (Object.is(old, score)) return;
      this.items.splice(this.lowerBound({ member, score: old }), 1);
    }
    this.scores.set(member, score);
    const item = { member, score };
    this.items.splice(this.lowerBound(item), 0, item);
  }

  delete(member: string): boolean {
    const old = this.scores.get(member);
    if (old === undefined) return false;
    this.items.splice(this.lowerBound({ member, score: old }), 1);
    this.scores.delete(member);
    return true;
  }

  /** 0-based rank in ascending order, or undefined. */
  rank(member: string): number | undefined {
    const score = this.scores.get(member);
    return score === undefined ? undefined : this.lowerBound({ member, score });
  }

  at(index: number): ZItem | undefined {
    return this.items[index];
  }

  /** Items with index in [start, end). */
  slice(start: number, end: number): ZItem[] {
    return this.items.slice(start, end);
  }

  /** First index whose score is > min (exclusive) or >= min. */
  firstAboveScore(min: number, exclusive: boolean): number {
    let lo = 0;
    let hi = this.items.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const s = this.items[mid]!.score;
      if (exclusive ? s <= min : s < min) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** First index whose member is > min (exclusive) or >= min; for lex ranges. */
  firstAboveMember(min: string, exclusive: boolean): number {
    let lo = 0;
    let hi = this.items.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const c = compareBytes(this.items[mid]!.member, min);
      if (exclusive ? c <= 0 : c < 0) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}
