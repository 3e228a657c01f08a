/**
 * Logout both ways. RP-initiated (OpenID Connect RP-Initiated Logout 1.0): the app ends the edge
 * session and sends the browser to the provider's `end_session_endpoint` with the ID token kept
 * in the session's data as `id_token_hint`. Back-channel (OpenID Connect Back-Channel Logout
 * 1.0): the provider POSTs a signed logout token; once verified — issuer, audience, issue time,
 * the logout event, `sid` and/or `sub`, no `nonce`, and a `jti` never seen before (SET NX with
 * a TTL in the store) — the edge sessions signed in under that provider session or subject end
 * through the session API. Sign-in records which edge sessions belong to which `sid` and `sub`.
 */
import type { SessionApi } from "../session/api.js";
import type { RedisStore, StoreScript } from "../store/redis.js";
import { encodeBase64url } from "../util/base64url.js";
import { checkIssuer, type TenantOptions } from "./discovery.js";
import { failed } from "./errors.js";
import { verifyJws, type JwksOptions } from "./jwks.js";

export const BACKCHANNEL_LOGOUT_EVENT = "http://schemas.openid.net/event/backchannel-logout";

/** Adds a session id to each set in KEYS; a set lives as long as its longest-lived session. */
const INDEX_SESSION: StoreScript = {
  name: "oidc_index_session",
  source: `for i, key in ipairs(KEYS) do
  redis.call('SADD', key, ARGV[1])
  if redis.call('PTTL', key) < tonumber(ARGV[2]) then redis.call('PEXPIRE', key, ARGV[2]) end
end
return 1`,
};

/** Reads and deletes a set of session ids in one step: a second logout for the same key finds nothing. */
const TAKE_SESSIONS: StoreScript = {
  name: "oidc_take_sessions",
  source: `local ids = redis.call('SMEMBERS', KEYS[1])
redis.call('DEL', KEYS[1])
return ids`,
};

async function hashed(...parts: string[]): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(parts.join("\0")));
  return encodeBase64url(new Uint8Array(digest, 0, 18));
}

export interface LogoutIndex {
  store: RedisStore;
  /** Key prefix for the index and the replay guard. */
  prefix: string;
}

/** Records that `sessionId` was signed in under the provider session `sid` and subject `sub` of `iss`. */
export async function indexSession(ix: LogoutIndex, who: { iss: string; sub: string; sid?: string }, sessionId: string, ttlMs: number): Promise<void> {
  const keys = [`${ix.prefix}sub:${await hashed(who.iss, who.sub)}`];
  if (who.sid) keys.push(`${ix.prefix}sid:${await hashed(who.iss, who.sid)}`);
  await ix.store.run(INDEX_SESSION, keys, [sessionId, Math.max(1000, Math.ceil(ttlMs))]);
}

export interface LogoutTokenClaims {
  iss: string;
  sub?: string;
  sid?: string;
  jti: string;
  iat: number;
}

export interface LogoutTokenExpectations {
  issuer: string;
  tenants?: TenantOptions;
  clientId: string;
  /** @default 60 */
  leewaySeconds?: number;
  /** Oldest logout token accepted (and how long its `jti` is remembered). @default 300 */
  maxAgeSeconds?: number;
  now?: number;
}

