/**
 * Identity headers that proxies and platforms in front of an origin set, and that an origin
 * behind one trusts: a client sending them through the gateway must not reach the origin with
 * them. And the allowlist mode (GATEWAY_FORWARD_HEADERS): only named headers pass.
 */
import { describe, expect, it } from "vitest";
import { forwardHeaders } from "../../src/gateway/forward-headers.js";
import { testApp } from "../helpers/app.js";

/** Common identity headers of auth proxies, cloud load balancers and frameworks (who sets them). */
const IDENTITY_HEADERS = [
  "X-Auth-Request-User", // oauth2-proxy
  "X-Auth-Request-Email",
  "X-Auth-Request-Groups",
  "X-Auth-Request-Preferred-Username",
  "X-Auth-Request-Access-Token",
  "GAP-Auth", // oauth2-proxy (legacy)
  "X-WEBAUTH-USER", // Grafana auth proxy
  "X-WEBAUTH-EMAIL",
  "X-WEBAUTH-ROLE",
  "Cf-Access-Authenticated-User-Email", // Cloudflare Access
  "Cf-Access-Jwt-Assertion",
  "Cf-Access-Client-Id",
  "X-Amzn-Oidc-Data", // AWS ALB
  "X-Amzn-Oidc-Identity",
  "X-Amzn-Oidc-Accesstoken",
  "X-Goog-Authenticated-User-Email", // Google IAP
  "X-Goog-Authenticated-User-Id",
  "X-Goog-Iap-Jwt-Assertion",
  "X-MS-CLIENT-PRINCIPAL", // Azure App Service authentication
  "X-MS-CLIENT-PRINCIPAL-NAME",
  "X-MS-CLIENT-PRINCIPAL-ID",
  "X-MS-CLIENT-PRINCIPAL-IDP",
  "X-MS-TOKEN-AAD-ID-TOKEN",
  "X-Middleware-Subrequest", // Next.js (CVE-2025-29927)
  "X-Forwarded-User", // nginx auth_request, Traefik forward auth
  "X-Forwarded-Email",
  "X-Forwarded-Groups",
  "Remote-User", // Authelia, Apache
  "Remote-Groups",
  "Remote-Email",
  "X-Remote-User",
  "X-Pomerium-Jwt-Assertion", // Pomerium
  "X-Pomerium-Claim-Email",
  "X-Consumer-Username", // Kong
  "X-Consumer-ID",
  "X-Authenticated-Userid",
  "X-Userinfo",
  "X-Vouch-User", // Vouch Proxy
  "Tailscale-User-Login", // Tailscale Serve
  "X-Apigateway-Api-Userinfo", // Google API Gateway
  "X-Endpoint-API-UserInfo",
  "X-SSL-Client-Cert", // mTLS terminators
  "Ssl-Client-Verify",
  "X-Client-Cert",
];

describe("attack: identity headers of the proxies an origin may trust, sent by the client", () => {
  it.each(IDENTITY_HEADERS)("%s never reaches the origin", (name) => {
    expect(forwardHeaders(new Headers([[name, "admin@example.com"]])).has(name)).toBe(false);
    expect(forwardHeaders(new Headers([[name.toLowerCase(), "admin@example.com"]])).has(name)).toBe(false);
  });

  it("ordinary headers still pass", () => {
    const out = forwardHeaders(new Headers({ Accept: "text/html", "X-Request-Id": "r1", "X-Goose": "g", "If-None-Match": '"e"' }));
    expect([...out.keys()].sort()).toEqual(["accept", "if-none-match", "x-goose", "x-request-id"]);
  });
});

describe("allowlist mode: only named headers reach the origin", () => {
  it("forwards exactly the named ones (any case), never an identity header even if named", () => {
    const incoming = new Headers({ Accept: "a", "Content-Type": "c", "X-Custom": "x", "X-Other": "o", "X-Auth-Request-User": "admin", Cookie: "a=1" });
    const out = forwardHeaders(incoming, { allow: ["accept", "CONTENT-TYPE", "x-custom", "X-Auth-Request-User"] });
    expect([...out.keys()].sort()).toEqual(["accept", "content-type", "x-custom"]);
  });

  it("GATEWAY_FORWARD_HEADERS configures it; an identity header in the list is a configuration error", async () => {
    const gw = { ORIGIN_URL: "http://127.0.0.1:9", GATEWAY_ASSERTION_KEY: "k".repeat(40) };
    const app = await testApp({ ...gw, GATEWAY_FORWARD_HEADERS: "Accept, Content-Type, X-Custom" });
    expect(app.deps.config.gateway?.forwardHeaders).toEqual(["accept", "content-type", "x-custom"]);
    await expect(testApp({ ...gw, GATEWAY_FORWARD_HEADERS: "Accept, X-Session-User" })).rejects.toThrow(/GATEWAY_FORWARD_HEADERS/);
    await expect(testApp({ ...gw, GATEWAY_FORWARD_HEADERS: "Accept, bad header" })).rejects.toThrow(/GATEWAY_FORWARD_HEADERS/);
  });
});
