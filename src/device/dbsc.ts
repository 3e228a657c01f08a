/**
 * Device Bound Session Credentials (W3C webappsec-dbsc draft): proof checks and the headers and
 * JSON a server sends. Pure: no Hono, no store. What a browser sends was measured against
 * Chromium (docs/DBSC-PROBE.md): the registration proof is `{alg, typ: "dbsc+jwt", jwk}` over
 * `{jti, authorization?}`; the refresh proof is `{alg, typ}` over `{jti}`. `aud` and `iat` are
 * absent unless Chromium's audience-claim feature is on, so they are checked only when present.
 */
import { type EcPublicJwk, type JwkReason, type JwsReason, type Result, jwkThumbprint, parseCompactJws, parsePublicJwk, verifyEs256 } from "./jwt-es256.js";

export type DbscReason =
  | JwsReason
  | JwkReason
  | "bad_typ"
  | "bad_alg"
  | "jwk_on_refresh"
  | "challenge_mismatch"
  | "authorization_mismatch"
  | "audience_mismatch"
  | "iat_out_of_window"
  | "bad_signature";

export interface DbscCheckOptions {
  /** The challenge this server issued (and has not yet seen used). */
  challenge: string;
  /** The registration header's `authorization` value, when one was sent. @default none */
  authorization?: string;
  /** The endpoint URL the proof was posted to; compared with `aud` when the proof has one. @default none */
  audience?: string;
  /** Seconds since the epoch. @default Date.now() / 1000 */
  now?: number;
  /** How far `iat`, when present, may stand from `now`, in seconds. @default 300 */
  iatWindowSeconds?: number;
}

export interface DbscProof {
  jwk: EcPublicJwk;
  /** RFC 7638 thumbprint of `jwk`: what a server stores to name the session's key. */
  thumbprint: string;
  claims: Record<string, unknown>;
}

/** The header value is an sf-string in the draft, a bare token from Chromium: accept both. */
function unquote(value: string): string {
  const v = value.trim();
  return v.length >= 2 && v.startsWith('"') && v.endsWith('"') ? v.slice(1, -1) : v;
}

async function checkProof(value: unknown, options: DbscCheckOptions, storedKey: EcPublicJwk | null): Promise<Result<DbscProof, DbscReason>> {
  const jws = parseCompactJws(typeof value === "string" ? unquote(value) : value);
  if (!jws.ok) return jws;
  const { header, payload } = jws;
  if (header.typ !== "dbsc+jwt") return { ok: false, reason: "bad_typ" };
  // ES256 only: `none` would prove nothing, and accepting HS256 would let a client "sign"
  // with the public key as an HMAC secret (algorithm confusion).
  if (header.alg !== "ES256") return { ok: false, reason: "bad_alg" };
  let jwk: EcPublicJwk;
  if (storedKey) {
    // A refresh must verify against the key bound at registration; a key in the proof
    // would let whoever holds the cookie substitute their own.
    if ("jwk" in header) return { ok: false, reason: "jwk_on_refresh" };
    jwk = storedKey;
  } else {
    const parsed = parsePublicJwk(header.jwk);
    if (!parsed.ok) return parsed;
    jwk = parsed.jwk;
  }
  if (typeof payload.jti !== "string" || payload.jti !== options.challenge) return { ok: false, reason: "challenge_mismatch" };
  if (options.authorization !== undefined && payload.authorization !== options.authorization) return { ok: false, reason: "authorization_mismatch" };
  if ("aud" in payload && options.audience !== undefined && payload.aud !== options.audience) return { ok: false, reason: "audience_mismatch" };
  if ("iat" in payload) {
    // The draft's own example writes iat as a string; Chromium wrote a number.
    const iat = typeof payload.iat === "string" ? Number(payload.iat) : payload.iat;
    const now = options.now ?? Date.now() / 1000;
    const window = options.iatWindowSeconds ?? 300;
    if (typeof iat !== "number" || !Number.isFinite(iat) || Math.abs(now - iat) > window) return { ok: false, reason: "iat_out_of_window" };
  }
  if (!(await verifyEs256(jws, jwk))) return { ok: false, reason: "bad_signature" };
  return { ok: true, jwk, thumbprint: await jwkThumbprint(jwk), claims: payload };
}

