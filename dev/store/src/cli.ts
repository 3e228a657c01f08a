/**
 * The `local-store` command (`npm run store` at the repository root): the local
 * Upstash-compatible Redis REST server on its own.
 *
 *   local-store [--port 8079] [--host 127.0.0.1] [--token T] [--latency MS] [--control-port P]
 *               [--regions eu,ap | --regions 2] [--region-lag MS]
 *   REDIS_URL=redis://127.0.0.1:6379 local-store     # real Redis instead of the embedded engine
 *
 * Prints the URL, the token, the backend and the variables to export; Ctrl-C stops it.
 */
import { parseArgs } from "node:util";
import { startStore, type StoreServer } from "./server.ts";

const USAGE = `Usage: local-store [options]   (at the repository root: npm run store -- [options])

A local server speaking the Upstash Redis REST protocol (for @upstash/redis and curl).

Options:
  --port <n>          data port (default 8079; 0 picks a free one)
  --host <addr>       127.0.0.1 (default), ::1 or localhost — loopback only
  --token <t>         bearer token clients must send (default: random)
  --latency <ms>      delay every data response by <ms> (default 0)
  --control-port <n>  port of the control listener (default: a free one)
  --regions <list|n>  replicated mode: read regions with their own endpoints, e.g. eu,ap
                      or a count (2 → us, eu); see README "Replicated mode"
  --region-lag <ms>   initial replication lag of every region (default 0)
  -h, --help          this help

Environment:
  REDIS_URL           use this Redis (e.g. redis://127.0.0.1:6379) instead of the embedded
                      in-memory engine
`;

function fail(message: string): never {
  console.error(`store: ${message}\n\n${USAGE}`);
  process.exit(2);
}

function port(value: string | undefined, name: string, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!/^\d+$/.test(value) || n > 65535) fail(`--${name} must be a port number (0-65535), got ${JSON.stringify(value)}`);
  return n;
}

let parsed;
try {
  parsed = parseArgs({
    options: {
      port: { type: "string" },
      host: { type: "string" },
      token: { type: "string" },
      latency: { type: "string" },
      "control-port": { type: "string" },
      regions: { type: "string" },
      "region-lag": { type: "string" },
      help: { type: "boolean", short: "h" },
    },
    strict: true,
    allowPositionals: false,
  });
} catch (e) {
  fail((e as Error).message);
}
const flags = parsed.values;
if (flags.help) {
  console.log(USAGE);
  process.exit(0);
}

const latency = flags.latency === undefined ? 0 : Number(flags.latency);
if (!Number.isFinite(latency) || latency < 0) fail(`--latency must be a number of milliseconds, got ${JSON.stringify(flags.latency)}`);
if (flags.token !== undefined && flags.token.length === 0) fail("--token must not be empty");
const regionLag = flags["region-lag"] === undefined ? undefined : Number(flags["region-lag"]);
if (regionLag !== undefined && (!Number.isFinite(regionLag) || regionLag < 0)) fail(`--region-lag must be a number of milliseconds, got ${JSON.stringify(flags["region-lag"])}`);
if (regionLag !== undefined && flags.regions === undefined) fail("--region-lag needs --regions");

let store: StoreServer;
try {
  store = await startStore({
    port: port(flags.port, "port", 8079),
    controlPort: port(flags["control-port"], "control-port", 0),
    host: flags.host,
    token: flags.token,
    latencyMs: latency,
    redisUrl: process.env.REDIS_URL || undefined,
    regions: flags.regions,
    regionLagMs: regionLag,
  });
} catch (e) {
  console.error(`store: ${(e as Error).message}`);
  process.exit(1);
}

console.log(`Local Upstash-compatible Redis REST server
  URL:      ${store.url}
  Token:    ${store.token}
  Backend:  ${store.backend.name}
  Control:  ${store.controlUrl}  (GET /_stats, POST /_control {"latencyMs","fault"}, POST /_instances)${latency ? `\n  Latency:  ${latency} ms` : ""}

export UPSTASH_REDIS_REST_URL=${store.url}
export UPSTASH_REDIS_REST_TOKEN=${store.token}

${regionLines(store)}Try: curl -H "Authorization: Bearer ${store.token}" -d '["ping"]' ${store.url}
Ctrl-C stops it.`);

function regionLines(s: StoreServer): string {
  if (s.regions.length === 0) return "";
  const rows = s.regions.map((r) => `  ${r.name.padEnd(8)}  ${r.url}`).join("\n");
  return `Read regions (same token; writes go to the primary above, reads to the region's replica):
${rows}
  Control:  POST ${s.controlUrl}/_regions/<name> {"lagMs":250} | {"partition":true} | {"heal":true}; GET /_regions

`;
}

let stopping = false;
async function stop(signal: NodeJS.Signals) {
  // Process managers (npx, tsx) relay signals too: the first one starts the shutdown, the rest are ignored.
  if (stopping) return;
  stopping = true;
  console.log(`\nstore: ${signal}, shutting down`);
  const force = setTimeout(() => {
    console.error("store: shutdown took over 5 s, exiting anyway");
    process.exit(1);
  }, 5000);
  force.unref();
  try {
    await store.close();
    console.log("store: stopped");
    process.exit(0);
  } catch (e) {
    console.error(`store: error while stopping: ${(e as Error).message}`);
    process.exit(1);
  }
}
process.on("SIGINT", () => void stop("SIGINT"));
process.on("SIGTERM", () => void stop("SIGTERM"));
