/**
 * How this app proves itself at the token endpoint (OpenID Connect Core §9):
 * `client_secret_basic`, `client_secret_post`, `private_key_jwt`, or `none` for a public client.
 * Basic authentication form-encodes the id and secret before Base64 (RFC 6749 §2.3.1): a secret
 * with `+`, `/`, `=`, `%` or `:` otherwise reaches the provider as another secret.
 */
import { encodeBase64url } from "../util/base64url.js";
import type { ImportAlgorithm, JwsAlgorithm, Jwk, SignAlgorithm, WebCryptoKey } from "./jwks.js";

export type ClientAuthOptions =
  | { method: "client_secret_basic" | "client_secret_post"; clientSecret: string }
  | {
      method: "private_key_jwt";
      /** The private key as a JWK (with `d`), or an imported signing `CryptoKey`. */
      privateKey: Jwk | WebCryptoKey;
      /** @default "RS256" */
      alg?: JwsAlgorithm;
      /** The `kid` of the public key registered with the provider. */
      kid?: string;
      /** More JWS header members, e.g. Entra ID's certificate thumbprint `{ "x5t#S256": … }`. */
      header?: Record<string, string>;
      /**
       * What the assertion's `aud` names. The token endpoint is what Okta and Entra ID require
       * and what Keycloak and oidc-provider accept. @default "token_endpoint"
       */
      audience?: "token_endpoint" | "issuer";
    }
  | { method: "none" };

/** application/x-www-form-urlencoded encoding of one value (spaces as `+`). */
export function formEncode(value: string): string {
  return new URLSearchParams({ v: value }).toString().slice(2);
}

/** The `Authorization` value for client_secret_basic. */
export function basicAuthorization(clientId: string, clientSecret: string): string {
  const bytes = new TextEncoder().encode(`${formEncode(clientId)}:${formEncode(clientSecret)}`);
  let binary = "";
  for (const b of bytes) binary += String.fromCharCode(b);
  return `Basic ${btoa(binary)}`;
}

const SIGN: Record<JwsAlgorithm, { importAs: ImportAlgorithm; signAs: SignAlgorithm }> = {
  RS256: { importAs: { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" }, signAs: { name: "RSASSA-PKCS1-v1_5" } },
  PS256: { importAs: { name: "RSA-PSS", hash: "SHA-256" }, signAs: { name: "RSA-PSS", saltLength: 32 } },
  ES256: { importAs: { name: "ECDSA", namedCurve: "P-256" }, signAs: { name: "ECDSA", hash: "SHA-256" } },
  EdDSA: { importAs: { name: "Ed25519" }, signAs: { name: "Ed25519" } },
};

const json64 = (value: unknown) => encodeBase64url(new TextEncoder().encode(JSON.stringify(value)));

/** Signs a compact JWS with a private key (JWK with `d`, or a `CryptoKey` allowed to sign). */
export async function signJws(payload: Record<string, unknown>, key: Jwk | WebCryptoKey, alg: JwsAlgorithm, header: Record<string, unknown> = {}): Promise<string> {
  const params = SIGN[alg];
  const { kty, n, e, d, p, q, dp, dq, qi, crv, x, y } = key as Jwk;
  const cryptoKey = "type" in key && "algorithm" in key
    ? (key as WebCryptoKey)
    : await crypto.subtle.importKey("jwk", Object.fromEntries(Object.entries({ kty, n, e, d, p, q, dp, dq, qi, crv, x, y }).filter(([, v]) => v !== undefined)) as never, params.importAs, false, ["sign"]);
  const input = `${json64({ ...header, alg })}.${json64(payload)}`;
  const signature = await crypto.subtle.sign(params.signAs, cryptoKey, new TextEncoder().encode(input));
  return `${input}.${encodeBase64url(new Uint8Array(signature))}`;
}

export interface TokenRequestAuth {
  headers: Record<string, string>;
  params: Record<string, string>;
}

/** The headers and form fields that authenticate `clientId` on one token request. */
export async function clientAuthentication(
  auth: ClientAuthOptions,
  clientId: string,
  endpoints: { issuer: string; tokenEndpoint: string },
  nowMs: number = Date.now(),
): Promise<TokenRequestAuth> {
  switch (auth.method) {
    case "client_secret_basic":
      return { headers: { Authorization: basicAuthorization(clientId, auth.clientSecret) }, params: {} };
    case "client_secret_post":
      return { headers: {}, params: { client_id: clientId, client_secret: auth.clientSecret } };
    case "none":
      return { headers: {}, params: { client_id: clientId } };
    case "private_key_jwt": {
      const now = Math.floor(nowMs / 1000);
      const jti = encodeBase64url(crypto.getRandomValues(new Uint8Array(16)));
      const aud = auth.audience === "issuer" ? endpoints.issuer : endpoints.tokenEndpoint;
      const assertion = await signJws(
        { iss: clientId, sub: clientId, aud, jti, iat: now, exp: now + 60 },
        auth.privateKey,
        auth.alg ?? "RS256",
        { ...auth.header, ...(auth.kid ? { kid: auth.kid } : {}), typ: "JWT" },
      );
      return {
        headers: {},
        params: { client_id: clientId, client_assertion_type: "urn:ietf:params:oauth:client-assertion-type:jwt-bearer", client_assertion: assertion },
      };
    }
  }
}
