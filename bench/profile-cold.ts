/**
 * `npx tsx bench/profile-cold.ts [--path /api/hello] [--script bundle.js]`: a V8 CPU profile of
 * the FIRST request a fresh workerd answers, and where its time went (the cold-start companion of
 * bench/profile.ts, which profiles a warm worker under load). The inspector is attached after
 * `ready` and before the request, so the profile holds the first request alone: the construction
 * of the worker's dependencies and app, and every function run for the first time.
 */
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs, promisify } from "node:util";
import { Miniflare } from "miniflare";
import { freePort, inspect, summarise, type Profile } from "./profile-summary.ts";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const TMP = path.join(ROOT, ".tmp");
const { values: opts } = parseArgs({ options: { path: { type: "string", default: "/api/hello" }, script: { type: "string" } } });



mkdirSync(TMP, { recursive: true });
let script = opts.script ? path.resolve(opts.script) : null;
if (!script) {
  const outdir = path.join(TMP, "profile-dist");
  await promisify(execFile)(path.join(ROOT, "node_modules", ".bin", "wrangler"), ["deploy", "--dry-run", "--outdir", outdir], { cwd: ROOT, timeout: 120_000 });
  script = path.join(outdir, "index.js");
}
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
        ENVIRONMENT: "production",
        UPSTASH_REDIS_REST_URL: "http://127.0.0.1:9",
        UPSTASH_REDIS_REST_TOKEN: "unused",
        SESSION_KEYS: `k1:${randomBytes(32).toString("base64url")}`,
        PASSWORD_PEPPER: randomBytes(32).toString("base64url"),
      },
      durableObjects: { ROOMS: { className: "RealtimeRoom", useSQLite: true }, USER_SOCKETS: { className: "UserSockets", useSQLite: true } },
      unsafeDirectSockets: [{ host: "127.0.0.1", port: 0 }],
    },
  ],
});
try {
  await mf.ready;
  const origin = (await mf.unsafeGetDirectURL("session")).origin;
  const inspector = await inspect(inspectorPort, "session");
  const send = inspector.send;
  await send("Profiler.enable");
  await send("Profiler.setSamplingInterval", { interval: 20 });
  await send("Profiler.start");
  const res = await fetch(`${origin}${opts.path}`);
  await res.arrayBuffer();
  const { profile } = await send<{ profile: Profile }>("Profiler.stop");
  inspector.close();
  writeFileSync(path.join(TMP, "cold.cpuprofile"), JSON.stringify(profile));
  console.log(`first GET ${opts.path}: ${res.status}; profile in .tmp/cold.cpuprofile\n`);
  console.log(summarise(profile, readFileSync(script, "utf8").split("\n"), 30));
} finally {
  await mf.dispose();
}
process.exit(0);
