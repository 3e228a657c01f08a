/**
 * Failing securely (ASVS 16.5.2 / 16.5.3): whatever way the session store fails — connection
 * refused, hanging, 5xx, a body that is not JSON, rejected credentials — a protected request
 * gets 503 `session_store_unavailable` with `Retry-After`, within a bounded time: never a 401
 * (the client keeps its possibly good token), never a grant. Login and register answer 503 and
 * issue nothing. When the fault clears, every session that existed works again. The rate
 * limiter failing on its own denies the login (503) instead of waving it through.
 *
 * Every fault is injected on a private store instance (its own switches and counters), so the
 * files running alongside this one are not affected.
 */
import { createExecutionContext, env as bindings, waitOnExecutionContext } from "cloudflare:test";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApp } from "../../src/worker/app.js";
import { createUpstashStore } from "../../src/store/redis.js";
import { createRateLimits, limitRules } from "../../src/accounts/rate-limits.js";
import type { Deps } from "../../src/worker/deps.js";
import { Clock, testApp } from "../helpers/app.js";
import { call, login, PASSWORD, register, uniqueEmail, type Fetch, type LoggedIn } from "../helpers/http.js";
import { privateStore, resetStats, setControl, totalCommands, type StoreInstance } from "../helpers/store.js";
import { figure } from "../helpers/figure.js";

const FAULTS = ["refuse", "hang", "status500", "invalid-json", "unauthorized"] as const;
type Fault = (typeof FAULTS)[number];

/** STORE_TIMEOUT_MS defaults to 1000 (the budget of one store operation, retries included). */
const BOUND_MS = 1500;

const worst: Record<string, number> = {};
afterAll(() => {
  // The figure SECURITY.md quotes: the slowest 503 seen per fault.
  figure(`[fail-closed] worst-case time to a 503 per fault (bound ${BOUND_MS} ms): ${JSON.stringify(worst)}`);
});

async function timed(fault: string, what: string, p: () => Promise<{ status: number; headers: Headers; json: any; text: string }>) {
  // Workers clocks advance across I/O only, which is exactly the wait we measure.
  const started = Date.now();
  const r = await p();
  const ms = Date.now() - started;
  worst[fault] = Math.max(worst[fault] ?? 0, ms);
  return { ...r, ms, what };
}

function expectUnavailable(r: { status: number; headers: Headers; json: any; text: string; ms: number; what: string }) {
  expect(r.status, `${r.what}: ${r.text}`).toBe(503);
  expect(r.json, r.what).toEqual({ error: "session_store_unavailable" });
  expect(r.headers.get("Retry-After"), r.what).toMatch(/^[1-9]\d*$/);
  expect(r.headers.get("WWW-Authenticate"), r.what).toBeNull();
  expect(r.headers.get("Authorization"), r.what).toBeNull();
  expect(r.ms, `${r.what} took ${Math.round(r.ms)} ms`).toBeLessThan(BOUND_MS);
}

async function withFault<T>(store: StoreInstance, fault: Fault, body: () => Promise<T>): Promise<T> {
  await setControl(store, { fault });
  try {
    return await body();
  } finally {
    await setControl(store, { fault: null });
  }
}

