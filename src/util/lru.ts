/**
 * A bounded LRU on a Map (insertion order = recency). Written here rather than taken from
 * lru-cache: that library costs about a tenth of the worker's bundle budget for the four
 * operations the read path needs.
 */
export class BoundedLru<K, V> {
  private readonly map = new Map<K, V>();
  constructor(
    readonly max: number,
    private readonly onEvict?: (value: V, key: K) => void,
  ) {}
  get size(): number {
    return this.map.size;
  }
  get(key: K): V | undefined {
    const value = this.map.get(key);
    if (value !== undefined) {
      // Refresh recency.
      this.map.delete(key);
      this.map.set(key, value);
    }
    return value;
  }
  set(key: K, value: V): void {
    const old = this.map.get(key);
    if (old !== undefined) {
      this.map.delete(key);
      this.onEvict?.(old, key);
    }
    this.map.set(key, value);
    if (this.map.size > this.max) {
      const oldest = this.map.keys().next().value as K;
      const evicted = this.map.get(oldest)!;
      this.map.delete(oldest);
      this.onEvict?.(evicted, oldest);
    }
  }
  delete(key: K): void {
    const old = this.map.get(key);
    if (old === undefined) return;
    this.map.delete(key);
    this.onEvict?.(old, key);
  }
  clear(): void {
    this.map.clear();
  }
}

