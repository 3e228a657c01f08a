/**
 * Device-bound sessions in real browsers against the stack `npm run dev` runs (wrangler dev of
 * the worker, the local store, the demo accounts; test/helpers/node/browser.ts).
 *
 * DBSC: Debian's Chromium 150 (bookworm main), fetched from Debian's archive by
 * dev/chromium-dbsc.sh into a cache folder, because Debian's current 156 ignores
 * `Secure-Session-Registration` under every switch (docs/DBSC-PROBE.md). Enabled with its
 * command-line switches and software keys. If it cannot be fetched this file fails: it never skips.
 *
 * DPoP: the demo page's client in Debian's /usr/bin/chromium; its token replayed from Node.
 */
import { spawnSync } from "node:child_process";
import { chromium, type Browser, type BrowserContext, type Page } from "playwright-core";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { bounded, CHROMIUM_ARGS, DEMO, launchChromium, ROOT, startStack, type Stack } from "../helpers/node/browser.ts";

const COOKIE = "__Host-session";
const TTL_S = 3;
const FEATURES = ["DeviceBoundSessions:RequireOriginTrialTokens/false/RefreshQuota/false", "EnableBoundSessionCredentialsSoftwareKeysForManualTesting", "DeviceBoundSessionsDevTools"];

/** The cached Chromium 150, fetched when absent; a failure throws (loudly, with the script's output). */
function dbscChromium(): string {
  const run = spawnSync("bash", ["dev/chromium-dbsc.sh"], { cwd: ROOT, encoding: "utf8", timeout: 300_000 });
  if (run.status !== 0) throw new Error(`dev/chromium-dbsc.sh failed (${run.status ?? run.signal}): ${run.stderr}\n${run.stdout}`);
  return run.stdout.trim().split("\n").at(-1)!;
}

/** Playwright passes its own --enable/--disable-features; Chromium honours one of each: merge ours in. */
async function launchWithDbsc(executablePath: string): Promise<Browser> {
  const probe = await chromium.launchServer({ executablePath, args: ["--headless", "--no-sandbox"] });
  const spawnargs = probe.process().spawnargs;
  await probe.close();
  const pwEnable = spawnargs.find((a) => a.startsWith("--enable-features=")) ?? "--enable-features=";
  const enable = `--enable-features=${[...pwEnable.slice("--enable-features=".length).split(",").filter(Boolean), ...FEATURES].join(",")}`;
  return chromium.launch({
    executablePath,
    args: [...CHROMIUM_ARGS, "--host-resolver-rules=MAP localhost 127.0.0.1", enable],
    ignoreDefaultArgs: [pwEnable],
    timeout: 30_000,
  });
}

type W = { fetch: typeof fetch; location: { origin: string } };

async function apiStatus(page: Page, path = "/api/me"): Promise<{ status: number; reason?: string }> {
  return page.evaluate(async (p) => {
    const res = await (globalThis as unknown as W).fetch(p);
    const body = (await res.json().catch(() => ({}))) as { reason?: string };
    return { status: res.status, reason: body.reason };
  }, path);
}

