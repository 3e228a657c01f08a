/**
 * "A green run prints only results": a small vitest run in a child process, picked to meet each
 * kind of noise a full run used to print — wrangler's "Using secrets defined in .dev.vars" (a
 * local .dev.vars, as `npm run dev` leaves one), a test's measured figure, a configuration error
 * a test provokes, a store failure reaching Hono's default handler (whose stack the test now
 * catches and asserts) — must print vitest's result lines and the one "kept back" summary,
 * nothing else. TEST_VERBOSE=1 still shows what was kept back.
 */
import { execFile } from "node:child_process";
import { existsSync, rmSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ensureDevVars } from "../../dev/dev-vars.ts";
import { ROOT } from "../helpers/node/browser.ts";

const FILES = ["test/token/forged-tokens.test.ts", "test/credentials/middleware.test.ts", "test/http/leaks.test.ts"];
const TESTS = "hundreds of mutations|errorHandler: the mounted app|nonsense SERVER_TIMING";

/** Lines of a passing run that are results (colours off). */
const RESULT_LINES = [
  /^$/,
  /^RUN {2}v\d+\.\d+\.\d+ /,
  /^[✓↓] /,
  /^(Test Files|Tests|Start at|Duration) {2}/,
  /^\[test\] kept back \d+ lines of expected output \(.*\); TEST_VERBOSE=1 shows them$/,
];

function vitest(env: Record<string, string>): Promise<{ status: number; out: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [join(ROOT, "node_modules/vitest/vitest.mjs"), "run", "--project", "workers", ...FILES, "-t", TESTS],
      { cwd: ROOT, encoding: "utf8", timeout: 300_000, maxBuffer: 16 * 1024 * 1024, env: { ...withoutVerbose(process.env), NO_COLOR: "1", FORCE_COLOR: "0", CI: "", ...env } },
      (error, stdout, stderr) => resolve({ status: error ? Number(error.code ?? 1) : 0, out: `${stdout}\n${stderr}` }),
    );
  });
}

function withoutVerbose(env: NodeJS.ProcessEnv): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) if (v !== undefined && k !== "TEST_VERBOSE" && !k.startsWith("VITEST")) out[k] = v;
  return out;
}

describe("a green `npm test` prints only results", () => {
  const devVars = join(ROOT, ".dev.vars");
  let created = false;

  beforeAll(() => {
    // The secrets line needs a .dev.vars next to wrangler.toml: the one `npm run dev` leaves, or one made here (removed after).
    if (!existsSync(devVars)) {
      ensureDevVars(ROOT);
      created = true;
    }
  });

  afterAll(() => {
    if (created) rmSync(devVars, { force: true });
  });

  it("with a local .dev.vars, figures, a provoked config error and a store failure: result lines and one summary", async () => {
    const { status, out } = await vitest({});
    expect(status, out).toBe(0);
    const lines = out.split("\n").map((l) => l.trim());
    expect(lines.filter((l) => /^✓ /.test(l)).length, out).toBeGreaterThan(0);
    expect(lines.filter((l) => !RESULT_LINES.some((re) => re.test(l)))).toEqual([]);
  });

  it("TEST_VERBOSE=1 prints what a green run keeps back", async () => {
    const { status, out } = await vitest({ TEST_VERBOSE: "1" });
    expect(status, out).toBe(0);
    expect(out).toContain("Using secrets defined in .dev.vars");
    expect(out).toMatch(/\[forged\] \d+ forged requests/);
    expect(out).toContain('"msg":"config"');
    // The StoreError that reaches Hono's default handler is caught by its test's console spy (and asserted there).
  });
});
