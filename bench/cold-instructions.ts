/**
 * `npx tsx bench/cold-instructions.ts [--samples 2] [--script a.js …]`: CPU instructions of the
 * FIRST request a fresh workerd answers (`GET /api/hello`), counted by valgrind's callgrind, for
 * this worker (as it deploys, or the `--script` bundles: an A/B) and the hono/jwt peer. The
 * cold-start figure of `npm run bench` is wall time on a shared machine; this count hardly moves
 * with the machine's load, so it is the tool for telling whether a change to the first request's
 * path helped.
 *
 * Per sample and worker: a new workerd under callgrind (instrumentation off), `ready`, counters
 * on and zeroed, one request, a dump; then the next request for scale (a warm-ish second request).
 * Loopback only; everything is stopped at the end. Needs `valgrind`.
 */
import { execFile, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { chmodSync, copyFileSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs, promisify } from "node:util";
import { build as esbuild } from "esbuild";
import { Miniflare } from "miniflare";
import { median } from "./load.ts";

const workerdPath = (createRequire(import.meta.url)("workerd") as { default: string }).default;
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const OUT = path.join(ROOT, ".tmp", "callgrind-cold");
const { values: opts } = parseArgs({ options: { samples: { type: "string", default: "2" }, script: { type: "string", multiple: true }, var: { type: "string", multiple: true } } });
/** `--var NAME=value`: a binding for this worker's runs (e.g. REQUEST_LOG=off), over the deployed defaults. */
const extraVars = Object.fromEntries((opts.var ?? []).map((v) => [v.slice(0, v.indexOf("=")), v.slice(v.indexOf("=") + 1)]));
const SAMPLES = Math.max(1, Number(opts.samples));
const log = (m: string) => console.log(`[cold-instructions] ${m}`);

function control(args: string[], pid: number): void {
  const r = spawnSync("callgrind_control", [...args, String(pid)], { encoding: "utf8", timeout: 120_000 });
  if (r.status !== 0) throw new Error(`callgrind_control ${args.join(" ")} ${pid}: ${r.stderr || r.stdout}`);
}

function newestTotal(pid: number, seen: Set<string>): number {
  const fresh = readdirSync(OUT).filter((f) => f.startsWith(`cg.${pid}.`) && !seen.has(f));
  if (fresh.length !== 1) throw new Error(`expected one new dump for ${pid}, found ${fresh.join(", ") || "none"}`);
  seen.add(fresh[0]!);
  const m = /^(?:summary|totals):\s*(\d+)/m.exec(readFileSync(path.join(OUT, fresh[0]!), "utf8"));
  if (!m) throw new Error(`no total in ${fresh[0]}`);
  return Number(m[1]);
}

async function bundles(): Promise<{ name: string; script: string; bindings: Record<string, string>; durableObjects?: Record<string, { className: string; useSQLite: boolean }> }[]> {
  const peer = path.join(OUT, "jwt-worker.js");
  await esbuild({
    entryPoints: [path.join(ROOT, "bench", "peers", "jwt-worker.ts")],
    outfile: peer,
    bundle: true,
    minify: true,
    format: "esm",
    platform: "neutral",
    target: "es2022",
    conditions: ["workerd", "worker", "browser"],
    mainFields: ["module", "main"],
    logLevel: "warning",
  });
  let ours: string[];
  if (opts.script?.length) {
    ours = opts.script.map((s, i) => {
      const to = path.join(OUT, `script-${i}.js`);
      copyFileSync(path.resolve(s), to);
      return to;
    });
  } else {
    const outdir = path.join(OUT, "dist");
    await promisify(execFile)(path.join(ROOT, "node_modules", ".bin", "wrangler"), ["deploy", "--dry-run", "--outdir", outdir], { cwd: ROOT, timeout: 120_000 });
    ours = [path.join(outdir, "index.js")];
  }
  const bindings = {
    ENVIRONMENT: "production",
    // Never reached by /api/hello; loopback only.
    UPSTASH_REDIS_REST_URL: "http://127.0.0.1:9",
    UPSTASH_REDIS_REST_TOKEN: "unused",
    SESSION_KEYS: `k1:${randomBytes(32).toString("base64url")}`,
    PASSWORD_PEPPER: randomBytes(32).toString("base64url"),
    ...extraVars,
  };
  const durableObjects = { ROOMS: { className: "RealtimeRoom", useSQLite: true }, USER_SOCKETS: { className: "UserSockets", useSQLite: true } };
  return [
    ...ours.map((script, i) => ({ name: ours.length === 1 ? "edge-session" : `edge-session-${String.fromCharCode(97 + i)}`, script, bindings, durableObjects })),
    { name: "hono-jwt", script: peer, bindings: { JWT_SECRET: "unused" } },
  ];
}

async function sample(w: Awaited<ReturnType<typeof bundles>>[number]): Promise<{ first: number; second: number }> {
  const mf = new Miniflare({
    host: "127.0.0.1",
    port: 0,
    cf: false,
    modules: true,
    scriptPath: w.script,
    compatibilityDate: "2026-04-26",
    bindings: w.bindings,
    durableObjects: w.durableObjects,
    handleRuntimeStdio: (out, err) => {
      out.resume();
      // workerd's own complaints (not valgrind's `==pid==` banner), for a run that fails.
      err.on("data", (d: Buffer) => {
        for (const l of d.toString().split("\n")) if (l && !l.startsWith("==")) console.error(`[workerd] ${l}`);
      });
    },
  });
  try {
    const url = new URL("/api/hello", await mf.ready).href;
    const found = spawnSync("pgrep", ["-f", `callgrind-out-file=${OUT}/cg`], { encoding: "utf8" }).stdout.trim().split("\n").filter(Boolean).map(Number);
    if (found.length !== 1) throw new Error(`expected one workerd under callgrind, found ${found.length}`);
    const pid = found[0]!;
    const seen = new Set(readdirSync(OUT));
    const once = async () => {
      control(["-z"], pid);
      // A keep-alive connection idle through a slow dump may have been closed: once more.
      const get = () => fetch(url, { signal: AbortSignal.timeout(120_000) });
      const res = await get().catch(get);
      await res.arrayBuffer();
      if (res.status !== 200) throw new Error(`${w.name}: /api/hello answered ${res.status}`);
      control(["-d"], pid);
      return newestTotal(pid, seen);
    };
    control(["-i", "on"], pid);
    const first = await once();
    const second = await once();
    return { first, second };
  } finally {
    await mf.dispose();
  }
}

async function main() {
  if (spawnSync("valgrind", ["--version"]).status !== 0) throw new Error("valgrind is not installed (apt-get install -y valgrind)");
  rmSync(OUT, { recursive: true, force: true });
  mkdirSync(OUT, { recursive: true });
  const wrapper = path.join(OUT, "workerd.sh");
  writeFileSync(wrapper, `#!/bin/sh\nexec valgrind --tool=callgrind --instr-atstart=no --dump-instr=no --dump-line=no --callgrind-out-file=${OUT}/cg.%p "${workerdPath}" "$@"\n`);
  chmodSync(wrapper, 0o755);
  process.env.MINIFLARE_WORKERD_PATH = wrapper;
  const workers = await bundles();
  const firsts = new Map<string, number[]>(workers.map((w) => [w.name, []]));
  const seconds = new Map<string, number[]>(workers.map((w) => [w.name, []]));
  for (let i = 0; i < SAMPLES; i++) {
    for (const w of workers) {
      const r = await sample(w);
      firsts.get(w.name)!.push(r.first);
      seconds.get(w.name)!.push(r.second);
      log(`sample ${i + 1}: ${w.name}: first request ${r.first.toLocaleString("en")} instructions, second ${r.second.toLocaleString("en")}`);
    }
  }
  const peer = median(firsts.get("hono-jwt")!);
  console.log(`\n| worker | first request (median instructions) | ÷ hono/jwt | second request |`);
  console.log("|---|---:|---:|---:|");
  for (const w of workers) {
    const f = median(firsts.get(w.name)!);
    console.log(`| ${w.name} | ${Math.round(f).toLocaleString("en")} | ${(f / peer).toFixed(3)} | ${Math.round(median(seconds.get(w.name)!)).toLocaleString("en")} |`);
  }
}

await main();
process.exit(0);
