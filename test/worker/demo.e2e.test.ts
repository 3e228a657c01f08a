/**
 * The demo SPA end to end, in Debian's Chromium driven by playwright-core: the same stack as
 * `npm run dev` (local store + a local OpenID Connect provider + `wrangler dev` of
 * dev/worker-dev.ts + the demo accounts), on free loopback ports (test/e2e/harness.ts). The page
 * is served at http://localhost:<port> and signs in in cookie mode.
 *
 * Needs `/usr/bin/chromium` (`apt-get install -y chromium`; playwright never downloads a
 * browser here). Without it the suite is skipped, except under CI=true, where it fails.
 * Run alone with `npx vitest run --project node test/e2e`. The last test screenshots the page
 * into .tmp/demo.png; `UPDATE_SCREENSHOT=1` writes docs/demo.png (the README's) instead.
 */
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, rmSync } from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { dirname, join } from "node:path";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { MIN_PASSWORD_LENGTH } from "../../src/accounts/password.ts";
import { ADMIN, bounded, CHROMIUM, chromiumMissing, DEMO, INSTALL, launchChromium, ROOT, startStack, type Stack } from "../helpers/node/browser.ts";
import { figure } from "../helpers/figure.ts";
import { signInAtProvider } from "../helpers/node/idp-pages.ts";

/**
 * The rooms' safety-net re-check, left at its default: every close below must come from the
 * revocation push, not from a re-check.
 */
const WS_RECHECK = "30 s";
/** The login typed at the local OpenID Connect provider, and the email it gives that account (dev/local-idp.ts). */
const SSO_USER = { login: "sso-user", email: "sso-user@example.com" };
/** The README's screenshot is rewritten only on request (UPDATE_SCREENSHOT=1); otherwise .tmp/ (git-ignored). */
const UPDATE_SCREENSHOT = process.env.UPDATE_SCREENSHOT === "1";
const SCREENSHOT = join(ROOT, UPDATE_SCREENSHOT ? "docs/demo.png" : ".tmp/demo.png");
const COOKIE = "__Host-session";

if (chromiumMissing && process.env.CI === "true") {
  // CI must run these: a missing browser is a failure there, not a skip.
  it(`needs Debian's Chromium at ${CHROMIUM} (CI=true)`, () => {
    throw new Error(`${CHROMIUM} is missing; install it in CI: ${INSTALL}`);
  });
} else if (chromiumMissing) {
  console.warn(`[e2e] SKIPPED: ${CHROMIUM} is absent. Install Debian's Chromium: ${INSTALL}`);
}

