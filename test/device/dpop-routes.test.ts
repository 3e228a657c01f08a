/**
 * DPoP-bound Bearer tokens through the worker (issue 24): the browser client's `dpop` option
 * with a real non-extractable ES256 key, and the attacks on a stolen token.
 */
import { describe, expect, it } from "vitest";
import { createSessionClient, loadDpopKey } from "../../src/client/index.js";
import { testApp } from "../helpers/app.js";
import { newKey, signJws } from "../helpers/device-keys.js";
import { BASE, PASSWORD, register, uniqueEmail, type Fetch } from "../helpers/http.js";

async function signedIn() {
  const app = await testApp();
  const email = uniqueEmail("dpop");
  await register(app.fetch, email);
  const key = await loadDpopKey({ storageName: null });
  const client = createSessionClient({ baseUrl: BASE, fetch: (input, init) => app.fetch(new Request(input, init)), dpop: key });
  await client.login(email, PASSWORD);
  return { ...app, client, key, token: client.token! };
}

const get = (fetch: Fetch, path: string, headers: Record<string, string>) => fetch(new Request(BASE + path, { headers }));

describe("DPoP-bound Bearer tokens", () => {
  it("a login with a proof binds the session; the client's requests carry proofs", async () => {
    const { client } = await signedIn();
    const res = await client.fetch("/auth/session");
    expect(res.status).toBe(200);
    expect(((await res.json()) as { session: { bound: string } }).session.bound).toBe("dpop");
    expect((await client.fetch("/api/me")).status).toBe(200);
    const ticket = await client.fetch("/auth/ws-ticket", { method: "POST" });
    expect(ticket.status).toBe(200);
  });

  it("an unbound login is unchanged (opt-in)", async () => {
    const app = await testApp();
    const who = await register(app.fetch);
    expect(who.body.bound).toBeNull();
    expect((await get(app.fetch, "/api/me", { Authorization: `Bearer ${who.token}` })).status).toBe(200);
  });

  it("a login with a bad proof is a 400 naming the check", async () => {
    const app = await testApp();
    const email = uniqueEmail("dpop");
    await register(app.fetch, email);
    const key = await newKey();
    const proof = await signJws(key.privateKey, { typ: "dpop+jwt", alg: "ES256", jwk: key.publicJwk }, { jti: "x", htm: "POST", htu: BASE + "/elsewhere", iat: Math.floor(Date.now() / 1000) });
    const res = await app.fetch(new Request(BASE + "/auth/login", { method: "POST", headers: { "Content-Type": "application/json", DPoP: proof }, body: JSON.stringify({ email, password: PASSWORD }) }));
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({ error: "invalid_dpop_proof", reason: "htu_mismatch" });
  });

  it("costs no store command on a hit", async () => {
    const { client, deps } = await signedIn();
    expect((await client.fetch("/api/me")).status).toBe(200);
    const counted: string[] = [];
    for (const k of ["get", "set", "run", "getdel"] as const) {
      const f = (deps.store[k] as (...a: unknown[]) => unknown).bind(deps.store);
      (deps.store as unknown as Record<string, unknown>)[k] = (...a: unknown[]) => (counted.push(k), f(...a));
    }
    for (let i = 0; i < 5; i++) expect((await client.fetch("/api/me")).status).toBe(200);
    expect(counted).toEqual([]);
  });
});

describe("attack: a stolen DPoP-bound token used without the key", () => {
  it("without a proof: 401 dpop_required, with the DPoP challenge", async () => {
    const { fetch, token } = await signedIn();
    for (const scheme of ["Bearer", "DPoP"]) {
      const res = await get(fetch, "/api/me", { Authorization: `${scheme} ${token}` });
      expect(res.status).toBe(401);
      expect(await res.json()).toEqual({ error: "unauthorized", reason: "dpop_required" });
      expect(res.headers.get("WWW-Authenticate")).toMatch(/^DPoP /);
    }
    // Nor a WebSocket ticket.
    const t = await fetch(new Request(BASE + "/auth/ws-ticket", { method: "POST", headers: { Authorization: `Bearer ${token}` } }));
    expect(((await t.json()) as { reason: string }).reason).toBe("dpop_required");
  });

  it("with a proof from the thief's own key: dpop_invalid (jkt_mismatch)", async () => {
    const { fetch, token } = await signedIn();
    const thief = await loadDpopKey({ storageName: null });
    const res = await get(fetch, "/api/me", { Authorization: `DPoP ${token}`, DPoP: await thief.proof("GET", BASE + "/api/me", token) });
    expect(await res.json()).toEqual({ error: "unauthorized", reason: "dpop_invalid", detail: "jkt_mismatch" });
  });

  it("with a captured proof: replayed, or refused for another URL, method or token", async () => {
    const { fetch, token, key } = await signedIn();
    const proof = await key.proof("GET", BASE + "/api/me", token);
    expect((await get(fetch, "/api/me", { Authorization: `DPoP ${token}`, DPoP: proof })).status).toBe(200);
    expect(await (await get(fetch, "/api/me", { Authorization: `DPoP ${token}`, DPoP: proof })).json()).toMatchObject({ reason: "dpop_invalid", detail: "replayed" });
    const forMe = await key.proof("GET", BASE + "/api/me", token);
    expect(await (await get(fetch, "/auth/session", { Authorization: `DPoP ${token}`, DPoP: forMe })).json()).toMatchObject({ detail: "htu_mismatch" });
    const post = await fetch(new Request(BASE + "/auth/ws-ticket", { method: "POST", headers: { Authorization: `DPoP ${token}`, DPoP: await key.proof("GET", BASE + "/auth/ws-ticket", token) } }));
    expect(await post.json()).toMatchObject({ detail: "htm_mismatch" });
    const other = await key.proof("GET", BASE + "/api/me", "v1.k.other");
    expect(await (await get(fetch, "/api/me", { Authorization: `DPoP ${token}`, DPoP: other })).json()).toMatchObject({ detail: "ath_mismatch" });
  });

  it("with an old proof: iat_out_of_window", async () => {
    const { fetch, token } = await signedIn();
    const stale = await loadDpopKey({ storageName: null, now: () => Date.now() / 1000 - 120 });
    // The window is checked before the key: a proof 120 s old is refused on time alone.
    const res = await get(fetch, "/api/me", { Authorization: `DPoP ${token}`, DPoP: await stale.proof("GET", BASE + "/api/me", token) });
    expect(await res.json()).toMatchObject({ reason: "dpop_invalid", detail: "iat_out_of_window" });
  });
});
