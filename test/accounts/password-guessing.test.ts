/**
 * `POST /auth/password` checks `currentPassword` like a login checks a password: counted per
 * session before the PBKDF2 derivation (RATE_LIMIT_PASSWORD_CHECK, default 5 / 1 h), given back
 * when right, 429 `rate_limited` + `Retry-After` when spent — so a stolen token is not a
 * password oracle, and the thief's guesses do not stop the owner's own sessions.
 */
import { describe, expect, it } from "vitest";
import type { Deps } from "../../src/worker/deps.js";
import { testApp } from "../helpers/app.js";
import { call, login, PASSWORD, register } from "../helpers/http.js";

function countVerify(deps: Deps) {
  const counter = { n: 0 };
  const p = deps.passwords;
  const original = p.verify.bind(p);
  p.verify = (...args: Parameters<typeof original>) => {
    counter.n++;
    return original(...args);
  };
  return counter;
}

const change = (fetch: (r: Request) => Promise<Response>, token: string, currentPassword: string, newPassword = `fresh ${crypto.randomUUID()}`) =>
  call("/auth/password", { token, body: { currentPassword, newPassword } }, fetch);

describe("attack: current-password guessing with a stolen token", () => {
  it("the 6th wrong guess from one session is 429 with Retry-After; then even the right one, without a derivation", async () => {
    const { fetch, deps } = await testApp({ RATE_LIMIT_PASSWORD_CHECK: undefined });
    expect(deps.config.rateLimits.passwordCheck).toEqual({ limit: 5, windowMs: 3_600_000 });
    const owner = await register(fetch);
    const stolen = await login(fetch, owner.email);
    const verify = countVerify(deps);
    for (let i = 0; i < 5; i++) {
      const r = await change(fetch, stolen.token, `guess number ${i}`);
      expect(r.status, `guess ${i + 1}`).toBe(403);
      expect(r.json).toEqual({ error: "forbidden", reason: "current_password_incorrect" });
    }
    expect(verify.n).toBe(5);
    for (const guess of ["guess number 6", PASSWORD]) {
      const r = await change(fetch, stolen.token, guess);
      expect(r.status).toBe(429);
      expect(r.json.error).toBe("rate_limited");
      expect(Number(r.headers.get("Retry-After"))).toBeGreaterThan(0);
      expect(Number(r.headers.get("Retry-After"))).toBeLessThanOrEqual(3600);
    }
    expect(verify.n).toBe(5);
    // Nothing changed: the password is the old one, both sessions live.
    expect((await call("/auth/login", { body: { email: owner.email, password: PASSWORD } }, fetch)).status).toBe(200);
    expect((await call("/auth/session", { token: stolen.token }, fetch)).status).toBe(200);
    // The owner's own session is not locked by the thief's guesses: it changes the password,
    // which ends the thief's session.
    const mine = await change(fetch, owner.token, PASSWORD);
    expect(mine.status).toBe(200);
    expect((await call("/auth/session", { token: stolen.token }, fetch)).status).toBe(401);
  });

  it("200 parallel guesses from one stolen token: at most 5 derivations, the rest 429", async () => {
    const { fetch, deps } = await testApp({ RATE_LIMIT_PASSWORD_CHECK: "5 / 1 h" });
    const owner = await register(fetch);
    const verify = countVerify(deps);
    const results = await Promise.all(Array.from({ length: 200 }, (_, i) => change(fetch, owner.token, `parallel guess ${i}`)));
    const statuses = results.map((r) => r.status);
    expect(statuses.filter((s) => s === 403).length).toBeLessThanOrEqual(5);
    expect(statuses.filter((s) => s === 429).length).toBeGreaterThanOrEqual(195);
    expect(statuses.every((s) => s === 403 || s === 429)).toBe(true);
    expect(verify.n).toBeLessThanOrEqual(5);
  });

  it("a right answer is given back: four typos and the right password still leave the budget", async () => {
    const { fetch, deps } = await testApp({ RATE_LIMIT_PASSWORD_CHECK: "5 / 1 h" });
    const owner = await register(fetch);
    const sessionId: string = (await call("/auth/session", { token: owner.token }, fetch)).json.session.id;
    for (let i = 0; i < 4; i++) expect((await change(fetch, owner.token, `typo number ${i}`)).status).toBe(403);
    // The 5th attempt is the right one: counted, then given back before the change.
    expect((await change(fetch, owner.token, PASSWORD, "the new password 1")).status).toBe(200);
    // So this session's counter holds the 4 typos only: one more attempt fits, the next does not.
    expect((await deps.rateLimits.hit("passwordCheck", sessionId)).ok).toBe(true);
    expect((await deps.rateLimits.hit("passwordCheck", sessionId)).ok).toBe(false);
  });
});
