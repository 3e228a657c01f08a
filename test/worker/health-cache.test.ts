/**
 * `/health` is unauthenticated: each request must not cost a store round trip. Its answer is
 * kept per isolate for HEALTH_CACHE_TTL (1 s), up or down alike.
 */
import { describe, expect, it } from "vitest";
import { Clock, testApp } from "../helpers/app.js";
import { call } from "../helpers/http.js";
import { privateStore, resetStats, setControl, stats } from "../helpers/store.js";

const pings = async (s: Awaited<ReturnType<typeof privateStore>>) => Object.entries((await stats(s)).commands ?? {}).filter(([name]) => name.toLowerCase() === "ping").reduce((a, [, n]) => a + n, 0);

describe("attack: store load through unauthenticated /health", () => {
  it("50 requests within the cache lifetime cost one store round trip", async () => {
    const store = await privateStore();
    try {
      const clock = new Clock();
      const app = await testApp({ UPSTASH_REDIS_REST_URL: store.url, UPSTASH_REDIS_REST_TOKEN: store.token }, clock);
      await resetStats(store);
      for (let i = 0; i < 50; i++) expect((await call("/health", {}, app.fetch)).status).toBe(200);
      expect(await pings(store)).toBe(1);
      // Past the lifetime: asked again, once.
      clock.advance(1_001);
      for (let i = 0; i < 5; i++) await call("/health", {}, app.fetch);
      expect(await pings(store)).toBe(2);
    } finally {
      await store.close();
    }
  });

  it("a store that goes down is reported once the cached answer is older than the lifetime", async () => {
    const store = await privateStore();
    try {
      const clock = new Clock();
      const app = await testApp({ UPSTASH_REDIS_REST_URL: store.url, UPSTASH_REDIS_REST_TOKEN: store.token }, clock);
      expect((await call("/health", {}, app.fetch)).status).toBe(200);
      await setControl(store, { fault: "status500" });
      clock.advance(1_001);
      const r = await call("/health", {}, app.fetch);
      expect(r.status).toBe(503);
      expect(r.json).toEqual({ ok: false, store: "down" });
    } finally {
      await setControl(store, { fault: null }).catch(() => {});
      await store.close();
    }
  });
});
