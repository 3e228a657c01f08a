/**
 * The pure checks of src/oidc that the provider tests cannot reach with one oidc-provider: issuer
 * URLs (HTTPS only, loopback HTTP in development), multi-tenant issuer templates with the tenant
 * allowlist, and RFC 6749 §2.3.1 Basic credentials.
 */
import { describe, expect, it } from "vitest";
import { basicAuthorization, checkIssuer, checkProviderUrl, OidcError, tenantOf } from "../../src/oidc/index.ts";

const TEMPLATE = "https://login.microsoftonline.com/{tenantid}/v2.0";
const reasonOf = (f: () => unknown) => {
  try {
    f();
  } catch (e) {
    return e instanceof OidcError ? `${e.kind}:${e.reason}` : String(e);
  }
  return "accepted";
};

describe("issuer URLs", () => {
  it("HTTPS is required; HTTP only on loopback and only in development", () => {
    expect(reasonOf(() => checkProviderUrl("https://idp.example", "issuer"))).toBe("accepted");
    expect(reasonOf(() => checkProviderUrl("http://idp.example", "issuer", true))).toBe("sso_unavailable:issuer_not_https");
    expect(reasonOf(() => checkProviderUrl("http://127.0.0.1:9000", "issuer"))).toBe("sso_unavailable:issuer_not_https");
    expect(reasonOf(() => checkProviderUrl("http://127.0.0.1:9000", "issuer", true))).toBe("accepted");
    expect(reasonOf(() => checkProviderUrl("http://localhost:9000", "issuer", true))).toBe("accepted");
    expect(reasonOf(() => checkProviderUrl("not a url", "issuer", true))).toBe("sso_unavailable:issuer_invalid");
  });
});

describe("multi-tenant issuers", () => {
  const tenants = { template: TEMPLATE, allow: ["tenant-a"] };
  it("the tenant is read from the issuer by the template", () => {
    expect(tenantOf("https://login.microsoftonline.com/tenant-a/v2.0", TEMPLATE)).toBe("tenant-a");
    expect(tenantOf("https://login.microsoftonline.com/v2.0", TEMPLATE)).toBeNull();
    expect(tenantOf("https://evil.example/tenant-a/v2.0", TEMPLATE)).toBeNull();
    expect(tenantOf("https://login.microsoftonline.com/a/b/v2.0", TEMPLATE)).toBeNull();
  });
  it("an allowed tenant passes; another tenant is 403 tenant_not_allowed; a tid that disagrees with the issuer is refused", () => {
    expect(checkIssuer("https://login.microsoftonline.com/tenant-a/v2.0", "https://login.microsoftonline.com/organizations/v2.0", tenants, "tenant-a")).toBe("tenant-a");
    expect(reasonOf(() => checkIssuer("https://login.microsoftonline.com/tenant-b/v2.0", "x", tenants, "tenant-b"))).toBe("forbidden:tenant_not_allowed");
    expect(reasonOf(() => checkIssuer("https://login.microsoftonline.com/tenant-a/v2.0", "x", tenants, "tenant-b"))).toBe("sso_failed:tenant_mismatch");
    expect(reasonOf(() => checkIssuer("https://evil.example/tenant-a/v2.0", "x", tenants))).toBe("sso_failed:wrong_issuer");
  });
});

describe("client_secret_basic", () => {
  it("form-encodes id and secret before Base64, so + / = % : and spaces survive the provider's decoding", () => {
    const secret = "a+b/c=d%e:f g";
    const header = basicAuthorization("client:1", secret);
    const [id, sec] = Buffer.from(header.slice("Basic ".length), "base64").toString("utf8").split(":");
    expect(id).toBe("client%3A1");
    // The decoding RFC 6749 §2.3.1 prescribes (and oidc-provider applies).
    const decode = (s: string) => decodeURIComponent(s.replace(/\+/g, "%20"));
    expect(decode(id!)).toBe("client:1");
    expect(decode(sec!)).toBe(secret);
  });
});
