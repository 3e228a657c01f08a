/**
 * The demo SPA end to end, in Debian's Chromium driven by playwright-core: the same stack as
 * `npm run dev` (local store + a local OpenID Connect provider + `wrangler dev` of
 * dev/worker-dev.ts + the demo user), on free loopback ports.
 *
 * Needs `/usr/bin/chromium` (`apt-get install -y chromium`; playwright never downloads a
 * browser here). Without it the suite is skipped, except under CI=true, where it fails.
 * Run alone with `npx vitest run --project node test/e2e`. The last test screenshots the page
 * into .tmp/demo.png; `UPDATE_SCREENSHOT=1` writes docs/demo.png (the README's) instead.
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { OAuth2Server } from "oauth2-mock-server";
import { chromium, type Browser, type BrowserContext, type Page } from "playwright-core";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { addUser, DEMO_USERS } from "../../dev/accounts.ts";
import { formatVars, newKeyEntry, newPepper } from "../../dev/dev-vars.ts";
import { dropPrefix, startStore } from "@edge-session/local-store";

const CHROMIUM = "/usr/bin/chromium";
const CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"];
const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const DEMO = DEMO_USERS.find((u) => u.roles.length === 0)!;
/** The worker's re-check of live sockets, shortened so a revocation in another isolate shows fast. */
const WS_RECHECK = "1 s";
/** The README's screenshot is rewritten only on request (UPDATE_SCREENSHOT=1); otherwise .tmp/ (git-ignored). */
const UPDATE_SCREENSHOT = process.env.UPDATE_SCREENSHOT === "1";
const SCREENSHOT = join(ROOT, UPDATE_SCREENSHOT ? "docs/demo.png" : ".tmp/demo.png");

const chromiumMissing = !existsSync(CHROMIUM);
const INSTALL = "apt-get update && apt-get install -y chromium";
if (chromiumMissing && process.env.CI === "true") {
  // CI must run these: a missing browser is a failure there, not a skip.
  it(`needs Debian's Chromium at ${CHROMIUM} (CI=true)`, () => {
    throw new Error(`${CHROMIUM} is missing; install it in CI: ${INSTALL}`);
  });
} else if (chromiumMissing) {
  console.warn(`[e2e] SKIPPED: ${CHROMIUM} is absent. Install Debian's Chromium: ${INSTALL}`);
}

