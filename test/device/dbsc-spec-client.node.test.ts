/**
 * The DBSC protocol tested where no browser does DBSC: a Node client written from the draft and
 * the measured Chromium wire (test/helpers/dbsc-client.ts), with real ES256 keys from Node's
 * WebCrypto, against the stack `npm run dev` runs (wrangler dev, the local store).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEMO, startStack, type Stack } from "../helpers/node/browser.ts";
import { refresh, register } from "../helpers/dbsc-client.ts";

const COOKIE = "__Host-session";
let stack: Stack | null = null;
let app = "";
const send = (r: Request) => fetch(r);

beforeAll(async () => {
  stack = await startStack({ DBSC_COOKIE_TTL: "2 s" });
  app = `http://localhost:${stack.port}`;
});
afterAll(async () => {
  if (stack) await stack.stop();
});

const me = async (cookie: string) => {
  const res = await fetch(`${app}/api/me`, { headers: { Cookie: `${COOKIE}=${cookie}` } });
  return { status: res.status, reason: ((await res.json()) as { reason?: string }).reason };
};

describe("DBSC with a spec-following Node client", () => {
  it("registers, is refused after the bound cookie's life, refreshes with the key, and ends with the session", async () => {
    const login = await fetch(`${app}/auth/login`, {
      method: "POST",
      headers: { "Content-Type": "application/json", Origin: app, "Sec-Fetch-Site": "same-origin", "X-CSRF-Protection": "1" },
      body: JSON.stringify({ email: DEMO.email, password: DEMO.password, transport: "cookie" }),
    });
    expect(login.status).toBe(200);
    const longLived = /__Host-session=([^;]+)/.exec(login.headers.getSetCookie().join("\n"))![1]!;
    const s = await register(send, app, login, `${COOKIE}=${longLived}`);
    expect(await me(s.cookie)).toEqual({ status: 200, reason: undefined });
    expect((await me(longLived)).reason).toBe("device_bound");
    const first = s.cookie;
    await new Promise((r) => setTimeout(r, 3_000));
    expect(await me(first)).toEqual({ status: 401, reason: "expired" });
    expect((await refresh(send, s)).status).toBe(200);
    expect(await me(s.cookie)).toEqual({ status: 200, reason: undefined });
    // A captured proof replayed: 403 with a new challenge, no cookie.
    const replay = await fetch(s.refreshUrl, { method: "POST", headers: { "Sec-Secure-Session-Id": `"${s.sessionId}"`, "Secure-Session-Response": s.proofs.at(-1)! } });
    expect(replay.status).toBe(403);
    expect(replay.headers.getSetCookie()).toEqual([]);
    // Sign out; the refresh fails at once.
    const out = await fetch(`${app}/auth/logout`, { method: "POST", headers: { Cookie: `${COOKIE}=${s.cookie}`, Origin: app, "Sec-Fetch-Site": "same-origin", "X-CSRF-Protection": "1" } });
    expect(out.status).toBe(204);
    const ended = await refresh(send, s);
    expect(ended.status).toBe(401);
    expect(await ended.json()).toMatchObject({ reason: "revoked", continue: false });
  });
});
