/**
 * The worker as it deploys, plus `GET /__freshness` (this isolate's freshness figures,
 * session/freshness.ts) and `POST /__freshness/reset`: one script for every region of the
 * multi-region harness (cluster.ts). Only ever bundled for loopback tests and the benchmark.
 */
import worker from "../../src/worker/index.js";
import { freshnessMetrics } from "../../src/session/freshness.js";
import type { WorkerEnv as Env } from "../../src/worker/env.js";

export { SessionVerifier, RealtimeRoom, UserSockets, StoreClock } from "../../src/worker/index.js";

export default {
  async fetch(request, env, ctx) {
    const url = new URL(request.url);
    if (url.pathname === "/__freshness") return Response.json(freshnessMetrics.snapshot());
    if (url.pathname === "/__freshness/reset" && request.method === "POST") {
      freshnessMetrics.reset();
      return Response.json({ ok: true });
    }
    return worker.fetch!(request as Request<unknown, IncomingRequestCfProperties>, env, ctx);
  },
} satisfies ExportedHandler<Env>;
