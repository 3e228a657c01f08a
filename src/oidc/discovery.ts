/**
 * Provider metadata (OpenID Connect Discovery 1.0) and issuer identity: which URLs may be
 * issuers, how a multi-tenant issuer template (`…/{tenantid}/v2.0`) is matched against the
 * tenant allowlist, and the discovery document, cached per isolate as plain data.
 */
import { failed, OidcError, unavailable } from "./errors.js";

export interface ProviderMetadata {
  issuer: string;
  authorization_endpoint: string;
  token_endpoint: string;
  jwks_uri: string;
  userinfo_endpoint?: string;
  end_session_endpoint?: string;
  /** RFC 9207: the provider adds `iss` to every authorization response. */
  authorization_response_iss_parameter_supported?: boolean;
  token_endpoint_auth_methods_supported?: string[];
}

/** Multi-tenant issuers (Entra ID's `organizations` / `common`): each tenant signs as its own issuer. */
export interface TenantOptions {
  /** The issuer with `{tenantid}` where the tenant goes, e.g. `https://login.microsoftonline.com/{tenantid}/v2.0`. */
  template: string;
  /** Tenant ids admitted; any other tenant's users are refused (403 `tenant_not_allowed`). */
  allow: readonly string[];
}

const LOOPBACK = new Set(["127.0.0.1", "localhost", "[::1]"]);

/**
 * Throws unless `url` is an HTTPS URL (or, with `development`, plain HTTP on loopback): metadata,
 * keys and tokens must not cross the network in the clear.
 */
export function checkProviderUrl(url: string, what: string, development = false): URL {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new OidcError("sso_unavailable", `${what}_invalid`, { expected: "an absolute URL", got: url });
  }
  if (u.protocol === "https:") return u;
  if (u.protocol === "http:" && development && LOOPBACK.has(u.hostname)) return u;
  throw new OidcError("sso_unavailable", `${what}_not_https`, { expected: development ? "https, or http on loopback" : "https", got: u.origin });
}

const TENANT_ID = /^[A-Za-z0-9._-]{1,64}$/;

/** The tenant a token's `iss` names under the template, or null when it does not fit the template. */
export function tenantOf(iss: string, template: string): string | null {
  const at = template.indexOf("{tenantid}");
  if (at < 0) return null;
  const head = template.slice(0, at);
  const tail = template.slice(at + "{tenantid}".length);
  if (!iss.startsWith(head) || !iss.endsWith(tail) || iss.length <= head.length + tail.length) return null;
  const tenant = iss.slice(head.length, iss.length - tail.length);
  return TENANT_ID.test(tenant) ? tenant : null;
}

/**
 * Checks a token's `iss` against the configured issuer, or for a multi-tenant provider against
 * the template and the allowlist (and the `tid` claim, where the provider sends one). Returns
 * the tenant, if any.
 */
export function checkIssuer(iss: unknown, issuer: string, tenants?: TenantOptions, tid?: unknown): string | undefined {
  if (!tenants) {
    if (iss !== issuer) throw failed("wrong_issuer", { expected: issuer, got: iss });
    return undefined;
  }
  const tenant = typeof iss === "string" ? tenantOf(iss, tenants.template) : null;
  if (tenant === null) throw failed("wrong_issuer", { expected: tenants.template, got: iss });
  if (tid !== undefined && tid !== tenant) throw failed("tenant_mismatch", { expected: tenant, got: tid });
  if (!tenants.allow.includes(tenant)) throw new OidcError("forbidden", "tenant_not_allowed", { expected: tenants.allow, got: tenant });
  return tenant;
}

interface Cached {
  metadata: ProviderMetadata;
  fetchedAt: number;
}
/** Plain data only: a shared promise would tie one request to another's I/O (refused by workerd). */
const cache = new Map<string, Cached>();

export interface DiscoveryOptions {
  issuer: string;
  tenants?: TenantOptions;
  development?: boolean;
  /** How long a document is reused. @default 3_600_000 */
  maxAgeMs?: number;
  fetch?: typeof fetch;
  now?: () => number;
}

const REQUIRED = ["authorization_endpoint", "token_endpoint", "jwks_uri"] as const;

/** The provider's metadata, checked: its `issuer` is the one configured and every endpoint is HTTPS. */
export async function discover(o: DiscoveryOptions): Promise<ProviderMetadata> {
  const now = (o.now ?? Date.now)();
  const hit = cache.get(o.issuer);
  if (hit && now - hit.fetchedAt < (o.maxAgeMs ?? 3_600_000)) return hit.metadata;
  const base = checkProviderUrl(o.issuer, "issuer", o.development);
  const url = new URL(".well-known/openid-configuration", base.href.replace(/\/?$/, "/"));
  let res: Response;
  try {
    res = await (o.fetch ?? fetch)(url, { headers: { Accept: "application/json" }, signal: AbortSignal.timeout(5000) });
  } catch (error) {
    throw unavailable("discovery_unreachable", { expected: url.href, got: (error as Error).name });
  }
  const doc = (await res.json().catch(() => null)) as Record<string, unknown> | null;
  if (!res.ok || !doc || typeof doc !== "object") throw unavailable("discovery_failed", { expected: `200 JSON at ${url.href}`, got: res.status });
  // A multi-tenant document names the template as its issuer (Entra ID does).
  const expectedIssuer = o.tenants ? [o.issuer, o.tenants.template] : [o.issuer];
  if (!expectedIssuer.includes(doc.issuer as string)) throw unavailable("discovery_issuer_mismatch", { expected: expectedIssuer, got: doc.issuer });
  for (const field of REQUIRED) {
    if (typeof doc[field] !== "string") throw unavailable("discovery_incomplete", { expected: field, got: Object.keys(doc) });
    checkProviderUrl(doc[field] as string, field, o.development);
  }
  for (const field of ["userinfo_endpoint", "end_session_endpoint"] as const) {
    if (doc[field] !== undefined) checkProviderUrl(String(doc[field]), field, o.development);
  }
  const metadata = doc as unknown as ProviderMetadata;
  cache.set(o.issuer, { metadata, fetchedAt: now });
  return metadata;
}

/** Forgets cached documents (tests; a provider moved). */
export function clearDiscoveryCache(): void {
  cache.clear();
}
