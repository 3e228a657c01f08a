import { describe, expect, it } from "vitest";
import { call, register } from "../helpers/http.js";

describe("CORS for SPAs on other origins", () => {
  it("answers a preflight for an allowed origin, allowing Authorization", async () => {
    const r = await call("/api/me", { method: "OPTIONS", headers: { Origin: "https://app.example", "Access-Control-Request-Method": "GET", "Access-Control-Request-Headers": "authorization" } });
    expect(r.status).toBe(204);
    expect(r.headers.get("Access-Control-Allow-Origin")).toBe("https://app.example");
    expect(r.headers.get("Access-Control-Allow-Headers")?.toLowerCase()).toContain("authorization");
    expect(r.headers.get("Access-Control-Allow-Credentials")).toBeNull(); // no cookies needed
  });

  it("exposes WWW-Authenticate and Retry-After to the page, never Authorization (the token is in the body)", async () => {
    const a = await register();
    const ok = await call("/api/me", { token: a.token, headers: { Origin: "https://app.example" } });
    const exposed = ok.headers.get("Access-Control-Expose-Headers")?.toLowerCase() ?? "";
    expect(exposed).not.toContain("authorization");
    expect(exposed).toContain("www-authenticate");
    expect(exposed).toContain("retry-after");
    const denied = await call("/api/me", { headers: { Origin: "https://app.example" } });
    expect(denied.status).toBe(401);
    expect(denied.headers.get("Access-Control-Allow-Origin")).toBe("https://app.example");
  });

  it("grants nothing to an origin not on the list", async () => {
    const r = await call("/api/me", { method: "OPTIONS", headers: { Origin: "https://evil.example", "Access-Control-Request-Method": "GET" } });
    expect(r.headers.get("Access-Control-Allow-Origin")).toBeNull();
  });

  it("says Vary: Origin on every answer, and grants nothing to a request without an Origin", async () => {
    const plain = await call("/api/hello");
    expect(plain.status).toBe(200);
    expect(plain.headers.get("Vary")).toContain("Origin");
    expect(plain.headers.get("Access-Control-Allow-Origin")).toBeNull();
    const other = await call("/api/hello", { headers: { Origin: "https://evil.example" } });
    expect(other.headers.get("Vary")).toContain("Origin");
    expect(other.headers.get("Access-Control-Allow-Origin")).toBeNull();
    expect(other.headers.get("Access-Control-Expose-Headers")).toBeNull();
  });

  it("adds its headers to refusals too (a 404, a 400 from a bad body)", async () => {
    const missing = await call("/no/such/route", { headers: { Origin: "https://app.example" } });
    expect(missing.status).toBe(404);
    expect(missing.headers.get("Access-Control-Allow-Origin")).toBe("https://app.example");
    const bad = await call("/auth/login", { method: "POST", body: "{not json", headers: { Origin: "https://app.example", "Content-Type": "application/json" } });
    expect(bad.status).toBe(400);
    expect(bad.headers.get("Access-Control-Allow-Origin")).toBe("https://app.example");
  });
});
