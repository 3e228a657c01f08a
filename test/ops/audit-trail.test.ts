/**
 * The audit trail (ASVS 7.4.5, 7.5.2): every session and account event appended by the script
 * that makes the change, in the same atomic step, read back by user and by time through the
 * admin API; kept to ids, reasons, a device summary and a network prefix (no email, no token).
 */
import { beforeAll, describe, expect, it } from "vitest";
import { testApp } from "../helpers/app.js";
import { call, login, PASSWORD, register, uniqueEmail, type Fetch, type LoggedIn } from "../helpers/http.js";
import { privateStore, resetStats, totalCommands } from "../helpers/store.js";
import { readAudit, type AuditEvent } from "../../src/session/audit-read.js";
import type { Deps } from "../../src/worker/deps.js";
import { networkOf } from "../../src/session/audit.js";

let app: Fetch;
let deps: Deps;
let admin: LoggedIn;

beforeAll(async () => {
  ({ fetch: app, deps } = await testApp({ SESSION_MAX_PER_USER: "3" }));
  const email = uniqueEmail("audit-admin");
  await deps.accounts.create({ email, passwordHash: await deps.passwords.hash(PASSWORD), roles: ["admin"] });
  admin = await login(app, email);
});

async function trail(userId: string): Promise<AuditEvent[]> {
  const r = await call(`/admin/audit?user=${userId}&limit=100`, { token: admin.token }, app);
  expect(r.status).toBe(200);
  return (r.json.events as AuditEvent[]).reverse(); // oldest first
}

const kinds = (events: AuditEvent[]) => events.map((e) => (e.type === "session.ended" ? `ended:${e.why}` : e.type));

describe("audit trail", () => {
  it("register, login, logout, revoke-others, password change: each event with its how, why and by", async () => {
    const u = await register(app);
    const second = await login(app, u.email, PASSWORD, { "CF-Connecting-IP": "203.0.113.77", "User-Agent": "Mozilla/5.0 (X11; Linux x86_64) Chrome/120.0" });
    await login(app, u.email);
    expect((await call("/auth/logout", { method: "POST", token: second.token }, app)).status).toBe(204);
    const third = await login(app, u.email);
    expect((await call("/auth/sessions/revoke-others", { method: "POST", token: third.token }, app)).json.revoked).toBe(2);
    const changed = await call("/auth/password", { token: third.token, body: { currentPassword: PASSWORD, newPassword: "another horse battery staple" } }, app);
    expect(changed.status).toBe(200);

    const events = await trail(u.user.id);
    expect(kinds(events)).toEqual([
      "account.created",
      "session.created",
      "session.created",
      "session.created",
      "ended:logout",
      "session.created",
      "ended:revoke-others",
      "ended:password-change",
      "session.created",
    ]);
    expect(events[1]!.how).toBe("register");
    expect(events[2]).toMatchObject({ how: "login", user: u.user.id, net: "203.0.113.0/24" });
    expect(String(events[2]!.device)).toContain("Chrome");
    expect(events[4]).toMatchObject({ by: u.user.id, sessions: expect.stringMatching(/^[A-Za-z0-9_-]+$/) });
    expect(events[8]!.how).toBe("password-change");
    // Ordered by the store's clock; ids are unique.
    expect(new Set(events.map((e) => e.id)).size).toBe(events.length);
    // Personal data kept to what an auditor needs: never the email, the token or the full address.
    const text = JSON.stringify(events);
    for (const secret of [u.email, u.token, second.token, "203.0.113.77"]) expect(text.includes(secret)).toBe(false);
  });

  it("the per-user cap ending the oldest session is recorded as cap", async () => {
    const u = await register(app);
    for (let i = 0; i < 3; i++) await login(app, u.email);
    const ended = (await trail(u.user.id)).filter((e) => e.type === "session.ended");
    expect(ended.map((e) => e.why)).toEqual(["cap"]);
    expect(ended[0]!.by).toBe("store");
  });

  it("admin: revoke one, kill switch, disable, enable — each by the admin", async () => {
    const u = await register(app);
    const other = await login(app, u.email);
    const sessions = (await call(`/admin/users/${u.user.id}/sessions`, { token: admin.token }, app)).json.sessions as { id: string }[];
    expect((await call(`/admin/users/${u.user.id}/sessions/${sessions[0]!.id}`, { method: "DELETE", token: admin.token }, app)).status).toBe(204);
    await login(app, u.email);
    expect((await call(`/admin/users/${u.user.id}/sessions`, { method: "DELETE", token: admin.token }, app)).json.revoked).toBe(2);
    await login(app, u.email);
    expect((await call(`/admin/users/${u.user.id}/disable`, { method: "POST", token: admin.token }, app)).json).toEqual({ disabled: true, revoked: 1 });
    expect((await call(`/admin/users/${u.user.id}/enable`, { method: "POST", token: admin.token }, app)).status).toBe(200);
    expect((await call("/api/me", { token: other.token }, app)).status).toBe(401);

    const events = (await trail(u.user.id)).filter((e) => e.type !== "session.created");
    expect(kinds(events)).toEqual(["account.created", "ended:revoked", "ended:kill-switch", "account.disabled", "ended:disable", "account.enabled"]);
    for (const e of events.slice(1)) expect(e.by).toBe(admin.user.id);
  });

  it("a session that expired is recorded as expiry when the store finds it gone", async () => {
    // Idle-expired while the user index (kept for the absolute lifetime) still lists it.
    const short = await testApp({ SESSION_IDLE_TIMEOUT: "1 s", SESSION_ABSOLUTE_TIMEOUT: "1 m" });
    const u = await register(short.fetch);
    await new Promise((r) => setTimeout(r, 1300));
    await login(short.fetch, u.email);
    const events = await readAudit(short.deps.store, short.deps.opsKeys, { userId: u.user.id });
    expect(events.map((e) => e.why ?? e.type)).toContain("expiry");
  });

  it("the global stream answers by time and by type", async () => {
    const from = Date.now();
    const u = await register(app);
    await call("/auth/logout", { method: "POST", token: u.token }, app);
    const r = await call(`/admin/audit?from=${from}&type=session`, { token: admin.token }, app);
    const mine = (r.json.events as AuditEvent[]).filter((e) => e.user === u.user.id);
    expect(mine.map((e) => e.type)).toEqual(["session.ended", "session.created"]);
    const none = await call(`/admin/audit?to=${from - 60_000}&user=${u.user.id}`, { token: admin.token }, app);
    expect(none.json.events).toEqual([]);
  });

  it("bad filters are a precise 400, never a 500", async () => {
    for (const q of ["user=a%20b", "type=DROP", "from=yesterday", "limit=-1", `from=${Date.now()}&to=1`]) {
      const r = await call(`/admin/audit?${q}`, { token: admin.token }, app);
      expect(r.status, q).toBe(400);
      expect(r.json).toMatchObject({ error: "invalid_request", reason: "invalid_query" });
    }
  });

  it("costs no extra store command: a logout is the same number of commands with the trail on and off", async () => {
    const store = await privateStore();
    try {
      const counts: Record<string, number> = {};
      for (const retention of ["90 d", "off"]) {
        const t = await testApp({ UPSTASH_REDIS_REST_URL: store.url, UPSTASH_REDIS_REST_TOKEN: store.token, AUDIT_RETENTION: retention });
        const u = await register(t.fetch);
        await resetStats(store);
        expect((await call("/auth/logout", { method: "POST", token: u.token }, t.fetch)).status).toBe(204);
        counts[retention] = await totalCommands(store);
        const events = await readAudit(t.deps.store, t.deps.opsKeys, { userId: u.user.id });
        expect(events.length > 0).toBe(retention !== "off");
      }
      expect(counts["90 d"]).toBeGreaterThan(0);
      expect(counts["90 d"]).toBe(counts.off);
    } finally {
      await store.close();
    }
  });
});

