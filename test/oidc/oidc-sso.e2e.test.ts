/**
 * "Sign in with SSO" in Debian's Chromium against the real certified provider: the stack of
 * `npm run dev` (test/helpers/node/browser.ts: the local store, oidc-provider in its default
 * configuration from dev/local-idp.ts, `wrangler dev` of dev/worker-dev.ts mounting
 * edge-session/oidc in cookie mode) and the demo page. Through the provider's own login,
 * consent and sign-out pages: sign-in in the popup (at http://localhost and at
 * http://127.0.0.1), cancel, a tampered ID token, RP-initiated logout, and back-channel logout from the provider
 * closing a live room socket of that session (timed; the figures are printed).
 *
 * Run alone: `npx vitest run --project node test/oidc/oidc-sso.e2e.test.ts`.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { bounded, CHROMIUM, chromiumMissing, INSTALL, launchChromium, startStack, type Stack } from "../helpers/node/browser.ts";
import { cancelAtProvider, confirmSignOutAtProvider, signInAtProvider } from "../helpers/node/idp-pages.ts";

const COOKIE = "__Host-session";
/** Back-channel samples: each signs in afresh, opens a socket and logs out at the provider. */
const SAMPLES = 5;
/** The stated bound (docs/SSO.md): wide, since the machine is shared; the figures are printed. */
const BOUND_MS = 5_000;

if (chromiumMissing && process.env.CI === "true") {
  it(`needs Debian's Chromium at ${CHROMIUM} (CI=true)`, () => {
    throw new Error(`${CHROMIUM} is missing; install it in CI: ${INSTALL}`);
  });
}

