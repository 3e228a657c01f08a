/**
 * Per-address limits key on the address group (IPv4 address, IPv6 /64) of a validated
 * `CF-Connecting-IP`; production refuses a request without one instead of putting it in a
 * shared bucket.
 */
import { describe, expect, it } from "vitest";
import { testApp } from "../helpers/app.js";
import { call, PASSWORD, register, uniqueEmail } from "../helpers/http.js";

/** A random /64 prefix in the documentation range: four groups, `2001:db8:x:y`. */
const random64 = () => `2001:db8:${[...crypto.getRandomValues(new Uint16Array(2))].map((n) => n.toString(16)).join(":")}`;

describe("attack: a fresh rate-limit bucket for every IPv6 address of one /64", () => {
  it("addresses of one /64 share the login limit; another /64 does not", async () => {
    const { fetch } = await testApp({ RATE_LIMIT_LOGIN_IP: "5 / 1 h" });
    const u = await register(fetch);
    const net = random64();
    const statuses: number[] = [];
    for (let i = 1; i <= 6; i++) {
      const host = [...crypto.getRandomValues(new Uint16Array(4))].map((n) => n.toString(16)).join(":");
      statuses.push((await call("/auth/login", { body: { email: u.email, password: PASSWORD }, headers: { "CF-Connecting-IP": `${net}:${host}` } }, fetch)).status);
    }
    expect(statuses).toEqual([200, 200, 200, 200, 200, 429]);
    expect((await call("/auth/login", { body: { email: u.email, password: PASSWORD }, headers: { "CF-Connecting-IP": `${random64()}::1` } }, fetch)).status).toBe(200);
  });

  it("an IPv4-mapped IPv6 spelling is the same IPv4 bucket", async () => {
    const { fetch } = await testApp({ RATE_LIMIT_LOGIN_IP: "2 / 1 h" });
    const u = await register(fetch);
    const [x, y] = [...crypto.getRandomValues(new Uint8Array(2))];
    const v4 = `198.18.${x}.${y}`;
    const login = (ip: string) => call("/auth/login", { body: { email: u.email, password: PASSWORD }, headers: { "CF-Connecting-IP": ip } }, fetch);
    expect((await login(v4)).status).toBe(200);
    expect((await login(`::ffff:${v4}`)).status).toBe(200);
    expect((await login(`::FFFF:${v4}`)).status).toBe(429);
  });
});

describe("attack: everyone without CF-Connecting-IP in one shared 'unknown' bucket", () => {
  it("production: a login or registration without the header is 400 client_address_required, before any limiter or PBKDF2", async () => {
    const { fetch, deps } = await testApp({ ENVIRONMENT: "production", SIGNUP: "open", RATE_LIMIT_LOGIN_IP: "1 / 1 h" });
    let derivations = 0;
    const verify = deps.passwords.verify.bind(deps.passwords);
    deps.passwords.verify = (...a: Parameters<typeof verify>) => (derivations++, verify(...a));
    for (let i = 0; i < 3; i++) {
      const r = await call("/auth/login", { body: { email: uniqueEmail(), password: PASSWORD } }, fetch);
      expect(r.status).toBe(400);
      expect(r.json).toEqual({ error: "invalid_request", reason: "client_address_required" });
    }
    const reg = await call("/auth/register", { body: { email: uniqueEmail(), password: PASSWORD } }, fetch);
    expect(reg.json).toEqual({ error: "invalid_request", reason: "client_address_required" });
    expect(derivations).toBe(0);
    // With the header, the (tight) per-address limit applies to that address alone.
    const ip = `${random64()}::7`;
    const r = await call("/auth/register", { body: { email: uniqueEmail(), password: PASSWORD }, headers: { "CF-Connecting-IP": ip } }, fetch);
    expect(r.status).toBe(201);
  });

  it("a malformed CF-Connecting-IP is 400 invalid_client_address in every environment", async () => {
    for (const ENVIRONMENT of ["production", "test"]) {
      const { fetch } = await testApp({ ENVIRONMENT });
      const r = await call("/auth/login", { body: { email: uniqueEmail(), password: PASSWORD }, headers: { "CF-Connecting-IP": "unknown" } }, fetch);
      expect(r.status).toBe(400);
      expect(r.json).toEqual({ error: "invalid_request", reason: "invalid_client_address" });
    }
  });
});
