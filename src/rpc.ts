/**
 * Service-binding RPC: other Workers verify and revoke through a binding, with no HTTP hop.
 *
 *   # wrangler.toml of the calling worker
 *   services = [{ binding = "SESSIONS", service = "edge-session", entrypoint = "SessionVerifier" }]
 *
 *   const r = await env.SESSIONS.verify(token);
 *   if (!r.ok) return new Response(r.reason, { status: r.reason === "store_unavailable" ? 503 : 401 });
 */
import { WorkerEntrypoint } from "cloudflare:workers";
import { appFor } from "./app-for.js";
import type { Env } from "./config.js";
import type { RpcRefusalReason, SessionUser } from "./protocol.js";
import type { Session } from "./session/record.js";
import { SESSION_ID } from "./session/record.js";
import { StoreError } from "./store/redis.js";

export type VerifyResponse = { ok: true; session: Session; user: SessionUser } | { ok: false; reason: RpcRefusalReason };

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
      return { ok: true, session: r.session, user: { id: r.session.userId, email: r.session.email, roles: r.session.roles } };
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
    if (typeof userId !== "string" || !/^[A-Za-z0-9_-]{1,64}$/.test(userId)) return 0;
    const deps = await this.deps();
    if (!deps) throw new Error("edge-session is misconfigured");
    return deps.sessions.endAll(userId);
  }
}