describe.skipIf(chromiumMissing)(chromiumMissing ? `demo SPA in Chromium (skipped: ${CHROMIUM} absent; ${INSTALL})` : "demo SPA in Chromium", () => {
  let stack: Stack | null = null;
  let browser: Browser | null = null;
  const contexts = new Set<BrowserContext>();
  /** http://localhost: a secure context, where the browser keeps the Secure __Host- cookie over HTTP. */
  let base = "";
  /** The same worker for Node's fetch (wrangler listens on 127.0.0.1 only; Node may try ::1 for localhost). */
  let direct = "";

  beforeAll(async () => {
    stack = await startStack({ WS_RECHECK_INTERVAL: WS_RECHECK }, { sso: true });
    base = `http://localhost:${stack.port}`;
    direct = `http://127.0.0.1:${stack.port}`;
    browser = await launchChromium();
  });

  afterAll(async () => {
    // Everything goes, whatever happened above; each step bounded.
    for (const c of contexts) await bounded(c.close(), 5_000);
    if (browser) await bounded(browser.close(), 10_000);
    if (stack) await stack.stop();
  });

  afterEach((ctx) => {
    if (ctx.task.result?.state === "fail") console.error(`[e2e] wrangler output (tail):\n${stack?.output().slice(-4000)}`);
  });

  /** A fresh browser context (own cookies and storage: another "device") that only reaches the worker. */
  async function newPage(): Promise<{ context: BrowserContext; page: Page; errors: string[] }> {
    const context = await browser!.newContext({ viewport: { width: 1200, height: 900 } });
    contexts.add(context);
    // Loopback only: anything not addressed to the worker (or to the local OpenID Connect
    // provider, for the SSO popup) is refused before it leaves.
    const allowed = new Set([base, stack!.idpOrigin]);
    await context.route((url) => !allowed.has(url.origin), (route) => route.abort("blockedbyclient"));
    const page = await context.newPage();
    page.setDefaultTimeout(10_000);
    const errors: string[] = [];
    page.on("pageerror", (e) => errors.push(`pageerror: ${e.message}`));
    // Every console error counts: Chromium logs each 4xx/5xx fetch as one, so a page that asks
    // a question bound to be refused (a 401 on a first visit) fails here.
    page.on("console", (m) => {
      if (m.type() === "error") errors.push(`console: ${m.text()} (${m.location().url})`);
    });
    return { context, page, errors };
  }

  async function close(context: BrowserContext) {
    contexts.delete(context);
    await bounded(context.close(), 5_000);
  }

  /** Signs in through the form (as the demo user unless `as` says otherwise); returns the token the worker put in the cookie. */
  async function signIn(page: Page, as: { email: string; password: string } = DEMO): Promise<string> {
    await page.goto(base + "/");
    await page.locator("#signin-view").waitFor({ state: "visible" });
    await page.locator("#email").fill(as.email);
    await page.locator("#password").fill(as.password);
    const loginResponse = page.waitForResponse((r) => r.url() === `${base}/auth/login` && r.request().method() === "POST");
    await page.getByRole("button", { name: "Sign in", exact: true }).click();
    const res = await loginResponse;
    expect(res.status()).toBe(200);
    await page.locator("#app-view").waitFor({ state: "visible" });
    await expect.poll(() => page.locator("#me-email").textContent()).toBe(as.email);
    const cookie = (await page.context().cookies(base)).find((c) => c.name === COOKIE);
    if (!cookie) throw new Error("no session cookie after sign-in");
    return cookie.value;
  }

  async function connectSocket(page: Page) {
    const socketEvent = page.waitForEvent("websocket");
    await page.getByRole("button", { name: "Connect", exact: true }).click();
    const ws = await socketEvent;
    await page.locator('#ws-status[data-state="open"]').waitFor();
    return ws;
  }

  const apiStatus = async (token: string, path = "/api/me") =>
    (await fetch(direct + path, { headers: { Authorization: `Bearer ${token}` }, signal: AbortSignal.timeout(5_000) })).status;

  it("signs in through the page; the token stays out of URLs and Web Storage", async () => {
    const { context, page, errors } = await newPage();
    try {
      const urls: string[] = [];
      page.on("request", (r) => urls.push(r.url()));
      await page.goto(base + "/");
      // The demo accounts this stack created, listed and filled in from /dev/info.
      await expect.poll(() => page.locator("#email").inputValue()).toBe(DEMO.email);
      const token = await signIn(page);
      await expect(page.locator("#whoami-email").textContent()).resolves.toBe(DEMO.email);
      await expect(page.locator("#signin-view").isHidden()).resolves.toBe(true);
      expect(urls.some((u) => u.includes(token))).toBe(false);
      const stored = await page.evaluate(() => {
        // Runs in the page (this file is type-checked without the DOM library).
        const w = globalThis as unknown as { localStorage: { length: number }; sessionStorage: { length: number }; document: { cookie: string } };
        return [w.localStorage.length, w.sessionStorage.length, w.document.cookie];
      });
      expect(stored).toEqual([0, 0, ""]);
      expect(await apiStatus(token)).toBe(200);
      expect(errors).toEqual([]);
    } finally {
      await close(context);
    }
  });

  it("calls the API with the session cookie (no Authorization header) and shows the user", async () => {
    const { context, page } = await newPage();
    try {
      const token = await signIn(page);
      const request = page.waitForRequest((r) => r.url() === `${base}/api/me`);
      await page.getByRole("button", { name: "Call the API again" }).click();
      const sent = await request;
      expect(await sent.headerValue("authorization")).toBeNull();
      expect(await sent.headerValue("cookie")).toBe(`${COOKIE}=${token}`);
      expect((await sent.response())?.status()).toBe(200);
      await expect(page.locator("#me-email").textContent()).resolves.toBe(DEMO.email);
      await expect(page.locator("#me-roles").textContent()).resolves.toBe("none");
      await expect(page.locator("#me-id").textContent()).resolves.toMatch(/\S{8,}/);
      // The session list marks this device.
      await page.locator('#sessions tr[data-current="true"]').waitFor();
      await expect(page.locator('#sessions tr[data-current="true"] .badge').textContent()).resolves.toBe("this device");
    } finally {
      await close(context);
    }
  });

  it("WebSocket round trip: the room's hello with presence, then what was sent relayed back; nothing in the URL", async () => {
    const { context, page, errors } = await newPage();
    try {
      const token = await signIn(page);
      const ws = await connectSocket(page);
      expect(ws.url()).toBe(`${base.replace("http:", "ws:")}/ws?room=lobby`);
      expect(ws.url()).not.toContain(token);
      await expect(page.locator("#ws-status").textContent()).resolves.toContain("session cookie");
      await expect.poll(() => page.locator("#ws-messages .msg-in").first().textContent()).toContain(`"type":"hello"`);
      await expect(page.locator("#ws-messages .msg-in").first().textContent()).resolves.toContain(DEMO.email);

      await page.getByLabel("Message", { exact: true }).fill("hello from chromium");
      await page.getByRole("button", { name: "Send", exact: true }).click();
      await expect
        .poll(() => page.locator("#ws-messages .msg-in").allTextContents())
        .toContainEqual(expect.stringContaining(`"data":"hello from chromium"`));
      await expect(page.locator("#ws-presence").textContent()).resolves.toContain(`${DEMO.email} (you)`);
      expect(errors).toEqual([]);
    } finally {
      await close(context);
    }
  });

  it("logout: the server closes the socket with 4401 and the API answers 401", async () => {
    const { context, page } = await newPage();
    try {
      const token = await signIn(page);
      await connectSocket(page);
      await page.getByRole("button", { name: "Sign out", exact: true }).click();
      await page.locator("#signin-view").waitFor({ state: "visible" });
      await expect.poll(() => page.locator("#ws-status").textContent(), { timeout: 5_000 }).toContain("4401");
      await expect(page.locator("#ws-status").textContent()).resolves.toContain("session_ended");
      await expect(page.locator("#log").textContent()).resolves.toContain("4401 session_ended");
      expect(await apiStatus(token)).toBe(401);
      expect(await apiStatus(token, "/auth/session")).toBe(401);
    } finally {
      await close(context);
    }
  });

  it("a second device revokes the first: its socket closes with 4401 and its next API call lands on sign-in", async () => {
    const first = await newPage();
    const second = await newPage();
    try {
      const firstToken = await signIn(first.page);
      await connectSocket(first.page);
      const firstRow = first.page.locator('#sessions tr[data-current="true"]');
      await firstRow.waitFor();
      const firstId = await firstRow.getAttribute("data-session-id");
      expect(firstId).toMatch(/\S+/);

      await signIn(second.page);
      const row = second.page.locator(`#sessions tr[data-session-id="${firstId}"]`);
      await row.waitFor();
      await expect(row.getAttribute("data-current")).resolves.toBe("false");
      const revoked = second.page.waitForResponse((r) => r.url() === `${base}/auth/sessions/${firstId}` && r.request().method() === "DELETE");
      await row.getByRole("button", { name: /^Revoke/ }).click();
      expect((await revoked).status()).toBe(204);
      await second.page.locator(`#sessions tr[data-session-id="${firstId}"]`).waitFor({ state: "detached" });

      // The first device: the push closes its socket (the re-check is 30 s away) …
      await expect.poll(() => first.page.locator("#ws-status").textContent(), { timeout: 5_000, interval: 100 }).toContain("4401");
      // … and the page goes back to sign-in at once, keeping nothing of the ended session.
      await first.page.locator("#signin-view").waitFor({ state: "visible" });
      await expect(first.page.locator("#signin-notice").textContent()).resolves.toContain("revoked");
      await expect(first.page.locator("#app-view").isHidden()).resolves.toBe(true);
      await expect(first.page.locator("#whoami").isHidden()).resolves.toBe(true);
      for (const id of ["#whoami-email", "#me-email", "#me-id"]) await expect(first.page.locator(id).textContent(), id).resolves.not.toContain(DEMO.email);
      await expect(first.page.locator("#me-id").textContent()).resolves.toBe("…");
      await expect(first.page.locator("#sessions tbody tr").count()).resolves.toBe(0);
      expect(first.errors).toEqual([]);
      expect(await apiStatus(firstToken)).toBe(401);
      // The second device is untouched.
      await second.page.getByRole("button", { name: "Call the API again" }).click();
      await expect(second.page.locator("#app-view").isVisible()).resolves.toBe(true);
    } finally {
      await close(first.context);
      await close(second.context);
    }
  });

  it("sign out everywhere on device 2: device 1's socket closes with 4401 at once and its page says so", async () => {
    const first = await newPage();
    const second = await newPage();
    try {
      await signIn(first.page);
      await connectSocket(first.page);
      await signIn(second.page);
      const revoked = second.page.waitForResponse((r) => r.url() === `${base}/auth/sessions/revoke-others` && r.request().method() === "POST");
      second.page.once("dialog", (d) => void d.accept());
      await second.page.getByRole("button", { name: "Sign out everywhere" }).click();
      expect((await revoked).status()).toBe(200);
      const since = Date.now();
      // The rooms' re-check is 30 s away: only the push closes it this fast.
      await expect.poll(() => first.page.locator("#ws-status").textContent(), { timeout: 3_000, interval: 50 }).toContain("4401 session_ended");
      const ms = Date.now() - since;
      await first.page.locator("#signin-view").waitFor({ state: "visible" });
      await expect(first.page.locator("#signin-notice").textContent()).resolves.toContain("Your session has ended");
      figure(`[e2e] sign out everywhere on device 2 → device 1 shows 4401 after ${ms} ms (page poll every 50 ms)`);
      await second.page.locator("#signin-view").waitFor({ state: "visible" });
    } finally {
      await close(first.context);
      await close(second.context);
    }
  });

  it("the admin disables B: B's socket closes with 4401 and A sees B leave the room", async () => {
    const b = { email: `b-${randomBytes(4).toString("hex")}@example.test`, password: "b-password-for-e2e" };
    const reg = await fetch(`${direct}/auth/register`, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(b), signal: AbortSignal.timeout(10_000) });
    expect(reg.status).toBe(201);
    const a = await newPage();
    const bPage = await newPage();
    try {
      await signIn(a.page);
      await connectSocket(a.page);
      await signIn(bPage.page, b);
      await connectSocket(bPage.page);
      const bId = (await bPage.page.locator("#me-id").textContent())!;
      // A sees B arrive; B sees both.
      await expect.poll(() => a.page.locator(`#ws-presence .person[data-user-id="${bId}"]`).count(), { timeout: 5_000 }).toBe(1);
      // Others are named by user id (WS_ROOM_EMAILS is off): B sees A's entry, not A's email.
      const aId = (await a.page.locator("#me-id").textContent())!;
      await expect.poll(() => bPage.page.locator(`#ws-presence .person[data-user-id="${aId}"]`).count(), { timeout: 5_000 }).toBe(1);
      await expect(bPage.page.locator("#ws-presence").textContent()).resolves.not.toContain(DEMO.email);

      // The admin is the demo admin the stack seeded (dev/accounts.ts DEMO_USERS), signed in from Node.
      const login = await fetch(`${direct}/auth/login`, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ email: ADMIN.email, password: ADMIN.password }), signal: AbortSignal.timeout(10_000) });
      expect(login.status).toBe(200);
      const adminToken = ((await login.json()) as { token: string }).token;
      const disabled = await fetch(`${direct}/admin/users/${encodeURIComponent(bId)}/disable`, { method: "POST", headers: { Authorization: `Bearer ${adminToken}` }, signal: AbortSignal.timeout(10_000) });
      expect(disabled.status).toBe(200);
      expect(((await disabled.json()) as { revoked: number }).revoked).toBeGreaterThanOrEqual(1);

      await expect.poll(() => bPage.page.locator("#ws-status").textContent(), { timeout: 3_000, interval: 50 }).toContain("4401 session_ended");
      await bPage.page.locator("#signin-view").waitFor({ state: "visible" });
      await expect(bPage.page.locator("#signin-notice").textContent()).resolves.toContain("Your session has ended");
      // The other participant sees the presence update.
      await expect.poll(() => a.page.locator(`#ws-presence .person[data-user-id="${bId}"]`).count(), { timeout: 3_000, interval: 50 }).toBe(0);
      await expect(a.page.locator("#ws-status").textContent()).resolves.toContain("open");
      await fetch(`${direct}/auth/logout`, { method: "POST", headers: { Authorization: `Bearer ${adminToken}` }, signal: AbortSignal.timeout(5_000) });
    } finally {
      await close(a.context);
      await close(bPage.context);
    }
  });

  it("Sign in with SSO (development): a popup to the local OpenID Connect provider, back signed in as its user by the session cookie", async () => {
    const { context, page, errors } = await newPage();
    try {
      await page.goto(base + "/");
      const sso = page.getByRole("button", { name: "Sign in with SSO" });
      await sso.waitFor({ state: "visible" });
      const popupOpened = page.waitForEvent("popup");
      await sso.click();
      const popup = await popupOpened;
      const closed = popup.waitForEvent("close", { timeout: 20_000 });
      await signInAtProvider(popup, SSO_USER.login);
      await closed;
      await page.locator("#app-view").waitFor({ state: "visible" });
      await expect.poll(() => page.locator("#me-email").textContent()).toBe(SSO_USER.email);
      // Cookie mode all the way: the session is in the HttpOnly cookie, and the API call that
      // showed the user carried it (no Authorization header, nothing in Web Storage).
      const cookie = (await context.cookies(base)).find((c) => c.name === COOKIE);
      expect(cookie?.httpOnly).toBe(true);
      const request = page.waitForRequest((r) => r.url() === `${base}/api/me`);
      await page.getByRole("button", { name: "Call the API again" }).click();
      const sent = await request;
      expect(await sent.headerValue("authorization")).toBeNull();
      expect(await sent.headerValue("cookie")).toBe(`${COOKIE}=${cookie!.value}`);
      expect((await sent.response())?.status()).toBe(200);
      // Web Storage holds only the page's note that this session came from SSO (for sign-out at the provider), never the token.
      const stored = await page.evaluate(() => {
        const w = globalThis as unknown as { localStorage: { length: number }; sessionStorage: { length: number; key(i: number): string | null; getItem(k: string): string | null }; document: { cookie: string } };
        const session: Record<string, string | null> = {};
        for (let i = 0; i < w.sessionStorage.length; i++) session[w.sessionStorage.key(i)!] = w.sessionStorage.getItem(w.sessionStorage.key(i)!);
        return [w.localStorage.length, session, w.document.cookie];
      });
      expect(stored).toEqual([0, { "edge-session-demo:sso": "1" }, ""]);
      expect(await apiStatus(cookie!.value)).toBe(200);
      expect(errors).toEqual([]);
    } finally {
      await close(context);
    }
  });

  it("a first visit logs nothing in the console: no 401 from the start-up session check", async () => {
    const { context, page, errors } = await newPage();
    try {
      const check = page.waitForResponse((r) => r.url() === `${base}/auth/session`);
      const info = page.waitForResponse((r) => r.url() === `${base}/dev/info`);
      await page.goto(base + "/");
      expect((await check).status()).toBe(204);
      expect((await info).status()).toBe(200);
      await page.locator("#signin-view").waitFor({ state: "visible" });
      await expect(page.locator("#log").textContent()).resolves.toContain("Ready. Sign in to begin.");
      expect(errors).toEqual([]);
    } finally {
      await close(context);
    }
  });

  it("lists the demo accounts the dev runner created, and only those (/dev/info)", async () => {
    const { context, page } = await newPage();
    try {
      await page.goto(base + "/");
      const hint = page.locator("#demo-hint");
      await hint.waitFor({ state: "visible" });
      const text = (await hint.textContent())!;
      for (const u of [DEMO, ADMIN]) expect(text).toContain(`${u.email} / ${u.password}`);
      await expect(page.locator("#password").inputValue()).resolves.toBe(DEMO.password);
    } finally {
      await close(context);
    }
  });

  it("register: the form asks what the server asks, and a refusal shows the server's message", async () => {
    const { context, page, errors } = await newPage();
    try {
      await page.goto(base + "/");
      await page.locator("#signin-view").waitFor({ state: "visible" });
      await expect(page.locator("#password").getAttribute("minlength")).resolves.toBe(String(MIN_PASSWORD_LENGTH));
      await expect(page.locator("#password-hint").textContent()).resolves.toContain(`${MIN_PASSWORD_LENGTH} characters`);
      await page.locator("#email").fill(`short-${randomBytes(4).toString("hex")}@example.test`);
      await page.locator("#password").fill("x".repeat(MIN_PASSWORD_LENGTH - 1));
      const refused = page.waitForResponse((r) => r.url() === `${base}/auth/register`);
      await page.getByRole("button", { name: "Create account" }).click();
      expect((await refused).status()).toBe(400);
      await expect.poll(() => page.locator("#signin-error").textContent()).toBe(`Could not create the account: password must be at least ${MIN_PASSWORD_LENGTH} characters`);
      await expect(page.locator("#signin-error").textContent()).resolves.not.toContain("invalid_request");
      // The one console error is the refused request itself (Chromium logs every 4xx fetch).
      expect(errors.filter((e) => !e.includes("status of 400"))).toEqual([]);
    } finally {
      await close(context);
    }
  });

  it("Sign out everywhere asks first: dismissed, nothing is revoked; accepted, every session ends", async () => {
    const other = await newPage();
    const { context, page } = await newPage();
    try {
      const otherToken = await signIn(other.page);
      const token = await signIn(page);
      const asked: string[] = [];
      page.once("dialog", (d) => {
        asked.push(d.type(), d.message());
        void d.dismiss();
      });
      await page.getByRole("button", { name: "Sign out everywhere" }).click();
      await expect.poll(() => asked.length).toBe(2);
      expect(asked[0]).toBe("confirm");
      expect(asked[1]).toMatch(/every device/);
      // Give a request that should not exist the time to be sent.
      await page.waitForTimeout(500);
      expect(await apiStatus(otherToken)).toBe(200);
      expect(await apiStatus(token)).toBe(200);
      await expect(page.locator("#app-view").isVisible()).resolves.toBe(true);

      page.once("dialog", (d) => void d.accept());
      await page.getByRole("button", { name: "Sign out everywhere" }).click();
      await page.locator("#signin-view").waitFor({ state: "visible" });
      expect(await apiStatus(otherToken)).toBe(401);
      expect(await apiStatus(token)).toBe(401);
    } finally {
      await close(context);
      await close(other.context);
    }
  });

  it("at 390 px (a phone) the header keeps its tagline readable and short", async () => {
    const context = await browser!.newContext({ viewport: { width: 390, height: 844 } });
    contexts.add(context);
    await context.route((url) => url.origin !== base, (route) => route.abort("blockedbyclient"));
    const page = await context.newPage();
    try {
      await signIn(page);
      const header = (await page.locator("header.top").boundingBox())!;
      const tagline = (await page.locator(".tagline").boundingBox())!;
      // The squeezed layout: a tagline about 100 px wide and a header over 300 px tall.
      expect(tagline.width).toBeGreaterThan(300);
      expect(header.height).toBeLessThan(220);
      // No horizontal scrolling either.
      const widths = await page.evaluate(() => {
        const d = (globalThis as unknown as { document: { documentElement: { scrollWidth: number; clientWidth: number } } }).document.documentElement;
        return [d.scrollWidth, d.clientWidth];
      });
      expect(widths[0]).toBeLessThanOrEqual(widths[1]!);
      mkdirSync(join(ROOT, ".tmp"), { recursive: true });
      await page.screenshot({ path: join(ROOT, ".tmp/demo-390.png") });
    } finally {
      await close(context);
    }
  });

  describe("attack: framing the demo page (clickjacking)", () => {
    it("served by wrangler dev with a real CSP frame-ancestors 'none' and X-Frame-Options: DENY; Chromium refuses to frame it", async () => {
      let hostileServer: http.Server | null = null;
      const { context, page } = await newPage();
      try {
        // A hostile page on another loopback origin that frames the demo: a real server, so that
        // Chromium's Local Network Access checks see a local page framing a local one (a page
        // fulfilled by the browser's router counts as public and is refused for reasons of its own).
        hostileServer = http.createServer((_req, res) => {
          res.writeHead(200, { "content-type": "text/html" });
          res.end(`<iframe id="victim" src="${base}/"></iframe>`);
        });
        await new Promise<void>((resolve) => hostileServer!.listen(0, "127.0.0.1", resolve));
        const hostile = `http://127.0.0.1:${(hostileServer.address() as AddressInfo).port}`;
        await context.route(`${hostile}/**`, (route) => route.continue());
        await page.goto(`${hostile}/`);
        await page.waitForTimeout(2000);
        const child = page.frames().find((f) => f !== page.mainFrame());
        const loaded = child ? (await child.locator("#signin-view").count().catch(() => 0)) > 0 : false;
        expect(loaded, "the demo rendered inside a foreign page's frame").toBe(false);
      } finally {
        await close(context);
        await new Promise((resolve) => (hostileServer ? hostileServer.close(resolve) : resolve(undefined)));
      }
      const res = await fetch(`${base}/`, { signal: AbortSignal.timeout(5_000) });
      await res.arrayBuffer();
      expect(res.headers.get("content-security-policy")).toContain("frame-ancestors 'none'");
      expect(res.headers.get("x-frame-options")).toBe("DENY");
    });
  });

  it(`screenshot of the signed-in demo page → ${UPDATE_SCREENSHOT ? "docs/demo.png" : ".tmp/demo.png (UPDATE_SCREENSHOT=1: docs/demo.png)"}`, async () => {
    // A tidy session list: end the demo user's earlier sessions through the API first.
    const login = await fetch(`${direct}/auth/login`, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ email: DEMO.email, password: DEMO.password }), signal: AbortSignal.timeout(5_000) });
    const { token } = (await login.json()) as { token: string };
    await fetch(`${direct}/auth/sessions/revoke-others`, { method: "POST", headers: { Authorization: `Bearer ${token}` }, signal: AbortSignal.timeout(5_000) });
    await fetch(`${direct}/auth/logout`, { method: "POST", headers: { Authorization: `Bearer ${token}` }, signal: AbortSignal.timeout(5_000) });

    const other = await newPage();
    const { context, page, errors } = await newPage();
    try {
      await signIn(other.page);
      await signIn(page);
      await connectSocket(page);
      await page.getByLabel("Message", { exact: true }).fill("hello, edge");
      await page.getByRole("button", { name: "Send", exact: true }).click();
      await page.getByLabel("Message", { exact: true }).fill(JSON.stringify({ ping: 1 }));
      await page.getByRole("button", { name: "Send", exact: true }).click();
      await expect.poll(() => page.locator("#ws-messages .msg-in").count()).toBe(3);
      await page.getByRole("button", { name: "Reload list" }).click();
      await expect.poll(() => page.locator("#sessions tbody tr").count()).toBe(2);
      await page.getByRole("button", { name: "Call the API again" }).click();
      await page.locator("#ws-input").blur();
      await page.mouse.move(0, 0);
      mkdirSync(dirname(SCREENSHOT), { recursive: true });
      rmSync(SCREENSHOT, { force: true });
      await page.screenshot({ path: SCREENSHOT, fullPage: true });
      expect(existsSync(SCREENSHOT)).toBe(true);
      expect(errors).toEqual([]);
    } finally {
      await close(context);
      await close(other.context);
    }
  });
});
