/**
 * `npm run dev`: the whole local stack in one command, no account anywhere.
 *
 * 1. `.dev.vars` (created on first run with generated secrets) merged with the environment
 *    (environment wins), so any worker variable can be set on the command line;
 * 2. a store: UPSTASH_REDIS_REST_URL/TOKEN when set (e.g. a real Upstash database), otherwise
 *    the local Upstash-compatible server on STORE_PORT (8079; a free port when that one is
 *    taken) — real Redis when REDIS_URL is set, embedded otherwise; `--regions eu,ap` (or a
 *    count) gives that store read regions, each on its own URL (printed; the worker itself
 *    stays bound to the primary's URL);
 * 3. a demo user and a demo admin, only in a store whose data this runner owns (the embedded
 *    one it started) unless SEED_DEMO_ACCOUNTS=1 / --seed-demo-accounts (dev/dev-store.ts);
 * 4. a local OpenID Connect provider (oidc-provider in its default configuration, dev/local-idp.ts:
 *    development login and consent forms, any login, any password; the login `sso` signs in
 *    `sso@example.com`; back-channel logout to the worker) for the SPA's "Sign in with SSO"
 *    (OIDC_ISSUER set beforehand uses that one);
 * 5. `wrangler dev` of dev/worker-dev.ts (the worker plus the development-only SSO routes)
 *    bound to that store at http://localhost:8787 (PORT overrides; a free port when that one is
 *    taken, said in one line); its success line is printed once the worker answers.
 * Ctrl-C stops everything.
 */
import { spawn } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { ensureDevVars, formatVars, mergeWithEnvironment } from "./dev-vars.ts";
import { DEMO_USERS, formatDemoAccounts } from "./accounts.ts";
import { DEFAULT_STORE_PORT, prepareDevStore, type DevStore } from "./dev-store.ts";
import { portOrFree, waitForAnswer } from "./ports.ts";
import { startLocalIdp, type LocalIdp } from "./local-idp.ts";

function fail(message: string): never {
  console.error(`[dev] ${message}`);
  process.exit(1);
}

function portFrom(name: string, fallback: number): number {
  const value = process.env[name];
  if (value === undefined || value === "") return fallback;
  if (!/^\d+$/.test(value) || Number(value) > 65535) fail(`${name} must be a port number (0-65535), got ${JSON.stringify(value)}`);
  return Number(value);
}

let flags;
try {
  flags = parseArgs({ options: { "seed-demo-accounts": { type: "boolean" }, regions: { type: "string" } }, strict: true, allowPositionals: false }).values;
} catch (e) {
  fail(`${(e as Error).message} (the flags are --seed-demo-accounts and --regions <eu,ap | n>)`);
}
// Checked before anything is started: the OpenID Connect client below is registered with it.
const port = await portOrFree(portFrom("PORT", 8787), "the worker", "PORT", console.log);
const storePort = portFrom("STORE_PORT", DEFAULT_STORE_PORT);
const seedDemoAccounts = flags["seed-demo-accounts"] === true || process.env.SEED_DEMO_ACCOUNTS === "1";

const { vars: fileVars, notes } = ensureDevVars();
for (const n of notes) console.log(`[dev] ${n} (git-ignored; keep it out of commits)`);
const vars = mergeWithEnvironment(fileVars);
vars.ENVIRONMENT ||= "development";

let store: DevStore;
try {
  store = await prepareDevStore({ vars, storePort, redisUrl: process.env.REDIS_URL || undefined, seedDemoAccounts, regions: flags.regions });
} catch (e) {
  fail(`could not start the store: ${(e as Error).message}`);
}
// The page lists (and fills in) demo accounts only when they exist: the ones created or found just now.
const demo = DEMO_USERS.filter((u) => store.demoAccounts.includes(u.email));
if (demo.length) vars.DEMO_ACCOUNTS = formatDemoAccounts(demo);
if (flags.regions !== undefined && !store.started) console.log("[dev] --regions ignored: UPSTASH_REDIS_REST_URL names the store, and only a store this runner starts gets read regions");

let idp: LocalIdp | null = null;
if (!vars.OIDC_ISSUER) {
  vars.OIDC_CLIENT_ID ||= "edge-session-dev";
  vars.OIDC_CLIENT_SECRET ||= "dev-only-secret";
  try {
    idp = await startLocalIdp({ workerPort: port, port: portFrom("OIDC_PORT", 0), clientId: vars.OIDC_CLIENT_ID, clientSecret: vars.OIDC_CLIENT_SECRET });
  } catch (e) {
    await store.close();
    fail(`could not start the local OpenID Connect provider: ${(e as Error).message}`);
  }
  vars.OIDC_ISSUER = idp.issuer;
  console.log(`[dev] SSO: local OpenID Connect provider at ${idp.issuer} (any login and password; "sso" is sso@example.com)`);
}

// Hand the merged variables to wrangler through a private env file (environment wins over .dev.vars).
mkdirSync(".wrangler", { recursive: true });
const envFile = ".wrangler/dev-run.env";
writeFileSync(envFile, formatVars(vars), { mode: 0o600 });

let stopping = false;
const wrangler = spawn(
  process.execPath,
  ["node_modules/wrangler/bin/wrangler.js", "dev", "dev/worker-dev.ts", "--port", String(port), "--ip", "127.0.0.1", "--env-file", envFile, "--show-interactive-dev-session=false"],
  {
    stdio: ["ignore", "inherit", "inherit"],
    // No telemetry, and no download of the `Request.cf` sample (the worker reads nothing from
    // it; offline the download fails with a stack trace): miniflare's placeholder is used.
    // Either can be turned back on from the environment.
    env: { WRANGLER_SEND_METRICS: "false", CLOUDFLARE_CF_FETCH_ENABLED: "false", ...process.env },
  },
);
// The success line once the worker answers (wrangler prints its own errors when it does not).
void waitForAnswer(`http://127.0.0.1:${port}/health`, () => wrangler.exitCode === null && !stopping, 120_000).then((up) => {
  if (up) console.log(`[dev] worker: http://localhost:${port}  (demo SPA at /, health at /health)`);
});

async function stop(code = 0) {
  if (stopping) return;
  stopping = true;
  wrangler.kill("SIGTERM");
  await idp?.close();
  await store.close();
  process.exit(code);
}
process.on("SIGINT", () => void stop(0));
process.on("SIGTERM", () => void stop(0));
wrangler.on("exit", (code) => void stop(code ?? 0));
