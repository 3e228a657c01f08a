/**
 * The session token format, pure and Hono-free.
 *
 *   v1.<kid>.<id>.<mac>
 *
 * - `kid`: the key id, 1–8 characters of [A-Za-z0-9_-];
 * - `id`: 32 random bytes from a CSPRNG (ASVS 7.2.3 / 11.5.1), base64url (43 characters);
 * - `mac`: HMAC-SHA-256 over `MAC_DOMAIN + "v1." + kid + "." + id`, base64url (43 characters).
 *
 * The whole token is at most 3 + 8 + 1 + 43 + 1 + 43 = 99 characters. Parsing checks length
 * and alphabet before decoding anything; the MAC is checked by the key ring (ASVS 9.1.1)
 * before the id is used for anything, and the verifier fixes algorithm and key (9.1.2).
 */
import { decodeBase64url, isBase64url } from "../util/base64url.js";

export const TOKEN_VERSION = "v1";
export const ID_BYTES = 32;
export const MAC_BYTES = 32;
/** base64url length of 32 bytes. */
export const ENCODED_32 = 43;
export const MAX_KID_LENGTH = 8;
export const MAX_TOKEN_LENGTH = TOKEN_VERSION.length + 1 + MAX_KID_LENGTH + 1 + ENCODED_32 + 1 + ENCODED_32;
export const MIN_TOKEN_LENGTH = TOKEN_VERSION.length + 1 + 1 + 1 + ENCODED_32 + 1 + ENCODED_32;
/** Domain separation: a MAC made for a session token is never valid for anything else. */
export const MAC_DOMAIN = "edge-session/token\0";

const KID = /^[A-Za-z0-9_-]{1,8}$/;

export function isValidKid(kid: string): boolean {
  return KID.test(kid);
}

/** A token whose shape is right; its MAC has NOT been checked yet. */
export interface ParsedToken {
  kid: string;
  /** base64url of the 32-byte id, as it appears in the token. */
  id: string;
  mac: Uint8Array;
  /** The exact bytes the MAC covers. */
  signedMessage: Uint8Array;
}

export type ParseResult = { ok: true; token: ParsedToken } | { ok: false; reason: "malformed" };

const encoder = new TextEncoder();
const MALFORMED: ParseResult = { ok: false, reason: "malformed" };

/** Strict, allocation-light parse. Never throws, whatever the input. */
export function parseToken(input: string): ParseResult {
  if (typeof input !== "string" || input.length > MAX_TOKEN_LENGTH || input.length < MIN_TOKEN_LENGTH) {
    return MALFORMED;
  }
  if (!input.startsWith(TOKEN_VERSION + ".")) return MALFORMED;
  const kidEnd = input.indexOf(".", 3);
  if (kidEnd < 0) return MALFORMED;
  const kid = input.slice(3, kidEnd);
  if (!KID.test(kid)) return MALFORMED;
  // After the kid, exactly `<43>.<43>` must remain.
  if (input.length !== kidEnd + 1 + ENCODED_32 + 1 + ENCODED_32) return MALFORMED;
  const id = input.slice(kidEnd + 1, kidEnd + 1 + ENCODED_32);
  if (input.charCodeAt(kidEnd + 1 + ENCODED_32) !== 46 /* . */) return MALFORMED;
  const mac = input.slice(kidEnd + 2 + ENCODED_32);
  if (!isBase64url(id) || !isBase64url(mac)) return MALFORMED;
  return {
    ok: true,
    token: { kid, id, mac: decodeBase64url(mac), signedMessage: signedMessage(kid, id) },
  };
}

export function signedMessage(kid: string, id: string): Uint8Array {
  return encoder.encode(`${MAC_DOMAIN}${TOKEN_VERSION}.${kid}.${id}`);
}

export function formatToken(kid: string, id: string, mac: string): string {
  return `${TOKEN_VERSION}.${kid}.${id}.${mac}`;
}
