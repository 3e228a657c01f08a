/**
 * The key ring: `SESSION_KEYS` = comma-separated `kid:key` entries, each key base64url of at
 * least 32 random bytes. The first key signs; every key verifies; removing a key retires every
 * token it signed. Pure WebCrypto, no Hono.
 */
import { decodeBase64url, encodeBase64url, isBase64url, randomBytes } from "../util/base64url.js";
import { formatToken, ID_BYTES, isValidKid, MAC_BYTES, parseToken } from "./codec.js";
import { signedMessage } from "./codec.js";

export const MIN_KEY_BYTES = 32;

export interface KeyRing {
  /** The kid that signs new tokens. */
  readonly signerKid: string;
  /** Every kid that verifies, signer first. */
  readonly kids: readonly string[];
  /** Issues a new token over a fresh 256-bit id. */
  issue(): Promise<{ token: string; id: string }>;
  /** Checks a token's shape and MAC. Never throws on bad input. */
  verify(token: string): Promise<VerifyResult>;
}

export type VerifyFailure = "malformed" | "unknown_key" | "bad_signature";
export type VerifyResult = { ok: true; kid: string; id: string } | { ok: false; reason: VerifyFailure };

export type KeyRingParse =
  | { ok: true; entries: { kid: string; key: Uint8Array }[] }
  | { ok: false; problems: string[] };

/** Parses `SESSION_KEYS` and names every problem at once (never echoes key material). */
export function parseKeyRing(value: string | undefined): KeyRingParse {
  const problems: string[] = [];
  if (!value || !value.trim()) return { ok: false, problems: ["SESSION_KEYS is missing (expected kid:key[,kid:key…], each key 32 random bytes in base64url: `generateKeyEntry('k1')` from edge-session makes one)"] };
  const entries: { kid: string; key: Uint8Array }[] = [];
  const seen = new Set<string>();
  value.split(",").forEach((raw, i) => {
    const entry = raw.trim();
    const colon = entry.indexOf(":");
    if (colon < 0) {
      problems.push(`SESSION_KEYS entry ${i + 1} is not kid:key`);
      return;
    }
    const kid = entry.slice(0, colon);
    const key = entry.slice(colon + 1);
    if (!isValidKid(kid)) problems.push(`SESSION_KEYS entry ${i + 1}: key id must be 1-8 characters of [A-Za-z0-9_-]`);
    else if (seen.has(kid)) problems.push(`SESSION_KEYS entry ${i + 1}: duplicate key id "${kid}"`);
    seen.add(kid);
    if (!isBase64url(key)) {
      problems.push(`SESSION_KEYS entry ${i + 1} (${kid}): key is not unpadded base64url`);
      return;
    }
    const bytes = decodeBase64url(key);
    if (bytes.length < MIN_KEY_BYTES) {
      problems.push(`SESSION_KEYS entry ${i + 1} (${kid}): key is ${bytes.length} bytes, at least ${MIN_KEY_BYTES} required`);
      return;
    }
    entries.push({ kid, key: bytes });
  });
  return problems.length ? { ok: false, problems } : { ok: true, entries };
}

/** A new random key entry, as `npm run keys:generate` prints it. */
export function generateKeyEntry(kid: string): string {
  return `${kid}:${encodeBase64url(randomBytes(MIN_KEY_BYTES))}`;
}

export async function createKeyRing(entries: { kid: string; key: Uint8Array }[]): Promise<KeyRing> {
  if (entries.length === 0) throw new Error("key ring needs at least one key");
  const keys = new Map<string, CryptoKey>();
  for (const { kid, key } of entries) {
    keys.set(kid, await crypto.subtle.importKey("raw", key, { name: "HMAC", hash: "SHA-256" }, false, ["sign", "verify"]));
  }
  const signerKid = entries[0]!.kid;
  const signer = keys.get(signerKid)!;
  return {
    signerKid,
    kids: entries.map((e) => e.kid),
    async issue() {
      const id = encodeBase64url(randomBytes(ID_BYTES));
      const mac = new Uint8Array(await crypto.subtle.sign("HMAC", signer, signedMessage(signerKid, id)));
      return { token: formatToken(signerKid, id, encodeBase64url(mac)), id };
    },
    async verify(token) {
      const parsed = parseToken(token);
      if (!parsed.ok) return parsed;
      const { kid, id, mac, signedMessage: message } = parsed.token;
      const key = keys.get(kid);
      if (!key) return { ok: false, reason: "unknown_key" };
      if (mac.length !== MAC_BYTES) return { ok: false, reason: "bad_signature" };
      // crypto.subtle.verify compares in constant time.
      const valid = await crypto.subtle.verify("HMAC", key, mac, message);
      return valid ? { ok: true, kid, id } : { ok: false, reason: "bad_signature" };
    },
  };
}