/** Checks the `Secure-Session-Response` of a registration request: the key comes from the proof. */
export function verifyDbscRegistration(proof: unknown, options: DbscCheckOptions): Promise<Result<DbscProof, DbscReason>> {
  return checkProof(proof, options, null);
}

/** Checks the `Secure-Session-Response` of a refresh request against the session's stored key. */
export function verifyDbscRefresh(proof: unknown, key: EcPublicJwk, options: DbscCheckOptions): Promise<Result<DbscProof, DbscReason>> {
  return checkProof(proof, options, key);
}

/** An RFC 9651 sf-string: printable ASCII only, with `"` and `\` escaped. */
export function sfString(value: string): string {
  if (!/^[\x20-\x7e]*$/.test(value)) throw new RangeError("sf-string values must be printable ASCII");
  return `"${value.replace(/[\\"]/g, (c) => `\\${c}`)}"`;
}

export interface RegistrationHeaderOptions {
  /** Registration endpoint, relative to the response's URL or absolute (same site). */
  path: string;
  challenge: string;
  /** Copied by the browser into the proof and the registration request's `Authorization`. @default none */
  authorization?: string;
  /** Offered algorithms; Chromium's software keys sign ES256 only. @default ["ES256"] */
  algorithms?: ("ES256" | "RS256")[];
}

/** `Secure-Session-Registration: (ES256);path="…";challenge="…"` */
export function registrationHeader(o: RegistrationHeaderOptions): string {
  const algs = (o.algorithms ?? ["ES256"]).join(" ");
  const auth = o.authorization !== undefined ? `;authorization=${sfString(o.authorization)}` : "";
  return `(${algs});path=${sfString(o.path)};challenge=${sfString(o.challenge)}${auth}`;
}

/** `Secure-Session-Challenge: "…";id="…"`: on a 403 to a refresh, or ahead of time on any response. */
export function challengeHeader(challenge: string, sessionId: string): string {
  return `${sfString(challenge)};id=${sfString(sessionId)}`;
}

/** Reads `Sec-Secure-Session-Id` (an sf-string; parameters ignored, as the draft says). */
export function parseSessionIdHeader(value: string | null): string | null {
  if (value === null) return null;
  const m = /^\s*"((?:[^"\\]|\\[\\"])*)"/.exec(value);
  const id = m ? m[1]!.replace(/\\(.)/g, "$1") : value.trim();
  return id.length > 0 && id.length <= 256 && /^[\x20-\x7e]+$/.test(id) ? id : null;
}

export interface ScopeRule {
  type: "include" | "exclude";
  domain?: string;
  path?: string;
}

export interface SessionConfigOptions {
  sessionId: string;
  /** @default the URL the config is served from */
  refreshUrl?: string;
  /** @default the origin of the URL the config is served from */
  origin?: string;
  /** Site-wide scope; only allowed when the origin's host is the registrable domain. @default false */
  includeSite?: boolean;
  /** @default [] */
  scopeRules?: ScopeRule[];
  /** The bound cookies, with the attributes the server sets them with (Max-Age aside). */
  credentials: { name: string; attributes: string }[];
  /** @default [] */
  allowedRefreshInitiators?: string[];
}

/** The session instructions JSON answered to a registration (and optionally a refresh). */
export function sessionConfig(o: SessionConfigOptions): Record<string, unknown> {
  const scope: Record<string, unknown> = { include_site: o.includeSite ?? false, scope_specification: o.scopeRules ?? [] };
  if (o.origin !== undefined) scope.origin = o.origin;
  const config: Record<string, unknown> = {
    session_identifier: o.sessionId,
    scope,
    credentials: o.credentials.map((c) => ({ type: "cookie", name: c.name, attributes: c.attributes })),
    allowed_refresh_initiators: o.allowedRefreshInitiators ?? [],
  };
  if (o.refreshUrl !== undefined) config.refresh_url = o.refreshUrl;
  return config;
}

/** The answer that ends a session: the browser drops its key and stops refreshing. */
export function endSessionConfig(): { continue: false } {
  return { continue: false };
}