describe.skipIf(chromiumMissing)("Sign in with SSO at oidc-provider, in Chromium", () => {
  let stack: Stack;
  let browser: Browser;
  let issuer = "";
  const contexts = new Set<BrowserContext>();

  beforeAll(async () => {
    stack = await startStack({ WS_RECHECK_INTERVAL: "30 s" }, { sso: true });
    issuer = stack.idpOrigin!;
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

  /** A fresh context (own cookies at the app and the provider) that reaches only the worker and the provider. */
  async function newContext(base: string) {
    const context = await browser.newContext();
    contexts.add(context);
    const allowed = new Set([base, issuer]);
    await context.route((url) => !allowed.has(url.origin), (route) => route.abort("blockedbyclient"));
    const page = await context.newPage();
    page.setDefaultTimeout(10_000);
    return { context, page };
  }

  async function openPopup(page: Page): Promise<Page> {
    const sso = page.getByRole("button", { name: "Sign in with SSO" });
    await sso.waitFor({ state: "visible" });
    const opened = page.waitForEvent("popup");
    await sso.click();
    const popup = await opened;
    expect(new URL(popup.url()).origin === issuer || popup.url() === "about:blank" || popup.url().includes("/sso/local/start")).toBe(true);
    return popup;
  }

  /** Signs in with SSO through the popup; returns the session cookie's value. */
  async function ssoSignIn(page: Page, base: string, login: string): Promise<string> {
    await page.goto(base + "/");
    const popup = await openPopup(page);
    const closed = popup.waitForEvent("close", { timeout: 20_000 });
    await signInAtProvider(popup, login);
    await closed;
    await page.locator("#app-view").waitFor({ state: "visible" });
    await expect.poll(() => page.locator("#me-email").textContent()).toBe(`${login}@example.com`);
    const cookie = (await page.context().cookies(base)).find((c) => c.name === COOKIE);
    expect(cookie?.httpOnly).toBe(true);
    return cookie!.value;
  }

  const status = async (base: string, token: string) =>
    (await fetch(`${base.replace("localhost", "127.0.0.1")}/api/me`, { headers: { Authorization: `Bearer ${token}` }, signal: AbortSignal.timeout(5_000) })).status;

  it.each(["localhost", "127.0.0.1"])("signs in through the provider's login and consent pages in the popup, at http://%s; the token stays out of page JavaScript", async (host) => {
    const base = `http://${host}:${stack.port}`;
    const { context, page } = await newContext(base);
    const seen: string[] = [];
    page.on("request", (r) => seen.push(r.url()));
    const token = await ssoSignIn(page, base, `alice-${host.replace(/\W/g, "")}`);
    expect(await status(base, token)).toBe(200);
    expect(seen.some((u) => u.includes(token))).toBe(false);
    expect(await page.evaluate(() => (globalThis as unknown as { document: { cookie: string } }).document.cookie)).toBe("");
    await bounded(context.close(), 5_000);
  });

  it("cancel at the provider: the popup says so and the page shows the module's error (sso_refused access_denied)", async () => {
    const base = `http://localhost:${stack.port}`;
    const { context, page } = await newContext(base);
    const messages: unknown[] = [];
    await page.exposeFunction("recordMessage", (m: unknown) => messages.push(m));
    await page.addInitScript(() => {
      const w = globalThis as unknown as { addEventListener(t: string, f: (e: { data: unknown }) => void): void; recordMessage(m: unknown): void };
      w.addEventListener("message", (e) => w.recordMessage(e.data));
    });
    await page.goto(base + "/");
    const popup = await openPopup(page);
    await cancelAtProvider(popup);
    await popup.getByRole("heading", { name: "Sign-in cancelled" }).waitFor();
    await expect.poll(() => page.locator("#signin-error").textContent()).toBe("Sign-in with SSO was cancelled.");
    expect(messages).toEqual([{ type: "edge-session:sso-error", error: "sso_refused", reason: "access_denied" }]);
    expect((await context.cookies(base)).some((c) => c.name === COOKIE)).toBe(false);
    await bounded(context.close(), 5_000);
  });

  describe("attack: a tampered ID token", () => {
    it("a claim changed on the way from the provider's token endpoint: the popup says the sign-in failed, the page shows it, no session cookie", async () => {
      // Rewrites the provider's token response before it leaves (a man in the middle of the back channel).
      const tamper = (req: IncomingMessage, res: ServerResponse) => {
        if (!req.url?.startsWith("/token")) return;
        const end = res.end.bind(res) as (body?: unknown) => ServerResponse;
        res.end = ((body?: unknown) => {
          const tokens = JSON.parse(String(body)) as { id_token: string };
          const [h, p, sig] = tokens.id_token.split(".");
          const claims = { ...JSON.parse(Buffer.from(p!, "base64url").toString()), sub: "admin" };
          const out = JSON.stringify({ ...tokens, id_token: `${h}.${Buffer.from(JSON.stringify(claims)).toString("base64url")}.${sig}` });
          res.setHeader("Content-Length", Buffer.byteLength(out));
          return end(out);
        }) as typeof res.end;
      };
      stack.idp!.server.prependListener("request", tamper);
      const base = `http://localhost:${stack.port}`;
      const { context, page } = await newContext(base);
      try {
        await page.goto(base + "/");
        const popup = await openPopup(page);
        await signInAtProvider(popup, "tampered");
        await popup.getByRole("heading", { name: "Sign-in failed" }).waitFor();
        await expect.poll(() => page.locator("#signin-error").textContent()).toBe("Sign-in with SSO failed (bad_signature).");
        expect((await context.cookies(base)).some((c) => c.name === COOKIE)).toBe(false);
        await expect(page.locator("#signin-view").isVisible()).resolves.toBe(true);
      } finally {
        stack.idp!.server.removeListener("request", tamper);
        await bounded(context.close(), 5_000);
      }
    });
  });

  it("RP-initiated logout: Sign out ends the edge session, then the provider's sign-out page sends the browser back; the next SSO sign-in asks for the login again", async () => {
    const base = `http://localhost:${stack.port}`;
    const { context, page } = await newContext(base);
    const token = await ssoSignIn(page, base, "rp-logout");
    await page.getByRole("button", { name: "Sign out", exact: true }).click();
    await page.waitForURL((u) => u.origin === issuer);
    expect(await status(base, token)).toBe(401);
    await confirmSignOutAtProvider(page);
    await page.waitForURL(`${base}/`);
    await page.locator("#signin-view").waitFor({ state: "visible" });
    expect((await context.cookies(base)).some((c) => c.name === COOKIE)).toBe(false);
    // The provider session is gone too: the popup shows the login form again.
    const popup = await openPopup(page);
    await popup.locator('input[name="login"]').waitFor();
    await bounded(context.close(), 5_000);
  });

  it(`back-channel logout from the provider ends the edge session and closes its live room socket with 4401 (${SAMPLES} samples)`, async () => {
    const base = `http://localhost:${stack.port}`;
    const fromClick: number[] = [];
    const fromPost: number[] = [];
    for (let i = 0; i < SAMPLES; i++) {
      const { context, page } = await newContext(base);
      const token = await ssoSignIn(page, base, `bcl-${i}`);
      // When the page learns that its socket closed, and with which code (the DevTools protocol
      // reports data frames only, not the close frame itself).
      await page.addInitScript(() => {
        const w = globalThis as unknown as { WebSocket: new (...a: unknown[]) => { addEventListener(t: string, f: (e: { code: number; reason: string }) => void): void }; closes: unknown[] };
        const Native = w.WebSocket;
        w.closes = [];
        w.WebSocket = class extends Native {
          constructor(...args: unknown[]) {
            super(...args);
            this.addEventListener("close", (e) => w.closes.push({ code: e.code, reason: e.reason, at: Date.now() }));
          }
        };
      });
      await page.reload();
      await page.locator("#app-view").waitFor({ state: "visible" });
      await page.getByRole("button", { name: "Connect", exact: true }).click();
      await page.locator('#ws-status[data-state="open"]').waitFor();
      // The user signs out at the provider itself (not through this app), in another tab.
      const other = await context.newPage();
      await other.goto(`${issuer}/session/end`);
      const posts = stack.idp!.backchannel.length;
      const clickedAt = Date.now();
      await confirmSignOutAtProvider(other);
      await expect.poll(() => page.locator("#ws-status").textContent(), { timeout: 10_000 }).toContain("4401");
      const closes = (await page.evaluate(() => (globalThis as unknown as { closes: unknown[] }).closes)) as { code: number; reason: string; at: number }[];
      expect(closes).toEqual([{ code: 4401, reason: "session_ended", at: expect.any(Number) }]);
      const post = stack.idp!.backchannel[posts];
      expect(post?.status).toBe(200);
      expect(await status(base, token)).toBe(401);
      fromClick.push(closes[0]!.at - clickedAt);
      fromPost.push(closes[0]!.at - post!.sentAt);
      await bounded(context.close(), 5_000);
    }
    const summary = (xs: number[]) => `${[...xs].sort((a, b) => a - b).join(", ")} ms (max ${Math.max(...xs)})`;
    console.log(`[e2e] back-channel logout → the page's 4401 close event: from "Yes, sign me out" ${summary(fromClick)}; from the provider's POST ${summary(fromPost)}`);
    for (const ms of fromClick) expect(ms).toBeLessThan(BOUND_MS);
  }, 180_000);
});
