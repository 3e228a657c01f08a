/**
 * Service-binding RPC: other Workers verify, create and revoke sessions through a binding, with
 * no HTTP hop. Results are plain data (types.ts), typed end to end for `Service<SessionVerifier>`.
 *
 * `SessionVerifierBase` holds the four calls; a subclass says where its session layer comes
 * from by setting the static `layerFor(env)`. Statics are not reachable over RPC, so the
 * layer is never a callable method. The library's `SessionVerifier` (index.ts) builds its layer
 * from the store and keys alone; the deployed worker's (src/worker/rpc.ts) uses the worker's own
 * dependencies, so a revocation over RPC also closes that worker's sockets.
 */
import { WorkerEntrypoint } from "cloudflare:workers";
import type { SessionUser } from "../protocol.js";
import type { SessionCore } from "../session/core.js";
import { checkNewSessionUser, sessionApi, USER_ID, type NewSessionMeta, type NewSessionUser } from "../session/api.js";
import { SESSION_ID, type Session } from "../session/record.js";
import { StoreError } from "../store/redis.js";
import type { CreateSessionResponse, RpcSession, VerifyResponse } from "./types.js";

/** What the calls need: the read path and the lifecycle. */
export type VerifierLayer = Pick<SessionCore, "reader" | "sessions">;

/** Thrown by `layerFor` when the bindings cannot make a layer; the calls answer `misconfigured`. */
export class VerifierMisconfigured extends Error {
  override name = "VerifierMisconfigured";
}

/** The plain-data view of a session that crosses the binding (no application `data`). */
function rpcSession(s: Session): RpcSession {
  return { id: s.id, userId: s.userId, email: s.email, roles: [...s.roles], createdAt: s.createdAt, lastSeenAt: s.lastSeenAt, idleExpiresAt: s.idleExpiresAt, expiresAt: s.expiresAt, device: s.device, ip: s.ip };
}

const userOf = (s: Session): SessionUser => ({ id: s.userId, email: s.email, roles: [...s.roles] });

export abstract class SessionVerifierBase<Env = unknown> extends WorkerEntrypoint<Env> {
  /** Where this entrypoint's session layer comes from (cache it per `env`). */
  static layerFor: (env: never) => Promise<VerifierLayer>;

  async #layer(): Promise<VerifierLayer | null> {
    const layerFor = (this.constructor as typeof SessionVerifierBase).layerFor as (env: Env) => Promise<VerifierLayer>;
    try {
      return await layerFor(this.env);
    } catch (error) {
      if (error instanceof VerifierMisconfigured) return null;
      throw error;
    }
  }

  /** Verifies a session token exactly as the HTTP middleware does (MAC, cache, store). */
  async verify(token: string): Promise<VerifyResponse> {
    if (typeof token !== "string" || !token) return { ok: false, reason: "missing" };
    const layer = await this.#layer();
    if (!layer) return { ok: false, reason: "misconfigured" };
    try {
      const r = layer.reader.cached(token) ?? (await layer.reader.read(token));
      if (!r.ok) return { ok: false, reason: r.reason };
      const write = layer.sessions.touch(r.session);
      if (write) this.ctx.waitUntil(write);
      return { ok: true, session: rpcSession(r.session), user: userOf(r.session) };
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
    const layer = await this.#layer();
    if (!layer) return { ok: false, reason: "misconfigured" };
    const safeMeta: NewSessionMeta = {
      userAgent: typeof meta?.userAgent === "string" ? meta.userAgent : null,
      ip: typeof meta?.ip === "string" ? meta.ip : null,
    };
    try {
      const created = await sessionApi(layer).createSession(user, safeMeta);
      if (!created.ok) return created;
      return { ok: true, token: created.token, session: rpcSession(created.session), user: created.user };
    } catch (error) {
      if (error instanceof StoreError) return { ok: false, reason: "store_unavailable" };
      throw error;
    }
  }

  /**
   * Ends one session by its public id (the `X-Session-Id` value). True when it was live.
   * Throws (the caller's promise rejects) when the layer is misconfigured or the store is down:
   * a revocation that did not happen must never read as done.
   */
  async revoke(sessionId: string): Promise<boolean> {
    if (typeof sessionId !== "string" || !SESSION_ID.test(sessionId)) return false;
    const layer = await this.#layer();
    if (!layer) throw new Error("edge-session is misconfigured");
    return sessionApi(layer).endSession(sessionId);
  }

  /** Ends every session of a user (kill switch). Returns how many were live. Throws like `revoke`. */
  async revokeUser(userId: string): Promise<number> {
    if (typeof userId !== "string" || !USER_ID.test(userId)) return 0;
    const layer = await this.#layer();
    if (!layer) throw new Error("edge-session is misconfigured");
    return sessionApi(layer).endUserSessions(userId);
  }
}
