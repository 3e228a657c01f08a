/**
 * A DBSC client written from the draft (webappsec-dbsc) and from what Chromium 150 was measured
 * to send (docs/DBSC-PROBE.md), with a real ES256 key: it reads `Secure-Session-Registration`,
 * posts the registration proof `{typ: "dbsc+jwt", alg: "ES256", jwk}.{jti, authorization?}`,
 * keeps the session's cookie, and refreshes as Chromium does (a bare POST answered 403 with
 * `Secure-Session-Challenge`, then the proof `{typ, alg}.{jti}`), reusing a challenge a
 * response attached ahead of time. No part of the server's code is used to build requests.
 */
import { newKey, signJws, type TestKey } from "./device-keys.js";

export type Fetch = (request: Request) => Promise<Response>;

/** `(ES256);path="/x";challenge="c"` → its parameters (sf-list, one inner list, as the draft says). */
export function parseRegistration(value: string | null): { algorithms: string[]; path: string; challenge: string; authorization?: string } | null {
  if (!value) return null;
  const m = /^\(([^)]*)\)((?:;[a-z_]+="(?:[^"\\]|\\.)*")*)$/.exec(value.trim());
  if (!m) return null;
  const params: Record<string, string> = {};
  for (const p of m[2]!.matchAll(/;([a-z_]+)="((?:[^"\\]|\\.)*)"/g)) params[p[1]!] = p[2]!.replace(/\\(.)/g, "$1");
  if (!params.path || !params.challenge) return null;
  return { algorithms: m[1]!.trim().split(/\s+/), path: params.path, challenge: params.challenge, ...(params.authorization ? { authorization: params.authorization } : {}) };
}

/** `"c";id="s"` → the challenge and the session it is for. */
export function parseChallenge(value: string | null): { challenge: string; id: string } | null {
  const m = value ? /^"((?:[^"\\]|\\.)*)";id="((?:[^"\\]|\\.)*)"$/.exec(value.trim()) : null;
  return m ? { challenge: m[1]!, id: m[2]! } : null;
}

export interface DbscSession {
  key: TestKey;
  sessionId: string;
  refreshUrl: string;
  cookieName: string;
  /** The bound cookie as last set. */
  cookie: string;
  /** When it stops being sent (from Max-Age). */
  cookieExpiresAt: number;
  /** A challenge attached ahead of time by the last response, if any. */
  nextChallenge: string | null;
  /** Every signed refresh proof sent, in order (for replay tests). */
  proofs: string[];
}

function cookieFrom(res: Response, name: string): { value: string; maxAge: number } | null {
  for (const raw of (res.headers as unknown as { getSetCookie(): string[] }).getSetCookie()) {
    const [pair, ...attrs] = raw.split(";").map((s) => s.trim());
    if (!pair!.startsWith(`${name}=`)) continue;
    const maxAge = attrs.find((a) => a.toLowerCase().startsWith("max-age="));
    return { value: pair!.slice(name.length + 1), maxAge: maxAge ? Number(maxAge.slice(8)) : Infinity };
  }
  return null;
}

/**
 * Registers after a login response that offered DBSC. `cookie` is what the browser would send
 * (the long-lived session cookie). Throws with the server's answer when registration fails.
 */
export async function register(fetch: Fetch, base: string, loginResponse: Response, cookie: string, key?: TestKey): Promise<DbscSession> {
  const offer = parseRegistration(loginResponse.headers.get("Secure-Session-Registration"));
  if (!offer) throw new Error("the login offered no DBSC registration");
  if (!offer.algorithms.includes("ES256")) throw new Error(`no ES256 among ${offer.algorithms.join(" ")}`);
  const k = key ?? (await newKey());
  const proof = await signJws(k.privateKey, { alg: "ES256", typ: "dbsc+jwt", jwk: k.publicJwk }, { jti: offer.challenge, ...(offer.authorization ? { authorization: offer.authorization } : {}) });
  const res = await fetch(new Request(new URL(offer.path, base), { method: "POST", headers: { Cookie: cookie, "Secure-Session-Response": proof } }));
  if (res.status !== 200) throw new Error(`registration answered ${res.status}: ${await res.text()}`);
  const config = (await res.json()) as { session_identifier: string; refresh_url?: string; credentials: { type: string; name: string }[] };
  const name = config.credentials[0]!.name;
  const set = cookieFrom(res, name);
  if (!set) throw new Error("registration set no bound cookie");
  return {
    key: k,
    sessionId: config.session_identifier,
    refreshUrl: new URL(config.refresh_url ?? offer.path, base).href,
    cookieName: name,
    cookie: set.value,
    cookieExpiresAt: Date.now() + set.maxAge * 1000,
    nextChallenge: parseChallenge(res.headers.get("Secure-Session-Challenge"))?.challenge ?? null,
    proofs: [],
  };
}

/** Signs a refresh proof for `challenge` with the session's key (as Chromium does: no jwk). */
export function refreshProof(s: DbscSession, challenge: string): Promise<string> {
  return signJws(s.key.privateKey, { alg: "ES256", typ: "dbsc+jwt" }, { jti: challenge });
}

/**
 * One refresh, as the draft describes it: with a challenge held, the proof at once; on 403, the
 * challenge from the answer and one more try. Returns the final response (200 updates `s`).
 */
export async function refresh(fetch: Fetch, s: DbscSession): Promise<Response> {
  const post = (proof?: string) =>
    fetch(new Request(s.refreshUrl, { method: "POST", headers: { "Sec-Secure-Session-Id": `"${s.sessionId}"`, ...(proof ? { "Secure-Session-Response": proof } : {}) } }));
  let res: Response;
  if (s.nextChallenge) {
    const proof = await refreshProof(s, s.nextChallenge);
    s.proofs.push(proof);
    res = await post(proof);
  } else res = await post();
  if (res.status === 403) {
    const c = parseChallenge(res.headers.get("Secure-Session-Challenge"));
    if (!c || c.id !== s.sessionId) throw new Error("a 403 without a challenge for this session");
    const proof = await refreshProof(s, c.challenge);
    s.proofs.push(proof);
    res = await post(proof);
  }
  if (res.status === 200) {
    const set = cookieFrom(res, s.cookieName);
    if (!set) throw new Error("a refresh answered 200 without the bound cookie");
    s.cookie = set.value;
    s.cookieExpiresAt = Date.now() + set.maxAge * 1000;
    s.nextChallenge = parseChallenge(res.headers.get("Secure-Session-Challenge"))?.challenge ?? null;
  }
  return res;
}
