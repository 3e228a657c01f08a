/**
 * `npx tsx bench/instructions.ts [--requests 400] [--warm 2000] [--rounds 3] [--direct] [--script a.js --script b.js]`:
 * CPU instructions per request inside workerd, counted by valgrind's callgrind: a measure of the
 * fixed cost per request that, unlike throughput on a shared 2-core machine, hardly moves with
 * what else the machine is doing. It is the A/B tool for hot-path changes; `npm run bench` stays
 * the judge of the published ratios.
 *
 * Builds the worker as it deploys (`wrangler deploy --dry-run`) unless `--script` names bundles
 * (two or more: an A/B, every bundle a worker of its own in the same process), bundles the bare
 * Hono peer (bench/peers/jwt-worker.ts), runs them all in ONE workerd under
 * `valgrind --tool=callgrind` behind Miniflare's entry worker (as `npm run bench` does, so the
 * entry worker's share is in every figure; `--direct`: on every worker's own socket, without
 * it), registers a user, warms every route up with `--warm` requests so V8 has optimised the hot
 * code, then per round and route zeroes the counters, sends `--requests` requests one after
 * another on one keep-alive connection, dumps the counters and divides. Counted: user-space
 * instructions of every workerd thread (no kernel time, no cache misses). Printed per route: the
 * lowest round's and the median instructions per request, and bare Hono's count over the
 * route's (what a throughput ratio would be if it were bound by instructions alone).
 * Loopback only; valgrind, workerd and the store are stopped at the end. Needs `valgrind`.
 */
