/**
 * The operator tools say what they did: `user:add` prints the new account's id, which pepper it
 * used and which store and prefix it wrote to; `keys:generate` gives the rotation order
 * docs/OPERATIONS.md gives (add after the signer, then move first). Both answer --help and bad
 * flags in plain words; `user:add` takes the password from stdin or USER_PASSWORD, never argv.
 */
import { execFile } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startStore, type StoreServer } from "@edge-session/local-store";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const TSX = join(ROOT, "node_modules/tsx/dist/cli.mjs");
let store: StoreServer;
let cwd = "";

beforeAll(async () => {
  store = await startStore({ port: 0, redisUrl: process.env.REDIS_URL || undefined });
  cwd = mkdtempSync(join(tmpdir(), "edge-session-tools-")); // no .dev.vars there: the environment alone
});

afterAll(async () => {
  await store?.close();
  rmSync(cwd, { recursive: true, force: true });
});

/** Run asynchronously: the store answering the tool lives in this process. `input` goes to its stdin (closed either way). */
function tool(script: string, args: string[], env: Record<string, string> = {}, input = ""): Promise<{ status: number; out: string; err: string }> {
  return new Promise((resolve) => {
    const child = execFile(process.execPath, [TSX, join(ROOT, "dev", script), ...args], { cwd, encoding: "utf8", timeout: 60_000, env: { PATH: process.env.PATH!, ...env } }, (error, out, err) => {
      resolve({ status: error ? Number(error.code ?? 1) : 0, out, err });
    });
    child.stdin?.end(input);
  });
}

const storeEnv = () => ({ UPSTASH_REDIS_REST_URL: store.url, UPSTASH_REDIS_REST_TOKEN: store.token, PASSWORD_PEPPER: randomBytes(32).toString("base64url"), STORE_PREFIX: `tools-${randomBytes(4).toString("hex")}:` });
const newEmail = () => `ops-${randomBytes(4).toString("hex")}@example.test`;
/** A Node stack frame or an uncaught error's header: what a tool must never print for a usage or store problem. */
const STACK = /^\s+at |node:internal|^\w*Error( \[\w+\])?:/m;

describe("user:add", () => {
  it("prints the new account's id and which pepper it used; a second run names the existing id", async () => {
    const env = storeEnv();
    const pepper = env.PASSWORD_PEPPER;
    const email = newEmail();
    const first = await tool("user-add.ts", ["--email", email, "--role", "admin"], env, "a long passphrase\n");
    expect(first.err).toBe("");
    expect(first.status).toBe(0);
    const id = /created .* \(admin\): id ([A-Za-z0-9_-]+)/.exec(first.out)?.[1];
    expect(id, first.out).toBeTruthy();
    const fingerprint = createHash("sha256").update(pepper).digest("hex").slice(0, 12);
    expect(first.out).toContain(`pepper: PASSWORD_PEPPER from the environment, sha256 fingerprint ${fingerprint}`);
    expect(first.out).not.toContain(pepper);
    const again = await tool("user-add.ts", ["--email", email], { ...env, USER_PASSWORD: "a long passphrase" });
    expect(again.status).toBe(1);
    expect(again.out).toContain(`already exists: id ${id}`);
  });

  it("names the store and the prefix it wrote to", async () => {
    const env = storeEnv();
    const r = await tool("user-add.ts", ["--email", newEmail()], env, "a long passphrase\n");
    expect(r.status, r.err).toBe(0);
    expect(r.out).toContain(`store: ${store.url}, prefix ${env.STORE_PREFIX}`);
    const { STORE_PREFIX: _, ...noPrefix } = env;
    const byDefault = await tool("user-add.ts", ["--email", newEmail()], noPrefix, "a long passphrase\n");
    expect(byDefault.out).toContain(`store: ${store.url}, prefix es: (the default)`);
  });

  it("--help prints the usage and exits 0, no stack trace", async () => {
    const r = await tool("user-add.ts", ["--help"]);
    expect(r.status).toBe(0);
    expect(r.out).toMatch(/^usage: npm run user:add -- --email/m);
    expect(r.out + r.err).not.toMatch(STACK);
  });

  it("an unknown flag is one line naming it, exit 2", async () => {
    const r = await tool("user-add.ts", ["--emial", "x@example.test"]);
    expect(r.status).toBe(2);
    expect(r.err.trim().split("\n")).toHaveLength(1);
    expect(r.err).toContain("--emial");
    expect(r.err).not.toMatch(STACK);
  });

  it("an unreachable store is a one-line error naming its URL, no stack trace", async () => {
    const dead = `http://127.0.0.1:${await closedPort()}`;
    const r = await tool("user-add.ts", ["--email", newEmail()], { ...storeEnv(), UPSTASH_REDIS_REST_URL: dead }, "a long passphrase\n");
    expect(r.status).toBe(1);
    expect(r.err.trim().split("\n"), r.err).toHaveLength(1);
    expect(r.err).toContain(`cannot reach the store at ${dead}`);
    expect(r.err).not.toMatch(STACK);
  });
});

describe("user:add keeps the password off the command line", () => {
  it("refuses --password (npm echoes the command line, the shell keeps it) and takes the password from stdin or USER_PASSWORD", async () => {
    const env = storeEnv();
    const onArgv = await tool("user-add.ts", ["--email", newEmail(), "--password", "a long passphrase"], env);
    expect(onArgv.status).toBe(2);
    expect(onArgv.err).toMatch(/--password is not accepted/);
    expect(onArgv.err).not.toContain("a long passphrase");
    const piped = await tool("user-add.ts", ["--email", newEmail()], env, "from stdin passphrase\n");
    expect(piped.status, piped.err).toBe(0);
    const fromEnv = await tool("user-add.ts", ["--email", newEmail()], { ...env, USER_PASSWORD: "pw via the env var" });
    expect(fromEnv.status, fromEnv.err).toBe(0);
    for (const r of [piped, fromEnv]) expect(r.out + r.err).not.toMatch(/from stdin passphrase|pw via the env var/);
    const short = await tool("user-add.ts", ["--email", newEmail()], env, "short\n");
    expect(short.status).toBe(2);
    expect(short.err).toContain("8-1024 characters");
  });
});

describe("keys:generate", () => {
  it("says to add the new key after the current signer first, then move it first (as docs/OPERATIONS.md)", async () => {
    const r = await tool("keys-generate.ts", ["--kid", "k9"]);
    expect(r.status).toBe(0);
    const entry = /^SESSION_KEYS=(k9:[A-Za-z0-9_-]{43})$/m.exec(r.out)?.[1];
    expect(entry, r.out).toBeTruthy();
    const add = r.out.indexOf(`SESSION_KEYS=<current entries>,${entry}`);
    const first = r.out.indexOf(`SESSION_KEYS=${entry},<current entries>`);
    expect(add).toBeGreaterThan(-1);
    expect(first).toBeGreaterThan(add);
  });

  it("--help prints the usage and exits 0; an unknown flag is one line, exit 2; no stack trace", async () => {
    const help = await tool("keys-generate.ts", ["--help"]);
    expect(help.status).toBe(0);
    expect(help.out).toMatch(/^usage: npm run keys:generate/m);
    expect(help.out + help.err).not.toMatch(STACK);
    const bad = await tool("keys-generate.ts", ["--kdi", "k2"]);
    expect(bad.status).toBe(2);
    expect(bad.err.trim().split("\n")).toHaveLength(1);
    expect(bad.err).toContain("--kdi");
    expect(bad.err).not.toMatch(STACK);
  });
});

/** A loopback port nothing listens on (bound, then released). */
function closedPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.on("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}
