/**
 * Logs an on-call engineer can use: a 401's line says why and through which transport; a store
 * failure's line names the store's host and the kind of failure; nothing in any line is a token,
 * a cookie, a password or a full email.
 */
import { createExecutionContext, env as bindings, waitOnExecutionContext } from "cloudflare:test";
import { afterEach, beforeAll, beforeEach, describe, expect, it, vi, type MockInstance } from "vitest";
import { createApp } from "../../src/worker/app.js";
import { testApp } from "../helpers/app.js";
import { call, login, PASSWORD, register, type Fetch, type LoggedIn } from "../helpers/http.js";
import { privateStore, setControl, type StoreInstance } from "../helpers/store.js";
import { failureKind } from "../../src/store/failure.js";

let store: StoreInstance & { close(): Promise<void> };
let app: Fetch;
let lines: string[] = [];
const consoleText: string[] = [];
const spies: MockInstance[] = [];
let user: LoggedIn;

beforeAll(async () => {
  store = await privateStore();
  const built = await testApp({ UPSTASH_REDIS_REST_URL: store.url, UPSTASH_REDIS_REST_TOKEN: store.token, STORE_TIMEOUT_MS: "300" });
  const hono = createApp(built.deps, { log: (line) => lines.push(line) });
  app = async (req) => {
    const ctx = createExecutionContext();
    const res = await hono.fetch(req, bindings, ctx);
    await waitOnExecutionContext(ctx);
    return res;
  };
  user = await register(app);
  return () => store.close();
});

beforeEach(() => {
  lines = [];
  consoleText.length = 0;
  for (const method of ["log", "info", "warn", "error", "debug"] as const) {
    spies.push(vi.spyOn(console, method).mockImplementation((...args: unknown[]) => void consoleText.push(args.map(String).join(" "))));
  }
});
afterEach(() => {
  for (const s of spies.splice(0)) s.mockRestore();
});

const parsed = () => lines.map((l) => JSON.parse(l) as Record<string, unknown>);

describe("request lines", () => {
  it("a refused request's line carries the reason and the credential transport", async () => {
    const other = await login(app, user.email);
    await call("/auth/logout", { method: "POST", token: other.token }, app);
    lines = [];
    await call("/api/me", { token: other.token }, app);
    await call("/api/me", { headers: { Cookie: "__Host-session=v1.garbage" } }, app);
    await call("/api/me", {}, app);
    const [revoked, cookie, missing] = parsed();
    expect(revoked).toMatchObject({ status: 401, reason: "revoked", credential: "bearer" });
    expect(cookie).toMatchObject({ status: 401, credential: "cookie" });
    expect(String(cookie!.reason)).toMatch(/^[a-z_]+$/);
    expect(missing).toMatchObject({ status: 401, reason: "missing" });
    expect(missing!.credential).toBeUndefined();
  });

  it("a granted request's line names the lookup source and the user id, not the email", async () => {
    await call("/api/me", { token: user.token }, app);
    const [line] = parsed();
    expect(line).toMatchObject({ status: 200, credential: "bearer", user: user.user.id });
    expect(lines.join("\n")).not.toContain(user.email);
  });
});

const EXPECTED_KIND = { refuse: "refused", hang: "timeout", "invalid-json": "bad_reply", unauthorized: "unauthorized", status500: /^(error_reply|bad_reply)$/ } as const;

describe("store failure lines", () => {
  for (const [fault, kind] of Object.entries(EXPECTED_KIND)) {
    it(`${fault}: the warning names the store's host and the kind (${String(kind)})`, async () => {
      const fresh = await login(app, user.email);
      await setControl(store, { fault });
      try {
        const r = await call("/auth/session", { token: fresh.token }, app);
        expect(r.status).toBe(503);
      } finally {
        await setControl(store, { fault: null });
      }
      const warning = consoleText.map((t) => t.trim()).filter((t) => t.startsWith("{")).map((t) => JSON.parse(t)).find((l) => l.msg === "session store unavailable");
      expect(warning, consoleText.join("\n")).toBeDefined();
      expect(warning.store).toBe(new URL(store.url).host);
      if (typeof kind === "string") expect(warning.kind).toBe(kind);
      else expect(warning.kind).toMatch(kind);
      const all = [...lines, ...consoleText].join("\n");
      for (const secret of [fresh.token, store.token, user.email, PASSWORD]) expect(all.includes(secret)).toBe(false);
    });
  }
});

describe("attack: credentials and personal data aimed at the log", () => {
  it("tokens in URLs, cookies, passwords and emails in bodies never reach a line", async () => {
    const email = `victim.${Date.now()}@example.test`;
    await call("/auth/register", { body: { email, password: PASSWORD } }, app);
    const v = await login(app, email);
    await call(`/api/me?token=${v.token}&email=${encodeURIComponent(email)}`, {}, app);
    await call("/api/me", { headers: { Cookie: `__Host-session=${v.token}` } }, app);
    await call("/auth/login", { body: { email, password: "not the password at all" } }, app);
    const all = [...lines, ...consoleText].join("\n");
    expect(lines.length).toBeGreaterThanOrEqual(4);
    for (const secret of [v.token, ...v.token.split(".").filter((p) => p.length >= 20), email, encodeURIComponent(email), PASSWORD, "not the password at all"]) {
      expect(all.includes(secret), `${secret.slice(0, 6)}… reached the log`).toBe(false);
    }
  });
});

describe("failure kinds", () => {
  it("classifies the client's errors without keeping their text", () => {
    const named = (name: string, message: string) => Object.assign(new Error(message), { name });
    expect(failureKind(named("TimeoutError", "The operation was aborted due to timeout"))).toBe("timeout");
    expect(failureKind(new TypeError("fetch failed"))).toBe("refused");
    expect(failureKind(named("UpstashJSONParseError", "<html>502</html>"))).toBe("bad_reply");
    expect(failureKind(named("UpstashError", "Unauthorized"))).toBe("unauthorized");
    expect(failureKind(named("UpstashError", "ERR max requests limit exceeded"))).toBe("error_reply");
    expect(failureKind("a string")).toBe("unknown");
  });
});
