/**
 * The metric names the worker records, in one place (docs/OPERATIONS.md, "Metrics", explains
 * each). Names with a variable part are built once per distinct value and kept, so a hot path
 * never concatenates.
 */

export const M = {
  /** Verified from the edge cache / a store read / a forced (fresh) store read. */
  verifyHit: "verify.hit",
  verifyMiss: "verify.miss",
  verifyFresh: "verify.fresh",
  /** Latency of every store command, ms (its count is the number of commands). */
  store: "store",
  signinOk: "signin.ok",
  signinRegistered: "signin.register",
  signinPasswordChange: "signin.password_change",
  wsOpened: "ws.opened",
  /**
   * Revocation to the sockets' close, ms: from the end of the store write (the revoking isolate's
   * clock) to the close in the object holding the socket (session/freshness.ts records it).
   */
  revocationToClose: "revocation.close",
  /** Revocation to the first refusal, in an isolate, of a token it had been granting, ms (freshness.ts). */
  revocationToRefusal: "revocation.refusal",
  /** Replica reads (read replicas only, STORE_FRESHNESS_BOUND): within the bound, or read again at the primary. */
  replicaFresh: "replica.fresh",
  replicaStale: "replica.stale",
  /** …of which the replica served no usable store clock. */
  replicaClockMissing: "replica.clock_missing",
  /** How far behind the replica was at each replica read (now − its clock), ms. */
  replicaStaleness: "replica.staleness",
  /** A record a fresh replica lacked, confirmed at the primary. */
  replicaConfirm: "replica.confirm",
  /** A primary read after a stale replica failed: 503, never a grant. */
  replicaStaleRefusal: "replica.stale_refusal",
  /** The store clock's writer: beats, and beats whose write failed. */
  clockBeat: "clock.beat",
  clockFailed: "clock.failed",
  /** The rollup's own failures (its successes count as store commands). */
  rollupFailed: "metrics.rollup_failed",
} as const;

const built = new Map<string, string>();

/** `prefix.part`, made once. `part` must come from a closed set (reasons, codes), never from input. */
export function named(prefix: string, part: string | number): string {
  const key = `${prefix}\0${part}`;
  let name = built.get(key);
  if (name === undefined) {
    name = `${prefix}.${part}`;
    if (built.size < 1024) built.set(key, name);
  }
  return name;
}

/** `verify.refused.<reason>`. */
export const refusedName = (reason: string) => named("verify.refused", reason);
/** `store.error.<kind>` (timeout, refused, http_<status>, bad_reply). */
export const storeErrorName = (kind: string) => named("store.error", kind);
/** `signin.failed.<reason>` (invalid_credentials, rate_limited, conflict). */
export const signinFailedName = (reason: string) => named("signin.failed", reason);
/** `ws.closed.<code>`. */
export const wsClosedName = (code: number) => named("ws.closed", code);
