/**
 * `npx tsx bench/profile.ts [--path /api/me] [--seconds 6] [--script .tmp/bench-dist/index.js]`:
 * a V8 CPU profile of the session worker inside workerd, under load, and where the time went.
 *
 * Builds the worker as it deploys (`wrangler deploy --dry-run`) unless `--script` names a bundle,
 * runs it in Miniflare with the inspector on, registers a user through the worker, drives
 * `GET <path>` with that user's Bearer token (10 connections, on the worker's own socket: no
 * Miniflare entry worker in the profile), profiles the isolate over the Chrome DevTools protocol
 * and prints the functions with the most self and inclusive time, each with the start of its
 * minified source. The profile itself is written to `.tmp/worker.cpuprofile` (open it in Chrome
 * DevTools for the flame chart). Loopback only; every server it starts is stopped at the end.
 */
import { execFile, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { promisify, parseArgs } from "node:util";
import autocannon from "autocannon";
import { Miniflare } from "miniflare";
import { freePort, inspect, summarise, type Profile } from "./profile-summary.ts";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const TMP = path.join(ROOT, ".tmp");
const { values: opts } = parseArgs({ options: { path: { type: "string", default: "/api/me" }, seconds: { type: "string", default: "6" }, script: { type: "string" } } });
const seconds = Math.min(60, Math.max(1, Number(opts.seconds)));


async function main() {
  mkdirSync(TMP, { recursive: true });
  let script = opts.script ? path.resolve(opts.script) : null;
  if (!script) {
    const outdir = path.join(TMP, "profile-dist");
    await promisify(execFile)(path.join(ROOT, "node_modules", ".bin", "wrangler"), ["deploy", "--dry-run", "--outdir", outdir], { cwd: ROOT, timeout: 120_000 });
    script = path.join(outdir, "index.js");
  }
  const storeToken = randomBytes(24).toString("base64url");
  const store = spawn(process.execPath, ["--import", "tsx", path.join(ROOT, "bench", "store-proc.ts"), storeToken], { cwd: ROOT, stdio: ["pipe", "pipe", "inherit"] });
  const stop: (() => Promise<unknown> | void)[] = [() => void store.kill()];
  try {
    const info = await new Promise<{ url: string; token?: string }>((resolve, reject) => {
      createInterface({ input: store.stdout! }).once("line", (l) => resolve(JSON.parse(l) as { url: string }));
      store.once("exit", () => reject(new Error("the store exited before it was ready")));
    });
    const inspectorPort = await freePort();
    const mf = new Miniflare({
      host: "127.0.0.1",
      port: 0,
      cf: false,
      inspectorPort,
      workers: [
        {
          name: "session",
          modules: true,
          scriptPath: script,
          compatibilityDate: "2026-04-26",
          bindings: {
            ENVIRONMENT: "test",
            SIGNUP: "open",
            UPSTASH_REDIS_REST_URL: info.url,
            UPSTASH_REDIS_REST_TOKEN: info.token ?? storeToken,
            SESSION_KEYS: `k1:${randomBytes(32).toString("base64url")}`,
            PASSWORD_PEPPER: randomBytes(32).toString("base64url"),
            STORE_PREFIX: `profile:${Date.now()}:`,
            REQUEST_LOG: "off",
            SERVER_TIMING: "off",
          },
          durableObjects: { ROOMS: { className: "RealtimeRoom", useSQLite: true }, USER_SOCKETS: { className: "UserSockets", useSQLite: true } },
          unsafeDirectSockets: [{ host: "127.0.0.1", port: 0 }],
        },
      ],
    });
    stop.push(() => mf.dispose());
    await mf.ready;
    const origin = (await mf.unsafeGetDirectURL("session")).origin;
    const reg = await fetch(`${origin}/auth/register`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ email: `profile-${Date.now()}@example.com`, password: randomBytes(12).toString("base64url") }),
    });
    if (reg.status !== 201) throw new Error(`register answered ${reg.status}`);
    const { token } = (await reg.json()) as { token: string };
    const url = `${origin}${opts.path}`;
    const load = (s: number) =>
      new Promise<number>((resolve, reject) => {
        let ok = 0;
        const i = autocannon({ url, headers: { Authorization: `Bearer ${token}` }, connections: 10, duration: s }, (e) => (e ? reject(e) : resolve(ok)));
        i.on("response", (_c, status) => void (status < 500 && ok++));
      });
    await load(2);
    const inspector = await inspect(inspectorPort, "session");
    stop.push(() => inspector.close());
    const send = inspector.send;
    await send("Profiler.enable");
    await send("Profiler.setSamplingInterval", { interval: 100 });
    await send("Profiler.start");
    const answered = await load(seconds);
    const { profile } = await send<{ profile: Profile }>("Profiler.stop");
    const out = path.join(TMP, "worker.cpuprofile");
    writeFileSync(out, JSON.stringify(profile));
    console.log(`GET ${opts.path}: ${answered} responses in ${seconds} s under the profiler; profile in ${path.relative(ROOT, out)}\n`);
    console.log(summarise(profile, readFileSync(script, "utf8").split("\n")));
  } finally {
    for (const s of stop.reverse()) await s();
  }
}

const watchdog = setTimeout(() => {
  console.error("profile: still running after 180 s, stopping");
  process.exit(1);
}, 180_000);
watchdog.unref();
await main();
process.exit(0);
