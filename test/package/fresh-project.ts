/**
 * A newcomer's project, outside this repository: the package as `npm pack` makes it, installed
 * from the tarball into a fresh folder under the OS temp folder, with one hono version and both
 * TypeScript majors side by side (npm aliases `typescript5`, `typescript7`).
 *
 * Packing and installing cost tens of seconds, so every test file of one vitest run shares them:
 * they live in `<tmp>/edge-session-fresh-<vitest's pid>-<hash of the packed inputs>/`, built by
 * the first file that asks, and removed when the run ends (fresh-project-cleanup.ts, the node
 * project's globalSetup). The node project runs its files one at a time, so no two build at once.
 * KEEP_CONSUMER=1 keeps the folders for a look afterwards.
 */
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";

export const ROOT = fileURLToPath(new URL("../..", import.meta.url));
export const pkg = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as {
  name: string;
  version: string;
  peerDependencies: Record<string, string>;
  devDependencies: Record<string, string>;
  exports: Record<string, unknown>;
};

/** The lower bound of the hono peer range. */
export const HONO_LOWEST = /^>=\s*(\d+\.\d+\.\d+)/.exec(pkg.peerDependencies.hono ?? "")?.[1] ?? "";
/** The newest hono 4.x on the registry when this was written (`npm view hono version`). */
export const HONO_NEWEST = "4.13.23";
export const HONO_VERSIONS = [HONO_LOWEST, HONO_NEWEST] as const;

/** TypeScript 5 is the repository's own; 7.0.2 is the native (Go) compiler, run through its package's `tsc`. */
export const TYPESCRIPT = { 5: pkg.devDependencies.typescript!, 7: "7.0.2" } as const;
export type TsMajor = keyof typeof TYPESCRIPT;

/** What the packed inputs hash to: a changed source never reuses an older tarball. */
const PACKED_INPUTS = ["package.json", "README.md", "SECURITY.md", "tsconfig.build.json", "src"];
export const FRESH_PREFIX = "edge-session-fresh-";

export interface Packed {
  /** The tarball's absolute path. */
  tarball: string;
  files: { path: string }[];
}

export interface FreshProject {
  dir: string;
  hono: string;
  /** Runs one TypeScript major's `tsc -p <tsconfig>` in the project (`--pretty false`). */
  tsc(ts: TsMajor, tsconfig: string): { status: number | null; output: string };
}

