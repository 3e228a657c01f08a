/**
 * Refusing to serve on a bad configuration (never a silent default secret): missing or weak
 * SESSION_KEYS, a missing or short PASSWORD_PEPPER, missing store settings — outside development
 * every request answers 500 `{"error":"misconfigured", message}` naming every problem at once,
 * without echoing secret material. Development without keys runs on ephemeral ones, loudly.
 */
import { createExecutionContext, env as bindings, waitOnExecutionContext } from "cloudflare:test";
import { afterEach, beforeEach, describe, expect, it, vi, type MockInstance } from "vitest";
import { build } from "../helpers/app.js";
import type { Env } from "../../src/worker/config.js";
import worker from "../../src/worker/index.js";
import { generateKeyEntry } from "../../src/token/key-ring.js";
import { BASE, call, PASSWORD, register, uniqueEmail, type Fetch } from "../helpers/http.js";

const store = { UPSTASH_REDIS_REST_URL: bindings.UPSTASH_REDIS_REST_URL, UPSTASH_REDIS_REST_TOKEN: bindings.UPSTASH_REDIS_REST_TOKEN, STORE_PREFIX: bindings.STORE_PREFIX };
const goodKeys = `${generateKeyEntry("k1")}`;
const goodPepper = "p".repeat(16) + crypto.randomUUID();

let errors: MockInstance<typeof console.error>;
let warns: MockInstance<typeof console.warn>;
beforeEach(() => {
  errors = vi.spyOn(console, "error").mockImplementation(() => {});
  warns = vi.spyOn(console, "warn").mockImplementation(() => {});
});
afterEach(() => {
  errors.mockRestore();
  warns.mockRestore();
});
const logged = () => [...errors.mock.calls, ...warns.mock.calls].map((c) => c.map(String).join(" ")).join("\n");

/** Builds with exactly `env` (nothing inherited from the suite's bindings) and returns the refusal. */
async function refusal(env: Env): Promise<{ status: number; body: { error: string; message: string } }> {
  const built = await build(env);
  expect(built.ok, "the build should refuse this configuration").toBe(false);
  if (built.ok) throw new Error("unreachable");
  const res = built.response();
  return { status: res.status, body: (await res.json()) as { error: string; message: string } };
}

/** The deployed entry point, for a whole env: what every request gets. */
function deployed(env: Env): Fetch {
  return async (req) => {
    const ctx = createExecutionContext();
    const res = await worker.fetch(req as Request<unknown, IncomingRequestCfProperties>, env, ctx);
    await waitOnExecutionContext(ctx);
    return res;
  };
}

