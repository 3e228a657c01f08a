import { Hono } from "hono";
import { Redis } from "@upstash/redis/cloudflare";

const app = new Hono<{ Bindings: Record<string, string> }>();
app.get("/health", async (c) => {
  try {
    const redis = new Redis({ url: c.env.UPSTASH_REDIS_REST_URL!, token: c.env.UPSTASH_REDIS_REST_TOKEN!, retry: false, signal: () => AbortSignal.timeout(1000) });
    await redis.ping();
    return c.json({ ok: true, store: "up" });
  } catch {
    return c.json({ ok: false, store: "down" }, 503);
  }
});
export default app;
