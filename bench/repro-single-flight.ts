/**
 * Regression check for the burst failures the first single-flight caused (see BENCHMARKS.md):
 * requests that awaited another request's store read were answered 500 by workerd — "The
 * Workers runtime canceled this request because it detected that your Worker's code had hung" —
 * once the isolate had been under sustained load on one token for a few seconds. The fix (a
 * follower waits on its own promise and timer; see `Flight` in src/session/manager.ts) makes
 * every burst answer 200; this script fails (exit 1) if that ever regresses.
 *
 *   npx tsx bench/repro-single-flight.ts [--flag <compatibility flag>]
 *
 * Uses the deploy bundle in .tmp/bench-dist (run `npm run bench -- --quick` once first), the
 * embedded store in-process, and 127.0.0.1 only. Alternates 2 s of cached load on one token
 * with a burst of 200 fresh sessions (as the benchmark) × 10 simultaneous requests; prints the status codes of each
 * phase. Exits 1 if any burst request failed, 0 otherwise; stops by itself after 15 cycles
 * (about 40 s). The onset varies from run to run: usually within 5-10 cycles, sometimes later.
 */
import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import http from "node:http";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { Miniflare } from "miniflare";
import { startStore } from "@edge-session/local-store";
import { burst, cannon, request } from "./load.ts";
import { sessionMinter } from "./sessions.ts";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const scriptPath = path.join(ROOT, ".tmp", "bench-dist", "index.js");
const { values } = parseArgs({ options: { flag: { type: "string", multiple: true, default: [] } } });
if (!existsSync(scriptPath)) {
  console.error(`no bundle at ${path.relative(ROOT, scriptPath)}: run \`npm run bench -- --quick\` first`);
  process.exit(2);
}

const store = await startStore({ port: 0, token: randomBytes(24).toString("base64url") });
const sessionKeys = `k1:${randomBytes(32).toString("base64url")}`;
const prefix = `repro:${Date.now()}:`;
const warnings = new Map<string, number>();
const mf = new Miniflare({
  modules: true,
  scriptPath,
  compatibilityDate: "2026-04-26",
  compatibilityFlags: values.flag ?? [],
  host: "127.0.0.1",
  port: 0,
  cf: false,
  bindings: {
    ENVIRONMENT: "test",
    UPSTASH_REDIS_REST_URL: store.url,
    UPSTASH_REDIS_REST_TOKEN: store.token,
    SESSION_KEYS: sessionKeys,
    PASSWORD_PEPPER: randomBytes(32).toString("base64url"),
    STORE_PREFIX: prefix,
    SESSION_CACHE_TTL: "1 s",
    REQUEST_LOG: "off",
  },
  handleRuntimeStdio: (stdout, stderr) => {
    for (const s of [stdout, stderr]) {
      s.on("data", (d: Buffer) => {
        for (const line of d.toString().split("\n")) if (line.startsWith("Warning:")) warnings.set(line.slice(0, 100), (warnings.get(line.slice(0, 100)) ?? 0) + 1);
      });
    }
  },
});
const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
const CYCLES = 15;
let failedBursts = 0;
try {
  const url = (await mf.ready).origin;
  const minter = await sessionMinter({ url: store.url, token: store.token, sessionKeys, prefix });
  const [one] = await minter.mint(1);
  const me = await request(agent, `${url}/api/me`, { headers: { Authorization: `Bearer ${one!.token}` } });
  if (me.status !== 200) throw new Error(`GET /api/me answered ${me.status}: ${me.body.slice(0, 200)}`);
  for (let cycle = 1; cycle <= CYCLES; cycle++) {
    const steady = await cannon({ url: `${url}/api/me`, headers: { Authorization: `Bearer ${one!.token}` }, connections: 10, durationS: 2, expectStatus: 200 });
    const tokens = (await minter.mint(200)).map((m) => m.token);
    const b = await burst({ url: `${url}/api/me`, tokens, perSession: 10, parallelSessions: 5, agent });
    if (b.unexpected) failedBursts++;
    console.log(`cycle ${cycle}: one token ${JSON.stringify(steady.statusCodes)} · burst ${JSON.stringify(b.statusCodes)}${b.sampleError ? ` · ${b.sampleError.slice(0, 140)}` : ""}`);
  }
  for (const [line, n] of warnings) console.log(`workerd: ${n}× ${line}…`);
} finally {
  agent.destroy();
  await mf.dispose();
  await store.close();
}
console.log(failedBursts ? `${failedBursts} of ${CYCLES} bursts had failures` : "no burst failed");
process.exit(failedBursts ? 1 : 0);