describe("missing configuration outside development", () => {
  it("an empty production env names every missing setting in one 500", async () => {
    const r = await refusal({});
    expect(r.status).toBe(500);
    expect(r.body.error).toBe("misconfigured");
    for (const name of ["SESSION_KEYS is missing", "PASSWORD_PEPPER is missing", "UPSTASH_REDIS_REST_URL is missing", "UPSTASH_REDIS_REST_TOKEN is missing"]) {
      expect(r.body.message).toContain(name);
    }
    // The log says it too.
    expect(logged()).toContain("SESSION_KEYS is missing");
  });

  it("every request — any route, any method — answers the same 500 through the deployed entry", async () => {
    const fetch = deployed({ ENVIRONMENT: "production", ...store, PASSWORD_PEPPER: goodPepper }); // no SESSION_KEYS
    const requests = [
      new Request(`${BASE}/health`),
      new Request(`${BASE}/api/hello`),
      new Request(`${BASE}/api/me`, { headers: { Authorization: "Bearer v1.k1.x.y" } }),
      new Request(`${BASE}/auth/login`, { method: "POST", body: JSON.stringify({ email: "a@example.test", password: PASSWORD }), headers: { "Content-Type": "application/json" } }),
      new Request(`${BASE}/auth/register`, { method: "POST", body: "{}" }),
      new Request(`${BASE}/ws`, { headers: { Upgrade: "websocket", Origin: "https://app.example" } }),
      new Request(`${BASE}/admin/users/x/sessions`, { method: "DELETE" }),
      new Request(`${BASE}/nope`, { method: "PUT" }),
    ];
    for (const req of requests) {
      const res = await fetch(req);
      expect(res.status, `${req.method} ${req.url}`).toBe(500);
      const body = (await res.json()) as { error: string; message: string };
      expect(body.error).toBe("misconfigured");
      expect(body.message).toMatch(/SESSION_KEYS is missing/);
    }
  });

  it("ENVIRONMENT test or a typo gets no development leniency", async () => {
    for (const ENVIRONMENT of ["test", "production", undefined]) {
      const r = await refusal({ ENVIRONMENT, ...store });
      expect(r.body.message).toContain("SESSION_KEYS is missing");
      expect(r.body.message).toContain("PASSWORD_PEPPER is missing");
    }
    const typo = await refusal({ ENVIRONMENT: "dev", ...store });
    expect(typo.body.message).toContain('ENVIRONMENT must be development, test or production (got "dev")');
    expect(typo.body.message).toContain("SESSION_KEYS is missing");
  });

  it("missing store settings are named, and a plain-http store off loopback is refused in production", async () => {
    const r = await refusal({ ENVIRONMENT: "production", SESSION_KEYS: goodKeys, PASSWORD_PEPPER: goodPepper });
    expect(r.body.message).toContain("UPSTASH_REDIS_REST_URL is missing");
    expect(r.body.message).toContain("UPSTASH_REDIS_REST_TOKEN is missing");
    const http = await refusal({ ENVIRONMENT: "production", SESSION_KEYS: goodKeys, PASSWORD_PEPPER: goodPepper, UPSTASH_REDIS_REST_URL: "http://redis.example.com", UPSTASH_REDIS_REST_TOKEN: "t" });
    expect(http.body.message).toContain("must use https outside loopback");
    const notUrl = await refusal({ ENVIRONMENT: "test", SESSION_KEYS: goodKeys, PASSWORD_PEPPER: goodPepper, UPSTASH_REDIS_REST_URL: "redis://127.0.0.1:6379", UPSTASH_REDIS_REST_TOKEN: "t" });
    expect(notUrl.body.message).toContain("UPSTASH_REDIS_REST_URL must be an http(s) URL");
  });

  it("STORE_FRESHNESS_BOUND: off or a duration above the clock's 1 s period, at most 60 s", async () => {
    const base = { ENVIRONMENT: "test", SESSION_KEYS: goodKeys, PASSWORD_PEPPER: goodPepper, ...store };
    for (const bad of ["1 s", "500 ms", "2 m", "soon", ""]) {
      const r = await refusal({ ...base, STORE_FRESHNESS_BOUND: bad });
      expect(r.body.message).toContain("STORE_FRESHNESS_BOUND must be off or a duration above 1000 ms");
    }
    const { loadConfig } = await import("../../src/worker/config.js");
    const on = loadConfig({ ...base, STORE_FRESHNESS_BOUND: "2 s" });
    const off = loadConfig(base);
    expect(on.ok && on.config.store.freshnessBoundMs).toBe(2000);
    expect(off.ok && off.config.store.freshnessBoundMs).toBeNull();
  });
});

describe("weak secrets", () => {
  it("weak SESSION_KEYS: every bad entry is named, no key material is echoed", async () => {
    const short = btoa("sixteen-byte-key").replace(/=+$/, ""); // 16 bytes
    const padded = btoa("x".repeat(32)); // padded base64: not unpadded base64url
    const good = generateKeyEntry("ok");
    const keys = [`k1:${short}`, `k2:${padded}`, "no-colon-here", `bad kid!:${good.split(":")[1]}`, good, good].join(",");
    const r = await refusal({ ENVIRONMENT: "production", ...store, PASSWORD_PEPPER: goodPepper, SESSION_KEYS: keys });
    const m = r.body.message;
    expect(m).toContain("entry 1 (k1): key is 16 bytes, at least 32 required");
    expect(m).toContain("entry 2 (k2): key is not unpadded base64url");
    expect(m).toContain("entry 3 is not kid:key");
    expect(m).toContain("entry 4: key id must be 1-8 characters");
    expect(m).toContain('entry 6: duplicate key id "ok"');
    for (const secret of [short, padded, good.split(":")[1]!]) {
      expect(m).not.toContain(secret);
      expect(logged()).not.toContain(secret);
    }
  });

  it("a short or missing PASSWORD_PEPPER is refused without echoing it", async () => {
    const pepper = "pepper-123456789";
    const r = await refusal({ ENVIRONMENT: "production", ...store, SESSION_KEYS: goodKeys, PASSWORD_PEPPER: pepper });
    expect(r.body.message).toContain("PASSWORD_PEPPER is too short (16 characters, at least 32)");
    expect(r.body.message).not.toContain(pepper);
    expect(logged()).not.toContain(pepper);
    const missing = await refusal({ ENVIRONMENT: "production", ...store, SESSION_KEYS: goodKeys, PASSWORD_PEPPER: "" });
    expect(missing.body.message).toContain("PASSWORD_PEPPER is missing");
  });

  it("everything wrong at once: one message naming every problem", async () => {
    const r = await refusal({
      ENVIRONMENT: "production",
      SESSION_KEYS: "k1:AAAA",
      PASSWORD_PEPPER: "short",
      UPSTASH_REDIS_REST_TOKEN: "t",
      SESSION_IDLE_TIMEOUT: "forever",
      SESSION_ABSOLUTE_TIMEOUT: "10 m",
      STORE_TIMEOUT_MS: "5000",
      CORS_ORIGINS: "*",
      RATE_LIMIT_LOGIN_ACCOUNT: "lots",
      SIGNUP: "maybe",
      WS_QUERY_SESSION_TOKEN: "yes",
    });
    const problems = r.body.message.replace(/^edge-session is misconfigured: /, "").split("; ");
    for (const fragment of ["SESSION_KEYS entry 1 (k1)", "PASSWORD_PEPPER is too short", "UPSTASH_REDIS_REST_URL is missing", "SESSION_IDLE_TIMEOUT", "STORE_TIMEOUT_MS", "CORS_ORIGINS may not be *", "RATE_LIMIT_LOGIN_ACCOUNT", "SIGNUP must be open or closed", "WS_QUERY_SESSION_TOKEN"]) {
      expect(problems.some((p) => p.includes(fragment)), fragment).toBe(true);
    }
    expect(problems.length).toBeGreaterThanOrEqual(9);
  });

  it("development still refuses secrets that are set but weak (ephemeral only when unset)", async () => {
    const r = await refusal({ ENVIRONMENT: "development", ...store, SESSION_KEYS: "k1:AAAA", PASSWORD_PEPPER: "short" });
    expect(r.body.message).toContain("SESSION_KEYS entry 1 (k1)");
    expect(r.body.message).toContain("PASSWORD_PEPPER is too short");
  });
});