for (const fault of FAULTS) {
  describe(`store fault: ${fault}`, () => {
    let store: StoreInstance & { close(): Promise<void> };
    let app: Fetch;
    let a: LoggedIn;
    let aTokens: string[];
    let b: LoggedIn;

    beforeAll(async () => {
      store = await privateStore();
      // No edge cache: nothing may be answered from memory, every verdict needs the store.
      app = (await testApp({ UPSTASH_REDIS_REST_URL: store.url, UPSTASH_REDIS_REST_TOKEN: store.token, SESSION_CACHE_TTL: "0" })).fetch;
      a = await register(app);
      aTokens = [a.token, (await login(app, a.email)).token, (await login(app, a.email)).token];
      b = await register(app);
    });
    afterAll(async () => {
      await setControl(store, { fault: null }).catch(() => {});
      await store?.close();
    });

    it("every protected request → 503 session_store_unavailable with Retry-After, never 401, within the bound", { timeout: 30_000 }, async () => {
      const t = aTokens[1]!;
      const ticket = (await call("/auth/ws-ticket", { method: "POST", token: t }, app)).json.ticket as string;
      await resetStats(store);
      const results = await withFault(store, fault, () =>
        Promise.all([
          timed(fault, "GET /api/me", () => call("/api/me", { token: t }, app)),
          timed(fault, "GET /api/me (other user)", () => call("/api/me", { token: b.token }, app)),
          timed(fault, "GET /auth/session", () => call("/auth/session", { token: t }, app)),
          timed(fault, "GET /auth/sessions", () => call("/auth/sessions", { token: t }, app)),
          timed(fault, "POST /auth/logout", () => call("/auth/logout", { method: "POST", token: t }, app)),
          timed(fault, "POST /auth/sessions/revoke-others", () => call("/auth/sessions/revoke-others", { method: "POST", token: t }, app)),
          timed(fault, "POST /auth/ws-ticket", () => call("/auth/ws-ticket", { method: "POST", token: t }, app)),
          timed(fault, "POST /auth/password", () => call("/auth/password", { body: { currentPassword: PASSWORD, newPassword: "another long password" }, token: t }, app)),
          timed(fault, "GET /admin/users/:id/sessions", () => call(`/admin/users/${a.user.id}/sessions`, { token: t }, app)),
          timed(fault, "GET /ws (ticket)", () =>
            call(`/ws?token=${ticket}`, { headers: { Upgrade: "websocket", Origin: "https://app.example" } }, app),
          ),
        ]),
      );
      for (const r of results) expectUnavailable(r);
      // Nothing reached the data: no command ran while the store was failing.
      expect(await totalCommands(store)).toBe(0);
      // A forged token is still a plain 401 (decided without the store): the 503 is not a blanket answer.
      const forged = t.slice(0, -2) + (t.endsWith("AA") ? "BA" : "AA");
      const f = await withFault(store, fault, () => call("/api/me", { token: forged }, app));
      expect(f.status).toBe(401);
    });

    it("login and register → 503 and issue no session; after recovery nothing was created", { timeout: 30_000 }, async () => {
      const newEmail = uniqueEmail("fc-reg");
      const before = (await call("/auth/sessions", { token: aTokens[0] }, app)).json.sessions.length as number;
      expect(before).toBe(3);
      await resetStats(store);
      const results = await withFault(store, fault, () =>
        Promise.all([
          timed(fault, "POST /auth/login (right password)", () => call("/auth/login", { body: { email: a.email, password: PASSWORD } }, app)),
          timed(fault, "POST /auth/login (wrong password)", () => call("/auth/login", { body: { email: a.email, password: "wrong password!" } }, app)),
          timed(fault, "POST /auth/register", () => call("/auth/register", { body: { email: newEmail, password: PASSWORD } }, app)),
        ]),
      );
      for (const r of results) {
        expectUnavailable(r);
        expect(r.text).not.toMatch(/v1\./); // no token of any kind in the body
      }
      expect(await totalCommands(store)).toBe(0);
      // Recovered: the user still has exactly the sessions they had; the registration never happened.
      const after = await call("/auth/sessions", { token: aTokens[0] }, app);
      expect(after.status).toBe(200);
      expect(after.json.sessions).toHaveLength(before);
      const ghost = await call("/auth/login", { body: { email: newEmail, password: PASSWORD } }, app);
      expect(ghost.status).toBe(401);
      expect(ghost.json).toEqual({ error: "invalid_credentials" });
    });

    it("when the fault clears, every session that existed works again (nothing lost)", { timeout: 30_000 }, async () => {
      await withFault(store, fault, async () => {
        for (const t of [...aTokens, b.token]) expect((await call("/api/me", { token: t }, app)).status).toBe(503);
      });
      for (const t of [...aTokens, b.token]) {
        const me = await call("/api/me", { token: t }, app);
        expect(me.status).toBe(200);
        expect((await call("/auth/session", { token: t }, app)).status).toBe(200);
      }
      expect((await call("/api/me", { token: b.token }, app)).json.user.id).toBe(b.user.id);
      expect((await call("/auth/sessions", { token: aTokens[2] }, app)).json.sessions).toHaveLength(3);
      // And the product works normally again: a login issues a session.
      const fresh = await login(app, a.email);
      expect((await call("/api/me", { token: fresh.token }, app)).status).toBe(200);
      await call("/auth/logout", { method: "POST", token: fresh.token }, app);
    });
  });
}

