/**
 * The package as a user gets it: `npm pack`, installed from the tarball into a fresh project
 * outside this repository (under the OS temp folder) with the LOWEST hono the package claims
 * to support, type-checked with `skipLibCheck: false` — a worker project with Workers types and
 * a front-end project with DOM types only — and then run: the README's library worker
 * (examples/library-worker.ts), the edge-session worker from the package's `./worker` export,
 * and an RPC caller (examples/rpc-caller.ts) bound to its `SessionVerifier`, all in Miniflare
 * against the local store.
 *
 * Installing needs the npm registry (or its cache): the tarball's own dependencies, hono at
 * the lowest claimed version, Workers types, arctic and React types.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";
import { Miniflare } from "miniflare";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startStore, type StoreServer } from "@edge-session/local-store";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const pkg = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as {
  name: string;
  peerDependencies: Record<string, string>;
  devDependencies: Record<string, string>;
  exports: Record<string, unknown>;
};
/** The lower bound of the hono peer range: what the consumer installs. */
const LOWEST_HONO = /^>=\s*(\d+\.\d+\.\d+)/.exec(pkg.peerDependencies.hono ?? "")?.[1];
const COMPATIBILITY_DATE = "2026-04-26";
const TSC = join(ROOT, "node_modules/typescript/bin/tsc");

let dir = "";
let packed: { filename: string; files: { path: string }[] };
let store: StoreServer;
let mf: Miniflare | undefined;
const prefix = `consumer-${randomBytes(4).toString("hex")}:`;
const signInCode = randomBytes(16).toString("base64url");

