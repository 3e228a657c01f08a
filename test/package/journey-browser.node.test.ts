/**
 * The newcomer's front end in Debian's Chromium (playwright-core): fixtures/newcomer/page.ts,
 * bundled from the fresh project (so `edge-session/client` and `edge-session/react` are the
 * installed tarball's), served on the newcomer's worker's own origin, and pointed at the team's
 * routes with `paths`. It signs in, opens the team's room (Chromium drops a socket whose 101 does
 * not name the offered subprotocol), and `logout()` really ends the session: Node's request with
 * the token is refused afterwards and the room's socket closes with 4401. Newest hono only: the
 * Node-side journeys run both.
 */
import { randomBytes } from "node:crypto";
import { copyFileSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { chromium, type Browser, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CHROMIUM, CHROMIUM_ARGS, chromiumMissing } from "../helpers/node/browser.ts";
import { freshProject, HONO_NEWEST } from "./fresh-project.ts";
import { bundle, copySources, signIn, startNewcomer, TEAM_PASSWORD, type Newcomer } from "./newcomer-runtime.ts";

/** A UI change or a browser's socket close, on a shared 2-core machine. */
const POLL = { timeout: 15_000 };

if (chromiumMissing && process.env.CI === "true") {
  it(`needs Debian's Chromium at ${CHROMIUM} (CI=true)`, () => {
    throw new Error(`${CHROMIUM} is missing; install it in CI: apt-get install -y chromium`);
  });
}

type Call = (...args: unknown[]) => Promise<unknown>;

describe.skipIf(chromiumMissing)(`the newcomer's page in Chromium (hono ${HONO_NEWEST})`, () => {
  let n: Newcomer;
  let browser: Browser;
  let page: Page;
  const errors: string[] = [];
  const email = `page-${randomBytes(4).toString("hex")}@example.test`;

  /** Calls `window.newcomer[name](...args)` in the page. */
  const inPage = <T>(name: string, ...args: unknown[]): Promise<T> =>
    page.evaluate(([fn, a]) => ((globalThis as unknown as { newcomer: Record<string, Call> }).newcomer[fn as string]!(...(a as unknown[])) as Promise<T>), [name, args] as const) as Promise<T>;
  const status = () => page.locator("#status").textContent();

  beforeAll(async () => {
    const project = freshProject(HONO_NEWEST);
    // The front end is the worker's static assets, as a team deploys an SPA with its worker: the
    // page, its API and its sockets share one origin.
    const assets = join(project.dir, "public");
    copySources(project);
    mkdirSync(assets, { recursive: true });
    copyFileSync(await bundle(project, "src/newcomer/page.ts", "browser"), join(assets, "app.js"));
    writeFileSync(join(assets, "index.html"), '<!doctype html><meta charset="utf-8"><div id="root"></div><script type="module" src="/app.js"></script>\n');
    n = await startNewcomer(project, { assets });
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, timeout: 30_000 });
    page = await browser.newPage();
    page.on("pageerror", (e) => errors.push(e.message));
    await page.goto(`${n.base}/`);
    await page.waitForSelector("#status");
  }, 600_000);

  afterAll(async () => {
    await browser?.close();
    await n?.close();
  });

  it("starts signed out, with no page errors", async () => {
    await expect.poll(status, POLL).toBe("signed out");
    expect(errors).toEqual([]);
  });

  it("login() through paths.login signs in; useSession() shows it; the client's fetch carries the token", async () => {
    expect(await inPage("login", email, TEAM_PASSWORD)).toMatchObject({ email, roles: [] });
    await expect.poll(status, POLL).toBe(`signed in as ${email}`);
    expect(await inPage("me")).toMatchObject({ status: 200, body: { user: { email }, credential: "bearer" } });
  });

  it("openSocket() gets a ticket from paths.ticket and joins paths.socket: the 101 names `session`", async () => {
    expect(await inPage("room")).toEqual({ protocol: "session", first: { type: "welcome", user: { id: expect.any(String), email, roles: [] } } });
  });

  it("logout() ends the session on the server: Node's request with the token is refused, the room's socket closes with 4401", async () => {
    const token = await inPage<string>("token");
    expect(token).toMatch(/^v1\./);
    expect((await n.call("app", "/me", { token })).status).toBe(200);
    expect(await inPage("logout")).toEqual({ ended: true });
    await expect.poll(status, POLL).toBe("signed out");
    expect(await inPage("token")).toBeNull();
    const after = await n.call("app", "/me", { token });
    expect(after.status).toBe(401);
    expect(after.body.reason).toBe("revoked");
    expect(await page.evaluate(() => (globalThis as unknown as { newcomer: { roomClosed(): Promise<unknown> } }).newcomer.roomClosed())).toEqual({ code: 4401, reason: "session_ended" });
  });

  it("logout() without the team's paths throws on the 404 and keeps the token: the session is still live", async () => {
    const r = await inPage<{ threw: boolean; status: number; kept: boolean; token: string }>("logoutWithoutPaths", email, TEAM_PASSWORD);
    expect(r).toMatchObject({ threw: true, status: 404, kept: true });
    expect((await n.call("app", "/me", { token: r.token })).status).toBe(200);
    expect((await n.call("app", "/sign-out", { method: "POST", token: r.token })).status).toBe(204);
  });

  it("adopt() takes createSession()'s result as the server sent it; a revocation elsewhere shows as `signed out (revoked)`", async () => {
    expect(await inPage("adopt", email, TEAM_PASSWORD)).toMatchObject({ email });
    await expect.poll(status, POLL).toBe(`signed in as ${email}`);
    const token = await inPage<string>("token");
    // Another device signs this user out everywhere; the page learns on its next call.
    const other = (await signIn(n, email)).body.token as string;
    expect((await n.call("app", "/sign-out-everywhere", { method: "POST", token: other })).body).toEqual({ ended: 2 });
    expect(await inPage("me")).toMatchObject({ status: 401, body: { reason: "revoked" } });
    await expect.poll(status, POLL).toBe("signed out (revoked)");
    expect((await n.call("app", "/me", { token })).status).toBe(401);
    expect(errors).toEqual([]);
  });
});
