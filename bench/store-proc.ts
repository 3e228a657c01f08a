/**
 * The local Upstash-compatible store in its own process, so that the load driver's event loop
 * (autocannon, in the orchestrator) never delays a store reply. Prints one JSON line
 * `{ url, controlUrl, token, backend }` once listening; exits when stdin closes or on SIGTERM.
 *
 *   node --import tsx bench/store-proc.ts <token> [redisUrl]
 */
import { startStore } from "@edge-session/local-store";

const [token, redisUrl] = process.argv.slice(2);
if (!token) {
  console.error("store-proc: usage: store-proc.ts <token> [redisUrl]");
  process.exit(2);
}

const store = await startStore({ port: 0, token, ...(redisUrl ? { redisUrl } : {}) });
let closing = false;
const close = async (code: number) => {
  if (closing) return;
  closing = true;
  try {
    await store.close();
  } finally {
    process.exit(code);
  }
};
process.on("SIGTERM", () => void close(0));
process.on("SIGINT", () => void close(0));
// The parent holds our stdin: when it goes away (even killed hard), so do we.
process.stdin.on("end", () => void close(0));
process.stdin.on("error", () => void close(0));
process.stdin.resume();

process.stdout.write(`${JSON.stringify({ url: store.url, controlUrl: store.controlUrl, token: store.token, backend: store.backend.name })}\n`);
