/**
 * DPoP proof verification (RFC 9449): a Bearer token bound to a key the client keeps, so a
 * stolen token is useless without a fresh proof signed by that key for this very request.
 * Pure apart from WebCrypto and the replay memory, which lives in the verifier object (keep one
 * per isolate at module scope). Never throws on input; failures are `{ ok: false, reason }`.
 */
import { encodeBase64url } from "../util/base64url.js";
import { BoundedLru } from "../util/lru.js";
import { type EcPublicJwk, type JwkReason, type JwsReason, type Result, DEFAULT_MAX_JWS_LENGTH, jwkThumbprint, parseCompactJws, parsePublicJwk, verifyEs256 } from "./jwt-es256.js";

export type DpopReason =
  | JwsReason
  | JwkReason
  | "bad_typ"
  | "bad_alg"
  | "bad_claims"
  | "htm_mismatch"
  | "htu_mismatch"
  | "iat_out_of_window"
  | "ath_mismatch"
  | "ath_missing"
  | "jkt_mismatch"
  | "bad_signature"
  | "replayed";

export interface DpopVerifierOptions {
  /**
   * How far `iat` may lie in the past or the future, in seconds. A proof is made for one
   * request and sent at once, so the window only has to absorb client clock skew and
   * transit; 60 s covers phones with drifting clocks while keeping the span in which a
   * captured proof could be replayed to another isolate (whose jti memory never saw it)
   * to a minute. Deployments that need less should add server nonces (DPoP-Nonce).
   * @default 60
   */
  iatWindowSeconds?: number;
  /** jtis remembered per isolate; the oldest are forgotten first. @default 10000 */
  maxRememberedJtis?: number;
  /** @default DEFAULT_MAX_JWS_LENGTH */
  maxProofLength?: number;
}

export interface DpopRequest {
  method: string;
  url: string;
  /** The access token sent with the proof; when given, `ath` must hash it. @default none */
  accessToken?: string;
  /** The token's `cnf.jkt`; when given, the proof's key must have this thumbprint. @default none */
  expectedJkt?: string;
  /** Seconds since the epoch. @default Date.now() / 1000 */
  now?: number;
}

export interface DpopProof {
  jwk: EcPublicJwk;
  jkt: string;
  jti: string;
  iat: number;
}

/** htu compares without query and fragment (RFC 9449 §4.3); URL() lower-cases scheme and host and drops default ports. */
export function normaliseHtu(url: string): string | null {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}${u.pathname}`;
  } catch {
    return null;
  }
}

/** `ath`: base64url(SHA-256(ASCII access token)). */
export async function accessTokenHash(token: string): Promise<string> {
  return encodeBase64url(new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(token))));
}

export class DpopVerifier {
  private readonly window: number;
  private readonly maxLength: number;
  /** key: jkt + jti, value: when the entry stops mattering (iat + window). */
  private readonly seen: BoundedLru<string, number>;

  constructor(options: DpopVerifierOptions = {}) {
    this.window = options.iatWindowSeconds ?? 60;
    this.maxLength = options.maxProofLength ?? DEFAULT_MAX_JWS_LENGTH;
    this.seen = new BoundedLru(options.maxRememberedJtis ?? 10_000);
  }

  async verify(proof: unknown, request: DpopRequest): Promise<Result<DpopProof, DpopReason>> {
    const jws = parseCompactJws(proof, this.maxLength);
    if (!jws.ok) return jws;
    const { header, payload } = jws;
    if (header.typ !== "dpop+jwt") return { ok: false, reason: "bad_typ" };
    if (header.alg !== "ES256") return { ok: false, reason: "bad_alg" };
    const key = parsePublicJwk(header.jwk);
    if (!key.ok) return key;
    const { jti, htm, htu, iat } = payload;
    if (typeof jti !== "string" || jti.length === 0 || jti.length > 256 || typeof htm !== "string" || typeof htu !== "string" || typeof iat !== "number" || !Number.isFinite(iat)) {
      return { ok: false, reason: "bad_claims" };
    }
    if (htm !== request.method.toUpperCase()) return { ok: false, reason: "htm_mismatch" };
    const want = normaliseHtu(request.url);
    if (want === null || normaliseHtu(htu) !== want) return { ok: false, reason: "htu_mismatch" };
    const now = request.now ?? Date.now() / 1000;
    if (Math.abs(now - iat) > this.window) return { ok: false, reason: "iat_out_of_window" };
    if (request.accessToken !== undefined) {
      if (typeof payload.ath !== "string") return { ok: false, reason: "ath_missing" };
      if (payload.ath !== (await accessTokenHash(request.accessToken))) return { ok: false, reason: "ath_mismatch" };
    }
    const jkt = await jwkThumbprint(key.jwk);
    if (request.expectedJkt !== undefined && jkt !== request.expectedJkt) return { ok: false, reason: "jkt_mismatch" };
    if (!(await verifyEs256(jws, key.jwk))) return { ok: false, reason: "bad_signature" };
    // Remembered only once signed, so unsigned junk cannot flush real entries; keyed by the
    // key's thumbprint too, so one client cannot pre-empt another's jti.
    const slot = `${jkt}.${jti}`;
    const until = this.seen.get(slot);
    if (until !== undefined && until >= now) return { ok: false, reason: "replayed" };
    this.seen.set(slot, iat + this.window);
    return { ok: true, jwk: key.jwk, jkt, jti, iat };
  }
}
