/**
 * A scratch copy of the checkout for running the dev tools as a developer does (`npm run dev`,
 * `npx wrangler dev`) without touching this worktree's own `.dev.vars` or `.wrangler/`: a
 * temporary directory whose sources are symlinks to the real ones, and whatever the tool
 * writes stays there. Processes run in their own process group, and `stop()` ends the group.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { bounded, ROOT } from "./browser.ts";

const LINKED = ["node_modules", "src", "dev", "examples", "public", "package.json", "tsconfig.json", "wrangler.toml", ".dev.vars.example"];

export interface Scratch {
  dir: string;
  remove(): void;
}

export function scratchCheckout(): Scratch {
  const dir = mkdtempSync(join(tmpdir(), "edge-session-scratch-"));
  for (const name of LINKED) symlinkSync(join(ROOT, name), join(dir, name));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

export interface Running {
  child: ChildProcess;
  /** Everything printed so far (stdout and stderr interleaved). */
  output(): string;
  /** Resolves with the output once `pattern` appears; rejects when the process exits first or after `ms`. */
  waitFor(pattern: RegExp, ms: number): Promise<string>;
  stop(): Promise<void>;
}

/** Runs `node <args>` in `cwd`, in a process group of its own, with `env` over a minimal environment. */
export function run(cwd: string, args: string[], env: Record<string, string> = {}): Running {
  const child = spawn(process.execPath, args, {
    cwd,
    detached: true,
    stdio: ["ignore", "pipe", "pipe"],
    env: { PATH: process.env.PATH!, HOME: process.env.HOME ?? cwd, NO_COLOR: "1", FORCE_COLOR: "0", WRANGLER_SEND_METRICS: "false", CLOUDFLARE_CF_FETCH_ENABLED: "false", ...env },
  });
  let output = "";
  const waiters = new Set<() => void>();
  const keep = (chunk: Buffer) => {
    output += chunk.toString();
    for (const w of waiters) w();
  };
  child.stdout!.on("data", keep);
  child.stderr!.on("data", keep);
  child.on("exit", () => {
    for (const w of waiters) w();
  });
  const waitFor = (pattern: RegExp, ms: number) =>
    new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => settle(new Error(`no ${pattern} within ${ms} ms:\n${output.slice(-4000)}`)), ms);
      const check = () => {
        if (pattern.test(output)) settle(null);
        else if (child.exitCode !== null || child.signalCode !== null) settle(new Error(`exited (${child.exitCode ?? child.signalCode}) before ${pattern}:\n${output.slice(-4000)}`));
      };
      const settle = (error: Error | null) => {
        clearTimeout(timer);
        waiters.delete(check);
        if (error) reject(error);
        else resolve(output);
      };
      waiters.add(check);
      check();
    });
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
    const signal = (s: NodeJS.Signals) => {
      try {
        process.kill(-child.pid!, s);
      } catch {
        // Already gone.
      }
    };
    signal("SIGTERM");
    if (!(await bounded(exited, 8_000))) signal("SIGKILL");
    await bounded(exited, 5_000);
    signal("SIGKILL"); // Any straggler in the group (workerd).
  };
  return { child, output: () => output, waitFor, stop };
}

export const TSX = join(ROOT, "node_modules/tsx/dist/cli.mjs");
export const WRANGLER = join(ROOT, "node_modules/wrangler/bin/wrangler.js");
