/**
 * Compact JWS with ES256 (ECDSA P-256 + SHA-256), verified with WebCrypto: the one signature
 * both DBSC proofs (Chromium's software and TPM keys sign ES256) and DPoP proofs use here.
 * Pure apart from WebCrypto; every failure is data (`{ ok: false, reason }`), never a throw,
 * so a caller can answer a precise 4xx instead of a 500.
 */
import { decodeBase64url, encodeBase64url, isBase64url } from "../util/base64url.js";

/** A public P-256 key as a JWK, reduced to the members RFC 7638 hashes. */
export interface EcPublicJwk {
  kty: "EC";
  crv: "P-256";
  x: string;
  y: string;
}

export interface ParsedJws {
  header: Record<string, unknown>;
  payload: Record<string, unknown>;
  /** `base64url(header) "." base64url(payload)`: the bytes the signature covers. */
  signingInput: string;
  signature: Uint8Array;
}

export type JwsReason = "malformed" | "too_large" | "bad_json";
export type JwkReason = "jwk_missing" | "jwk_not_ec_p256" | "jwk_private" | "jwk_bad_coordinates";
export type Result<T, R extends string> = ({ ok: true } & T) | { ok: false; reason: R };

/** A proof is a few hundred bytes; a generous cap keeps parsing cheap for hostile input. */
export const DEFAULT_MAX_JWS_LENGTH = 8192;

const decoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: false });

function parseJsonObject(part: string): Record<string, unknown> | null {
  try {
    const value: unknown = JSON.parse(decoder.decode(decodeBase64url(part)));
    return value !== null && typeof value === "object" && !Array.isArray(value) ? (value as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

/**
 * Splits and decodes a compact JWS without trusting any of it yet.
 * @param maxLength longest accepted token, in characters. @default DEFAULT_MAX_JWS_LENGTH
 */
export function parseCompactJws(token: unknown, maxLength = DEFAULT_MAX_JWS_LENGTH): Result<ParsedJws, JwsReason> {
  if (typeof token !== "string") return { ok: false, reason: "malformed" };
  if (token.length > maxLength) return { ok: false, reason: "too_large" };
  const parts = token.split(".");
  if (parts.length !== 3) return { ok: false, reason: "malformed" };
  const [h, p, s] = parts as [string, string, string];
  if (!isBase64url(h) || !isBase64url(p) || !isBase64url(s)) return { ok: false, reason: "malformed" };
  const header = parseJsonObject(h);
  const payload = parseJsonObject(p);
  if (!header || !payload) return { ok: false, reason: "bad_json" };
  return { ok: true, header, payload, signingInput: `${h}.${p}`, signature: decodeBase64url(s) };
}

/** 32 bytes of base64url: one P-256 coordinate. */
function isCoordinate(v: unknown): v is string {
  return typeof v === "string" && isBase64url(v) && v.length === 43;
}

/**
 * Accepts only a public EC P-256 JWK. A JWK carrying `d` is refused outright: a client that
 * sends its private key has leaked it, and a server that accepted it would be trusting a
 * key anyone who saw that request now holds.
 */
export function parsePublicJwk(jwk: unknown): Result<{ jwk: EcPublicJwk }, JwkReason> {
  if (jwk === undefined || jwk === null) return { ok: false, reason: "jwk_missing" };
  if (typeof jwk !== "object" || Array.isArray(jwk)) return { ok: false, reason: "jwk_not_ec_p256" };
  const k = jwk as Record<string, unknown>;
  if ("d" in k) return { ok: false, reason: "jwk_private" };
  if (k.kty !== "EC" || k.crv !== "P-256") return { ok: false, reason: "jwk_not_ec_p256" };
  if (!isCoordinate(k.x) || !isCoordinate(k.y)) return { ok: false, reason: "jwk_bad_coordinates" };
  return { ok: true, jwk: { kty: "EC", crv: "P-256", x: k.x, y: k.y } };
}

/** RFC 7638 thumbprint: SHA-256 over the required members in lexicographic order, base64url. */
export async function jwkThumbprint(jwk: EcPublicJwk): Promise<string> {
  const canonical = `{"crv":"${jwk.crv}","kty":"${jwk.kty}","x":"${jwk.x}","y":"${jwk.y}"}`;
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(canonical));
  return encodeBase64url(new Uint8Array(digest));
}

/**
 * Checks an ES256 signature (raw r||s, 64 bytes, as JWS requires: not DER). An off-curve
 * point makes `importKey` throw; that is a bad key, reported as `false`.
 */
export async function verifyEs256(jws: ParsedJws, jwk: EcPublicJwk): Promise<boolean> {
  if (jws.signature.length !== 64) return false;
  try {
    const key = await crypto.subtle.importKey("jwk", { kty: "EC", crv: "P-256", x: jwk.x, y: jwk.y, ext: true }, { name: "ECDSA", namedCurve: "P-256" }, false, ["verify"]);
    return await crypto.subtle.verify({ name: "ECDSA", hash: "SHA-256" }, key, jws.signature, new TextEncoder().encode(jws.signingInput));
  } catch {
    return false;
  }
}
