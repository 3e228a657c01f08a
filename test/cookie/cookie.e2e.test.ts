/**
 * Cookie mode in Debian's Chromium, with real cross-site pages. The worker (wrangler dev) serves
 * the demo at http://localhost:<port> — a secure context, so the browser accepts the
 * `__Host-session` cookie (Secure) over plain HTTP there. An attacker server on another port
 * serves its pages as http://127.0.0.1:<port2> (another site: SameSite applies) and as
 * http://localhost:<port2> (the same site, another origin: the browser sends the Lax cookie, so
 * only the worker's CSRF and Origin checks stand in the way).
 */
import http from "node:http";
import type { AddressInfo } from "node:net";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { bounded, CHROMIUM, chromiumMissing, DEMO, INSTALL, launchChromium, startStack, type Stack } from "../helpers/node/browser.ts";

const COOKIE = "__Host-session";
const NEW_PASSWORD = "attacker-chosen-password-1";

/** In-page globals (this file is type-checked without the DOM library). */
type PageGlobals = { document: { cookie: string; forms: { [i: number]: { submit(): void } } }; WebSocket: new (url: string) => { addEventListener(e: string, f: (ev: { code?: number }) => void): void } };

function attackerServer(app: () => string): Promise<{ port: number; close(): Promise<void> }> {
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://attacker");
    const target = app() + (url.searchParams.get("path") ?? "/auth/logout");
    res.setHeader("Content-Type", "text/html; charset=utf-8");
    if (url.pathname === "/form") {
      // The classic: an auto-submitted form. text/plain lets it send a JSON-looking body.
      res.end(`<!doctype html><form method="POST" action="${target}" enctype="text/plain"><input type="hidden" name='{"currentPassword":"${DEMO.password}","newPassword":"${NEW_PASSWORD}","x":"' value='"}'></form>`);
      return;
    }
    res.end("<!doctype html><title>attacker</title><p>Nothing to see here.</p>");
  });
  return new Promise((resolve) => {
    server.listen(0, "127.0.0.1", () => {
      resolve({
        port: (server.address() as AddressInfo).port,
        close: () => new Promise<void>((r) => server.close(() => r())),
      });
    });
  });
}

