/**
 * Store calls that cannot double-apply (issue 21, item 5). `@upstash/redis` re-sends a command
 * whose `fetch` failed; a failure after the command reached Redis (the reply lost on its way
 * back) makes that a second run. A loopback proxy between the client and the local store
 * forwards a chosen request and then drops its reply (closes the socket): the client sees a
 * failed `fetch`. Retry-safe scripts answer their first run's reply on the second; the others
 * are sent once and fail closed (StoreError → 503). Real client, real store, real sockets.
 */
import { createHash, randomBytes } from "node:crypto";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startStore, type StoreServer } from "@edge-session/local-store";
import { assembleCore, type SessionCore } from "../../src/session/core.ts";
import { DEFAULT_POLICY } from "../../src/session/manager.ts";
import { AccountStore } from "../../src/accounts/accounts.ts";
import { createUpstashStore, StoreError } from "../../src/store/redis.ts";
import { CREATE_SESSION, END_USER_SESSIONS, ISSUE_TICKET, REGISTER, SLIDING_WINDOW } from "../../src/store/scripts.ts";
import type { StoreScript } from "../../src/store/redis.ts";

let store: StoreServer;
let proxy: http.Server;
let proxyUrl: string;
/** Scripts (by SHA) whose next successful reply is dropped; how many times each was forwarded. */
const dropNext = new Set<string>();
const forwarded = new Map<string, number>();
let dropCommand: string | null = null;
const sha = (s: StoreScript) => createHash("sha1").update(s.source).digest("hex");

beforeAll(async () => {
  store = await startStore({ port: 0, redisUrl: process.env.REDIS_URL || undefined });
  proxy = http.createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const body = Buffer.concat(chunks).toString();
    const headers: Record<string, string> = {};
    for (const h of ["authorization", "content-type", "upstash-encoding", "upstash-sync-token"]) if (req.headers[h]) headers[h] = String(req.headers[h]);
    const answer = await fetch(store.url + (req.url ?? "/"), { method: "POST", headers, body });
    const text = await answer.text();
    let command: unknown[] = [];
    try {
      command = JSON.parse(body) as unknown[];
    } catch {
      // Not a command.
    }
    const key = command[0] === "evalsha" ? String(command[1]) : String(command[0]);
    forwarded.set(key, (forwarded.get(key) ?? 0) + 1);
    const ran = answer.ok && !text.includes("NOSCRIPT");
    if (ran && (dropNext.delete(key) || (dropCommand !== null && key === dropCommand && ((dropCommand = null), true)))) {
      // It ran in the store; the client never hears of it.
      req.socket.destroy();
      return;
    }
    res.writeHead(answer.status, Object.fromEntries(answer.headers));
    res.end(text);
  });
  await new Promise<void>((r) => proxy.listen(0, "127.0.0.1", r));
  proxyUrl = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise((r) => proxy?.close(r));
  await store?.close();
});

async function core(): Promise<SessionCore> {
  const keys = `k1:${randomBytes(32).toString("base64url")}`;
  return assembleCore({
    store: createUpstashStore({ url: proxyUrl, token: store.token, timeoutMs: 2000 }),
    storeTimeoutMs: 2000,
    sessionKeys: [{ kid: "k1", key: Buffer.from(keys.slice(3), "base64url") }],
    prefix: `testlr:${randomBytes(4).toString("hex")}:`,
    policy: DEFAULT_POLICY,
    cacheTtlMs: 0,
  });
}

const user = () => ({ id: randomBytes(8).toString("hex"), email: `lr-${randomBytes(4).toString("hex")}@example.test`, roles: [] });

/** Runs `op` with the next run of `script` losing its reply; returns how many times the script was sent. */
async function losingReplyOf<T>(script: StoreScript, op: () => Promise<T>): Promise<{ result: T | StoreError; sent: number }> {
  const key = sha(script);
  const before = forwarded.get(key) ?? 0;
  dropNext.add(key);
  let result: T | StoreError;
  try {
    result = await op();
  } catch (e) {
    if (!(e instanceof StoreError)) throw e;
    result = e;
  }
  dropNext.delete(key);
  return { result, sent: (forwarded.get(key) ?? 0) - before };
}

