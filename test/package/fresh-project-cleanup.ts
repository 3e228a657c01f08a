/**
 * The node project's globalSetup: removes, when the run ends, the fresh projects its test files
 * built (fresh-project.ts names them after this process). KEEP_CONSUMER=1 keeps them.
 */
import { readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { FRESH_PREFIX } from "./fresh-project.ts";

export default function setup(): () => void {
  return () => {
    if (process.env.KEEP_CONSUMER === "1") return;
    for (const name of readdirSync(tmpdir())) if (name.startsWith(`${FRESH_PREFIX}${process.pid}-`)) rmSync(join(tmpdir(), name), { recursive: true, force: true });
  };
}
