/**
 * Request headers by which proxies, load balancers and platforms in front of an origin tell it
 * who the user is. An origin deployed behind one of them trusts these names, so a client that
 * sends them through the gateway must never reach the origin with them. Kept here, one place,
 * with who sets each: add a product's names when you put the gateway in front of an origin
 * built for it. Matched case-insensitively; a prefix covers every name that starts with it.
 */

/** Whole families: every header whose lower-cased name starts with one of these. */
export const IDENTITY_HEADER_PREFIXES = [
  "x-session", // ours (X-Session-User, -Roles, -Id, -Assertion), in every spelling
  "x-forwarded", // X-Forwarded-For/-Host/-Proto (set by us) and -User/-Email/-Groups (auth_request, Traefik)
  "x-auth-request-", // oauth2-proxy
  "x-webauth-", // Grafana auth proxy
  "cf-access-", // Cloudflare Access
  "x-amzn-oidc-", // AWS Application Load Balancer
  "x-goog-", // Google IAP (X-Goog-Authenticated-User-*, X-Goog-Iap-Jwt-Assertion)
  "x-ms-client-principal", // Azure App Service authentication
  "x-ms-token-", // Azure App Service token store
  "x-pomerium-", // Pomerium
  "x-consumer-", // Kong
  "x-credential-", // Kong
  "x-authenticated-", // Kong, Envoy filters
  "x-vouch-", // Vouch Proxy
  "tailscale-", // Tailscale Serve
  "remote-", // Authelia, Apache (Remote-User, Remote-Groups, Remote-Email, Remote-Name)
  "x-remote-", // Apache, Authelia variants
  "x-ssl-client-", // client-certificate identity from TLS terminators
  "ssl-client-",
  "x-client-cert", // X-Client-Cert, X-Client-Cert-Chain
  "x-middleware-", // Next.js internal (X-Middleware-Subrequest skips middleware: CVE-2025-29927)
  "x-envoy-", // Envoy internal (original path, peer metadata)
];

/** Single names. */
export const IDENTITY_HEADER_NAMES = new Set([
  "gap-auth", // oauth2-proxy (legacy)
  "x-userinfo", // Kong OpenID Connect
  "x-apigateway-api-userinfo", // Google API Gateway
  "x-endpoint-api-userinfo", // Google Cloud Endpoints
  "x-user", // generic
  "x-email",
  "x-user-id",
  "x-user-email",
  "x-id-token",
  "x-access-token",
  "x-jwt-assertion",
  "x-jwt-payload",
  "x-principal",
  "x-proxy-user",
]);

/** True when `name` (any case) is an identity header of some proxy or platform. */
export function isIdentityHeader(name: string): boolean {
  const n = name.toLowerCase();
  return IDENTITY_HEADER_NAMES.has(n) || IDENTITY_HEADER_PREFIXES.some((p) => n.startsWith(p));
}
