/**
 * Socket upgrades cost a store read, a Durable Object call or two and a socket each: one
 * session opening and closing sockets in a loop is limited (WS_UPGRADE_RATE per session,
 * counted in the store so every isolate shares it), on `/ws` and on the gateway's relay.
 */
import { describe, expect, it } from "vitest";
import { testApp } from "../helpers/app.js";
import { BASE } from "../helpers/http.js";
import { cookieHeader, cookieSignIn } from "../helpers/cookie.js";
import { open, upgrade } from "../helpers/ws.js";

describe("attack: open/close socket cycles from one session", () => {
  it("the 6th upgrade within the window is 429 rate_limited with Retry-After; another session is unaffected", async () => {
    const app = await testApp({ WS_UPGRADE_RATE: "5 / 1 m" });
    const a = await cookieSignIn(app.fetch);
    const b = await cookieSignIn(app.fetch);
    for (let i = 1; i <= 5; i++) {
      const r = await upgrade("/ws", { ...cookieHeader(a.token), Origin: BASE }, app.fetch);
      expect(r.status, `upgrade ${i}`).toBe(101);
      const s = open(r);
      await s.next();
      s.ws.close();
    }
    const refused = await upgrade("/ws", { ...cookieHeader(a.token), Origin: BASE }, app.fetch);
    expect(refused.status).toBe(429);
    expect(await refused.json()).toMatchObject({ error: "rate_limited" });
    const retry = Number(refused.headers.get("Retry-After"));
    expect(retry).toBeGreaterThan(0);
    expect(retry).toBeLessThanOrEqual(60);
    const other = await upgrade("/ws", { ...cookieHeader(b.token), Origin: BASE }, app.fetch);
    expect(other.status).toBe(101);
    open(other).ws.close();
  });

  it("the gateway's relay counts against the same budget", async () => {
    const app = await testApp({ WS_UPGRADE_RATE: "1 / 1 m", ORIGIN_URL: "http://127.0.0.1:9", GATEWAY_PATHS: "/app/*", GATEWAY_ASSERTION_KEY: "k".repeat(40) });
    const a = await cookieSignIn(app.fetch);
    const first = await upgrade("/app/live", { ...cookieHeader(a.token), Origin: BASE }, app.fetch);
    expect(first.status).toBe(502); // counted, then nothing listens at the origin
    const second = await upgrade("/app/live", { ...cookieHeader(a.token), Origin: BASE }, app.fetch);
    expect(second.status).toBe(429);
  });

  it("has a default, and refuses a malformed rule", async () => {
    const app = await testApp({ WS_UPGRADE_RATE: undefined });
    expect(app.deps.config.ws.upgradeRate).toEqual({ limit: 30, windowMs: 60_000 });
    await expect(testApp({ WS_UPGRADE_RATE: "many" })).rejects.toThrow(/WS_UPGRADE_RATE/);
  });
});
