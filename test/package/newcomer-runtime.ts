/**
 * The newcomer's project running: its sources copied into the fresh project (fresh-project.ts),
 * bundled from there with esbuild (so every `edge-session/…` import is the installed tarball),
 * and served by one Miniflare on a loopback port against the local store:
 * - `app`: the newcomer's worker (fixtures/newcomer/worker.ts: sign-in, cookie, roles, its room,
 *   tickets, and `SessionVerifier` re-exported from `edge-session/rpc`);
 * - `app-without-keys`: the same script without SESSION_KEYS (the `misconfigured` reason);
 * - `caller`, `caller-misconfigured`: examples/rpc-caller.ts bound to each over a service binding;
 * - `library`: examples/library-worker.ts (the README's worker);
 * - `edge-session`: the package's `./worker` export (the deployed worker).
 */
import { randomBytes } from "node:crypto";
import { copyFileSync, mkdirSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { build } from "esbuild";
import { Miniflare } from "miniflare";
import { startStore, type StoreServer } from "@edge-session/local-store";
import { ROOT, type FreshProject } from "./fresh-project.ts";

export const COMPATIBILITY_DATE = "2026-04-26";
export const TEAM_PASSWORD = `team-${randomBytes(12).toString("base64url")}`;
export const ADMIN_EMAIL = "boss@example.test";

/** examples/*.ts (the README's snippets) into src/, the newcomer's files into src/newcomer/. */
export function copySources(project: FreshProject): void {
  mkdirSync(join(project.dir, "src/newcomer"), { recursive: true });
  // node-socket.ts is a Node program (test/client/ws-node-client.node.test.ts covers it).
  for (const f of readdirSync(join(ROOT, "examples"))) if (f.endsWith(".ts") && f !== "node-socket.ts") copyFileSync(join(ROOT, "examples", f), join(project.dir, "src", f));
  const fixtures = join(ROOT, "test/package/fixtures/newcomer");
  for (const f of readdirSync(fixtures)) copyFileSync(join(fixtures, f), join(project.dir, "src/newcomer", f));
  writeFileSync(join(project.dir, "src/edge-session-worker.ts"), 'export { default, SessionVerifier } from "edge-session/worker";\n');
}

/** Bundles `entry` (relative to the project) for workerd, or for a browser page. */
export async function bundle(project: FreshProject, entry: string, target: "worker" | "browser" = "worker"): Promise<string> {
  const outfile = join(project.dir, "dist", entry.replace(/^src\//, "").replace(/\.ts$/, ".js"));
  await build({
    entryPoints: [join(project.dir, entry)],
    absWorkingDir: project.dir,
    outfile,
    bundle: true,
    format: "esm",
    target: "es2022",
    logLevel: "silent",
    ...(target === "worker"
      ? { platform: "neutral", conditions: ["workerd", "worker", "browser"], mainFields: ["module", "main"], external: ["cloudflare:*", "node:*"] }
      : { platform: "browser", define: { "process.env.NODE_ENV": '"production"' } }),
  });
  return outfile;
}

export interface Newcomer {
  /** The `app` worker's origin on 127.0.0.1. */
  base: string;
  store: StoreServer;
  call(worker: string, path: string, init?: CallInit): Promise<Answer>;
  close(): Promise<void>;
}

export interface CallInit {
  method?: string;
  token?: string;
  json?: unknown;
  body?: string;
  headers?: Record<string, string>;
}

export interface Answer {
  status: number;
  headers: Headers;
  body: Record<string, unknown>;
  text: string;
}

export interface NewcomerOptions {
  /** A folder of static files the `app` worker serves (Workers Static Assets), e.g. a front end. @default none */
  assets?: string;
}

export async function startNewcomer(project: FreshProject, options: NewcomerOptions = {}): Promise<Newcomer> {
  copySources(project);
  const store = await startStore({ port: 0, redisUrl: process.env.REDIS_URL || undefined });
  const keys = `k1:${randomBytes(32).toString("base64url")}`;
  const storeBindings = { UPSTASH_REDIS_REST_URL: store.url, UPSTASH_REDIS_REST_TOKEN: store.token, STORE_PREFIX: `newcomer-${randomBytes(4).toString("hex")}:` };
  const [app, caller, library, edge] = await Promise.all(
    ["src/newcomer/worker.ts", "src/rpc-caller.ts", "src/library-worker.ts", "src/edge-session-worker.ts"].map((e) => bundle(project, e)),
  );
  const worker = (name: string, scriptPath: string) => ({ name, modules: true, scriptPath, modulesRoot: project.dir, compatibilityDate: COMPATIBILITY_DATE });
  const appBindings = { ...storeBindings, TEAM_PASSWORD, ADMIN_EMAILS: ADMIN_EMAIL };
  const mf = new Miniflare({
    host: "127.0.0.1",
    port: 0,
    cf: false,
    workers: [
      {
        ...worker("app", app!),
        bindings: { ...appBindings, SESSION_KEYS: keys },
        durableObjects: { ROOM: { className: "Room", useSQLite: true }, USER_SOCKETS: { className: "UserSockets", useSQLite: true } },
        ...(options.assets ? { assets: { directory: options.assets, routerConfig: { has_user_worker: true } } } : {}),
      },
      { ...worker("app-without-keys", app!), bindings: appBindings },
      { ...worker("caller", caller!), serviceBindings: { SESSIONS: { name: "app", entrypoint: "SessionVerifier" } } },
      { ...worker("caller-misconfigured", caller!), serviceBindings: { SESSIONS: { name: "app-without-keys", entrypoint: "SessionVerifier" } } },
      { ...worker("library", library!), bindings: { ...storeBindings, SESSION_KEYS: keys, SIGN_IN_CODE: TEAM_PASSWORD, ADMIN_EMAILS: ADMIN_EMAIL } },
      {
        ...worker("edge-session", edge!),
        bindings: { ...storeBindings, SESSION_KEYS: keys, ENVIRONMENT: "test", SIGNUP: "open", PASSWORD_PEPPER: randomBytes(32).toString("base64url"), REQUEST_LOG: "off" },
      },
    ],
  });
  const base = (await mf.ready).toString().replace(/\/$/, "");

  async function call(name: string, path: string, init: CallInit = {}): Promise<Answer> {
    const w = await mf.getWorker(name);
    const headers: Record<string, string> = { ...init.headers };
    if (init.token !== undefined) headers.Authorization = `Bearer ${init.token}`;
    if (init.json !== undefined) headers["Content-Type"] = "application/json";
    const body = init.json !== undefined ? JSON.stringify(init.json) : init.body;
    const res = await w.fetch(`${name === "app" ? base : "http://newcomer.test"}${path}`, { method: init.method ?? (body !== undefined ? "POST" : "GET"), headers, body });
    const text = await res.text();
    let parsed: unknown = {};
    try {
      parsed = JSON.parse(text);
    } catch {
      // Not JSON: `text` has it.
    }
    return { status: res.status, headers: res.headers as unknown as Headers, body: parsed as Record<string, unknown>, text };
  }

  return {
    base,
    store,
    call,
    async close() {
      await mf.dispose();
      await store.close();
    },
  };
}

/** The newcomer's sign-in over HTTP: createSession()'s result for Bearer, a cookie otherwise. */
export async function signIn(n: Newcomer, email: string, transport: "bearer" | "cookie" = "bearer") {
  const r = await n.call("app", "/sign-in", { json: { email, password: TEAM_PASSWORD, ...(transport === "cookie" ? { transport } : {}) } });
  if (r.status !== 200) throw new Error(`sign-in ${email}: ${r.status} ${r.text}`);
  return r;
}
