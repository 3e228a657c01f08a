/**
 * Races on one user: hundreds of logins at once, racing "sign out everywhere else", logouts and
 * a password change. Afterwards the store must be consistent — the per-user index (a sorted
 * set) has no orphans (every member's session key exists) and misses nothing (every live
 * session key of the user is in it, found by SCAN over the store) — the max-sessions cap holds,
 * and no session outlives the revocation: every token issued before the password change is 401.
 *
 * Why most logins are direct: a real login runs PBKDF2 at 100,000 iterations (~30-60 ms of CPU
 * each); 500 of them on a 2-core machine take 20-30 s and would starve the files running
 * alongside. The bulk therefore goes straight through `deps.sessions.create()` — the same atomic
 * CREATE_SESSION script a login runs, with the credential version a login would have read — and
 * a smaller number are real HTTP logins, all interleaved at random. Concurrency is capped at 48
 * requests in flight, so no store call outlives its 1 s budget on a loaded machine (a timed-out
 * create could have happened in the store without the test knowing its token).
 */
import { env } from "cloudflare:test";
import { Redis } from "@upstash/redis/cloudflare";
import { describe, expect, it } from "vitest";
import type { Deps } from "../../src/worker/deps.js";
import { decodeRecord, sessionIdFor } from "../../src/session/record.js";
import { testApp } from "../helpers/app.js";
import { call, login, PASSWORD, register, type Fetch } from "../helpers/http.js";
import { figure } from "../helpers/figure.js";

const redis = new Redis({ url: env.UPSTASH_REDIS_REST_URL, token: env.UPSTASH_REDIS_REST_TOKEN, automaticDeserialization: false, enableTelemetry: false });

/** Runs tasks with at most `limit` in flight, in the order given. */
async function runPool<T>(tasks: (() => Promise<T>)[], limit: number): Promise<T[]> {
  const out: T[] = new Array(tasks.length);
  let next = 0;
  const worker = async () => {
    while (next < tasks.length) {
      const i = next++;
      out[i] = await tasks[i]!();
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, tasks.length) }, worker));
  return out;
}

function shuffle<T>(xs: T[]): T[] {
  for (let i = xs.length - 1; i > 0; i--) {
    const j = crypto.getRandomValues(new Uint32Array(1))[0]! % (i + 1);
    [xs[i], xs[j]] = [xs[j]!, xs[i]!];
  }
  return xs;
}

async function idOf(deps: Deps, token: string): Promise<string> {
  const v = await deps.keyRing.verify(token);
  if (!v.ok) throw new Error("not a token");
  return sessionIdFor(v.id);
}

/** Every live session key of `userId`, found by scanning the store (not by trusting the index). */
async function liveSessionsOf(deps: Deps, userId: string): Promise<Set<string>> {
  const prefix = deps.keys.sessionPrefix;
  const keys: string[] = [];
  let cursor = "0";
  do {
    const [next, batch] = (await redis.scan(cursor, { match: `${prefix}*`, count: 1000 })) as [string | number, string[]];
    keys.push(...batch);
    cursor = String(next);
  } while (cursor !== "0");
  const live = new Set<string>();
  for (let i = 0; i < keys.length; i += 200) {
    const chunk = keys.slice(i, i + 200);
    const values = (await redis.mget(...chunk)) as (string | null)[];
    values.forEach((raw, j) => {
      const id = chunk[j]!.slice(prefix.length);
      if (decodeRecord(id, raw)?.userId === userId) live.add(id);
    });
  }
  return live;
}

async function indexOf(deps: Deps, userId: string): Promise<string[]> {
  return (await redis.zrange(deps.keys.userIndex(userId), 0, -1)) as string[];
}

async function expectConsistent(deps: Deps, userId: string) {
  const index = await indexOf(deps, userId);
  const live = await liveSessionsOf(deps, userId);
  // No duplicates, no orphans (index entry without a session), nothing missing (session without an index entry).
  expect(new Set(index).size).toBe(index.length);
  const orphans = index.filter((id) => !live.has(id));
  const missing = [...live].filter((id) => !index.includes(id));
  expect(orphans, "index entries whose session key is gone").toEqual([]);
  expect(missing, "live sessions absent from the index").toEqual([]);
  return { index, live };
}

