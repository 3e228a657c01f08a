/**
 * Successful password changes are limited too: each costs two PBKDF2 derivations (the current
 * password, the new hash), and each hands back a fresh session, so a per-session limit alone
 * would restart with every change. Per account (RATE_LIMIT_PASSWORD_CHANGE_ACCOUNT, default
 * 5 / 1 h) and per session (RATE_LIMIT_PASSWORD_CHANGE_SESSION, default 2 / 1 h), counted before
 * any derivation, given back when the current password is wrong (a thief's guesses must not
 * spend the owner's budget).
 */
import { describe, expect, it } from "vitest";
import type { Deps } from "../../src/worker/deps.js";
import { testApp } from "../helpers/app.js";
import { call, login, PASSWORD, register, type Fetch } from "../helpers/http.js";

function countDerivations(deps: Deps) {
  const counter = { n: 0 };
  const p = deps.passwords;
  const [verify, hash] = [p.verify.bind(p), p.hash.bind(p)];
  p.verify = (...args: Parameters<typeof verify>) => (counter.n++, verify(...args));
  p.hash = (...args: Parameters<typeof hash>) => (counter.n++, hash(...args));
  return counter;
}

const change = (fetch: Fetch, token: string, currentPassword: string, newPassword: string) => call("/auth/password", { token, body: { currentPassword, newPassword } }, fetch);

const DEFAULTS = { RATE_LIMIT_PASSWORD_CHANGE_ACCOUNT: undefined, RATE_LIMIT_PASSWORD_CHANGE_SESSION: undefined };

describe("attack: unlimited password changes (two PBKDF2 derivations each)", () => {
  it("in a row, each with the token the last one issued: the 6th in an hour is 429 with Retry-After, without a derivation", async () => {
    const { fetch, deps } = await testApp(DEFAULTS);
    const u = await register(fetch);
    const derivations = countDerivations(deps);
    let [token, password] = [u.token, PASSWORD];
    for (let i = 1; i <= 5; i++) {
      const next = `password number ${i}`;
      const r = await change(fetch, token, password, next);
      expect(r.status, `change ${i}`).toBe(200);
      [token, password] = [r.json.token, next];
    }
    expect(derivations.n).toBe(10);
    const refused = await change(fetch, token, password, "one too many");
    expect(refused.status).toBe(429);
    expect(refused.json.error).toBe("rate_limited");
    expect(Number(refused.headers.get("Retry-After"))).toBeGreaterThan(0);
    expect(Number(refused.headers.get("Retry-After"))).toBeLessThanOrEqual(3600);
    expect(derivations.n).toBe(10);
    // Nothing changed: the last password still works.
    expect((await call("/auth/login", { body: { email: u.email, password } }, fetch)).status).toBe(200);
  });

  it("20 parallel changes from one session: at most 2 go as far as a derivation", async () => {
    const { fetch, deps } = await testApp({ ...DEFAULTS, RATE_LIMIT_PASSWORD_CHANGE_ACCOUNT: "1000 / 1 h" });
    const u = await register(fetch);
    const derivations = countDerivations(deps);
    const results = await Promise.all(Array.from({ length: 20 }, (_, i) => change(fetch, u.token, PASSWORD, `parallel ${i} password`)));
    const statuses = results.map((r) => r.status);
    expect(statuses.filter((s) => s === 429).length).toBeGreaterThanOrEqual(18);
    expect(statuses.filter((s) => s === 200).length).toBe(1);
    expect(derivations.n).toBeLessThanOrEqual(4);
  });
});

describe("password-change limits: what the owner keeps", () => {
  it("a thief's wrong current passwords spend none of the account's change budget", async () => {
    const { fetch } = await testApp({ ...DEFAULTS, RATE_LIMIT_PASSWORD_CHANGE_ACCOUNT: "2 / 1 h", RATE_LIMIT_PASSWORD_CHECK: "5 / 1 h" });
    const owner = await register(fetch);
    const stolen = await login(fetch, owner.email);
    for (let i = 0; i < 5; i++) expect((await change(fetch, stolen.token, `guess ${i}`, "attacker password")).status).toBe(403);
    const first = await change(fetch, owner.token, PASSWORD, "owner password one");
    expect(first.status).toBe(200);
    expect((await change(fetch, first.json.token, "owner password one", "owner password two")).status).toBe(200);
  });

  it("is a configuration error unless it looks like a rule", async () => {
    await expect(testApp({ RATE_LIMIT_PASSWORD_CHANGE_ACCOUNT: "five" })).rejects.toThrow(/RATE_LIMIT_PASSWORD_CHANGE_ACCOUNT/);
  });
});
