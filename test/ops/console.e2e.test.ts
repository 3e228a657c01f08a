/**
 * The admin console end to end, in Debian's Chromium driven by playwright-core, on the stack
 * `npm run dev` runs (local store, `wrangler dev`, the demo accounts): an admin signs in on
 * /console/ (cookie mode), finds a user, revokes one session, ends the rest, disables and
 * enables the account (each confirmed), reads the audit trail and the charts; by keyboard where
 * an operator would; at 1200 and 390 px wide. Screenshots go to .tmp/ (git-ignored), or to
 * docs/console.png and docs/console-390.png with UPDATE_SCREENSHOT=1.
 */
import { mkdirSync } from "node:fs";
import { dirname, join } from "node:path";
import type { Browser, BrowserContext, Page } from "playwright-core";
import WebSocket from "ws";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { ADMIN, bounded, CHROMIUM, chromiumMissing, DEMO, INSTALL, launchChromium, ROOT, startStack, type Stack } from "../helpers/node/browser.ts";

const UPDATE_SCREENSHOT = process.env.UPDATE_SCREENSHOT === "1";
const shot = (name: string) => join(ROOT, UPDATE_SCREENSHOT ? `docs/${name}` : `.tmp/${name}`);

if (chromiumMissing && process.env.CI === "true") {
  it(`needs Debian's Chromium at ${CHROMIUM} (CI=true)`, () => {
    throw new Error(`${CHROMIUM} is missing; install it in CI: ${INSTALL}`);
  });
}

