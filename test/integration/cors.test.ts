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

  it("exposes Authorization and WWW-Authenticate to the page", async () => {
    const a = await register();
    const ok = await call("/api/me", { token: a.token, headers: { Origin: "https://app.example" } });
    const exposed = ok.headers.get("Access-Control-Expose-Headers")?.toLowerCase() ?? "";
    expect(exposed).toContain("authorization");
    expect(exposed).toContain("www-authenticate");
    const denied = await call("/api/me", { headers: { Origin: "https://app.example" } });
    expect(denied.status).toBe(401);
    expect(denied.headers.get("Access-Control-Allow-Origin")).toBe("https://app.example");
  });

  it("grants nothing to an origin not on the list", async () => {
    const r = await call("/api/me", { method: "OPTIONS", headers: { Origin: "https://evil.example", "Access-Control-Request-Method": "GET" } });
    expect(r.headers.get("Access-Control-Allow-Origin")).toBeNull();
  });
});