/** Verifies a logout token's signature and claims (Back-Channel Logout §2.6). Throws `OidcError` (`sso_failed`). */
export async function verifyLogoutToken(token: unknown, keys: JwksOptions, e: LogoutTokenExpectations): Promise<LogoutTokenClaims> {
  const jws = await verifyJws(token, keys);
  const typ = jws.header.typ;
  if (typ !== undefined && typ !== "logout+jwt" && typ !== "application/logout+jwt" && !/^(jwt|application\/jwt)$/i.test(String(typ))) {
    throw failed("wrong_typ", { expected: "logout+jwt", got: typ });
  }
  const c = jws.payload;
  const leeway = e.leewaySeconds ?? 60;
  const maxAge = e.maxAgeSeconds ?? 300;
  const now = (e.now ?? Date.now()) / 1000;
  checkIssuer(c.iss, e.issuer, e.tenants, c.tid);
  const aud = Array.isArray(c.aud) ? c.aud : [c.aud];
  if (!aud.includes(e.clientId)) throw failed("wrong_audience", { expected: e.clientId, got: c.aud });
  if (typeof c.iat !== "number" || !Number.isFinite(c.iat)) throw failed("iat_missing", { got: c.iat });
  if (c.iat - leeway > now) throw failed("iat_in_future", { expected: `iat <= ${Math.floor(now + leeway)}`, got: c.iat });
  if (c.iat + maxAge + leeway < now) throw failed("logout_token_too_old", { expected: `iat >= ${Math.floor(now - maxAge - leeway)}`, got: c.iat });
  if (c.exp !== undefined && (typeof c.exp !== "number" || c.exp + leeway <= now)) throw failed("logout_token_expired", { got: c.exp });
  const events = c.events as Record<string, unknown> | undefined;
  const event = events && typeof events === "object" ? events[BACKCHANNEL_LOGOUT_EVENT] : undefined;
  if (typeof event !== "object" || event === null || Array.isArray(event)) throw failed("logout_event_missing", { expected: BACKCHANNEL_LOGOUT_EVENT, got: events && typeof events === "object" ? Object.keys(events) : events });
  // A nonce marks an ID token: one must never be accepted as a logout token.
  if (c.nonce !== undefined) throw failed("nonce_in_logout_token");
  if (typeof c.jti !== "string" || c.jti.length === 0 || c.jti.length > 256) throw failed("jti_missing", { got: typeof c.jti });
  const sub = typeof c.sub === "string" && c.sub !== "" ? c.sub : undefined;
  const sid = typeof c.sid === "string" && c.sid !== "" ? c.sid : undefined;
  if (!sub && !sid) throw failed("sid_and_sub_missing");
  return { iss: c.iss as string, jti: c.jti, iat: c.iat, ...(sub ? { sub } : {}), ...(sid ? { sid } : {}) };
}

/**
 * Spends the token's `jti` (SET NX, remembered as long as the token could still be accepted)
 * and ends the matching edge sessions: those of the provider session `sid` when the token names
 * one, otherwise every one of the subject. Returns how many were live.
 */
export async function applyLogoutToken(ix: LogoutIndex, sessions: Pick<SessionApi, "endSession">, t: LogoutTokenClaims, rememberMs: number): Promise<number> {
  const fresh = await ix.store.set(`${ix.prefix}jti:${await hashed(t.iss, t.jti)}`, "1", { nx: true, px: rememberMs });
  if (!fresh) throw failed("logout_token_replayed", { got: "a jti already used" });
  const key = t.sid ? `${ix.prefix}sid:${await hashed(t.iss, t.sid)}` : `${ix.prefix}sub:${await hashed(t.iss, t.sub!)}`;
  const ids = await ix.store.run<string[]>(TAKE_SESSIONS, [key], []);
  let ended = 0;
  for (const id of Array.isArray(ids) ? ids : []) if (await sessions.endSession(String(id))) ended++;
  return ended;
}

/** The provider's end-session URL for RP-initiated logout. */
export function endSessionUrl(endSessionEndpoint: string, o: { idTokenHint?: string; clientId: string; postLogoutRedirectUri?: string; state?: string }): string {
  const url = new URL(endSessionEndpoint);
  if (o.idTokenHint) url.searchParams.set("id_token_hint", o.idTokenHint);
  url.searchParams.set("client_id", o.clientId);
  if (o.postLogoutRedirectUri) url.searchParams.set("post_logout_redirect_uri", o.postLogoutRedirectUri);
  if (o.state) url.searchParams.set("state", o.state);
  return url.href;
}

