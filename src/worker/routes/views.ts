/** JSON views of sessions and logins: what leaves the worker, and nothing more. */
import type { Session } from "../../session/record.js";

export function sessionView(s: Session, currentId?: string) {
  return {
    id: s.id,
    device: s.device,
    ip: s.ip,
    createdAt: new Date(s.createdAt).toISOString(),
    lastSeenAt: new Date(s.lastSeenAt).toISOString(),
    idleExpiresAt: new Date(s.idleExpiresAt).toISOString(),
    expiresAt: new Date(s.expiresAt).toISOString(),
    /** "dbsc" or "dpop" when the session is bound to a device key (issue 24), else null. */
    bound: s.bound?.kind ?? null,
    ...(currentId !== undefined ? { current: s.id === currentId } : {}),
  };
}

export function loginView(token: string, s: Session) {
  return {
    token,
    tokenType: "Bearer" as const,
    /** "dpop": every request must carry a proof signed by the key the login proved. */
    bound: s.bound?.kind ?? null,
    expiresAt: new Date(s.expiresAt).toISOString(),
    idleExpiresAt: new Date(s.idleExpiresAt).toISOString(),
    user: { id: s.userId, email: s.email, roles: s.roles },
  };
}

/** A login whose token went into the `__Host-session` cookie: everything but the token. */
export function cookieLoginView(s: Session) {
  return {
    transport: "cookie" as const,
    expiresAt: new Date(s.expiresAt).toISOString(),
    idleExpiresAt: new Date(s.idleExpiresAt).toISOString(),
    user: { id: s.userId, email: s.email, roles: s.roles },
  };
}
