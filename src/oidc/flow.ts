/**
 * The state of one sign-in between the redirect to the provider and the callback: `state`, the
 * PKCE verifier, the `nonce` and the `max_age` asked, in a short-lived HttpOnly `__Host-` cookie
 * named per provider, so that sign-ins at two providers in two popups do not overwrite each other.
 */
import { decodeBase64url, encodeBase64url, isBase64url } from "../util/base64url.js";

export interface Flow {
  state: string;
  verifier: string;
  nonce: string;
  maxAge?: number;
}

export const flowCookieName = (providerId: string) => `__Host-edge-session-oidc-${providerId}`;

const random = () => encodeBase64url(crypto.getRandomValues(new Uint8Array(32)));

export async function newFlow(maxAge?: number): Promise<Flow & { challenge: string }> {
  const verifier = random();
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(verifier));
  return { state: random(), verifier, nonce: random(), ...(maxAge !== undefined ? { maxAge } : {}), challenge: encodeBase64url(new Uint8Array(digest)) };
}

export function encodeFlow(f: Flow): string {
  return encodeBase64url(new TextEncoder().encode(JSON.stringify([f.state, f.verifier, f.nonce, f.maxAge ?? null])));
}

const PART = /^[A-Za-z0-9_-]{43}$/;

/** The flow in a cookie value, or null for anything else (absent, truncated, forged shape). */
export function decodeFlow(value: string | undefined): Flow | null {
  if (!value || value.length > 400 || !isBase64url(value)) return null;
  try {
    const [state, verifier, nonce, maxAge] = JSON.parse(new TextDecoder().decode(decodeBase64url(value))) as unknown[];
    if (typeof state !== "string" || typeof verifier !== "string" || typeof nonce !== "string") return null;
    if (!PART.test(state) || !PART.test(verifier) || !PART.test(nonce)) return null;
    if (maxAge !== null && (typeof maxAge !== "number" || !Number.isInteger(maxAge) || maxAge < 0)) return null;
    return { state, verifier, nonce, ...(typeof maxAge === "number" ? { maxAge } : {}) };
  } catch {
    return null;
  }
}
