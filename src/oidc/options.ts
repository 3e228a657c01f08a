/** The options of `oidcSignIn()`: one entry per provider, and what they share. */
import type { Context } from "hono";
import type { NewSessionUser, SessionApi } from "../session/api.js";
import type { SameSite } from "../cookie/session-cookie.js";
import type { RedisStore } from "../store/redis.js";
import type { EmailPolicy, RoleMapping } from "./claims.js";
import type { ClientAuthOptions } from "./client-auth.js";
import type { TenantOptions } from "./discovery.js";
import type { IdTokenClaims } from "./id-token.js";
import type { JwsAlgorithm } from "./jwks.js";

/** Parameters sent with every authorization request to this provider. */
export interface AuthorizeParams {
  /** `login`, `consent`, `select_account` or `none` (a `?prompt=` on /start may choose among these). */
  prompt?: "login" | "consent" | "select_account" | "none";
  /** Pre-fills the account at the provider (a `?login_hint=` on /start overrides it). */
  loginHint?: string;
  /** Entra ID: skips the account picker for this directory (a `?domain_hint=` on /start overrides it). */
  domainHint?: string;
  /** Seconds since the user last authenticated at the provider; older forces a fresh login, checked on `auth_time`. */
  maxAge?: number;
  /** Requested authentication context classes, most preferred first (checked with `acceptAcr`). */
  acrValues?: readonly string[];
}

export interface OidcProviderOptions {
  /** Short name used in paths (`/{id}/start`) and the flow cookie: 1–32 of `a–z 0–9 -`. */
  id: string;
  /** The issuer identifier, exactly as the provider's discovery document states it. */
  issuer: string;
  tenants?: TenantOptions;
  clientId: string;
  clientAuth: ClientAuthOptions;
  /** @default ["openid", "email", "profile"] */
  scopes?: readonly string[];
  authorize?: AuthorizeParams;
  /** `acr` values admitted; unset admits any. */
  acceptAcr?: readonly string[];
  /** Methods that must appear in `amr`, e.g. `["mfa"]`. */
  requireAmr?: readonly string[];
  /** ID token and logout token signature algorithms admitted. @default ["RS256", "PS256", "ES256", "EdDSA"] */
  algorithms?: readonly JwsAlgorithm[];
  /** @default "verified" (see `EmailPolicy`) */
  email?: EmailPolicy;
  /** Where roles come from. @default no roles */
  roles?: RoleMapping;
  /**
   * Your user for the verified claims; null refuses the sign-in (403 `user_not_allowed`).
   * @default users keyed by issuer and subject, with `email` and `roles` as configured
   */
  toUser?: (claims: IdTokenClaims) => NewSessionUser | null | Promise<NewSessionUser | null>;
}

/** One line of the sign-in log: what was expected and what came, never a token or a secret. */
export interface OidcLogEntry {
  level: "info" | "warn";
  msg: string;
  provider?: string;
  kind?: string;
  reason?: string;
  expected?: unknown;
  got?: unknown;
}

export interface OidcSignInOptions {
  providers: readonly OidcProviderOptions[];
  /** The session layer (`createSessionLayer()`) or anything with these three calls. */
  sessions: Pick<SessionApi, "createSession" | "validateSession" | "endSession">;
  /** Where the logout index and spent logout-token ids live (the layer's `store`). */
  store: RedisStore;
  /** The public URL this sub-app is mounted at, e.g. `https://auth.example/sso`; callbacks are `{baseUrl}/{id}/callback`. */
  baseUrl: string;
  /** The origin of the app page that opens the popup and receives the result. @default baseUrl's origin */
  appOrigin?: string;
  /**
   * How the session reaches the app. `"bearer"`: the grant carries the token (`session.adopt(grant)`
   * in a Bearer client). `"cookie"`, for an app page served by this worker: the callback sets the
   * token in the HttpOnly `__Host-session` cookie and the grant carries none
   * (`{transport: "cookie", user, expiresAt, idleExpiresAt}`), so no page script ever holds it.
   * @default "bearer"
   */
  transport?: "bearer" | "cookie";
  /** The session cookie's SameSite, with `transport: "cookie"`. @default "Lax" */
  cookieSameSite?: SameSite;
  /** Where the provider sends the browser after RP-initiated logout (registered with the provider). */
  postLogoutRedirectUri?: string;
  /** Admits `http://` issuers and endpoints on loopback only. Never in production. @default false */
  development?: boolean;
  /** Clock difference tolerated with the provider, in seconds. @default 60 */
  leewaySeconds?: number;
  /** Store key prefix for the logout index and spent `jti`s. @default "es:oidc:" */
  storePrefix?: string;
  /** Seconds a sign-in may take at the provider. @default 600 */
  flowTtlSeconds?: number;
  /** Least time between JWKS refetches caused by an unknown key id. @default 30_000 */
  jwksRefetchCooldownMs?: number;
  /** The session token for `/logout`. @default the Bearer token, else the `__Host-session` cookie (then `X-CSRF-Protection: 1` is required) */
  tokenFrom?: (c: Context) => { token: string; fromCookie: boolean } | null;
  /** @default console.warn / console.info of the entry as JSON */
  log?: (entry: OidcLogEntry) => void;
  fetch?: typeof fetch;
  /** ms since epoch. @default Date.now */
  now?: () => number;
}

export const PROVIDER_ID = /^[a-z0-9-]{1,32}$/;

/** Throws a TypeError naming the bad option: configuration mistakes surface at start-up, not at a user's sign-in. */
export function checkOptions(o: OidcSignInOptions): void {
  if (!o.providers.length) throw new TypeError("oidcSignIn: providers must list at least one provider");
  const seen = new Set<string>();
  for (const p of o.providers) {
    if (!PROVIDER_ID.test(p.id)) throw new TypeError(`oidcSignIn: provider id ${JSON.stringify(p.id)} must be 1-32 of a-z 0-9 -`);
    if (seen.has(p.id)) throw new TypeError(`oidcSignIn: provider id ${p.id} appears twice`);
    seen.add(p.id);
    if (!p.clientId) throw new TypeError(`oidcSignIn: provider ${p.id} needs a clientId`);
    if (p.tenants && (!p.tenants.template.includes("{tenantid}") || p.tenants.allow.length === 0)) {
      throw new TypeError(`oidcSignIn: provider ${p.id}: tenants.template needs {tenantid} and tenants.allow at least one tenant`);
    }
  }
  if (o.transport !== undefined && o.transport !== "bearer" && o.transport !== "cookie") throw new TypeError(`oidcSignIn: transport must be "bearer" or "cookie", got ${JSON.stringify(o.transport)}`);
  new URL(o.baseUrl);
}