describe("development without secrets", () => {
  it("works on an ephemeral key ring and pepper, with a loud warning", async () => {
    const built = await build({ ENVIRONMENT: "development", ...store, REQUEST_LOG: "off" });
    expect(built.ok).toBe(true);
    if (!built.ok) return;
    expect(built.deps.config.ephemeralKeys).toBe(true);
    expect(built.deps.config.ephemeralPepper).toBe(true);
    const warning = warns.mock.calls.map((c) => String(c[0])).join("\n");
    // One JSON line each (Workers Logs and `wrangler tail` parse them), logged once at the isolate's start.
    const lines = warns.mock.calls.map((c) => JSON.parse(String(c[0])) as { level: string; msg: string; warning: string });
    expect(lines.filter((l) => l.msg === "config").map((l) => l.level)).toEqual(["warn", "warn"]);
    expect(warning).toMatch(/SESSION_KEYS is not set: using an EPHEMERAL development key ring/);
    expect(warning).toMatch(/PASSWORD_PEPPER is not set: using an EPHEMERAL development pepper/);
    const fetch: Fetch = async (req) => {
      const ctx = createExecutionContext();
      const res = await built.app.fetch(req, {}, ctx);
      await waitOnExecutionContext(ctx);
      return res;
    };
    // Its own client IP: this app has the default register limit (20 / h), and requests without
    // CF-Connecting-IP share one counter with the rest of the suite.
    const u = await register(fetch, uniqueEmail("dev"), PASSWORD, { "CF-Connecting-IP": `2001:db8:c0f:${crypto.getRandomValues(new Uint16Array(1))[0]!.toString(16)}::1` });
    expect((await call("/api/me", { token: u.token }, fetch)).status).toBe(200);
  });

  it("the ephemeral secrets are random per isolate, never a built-in default", async () => {
    const a = await build({ ENVIRONMENT: "development", ...store, REQUEST_LOG: "off" });
    const b = await build({ ENVIRONMENT: "development", ...store, REQUEST_LOG: "off" });
    if (!a.ok || !b.ok) throw new Error("development build failed");
    expect(a.deps.config.pepper).not.toBe(b.deps.config.pepper);
    expect(a.deps.config.pepper.length).toBeGreaterThanOrEqual(32);
    expect(a.deps.config.sessionKeys[0]!.key).not.toEqual(b.deps.config.sessionKeys[0]!.key);
    expect(a.deps.config.sessionKeys[0]!.key.length).toBeGreaterThanOrEqual(32);
    // A token from one isolate means nothing to the other.
    const { token } = await a.deps.keyRing.issue();
    expect((await a.deps.keyRing.verify(token)).ok).toBe(true);
    expect(await b.deps.keyRing.verify(token)).toEqual({ ok: false, reason: "bad_signature" });
  });

  it("development still needs a store: no silent in-memory fallback", async () => {
    const r = await refusal({ ENVIRONMENT: "development" });
    expect(r.body.message).toContain("UPSTASH_REDIS_REST_URL is missing");
    expect(r.body.message).not.toContain("SESSION_KEYS");
  });
});
