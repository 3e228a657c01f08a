/**
 * The CORS middleware on responses whose headers are immutable (a `fetch()` result passed
 * through as fetched, `Response.redirect()`): they must get the same CORS headers as any other
 * response. The middleware copies such a response before adding its
 * headers; the copy must be the response Hono sends (hono/cors, which it replaced, did so).
 */
import { env } from "cloudflare:test";
import { Hono } from "hono";
import { describe, expect, it } from "vitest";
import { cors } from "../../src/http/cors.js";

function app() {
  const a = new Hono();
  a.use(cors({ origins: ["https://app.example"], exposeHeaders: ["WWW-Authenticate"] }));
  // A response as fetched: workerd makes its headers immutable.
  a.get("/fetched", () => fetch(`${env.STORE_CONTROL_URL}/no-such-control-route`));
  a.get("/redirect", () => Response.redirect("https://elsewhere.example/", 302));
  return a;
}

describe("CORS on responses with immutable headers", () => {
  it.each(["/fetched", "/redirect"])("%s: an allowed origin gets Allow-Origin, Expose-Headers and Vary", async (path) => {
    const r = await app().request(path, { headers: { Origin: "https://app.example" } });
    expect(() => new Headers(r.headers)).not.toThrow();
    expect(r.headers.get("Access-Control-Allow-Origin")).toBe("https://app.example");
    expect(r.headers.get("Access-Control-Expose-Headers")).toBe("WWW-Authenticate");
    expect(r.headers.get("Vary")).toContain("Origin");
    await r.body?.cancel();
  });

  it.each(["/fetched", "/redirect"])("%s: another origin gets Vary: Origin and nothing else", async (path) => {
    const r = await app().request(path, { headers: { Origin: "https://evil.example" } });
    expect(r.headers.get("Vary")).toContain("Origin");
    expect(r.headers.get("Access-Control-Allow-Origin")).toBeNull();
    await r.body?.cancel();
  });

  it("the copied response keeps its status and body", async () => {
    const direct = await fetch(`${env.STORE_CONTROL_URL}/no-such-control-route`);
    const body = await direct.text();
    const r = await app().request("/fetched", { headers: { Origin: "https://app.example" } });
    expect(r.status).toBe(direct.status);
    expect(await r.text()).toBe(body);
  });
});
