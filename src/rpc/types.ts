/**
 * What the `SessionVerifier` RPC entrypoint answers. Plain data only: a result crosses the
 * service binding by structured clone, and `Service<SessionVerifier>` in the calling worker
 * keeps a branch of a result's union only if every field in it is serialisable (an
 * `unknown`-valued record is not, and would silently drop the success branch). No Workers
 * types here, so a caller's types need nothing beyond this file and protocol.ts.
 */
import type { RpcCreateRefusalReason, RpcRefusalReason, SessionUser } from "../protocol.js";
import type { Session } from "../session/record.js";

/**
 * A session as RPC gives it: the stored session without its application `data` (a
 * `Record<string, unknown>` is not RPC-serialisable, and `Service<SessionVerifier>` would drop
 * the whole success branch from the caller's types). Times in ms since the epoch.
 */
export type RpcSession = Omit<Session, "data">;

export type VerifyResponse = { ok: true; session: RpcSession; user: SessionUser } | { ok: false; reason: RpcRefusalReason };

export type CreateSessionResponse = { ok: true; token: string; session: RpcSession; user: SessionUser } | { ok: false; reason: RpcCreateRefusalReason };