import { execFile, spawn, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { chmodSync, copyFileSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import http from "node:http";
import { createRequire } from "node:module";
import path from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { parseArgs, promisify } from "node:util";
import { build as esbuild } from "esbuild";
import { Miniflare } from "miniflare";
import { median, request } from "./load.ts";
import { forgeToken } from "./sessions.ts";

/** The workerd binary Miniflare would start (the `workerd` package's CommonJS `default`). */
const workerdPath = (createRequire(import.meta.url)("workerd") as { default: string }).default;
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const TMP = path.join(ROOT, ".tmp");
const OUT = path.join(TMP, "callgrind");
const { values: opts } = parseArgs({
  options: {
    requests: { type: "string", default: "400" },
    warm: { type: "string", default: "2000" },
    rounds: { type: "string", default: "3" },
    script: { type: "string", multiple: true },
    direct: { type: "boolean", default: false },
  },
});
const REQUESTS = Math.max(10, Number(opts.requests));
const WARM = Math.max(0, Number(opts.warm));
const ROUNDS = Math.max(1, Number(opts.rounds));

const stop: (() => Promise<unknown> | void)[] = [];
const log = (m: string) => console.log(`[instructions] ${m}`);

async function sessionBundle(): Promise<string> {
  const outdir = path.join(TMP, "instructions-dist");
  await promisify(execFile)(path.join(ROOT, "node_modules", ".bin", "wrangler"), ["deploy", "--dry-run", "--outdir", outdir], { cwd: ROOT, timeout: 120_000 });
  return path.join(outdir, "index.js");
}

async function peerBundle(): Promise<string> {
  const outfile = path.join(TMP, "instructions-peers", "jwt-worker.js");
  await esbuild({
    entryPoints: [path.join(ROOT, "bench", "peers", "jwt-worker.ts")],
    outfile,
    bundle: true,
    minify: true,
    format: "esm",
    platform: "neutral",
    target: "es2022",
    conditions: ["workerd", "worker", "browser"],
    mainFields: ["module", "main"],
    logLevel: "warning",
  });
  return outfile;
}

/** `callgrind_control <args> <pid>`, failing loudly. */
function control(args: string[], pid: number): void {
  const r = spawnSync("callgrind_control", [...args, String(pid)], { encoding: "utf8", timeout: 60_000 });
  if (r.status !== 0) throw new Error(`callgrind_control ${args.join(" ")} ${pid}: ${r.stderr || r.stdout}`);
}

/** The instruction total of the newest dump of `pid`. */
function lastDumpTotal(pid: number, before: Set<string>): number {
  const fresh = readdirSync(OUT).filter((f) => f.startsWith(`cg.${pid}.`) && !before.has(f));
  if (fresh.length !== 1) throw new Error(`expected one new callgrind dump for ${pid}, found ${fresh.join(", ") || "none"}`);
  before.add(fresh[0]!);
  const m = /^(?:summary|totals):\s*(\d+)/m.exec(readFileSync(path.join(OUT, fresh[0]!), "utf8"));
  if (!m) throw new Error(`no instruction total in ${fresh[0]}`);
  return Number(m[1]);
}

async function main() {
  if (spawnSync("valgrind", ["--version"]).status !== 0) throw new Error("valgrind is not installed (apt-get install -y valgrind)");
  rmSync(OUT, { recursive: true, force: true });
  mkdirSync(OUT, { recursive: true });
  // Copied under .tmp: workerd refuses a module path that climbs out of the working directory.
  const scripts = opts.script?.length
    ? opts.script.map((s, i) => {
        const to = path.join(OUT, `script-${i}.js`);
        copyFileSync(path.resolve(s), to);
        return to;
      })
    : [await sessionBundle()];
  const peer = await peerBundle();

  // Miniflare starts whatever MINIFLARE_WORKERD_PATH names: a wrapper that runs workerd under callgrind.
  const wrapper = path.join(OUT, "workerd.sh");
  writeFileSync(
    wrapper,
    `#!/bin/sh\nexec valgrind --tool=callgrind --instr-atstart=no --dump-instr=no --dump-line=no --callgrind-out-file=${OUT}/cg.%p "${workerdPath}" "$@"\n`,
  );
  chmodSync(wrapper, 0o755);
  process.env.MINIFLARE_WORKERD_PATH = wrapper;

  const storeToken = randomBytes(24).toString("base64url");
  const store = spawn(process.execPath, ["--import", "tsx", path.join(ROOT, "bench", "store-proc.ts"), storeToken], { cwd: ROOT, stdio: ["pipe", "pipe", "inherit"] });
  stop.push(() => void store.kill());
  const info = await new Promise<{ url: string; token?: string }>((resolve, reject) => {
    createInterface({ input: store.stdout! }).once("line", (l) => resolve(JSON.parse(l) as { url: string }));
    store.once("exit", () => reject(new Error("the store exited before it was ready")));
  });

  const sessionKeys = `k1:${randomBytes(32).toString("base64url")}`;
  const pepper = randomBytes(32).toString("base64url");
  const names = scripts.map((_, i) => (scripts.length === 1 ? "session" : `session-${String.fromCharCode(97 + i)}`));
  const mf = new Miniflare({
    host: "127.0.0.1",
    port: 0,
    cf: false,
    handleRuntimeStdio: (out, err) => {
      // workerd's own lines; valgrind's (`==pid==`) are its banner.
      for (const s of [out, err]) createInterface({ input: s }).on("line", (l) => void (!l.startsWith("==") && console.error(`[workerd] ${l}`)));
    },
    workers: [
      ...scripts.map((scriptPath, i) => ({
        name: names[i]!,
        modules: true,
        scriptPath,
        compatibilityDate: "2026-04-26",
        routes: [`${names[i]}.bench/*`],
        ...(opts.direct ? { unsafeDirectSockets: [{ host: "127.0.0.1", port: 0 }] } : {}),
        bindings: {
          ENVIRONMENT: "test",
          SIGNUP: "open",
          UPSTASH_REDIS_REST_URL: info.url,
          UPSTASH_REDIS_REST_TOKEN: info.token ?? storeToken,
          SESSION_KEYS: sessionKeys,
          PASSWORD_PEPPER: pepper,
          STORE_PREFIX: `instructions:${Date.now()}:${i}:`,
          SESSION_CACHE_TTL: "1 h",
          REQUEST_LOG: "off",
          SERVER_TIMING: "off",
        },
        durableObjects: { ROOMS: { className: "RealtimeRoom", useSQLite: true }, USER_SOCKETS: { className: "UserSockets", useSQLite: true } },
      })),
      { name: "bare-hono", modules: true, scriptPath: peer, compatibilityDate: "2026-04-26", routes: ["bare-hono.bench/*"], bindings: { JWT_SECRET: "unused" }, ...(opts.direct ? { unsafeDirectSockets: [{ host: "127.0.0.1", port: 0 }] } : {}) },
    ],
  });
  stop.push(() => mf.dispose());
  const origin = (await mf.ready).origin;
  const found = spawnSync("pgrep", ["-f", `callgrind-out-file=${OUT}/cg`], { encoding: "utf8" }).stdout.trim().split("\n").filter(Boolean).map(Number);
  if (found.length !== 1) throw new Error(`expected one workerd under callgrind, found ${found.length}`);
  const pid = found[0]!;
  log(`workerd under callgrind (pid ${pid}) at ${origin}${opts.direct ? ", every worker on its own socket too" : ""}: ${[...names, "bare-hono"].join(", ")}`);
  // Where a worker is reached: through the entry worker by Host, or (--direct) on its own socket.
  const at = async (worker: string): Promise<{ base: string; host: Record<string, string> }> =>
    opts.direct ? { base: (await mf.unsafeGetDirectURL(worker)).origin, host: {} } : { base: origin, host: { Host: `${worker}.bench` } };

  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  stop.push(() => agent.destroy());
  const bareAt = await at("bare-hono");
  const routes: { name: string; url: string; headers: Record<string, string>; status: number }[] = [
    { name: "bare-hono hello", url: `${bareAt.base}/api/hello`, headers: bareAt.host, status: 200 },
  ];
  for (const name of names) {
    const { base, host } = await at(name);
    const reg = await request(agent, `${base}/auth/register`, {
      method: "POST",
      headers: { ...host, "Content-Type": "application/json" },
      body: JSON.stringify({ email: `instructions-${Date.now()}@example.com`, password: randomBytes(12).toString("base64url") }),
    });
    if (reg.status !== 201) throw new Error(`register on ${name} answered ${reg.status}: ${reg.body.slice(0, 200)}`);
    const { token } = JSON.parse(reg.body) as { token: string };
    // One forged string resent, as bench/run.ts's "forged" scenario.
    const forged = forgeToken(token);
    routes.push(
      { name: `${name} hello`, url: `${base}/api/hello`, headers: host, status: 200 },
      { name: `${name} /api/me (cache hit)`, url: `${base}/api/me`, headers: { ...host, Authorization: `Bearer ${token}` }, status: 200 },
      { name: `${name} /api/me (forged, 401)`, url: `${base}/api/me`, headers: { ...host, Authorization: `Bearer ${forged}` }, status: 401 },
    );
  }
  const send = async (r: (typeof routes)[number], n: number) => {
    // Under callgrind a full collection of the whole process can take longer than load.ts's
    // default 10 s; a worker's own socket may close an idle keep-alive connection while
    // callgrind dumps: once more.
    const init = { headers: r.headers, timeoutMs: 120_000 };
    for (let i = 0; i < n; i++) {
      const res = await request(agent, r.url, init).catch((e: NodeJS.ErrnoException) => {
        if (e.code !== "ECONNRESET") throw e;
        return request(agent, r.url, init);
      });
      if (res.status !== r.status) throw new Error(`${r.name} answered ${res.status}: ${res.body.slice(0, 200)}`);
    }
  };
  log(`warming up: ${WARM} requests per route`);
  for (const r of routes) await send(r, WARM);

  control(["-i", "on"], pid);
  const dumps = new Set<string>(readdirSync(OUT));
  const perRequest = new Map<string, number[]>(routes.map((r) => [r.name, []]));
  for (let round = 1; round <= ROUNDS; round++) {
    for (const r of routes) {
      control(["-z"], pid);
      await send(r, REQUESTS);
      control(["-d"], pid);
      const each = lastDumpTotal(pid, dumps) / REQUESTS;
      perRequest.get(r.name)!.push(each);
      log(`round ${round}: ${r.name}: ${Math.round(each).toLocaleString("en")} instructions per request`);
    }
  }

  // A round's count moves in steps: now and then a round carries a whole V8 collection or other
  // housekeeping. The lowest round is the request path with the least of that; the median is
  // printed beside it.
  const least = (xs: number[]) => Math.min(...xs);
  const bare = perRequest.get("bare-hono hello")!;
  const n = (x: number) => Math.round(x).toLocaleString("en");
  console.log(`\n${REQUESTS} requests per route and round, ${ROUNDS} round(s), after ${WARM} warm-up requests per route, ${opts.direct ? "on each worker's own socket (no entry worker)" : "through Miniflare's entry worker"}\n`);
  console.log("| route | instructions/request, lowest round | bare ÷ route | median | bare ÷ route | every round |");
  console.log("|---|---:|---:|---:|---:|---|");
  for (const [name, xs] of perRequest) {
    console.log(`| ${name} | ${n(least(xs))} | ${(least(bare) / least(xs)).toFixed(3)} | ${n(median(xs))} | ${(median(bare) / median(xs)).toFixed(3)} | ${xs.map((x) => `${Math.round(x / 1000)}k`).join(", ")} |`);
  }
}

const watchdog = setTimeout(() => {
  console.error("instructions: still running after 40 min, stopping");
  void Promise.allSettled(stop.reverse().map((s) => s())).then(() => process.exit(1));
}, 40 * 60_000);
watchdog.unref();
try {
  await main();
} finally {
  for (const s of stop.reverse()) await Promise.race([s(), new Promise((r) => setTimeout(r, 10_000))]);
}
process.exit(0);