describe.skipIf(chromiumMissing)(chromiumMissing ? `cookie mode in Chromium (skipped: ${CHROMIUM} absent; ${INSTALL})` : "cookie mode in Chromium", () => {
  let stack: Stack | null = null;
  let browser: Browser | null = null;
  let attacker: Awaited<ReturnType<typeof attackerServer>> | null = null;
  const contexts = new Set<BrowserContext>();
  let app = "";
  /** Another site (SameSite applies). */
  let crossSite = "";
  /** The same site as the app, another origin (the Lax cookie is sent). */
  let sameSite = "";

  beforeAll(async () => {
    stack = await startStack({ WS_RECHECK_INTERVAL: "1 s" });
    app = `http://localhost:${stack.port}`;
    attacker = await attackerServer(() => app);
    crossSite = `http://127.0.0.1:${attacker.port}`;
    sameSite = `http://localhost:${attacker.port}`;
    browser = await launchChromium();
  });

  afterAll(async () => {
    for (const c of contexts) await bounded(c.close(), 5_000);
    if (browser) await bounded(browser.close(), 10_000);
    if (attacker) await bounded(attacker.close(), 5_000);
    if (stack) await stack.stop();
  });

  afterEach((ctx) => {
    if (ctx.task.result?.state === "fail") console.error(`[e2e] wrangler output (tail):\n${stack?.output().slice(-4000)}`);
  });

  /** A fresh browser profile ("a device") that reaches only the worker and the attacker's server. */
  async function newContext(): Promise<BrowserContext> {
    const context = await browser!.newContext({ viewport: { width: 1200, height: 900 } });
    contexts.add(context);
    const allowed = new Set([app, crossSite, sameSite]);
    await context.route((url) => !allowed.has(url.origin), (route) => route.abort("blockedbyclient"));
    return context;
  }

  async function close(context: BrowserContext) {
    contexts.delete(context);
    await bounded(context.close(), 5_000);
  }

  async function appPage(context: BrowserContext): Promise<{ page: Page; errors: string[] }> {
    const page = await context.newPage();
    page.setDefaultTimeout(10_000);
    const errors: string[] = [];
    page.on("pageerror", (e) => errors.push(`pageerror: ${e.message}`));
    page.on("console", (m) => {
      // A signed-out page's restore() is answered 401 by design (the same answer clears a stale
      // cookie), and Chromium logs every 4xx fetch as an error: that one is expected.
      if (m.type() === "error" && !(m.location().url === `${app}/auth/session` && m.text().includes("status of 401"))) errors.push(`console: ${m.text()} (${m.location().url})`);
    });
    return { page, errors };
  }

  /** Signs in through the demo's form; returns the cookie's token as the browser holds it. */
  async function signIn(page: Page): Promise<string> {
    await page.goto(app + "/");
    await page.locator("#signin-view").waitFor({ state: "visible" });
    const login = page.waitForResponse((r) => r.url() === `${app}/auth/login` && r.request().method() === "POST");
    await page.getByRole("button", { name: "Sign in", exact: true }).click();
    const res = await login;
    expect(res.status()).toBe(200);
    expect(((await res.json()) as { token?: string }).token).toBeUndefined();
    await page.locator("#app-view").waitFor({ state: "visible" });
    await expect.poll(() => page.locator("#me-email").textContent()).toBe(DEMO.email);
    const cookie = (await page.context().cookies(app)).find((c) => c.name === COOKIE);
    expect(cookie).toBeDefined();
    return cookie!.value;
  }

  /** Whether the session is alive, asked the way the app asks it (GET with the cookie, from the app's origin). */
  async function sessionAlive(page: Page): Promise<number> {
    return page.evaluate(async (u) => (await fetch(u + "/auth/session")).status, app);
  }

  async function oldPasswordWorks(): Promise<boolean> {
    const res = await fetch(`http://127.0.0.1:${stack!.port}/auth/login`, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ email: DEMO.email, password: DEMO.password }), signal: AbortSignal.timeout(5_000) });
    const ok = res.status === 200;
    const token = ((await res.json()) as { token?: string }).token;
    if (token) await fetch(`http://127.0.0.1:${stack!.port}/auth/logout`, { method: "POST", headers: { Authorization: `Bearer ${token}` } });
    return ok;
  }

  describe("the session cookie in the app page", () => {
    it("is __Host-session: HttpOnly, Secure, SameSite=Lax, Path=/, host-only, expiring with the session; document.cookie never shows it", async () => {
      const context = await newContext();
      try {
        const { page, errors } = await appPage(context);
        const token = await signIn(page);
        const [cookie] = (await context.cookies(app)).filter((c) => c.name === COOKIE);
        expect(cookie).toMatchObject({ name: COOKIE, domain: "localhost", path: "/", httpOnly: true, secure: true, sameSite: "Lax" });
        const hoursLeft = (cookie!.expires * 1000 - Date.now()) / 3_600_000;
        expect(hoursLeft).toBeGreaterThan(11.9);
        expect(hoursLeft).toBeLessThanOrEqual(12);
        expect(token).toMatch(/^v1\./);
        const seen = await page.evaluate(() => {
          const w = globalThis as unknown as PageGlobals & { localStorage: { length: number }; sessionStorage: { length: number } };
          return { cookie: w.document.cookie, storage: w.localStorage.length + w.sessionStorage.length };
        });
        expect(seen.cookie).not.toContain(token);
        expect(seen.cookie).toBe("");
        expect(seen.storage).toBe(0);
        // API calls carry the cookie, no Authorization header.
        const call = page.waitForRequest((r) => r.url() === `${app}/api/me`);
        await page.getByRole("button", { name: "Call the API again" }).click();
        const sent = await call;
        expect(await sent.headerValue("authorization")).toBeNull();
        expect(await sent.headerValue("cookie")).toContain(`${COOKIE}=${token}`);
        expect((await sent.response())?.status()).toBe(200);
        expect(errors).toEqual([]);
      } finally {
        await close(context);
      }
    });

    it("a reload keeps the session: the page signs back in from the cookie", async () => {
      const context = await newContext();
      try {
        const { page, errors } = await appPage(context);
        await signIn(page);
        const restored = page.waitForResponse((r) => r.url() === `${app}/auth/session`);
        await page.reload();
        expect((await restored).status()).toBe(200);
        await page.locator("#app-view").waitFor({ state: "visible" });
        await expect.poll(() => page.locator("#me-email").textContent()).toBe(DEMO.email);
        await expect(page.locator("#signin-view").isHidden()).resolves.toBe(true);
        expect(errors).toEqual([]);
      } finally {
        await close(context);
      }
    });

    it("logout clears the cookie: gone from the browser, the token is dead, a reload shows sign-in", async () => {
      const context = await newContext();
      try {
        const { page } = await appPage(context);
        const token = await signIn(page);
        await page.getByRole("button", { name: "Sign out", exact: true }).click();
        await page.locator("#signin-view").waitFor({ state: "visible" });
        await expect.poll(async () => (await context.cookies(app)).some((c) => c.name === COOKIE)).toBe(false);
        const direct = await fetch(`http://127.0.0.1:${stack!.port}/api/me`, { headers: { Authorization: `Bearer ${token}` } });
        expect(direct.status).toBe(401);
        await page.reload();
        await page.locator("#signin-view").waitFor({ state: "visible" });
      } finally {
        await close(context);
      }
    });

    it("a WebSocket from the app page is authenticated by the cookie (no ticket, nothing in the URL)", async () => {
      const context = await newContext();
      try {
        const { page, errors } = await appPage(context);
        const token = await signIn(page);
        const socket = page.waitForEvent("websocket");
        await page.getByRole("button", { name: "Connect", exact: true }).click();
        const ws = await socket;
        expect(ws.url()).toBe(`${app.replace("http:", "ws:")}/ws?room=lobby`);
        expect(ws.url()).not.toContain(token);
        await page.locator('#ws-status[data-state="open"]').waitFor();
        await expect(page.locator("#ws-status").textContent()).resolves.toContain("session cookie");
        await expect.poll(() => page.locator("#ws-messages .msg-in").first().textContent()).toContain(DEMO.email);
        await page.getByRole("button", { name: "Sign out", exact: true }).click();
        await expect.poll(() => page.locator("#ws-status").textContent(), { timeout: 5_000 }).toContain("4401");
        expect(errors).toEqual([]);
      } finally {
        await close(context);
      }
    });

    it("the Bearer flow is shown on the page: a second, key-bound (DPoP) session by Authorization header, a copied token refused, the cookie session untouched", async () => {
      const context = await newContext();
      try {
        const { page } = await appPage(context);
        await signIn(page);
        const sent = page.waitForRequest((r) => r.url() === `${app}/api/me` && r.headers().authorization !== undefined && r.headers().dpop !== undefined);
        await page.getByRole("button", { name: "Try a Bearer sign-in" }).click();
        const request = await sent;
        expect(await request.headerValue("authorization")).toMatch(/^DPoP v1\./);
        expect(await request.headerValue("dpop")).toMatch(/^eyJ/);
        await expect.poll(() => page.locator("#bearer-steps li").count()).toBe(4);
        await expect(page.locator("#bearer-steps").textContent()).resolves.toContain("dpop_required");
        await expect(page.locator("#bearer-steps").textContent()).resolves.toContain("204");
        expect(await sessionAlive(page)).toBe(200);
      } finally {
        await close(context);
      }
    });
  });

  describe("CSRF from a cross-site page (127.0.0.1 against localhost)", () => {
    it("an auto-submitted form POST to logout and to password change is refused and changes nothing", async () => {
      const context = await newContext();
      try {
        const { page } = await appPage(context);
        await signIn(page);
        for (const path of ["/auth/logout", "/auth/password"]) {
          const evil = await context.newPage();
          await evil.goto(`${crossSite}/form?path=${encodeURIComponent(path)}`);
          const answer = evil.waitForResponse((r) => r.url() === app + path);
          await evil.evaluate(() => (globalThis as unknown as PageGlobals).document.forms[0]!.submit());
          const res = await answer;
          // SameSite=Lax: the browser does not even attach the cookie to a cross-site POST.
          expect(await res.request().headerValue("cookie")).toBeNull();
          expect(res.status()).toBe(401);
          await evil.close();
        }
        expect(await sessionAlive(page)).toBe(200);
        expect(await oldPasswordWorks()).toBe(true);
      } finally {
        await close(context);
      }
    });

    it("fetch(..., {credentials: 'include'}) POSTs to logout and password change are refused and change nothing", async () => {
      const context = await newContext();
      try {
        const { page } = await appPage(context);
        await signIn(page);
        const evil = await context.newPage();
        await evil.goto(`${crossSite}/`);
        const outcomes = await evil.evaluate(async (target) => {
          const out: string[] = [];
          for (const path of ["/auth/logout", "/auth/password"]) {
            const body = JSON.stringify({ currentPassword: "demo-password-123", newPassword: "attacker-chosen-password-1" });
            // A simple request (no preflight): sent, its answer unreadable.
            try {
              const r = await fetch(target + path, { method: "POST", credentials: "include", mode: "no-cors", headers: { "Content-Type": "text/plain" }, body });
              out.push(`${path} no-cors: ${r.type}`);
            } catch (e) {
              out.push(`${path} no-cors: ${String(e)}`);
            }
            // With the CSRF header and JSON: preflighted, and the preflight grants no credentials.
            try {
              await fetch(target + path, { method: "POST", credentials: "include", headers: { "Content-Type": "application/json", "X-CSRF-Protection": "1" }, body });
              out.push(`${path} cors: sent`);
            } catch {
              out.push(`${path} cors: blocked`);
            }
          }
          return out;
        }, app);
        expect(outcomes).toEqual(["/auth/logout no-cors: opaque", "/auth/logout cors: blocked", "/auth/password no-cors: opaque", "/auth/password cors: blocked"]);
        expect(await sessionAlive(page)).toBe(200);
        expect(await oldPasswordWorks()).toBe(true);
      } finally {
        await close(context);
      }
    });
  });

  describe("CSRF from a same-site, cross-origin page (localhost:<other port>): the cookie is sent, the worker refuses", () => {
    it("form POSTs to logout and password change: 403 csrf although the cookie came along; nothing changed", async () => {
      const context = await newContext();
      try {
        const { page } = await appPage(context);
        const token = await signIn(page);
        for (const path of ["/auth/logout", "/auth/password"]) {
          const evil = await context.newPage();
          await evil.goto(`${sameSite}/form?path=${encodeURIComponent(path)}`);
          const answer = evil.waitForResponse((r) => r.url() === app + path);
          await evil.evaluate(() => (globalThis as unknown as PageGlobals).document.forms[0]!.submit());
          const res = await answer;
          expect(await res.request().headerValue("cookie")).toContain(`${COOKIE}=${token}`);
          expect(res.status()).toBe(403);
          expect(await res.json()).toEqual({ error: "forbidden", reason: "csrf" });
          await evil.close();
        }
        expect(await sessionAlive(page)).toBe(200);
        expect(await oldPasswordWorks()).toBe(true);
      } finally {
        await close(context);
      }
    });

    it("fetch with credentials: 'include' to logout and password change: 403 csrf (simple request) or never sent (preflighted)", async () => {
      const context = await newContext();
      try {
        const { page } = await appPage(context);
        await signIn(page);
        const evil = await context.newPage();
        await evil.goto(`${sameSite}/`);
        const answers: number[] = [];
        evil.on("response", (r) => {
          if (r.url().startsWith(app) && r.request().method() === "POST") answers.push(r.status());
        });
        const outcomes = await evil.evaluate(async (target) => {
          const out: string[] = [];
          for (const path of ["/auth/logout", "/auth/password"]) {
            const body = JSON.stringify({ currentPassword: "demo-password-123", newPassword: "attacker-chosen-password-1" });
            const r = await fetch(target + path, { method: "POST", credentials: "include", mode: "no-cors", headers: { "Content-Type": "text/plain" }, body });
            out.push(r.type);
            try {
              await fetch(target + path, { method: "POST", credentials: "include", headers: { "Content-Type": "application/json", "X-CSRF-Protection": "1" }, body });
              out.push("sent");
            } catch {
              out.push("blocked");
            }
          }
          return out;
        }, app);
        expect(outcomes).toEqual(["opaque", "blocked", "opaque", "blocked"]);
        await expect.poll(() => answers.length).toBe(2);
        expect(answers).toEqual([403, 403]);
        expect(await sessionAlive(page)).toBe(200);
        expect(await oldPasswordWorks()).toBe(true);
      } finally {
        await close(context);
      }
    });
  });

  describe("cross-site WebSocket hijacking with the session cookie", () => {
    it("a WebSocket opened by another site's page, or a same-site other origin, never opens", async () => {
      const context = await newContext();
      try {
        const { page } = await appPage(context);
        await signIn(page);
        const evil = await context.newPage();
        for (const origin of [crossSite, sameSite]) {
          await evil.goto(`${origin}/`);
          const result = await evil.evaluate(
            (url) =>
              new Promise<string>((resolve) => {
                const ws = new (globalThis as unknown as PageGlobals).WebSocket(url);
                ws.addEventListener("open", () => resolve("open"));
                ws.addEventListener("close", (e) => resolve(`closed ${e.code}`));
              }),
            `${app.replace("http:", "ws:")}/ws`,
          );
          expect(result, origin).toBe("closed 1006");
        }
        // What the worker answers to the attackers' handshakes even when the cookie does come along
        // (a browser that attached it, or a same-site page): 403 for the Origin; 101 for the app's own.
        const token = (await context.cookies(app)).find((c) => c.name === COOKIE)!.value;
        for (const origin of [crossSite, sameSite]) expect(await upgradeStatus(stack!.port, { Origin: origin, Cookie: `${COOKIE}=${token}` }), origin).toBe(403);
        expect(await upgradeStatus(stack!.port, { Origin: app, Cookie: `${COOKIE}=${token}` })).toBe(101);
        expect(await sessionAlive(page)).toBe(200);
      } finally {
        await close(context);
      }
    });
  });
});

/** The status of a WebSocket handshake sent with node:http (undici's fetch will not send Upgrade). */
function upgradeStatus(port: number, headers: Record<string, string>): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: "127.0.0.1", port, path: "/ws", headers: { Connection: "Upgrade", Upgrade: "websocket", "Sec-WebSocket-Version": "13", "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==", Host: `localhost:${port}`, ...headers } });
    req.setTimeout(5_000, () => req.destroy(new Error("upgrade timeout")));
    req.on("upgrade", (res, socket) => {
      socket.destroy();
      resolve(res.statusCode ?? 0);
    });
    req.on("response", (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on("error", reject);
    req.end();
  });
}
