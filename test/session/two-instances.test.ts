/**
 * Two instances sharing one store, each with its own edge cache (two apps built in-test: two
 * SessionManagers, two caches — what two isolates or two data centres are). A login at A works
 * at B; a logout, revoke-others or password change at B is refused at A within A's cache TTL.
 * The propagation time is measured by polling A and printed.
 *
 * test/node/two-instances.test.ts does the same with two real workerd processes (Miniflare) on
 * real ports.
 */
import { describe, expect, it } from "vitest";
import { testApp } from "../helpers/app.js";
import { call, login, PASSWORD, register, type Fetch } from "../helpers/http.js";
import { figure } from "../helpers/figure.js";

/** Scheduling slack on a loaded 2-core machine, on top of the TTL. */
const MARGIN_MS = 250;
const POLL_MS = 10;

async function pair(ttl: string) {
  const a = (await testApp({ SESSION_CACHE_TTL: ttl, SERVER_TIMING: "on" })).fetch;
  const b = (await testApp({ SESSION_CACHE_TTL: ttl, SERVER_TIMING: "on" })).fetch;
  return { a, b };
}

/**
 * Polls `token` at `at` until it is refused; returns ms since `since`. Fails if it is still
 * accepted after `limitMs`, or if it is ever accepted again after a refusal.
 */
async function refusedAfter(at: Fetch, token: string, since: number, limitMs: number): Promise<number> {
  let status = 200;
  while (Date.now() - since < limitMs + 1000) {
    status = (await call("/api/me", { token }, at)).status;
    if (status !== 200) break;
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
  const ms = Date.now() - since;
  expect(status).toBe(401);
  for (let i = 0; i < 5; i++) expect((await call("/api/me", { token }, at)).status).toBe(401);
  return ms;
}

async function warm(at: Fetch, token: string) {
  expect((await call("/api/me", { token }, at)).status).toBe(200);
  const hit = await call("/api/me", { token }, at);
  expect(hit.status).toBe(200);
  expect(hit.headers.get("Server-Timing")).toContain('desc="hit"');
}

describe("two instances, one store", () => {
  it("a login at A works at B, and the other way round", async () => {
    const { a, b } = await pair("1 s");
    const u = await register(a);
    expect((await call("/api/me", { token: u.token }, b)).json.user).toEqual(u.user);
    const v = await login(b, u.email);
    expect((await call("/api/me", { token: v.token }, a)).status).toBe(200);
    expect((await call("/auth/sessions", { token: v.token }, a)).json.sessions).toHaveLength(2);
  });

  for (const ttl of [{ label: "1 s", ms: 1000 }, { label: "300 ms", ms: 300 }]) {
    it(`logout at B is refused at A within the cache TTL (${ttl.label}); measured over 5 rounds`, { timeout: 30_000 }, async () => {
      const { a, b } = await pair(ttl.label);
      const figures: number[] = [];
      for (let round = 0; round < 5; round++) {
        const u = await register(a);
        await warm(a, u.token);
        const loggedOutAt = Date.now();
        expect((await call("/auth/logout", { method: "POST", token: u.token }, b)).status).toBe(204);
        // B itself refuses at once.
        expect((await call("/api/me", { token: u.token }, b)).status).toBe(401);
        figures.push(await refusedAfter(a, u.token, loggedOutAt, ttl.ms));
      }
      const max = Math.max(...figures);
      figure(`[two-instances] in-pool, SESSION_CACHE_TTL ${ttl.label}: logout at B refused at A after ${figures.join(", ")} ms (max ${max})`);
      expect(max).toBeLessThanOrEqual(ttl.ms + MARGIN_MS);
    });
  }

  it("revoke-others and a password change at B reach A within the TTL; A's fresh routes see them at once", { timeout: 30_000 }, async () => {
    const { a, b } = await pair("1 s");
    const u = await register(a);
    const other = await login(a, u.email);
    await warm(a, u.token);
    await warm(a, other.token);
    const here = await login(b, u.email);

    let since = Date.now();
    expect((await call("/auth/sessions/revoke-others", { method: "POST", token: here.token }, b)).json.revoked).toBe(2);
    // Session management at A never uses the cache: refused at once.
    expect((await call("/auth/session", { token: u.token }, a)).status).toBe(401);
    const revokeMs = await refusedAfter(a, other.token, since, 1000);

    const again = await login(a, u.email);
    await warm(a, again.token);
    since = Date.now();
    const changed = await call("/auth/password", { body: { currentPassword: PASSWORD, newPassword: "a brand new password" }, token: here.token }, b);
    expect(changed.status).toBe(200);
    const pwMs = await refusedAfter(a, again.token, since, 1000);
    expect((await call("/api/me", { token: changed.json.token }, a)).status).toBe(200);
    figure(`[two-instances] in-pool, TTL 1 s: revoke-others seen at A after ${revokeMs} ms, password change after ${pwMs} ms`);
    expect(Math.max(revokeMs, pwMs)).toBeLessThanOrEqual(1000 + MARGIN_MS);
  });

  it("with SESSION_CACHE_TTL 0 the logout is refused at A on the very next request", async () => {
    const { a, b } = await pair("0");
    const u = await register(a);
    expect((await call("/api/me", { token: u.token }, a)).status).toBe(200);
    expect((await call("/auth/logout", { method: "POST", token: u.token }, b)).status).toBe(204);
    expect((await call("/api/me", { token: u.token }, a)).status).toBe(401);
  });
});
