/**
 * `/health`'s answer, kept per isolate for a short while: the route is unauthenticated, so
 * without this every request from anyone is a store round trip. Up and down are kept alike —
 * a monitor sees an outage within the lifetime, and an outage is not hammered harder. Only the
 * settled answer is shared between requests (plain data), never a pending promise: a workerd
 * request must not await another request's I/O.
 */
export type HealthAnswer = { ok: true; store: "up" } | { ok: false; store: "down" };

export interface HealthOptions {
  /** One round trip to the store; throws when it is unreachable. */
  ping: () => Promise<unknown>;
  /** How long an answer is reused, in ms. @default 1000 */
  ttlMs?: number;
  /** @default Date.now */
  now?: () => number;
}

export function healthCheck(o: HealthOptions): () => Promise<HealthAnswer> {
  const ttl = o.ttlMs ?? 1000;
  const now = o.now ?? Date.now;
  let last: { answer: HealthAnswer; at: number } | null = null;
  return async () => {
    const t = now();
    if (last && t - last.at < ttl) return last.answer;
    let answer: HealthAnswer;
    try {
      await o.ping();
      answer = { ok: true, store: "up" };
    } catch {
      answer = { ok: false, store: "down" };
    }
    last = { answer, at: t };
    return answer;
  };
}
