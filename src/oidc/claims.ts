/**
 * From verified claims to an edge-session user. Users are keyed by issuer and subject (an email
 * can pass from one person to another; `sub` is never reassigned by a provider), hashed into an
 * id that fits the store's user ids. Email, name and roles are filled from the ID token, or from
 * UserInfo when the ID token lacks them (providers following OpenID Connect Core §5.4 strictly,
 * such as oidc-provider, put scope claims in UserInfo only).
 */
import { encodeBase64url } from "../util/base64url.js";
import { failed, OidcError, unavailable } from "./errors.js";
import type { IdTokenClaims } from "./id-token.js";

/**
 * What an email claim must be to be kept in the session:
 * - `"verified"` (default): kept only with `email_verified: true` (or Entra ID's `xms_edov: true`);
 *   otherwise the session's email is empty and the sign-in goes on, since the user is keyed by
 *   `sub`. Entra ID sends no `email_verified`, so its users sign in, without an email unless
 *   the tenant emits `xms_edov`.
 * - `"require-verified"`: a sign-in without a verified email is refused (403 `email_not_verified`).
 * - `"trusted"`: `email` (else an email-shaped `preferred_username`) is kept as the provider
 *   sends it; for a single-tenant directory you administer, never for a multi-tenant or
 *   consumer provider, where anyone can type any address.
 */
export type EmailPolicy = "verified" | "require-verified" | "trusted";

export interface RoleMapping {
  /** Claims that hold the user's groups or roles, read in order (e.g. `["groups", "roles"]`). @default [] */
  claims?: readonly string[];
  /**
   * Provider value → app role(s). Without a map, values are taken as role names (those that are
   * not valid role names are dropped). With a map, only mapped values give roles.
   */
  map?: Readonly<Record<string, string | readonly string[]>>;
}

export interface OidcUser {
  id: string;
  email: string;
  roles: string[];
  name?: string;
}

const ROLE = /^[A-Za-z0-9_.:-]{1,64}$/;
const MAX_ROLES = 32;
const EMAIL = /^[^\s@]{1,64}@[^\s@]{1,253}$/;

/** `oidc-` + base64url of the first 16 bytes of SHA-256(iss ‖ 0 ‖ sub): 27 characters of `[A-Za-z0-9_-]`. */
export async function userIdFor(iss: string, sub: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(`${iss}\0${sub}`));
  return "oidc-" + encodeBase64url(new Uint8Array(digest, 0, 16));
}

/** Whether the ID token already says what the user mapping reads. */
export function lacksProfileClaims(claims: IdTokenClaims, roleClaims: readonly string[] = []): boolean {
  return claims.email === undefined || roleClaims.some((c) => claims[c] === undefined);
}

/**
 * Fetches UserInfo with the access token and merges it under the ID token's claims. Its `sub`
 * must be the ID token's (Core §5.3.4): otherwise another user's answer could be substituted.
 */
export async function withUserInfo(claims: IdTokenClaims, endpoint: string, accessToken: string, fetchFn: typeof fetch = fetch): Promise<IdTokenClaims> {
  let res: Response;
  try {
    res = await fetchFn(endpoint, { headers: { Authorization: `Bearer ${accessToken}`, Accept: "application/json" }, signal: AbortSignal.timeout(5000) });
  } catch (error) {
    throw unavailable("userinfo_unreachable", { got: (error as Error).name });
  }
  // A signed or encrypted UserInfo (application/jwt) is not configured here: ask for JSON.
  const info = (await res.json().catch(() => null)) as Record<string, unknown> | null;
  if (!res.ok || !info || typeof info !== "object") throw unavailable("userinfo_failed", { expected: "200 JSON", got: res.status });
  if (info.sub !== claims.sub) throw failed("userinfo_sub_mismatch", { expected: claims.sub, got: info.sub });
  // The ID token's protocol claims win; UserInfo only adds.
  return { ...info, ...claims } as IdTokenClaims;
}

function pickEmail(claims: IdTokenClaims, policy: EmailPolicy): string | null {
  const email = typeof claims.email === "string" && EMAIL.test(claims.email) ? claims.email.toLowerCase() : null;
  const verified = claims.email_verified === true || claims.xms_edov === true;
  if (policy === "trusted") {
    const upn = typeof claims.preferred_username === "string" && EMAIL.test(claims.preferred_username) ? claims.preferred_username.toLowerCase() : null;
    return email ?? upn;
  }
  return email && verified ? email : null;
}

function pickRoles(claims: IdTokenClaims, mapping: RoleMapping = {}): string[] {
  const out = new Set<string>();
  for (const name of mapping.claims ?? []) {
    const value = claims[name];
    const values = Array.isArray(value) ? value : typeof value === "string" ? value.split(" ") : [];
    for (const v of values) {
      if (typeof v !== "string") continue;
      const mapped = mapping.map ? mapping.map[v] : v;
      for (const role of mapped === undefined ? [] : typeof mapped === "string" ? [mapped] : mapped) {
        if (ROLE.test(role) && out.size < MAX_ROLES) out.add(role);
      }
    }
  }
  return [...out];
}

/** The default user for verified claims (see `EmailPolicy` and `RoleMapping`). */
export async function defaultOidcUser(claims: IdTokenClaims, options: { email?: EmailPolicy; roles?: RoleMapping } = {}): Promise<OidcUser> {
  const policy = options.email ?? "verified";
  const email = pickEmail(claims, policy);
  if (email === null && policy === "require-verified") {
    throw new OidcError("forbidden", "email_not_verified", { expected: "email with email_verified: true", got: { email: claims.email !== undefined, email_verified: claims.email_verified } });
  }
  const name = typeof claims.name === "string" ? claims.name.slice(0, 200) : undefined;
  return { id: await userIdFor(claims.iss, claims.sub), email: email ?? "", roles: pickRoles(claims, options.roles), ...(name ? { name } : {}) };
}
