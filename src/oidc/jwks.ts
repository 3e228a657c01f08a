/**
 * JWS verification with WebCrypto against a provider's JWKS: RS256, PS256, ES256 and EdDSA
 * (Ed25519), only those the caller allows. Keys are cached per isolate by JWKS URL as plain data
 * (never a promise: workerd cancels a request that awaits another request's promise), and the
 * set is fetched again when a token names a key id the cache lacks — that is how a provider's
 * key rotation arrives — at most once per cooldown, so tokens with made-up key ids cannot turn
 * this worker into a request amplifier against the provider.
 */
import { decodeBase64url, isBase64url } from "../util/base64url.js";
import { failed, unavailable } from "./errors.js";

export const SUPPORTED_ALGORITHMS = ["RS256", "PS256", "ES256", "EdDSA"] as const;
export type JwsAlgorithm = (typeof SUPPORTED_ALGORITHMS)[number];

/** Larger than any ID or logout token a provider sends; bounds the parser's work. */
const MAX_JWS_LENGTH = 16 * 1024;
/** At most this many keys are kept from one set (a provider publishes a handful). */
const MAX_KEYS = 50;

/** A JSON Web Key as published (RFC 7517): the members read here, and any others. */
export interface Jwk {
  kty?: string;
  kid?: string;
  alg?: string;
  use?: string;
  crv?: string;
  n?: string;
  e?: string;
  x?: string;
  y?: string;
  d?: string;
  [member: string]: unknown;
}
/** WebCrypto's algorithm parameters, named so that Workers and Node typings agree. */
export type ImportAlgorithm = Parameters<typeof crypto.subtle.importKey>[2];
export type SignAlgorithm = Parameters<typeof crypto.subtle.verify>[0];
/** An imported WebCrypto key, as both typings name it. */
export type WebCryptoKey = Parameters<typeof crypto.subtle.verify>[1];

export interface ParsedJws {
  header: Record<string, unknown>;
  payload: Record<string, unknown>;
  signingInput: Uint8Array;
  signature: Uint8Array;
}

const decoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: false });

function jsonPart(part: string, what: string): Record<string, unknown> {
  if (!isBase64url(part)) throw failed(`${what}_malformed`);
  let value: unknown;
  try {
    value = JSON.parse(decoder.decode(decodeBase64url(part)));
  } catch {
    throw failed(`${what}_malformed`);
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) throw failed(`${what}_malformed`);
  return value as Record<string, unknown>;
}

/** Splits a compact JWS (three base64url parts); throws `sso_failed` with `jws_malformed` etc. */
export function parseJws(compact: unknown): ParsedJws {
  if (typeof compact !== "string" || compact.length > MAX_JWS_LENGTH) throw failed("jws_malformed");
  const parts = compact.split(".");
  if (parts.length !== 3 || !isBase64url(parts[2]!)) throw failed("jws_malformed");
  const header = jsonPart(parts[0]!, "jws_header");
  const payload = jsonPart(parts[1]!, "jws_payload");
  return { header, payload, signingInput: new TextEncoder().encode(`${parts[0]}.${parts[1]}`), signature: decodeBase64url(parts[2]!) };
}

