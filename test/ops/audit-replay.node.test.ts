/**
 * The audit trail and the retried store calls together: a script whose reply was lost after it
 * ran is sent again by the client; the replayed run answers the first run's reply and must not
 * append its event a second time (replayable() answers before the body runs; the retry-safe
 * scripts append only on an actual change). Also: the account switch for a user id without a
 * password account (disable / enable any user) is audited like an account's, once per change.
 */
import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startStore, type StoreServer } from "@edge-session/local-store";
import { assembleCore, type SessionCore } from "../../src/session/core.ts";
import { DEFAULT_POLICY } from "../../src/session/manager.ts";
import { AccountStore } from "../../src/accounts/accounts.ts";
import { createUpstashStore, StoreError } from "../../src/store/redis.ts";
import { CREATE_SESSION, DISABLE_ACCOUNT, END_SESSION, END_USER_SESSIONS, REGISTER } from "../../src/store/scripts.ts";
import { readAudit, type AuditEvent } from "../../src/session/audit-read.ts";
import { startReplyDropper, type ReplyDropper } from "../helpers/node/reply-dropper.ts";

let store: StoreServer;
let dropper: ReplyDropper;

beforeAll(async () => {
  store = await startStore({ port: 0, redisUrl: process.env.REDIS_URL || undefined });
  dropper = await startReplyDropper(store.url);
});

afterAll(async () => {
  await dropper?.close();
  await store?.close();
});

async function core(): Promise<SessionCore> {
  return assembleCore({
    store: createUpstashStore({ url: dropper.url, token: store.token, timeoutMs: 2000 }),
    storeTimeoutMs: 2000,
    sessionKeys: [{ kid: "k1", key: randomBytes(32) }],
    prefix: `testar:${randomBytes(4).toString("hex")}:`,
    policy: DEFAULT_POLICY,
    cacheTtlMs: 0,
    auditRetentionMs: 3_600_000,
  });
}

const user = () => ({ id: randomBytes(8).toString("hex"), email: `ar-${randomBytes(4).toString("hex")}@example.test`, roles: [] });
const trail = async (c: SessionCore, userId: string): Promise<AuditEvent[]> => (await readAudit(c.store, c.opsKeys, { userId })).reverse();
const kinds = (events: AuditEvent[]) => events.map((e) => (e.type === "session.ended" ? `ended:${e.why}` : e.type));
const ids = (e: AuditEvent | undefined) => String(e?.sessions ?? "").split(",").sort();

describe("attack: a reply lost after the store applied the command, with the audit trail on (the retry must not record twice)", () => {
  it("a sign-in ending the others: one session.created, one session.ended naming both", async () => {
    const c = await core();
    const u = user();
    const a = await c.sessions.create({ user: u });
    const b = await c.sessions.create({ user: u }); // the script is cached in the store from here on
    const { result, sent } = await dropper.losingReplyOf(CREATE_SESSION, () => c.sessions.create({ user: u, endOthers: true }));
    expect(sent).toBe(2);
    expect(result).toMatchObject({ ok: true });
    const events = await trail(c, u.id);
    expect(kinds(events)).toEqual(["session.created", "session.created", "ended:password-change", "session.created"]);
    expect(ids(events[2])).toEqual([a.ok && a.session.id, b.ok && b.session.id].sort());
    expect(events[3]!.session).toBe((result as { session: { id: string } }).session.id);
  });

  it("sign out everywhere: one session.ended", async () => {
    const c = await core();
    const u = user();
    await c.sessions.create({ user: u });
    await c.sessions.create({ user: u });
    await c.sessions.endAll(randomBytes(8).toString("hex")); // cached
    const { result, sent } = await dropper.losingReplyOf(END_USER_SESSIONS, () => c.sessions.endAll(u.id));
    expect(sent).toBe(2);
    expect(result).toBe(2);
    expect(kinds(await trail(c, u.id))).toEqual(["session.created", "session.created", "ended:kill-switch"]);
  });

  it("a disable: one account.disabled, one session.ended", async () => {
    const c = await core();
    const u = user();
    await c.sessions.create({ user: u });
    await c.sessions.disableUser(randomBytes(8).toString("hex")); // cached
    const { result, sent } = await dropper.losingReplyOf(DISABLE_ACCOUNT, () => c.sessions.disableUser(u.id, undefined, "admin-1"));
    expect(sent).toBe(2);
    expect(result).toEqual({ ok: true, revoked: 1 });
    const events = await trail(c, u.id);
    expect(kinds(events)).toEqual(["session.created", "account.disabled", "ended:disable"]);
    expect(events[1]!.by).toBe("admin-1");
  });

  it("a logout: one session.ended (the second run finds nothing to end)", async () => {
    const c = await core();
    const u = user();
    const s = await c.sessions.create({ user: u });
    await c.sessions.end({ id: "nothing", userId: u.id }); // cached
    const { sent } = await dropper.losingReplyOf(END_SESSION, () => c.sessions.end(s.ok ? s.session : { id: "", userId: "" }));
    expect(sent).toBe(2);
    expect(kinds(await trail(c, u.id))).toEqual(["session.created", "ended:logout"]);
  });

  it("a registration: one account.created", async () => {
    const c = await core();
    const accounts = new AccountStore(c.store, c.keys, c.now, c.audit);
    await accounts.create({ email: `warm-${randomBytes(4).toString("hex")}@example.test`, passwordHash: "h" });
    const { result, sent } = await dropper.losingReplyOf(REGISTER, () => accounts.create({ email: `new-${randomBytes(4).toString("hex")}@example.test`, passwordHash: "h" }));
    expect(sent).toBe(2);
    const id = (result as { id: string }).id;
    expect(kinds(await trail(c, id))).toEqual(["account.created"]);
  });
});

