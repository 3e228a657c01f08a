/**
 * DBSC for cookie sessions through the worker's routes (src/worker/routes/dbsc.ts), driven by the
 * spec-following client (test/helpers/dbsc-client.ts) with real ES256 keys, against the real
 * store. A controllable clock moves the bound cookie past its life without waiting.
 */
import { describe, expect, it } from "vitest";
import { Clock, testApp } from "../helpers/app.js";
import { COOKIE, cookieSignIn, SAME_ORIGIN } from "../helpers/cookie.js";
import { parseChallenge, refresh, refreshProof, register, type DbscSession } from "../helpers/dbsc-client.js";
import { newKey, signJws } from "../helpers/device-keys.js";
import { BASE, type Fetch } from "../helpers/http.js";
import { decodeRecord } from "../../src/session/record.js";

const TTL_MS = 60_000;

async function setup() {
  const clock = new Clock();
  const app = await testApp({ DBSC_COOKIE_TTL: "60 s" }, clock);
  const login = await cookieSignIn(app.fetch);
  const session = await register(app.fetch, BASE, login.res, `${COOKIE}=${login.token}`);
  return { ...app, clock, login, session };
}

async function status(fetch: Fetch, cookie: string): Promise<{ status: number; body: any }> {
  const res = await fetch(new Request(BASE + "/auth/session", { headers: { Cookie: `${COOKIE}=${cookie}` } }));
  return { status: res.status, body: await res.json() };
}

/** The edge-cached route (`/auth/session` always reads the store). */
async function me(fetch: Fetch, cookie: string): Promise<number> {
  return (await fetch(new Request(BASE + "/api/me", { headers: { Cookie: `${COOKIE}=${cookie}` } }))).status;
}

const post = (fetch: Fetch, s: DbscSession, headers: Record<string, string>) =>
  fetch(new Request(s.refreshUrl, { method: "POST", headers: { "Sec-Secure-Session-Id": `"${s.sessionId}"`, ...headers } }));

