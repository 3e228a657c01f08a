/**
 * `edge-session/react` in Debian's Chromium: a small React page (bundled with esbuild) whose
 * `useSession()` follows the browser client — signed out, signed in, revoked elsewhere (the
 * next API call answers 401 and the page shows why), signed in again, signed out — against
 * the bundled worker in Miniflare and the local store.
 */
import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { build } from "esbuild";
import { Miniflare } from "miniflare";
import { chromium, type Browser, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startStore, type StoreServer } from "@edge-session/local-store";
import { bundleWorker, COMPATIBILITY_DATE } from "../helpers/node/bundle.ts";

const CHROMIUM = "/usr/bin/chromium";
/** Sign-ups run PBKDF2 on a shared 2-core machine: give each UI change time to show. */
const POLL = { timeout: 15_000 };
const chromiumMissing = !existsSync(CHROMIUM);
if (chromiumMissing && process.env.CI === "true") {
  it(`needs Debian's Chromium at ${CHROMIUM} (CI=true)`, () => {
    throw new Error(`${CHROMIUM} is missing; install it in CI: apt-get install -y chromium`);
  });
}

describe.skipIf(chromiumMissing)("useSession() in Chromium", () => {
  let store: StoreServer;
  let mf: Miniflare;
  let pages: http.Server;
  let browser: Browser;
  let page: Page;
  let api = "";
  let pageUrl = "";
  const email = `react-${randomBytes(4).toString("hex")}@example.test`;
  const password = "correct horse battery staple";

  beforeAll(async () => {
    const bundle = await build({
      entryPoints: [path.resolve("test/client/fixtures/react-page.ts")],
      bundle: true,
      write: false,
      format: "esm",
      platform: "browser",
      target: "es2022",
      define: { "process.env.NODE_ENV": '"production"' },
      alias: { "edge-session/client": path.resolve("src/client/index.ts"), "edge-session/react": path.resolve("src/react/index.ts") },
      logLevel: "silent",
    });
    const script = bundle.outputFiles[0]!.contents;
    pages = http.createServer((req, res) => {
      if (req.url?.startsWith("/app.js")) {
        res.writeHead(200, { "Content-Type": "text/javascript" }).end(script);
        return;
      }
      res.writeHead(200, { "Content-Type": "text/html" }).end('<!doctype html><meta charset="utf-8"><div id="root"></div><script type="module" src="/app.js"></script>');
    });
    await new Promise<void>((r) => pages.listen(0, "127.0.0.1", r));
    const pageOrigin = `http://127.0.0.1:${(pages.address() as AddressInfo).port}`;

    store = await startStore({ port: 0, redisUrl: process.env.REDIS_URL || undefined });
    mf = new Miniflare({
      host: "127.0.0.1",
      port: 0,
      cf: false,
      modules: true,
      scriptPath: bundleWorker(),
      compatibilityDate: COMPATIBILITY_DATE,
      bindings: {
        ENVIRONMENT: "test",
        SIGNUP: "open",
        SESSION_KEYS: `k1:${randomBytes(32).toString("base64url")}`,
        PASSWORD_PEPPER: randomBytes(32).toString("base64url"),
        UPSTASH_REDIS_REST_URL: store.url,
        UPSTASH_REDIS_REST_TOKEN: store.token,
        STORE_PREFIX: `react-${randomBytes(4).toString("hex")}:`,
        CORS_ORIGINS: pageOrigin,
        REQUEST_LOG: "off",
      },
    });
    api = (await mf.ready).toString().replace(/\/$/, "");
    pageUrl = `${pageOrigin}/?${new URLSearchParams({ api, email, password })}`;
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"] });
    page = await browser.newPage();
    const errors: string[] = [];
    page.on("pageerror", (e) => errors.push(e.message));
    await page.goto(pageUrl);
    await page.waitForSelector("#status");
    expect(errors).toEqual([]);
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await mf?.dispose();
    await store?.close();
    await new Promise((r) => pages?.close(r));
  });

  const status = () => page.locator("#status");

  it("starts signed out", async () => {
    await expect.poll(() => status().textContent(), POLL).toBe("signed out");
  });

  it("shows the user after register()", async () => {
    await page.click("#register");
    await expect.poll(() => status().textContent(), POLL).toBe(`signed in as ${email}`);
    await page.click("#call");
    await expect.poll(() => page.locator("#result").textContent(), POLL).toBe("200");
  });

  it("turns signed out, with the worker's reason, when the session is revoked elsewhere", async () => {
    const token = (await page.evaluate("window.sessionClient.token")) as string;
    const logout = await fetch(`${api}/auth/logout`, { method: "POST", headers: { Authorization: `Bearer ${token}` } });
    expect(logout.status).toBe(204);
    // The page learns on its next call: the worker answers 401 revoked, the client forgets the token.
    await page.click("#call");
    await expect.poll(() => page.locator("#result").textContent(), POLL).toBe("401");
    await expect.poll(() => status().textContent(), POLL).toBe("signed out (revoked)");
  });

  it("signs in again, then out", async () => {
    await page.click("#login");
    await expect.poll(() => status().textContent(), POLL).toBe(`signed in as ${email}`);
    await page.click("#logout");
    await expect.poll(() => status().textContent(), POLL).toBe("signed out");
  });

  it("re-renders only when the session changes", async () => {
    const before = Number(await status().getAttribute("data-renders"));
    const calls = Number(await page.locator("#result").getAttribute("data-calls"));
    await page.click("#call"); // signed out: the call goes out without a token, nothing changes
    await expect.poll(async () => Number(await page.locator("#result").getAttribute("data-calls")), POLL).toBe(calls + 1);
    expect(await page.locator("#result").textContent()).toBe("401");
    expect(Number(await status().getAttribute("data-renders"))).toBe(before);
  });
});