describe("attack: a change without its event in a replayable script (the audit stream cannot take it)", () => {
  it("sign out everywhere fails closed, ends nothing, records no reply to answer a retry with", async () => {
    const c = await core();
    const u = user();
    await c.sessions.create({ user: u });
    await c.sessions.create({ user: u });
    const direct = createUpstashStore({ url: store.url, token: store.token });
    const opKeys = () => direct.run<string[]>({ name: "scan-ops", source: "return redis.call('KEYS', ARGV[1])" }, [], [c.keys.op("*")]);
    const before = await opKeys(); // the two sign-ins' recorded replies
    await direct.set(c.opsKeys.userAudit(u.id), "not a stream");
    await expect(c.sessions.endAll(u.id)).rejects.toBeInstanceOf(StoreError);
    await direct.run({ name: "del", source: "return redis.call('DEL', KEYS[1])" }, [c.opsKeys.userAudit(u.id)], []);
    expect(await c.sessions.list(u.id)).toHaveLength(2);
    // Nothing recorded under a new operation key: the refusal is not a reply a retry would get.
    expect(before).toHaveLength(2);
    expect((await opKeys()).sort()).toEqual(before.sort());
  });
});

describe("disable and enable any user id (no password account), audited once per change", () => {
  it("account.disabled, then account.enabled; enabling again records nothing", async () => {
    const c = await core();
    const u = user();
    await c.sessions.create({ user: u });
    expect(await c.sessions.disableUser(u.id, undefined, "admin-2")).toEqual({ ok: true, revoked: 1 });
    expect(await c.sessions.create({ user: u })).toEqual({ ok: false, reason: "disabled" });
    expect(await c.sessions.enableUser(u.id, undefined, "admin-2")).toEqual({ ok: true });
    expect(await c.sessions.enableUser(u.id, undefined, "admin-2")).toEqual({ ok: true });
    expect((await c.sessions.create({ user: u })).ok).toBe(true);
    const events = await trail(c, u.id);
    expect(kinds(events)).toEqual(["session.created", "account.disabled", "ended:disable", "account.enabled", "session.created"]);
    expect(events[3]!.by).toBe("admin-2");
  });

  it("an enable whose acting session has ended changes nothing and records nothing", async () => {
    const c = await core();
    const u = user();
    await c.sessions.disableUser(u.id);
    expect(await c.sessions.enableUser(u.id, "ended-session-id", "admin-3")).toEqual({ ok: false, reason: "revoked" });
    expect(kinds(await trail(c, u.id))).toEqual(["account.disabled"]);
  });
});