async function nodeStatus(url: string, headers: Record<string, string>): Promise<{ status: number; body: { reason?: string; detail?: string } }> {
  const res = await fetch(url, { headers });
  return { status: res.status, body: (await res.json()) as { reason?: string; detail?: string } };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("DBSC in Debian's Chromium 150 against npm run dev", () => {
  let stack: Stack | null = null;
  let browser: Browser | null = null;
  const contexts: BrowserContext[] = [];
  let app = "";

  beforeAll(async () => {
    const executable = dbscChromium();
    stack = await startStack({ DBSC_COOKIE_TTL: `${TTL_S} s` });
    app = `http://localhost:${stack.port}`;
    browser = await launchWithDbsc(executable);
  });

  afterAll(async () => {
    for (const c of contexts) await bounded(c.close(), 5_000);
    if (browser) await bounded(browser.close(), 10_000);
    if (stack) await stack.stop();
  });

  afterEach((ctx) => {
    if (ctx.task.result?.state === "fail") console.error(`[e2e] wrangler output (tail):\n${stack?.output().slice(-4000)}`);
  });

  async function newContext(): Promise<BrowserContext> {
    const context = await browser!.newContext();
    contexts.push(context);
    await context.route((url) => url.origin !== app, (route) => route.abort("blockedbyclient"));
    return context;
  }

  const boundCookie = async (context: BrowserContext) => (await context.cookies(app)).find((c) => c.name === COOKIE)?.value ?? "";

  it("registers a key, refreshes with it, and a copied bound cookie dies after its short life", async () => {
    const context = await newContext();
    const page = await context.newPage();
    page.setDefaultTimeout(15_000);
    const events: string[] = [];
    const cdp = await context.newCDPSession(page);
    await cdp.send("Network.enable");
    cdp.on("Network.deviceBoundSessionEventOccurred" as never, (e: unknown) => events.push(JSON.stringify(e)));
    await cdp.send("Network.enableDeviceBoundSessions" as never, { enable: true } as never);

    await page.goto(app + "/");
    await page.locator("#signin-view").waitFor({ state: "visible" });
    const login = page.waitForResponse((r) => r.url() === `${app}/auth/login`);
    await page.getByRole("button", { name: "Sign in", exact: true }).click();
    const res = await login;
    expect(res.status()).toBe(200);
    expect(await res.headerValue("secure-session-registration")).toMatch(/^\(ES256\);path="\/auth\/dbsc\/register"/);
    const longLived = /__Host-session=([^;]+)/.exec((await res.headerValue("set-cookie")) ?? "")![1]!;
    expect(longLived.startsWith("v1.")).toBe(true);

    // The browser registers on its own: its cookie becomes the bound one.
    await expect.poll(() => boundCookie(context), { timeout: 15_000 }).toMatch(/^b1\./);
    const stolen = await boundCookie(context);
    // The demo shows it (after a reload, so the page asks with the bound cookie).
    await page.reload();
    await expect.poll(() => page.locator("#me-bound").getAttribute("data-bound"), { timeout: 15_000 }).toBe("dbsc");
    await expect.poll(() => page.locator("#me-bound").textContent()).toContain("Bound to this device");
    // The long-lived cookie, copied before the binding, no longer counts.
    expect((await nodeStatus(`${app}/api/me`, { Cookie: `${COOKIE}=${longLived}` })).body.reason).toBe("device_bound");

    // A second profile gets the copied bound cookie, without its expiry (a thief keeps it).
    const thief = await newContext();
    // (CDP's setCookies refuses a Secure cookie for http://localhost; a response planting it is what a thief's tooling does.)
    await thief.route(`${app}/plant`, (route) => route.fulfill({ status: 200, contentType: "text/html", headers: { "Set-Cookie": `${COOKIE}=${stolen}; Path=/; Secure; HttpOnly; SameSite=Lax` }, body: "<!doctype html><title>planted</title>" }));
    const thiefPage = await thief.newPage();
    await thiefPage.goto(`${app}/plant`);
    expect(await boundCookie(thief)).toBe(stolen);
    expect(await apiStatus(thiefPage)).toEqual({ status: 200, reason: undefined });

    await sleep((TTL_S + 1.5) * 1000);
    expect(await apiStatus(thiefPage)).toEqual({ status: 401, reason: "expired" });
    expect((await nodeStatus(`${app}/api/me`, { Cookie: `${COOKIE}=${stolen}` })).body.reason).toBe("expired");
    // The thief's profile has no key for the session: nothing renews its copy.
    expect((await thief.cookies(app)).find((c) => c.name === COOKIE)?.value ?? "").not.toMatch(/^b1\./);

    // The original keeps working through refreshes.
    for (let round = 0; round < 2; round++) {
      expect(await apiStatus(page)).toEqual({ status: 200, reason: undefined });
      await sleep((TTL_S + 1) * 1000);
    }
    expect(await apiStatus(page)).toEqual({ status: 200, reason: undefined });
    expect(await boundCookie(context)).not.toBe(stolen);
    expect(stack!.output()).toContain("/auth/dbsc/refresh");
    expect(events.some((e) => e.includes('"refreshResult":"Refreshed"'))).toBe(true);

    // Revocation: the session ends, the next refresh fails, the page is signed out.
    expect(await page.evaluate(async () => (await (globalThis as unknown as W).fetch("/auth/logout", { method: "POST", headers: { "X-CSRF-Protection": "1" } })).status)).toBe(204);
    await sleep((TTL_S + 1) * 1000);
    expect((await apiStatus(page)).status).toBe(401);
  });
});

describe("DPoP in Debian's Chromium: a token replayed from Node without the key", () => {
  let stack: Stack | null = null;
  let browser: Browser | null = null;
  let app = "";

  beforeAll(async () => {
    stack = await startStack();
    app = `http://localhost:${stack.port}`;
    browser = await launchChromium();
  });

  afterAll(async () => {
    if (browser) await bounded(browser.close(), 10_000);
    if (stack) await stack.stop();
  });

  it("is refused with a clear reason; the page's own proof replayed is refused too", async () => {
    const context = await browser!.newContext();
    const page = await context.newPage();
    page.setDefaultTimeout(15_000);
    const sent: { url: string; headers: Record<string, string> }[] = [];
    page.on("request", (r) => {
      if (r.url().endsWith("/api/me")) sent.push({ url: r.url(), headers: r.headers() });
    });
    await page.goto(app + "/");
    // A string, so the test runner's transform leaves the dynamic import alone.
    const result = (await page.evaluate(`(async () => {
      const mod = await import("/vendor/session-client.js");
      const client = mod.createSessionClient({ baseUrl: location.origin, dpop: true });
      await client.login(${JSON.stringify(DEMO.email)}, ${JSON.stringify(DEMO.password)});
      const me = await client.fetch("/api/me");
      const session = await (await client.fetch("/auth/session")).json();
      return { token: client.token, me: me.status, bound: session.session.bound };
    })()`)) as { token: string | null; me: number; bound: string | null };
    expect(result).toMatchObject({ me: 200, bound: "dpop" });
    const token = result.token!;
    // The key the page keeps in IndexedDB cannot be read out.
    const extractable = await page.evaluate(async () => {
      const idb = (globalThis as unknown as { indexedDB: { open(n: string): { onsuccess: () => void; result: any } } }).indexedDB;
      const open = idb.open("edge-session-dpop");
      await new Promise<void>((r) => (open.onsuccess = () => r()));
      const get = open.result.transaction("keys").objectStore("keys").get("key");
      await new Promise<void>((r) => (get.onsuccess = () => r()));
      return (get.result as { privateKey: { extractable: boolean } }).privateKey.extractable;
    });
    expect(extractable).toBe(false);

    // From Node, without the key.
    expect(await nodeStatus(`${app}/api/me`, { Authorization: `Bearer ${token}` })).toEqual({ status: 401, body: { error: "unauthorized", reason: "dpop_required" } } as never);
    expect((await nodeStatus(`${app}/api/me`, { Authorization: `DPoP ${token}` })).body.reason).toBe("dpop_required");
    // The page's own request, headers and all, replayed.
    const captured = sent.find((s) => s.headers.dpop);
    expect(captured).toBeDefined();
    const replay = await nodeStatus(captured!.url, { Authorization: captured!.headers.authorization!, DPoP: captured!.headers.dpop! });
    expect(replay).toMatchObject({ status: 401, body: { reason: "dpop_invalid", detail: "replayed" } });
    await context.close();
  });
});
