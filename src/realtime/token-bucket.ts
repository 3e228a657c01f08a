/**
 * A token bucket refilled lazily from the clock: no timer, so an object holding many sockets
 * can keep one per socket and still hibernate. `capacity` tokens at most (the burst), refilled
 * at `capacity` per `windowMs`. Kept in object memory: after a hibernation the bucket starts
 * full, which is what an idle socket would have earned anyway.
 */
export class TokenBucket {
  private tokens: number;
  private at: number;
  private readonly perMs: number;

  constructor(
    private readonly capacity: number,
    windowMs: number,
    now: number,
  ) {
    this.tokens = capacity;
    this.at = now;
    this.perMs = capacity / windowMs;
  }

  /** Takes `cost` tokens if there are that many; otherwise takes none and answers false. */
  take(cost: number, now: number): boolean {
    this.tokens = Math.min(this.capacity, this.tokens + Math.max(0, now - this.at) * this.perMs);
    this.at = now;
    if (cost > this.tokens) return false;
    this.tokens -= cost;
    return true;
  }
}