function run(cmd: string, args: string[], cwd: string, timeout = 300_000): string {
  const r = spawnSync(cmd, args, { cwd, encoding: "utf8", timeout, env: { ...process.env, npm_config_update_notifier: "false" } });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(" ")} (in ${cwd}) exited ${r.status}:\n${r.stdout}\n${r.stderr}\n${r.error ?? ""}`);
  return r.stdout;
}

function hashInputs(): string {
  const h = createHash("sha256");
  const add = (path: string) => {
    const full = join(ROOT, path);
    if (statSync(full).isDirectory()) for (const f of readdirSync(full).sort()) add(join(path, f));
    else h.update(path).update("\0").update(readFileSync(full)).update("\0");
  };
  for (const p of PACKED_INPUTS) add(p);
  return h.digest("hex").slice(0, 12);
}

let cacheRoot: string | undefined;

/** This run's folder (created on first use; folders of runs that are gone are removed). */
export function runFolder(): string {
  if (cacheRoot) return cacheRoot;
  // Forked test files share vitest's main process as their parent: that names the run.
  const runId = process.ppid;
  for (const name of readdirSync(tmpdir())) {
    const owner = Number(new RegExp(`^${FRESH_PREFIX}(\\d+)-`).exec(name)?.[1]);
    if (owner && owner !== runId && !alive(owner)) rmSync(join(tmpdir(), name), { recursive: true, force: true });
  }
  cacheRoot = join(tmpdir(), `${FRESH_PREFIX}${runId}-${hashInputs()}`);
  if (!relative(ROOT, cacheRoot).startsWith("..")) throw new Error(`${cacheRoot} lies inside the repository`);
  mkdirSync(cacheRoot, { recursive: true });
  return cacheRoot;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** `npm pack` of this repository, once per run (it runs `prepack`, the build, as `npm publish` would). */
export function packed(): Packed {
  const marker = join(runFolder(), "packed.json");
  if (existsSync(marker)) return JSON.parse(readFileSync(marker, "utf8")) as Packed;
  const out = run("npm", ["pack", "--json", "--pack-destination", runFolder()], ROOT);
  const info = (JSON.parse(out) as { filename: string; files: { path: string }[] }[])[0]!;
  const result: Packed = { tarball: join(runFolder(), info.filename), files: info.files };
  writeFileSync(marker, JSON.stringify(result));
  return result;
}

/**
 * The fresh project for one hono version: the tarball, that hono, React, `ws`, Workers
 * and Node types and both TypeScript majors, installed once per run. Sources are copied in by the callers.
 */
export function freshProject(hono: string): FreshProject {
  if (!/^\d+\.\d+\.\d+$/.test(hono)) throw new Error(`hono version must be exact: ${hono}`);
  const dir = join(runFolder(), `hono-${hono}`);
  const marker = join(dir, ".installed");
  if (!existsSync(marker)) {
    const { tarball } = packed();
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    const dev = (name: string) => pkg.devDependencies[name]!;
    const manifest = {
      name: "edge-session-newcomer",
      private: true,
      type: "module",
      dependencies: { "edge-session": `file:${tarball}`, hono, react: dev("react"), "react-dom": dev("react-dom"), ws: dev("ws") },
      devDependencies: {
        "@cloudflare/workers-types": dev("@cloudflare/workers-types"),
        "@types/node": dev("@types/node"),
        "@types/ws": dev("@types/ws"),
        "@types/react": dev("@types/react"),
        "@types/react-dom": dev("@types/react-dom"),
        typescript5: `npm:typescript@${TYPESCRIPT[5]}`,
        typescript7: `npm:typescript@${TYPESCRIPT[7]}`,
      },
    };
    writeFileSync(join(dir, "package.json"), JSON.stringify(manifest, null, 2));
    run("npm", ["install", "--prefer-offline", "--no-audit", "--no-fund", "--ignore-scripts", "--loglevel=error"], dir);
    writeFileSync(marker, new Date().toISOString());
  }
  return {
    dir,
    hono,
    tsc(ts, tsconfig) {
      const bin = join(dir, "node_modules", `typescript${ts}`, "bin", "tsc");
      const r = spawnSync(process.execPath, [bin, "-p", tsconfig, "--pretty", "false"], { cwd: dir, encoding: "utf8", timeout: 180_000 });
      return { status: r.status, output: `${r.stdout}${r.stderr}${r.error ?? ""}` };
    },
  };
}

/** Strict options every tsconfig of the fresh project shares: the dependencies' types are checked too. */
export const STRICT = {
  target: "ES2022",
  module: "ES2022",
  moduleResolution: "Bundler",
  strict: true,
  skipLibCheck: false,
  noEmit: true,
  isolatedModules: true,
  verbatimModuleSyntax: true,
} as const;

/** A worker project's compiler options: Workers types, no DOM. */
export const WORKER_OPTIONS = { ...STRICT, lib: ["ES2022"], types: ["@cloudflare/workers-types"] };
/** A front end's compiler options: DOM types only, no Workers types. */
export const DOM_OPTIONS = { ...STRICT, lib: ["ES2022", "DOM", "DOM.Iterable"], types: [] as string[] };

/** Writes `name` into the project: `{ compilerOptions, files }`. */
export function writeTsconfig(project: FreshProject, name: string, compilerOptions: object, files: string[]): string {
  writeFileSync(join(project.dir, name), JSON.stringify({ compilerOptions, files }, null, 2));
  return name;
}

/**
 * The files of the fresh project the consumer test type-checks (examples/*.ts are copied to
 * src/, its own fixtures to src/newcomer/): with Workers types, and with DOM types only.
 */
export const CONSUMER_WORKER_FILES = ["src/library-worker.ts", "src/rpc-caller.ts", "src/rpc-entry.ts", "src/oidc-worker.ts", "src/mount.ts", "src/newcomer/worker.ts", "src/newcomer/room.ts"];
export const CONSUMER_DOM_FILES = ["src/browser.ts", "src/library-client.ts", "src/newcomer/page.ts"];
