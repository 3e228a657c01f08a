/**
 * Expiry with a controllable clock: the app is built in-test with a clock we move, so idle and
 * absolute timeouts are exercised without waiting. The store's TTLs still run on real time,
 * which also covers "the store TTL disagrees with the recorded expiry": code wins.
 */
import { env } from "cloudflare:test";
import { Redis } from "@upstash/redis/cloudflare";
import { describe, expect, it } from "vitest";
import { Clock, testApp } from "../helpers/app.js";
import { call, register } from "../helpers/http.js";

const MIN = 60_000;

async function setup(overrides = {}) {
  const clock = new Clock();
  const app = await testApp({ SESSION_CACHE_TTL: "0", ...overrides }, clock);
  const user = await register(app.fetch);
  return { clock, app, user, me: () => call("/api/me", { token: user.token }, app.fetch) };
}

describe("idle timeout (default 30 min)", () => {
  it("expires after 30 minutes of inactivity", async () => {
    const { clock, me } = await setup();
    clock.advance(29 * MIN);
    expect((await me()).status).toBe(200);
    // That request slid the idle window; another 30 minutes of silence ends it.
    clock.advance(30 * MIN + 1);
    const r = await me();
    expect(r.status).toBe(401);
    expect(r.json.reason).toBe("expired");
  });

  it("does not expire while in use, sliding at most once per touch interval", async () => {
    const { clock, me, app, user } = await setup();
    const sessionKey = async () => {
      const s = await call("/auth/session", { token: user.token }, app.fetch);
      return s.json.session;
    };
    const before = await sessionKey();
    clock.advance(60_000); // less than the touch interval (3 min): no write
    await me();
    expect((await sessionKey()).lastSeenAt).toBe(before.lastSeenAt);
    clock.advance(3 * MIN);
    await me();
    expect(Date.parse((await sessionKey()).lastSeenAt)).toBeGreaterThan(Date.parse(before.lastSeenAt));
    for (let i = 0; i < 5; i++) {
      clock.advance(20 * MIN);
      expect((await me()).status).toBe(200);
    }
  });
});

describe("absolute timeout (default 12 h)", () => {
  it("ends the session at 12 h despite continuous use", async () => {
    const { clock, me } = await setup();
    for (let i = 0; i < 47; i++) {
      clock.advance(15 * MIN);
      expect((await me()).status, `after ${(i + 1) * 15} min`).toBe(200);
    }
    clock.advance(15 * MIN); // 12 h exactly
    const r = await me();
    expect(r.status).toBe(401);
    expect(r.json.reason).toBe("expired");
  });

  it("sliding never passes the absolute limit", async () => {
    const { clock, me, app, user } = await setup({ SESSION_IDLE_TIMEOUT: "30 m", SESSION_ABSOLUTE_TIMEOUT: "1 h" });
    clock.advance(25 * MIN);
    expect((await me()).status).toBe(200); // idle window slides to 55 min
    clock.advance(25 * MIN);
    expect((await me()).status).toBe(200); // would slide to 80 min: capped at the 60 min lifetime
    const s = await call("/auth/session", { token: user.token }, app.fetch);
    expect(Date.parse(s.json.session.idleExpiresAt)).toBe(Date.parse(s.json.session.expiresAt));
    clock.advance(10 * MIN);
    expect((await me()).status).toBe(401);
  });
});

describe("the store's keys carry TTLs", () => {
  it("session records and the per-user index expire on their own", async () => {
    const { app, user } = await setup();
    const redis = new Redis({ url: env.UPSTASH_REDIS_REST_URL, token: env.UPSTASH_REDIS_REST_TOKEN });
    const s = await call("/auth/session", { token: user.token }, app.fetch);
    const keys = app.deps.keys;
    const sessionTtl = await redis.pttl(keys.session(s.json.session.id));
    const indexTtl = await redis.pttl(keys.userIndex(user.user.id));
    expect(sessionTtl).toBeGreaterThan(0);
    expect(sessionTtl).toBeLessThanOrEqual(30 * MIN);
    expect(indexTtl).toBeGreaterThan(0);
    expect(indexTtl).toBeLessThanOrEqual(12 * 60 * MIN);
    // The id is never stored: the record key is a hash of it.
    const raw = await redis.get<Record<string, unknown>>(keys.session(s.json.session.id));
    expect(JSON.stringify(raw)).not.toContain(user.token.split(".")[2]);
  });
});