describe("the edge cache during an outage", () => {
  it("serves a cached session only within SESSION_CACHE_TTL; fresh routes never use it", { timeout: 30_000 }, async () => {
    const store = await privateStore();
    try {
      const clock = new Clock();
      const app = (await testApp({ UPSTASH_REDIS_REST_URL: store.url, UPSTASH_REDIS_REST_TOKEN: store.token, SESSION_CACHE_TTL: "1 s" }, clock)).fetch;
      const u = await register(app);
      const other = await login(app, u.email); // a second session, never looked up here
      const primed = await call("/api/me", { token: u.token }, app);
      expect(primed.status).toBe(200);
      expect(primed.headers.get("Server-Timing")).toContain('desc="miss"');
      await withFault(store, "status500", async () => {
        const hit = await call("/api/me", { token: u.token }, app);
        expect(hit.status).toBe(200);
        expect(hit.headers.get("Server-Timing")).toContain('desc="hit"');
        // Session management never trusts the cache.
        expect((await call("/auth/session", { token: u.token }, app)).status).toBe(503);
        clock.advance(999);
        expect((await call("/api/me", { token: u.token }, app)).status).toBe(200);
        clock.advance(1); // exactly the TTL: the entry is gone, the store must answer, and cannot
        const stale = await call("/api/me", { token: u.token }, app);
        expect(stale.status).toBe(503);
        expect(stale.json).toEqual({ error: "session_store_unavailable" });
        // A session never seen by this isolate gets nothing from the cache either.
        expect((await call("/api/me", { token: other.token }, app)).status).toBe(503);
      });
      expect((await call("/api/me", { token: u.token }, app)).status).toBe(200);
    } finally {
      await store.close();
    }
  });
});

describe("the rate limiter unable to answer", () => {
  let sessionsStore: StoreInstance & { close(): Promise<void> };
  let limiterStore: StoreInstance & { close(): Promise<void> };
  let deps: Deps;
  let app: Fetch;

  beforeAll(async () => {
    sessionsStore = await privateStore();
    limiterStore = await privateStore();
    const built = await testApp({ UPSTASH_REDIS_REST_URL: sessionsStore.url, UPSTASH_REDIS_REST_TOKEN: sessionsStore.token, SESSION_CACHE_TTL: "0" });
    // The same app, except that the limiter talks to its own store instance, which we break:
    // sessions and accounts stay reachable, only the limiter cannot answer.
    const { config, keys } = built.deps;
    deps = {
      ...built.deps,
      rateLimits: createRateLimits({
        store: createUpstashStore({ url: limiterStore.url, token: limiterStore.token, timeoutMs: config.store.timeoutMs }),
        prefix: keys.rateLimit,
        rules: limitRules(config.rateLimits),
        now: built.deps.now,
      }),
    };
    const hono = createApp(deps, { log: () => {} });
    app = async (req) => {
      const ctx = createExecutionContext();
      const res = await hono.fetch(req, bindings, ctx);
      await waitOnExecutionContext(ctx);
      return res;
    };
  });
  afterAll(async () => {
    await setControl(limiterStore, { fault: null }).catch(() => {});
    await limiterStore?.close();
    await sessionsStore?.close();
  });

  for (const fault of FAULTS) {
    it(`limiter store ${fault} → login and register denied with 503, no session issued`, { timeout: 30_000 }, async () => {
      const u = await register(app);
      expect((await deps.sessions.list(u.user.id)).length).toBe(1);
      const results = await withFault(limiterStore, fault, () =>
        Promise.all([
          timed(`limiter:${fault}`, "POST /auth/login", () => call("/auth/login", { body: { email: u.email, password: PASSWORD } }, app)),
          timed(`limiter:${fault}`, "POST /auth/register", () => call("/auth/register", { body: { email: uniqueEmail("fc-rl"), password: PASSWORD } }, app)),
        ]),
      );
      for (const r of results) expectUnavailable(r);
      // The session store was healthy the whole time, and still no session was issued.
      expect((await deps.sessions.list(u.user.id)).length).toBe(1);
      // Session verification does not depend on the limiter.
      expect((await withFault(limiterStore, fault, () => call("/api/me", { token: u.token }, app))).status).toBe(200);
      // Recovered: the login goes through.
      expect((await call("/auth/login", { body: { email: u.email, password: PASSWORD } }, app)).status).toBe(200);
    });
  }
});