describe("attack: a reply lost after the store applied the command (the client's retry runs it again)", () => {
  it("a sign-in that ends the other sessions: the retry answers the first run's reply, one session made, the others' ends reported", async () => {
    const c = await core();
    const u = user();
    const old = await c.sessions.create({ user: u });
    await c.sessions.create({ user: u }); // the script is cached in the store from here on
    expect(old.ok).toBe(true);
    const { result, sent } = await losingReplyOf(CREATE_SESSION, () => c.sessions.create({ user: u, endOthers: true }));
    expect(sent).toBe(2);
    expect(result).toMatchObject({ ok: true });
    const made = result as Extract<Awaited<ReturnType<SessionCore["sessions"]["create"]>>, { ok: true }>;
    expect(made.ended).toHaveLength(2);
    expect(made.ended).toContain(old.ok && old.session.id);
    expect((await c.sessions.list(u.id)).map((s) => s.id)).toEqual([made.session.id]);
  });

  it("sign out everywhere: the retry reports the sessions the first run ended (their sockets are told)", async () => {
    const c = await core();
    const u = user();
    const a = await c.sessions.create({ user: u });
    const b = await c.sessions.create({ user: u });
    await c.sessions.endAll(randomBytes(8).toString("hex")); // cached
    const told: string[][] = [];
    c.sessions.onEnded((e) => told.push(e.sessionIds));
    const { result, sent } = await losingReplyOf(END_USER_SESSIONS, () => c.sessions.endAll(u.id));
    expect(sent).toBe(2);
    expect(result).toBe(2);
    expect(told.flat().sort()).toEqual([a.ok && a.session.id, b.ok && b.session.id].sort());
  });

  it("a registration: the retry does not answer 'email taken' for the account it just made", async () => {
    const c = await core();
    const accounts = new AccountStore(c.store, c.keys, c.now);
    await accounts.create({ email: `warm-${randomBytes(4).toString("hex")}@example.test`, passwordHash: "h" });
    const { result, sent } = await losingReplyOf(REGISTER, () => accounts.create({ email: `new-${randomBytes(4).toString("hex")}@example.test`, passwordHash: "h" }));
    expect(sent).toBe(2);
    expect(result).toMatchObject({ email: expect.stringContaining("new-") });
  });

  it("a socket ticket: the retry hands out the ticket the first run stored, usable once", async () => {
    const c = await core();
    await c.tickets.issue({ sessionId: "s0", userId: "u0" });
    const { result, sent } = await losingReplyOf(ISSUE_TICKET, () => c.tickets.issue({ sessionId: "s1", userId: "u1" }));
    expect(sent).toBe(2);
    expect(result).toMatchObject({ ok: true });
    const ticket = (result as { ticket: string }).ticket;
    expect(await c.tickets.consume(ticket)).toEqual({ sessionId: "s1", userId: "u1" });
    expect(await c.tickets.consume(ticket)).toBeNull();
  });

  it("a rate-limit count is sent once: a lost reply fails closed and counts one event, not two", async () => {
    const c = await core();
    const bucket = `${c.keys.rateLimit}:t:${randomBytes(4).toString("hex")}`;
    await c.store.run(SLIDING_WINDOW, [`${bucket}:w`, `${bucket}:p0`], [10, Date.now(), 60_000, 1]);
    const { result, sent } = await losingReplyOf(SLIDING_WINDOW, () => c.store.run(SLIDING_WINDOW, [`${bucket}:a`, `${bucket}:b`], [10, Date.now(), 60_000, 1]));
    expect(sent).toBe(1);
    expect(result).toBeInstanceOf(StoreError);
    const direct = createUpstashStore({ url: store.url, token: store.token });
    expect(await direct.get(`${bucket}:a`)).toBe("1");
  });

  it("a ticket's consumption (GETDEL) is sent once: a lost reply fails closed, and the ticket is spent", async () => {
    const c = await core();
    const issued = await c.tickets.issue({ sessionId: "s2", userId: "u2" });
    expect(issued.ok).toBe(true);
    const before = forwarded.get("getdel") ?? 0;
    dropCommand = "getdel";
    await expect(c.tickets.consume((issued as { ticket: string }).ticket)).rejects.toBeInstanceOf(StoreError);
    expect((forwarded.get("getdel") ?? 0) - before).toBe(1);
    expect(await c.tickets.consume((issued as { ticket: string }).ticket)).toBeNull();
  });
});