describe.skipIf(chromiumMissing)(chromiumMissing ? `demo SPA in Chromium (skipped: ${CHROMIUM} absent; ${INSTALL})` : "demo SPA in Chromium", () => {
  let tmp = "";
  let store: Awaited<ReturnType<typeof startStore>> | null = null;
  let wrangler: ChildProcess | null = null;
  let wranglerOutput = "";
  let browser: Browser | null = null;
  const contexts = new Set<BrowserContext>();
  let base = "";
  let storePrefix = "";
  let idp: OAuth2Server | null = null;
  /** The user the local OpenID Connect provider signs in. */
  const SSO_EMAIL = "sso-user@example.test";

  beforeAll(async () => {
    tmp = mkdtempSync(join(tmpdir(), "edge-session-e2e-"));

    // The SPA loads the client bundle: build it as `npm run dev` / `npm test` do.
    const built = spawnSync("npm", ["run", "--silent", "build:client"], { cwd: ROOT, encoding: "utf8", timeout: 60_000 });
    if (built.status !== 0) throw new Error(`npm run build:client failed: ${built.stderr || built.stdout || built.error}`);

    idp = new OAuth2Server();
    await idp.issuer.keys.generate("RS256");
    await idp.start(0, "127.0.0.1");
    idp.service.on("beforeTokenSigning", (token: { payload: Record<string, unknown> }) => Object.assign(token.payload, { sub: "e2e-sso", email: SSO_EMAIL, email_verified: true }));

    store = await startStore({ port: 0, redisUrl: process.env.REDIS_URL || undefined });
    storePrefix = `e2e-${randomBytes(6).toString("hex")}:`;
    const pepper = newPepper();
    const vars: Record<string, string> = {
      ENVIRONMENT: "development",
      SIGNUP: "open",
      SESSION_KEYS: newKeyEntry("k1"),
      PASSWORD_PEPPER: pepper,
      UPSTASH_REDIS_REST_URL: store.url,
      UPSTASH_REDIS_REST_TOKEN: store.token,
      STORE_PREFIX: storePrefix,
      WS_RECHECK_INTERVAL: WS_RECHECK,
      OIDC_ISSUER: idp.issuer.url!,
    };
    const envFile = join(tmp, "worker.env");
    writeFileSync(envFile, formatVars(vars), { mode: 0o600 });

    const [port, inspectorPort] = [await freePort(), await freePort()];
    base = `http://127.0.0.1:${port}`;
    wrangler = spawn(
      process.execPath,
      [
        "node_modules/wrangler/bin/wrangler.js", "dev", "dev/worker-dev.ts",
        "--port", String(port), "--ip", "127.0.0.1",
        "--inspector-port", String(inspectorPort), "--inspector-ip", "127.0.0.1",
        "--env-file", envFile,
        "--persist-to", join(tmp, "state"),
        "--show-interactive-dev-session=false",
      ],
      // Its own process group, so workerd goes down with it.
      { cwd: ROOT, detached: true, stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, WRANGLER_SEND_METRICS: "false", NO_COLOR: "1", FORCE_COLOR: "0" } },
    );
    const keep = (chunk: Buffer) => {
      wranglerOutput = (wranglerOutput + chunk.toString()).slice(-20_000);
    };
    wrangler.stdout?.on("data", keep);
    wrangler.stderr?.on("data", keep);

    await waitForHealth(base, wrangler, () => wranglerOutput, 90_000);
    await addUser({ url: store.url, token: store.token, pepper, prefix: storePrefix }, DEMO.email, DEMO.password, DEMO.roles);

    browser = await chromium.launch({
      executablePath: CHROMIUM,
      // playwright gives every launch a fresh, empty --user-data-dir of its own (and removes it).
      args: CHROMIUM_ARGS,
      timeout: 30_000,
    });
  });

  afterAll(async () => {
    // Everything goes, whatever happened above; each step bounded.
    for (const c of contexts) await bounded(c.close(), 5_000);
    if (browser) await bounded(browser.close(), 10_000);
    if (wrangler) await stopGroup(wrangler);
    if (idp) await bounded(idp.stop(), 5_000);
    if (store) {
      await bounded(dropPrefix(store.backend, storePrefix), 5_000);
      await bounded(store.close(), 5_000);
    }
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  afterEach((ctx) => {
    if (ctx.task.result?.state === "fail") console.error(`[e2e] wrangler output (tail):\n${wranglerOutput.slice(-4000)}`);
  });

  /** A fresh browser context (own cookies and storage: another "device") that only reaches the worker. */
  async function newPage(): Promise<{ context: BrowserContext; page: Page; errors: string[] }> {
    const context = await browser!.newContext({ viewport: { width: 1200, height: 900 } });
    contexts.add(context);
    // Loopback only: anything not addressed to the worker is refused before it leaves.
    // (and the local OpenID Connect provider, for the SSO popup).
    await context.route((url) => url.origin !== base && url.origin !== new URL(idp!.issuer.url!).origin, (route) => route.abort("blockedbyclient"));
    const page = await context.newPage();
    page.setDefaultTimeout(10_000);
    const errors: string[] = [];
    page.on("pageerror", (e) => errors.push(`pageerror: ${e.message}`));
    page.on("console", (m) => {
      if (m.type() === "error") errors.push(`console: ${m.text()}`);
    });
    return { context, page, errors };
  }

  async function close(context: BrowserContext) {
    contexts.delete(context);
    await bounded(context.close(), 5_000);
  }

  /** Signs in through the form (prefilled with the demo user); returns the token the worker issued. */
  async function signIn(page: Page): Promise<string> {
    await page.goto(base + "/");
    await page.locator("#signin-view").waitFor({ state: "visible" });
    const loginResponse = page.waitForResponse((r) => r.url() === `${base}/auth/login` && r.request().method() === "POST");
    await page.getByRole("button", { name: "Sign in", exact: true }).click();
    const res = await loginResponse;
    expect(res.status()).toBe(200);
    const token = ((await res.json()) as { token: string }).token;
    await page.locator("#app-view").waitFor({ state: "visible" });
    await expect.poll(() => page.locator("#me-email").textContent()).toBe(DEMO.email);
    return token;
  }

  async function connectSocket(page: Page) {
    const socketEvent = page.waitForEvent("websocket");
    await page.getByRole("button", { name: "Connect", exact: true }).click();
    const ws = await socketEvent;
    await page.locator('#ws-status[data-state="open"]').waitFor();
    return ws;
  }

  const apiStatus = async (token: string, path = "/api/me") =>
    (await fetch(base + path, { headers: { Authorization: `Bearer ${token}` }, signal: AbortSignal.timeout(5_000) })).status;

  it("signs in through the page; the token stays out of URLs and Web Storage", async () => {
    const { context, page, errors } = await newPage();
    try {
      const urls: string[] = [];
      page.on("request", (r) => urls.push(r.url()));
      await page.goto(base + "/");
      await expect(page.locator("#email").inputValue()).resolves.toBe(DEMO.email);
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

  it("calls the API with the Bearer token and shows the user", async () => {
    const { context, page } = await newPage();
    try {
      const token = await signIn(page);
      const request = page.waitForRequest((r) => r.url() === `${base}/api/me`);
      await page.getByRole("button", { name: "Call the API again" }).click();
      const sent = await request;
      expect(await sent.headerValue("authorization")).toBe(`Bearer ${token}`);
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

  it("WebSocket round trip: hello, then the echo of what was sent; the ticket is not in the URL", async () => {
    const { context, page, errors } = await newPage();
    try {
      const token = await signIn(page);
      const ws = await connectSocket(page);
      expect(ws.url()).toBe(`${base.replace("http:", "ws:")}/ws`);
      expect(ws.url()).not.toContain(token);
      await expect(page.locator("#ws-status").textContent()).resolves.toContain("session");
      await expect.poll(() => page.locator("#ws-messages .msg-in").first().textContent()).toContain(`"type":"hello"`);
      await expect(page.locator("#ws-messages .msg-in").first().textContent()).resolves.toContain(DEMO.email);

      await page.getByLabel("Message", { exact: true }).fill("hello from chromium");
      await page.getByRole("button", { name: "Send", exact: true }).click();
      await expect
        .poll(() => page.locator("#ws-messages .msg-in").allTextContents())
        .toContainEqual(expect.stringContaining(`{"type":"echo","data":"hello from chromium"}`));
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

      // The first device: the socket closes within the re-check interval (plus slack) …
      await expect.poll(() => first.page.locator("#ws-status").textContent(), { timeout: 5_000, interval: 100 }).toContain("4401");
      // … and its next API call lands on the sign-in view.
      await first.page.getByRole("button", { name: "Call the API again" }).click();
      await first.page.locator("#signin-view").waitFor({ state: "visible" });
      await expect(first.page.locator("#signin-notice").textContent()).resolves.toContain("revoked");
      expect(await apiStatus(firstToken)).toBe(401);
      // The second device is untouched.
      await second.page.getByRole("button", { name: "Call the API again" }).click();
      await expect(second.page.locator("#app-view").isVisible()).resolves.toBe(true);
    } finally {
      await close(first.context);
      await close(second.context);
    }
  });

  it("Sign in with SSO (development): a popup to the local OpenID Connect provider, back signed in as its user", async () => {
    const { context, page, errors } = await newPage();
    try {
      await page.goto(base + "/");
      const sso = page.getByRole("button", { name: "Sign in with SSO" });
      await sso.waitFor({ state: "visible" });
      const popupOpened = page.waitForEvent("popup");
      await sso.click();
      const popup = await popupOpened;
      await popup.waitForEvent("close", { timeout: 20_000 });
      await page.locator("#app-view").waitFor({ state: "visible" });
      await expect.poll(() => page.locator("#me-email").textContent()).toBe(SSO_EMAIL);
      expect(errors).toEqual([]);
    } finally {
      await close(context);
    }
  });

  it(`screenshot of the signed-in demo page → ${UPDATE_SCREENSHOT ? "docs/demo.png" : ".tmp/demo.png (UPDATE_SCREENSHOT=1: docs/demo.png)"}`, async () => {
    // A tidy session list: end the demo user's earlier sessions through the API first.
    const login = await fetch(`${base}/auth/login`, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ email: DEMO.email, password: DEMO.password }), signal: AbortSignal.timeout(5_000) });
    const { token } = (await login.json()) as { token: string };
    await fetch(`${base}/auth/sessions/revoke-others`, { method: "POST", headers: { Authorization: `Bearer ${token}` }, signal: AbortSignal.timeout(5_000) });
    await fetch(`${base}/auth/logout`, { method: "POST", headers: { Authorization: `Bearer ${token}` }, signal: AbortSignal.timeout(5_000) });

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

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

async function waitForHealth(base: string, child: ChildProcess, output: () => string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = "no answer";
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`wrangler dev exited (${child.exitCode ?? child.signalCode}) before /health answered:\n${output().slice(-4000)}`);
    try {
      const res = await fetch(`${base}/health`, { signal: AbortSignal.timeout(2_000) });
      const body = await res.text();
      if (res.status === 200) return;
      last = `${res.status} ${body.slice(0, 300)}`;
    } catch (error) {
      last = String(error);
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`wrangler dev: /health not up within ${timeoutMs} ms (last: ${last}):\n${output().slice(-4000)}`);
}

/** SIGTERM to the process group, SIGKILL after 5 s. */
async function stopGroup(child: ChildProcess): Promise<void> {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const signal = (s: NodeJS.Signals) => {
    try {
      process.kill(-child.pid!, s);
    } catch {
      // Already gone.
    }
  };
  signal("SIGTERM");
  if (!(await bounded(exited, 5_000))) signal("SIGKILL");
  await bounded(exited, 5_000);
  signal("SIGKILL"); // Any straggler left in the group (workerd).
}

/** Waits for `p` at most `ms`; true when it settled in time. Never throws. */
async function bounded(p: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
  });
  try {
    return await Promise.race([p.then(() => true, () => true), timeout]);
  } finally {
    clearTimeout(timer);
  }
}
