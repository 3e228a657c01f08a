/**
 * No user enumeration (ASVS 6.3.8): a login for an unknown email and a login with a wrong
 * password answer with the same status, body and headers, and take the same time. The time is
 * the work: both run exactly one PBKDF2 derivation of the same cost (the unknown user against a
 * dummy hash), counted exactly, so the check holds on a loaded machine; the medians of an
 * interleaved sample are compared too, with a margin wide enough for a busy 2-core machine
 * (skipping the derivation would make one side several times faster, far outside it).
 */
import { afterEach, describe, expect, it, vi } from "vitest";
import { testApp } from "../helpers/app.js";
import { call, register, uniqueEmail } from "../helpers/http.js";
import { figure } from "../helpers/figure.js";

const SAMPLES = 15;
/**
 * Logins per sample. Workers clocks have millisecond granularity (and only move across I/O):
 * one login is ~15-60 ms, so a single-login sample would quantise to several per cent. Timing
 * three logins of the same kind per sample keeps the rounding under ~2 %.
 */
const BATCH = 3;

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
};

describe("user enumeration", () => {
  afterEach(() => vi.restoreAllMocks());

  it("unknown user vs wrong password: exactly one PBKDF2 derivation each, of the same cost", async () => {
    const app = (await testApp({ SESSION_CACHE_TTL: "0" })).fetch;
    const known = await register(app);
    const derive = vi.spyOn(crypto.subtle, "deriveBits");
    const work = async (email: string) => {
      derive.mockClear();
      const r = await call("/auth/login", { body: { email, password: "not the password at all" } }, app);
      expect(r.status).toBe(401);
      return derive.mock.calls.map(([algorithm, , length]) => ({ ...(algorithm as { name: string; iterations: number; hash: unknown }), salt: undefined, length }));
    };
    const unknown = await work(uniqueEmail("ghost"));
    const wrong = await work(known.email);
    expect(unknown).toHaveLength(1);
    expect(unknown[0]).toMatchObject({ name: "PBKDF2" });
    expect(unknown).toEqual(wrong);
  });

  it(`unknown user vs wrong password: same answer, medians within 50 % (${SAMPLES} interleaved samples of ${BATCH} each)`, { timeout: 60_000 }, async () => {
    const app = (await testApp({ SESSION_CACHE_TTL: "0" })).fetch;
    const known = await register(app);
    const attempt = async (email: () => string) => {
      const started = performance.now();
      const rs = [];
      for (let i = 0; i < BATCH; i++) rs.push(await call("/auth/login", { body: { email: email(), password: "not the password at all" } }, app));
      const ms = performance.now() - started;
      return { rs, ms };
    };
    // Warm-up: the first calls pay for compilation and connections.
    for (let i = 0; i < 3; i++) {
      await attempt(() => known.email);
      await attempt(() => uniqueEmail("ghost"));
    }
    const unknownMs: number[] = [];
    const wrongMs: number[] = [];
    for (let i = 0; i < SAMPLES; i++) {
      // Alternate which goes first, so drift in machine load hits both sides alike.
      const order = i % 2 === 0 ? (["unknown", "wrong"] as const) : (["wrong", "unknown"] as const);
      for (const kind of order) {
        const { rs, ms } = await attempt(kind === "unknown" ? () => uniqueEmail("ghost") : () => known.email);
        for (const r of rs) {
          expect(r.status).toBe(401);
          expect(r.text).toBe('{"error":"invalid_credentials"}');
          expect(r.headers.get("WWW-Authenticate")).toBeNull();
          expect(r.headers.get("Retry-After")).toBeNull();
        }
        (kind === "unknown" ? unknownMs : wrongMs).push(ms / BATCH);
      }
    }
    const mu = median(unknownMs);
    const mw = median(wrongMs);
    const diff = Math.abs(mu - mw) / Math.max(mu, mw);
    figure(`[enumeration] median login time: unknown user ${mu.toFixed(1)} ms, wrong password ${mw.toFixed(1)} ms (difference ${(diff * 100).toFixed(1)} %, ${SAMPLES} samples of ${BATCH} logins each)`);
    // Both paths really derive (tens of ms for 100,000 PBKDF2 iterations), so the comparison means something.
    expect(Math.min(mu, mw)).toBeGreaterThan(10);
    expect(diff).toBeLessThan(0.5);
  });

  it("the same response headers, apart from the date, for unknown user, wrong password and a malformed-but-valid email in other case", async () => {
    const app = (await testApp({ SESSION_CACHE_TTL: "0" })).fetch;
    const known = await register(app);
    const answers = [
      await call("/auth/login", { body: { email: uniqueEmail("ghost"), password: "wrong password" } }, app),
      await call("/auth/login", { body: { email: known.email, password: "wrong password" } }, app),
      await call("/auth/login", { body: { email: known.email.toUpperCase(), password: "wrong password" } }, app),
    ];
    const shape = (r: (typeof answers)[number]) => ({ status: r.status, body: r.text, headers: [...r.headers].filter(([k]) => k !== "date").sort() });
    expect(shape(answers[1]!)).toEqual(shape(answers[0]!));
    expect(shape(answers[2]!)).toEqual(shape(answers[0]!));
  });

  it("registering a taken email is the one place that says so (409), and only after the IP limit", async () => {
    // Documented trade-off: sign-up must tell a user their email is taken; the registration
    // limit per IP (RATE_LIMIT_REGISTER_IP, default 20 / h) bounds how fast anyone can ask.
    const app = (await testApp({ RATE_LIMIT_REGISTER_IP: "2 / 1 h" })).fetch;
    const randomIp = () => `2001:db8:${[...crypto.getRandomValues(new Uint16Array(4))].map((n) => n.toString(16)).join(":")}::1`;
    const known = await register(app, uniqueEmail("taken"), undefined, { "CF-Connecting-IP": randomIp() });
    const ip = { "CF-Connecting-IP": randomIp() };
    const probe = () => call("/auth/register", { body: { email: known.email, password: "whatever password" }, headers: ip }, app);
    expect((await probe()).status).toBe(409);
    expect((await probe()).status).toBe(409);
    expect((await probe()).status).toBe(429);
  });
});
