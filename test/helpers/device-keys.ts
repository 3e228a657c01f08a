/** Real ES256 keys and compact JWS made with WebCrypto, for the device-binding tests. */
import { encodeBase64url } from "../../src/util/base64url.js";

/** Spelled out: this helper is type-checked with the Workers types and with Node's (no DOM). */
type Jwk = { kty?: string; crv?: string; x?: string; y?: string; d?: string };
type KeyPair = { privateKey: CryptoKey; publicKey: CryptoKey };

export interface TestKey {
  privateKey: CryptoKey;
  /** Public members only, as a client sends it. */
  publicJwk: { kty: "EC"; crv: "P-256"; x: string; y: string };
  /** The full exported private JWK (with `d`), for the leaked-key attack. */
  privateJwk: Jwk;
}

export async function newKey(): Promise<TestKey> {
  const pair = (await crypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, true, ["sign", "verify"])) as KeyPair;
  const pub = (await crypto.subtle.exportKey("jwk", pair.publicKey)) as Jwk;
  const priv = (await crypto.subtle.exportKey("jwk", pair.privateKey)) as Jwk;
  return { privateKey: pair.privateKey, publicJwk: { kty: "EC", crv: "P-256", x: pub.x!, y: pub.y! }, privateJwk: priv };
}

const part = (o: unknown) => encodeBase64url(new TextEncoder().encode(JSON.stringify(o)));

/** Signs `header.payload` with ES256 (WebCrypto's ECDSA output is already JWS's raw r||s). */
export async function signJws(key: CryptoKey, header: Record<string, unknown>, payload: Record<string, unknown>): Promise<string> {
  const input = `${part(header)}.${part(payload)}`;
  const sig = await crypto.subtle.sign({ name: "ECDSA", hash: "SHA-256" }, key, new TextEncoder().encode(input));
  return `${input}.${encodeBase64url(new Uint8Array(sig))}`;
}

/** An HS256 JWS keyed with `secret`: the algorithm-confusion attack's forgery. */
export async function signHs256(secret: Uint8Array, header: Record<string, unknown>, payload: Record<string, unknown>): Promise<string> {
  const input = `${part(header)}.${part(payload)}`;
  const key = await crypto.subtle.importKey("raw", secret, { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  const sig = await crypto.subtle.sign("HMAC", key, new TextEncoder().encode(input));
  return `${input}.${encodeBase64url(new Uint8Array(sig))}`;
}

/** An unsigned JWS (`alg: none`, empty signature part). */
export function unsigned(header: Record<string, unknown>, payload: Record<string, unknown>): string {
  return `${part(header)}.${part(payload)}.`;
}
