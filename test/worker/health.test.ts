import { describe, expect, it } from "vitest";
import { Clock, testApp } from "../helpers/app.js";
import { call } from "../helpers/http.js";
import { privateStore, setControl } from "../helpers/store.js";

describe("GET /health", () => {
  it("answers up after a round trip to the store", async () => {
    const r = await call("/health");
    expect(r.status).toBe(200);
    expect(r.json).toEqual({ ok: true, store: "up" });
  });

  it("answers 503 down, quickly, when nothing listens at the store's address", async () => {
    const app = await testApp({ UPSTASH_REDIS_REST_URL: "http://127.0.0.1:9" });
    const started = Date.now();
    const r = await call("/health", {}, app.fetch);
    expect(r.status).toBe(503);
    expect(r.json).toEqual({ ok: false, store: "down" });
    expect(Date.now() - started).toBeLessThan(2000);
  });

  it("answers 503 within 2 s when the store hangs", async () => {
    const store = await privateStore();
    try {
      const clock = new Clock();
      const app = await testApp({ UPSTASH_REDIS_REST_URL: store.url, UPSTASH_REDIS_REST_TOKEN: store.token }, clock);
      expect((await call("/health", {}, app.fetch)).status).toBe(200);
      await setControl(store, { fault: "hang" });
      clock.advance(1_001); // past the answer's lifetime (HEALTH_CACHE_MS)
      const started = Date.now();
      const r = await call("/health", {}, app.fetch);
      expect(r.status).toBe(503);
      expect(Date.now() - started).toBeLessThan(2000);
    } finally {
      await setControl(store, { fault: null }).catch(() => {});
      await store.close();
    }
  });

  it("answers 503 when the store rejects its credentials", async () => {
    const app = await testApp({ UPSTASH_REDIS_REST_TOKEN: "not-the-token" });
    expect((await call("/health", {}, app.fetch)).status).toBe(503);
  });
});
