/** Bundles the worker exactly as `wrangler deploy` would (dry run), once per test run. */
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import path from "node:path";

let bundled: string | null = null;

export function bundleWorker(): string {
  if (bundled) return bundled;
  const outdir = path.resolve(".tmp/test-bundle");
  execFileSync(process.execPath, ["node_modules/wrangler/bin/wrangler.js", "deploy", "--dry-run", "--outdir", outdir], {
    stdio: ["ignore", "ignore", "pipe"],
    env: { ...process.env, WRANGLER_SEND_METRICS: "false" },
  });
  const script = path.join(outdir, "index.js");
  if (!existsSync(script)) throw new Error(`wrangler produced no ${script}`);
  bundled = script;
  return script;
}

export const COMPATIBILITY_DATE = "2026-04-26";