function run(cmd: string, args: string[], cwd: string, timeout = 240_000): string {
  const r = spawnSync(cmd, args, { cwd, encoding: "utf8", timeout, env: { ...process.env, npm_config_update_notifier: "false" } });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(" ")} (in ${cwd}) exited ${r.status}:\n${r.stdout}\n${r.stderr}\n${r.error ?? ""}`);
  return r.stdout;
}

function tsc(project: string): { status: number | null; output: string } {
  const r = spawnSync(process.execPath, [TSC, "-p", project], { cwd: dir, encoding: "utf8", timeout: 180_000 });
  return { status: r.status, output: `${r.stdout}${r.stderr}` };
}

beforeAll(async () => {
  if (!LOWEST_HONO) throw new Error(`package.json peerDependencies.hono must start with ">=x.y.z": ${pkg.peerDependencies.hono}`);
  dir = mkdtempSync(join(tmpdir(), "edge-session-consumer-"));
  if (!relative(ROOT, dir).startsWith("..")) throw new Error(`${dir} lies inside the repository`);

  // `npm pack` runs `prepack` (the build) first, as `npm publish` would.
  const out = run("npm", ["pack", "--json", "--pack-destination", dir], ROOT);
  packed = (JSON.parse(out) as (typeof packed)[])[0]!;

  const devVersion = (name: string) => pkg.devDependencies[name]!;
  writeFileSync(
    join(dir, "package.json"),
    JSON.stringify(
      {
        name: "edge-session-consumer",
        private: true,
        type: "module",
        dependencies: {
          "edge-session": `file:./${packed.filename}`,
          hono: LOWEST_HONO,
          arctic: devVersion("arctic"),
          react: devVersion("react"),
        },
        devDependencies: {
          "@cloudflare/workers-types": devVersion("@cloudflare/workers-types"),
          "@types/react": devVersion("@types/react"),
        },
      },
      null,
      2,
    ),
  );
  run("npm", ["install", "--prefer-offline", "--no-audit", "--no-fund", "--ignore-scripts", "--loglevel=error"], dir);

  // The README's snippets are these files: copied as they are, importing "edge-session"
  // (node-socket.ts, a Node program, is type-checked and run by test/node/ws-node-client.test.ts).
  mkdirSync(join(dir, "src"));
  for (const f of readdirSync(join(ROOT, "examples"))) if (f.endsWith(".ts") && f !== "node-socket.ts") copyFileSync(join(ROOT, "examples", f), join(dir, "src", f));
  const strict = { target: "ES2022", module: "ES2022", moduleResolution: "Bundler", strict: true, skipLibCheck: false, noEmit: true, isolatedModules: true, verbatimModuleSyntax: true };
  writeFileSync(
    join(dir, "tsconfig.worker.json"),
    JSON.stringify({ compilerOptions: { ...strict, lib: ["ES2022"], types: ["@cloudflare/workers-types"] }, files: ["src/library-worker.ts", "src/rpc-caller.ts", "src/oidc-sign-in.ts", "src/oidc-worker.ts", "src/mount.ts"] }),
  );
  writeFileSync(
    join(dir, "tsconfig.browser.json"),
    JSON.stringify({ compilerOptions: { ...strict, lib: ["ES2022", "DOM", "DOM.Iterable"], types: [] }, files: ["src/browser.ts"] }),
  );
}, 600_000);

afterAll(async () => {
  await mf?.dispose();
  await store?.close();
  if (dir && process.env.KEEP_CONSUMER !== "1") rmSync(dir, { recursive: true, force: true });
});

describe("npm pack", () => {
  it("ships the build, the license, the README and SECURITY.md, and the docs and examples the README links, nothing else", () => {
    const paths = packed.files.map((f) => f.path).sort();
    expect(paths).toContain("package.json");
    expect(paths).toContain("README.md");
    expect(paths).toContain("SECURITY.md");
    expect(paths).toContain("LICENSE");
    expect(paths).toContain("docs/REALTIME.md");
    expect(paths).toContain("examples/library-worker.ts");
    const stray = paths.filter((p) => !/^(build\/.+\.(js|d\.ts)|package\.json|LICENSE|README\.md|SECURITY\.md|docs\/[\w.-]+\.(md|png)|examples\/[\w./-]+\.(ts|mjs|d\.mts))$/.test(p));
    expect(stray).toEqual([]);
    // Every export points at a shipped file.
    for (const [name, target] of Object.entries(pkg.exports)) {
      for (const file of typeof target === "string" ? [target] : Object.values(target as Record<string, string>)) {
        expect(paths, `${name} → ${file}`).toContain(file.replace(/^\.\//, ""));
      }
    }
  });

  it("has no `private`, declares hono as a peer, and installs with the lowest hono it claims (one copy)", () => {
    const shipped = JSON.parse(readFileSync(join(dir, "node_modules/edge-session/package.json"), "utf8")) as Record<string, unknown>;
    expect(shipped.private).toBeUndefined();
    expect((shipped.dependencies as Record<string, string>).hono).toBeUndefined();
    expect((shipped.peerDependencies as Record<string, string>).hono).toBe(pkg.peerDependencies.hono);
    const hono = JSON.parse(readFileSync(join(dir, "node_modules/hono/package.json"), "utf8")) as { version: string };
    expect(hono.version).toBe(LOWEST_HONO);
    expect(existsSync(join(dir, "node_modules/edge-session/node_modules/hono"))).toBe(false);
  });
});

describe("type-checking the installed package (skipLibCheck: false)", () => {
  it("a worker project with Workers types: the library worker, the RPC caller, the OIDC recipe and its worker, mount.ts", () => {
    const r = tsc("tsconfig.worker.json");
    expect(r.output).toBe("");
    expect(r.status).toBe(0);
  });

  it("a front-end project with DOM types only: the client, AppType (request bodies typed), the React hook", () => {
    const r = tsc("tsconfig.browser.json");
    expect(r.output).toBe("");
    expect(r.status).toBe(0);
  });

  it("fails when a request body has the wrong type (the check above is not vacuous)", () => {
    const bad = readFileSync(join(dir, "src/browser.ts"), "utf8").replace("// @ts-expect-error request bodies are typed: email is a string\n", "");
    writeFileSync(join(dir, "src/browser-bad.ts"), bad);
    writeFileSync(join(dir, "tsconfig.bad.json"), readFileSync(join(dir, "tsconfig.browser.json"), "utf8").replace("src/browser.ts", "src/browser-bad.ts"));
    const r = tsc("tsconfig.bad.json");
    expect(r.status).not.toBe(0);
    expect(r.output).toMatch(/browser-bad\.ts.*error TS2322/);
  });
});

describe("the installed package running in Miniflare against the local store", () => {
  const keys = `k1:${randomBytes(32).toString("base64url")}`;

  async function bundle(entry: string, out: string): Promise<string> {
    const outfile = join(dir, "dist", out);
    await build({
      entryPoints: [join(dir, entry)],
      absWorkingDir: dir,
      outfile,
      bundle: true,
      format: "esm",
      target: "es2022",
      platform: "neutral",
      conditions: ["workerd", "worker", "browser"],
      mainFields: ["module", "main"],
      external: ["cloudflare:*", "node:*"],
      logLevel: "silent",
    });
    return outfile;
  }

  beforeAll(async () => {
    store = await startStore({ port: 0, redisUrl: process.env.REDIS_URL || undefined });
    const storeBindings = { UPSTASH_REDIS_REST_URL: store.url, UPSTASH_REDIS_REST_TOKEN: store.token, SESSION_KEYS: keys, STORE_PREFIX: prefix };
    writeFileSync(join(dir, "src/edge-session-worker.ts"), 'export { default, SessionVerifier } from "edge-session/worker";\n');
    const [edge, app, caller] = await Promise.all([
      bundle("src/edge-session-worker.ts", "edge-session.js"),
      bundle("src/library-worker.ts", "library-worker.js"),
      bundle("src/rpc-caller.ts", "rpc-caller.js"),
    ]);
    const worker = (name: string, scriptPath: string) => ({ name, modules: true, scriptPath, modulesRoot: dir, compatibilityDate: COMPATIBILITY_DATE });
    mf = new Miniflare({
      cf: false,
      workers: [
        { ...worker("app", app), bindings: { ...storeBindings, SIGN_IN_CODE: signInCode, ADMIN_EMAILS: "boss@example.test" } },
        {
          ...worker("edge-session", edge),
          bindings: { ...storeBindings, ENVIRONMENT: "test", SIGNUP: "open", PASSWORD_PEPPER: randomBytes(32).toString("base64url"), REQUEST_LOG: "off" },
        },
        { ...worker("caller", caller), serviceBindings: { SESSIONS: { name: "edge-session", entrypoint: "SessionVerifier" } } },
      ],
    });
    await mf.ready;
  }, 180_000);

  async function call(name: string, path: string, init: { method?: string; token?: string; json?: unknown } = {}) {
    const w = await mf!.getWorker(name);
    const headers: Record<string, string> = {};
    if (init.token) headers.Authorization = `Bearer ${init.token}`;
    if (init.json !== undefined) headers["Content-Type"] = "application/json";
    const res = await w.fetch(`http://consumer.test${path}`, { method: init.method ?? (init.json !== undefined ? "POST" : "GET"), headers, body: init.json !== undefined ? JSON.stringify(init.json) : undefined });
    const text = await res.text();
    let body: unknown = text;
    try {
      body = JSON.parse(text);
    } catch {
      // not JSON
    }
    return { status: res.status, headers: res.headers, body: body as Record<string, unknown> };
  }

  async function signIn(email: string) {
    const r = await call("app", "/sign-in", { json: { email, code: signInCode } });
    expect(r.status).toBe(200);
    return r.body as { token: string; expiresAt: string; user: { id: string; email: string; roles: string[] } };
  }

  it("signs in through createSession() and verifies the token with sessionAuth()", async () => {
    const s = await signIn("ada@example.test");
    expect(s.token).toMatch(/^v1\.k1\./);
    const me = await call("app", "/private/me", { token: s.token });
    expect(me.status).toBe(200);
    expect(me.body.user).toEqual({ id: s.user.id, email: "ada@example.test", roles: [] });
    expect((await call("app", "/sign-in", { json: { email: "ada@example.test", code: "wrong" } })).status).toBe(401);
  });

  it("401 without a token and with a forged one, with the worker's body and challenge", async () => {
    const missing = await call("app", "/private/me");
    expect(missing.status).toBe(401);
    expect(missing.body).toEqual({ error: "unauthorized", reason: "missing" });
    expect(missing.headers.get("WWW-Authenticate")).toBe('Bearer error="invalid_token", error_description="missing"');
    const s = await signIn("forger@example.test");
    const forged = await call("app", "/private/me", { token: s.token.slice(0, -2) + (s.token.endsWith("AA") ? "BB" : "AA") });
    expect(forged.status).toBe(401);
    expect(forged.body.reason).toBe("bad_signature");
  });

  it("403 without the role, 200 with it", async () => {
    const user = await signIn("grace@example.test");
    const refused = await call("app", "/private/admin", { token: user.token });
    expect(refused.status).toBe(403);
    expect(refused.body).toEqual({ error: "forbidden" });
    const boss = await signIn("boss@example.test");
    expect((await call("app", "/private/admin", { token: boss.token })).status).toBe(200);
  });

  it("revokes: one session, then all of a user's", async () => {
    const a = await signIn("linus@example.test");
    const b = await signIn("linus@example.test");
    expect((await call("app", "/private/sign-out", { method: "POST", token: a.token })).status).toBe(204);
    const after = await call("app", "/private/me", { token: a.token });
    expect(after.status).toBe(401);
    expect(after.body.reason).toBe("revoked");
    expect((await call("app", "/private/me", { token: b.token })).status).toBe(200);
    const c = await signIn("linus@example.test");
    const all = await call("app", "/private/sign-out-everywhere", { method: "POST", token: c.token });
    expect(all.body).toEqual({ ended: 2 });
    expect((await call("app", "/private/me", { token: b.token })).status).toBe(401);
  });

  it("verifies tokens the edge-session worker issued, and the worker verifies the library's", async () => {
    const email = `reg-${randomBytes(4).toString("hex")}@example.test`;
    const reg = await call("edge-session", "/auth/register", { json: { email, password: "correct horse battery staple" } });
    expect(reg.status).toBe(201);
    const me = await call("app", "/private/me", { token: reg.body.token as string });
    expect(me.status).toBe(200);
    expect((me.body.user as { email: string }).email).toBe(email);
    const lib = await signIn("both@example.test");
    expect((await call("edge-session", "/api/me", { token: lib.token })).status).toBe(200);
  });

  it("RPC: a second worker verifies, creates and revokes through Service<SessionVerifier>", async () => {
    const s = await signIn("rpc@example.test");
    const who = await call("caller", "/whoami", { token: s.token });
    expect(who.status).toBe(200);
    expect(who.body).toMatchObject({ email: "rpc@example.test", roles: [] });
    expect(typeof who.body.expiresAt).toBe("number");
    const created = await call("caller", "/trusted-sign-in", { json: { id: "rpc-user-2", email: "rpc2@example.test" } });
    expect(created.status).toBe(200);
    const token = created.body.token as string;
    expect((await call("app", "/private/me", { token })).status).toBe(200);
    expect((await call("caller", "/revoke-user", { json: { id: "rpc-user-2" } })).body).toEqual({ ended: 1 });
    expect((await call("caller", "/whoami", { token })).body).toEqual({ error: "revoked" });
    expect((await call("caller", "/whoami", { token: "" })).status).toBe(401);
  });

  it("503 with Retry-After (not a 500, not a 401) while the store is down; fine again after", async () => {
    const s = await signIn("outage@example.test"); // never verified yet: not in any edge cache
    await store.setFault("refuse");
    try {
      const down = await call("app", "/private/me", { token: s.token });
      expect(down.status).toBe(503);
      expect(down.headers.get("Retry-After")).toBe("2");
      expect(down.body).toEqual({ error: "session_store_unavailable" });
      const signInDown = await call("app", "/sign-in", { json: { email: "outage@example.test", code: signInCode } });
      expect(signInDown.status).toBe(503);
      expect((await call("caller", "/whoami", { token: s.token })).status).toBe(503);
    } finally {
      await store.setFault(null);
    }
    expect((await call("app", "/private/me", { token: s.token })).status).toBe(200);
  });
});
