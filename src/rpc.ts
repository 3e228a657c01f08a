/**
 * Service-binding RPC: other Workers verify, create and revoke sessions through a binding, with
 * no HTTP hop. Results are plain data (rpc-types.ts), typed end to end for `Service<SessionVerifier>`.
 *
 *   # wrangler.toml of the calling worker
 *   services = [{ binding = "SESSIONS", service = "edge-session", entrypoint = "SessionVerifier" }]
 *
 *   const r = await env.SESSIONS.verify(token);
 *   if (!r.ok) return new Response(r.reason, { status: r.reason === "store_unavailable" ? 503 : 401 });
 *   r.user.email; r.session.expiresAt;
 *
 *   // A trusted worker that signed the user in itself (its own IdP callback):
 *   const s = await env.SESSIONS.createSession({ id, email, roles: [] }, { userAgent, ip });
 */
import { WorkerEntrypoint } from "cloudflare:workers";
import { appFor } from "./app-for.js";
import type { Env } from "./config.js";
import type { CreateSessionResponse, RpcSession, VerifyResponse } from "./rpc-types.js";
import type { Session } from "./session/record.js";
import { SESSION_ID } from "./session/record.js";
import { checkNewSessionUser, sessionApi, USER_ID, type NewSessionMeta, type NewSessionUser } from "./sessions.js";
import { StoreError } from "./store/redis.js";

export type { CreateSessionResponse, RpcSession, VerifyResponse } from "./rpc-types.js";

/** The plain-data view of a session that crosses the binding (no application `data`). */
function rpcSession(s: Session): RpcSession {
  return { id: s.id, userId: s.userId, email: s.email, roles: [...s.roles], createdAt: s.createdAt, lastSeenAt: s.lastSeenAt, idleExpiresAt: s.idleExpiresAt, expiresAt: s.expiresAt, device: s.device, ip: s.ip };
}

export class SessionVerifier extends WorkerEntrypoint<Env> {
  private async deps() {
    const built = await appFor(this.env);
    return built.ok ? built.deps : null;
  }

  /** Verifies a session token exactly as the HTTP middleware does (MAC, cache, store). */
  async verify(token: string): Promise<VerifyResponse> {
    if (typeof token !== "string" || !token) return { ok: false, reason: "missing" };
    const deps = await this.deps();
    if (!deps) return { ok: false, reason: "misconfigured" };
    try {
      const r = await deps.reader.read(token);
      if (!r.ok) return { ok: false, reason: r.reason };
      const write = deps.sessions.touch(r.session);
      if (write) this.ctx.waitUntil(write);
      return { ok: true, session: rpcSession(r.session), user: { id: r.session.userId, email: r.session.email, roles: [...r.session.roles] } };
    } catch (error) {
      if (error instanceof StoreError) return { ok: false, reason: "store_unavailable" };
      throw error;
    }
  }

  /**
   * Issues a session for a user the calling worker has authenticated (its own OAuth/OIDC, SSO,
   * magic-link or passkey sign-in): the same call as the library's `layer.createSession()`.
   * Only workers you bind to this entrypoint can call it; treat the binding as a credential.
   */
  async createSession(user: NewSessionUser, meta: NewSessionMeta = {}): Promise<CreateSessionResponse> {
    try {
      checkNewSessionUser(user);
    } catch {
      return { ok: false, reason: "invalid_user" };
    }
    const deps = await this.deps();
    if (!deps) return { ok: false, reason: "misconfigured" };
    const safeMeta: NewSessionMeta = {
      userAgent: typeof meta?.userAgent === "string" ? meta.userAgent : null,
      ip: typeof meta?.ip === "string" ? meta.ip : null,
    };
    try {
      const created = await sessionApi(deps).createSession(user, safeMeta);
      if (!created.ok) return created;
      return { ok: true, token: created.token, session: rpcSession(created.session), user: created.user };
    } catch (error) {
      if (error instanceof StoreError) return { ok: false, reason: "store_unavailable" };
      throw error;
    }
  }

  /** Ends one session by its public id (the `X-Session-Id` value). True when it was live. */
  async revoke(sessionId: string): Promise<boolean> {
    if (typeof sessionId !== "string" || !SESSION_ID.test(sessionId)) return false;
    const deps = await this.deps();
    if (!deps) throw new Error("edge-session is misconfigured");
    const session = await deps.sessions.get(sessionId);
    return session ? deps.sessions.end(session) : false;
  }

  /** Ends every session of a user (kill switch). Returns how many were live. */
  async revokeUser(userId: string): Promise<number> {
    if (typeof userId !== "string" || !USER_ID.test(userId)) return 0;
    const deps = await this.deps();
    if (!deps) throw new Error("edge-session is misconfigured");
    return deps.sessions.endAll(userId);
  }
}