describe("races on one user", () => {
  it("500 logins racing revoke-others and logouts: index consistent, cap held, no phantom sessions", { timeout: 120_000 }, async () => {
    const app = await testApp({ SESSION_CACHE_TTL: "0", STORE_TIMEOUT_MS: "1500" });
    const { deps } = app;
    const u = await register(app.fetch);
    const user = { id: u.user.id, email: u.email, roles: [] as string[] };
    const cap = deps.config.policy.maxSessionsPerUser;
    expect(cap).toBe(20);
    // Sessions that exist before the race, to be logged out during it.
    const victims: string[] = [];
    for (let i = 0; i < 20; i++) {
      const c = await deps.sessions.create({ user, credentialVersion: "1" });
      if (!c.ok) throw new Error("setup");
      victims.push(c.token);
    }

    const issued: string[] = [];
    type Outcome = { kind: string; status: number };
    const DIRECT = 460;
    const HTTP = 40;
    const tasks: (() => Promise<Outcome>)[] = [
      ...Array.from({ length: DIRECT }, () => async () => {
        const c = await deps.sessions.create({ user, credentialVersion: "1", userAgent: "race-direct" });
        if (c.ok) issued.push(c.token);
        return { kind: "create", status: c.ok ? 200 : 409 };
      }),
      ...Array.from({ length: HTTP }, () => async () => {
        const r = await call("/auth/login", { body: { email: u.email, password: PASSWORD } }, app.fetch);
        if (r.status === 200) issued.push(r.json.token);
        return { kind: "login", status: r.status };
      }),
      ...Array.from({ length: 8 }, () => async () => ({ kind: "revoke", status: (await call("/auth/sessions/revoke-others", { method: "POST", token: u.token }, app.fetch)).status })),
      ...victims.map((t) => async () => ({ kind: "logout", status: (await call("/auth/logout", { method: "POST", token: t }, app.fetch)).status })),
    ];
    const started = Date.now();
    const outcomes = await runPool(shuffle(tasks), 48);
    figure(`[races] ${DIRECT} direct creates + ${HTTP} HTTP logins + 8 revoke-others + 20 logouts in ${Date.now() - started} ms`);

    // Every login and create succeeded; logouts and revocations either worked or found their session already ended.
    for (const o of outcomes) {
      if (o.kind === "create" || o.kind === "login") expect(o.status, o.kind).toBe(200);
      if (o.kind === "logout") expect([204, 401]).toContain(o.status);
      if (o.kind === "revoke") expect([200, 401]).toContain(o.status);
    }
    expect(issued).toHaveLength(DIRECT + HTTP);

    const { index, live } = await expectConsistent(deps, u.user.id);
    expect(index.length).toBeLessThanOrEqual(cap);
    expect(index.length).toBeGreaterThan(0);
    // Every live session is one we were handed a token for: nothing was created behind our back.
    const known = new Map<string, string>();
    for (const t of [u.token, ...victims, ...issued]) known.set(await idOf(deps, t), t);
    for (const id of live) expect(known.has(id), `phantom session ${id}`).toBe(true);
    // And the tokens agree with the store: live ⇔ 200 (fresh route, no cache).
    for (const [id, token] of known) {
      const status = (await call("/auth/session", { token }, app.fetch)).status;
      expect(status, `session ${id}`).toBe(live.has(id) ? 200 : 401);
    }
    // The logged-out victims are all gone.
    for (const t of victims) expect(live.has(await idOf(deps, t))).toBe(false);
  });

  it("logins racing a password change: no session issued before the change survives it", { timeout: 120_000 }, async () => {
    // A high cap here, so that only the password change (not the cap) ends sessions.
    const app = await testApp({ SESSION_CACHE_TTL: "0", STORE_TIMEOUT_MS: "1500", SESSION_MAX_PER_USER: "1000" });
    const { deps } = app;
    const u = await register(app.fetch);
    const user = { id: u.user.id, email: u.email, roles: [] as string[] };
    const before: string[] = [u.token];
    for (let i = 0; i < 10; i++) before.push((await login(app.fetch, u.email)).token);
    const newPassword = "the new password " + crypto.randomUUID();

    const issued: string[] = [];
    let changed: { status: number; token?: string } | null = null;
    const tasks: (() => Promise<unknown>)[] = [
      ...Array.from({ length: 250 }, () => async () => {
        const c = await deps.sessions.create({ user, credentialVersion: "1" });
        if (c.ok) issued.push(c.token);
        else expect(c.reason).toBe("stale");
      }),
      ...Array.from({ length: 30 }, () => async () => {
        const r = await call("/auth/login", { body: { email: u.email, password: PASSWORD } }, app.fetch);
        expect([200, 401]).toContain(r.status);
        if (r.status === 200) issued.push(r.json.token);
      }),
      ...Array.from({ length: 4 }, () => async () => {
        // From the session the password change uses: revoke-others keeps it, so the change can run.
        expect([200, 401]).toContain((await call("/auth/sessions/revoke-others", { method: "POST", token: before[1] }, app.fetch)).status);
      }),
      ...before.slice(2).map((t) => async () => {
        expect([204, 401]).toContain((await call("/auth/logout", { method: "POST", token: t }, app.fetch)).status);
      }),
    ];
    shuffle(tasks);
    // The change goes in somewhere in the first third, from a session nothing else in the race ends.
    const at = Math.floor(tasks.length / 6 + (crypto.getRandomValues(new Uint8Array(1))[0]! / 255) * (tasks.length / 6));
    tasks.splice(at, 0, async () => {
      const r = await call("/auth/password", { body: { currentPassword: PASSWORD, newPassword }, token: before[1] }, app.fetch);
      changed = { status: r.status, token: r.json?.token };
    });
    await runPool(tasks, 48);

    const change = changed as { status: number; token?: string } | null;
    expect(change?.status).toBe(200);
    const fresh = change!.token!;
    // Every token from before the change, and every one handed out during the race, is refused.
    const all = [...before, ...issued];
    const survivors: string[] = [];
    for (const t of all) {
      const s = (await call("/auth/session", { token: t }, app.fetch)).status;
      expect([200, 401]).toContain(s);
      if (s === 200) survivors.push(t);
      expect((await call("/api/me", { token: t }, app.fetch)).status).toBe(s);
    }
    figure(`[races] password change at task ${at}: ${issued.length} sessions issued during the race, ${survivors.length} survived`);
    expect(survivors).toEqual([]);
    // The store agrees: the only live session is the one the change issued. (A revoke-others that
    // authenticated with before[1] just before the change, and ran its END_USER_SESSIONS just
    // after, finds before[1] gone and ends nothing — see the test below.)
    const { live } = await expectConsistent(deps, u.user.id);
    const freshId = await idOf(deps, fresh);
    expect([...live]).toEqual([freshId]);
    expect((await call("/api/me", { token: fresh }, app.fetch)).status).toBe(200);
    // The old password is dead, the new one works.
    expect((await call("/auth/login", { body: { email: u.email, password: PASSWORD } }, app.fetch)).status).toBe(401);
    expect((await call("/auth/login", { body: { email: u.email, password: newPassword } }, app.fetch)).status).toBe(200);
  });

  // Regression: END_USER_SESSIONS (POST /auth/sessions/revoke-others) used to end every session
  // but `keep` without checking that `keep` itself still existed. A revoke-others authenticated
  // with session S just before S was ended (a password change, a logout, an admin) went on to end
  // the sessions created since — e.g. the fresh session the password change had just issued. The
  // script now ends nothing when `keep` is gone, and the route answers 401 revoked.
  it("revoke-others from a session that ended meanwhile ends nothing (the step after authentication, replayed deterministically)", async () => {
    const app = await testApp({ SESSION_CACHE_TTL: "0" });
    const u = await register(app.fetch);
    const s = u.token;
    const sId = await idOf(app.deps, s);
    // The password change ends S and issues F.
    const changed = await call("/auth/password", { body: { currentPassword: PASSWORD, newPassword: "yet another password" }, token: s }, app.fetch);
    expect(changed.status).toBe(200);
    const f = changed.json.token as string;
    expect((await call("/auth/session", { token: s }, app.fetch)).status).toBe(401);
    // What the in-flight revoke-others, authenticated as S a moment earlier, does next:
    expect(await app.deps.sessions.endAll(u.user.id, sId)).toBeNull();
    expect((await call("/auth/session", { token: f }, app.fetch)).status).toBe(200);
  });

  it("revoke-others whose session ends between authentication and the revocation → 401 revoked, nothing ended", async () => {
    const app = await testApp({ SESSION_CACHE_TTL: "0" });
    const u = await register(app.fetch);
    const other = await login(app.fetch, u.email);
    const sessions = app.deps.sessions;
    const endAll = sessions.endAll.bind(sessions) as (userId: string, keep?: string) => Promise<number | null>;
    // The interleaving, made deterministic: the request has authenticated as S; S ends (a logout
    // elsewhere) just before the route runs the revocation.
    (sessions as unknown as { endAll: typeof endAll }).endAll = async (userId, keep) => {
      if (keep) await sessions.end({ id: keep, userId });
      return endAll(userId, keep);
    };
    const r = await call("/auth/sessions/revoke-others", { method: "POST", token: u.token }, app.fetch);
    expect(r.status).toBe(401);
    expect(r.json).toEqual({ error: "unauthorized", reason: "revoked" });
    expect(r.headers.get("WWW-Authenticate")).toBe('Bearer error="invalid_token", error_description="revoked"');
    // The other session was not ended.
    expect((await call("/auth/session", { token: other.token }, app.fetch)).status).toBe(200);
  });
});