describe.skipIf(chromiumMissing)("admin console in Chromium", () => {
  let stack: Stack | null = null;
  let browser: Browser | null = null;
  const contexts = new Set<BrowserContext>();
  let base = "";
  let direct = "";

  beforeAll(async () => {
    // Rollups every second, so the charts have points within the test.
    stack = await startStack({ METRICS_ROLLUP_INTERVAL: "1 s" });
    base = `http://localhost:${stack.port}`;
    direct = `http://127.0.0.1:${stack.port}`;
    browser = await launchChromium();
  });

  afterAll(async () => {
    for (const c of contexts) await bounded(c.close(), 5_000);
    if (browser) await bounded(browser.close(), 10_000);
    if (stack) await stack.stop();
  });

  afterEach((ctx) => {
    if (ctx.task.result?.state === "fail") console.error(`[e2e] wrangler output (tail):\n${stack?.output().slice(-4000)}`);
  });

  async function newPage(width: number): Promise<{ context: BrowserContext; page: Page; errors: string[] }> {
    const context = await browser!.newContext({ viewport: { width, height: 900 } });
    contexts.add(context);
    await context.route((url) => url.origin !== base, (route) => route.abort("blockedbyclient"));
    const page = await context.newPage();
    page.setDefaultTimeout(10_000);
    const errors: string[] = [];
    page.on("pageerror", (e) => errors.push(`pageerror: ${e.message}`));
    page.on("console", (m) => {
      // A signed-out page's restore() is answered 401 by design, and Chromium logs every 4xx fetch.
      if (m.type() === "error" && !m.text().includes("status of 401")) errors.push(`console: ${m.text()}`);
    });
    return { context, page, errors };
  }

  /** A bearer sign-in from Node (another device of the demo user). */
  async function deviceLogin(userAgent: string): Promise<string> {
    const res = await fetch(`${direct}/auth/login`, { method: "POST", headers: { "Content-Type": "application/json", "User-Agent": userAgent }, body: JSON.stringify({ email: DEMO.email, password: DEMO.password }), signal: AbortSignal.timeout(10_000) });
    expect(res.status).toBe(200);
    return ((await res.json()) as { token: string }).token;
  }
  /** A room socket of that session (ticket in the subprotocol, this origin), open and past its first frame. */
  async function openSocket(token: string): Promise<{ ws: WebSocket; closed: Promise<number> }> {
    const t = await fetch(`${direct}/auth/ws-ticket`, { method: "POST", headers: { Authorization: `Bearer ${token}` }, signal: AbortSignal.timeout(5_000) });
    expect(t.status).toBe(200);
    const { ticket } = (await t.json()) as { ticket: string };
    const ws = new WebSocket(`ws://127.0.0.1:${stack!.port}/ws?room=ops`, ["session", ticket], { origin: direct });
    const closed = new Promise<number>((resolve) => ws.on("close", (code) => resolve(code)));
    await new Promise<void>((resolve, reject) => {
      ws.once("message", () => resolve());
      ws.once("error", reject);
    });
    ws.send("ping");
    return { ws, closed };
  }
  const me = async (token: string) => (await fetch(`${direct}/api/me`, { headers: { Authorization: `Bearer ${token}` }, signal: AbortSignal.timeout(5_000) })).status;

  async function signInAsAdmin(page: Page) {
    await page.goto(`${base}/console/`);
    await page.locator("#signin-view").waitFor({ state: "visible" });
    await page.getByLabel("Email", { exact: true }).fill(ADMIN.email);
    await page.getByLabel("Password", { exact: true }).fill(ADMIN.password);
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.locator("#console-view").waitFor({ state: "visible" });
  }

  /** Finds the demo user by keyboard: the search field has the focus after sign-in. */
  async function findDemoUser(page: Page) {
    await expect.poll(() => page.evaluate(() => (globalThis as unknown as { document: { activeElement: { id: string } } }).document.activeElement.id)).toBe("find-query");
    await page.keyboard.type(DEMO.email);
    await page.keyboard.press("Enter");
    await page.locator("#user-view").waitFor({ state: "visible" });
    await expect.poll(() => page.locator("#user-email").textContent()).toBe(DEMO.email);
  }

  it("an admin finds a user, revokes one session (confirmed), ends the rest, disables and enables; the audit trail says so", async () => {
    const first = await deviceLogin("Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0");
    const second = await deviceLogin("Mozilla/5.0 (Macintosh; Intel Mac OS X 14_0) Safari/605.1.15");
    const { context, page, errors } = await newPage(1200);
    try {
      await signInAsAdmin(page);
      await findDemoUser(page);
      const rows = page.locator("#sessions tbody tr");
      await expect.poll(() => rows.count()).toBe(2);
      // A live socket of the first session, seen by the console after a refresh.
      const socket = await openSocket(first);
      await page.getByRole("button", { name: "Refresh", exact: true }).first().click();
      await expect.poll(() => page.locator("#sockets tbody tr").count()).toBe(1);
      await expect(page.locator("#sockets tbody td[data-label=Room]").textContent()).resolves.toBe("ops");
      await expect(page.locator("#sessions tbody").textContent()).resolves.toContain("Firefox");

      // Revoke: the dialog asks first; Escape (Cancel) changes nothing.
      await rows.first().getByRole("button", { name: /^Revoke the session/ }).click();
      await page.locator("#confirm[open]").waitFor();
      await page.keyboard.press("Escape");
      await page.locator("#confirm").waitFor({ state: "hidden" });
      expect(await rows.count()).toBe(2);
      expect([await me(first), await me(second)]).toEqual([200, 200]);
      await page.locator("#sessions tbody tr", { hasText: "Firefox" }).getByRole("button", { name: /^Revoke the session/ }).click();
      await page.getByRole("button", { name: "Revoke session" }).click();
      await expect.poll(() => rows.count()).toBe(1);
      expect([await me(first), await me(second)]).toEqual([401, 200]);
      // The revocation closed the socket (4401) and the console's table follows.
      expect(await Promise.race([socket.closed, new Promise((r) => setTimeout(() => r("still open"), 5_000))])).toBe(4401);
      await expect.poll(() => page.locator("#sockets tbody tr").count()).toBe(0);

      // The kill switch by keyboard: Enter opens the dialog (Cancel focused), Tab, Enter confirms.
      await page.getByRole("button", { name: "Kill switch: end all sessions" }).focus();
      await page.keyboard.press("Enter");
      await page.locator("#confirm[open]").waitFor();
      await page.keyboard.press("Tab");
      await page.keyboard.press("Enter");
      await page.locator("#sessions-empty").waitFor({ state: "visible" });
      expect([await me(first), await me(second)]).toEqual([401, 401]);

      await page.getByRole("button", { name: "Disable account" }).click();
      await page.getByRole("dialog").getByRole("button", { name: "Disable account" }).click();
      await expect.poll(() => page.locator("#user-status").textContent()).toBe("Disabled");
      await page.getByRole("button", { name: "Enable account" }).click();
      await page.getByRole("dialog").getByRole("button", { name: "Enable account" }).click();
      await expect.poll(() => page.locator("#user-status").textContent()).toBe("Active");

      // The audit trail of this user, newest first, and filtered by family.
      await page.getByRole("button", { name: "Apply filters" }).click();
      await expect.poll(async () => (await page.locator("#audit tbody tr").allTextContents()).join("\n")).toMatch(/account\.enabled[\s\S]*account\.disabled[\s\S]*session\.ended.*why: kill-switch[\s\S]*session\.ended.*why: revoked/);
      await page.getByLabel("Event").selectOption("account");
      await page.getByRole("button", { name: "Apply filters" }).click();
      await expect.poll(() => page.locator('#audit tbody td[data-label="Event"]').allTextContents()).toEqual(["account.enabled", "account.disabled"]);
      expect(errors).toEqual([]);
    } finally {
      contexts.delete(context);
      await bounded(context.close(), 5_000);
    }
  });

  it("charts of the last hour and day, drawn by uPlot from the rollups; screenshot at 1200 px", async () => {
    // Traffic for the charts: hits, misses, refusals, sign-ins; then a rollup (due after 1 s).
    const token = await deviceLogin("Mozilla/5.0 (X11; Linux x86_64) Chrome/131.0");
    for (let i = 0; i < 10; i++) await me(token);
    await me("v1.not-a-token");
    await fetch(`${direct}/auth/login`, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ email: DEMO.email, password: "wrong-password-123" }) });
    await new Promise((r) => setTimeout(r, 1200));
    await me(token);
    const { context, page, errors } = await newPage(1200);
    try {
      await signInAsAdmin(page);
      await findDemoUser(page);
      await page.locator("#chart-lags .uplot canvas").waitFor();
      // The first test's revocation closed a socket: its revocation-to-close lag is charted.
      await expect.poll(() => page.locator("#chart-lags").evaluate((el) => (el as unknown as { parentElement: { dataset: { empty?: string } } }).parentElement.dataset.empty)).toBe("false");
      expect(await page.locator(".charts .uplot canvas").count()).toBe(5);
      await expect.poll(() => page.locator("#metrics-summary").textContent()).toMatch(/^[1-9][\d,]* store commands in the last hour: about \$/);
      const legend = (await page.locator("#chart-refusals .u-legend").textContent()) ?? "";
      expect(legend).toMatch(/malformed|bad_signature/);
      await page.getByLabel("Last day (per 10 minutes)").check();
      await expect.poll(() => page.locator("#metrics-summary").textContent()).toContain("in the last day");
      mkdirSync(dirname(shot("console.png")), { recursive: true });
      await page.getByLabel("Last hour (per minute)").check();
      await expect.poll(() => page.locator("#metrics-summary").textContent()).toContain("in the last hour");
      await page.screenshot({ path: shot("console.png"), fullPage: true });
      expect(errors).toEqual([]);
    } finally {
      contexts.delete(context);
      await bounded(context.close(), 5_000);
    }
  });

  it("readable at 390 px: nothing wider than the screen, tables stacked with labels; screenshot", async () => {
    await deviceLogin("Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) Mobile/15E148 Safari/604.1");
    const { context, page, errors } = await newPage(390);
    try {
      await signInAsAdmin(page);
      await findDemoUser(page);
      await page.locator("#sessions tbody tr").first().waitFor();
      await page.locator("#chart-store .uplot canvas").waitFor();
      const overflow = await page.evaluate(() => {
        const d = (globalThis as unknown as { document: { documentElement: { scrollWidth: number; clientWidth: number } } }).document;
        return d.documentElement.scrollWidth - d.documentElement.clientWidth;
      });
      expect(overflow).toBeLessThanOrEqual(0);
      // Runs in the page (this file is type-checked without the DOM library).
      const label = await page.locator("#sessions tbody td").first().evaluate((td) => (globalThis as unknown as { getComputedStyle(e: unknown, p: string): { content: string } }).getComputedStyle(td, "::before").content);
      expect(label).toBe('"Device"');
      await page.screenshot({ path: shot("console-390.png"), fullPage: true });
      expect(errors).toEqual([]);
    } finally {
      contexts.delete(context);
      await bounded(context.close(), 5_000);
    }
  });

  it("a user without the admin role is told so, and the admin API answers 403", async () => {
    const { context, page } = await newPage(1200);
    try {
      await page.goto(`${base}/console/`);
      await page.getByLabel("Email", { exact: true }).fill(DEMO.email);
      await page.getByLabel("Password", { exact: true }).fill(DEMO.password);
      await page.getByRole("button", { name: "Sign in" }).click();
      await expect.poll(() => page.locator("#signin-error").textContent()).toBe(`${DEMO.email} is not an administrator.`);
      expect(await page.locator("#console-view").isHidden()).toBe(true);
      const status = await page.evaluate(async () => (await fetch("/admin/audit")).status);
      expect(status).toBe(403);
    } finally {
      contexts.delete(context);
      await bounded(context.close(), 5_000);
    }
  });
});
