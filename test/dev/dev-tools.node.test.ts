/**
 * The operator tools say what they did: `user:add` prints the new account's id and which pepper
 * it used; `keys:generate` gives the rotation order docs/OPERATIONS.md gives (add after the
 * signer, then move first).
 */
import { execFile } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
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

/** Run asynchronously: the store answering the tool lives in this process. */
function tool(script: string, args: string[], env: Record<string, string> = {}): Promise<{ status: number; out: string; err: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [TSX, join(ROOT, "dev", script), ...args], { cwd, encoding: "utf8", timeout: 60_000, env: { PATH: process.env.PATH!, ...env } }, (error, out, err) => {
      resolve({ status: error ? Number(error.code ?? 1) : 0, out, err });
    });
  });
}

describe("user:add", () => {
  it("prints the new account's id and which pepper it used; a second run names the existing id", async () => {
    const pepper = randomBytes(32).toString("base64url");
    const env = { UPSTASH_REDIS_REST_URL: store.url, UPSTASH_REDIS_REST_TOKEN: store.token, PASSWORD_PEPPER: pepper, STORE_PREFIX: `tools-${randomBytes(4).toString("hex")}:` };
    const email = `ops-${randomBytes(4).toString("hex")}@example.test`;
    const first = await tool("user-add.ts", ["--email", email, "--password", "a long passphrase", "--role", "admin"], env);
    expect(first.err).toBe("");
    expect(first.status).toBe(0);
    const id = /created .* \(admin\): id ([A-Za-z0-9_-]+)/.exec(first.out)?.[1];
    expect(id, first.out).toBeTruthy();
    const fingerprint = createHash("sha256").update(pepper).digest("hex").slice(0, 12);
    expect(first.out).toContain(`pepper: PASSWORD_PEPPER from the environment, sha256 fingerprint ${fingerprint}`);
    expect(first.out).not.toContain(pepper);
    const again = await tool("user-add.ts", ["--email", email, "--password", "a long passphrase"], env);
    expect(again.status).toBe(1);
    expect(again.out).toContain(`already exists: id ${id}`);
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
});