describe("DBSC registration and refresh", () => {
  it("a cookie login offers registration; the bound cookie replaces the long-lived one and is refreshed with the key", async () => {
    const { fetch, clock, login, session, deps } = await setup();
    expect(login.res.headers.get("Secure-Session-Registration")).toMatch(/^\(ES256\);path="\/auth\/dbsc\/register";challenge="/);
    expect(session.cookie.startsWith("b1.")).toBe(true);
    expect(session.cookie).not.toContain(login.token);
    const me = await status(fetch, session.cookie);
    expect(me.status).toBe(200);
    expect(me.body.session.bound).toBe("dbsc");
    // The key is in the session record.
    const record = decodeRecord(session.sessionId, await deps.store.get(deps.keys.session(session.sessionId)));
    expect(record?.bound).toEqual({ kind: "dbsc", key: session.key.publicJwk });

    clock.advance(TTL_MS + 1000);
    expect((await status(fetch, session.cookie)).body.reason).toBe("expired");
    const old = session.cookie;
    const res = await refresh(fetch, session);
    expect(res.status).toBe(200);
    expect(session.cookie).not.toBe(old);
    expect((await status(fetch, session.cookie)).status).toBe(200);
    // The next challenge came with the answer: the following refresh needs no 403 round.
    expect(session.nextChallenge).not.toBeNull();
    clock.advance(TTL_MS + 1000);
    expect((await refresh(fetch, session)).status).toBe(200);
    // Both refreshes used the challenge attached by the answer before: two proofs, no 403 round.
    expect(session.proofs).toHaveLength(2);
  });

  it("a browser without DBSC keeps the long-lived cookie working", async () => {
    const clock = new Clock();
    const { fetch } = await testApp({ DBSC_COOKIE_TTL: "60 s" }, clock);
    const login = await cookieSignIn(fetch);
    clock.advance(10 * TTL_MS);
    expect((await status(fetch, login.token)).status).toBe(200);
  });

  it("DBSC=off offers nothing", async () => {
    const { fetch } = await testApp({ DBSC: "off" });
    const login = await cookieSignIn(fetch);
    expect(login.res.headers.get("Secure-Session-Registration")).toBeNull();
  });

  it("revocation ends the refresh at once and the bound cookie within the cache TTL", async () => {
    const { fetch, clock, session } = await setup();
    const out = await fetch(new Request(BASE + "/auth/logout", { method: "POST", headers: { ...SAME_ORIGIN, Cookie: `${COOKIE}=${session.cookie}` } }));
    expect(out.status).toBe(204);
    clock.advance(1_001);
    expect((await status(fetch, session.cookie)).body.reason).toBe("revoked");
    session.nextChallenge = null;
    const res = await refresh(fetch, session);
    expect(res.status).toBe(401);
    expect(await res.json()).toMatchObject({ reason: "revoked", continue: false });
  });

  it("store commands: none on a bound-cookie hit, one per refresh with a proof, none for a challenge", async () => {
    const { fetch, clock, session, deps } = await setup();
    const counted: string[] = [];
    const store = deps.store;
    const wrap = <K extends "get" | "set" | "run" | "getdel">(k: K) => {
      const f = store[k].bind(store) as (...a: unknown[]) => unknown;
      (store as unknown as Record<string, unknown>)[k] = (...a: unknown[]) => (counted.push(k), f(...a));
    };
    for (const k of ["get", "set", "run", "getdel"] as const) wrap(k);
    expect(await me(fetch, session.cookie)).toBe(200);
    counted.length = 0;
    for (let i = 0; i < 5; i++) expect(await me(fetch, session.cookie)).toBe(200);
    expect(counted).toEqual([]);
    clock.advance(TTL_MS + 1000);
    session.nextChallenge = null;
    const challenged = await post(fetch, session, {});
    expect(challenged.status).toBe(403);
    expect(counted).toEqual([]);
    const c = parseChallenge(challenged.headers.get("Secure-Session-Challenge"))!;
    expect((await post(fetch, session, { "Secure-Session-Response": await refreshProof(session, c.challenge) })).status).toBe(200);
    expect(counted).toEqual(["run"]);
  });
});

describe("attack: a copied bound cookie used elsewhere", () => {
  it("works for the rest of its short life only, and cannot be renewed without the key", async () => {
    const { fetch, clock, session } = await setup();
    const stolen = session.cookie;
    expect((await status(fetch, stolen)).status).toBe(200);
    clock.advance(TTL_MS + 1000);
    expect((await status(fetch, stolen)).body).toMatchObject({ error: "unauthorized", reason: "expired" });
    // The thief asks for a challenge and signs it with a key of their own.
    const thief: DbscSession = { ...session, key: await newKey(), nextChallenge: null, proofs: [] };
    const res = await refresh(fetch, thief);
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({ error: "dbsc_refused", reason: "bad_signature" });
    // A key smuggled into the refresh proof is refused too.
    const c = parseChallenge((await post(fetch, session, {})).headers.get("Secure-Session-Challenge"))!;
    const withJwk = await signJws(thief.key.privateKey, { alg: "ES256", typ: "dbsc+jwt", jwk: thief.key.publicJwk }, { jti: c.challenge });
    expect(await (await post(fetch, session, { "Secure-Session-Response": withJwk })).json()).toEqual({ error: "dbsc_refused", reason: "jwk_on_refresh" });
    // The owner carries on.
    expect((await refresh(fetch, session)).status).toBe(200);
  });

  it("a bound cookie whose expiry was edited is a forgery", async () => {
    const { fetch, session } = await setup();
    const parts = session.cookie.split(".");
    parts[3] = (parseInt(parts[3]!, 36) + 3600).toString(36);
    expect((await status(fetch, parts.join("."))).body.reason).toBe("bad_signature");
  });
});

describe("attack: the long-lived cookie copied before the binding", () => {
  it("is refused once the session is bound (device_bound), and cannot register a second key", async () => {
    const { fetch, login } = await setup();
    expect((await status(fetch, login.token)).body).toMatchObject({ reason: "device_bound" });
    const again = await fetch(new Request(BASE + "/auth/dbsc/register", { method: "POST", headers: { Cookie: `${COOKIE}=${login.token}`, "Secure-Session-Response": "x.y.z" } }));
    expect(again.status).toBe(401);
    expect(((await again.json()) as { reason: string }).reason).toBe("device_bound");
  });

  it("a slide from a copy read before the binding does not unbind the record", async () => {
    const clock = new Clock();
    const { fetch, deps } = await testApp({ DBSC_COOKIE_TTL: "60 s" }, clock);
    const login = await cookieSignIn(fetch);
    const before = (await deps.reader.read(login.token, true)) as { ok: true; session: import("../../src/session/record.js").Session };
    const session = await register(fetch, BASE, login.res, `${COOKIE}=${login.token}`);
    clock.advance(deps.sessions.policy.touchIntervalMs + 1);
    expect(await deps.sessions.touch(before.session)).toBe(false);
    const record = decodeRecord(session.sessionId, await deps.store.get(deps.keys.session(session.sessionId)));
    expect(record?.bound?.kind).toBe("dbsc");
  });
});

describe("attack: a refresh proof replayed", () => {
  it("a proof already answered refreshes nothing: 403 with a new challenge", async () => {
    const { fetch, clock, session } = await setup();
    clock.advance(TTL_MS + 1000);
    expect((await refresh(fetch, session)).status).toBe(200);
    const captured = session.proofs.at(-1)!;
    const res = await post(fetch, session, { "Secure-Session-Response": captured });
    expect(res.status).toBe(403);
    expect(res.headers.get("set-cookie")).toBeNull();
    expect(parseChallenge(res.headers.get("Secure-Session-Challenge"))?.id).toBe(session.sessionId);
  });

  it("a challenge issued for one session does not register or refresh another", async () => {
    const a = await setup();
    const b = await cookieSignIn(a.fetch);
    const key = await newKey();
    const offerA = a.login.res.headers.get("Secure-Session-Registration")!;
    const challengeA = /challenge="([^"]+)"/.exec(offerA)![1]!;
    const proof = await signJws(key.privateKey, { alg: "ES256", typ: "dbsc+jwt", jwk: key.publicJwk }, { jti: challengeA });
    const res = await a.fetch(new Request(BASE + "/auth/dbsc/register", { method: "POST", headers: { Cookie: `${COOKIE}=${b.token}`, "Secure-Session-Response": proof } }));
    expect(await res.json()).toEqual({ error: "dbsc_refused", reason: "challenge_invalid" });
  });
});

