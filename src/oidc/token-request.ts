/** The authorization code exchange at the token endpoint (RFC 6749 §4.1.3, with PKCE). */
import { clientAuthentication, type ClientAuthOptions } from "./client-auth.js";
import { failed, unavailable } from "./errors.js";

export interface TokenResponse {
  id_token: string;
  access_token?: string;
  token_type?: string;
}

const ERROR_CODE = /^[a-z_]{1,64}$/;

export async function exchangeCode(o: {
  issuer: string;
  tokenEndpoint: string;
  clientId: string;
  clientAuth: ClientAuthOptions;
  code: string;
  verifier: string;
  redirectUri: string;
  fetch?: typeof fetch;
  now: number;
}): Promise<TokenResponse> {
  const auth = await clientAuthentication(o.clientAuth, o.clientId, { issuer: o.issuer, tokenEndpoint: o.tokenEndpoint }, o.now);
  const body = new URLSearchParams({ grant_type: "authorization_code", code: o.code, code_verifier: o.verifier, redirect_uri: o.redirectUri, ...auth.params });
  let res: Response;
  try {
    res = await (o.fetch ?? fetch)(o.tokenEndpoint, {
      method: "POST",
      headers: { "Content-Type": "application/x-www-form-urlencoded", Accept: "application/json", ...auth.headers },
      body,
      signal: AbortSignal.timeout(10_000),
    });
  } catch (error) {
    throw unavailable("token_endpoint_unreachable", { got: (error as Error).name });
  }
  const json = (await res.json().catch(() => null)) as Record<string, unknown> | null;
  if (res.status >= 400 && res.status < 500) {
    // invalid_grant (a spent or foreign code), invalid_client (our credentials): the provider said no.
    const code = typeof json?.error === "string" && ERROR_CODE.test(json.error) ? json.error : "refused";
    throw failed(`token_${code}`, { expected: "200 from the token endpoint", got: { status: res.status, error: json?.error, error_description: json?.error_description } });
  }
  if (!res.ok || !json) throw unavailable("token_endpoint_failed", { expected: "200 JSON", got: res.status });
  if (typeof json.id_token !== "string") throw failed("id_token_missing", { expected: "id_token in the token response (is openid in the scopes?)", got: Object.keys(json) });
  return json as unknown as TokenResponse;
}
