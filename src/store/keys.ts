/** Every store key this product writes, in one place. `prefix` comes from config (`STORE_PREFIX`). */
export interface KeySpace {
  session(sessionId: string): string;
  /** Prefix the scripts join with a session id (they walk the per-user index). */
  sessionPrefix: string;
  userIndex(userId: string): string;
  account(userId: string): string;
  email(email: string): string;
  ticket(ticketHash: string): string;
  /** A user's outstanding tickets (for the per-user cap). */
  userTickets(userId: string): string;
  rateLimit: string;
  /** A DBSC refresh challenge already answered (device binding: single use). */
  usedChallenge(challengeHash: string): string;
  /** The primary's clock in ms, advanced every second (session/clock.ts): how a replica proves its freshness. */
  clock: string;
  /** Prefix of the revocation marks (store/scripts.ts MARK): the mark of session `id` is this + id. */
  markPrefix: string;
  /** A script's recorded reply, so a retried run answers what the first did (store/scripts.ts). */
  op(opId: string): string;
}

export function keySpace(prefix: string): KeySpace {
  return {
    session: (id) => `${prefix}s:${id}`,
    sessionPrefix: `${prefix}s:`,
    userIndex: (userId) => `${prefix}u:${userId}`,
    account: (userId) => `${prefix}a:${userId}`,
    email: (email) => `${prefix}e:${email}`,
    ticket: (hash) => `${prefix}t:${hash}`,
    userTickets: (userId) => `${prefix}tu:${userId}`,
    rateLimit: `${prefix}rl`,
    usedChallenge: (hash) => `${prefix}dc:${hash}`,
    clock: `${prefix}clock`,
    markPrefix: `${prefix}x:`,
    op: (opId) => `${prefix}op:${opId}`,
  };
}

/** Operators' keys (metrics rollups, audit streams), under the same prefix as everything else. */
export interface OpsKeySpace {
  /** The rollup hash of a period: `m:<period ms>:<period start ms>`. */
  metrics(periodMs: number, start: number): string;
  /** Signing keys seen by any isolate (kid → first seen). */
  keysSeen: string;
  /** Every audit event. */
  audit: string;
  /** One user's audit events. */
  userAudit(userId: string): string;
}

export function opsKeySpace(prefix: string): OpsKeySpace {
  return {
    metrics: (periodMs, start) => `${prefix}m:${periodMs}:${start}`,
    keysSeen: `${prefix}kr`,
    audit: `${prefix}audit`,
    userAudit: (userId) => `${prefix}audit:u:${userId}`,
  };
}
