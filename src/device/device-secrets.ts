/**
 * The server's own MACs for device binding, keyed from `SESSION_KEYS` (one derived key per kid,
 * so rotation works as for tokens and a MAC made here is never valid as a session token's):
 *
 * - the DBSC **bound cookie**, `b1.<kid>.<sessionId>.<exp>.<mac>`: names the session and when
 *   the cookie stops counting (seconds, base36). It carries no session token: a copy of it is
 *   worth its remaining minutes, and only the device key gets the next one.
 * - DBSC **challenges**, `<kid>.<issued>.<nonce>.<mac>`, bound to one session and one purpose
 *   (registration or refresh): checked without a store read; single use is the refresh
 *   script's `SET NX` (registration is single-use by binding the record once).
 *
 * Pure apart from WebCrypto. Every check answers data, never throws on input.
 */
import { decodeBase64url, encodeBase64url, isBase64url, randomBytes } from "../util/base64url.js";

export const BOUND_COOKIE_PREFIX = "b1.";
const DOMAIN = "edge-session/device\0";
const SESSION_ID = /^[A-Za-z0-9_-]{22}$/;
const KID = /^[A-Za-z0-9_-]{1,8}$/;
const MAX_CHALLENGE = 96;

export type ChallengePurpose = "register" | "refresh";
export type BoundCookieCheck = { ok: true; sessionId: string; expiresAt: number } | { ok: false; reason: "malformed" | "unknown_key" | "bad_signature" | "expired" };
export type ChallengeCheck = { ok: true; issuedAt: number } | { ok: false; reason: "challenge_malformed" | "challenge_invalid" | "challenge_expired" };

const encoder = new TextEncoder();

export function looksLikeBoundCookie(value: string): boolean {
  return value.startsWith(BOUND_COOKIE_PREFIX);
}

export class DeviceSecrets {
  private constructor(
    private readonly keys: Map<string, CryptoKey>,
    private readonly signerKid: string,
    private readonly now: () => number,
  ) {}

  /** @param entries the session key ring's entries, signer first. @param now ms clock. @default Date.now */
  static async create(entries: readonly { kid: string; key: Uint8Array }[], now: () => number = Date.now): Promise<DeviceSecrets> {
    const keys = new Map<string, CryptoKey>();
    for (const { kid, key } of entries) {
      const base = await crypto.subtle.importKey("raw", key, { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
      const derived = new Uint8Array(await crypto.subtle.sign("HMAC", base, encoder.encode(DOMAIN)));
      keys.set(kid, await crypto.subtle.importKey("raw", derived, { name: "HMAC", hash: "SHA-256" }, false, ["sign", "verify"]));
    }
    return new DeviceSecrets(keys, entries[0]!.kid, now);
  }

  private async mac(kid: string, text: string): Promise<string> {
    return encodeBase64url(new Uint8Array(await crypto.subtle.sign("HMAC", this.keys.get(kid)!, encoder.encode(text))));
  }

  private async verifyMac(kid: string, text: string, mac: string): Promise<boolean | "unknown_key"> {
    const key = this.keys.get(kid);
    if (!key) return "unknown_key";
    if (mac.length !== 43 || !isBase64url(mac)) return false;
    // crypto.subtle.verify compares in constant time.
    return crypto.subtle.verify("HMAC", key, decodeBase64url(mac), encoder.encode(text));
  }

  /** A bound cookie value for `sessionId`, good until `expiresAt` (ms; stored to the second, rounded down). */
  async boundCookie(sessionId: string, expiresAt: number): Promise<string> {
    const body = `${BOUND_COOKIE_PREFIX}${this.signerKid}.${sessionId}.${Math.floor(expiresAt / 1000).toString(36)}`;
    return `${body}.${await this.mac(this.signerKid, `cookie\0${body}`)}`;
  }

  async checkBoundCookie(value: string): Promise<BoundCookieCheck> {
    const parts = value.split(".");
    if (parts.length !== 5 || `${parts[0]}.` !== BOUND_COOKIE_PREFIX) return { ok: false, reason: "malformed" };
    const [, kid, sessionId, exp, mac] = parts as [string, string, string, string, string];
    if (!KID.test(kid) || !SESSION_ID.test(sessionId) || !/^[0-9a-z]{1,9}$/.test(exp)) return { ok: false, reason: "malformed" };
    const valid = await this.verifyMac(kid, `cookie\0${value.slice(0, value.length - mac.length - 1)}`, mac);
    if (valid === "unknown_key") return { ok: false, reason: "unknown_key" };
    if (!valid) return { ok: false, reason: "bad_signature" };
    const expiresAt = parseInt(exp, 36) * 1000;
    if (expiresAt <= this.now()) return { ok: false, reason: "expired" };
    return { ok: true, sessionId, expiresAt };
  }

  /** A fresh challenge for one session and one purpose. */
  async challenge(sessionId: string, purpose: ChallengePurpose): Promise<string> {
    const body = `${this.signerKid}.${Math.floor(this.now() / 1000).toString(36)}.${encodeBase64url(randomBytes(12))}`;
    return `${body}.${await this.mac(this.signerKid, `challenge\0${purpose}\0${sessionId}\0${body}`)}`;
  }

  /** Checks a challenge this server issued for `sessionId` and `purpose`, no older than `maxAgeMs`. */
  async checkChallenge(value: unknown, sessionId: string, purpose: ChallengePurpose, maxAgeMs: number): Promise<ChallengeCheck> {
    if (typeof value !== "string" || value.length > MAX_CHALLENGE) return { ok: false, reason: "challenge_malformed" };
    const parts = value.split(".");
    if (parts.length !== 4) return { ok: false, reason: "challenge_malformed" };
    const [kid, issued, nonce, mac] = parts as [string, string, string, string];
    if (!KID.test(kid) || !/^[0-9a-z]{1,9}$/.test(issued) || nonce.length !== 16 || !isBase64url(nonce)) return { ok: false, reason: "challenge_malformed" };
    const valid = await this.verifyMac(kid, `challenge\0${purpose}\0${sessionId}\0${kid}.${issued}.${nonce}`, mac);
    if (valid !== true) return { ok: false, reason: "challenge_invalid" };
    const issuedAt = parseInt(issued, 36) * 1000;
    // A little future tolerance: the second is rounded down, isolates' clocks differ slightly.
    const age = this.now() - issuedAt;
    if (age > maxAgeMs || age < -5_000) return { ok: false, reason: "challenge_expired" };
    return { ok: true, issuedAt };
  }
}
