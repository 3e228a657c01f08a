/**
 * `npm run dev`: the whole local stack in one command, no account anywhere.
 *
 * 1. `.dev.vars` (created on first run with generated secrets) merged with the environment
 *    (environment wins), so any worker variable can be set on the command line;
 * 2. a store: UPSTASH_REDIS_REST_URL/TOKEN when set (e.g. a real Upstash database), otherwise
 *    the local Upstash-compatible server — real Redis when REDIS_URL is set, embedded otherwise;
 * 3. a demo user and a demo admin, printed;
 * 4. `wrangler dev` bound to that store at http://localhost:8787 (PORT overrides).
 * Ctrl-C stops everything.
 */
import { spawn } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { addUser, DEMO_USERS } from "./accounts.ts";
import { ensureDevVars, formatVars, mergeWithEnvironment } from "./dev-vars.ts";
import { startStore, type StoreServer } from "@edge-session/local-store";

const port = Number(process.env.PORT ?? 8787);
const storePort = Number(process.env.STORE_PORT ?? 8079);

const { vars: fileVars, notes } = ensureDevVars();
for (const n of notes) console.log(`[dev] ${n} (git-ignored; keep it out of commits)`);
const vars = mergeWithEnvironment(fileVars);
vars.ENVIRONMENT ||= "development";

let store: StoreServer | null = null;
if (vars.UPSTASH_REDIS_REST_URL && vars.UPSTASH_REDIS_REST_TOKEN) {
  console.log(`[dev] store: ${vars.UPSTASH_REDIS_REST_URL} (from UPSTASH_REDIS_REST_URL)`);
} else {
  store = await startStore({ port: storePort, redisUrl: process.env.REDIS_URL || undefined });
  vars.UPSTASH_REDIS_REST_URL = store.url;
  vars.UPSTASH_REDIS_REST_TOKEN = store.token;
  console.log(`[dev] store: local Upstash-compatible server at ${store.url} (${store.backend.name})`);
  console.log(`[dev]   token: ${store.token}`);
}

for (const u of DEMO_USERS) {
  try {
    const r = await addUser({ url: vars.UPSTASH_REDIS_REST_URL, token: vars.UPSTASH_REDIS_REST_TOKEN!, pepper: vars.PASSWORD_PEPPER!, prefix: vars.STORE_PREFIX }, u.email, u.password, u.roles);
    console.log(`[dev] ${u.roles.includes("admin") ? "admin" : "user "}: ${u.email} / ${u.password}${r === "exists" ? " (already there)" : ""}`);
  } catch (error) {
    console.error(`[dev] could not seed ${u.email}: ${(error as Error).message}`);
  }
}

// Hand the merged variables to wrangler through a private env file (environment wins over .dev.vars).
mkdirSync(".wrangler", { recursive: true });
const envFile = ".wrangler/dev-run.env";
writeFileSync(envFile, formatVars(vars), { mode: 0o600 });

const wrangler = spawn(
  process.execPath,
  ["node_modules/wrangler/bin/wrangler.js", "dev", "--port", String(port), "--ip", "127.0.0.1", "--env-file", envFile, "--show-interactive-dev-session=false"],
  { stdio: ["ignore", "inherit", "inherit"], env: { ...process.env, WRANGLER_SEND_METRICS: "false" } },
);
console.log(`[dev] worker: http://localhost:${port}  (demo SPA at /, health at /health)`);

let stopping = false;
async function stop(code = 0) {
  if (stopping) return;
  stopping = true;
  wrangler.kill("SIGTERM");
  await store?.close();
  process.exit(code);
}
process.on("SIGINT", () => void stop(0));
process.on("SIGTERM", () => void stop(0));
wrangler.on("exit", (code) => void stop(code ?? 0));
