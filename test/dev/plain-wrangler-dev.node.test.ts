/**
 * The README's "Plain `wrangler dev`" recipe, step by step, in a scratch copy of the checkout:
 * a store, `.dev.vars` from the example plus keys:generate plus the store's URL and token, then
 * `wrangler dev` with wrangler.toml's entry. The worker answers (no 500 `misconfigured`), an
 * account made with user:add signs in through it, and the page advertises no demo accounts:
 * none exist there.
 */
import { execFileSync } from "node:child_process";
import { appendFileSync, copyFileSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort, ROOT } from "../helpers/node/browser.ts";
import { run, scratchCheckout, TSX, WRANGLER, type Running, type Scratch } from "../helpers/node/scratch-checkout.ts";

const README = readFileSync(join(ROOT, "README.md"), "utf8");
const TOKEN = "dev-token";

/** The recipe's shell block in the README. */
function recipe(): string {
  const section = README.slice(README.indexOf("### Plain `wrangler dev`"));
  return /```sh\n([\s\S]*?)```/.exec(section)?.[1] ?? "";
}

describe("a plain `npx wrangler dev`, set up as the README says", () => {
  let scratch: Scratch;
  let store: Running | null = null;
  let wrangler: Running | null = null;
  let base = "";

  beforeAll(async () => {
    scratch = scratchCheckout();
    // 1. npm run store -- --token dev-token (here on a free port: 8079 may be anyone's)
    store = run(scratch.dir, [join(ROOT, "node_modules/@edge-session/local-store/bin/local-store.mjs"), "--port", "0", "--token", TOKEN]);
    const url = /URL: +(http:\/\/127\.0\.0\.1:\d+)/.exec(await store.waitFor(/URL: +http:\/\/127\.0\.0\.1:\d+/, 30_000))![1]!;
    // 2. cp .dev.vars.example .dev.vars; keys:generate >> .dev.vars; the store's URL and token >> .dev.vars
    const devVars = join(scratch.dir, ".dev.vars");
    copyFileSync(join(ROOT, ".dev.vars.example"), devVars);
    appendFileSync(devVars, execFileSync(process.execPath, [TSX, "dev/keys-generate.ts"], { cwd: scratch.dir, encoding: "utf8" }));
    appendFileSync(devVars, `UPSTASH_REDIS_REST_URL=${url}\nUPSTASH_REDIS_REST_TOKEN=${TOKEN}\n`);
    // 3. npx wrangler dev (wrangler.toml's entry, no arguments but the port)
    const port = await freePort();
    wrangler = run(scratch.dir, [WRANGLER, "dev", "--port", String(port), "--ip", "127.0.0.1", "--inspector-port", String(await freePort()), "--show-interactive-dev-session=false"]);
    await wrangler.waitFor(/Ready on http/, 120_000);
    base = `http://127.0.0.1:${port}`;
  });

  afterAll(async () => {
    await wrangler?.stop();
    await store?.stop();
    scratch?.remove();
  });

  it("the README gives these steps", () => {
    const steps = recipe();
    for (const line of [
      "npm run store -- --token dev-token",
      "cp .dev.vars.example .dev.vars",
      "npm run --silent keys:generate >> .dev.vars",
      "printf 'UPSTASH_REDIS_REST_URL=http://127.0.0.1:8079\\nUPSTASH_REDIS_REST_TOKEN=dev-token\\n' >> .dev.vars",
      "npx wrangler dev",
      "npm run user:add -- --email you@example.com",
    ]) {
      expect(steps).toContain(line);
    }
  });

  it("the worker answers: /health 200 with the store up, not 500 misconfigured", async () => {
    const res = await fetch(`${base}/health`, { signal: AbortSignal.timeout(10_000) });
    expect(`${res.status} ${await res.text()}`).toMatch(/^200 .*"store":"up"/);
  });

  it("user:add writes where the worker reads: the account signs in", async () => {
    const email = `plain-${Date.now().toString(36)}@example.test`;
    const password = "a long passphrase for plain dev";
    execFileSync(process.execPath, [TSX, "dev/user-add.ts", "--email", email], { cwd: scratch.dir, encoding: "utf8", input: `${password}\n`, env: { PATH: process.env.PATH! } });
    const login = await fetch(`${base}/auth/login`, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ email, password }), signal: AbortSignal.timeout(10_000) });
    expect(login.status).toBe(200);
  });

  it("the page advertises no demo accounts: none in its HTML, and no /dev/info to list any", async () => {
    const page = await (await fetch(`${base}/`, { signal: AbortSignal.timeout(10_000) })).text();
    expect(page).toContain("Edge session demo");
    expect(page).not.toMatch(/demo-password|demo@example\.com|admin@example\.com/);
    const info = await fetch(`${base}/dev/info`, { signal: AbortSignal.timeout(10_000) });
    await info.body?.cancel();
    expect(info.status).toBe(404);
  });
});
