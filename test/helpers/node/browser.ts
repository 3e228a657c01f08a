/**
 * The browser tests' stack, as `npm run dev` runs it: the local store, optionally the local OpenID
 * Connect provider (dev/local-idp.ts: oidc-provider), and `wrangler dev` of dev/worker-dev.ts, on free
 * loopback ports; the demo accounts (DEMO_USERS: a user and an admin) seeded into that store, as
 * the dev runner seeds a store it started; and Debian's Chromium driven by playwright-core.
 * Shared by demo.test.ts and cookie.test.ts. Everything started here is stopped by `stop()`,
 * each step bounded.
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium, type Browser } from "playwright-core";
import { addUser, DEMO_USERS, formatDemoAccounts } from "../../../dev/accounts.ts";
import { formatVars, newKeyEntry, newPepper } from "../../../dev/dev-vars.ts";
import { startLocalIdp, type LocalIdp, type LocalIdpOptions } from "../../../dev/local-idp.ts";
import { dropPrefix, startStore } from "@edge-session/local-store";

export const CHROMIUM = "/usr/bin/chromium";
export const CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"];
export const ROOT = fileURLToPath(new URL("../../..", import.meta.url));
export const DEMO = DEMO_USERS.find((u) => u.roles.length === 0)!;
export const ADMIN = DEMO_USERS.find((u) => u.roles.includes("admin"))!;
export const INSTALL = "apt-get update && apt-get install -y chromium";
export const chromiumMissing = !existsSync(CHROMIUM);

export interface Stack {
  /** The worker's port on 127.0.0.1 (browsers may also reach it as http://localhost:<port>). */
  port: number;
  /** The local OpenID Connect provider's origin (http://127.0.0.1:<port>) when `sso` was asked for. */
  idpOrigin: string | null;
  /** The local OpenID Connect provider when `sso` was asked for. */
  idp: LocalIdp | null;
  output(): string;
  stop(): Promise<void>;
}

export interface StackOptions {
  /**
   * Start the local OpenID Connect provider as dev/run-dev.ts does (its login form: any login,
   * `<login>@example.com`) and point the worker's "Sign in with SSO" at it (OIDC_ISSUER).
   * @default none: /sso/* answers 404
   */
  sso?: true | Pick<LocalIdpOptions, "idTokenAlg">;
}

/**
 * Builds the client bundle, starts the store (and the OIDC provider when asked), starts
 * `wrangler dev dev/worker-dev.ts`, waits for /health, seeds the demo accounts.
 */
export async function startStack(vars: Record<string, string> = {}, options: StackOptions = {}): Promise<Stack> {
  const tmp = mkdtempSync(join(tmpdir(), "edge-session-e2e-"));
  let store: Awaited<ReturnType<typeof startStore>> | null = null;
  let idp: LocalIdp | null = null;
  let wrangler: ChildProcess | null = null;
  let output = "";
  const prefix = `e2e-${randomBytes(6).toString("hex")}:`;
  const stop = async () => {
    if (wrangler) await stopGroup(wrangler);
    if (idp) await bounded(idp.close(), 5_000);
    if (store) {
      await bounded(dropPrefix(store.backend, prefix), 5_000);
      await bounded(store.close(), 5_000);
    }
    rmSync(tmp, { recursive: true, force: true });
  };
  try {
    // The SPA loads the client bundle: build it as `npm run dev` / `npm test` do.
    const built = spawnSync("npm", ["run", "--silent", "build:client"], { cwd: ROOT, encoding: "utf8", timeout: 60_000 });
    if (built.status !== 0) throw new Error(`npm run build:client failed: ${built.stderr || built.stdout || built.error}`);
    store = await startStore({ port: 0, redisUrl: process.env.REDIS_URL || undefined });
    const [port, inspectorPort] = [await freePort(), await freePort()];
    if (options.sso) {
      const clientSecret = randomBytes(16).toString("base64url");
      idp = await startLocalIdp({ workerPort: port, clientId: "edge-session-dev", clientSecret, ...(options.sso === true ? {} : options.sso) });
      vars = { OIDC_CLIENT_ID: "edge-session-dev", OIDC_CLIENT_SECRET: clientSecret, ...vars };
    }
    const pepper = newPepper();
    const envFile = join(tmp, "worker.env");
    writeFileSync(
      envFile,
      formatVars({
        ENVIRONMENT: "development",
        SIGNUP: "open",
        SESSION_KEYS: newKeyEntry("k1"),
        PASSWORD_PEPPER: pepper,
        UPSTASH_REDIS_REST_URL: store.url,
        UPSTASH_REDIS_REST_TOKEN: store.token,
        STORE_PREFIX: prefix,
        ...(idp ? { OIDC_ISSUER: idp.issuer } : {}),
        // Seeded below, as the dev runner seeds a store it started, and so listed for the page.
        DEMO_ACCOUNTS: formatDemoAccounts(DEMO_USERS),
        ...vars,
      }),
      { mode: 0o600 },
    );
    wrangler = spawn(
      process.execPath,
      [
        // The entry `npm run dev` serves: the worker plus the development-only /sso/* routes
        // (404 without OIDC_ISSUER). It must export every Durable Object class wrangler.toml binds.
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
      output = (output + chunk.toString()).slice(-20_000);
    };
    wrangler.stdout?.on("data", keep);
    wrangler.stderr?.on("data", keep);
    await waitForHealth(`http://127.0.0.1:${port}`, wrangler, () => output, 90_000);
    // The store is this stack's own (a fresh prefix, dropped by stop()): the demo accounts go in,
    // as dev/dev-store.ts seeds a store the dev runner started.
    for (const u of DEMO_USERS) await addUser({ url: store.url, token: store.token, pepper, prefix }, u.email, u.password, u.roles);
    return { port, idpOrigin: idp?.issuer ?? null, idp, output: () => output, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

/** Chromium with a fresh profile; `localhost` is pinned to 127.0.0.1 (wrangler listens there only). */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM, args: [...CHROMIUM_ARGS, "--host-resolver-rules=MAP localhost 127.0.0.1"], timeout: 30_000 });
}

export async function freePort(): Promise<number> {
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
export async function bounded(p: Promise<unknown>, ms: number): Promise<boolean> {
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
