/**
 * Device Bound Session Credentials for cookie sessions (issue 24; W3C webappsec-dbsc draft, wire
 * as Chromium sends it: docs/DBSC-PROBE.md).
 *
 * 1. A cookie login answers `Secure-Session-Registration` with a challenge MACed for that session.
 * 2. `POST /auth/dbsc/register` (the long-lived cookie + the browser's ES256 proof): the public
 *    key is bound into the session record once, and the long-lived cookie is replaced by a bound
 *    cookie (`b1.…`, minutes) that names the session, not its token.
 * 3. `POST /auth/dbsc/refresh` (`Sec-Secure-Session-Id`): without a proof, 403 and a challenge
 *    (no store command); with one, a single store command reads the record and spends the
 *    challenge (a reused proof gets 403 and a new challenge), then the signature is checked
 *    against the stored key and a new bound cookie is set, with the next challenge attached.
 *
 * A revoked session fails the refresh at once (401, `continue: false`: the browser ends its
 * DBSC session); a bound cookie already out lives until the earlier of its `Max-Age` and the
 * edge cache's TTL after the revocation.
 */
import { Hono, type Context } from "hono";
import { challengeHeader, parseSessionIdHeader, registrationHeader, sessionConfig, verifyDbscRefresh, verifyDbscRegistration } from "../../device/dbsc.js";
import type { ChallengePurpose } from "../../device/device-secrets.js";
import { parseCompactJws } from "../../device/jwt-es256.js";
import { readSessionCookie, SESSION_COOKIE, type SessionCookieOptions } from "../../cookie/session-cookie.js";
import { clearedSessionCookie } from "../../cookie/session-cookie.js";
import { refusalResponse } from "../../http/responses.js";
import { decodeRecord, SESSION_ID, type Session } from "../../session/record.js";
import { DBSC_REFRESH } from "../../store/device-scripts.js";
import type { AppEnv, Deps } from "../deps.js";

export const DBSC_REGISTER_PATH = "/auth/dbsc/register";
export const DBSC_REFRESH_PATH = "/auth/dbsc/refresh";
/** How long a challenge may wait for its proof: the browser answers within a second or so. */
export const DBSC_CHALLENGE_MAX_AGE_MS = 5 * 60_000;

/** The `Secure-Session-Registration` value a cookie login carries. */
export async function registrationOffer(deps: Pick<Deps, "device">, sessionId: string): Promise<string> {
  return registrationHeader({ path: DBSC_REGISTER_PATH, challenge: await deps.device.challenge(sessionId, "register") });
}

function cookieAttributes(o: SessionCookieOptions): string {
  return `Path=/; Secure; HttpOnly; SameSite=${o.sameSite ?? "Lax"}`;
}

/** A DBSC proof's header value: an sf-string in the draft, a bare JWS from Chromium. */
function proofOf(c: Context): string | null {
  const v = c.req.header("Secure-Session-Response")?.trim();
  if (!v) return null;
  return v.length >= 2 && v.startsWith('"') && v.endsWith('"') ? v.slice(1, -1) : v;
}

/** The challenge a proof answers (its `jti`), read before anything is trusted. */
function jtiOf(proof: string): string | null {
  const jws = parseCompactJws(proof);
  return jws.ok && typeof jws.payload.jti === "string" ? jws.payload.jti : null;
}

const refused = (reason: string, status: 400 | 409 = 400) => Response.json({ error: "dbsc_refused", reason }, { status, headers: { "Cache-Control": "no-store" } });