describe("attack: a change without its event (the audit stream cannot take it)", () => {
  it("the change does not happen: the logout answers 503 and the session stays live", async () => {
    const u = await register(app);
    const blocked = deps.opsKeys.userAudit(u.user.id);
    // Something else wrote a plain value where the user's stream lives: XADD would fail.
    const redis = (deps.store as unknown as { redis: { set(k: string, v: string): Promise<unknown>; del(k: string): Promise<unknown> } }).redis;
    await redis.set(blocked, "not a stream");
    try {
      expect((await call("/auth/logout", { method: "POST", token: u.token }, app)).status).toBe(503);
      expect((await call("/auth/session", { token: u.token }, app)).status).toBe(200);
    } finally {
      await redis.del(blocked);
    }
  });

  it("no event without its change: a refused revoke-others and a login of a disabled account leave no event", async () => {
    const u = await register(app);
    const other = await login(app, u.email);
    await call("/auth/logout", { method: "POST", token: u.token }, app);
    // A dead session asking to end the others: refused, nothing ended, nothing recorded.
    expect((await call("/auth/sessions/revoke-others", { method: "POST", token: u.token }, app)).status).toBe(401);
    const before = (await trail(u.user.id)).length;
    expect((await call("/api/me", { token: other.token }, app)).status).toBe(200);
    expect(before).toBe(4); // account.created, 2 × session.created, ended:logout
  });
});

describe("audit fields", () => {
  it("a network prefix, never the address", () => {
    expect(networkOf("203.0.113.77")).toBe("203.0.113.0/24");
    expect(networkOf("2001:db8:85a3:8d3:1319:8a2e:370:7348")).toBe("2001:db8:85a3::/48");
    expect(networkOf("2001:db8::1")).toBe("2001:db8:0::/48");
    expect(networkOf("")).toBe("");
    expect(networkOf("not an address")).toBe("");
  });
});
