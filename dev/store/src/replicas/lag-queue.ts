/**
 * An ordered delivery line with a settable delay and a stop: what stands between a primary and
 * one replica. Items leave in arrival order, each no sooner than `lagMs` after it arrived; the lag
 * is read when an item is due, so changing it applies to what is already queued (an earlier item
 * still leaves first: order is never broken). A partition holds everything; a heal delivers at
 * once what has waited longer than the lag, and the rest when its time comes.
 */

export interface LagQueueOptions {
  /**
   * Delay between arrival and delivery, in ms.
   * @default 0
   */
  lagMs?: number;
  /** Clock in epoch ms. @default Date.now */
  now?: () => number;
}

interface Held<T> {
  at: number;
  item: T;
  size: number;
}

export class LagQueue<T> {
  private items: Held<T>[] = [];
  private head = 0;
  private bytes = 0;
  private timer: NodeJS.Timeout | undefined;
  private lag: number;
  private held = false;
  private closed = false;
  private readonly now: () => number;

  constructor(private readonly deliver: (item: T) => void, options: LagQueueOptions = {}) {
    this.lag = options.lagMs ?? 0;
    this.now = options.now ?? Date.now;
  }

  get lagMs(): number {
    return this.lag;
  }
  get partitioned(): boolean {
    return this.held;
  }
  /** Items and their total size (as given to `push`) waiting to be delivered. */
  get backlog(): { items: number; size: number } {
    return { items: this.items.length - this.head, size: this.bytes };
  }

  push(item: T, size = 1): void {
    if (this.closed) return;
    this.items.push({ at: this.now(), item, size });
    this.bytes += size;
    this.pump();
  }

  setLag(ms: number): void {
    this.lag = ms;
    this.pump();
  }

  /** `true` stops delivery (items keep arriving and wait); `false` resumes it. */
  setPartitioned(on: boolean): void {
    this.held = on;
    this.pump();
  }

  /** Drops what is waiting and delivers nothing more. */
  close(): void {
    this.closed = true;
    clearTimeout(this.timer);
    this.items = [];
    this.head = 0;
    this.bytes = 0;
  }

  private pump(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.held || this.closed) return;
    const now = this.now();
    while (this.head < this.items.length) {
      const next = this.items[this.head]!;
      const due = next.at + this.lag;
      if (due > now) {
        this.timer = setTimeout(() => this.pump(), due - now);
        break;
      }
      this.head++;
      this.bytes -= next.size;
      this.deliver(next.item);
      if (this.closed) return;
    }
    // Reclaim the delivered prefix now and then instead of shifting on every item.
    if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
  }
}