export function dbscRoutes(deps: Deps) {
  const { config, device, store, keys, sessions, reader } = deps;
  const attributes = cookieAttributes(config.cookie);

  /** 403 with a fresh challenge: what the draft answers a refresh without a usable proof. */
  async function challenge(sessionId: string, purpose: ChallengePurpose = "refresh"): Promise<Response> {
    const fresh = await device.challenge(sessionId, purpose);
    return new Response(null, { status: 403, headers: { "Secure-Session-Challenge": challengeHeader(fresh, sessionId), "Cache-Control": "no-store" } });
  }

  /** The bound cookie, the next refresh's challenge and the session's instructions. */
  async function bound(c: Context, session: Session): Promise<Response> {
    const now = deps.now();
    const expiresAt = Math.min(now + config.dbsc.cookieTtlMs, session.expiresAt);
    const value = await device.boundCookie(session.id, expiresAt);
    const maxAge = Math.max(0, Math.floor((expiresAt - now) / 1000));
    const origin = new URL(c.req.url).origin;
    const body = sessionConfig({
      sessionId: session.id,
      refreshUrl: DBSC_REFRESH_PATH,
      origin,
      credentials: [{ name: SESSION_COOKIE, attributes }],
    });
    return Response.json(body, {
      headers: {
        "Set-Cookie": `${SESSION_COOKIE}=${value}; Max-Age=${maxAge}; ${attributes}`,
        // Attached ahead of time: the next refresh needs no 403 round, and never reuses a proof.
        "Secure-Session-Challenge": challengeHeader(await device.challenge(session.id, "refresh"), session.id),
        "Cache-Control": "no-store",
      },
    });
  }

  /** The session is gone: the browser drops the cookie and, on a 4xx, its DBSC session. */
  function ended(reason: "revoked" | "expired"): Response {
    const res = refusalResponse({ status: 401, reason, setCookie: clearedSessionCookie(config.cookie) });
    return new Response(JSON.stringify({ error: "unauthorized", reason, continue: false }), { status: 401, headers: res.headers });
  }

  return new Hono<AppEnv>()
    .post("/register", async (c) => {
      if (!config.dbsc.enabled) return refused("disabled");
      // The long-lived cookie authenticates the registration; the proof is not ambient (a page
      // cannot make the browser sign a challenge), so no CSRF header is asked for here.
      const found = readSessionCookie(c.req.header("Cookie"));
      if (!("token" in found)) return refusalResponse({ status: 401, reason: found.reason });
      const read = await reader.read(found.token, true);
      if (!read.ok) return refusalResponse({ status: 401, reason: read.reason });
      const proof = proofOf(c);
      const jti = proof === null ? null : jtiOf(proof);
      if (proof === null || jti === null) return refused("proof_missing");
      const fresh = await device.checkChallenge(jti, read.session.id, "register", DBSC_CHALLENGE_MAX_AGE_MS);
      if (!fresh.ok) return refused(fresh.reason);
      const checked = await verifyDbscRegistration(proof, { challenge: jti, audience: c.req.url, now: deps.now() / 1000 });
      if (!checked.ok) return refused(checked.reason);
      const result = await sessions.bind(read.session.id, { kind: "dbsc", key: checked.jwk });
      if (!result.ok) {
        if (result.reason === "revoked") return ended("revoked");
        return refused(result.reason, 409);
      }
      return bound(c, result.session);
    })
    .post("/refresh", async (c) => {
      if (!config.dbsc.enabled) return refused("disabled");
      const sessionId = parseSessionIdHeader(c.req.header("Sec-Secure-Session-Id") ?? null);
      if (sessionId === null || !SESSION_ID.test(sessionId)) return refused("session_id");
      const proof = proofOf(c);
      if (proof === null) return challenge(sessionId);
      const jti = jtiOf(proof);
      // A stale or foreign challenge is answered with a new one, not an end: the browser retries.
      const fresh = jti === null ? null : await device.checkChallenge(jti, sessionId, "refresh", DBSC_CHALLENGE_MAX_AGE_MS);
      if (!fresh?.ok) return challenge(sessionId);
      const nonce = jti!.split(".")[2]!;
      const reply = await store.run<(number | string)[]>(DBSC_REFRESH, [keys.session(sessionId), keys.usedChallenge(nonce)], [DBSC_CHALLENGE_MAX_AGE_MS + 10_000]);
      if (Number(reply[0]) === 0) return ended("revoked");
      // The finding in docs/DBSC-PROBE.md: a proof seen before refreshes nothing.
      if (Number(reply[0]) === 2) return challenge(sessionId);
      const session = decodeRecord(sessionId, String(reply[1]));
      if (!session || session.bound?.kind !== "dbsc") return ended("revoked");
      if (reader.expired(session)) return ended("expired");
      const checked = await verifyDbscRefresh(proof, session.bound.key, { challenge: jti!, audience: c.req.url, now: deps.now() / 1000 });
      if (!checked.ok) return refused(checked.reason);
      return bound(c, session);
    });
}