/** WebCrypto's names for each JWS algorithm: how to import its key and how to verify with it. */
function webCrypto(alg: JwsAlgorithm, jwk: Jwk): { importAs: ImportAlgorithm; verifyAs: SignAlgorithm } | null {
  switch (alg) {
    case "RS256":
      return jwk.kty === "RSA" ? { importAs: { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" }, verifyAs: { name: "RSASSA-PKCS1-v1_5" } } : null;
    case "PS256":
      return jwk.kty === "RSA" ? { importAs: { name: "RSA-PSS", hash: "SHA-256" }, verifyAs: { name: "RSA-PSS", saltLength: 32 } } : null;
    case "ES256":
      return jwk.kty === "EC" && jwk.crv === "P-256" ? { importAs: { name: "ECDSA", namedCurve: "P-256" }, verifyAs: { name: "ECDSA", hash: "SHA-256" } } : null;
    case "EdDSA":
      return jwk.kty === "OKP" && jwk.crv === "Ed25519" ? { importAs: { name: "Ed25519" }, verifyAs: { name: "Ed25519" } } : null;
  }
}

/** The public members only: a JWK's `alg`, `use` or `key_ops` would make importKey refuse an otherwise fitting key. */
function publicPart(jwk: Jwk): Jwk {
  const { kty, n, e, crv, x, y } = jwk;
  return Object.fromEntries(Object.entries({ kty, n, e, crv, x, y }).filter(([, v]) => typeof v === "string")) as Jwk;
}

/** Whether a published key may verify `alg`: its declared `alg` and `use` must not say otherwise. */
function keyFits(jwk: Jwk, alg: JwsAlgorithm, kid: string | undefined): boolean {
  if (kid !== undefined && jwk.kid !== kid) return false;
  if (jwk.alg !== undefined && jwk.alg !== alg) return false;
  if (jwk.use !== undefined && jwk.use !== "sig") return false;
  return webCrypto(alg, jwk) !== null;
}

interface CachedSet {
  keys: Jwk[];
  fetchedAt: number;
}
const sets = new Map<string, CachedSet>();
const imported = new Map<string, WebCryptoKey>();

export interface JwksOptions {
  /** The provider's `jwks_uri` (from discovery). */
  jwksUri: string;
  /** Algorithms accepted in the JWS header. @default ["RS256", "PS256", "ES256", "EdDSA"] */
  algorithms?: readonly JwsAlgorithm[];
  /** Least time between two fetches of the set caused by an unknown key id. @default 30_000 */
  refetchCooldownMs?: number;
  /** A cached set older than this is fetched again before use. @default 3_600_000 */
  maxAgeMs?: number;
  fetch?: typeof fetch;
  now?: () => number;
}

async function fetchSet(o: JwksOptions, now: number): Promise<CachedSet> {
  let res: Response;
  try {
    res = await (o.fetch ?? fetch)(o.jwksUri, { headers: { Accept: "application/json" }, signal: AbortSignal.timeout(5000) });
  } catch (error) {
    throw unavailable("jwks_unreachable", { got: (error as Error).name });
  }
  const body = (await res.json().catch(() => null)) as { keys?: unknown } | null;
  if (!res.ok || !body || !Array.isArray(body.keys)) throw unavailable("jwks_invalid", { expected: "200 with {keys: [...]}", got: res.status });
  const keys = body.keys.filter((k): k is Jwk => typeof k === "object" && k !== null && !Array.isArray(k)).slice(0, MAX_KEYS);
  const set = { keys, fetchedAt: now };
  sets.set(o.jwksUri, set);
  return set;
}

/**
 * Verifies a compact JWS and returns its parts. Throws `OidcError`: `sso_failed` for anything
 * about the token (`alg_not_allowed`, `unknown_kid`, `bad_signature`), `sso_unavailable` when
 * the key set cannot be read.
 */
export async function verifyJws(compact: unknown, o: JwksOptions): Promise<ParsedJws> {
  const jws = parseJws(compact);
  const algorithms = o.algorithms ?? SUPPORTED_ALGORITHMS;
  const alg = jws.header.alg;
  // "none", HS256 with the public key as secret, and anything not asked for: refused before any key is looked at.
  if (typeof alg !== "string" || !(SUPPORTED_ALGORITHMS as readonly string[]).includes(alg) || !algorithms.includes(alg as JwsAlgorithm)) {
    throw failed("alg_not_allowed", { expected: algorithms, got: alg });
  }
  if (jws.header.crit !== undefined) throw failed("crit_not_supported", { got: jws.header.crit });
  const kid = typeof jws.header.kid === "string" ? jws.header.kid : undefined;
  const now = (o.now ?? Date.now)();
  let set = sets.get(o.jwksUri);
  if (!set || now - set.fetchedAt > (o.maxAgeMs ?? 3_600_000)) set = await fetchSet(o, now);
  let candidates = set.keys.filter((k) => keyFits(k, alg as JwsAlgorithm, kid));
  if (candidates.length === 0 && now - set.fetchedAt >= (o.refetchCooldownMs ?? 30_000)) {
    set = await fetchSet(o, now);
    candidates = set.keys.filter((k) => keyFits(k, alg as JwsAlgorithm, kid));
  }
  if (candidates.length === 0) throw failed("unknown_kid", { expected: set.keys.map((k) => (typeof k.kid === "string" ? k.kid : "(no kid)")), got: kid ?? "(no kid)" });
  // Without a kid every fitting key is tried; providers with several keys always send one.
  for (const jwk of candidates.slice(0, 5)) {
    const params = webCrypto(alg as JwsAlgorithm, jwk)!;
    const cacheKey = `${alg}\0${JSON.stringify(publicPart(jwk))}`;
    let key = imported.get(cacheKey);
    if (!key) {
      try {
        key = await crypto.subtle.importKey("jwk", publicPart(jwk) as never, params.importAs, false, ["verify"]);
      } catch {
        continue;
      }
      if (imported.size > 200) imported.clear();
      imported.set(cacheKey, key);
    }
    if (await crypto.subtle.verify(params.verifyAs, key, jws.signature, jws.signingInput)) return jws;
  }
  throw failed("bad_signature", { got: { alg, kid } });
}

/** Forgets cached key sets (tests; an operator's "the provider was replaced"). */
export function clearJwksCache(): void {
  sets.clear();
  imported.clear();
}