describe("DBSC bad input", () => {
  it("answers precise 4xx, never a 500", async () => {
    const { fetch, session, login } = await setup();
    const fresh = await cookieSignIn(fetch);
    const reg = (headers: Record<string, string>) => fetch(new Request(BASE + "/auth/dbsc/register", { method: "POST", headers: { Cookie: `${COOKIE}=${fresh.token}`, ...headers } }));
    expect(await (await reg({})).json()).toEqual({ error: "dbsc_refused", reason: "proof_missing" });
    expect(await (await reg({ "Secure-Session-Response": "not a jws" })).json()).toEqual({ error: "dbsc_refused", reason: "proof_missing" });
    const key = await newKey();
    const unsignedAlg = await signJws(key.privateKey, { alg: "none", typ: "dbsc+jwt", jwk: key.publicJwk }, { jti: /challenge="([^"]+)"/.exec(fresh.res.headers.get("Secure-Session-Registration")!)![1]! });
    expect(await (await reg({ "Secure-Session-Response": unsignedAlg })).json()).toEqual({ error: "dbsc_refused", reason: "bad_alg" });
    expect((await fetch(new Request(BASE + "/auth/dbsc/register", { method: "POST" }))).status).toBe(401);
    const ref = (headers: Record<string, string>) => fetch(new Request(BASE + "/auth/dbsc/refresh", { method: "POST", headers }));
    expect(await (await ref({})).json()).toEqual({ error: "dbsc_refused", reason: "session_id" });
    expect(await (await ref({ "Sec-Secure-Session-Id": '"../../etc"' })).json()).toEqual({ error: "dbsc_refused", reason: "session_id" });
    const junk = await ref({ "Sec-Secure-Session-Id": `"${session.sessionId}"`, "Secure-Session-Response": "a.b.c" });
    expect(junk.status).toBe(403);
    expect(login.token).toBeTruthy();
  });
});
