/**
 * Peer: the classic server-side session — Express 5 + express-session + connect-redis on Node,
 * against real Redis. Run as its own process by the benchmark:
 *
 *   REDIS_URL=redis://127.0.0.1:6379 PREFIX=bench:x:sess: node --import tsx bench/peers/express-session.ts
 *
 * Prints `{ "url": … }` once listening; exits when stdin closes or on SIGTERM. Defaults are the
 * ones most apps ship (resave false, saveUninitialized false, touch on): a verified request
 * costs a GET and, because the session is not modified, a touch (EXPIRE) in Redis.
 */
import { randomBytes } from "node:crypto";
import type { AddressInfo } from "node:net";
import express from "express";
import session from "express-session";
import { RedisStore } from "connect-redis";
import { createClient } from "redis";

declare module "express-session" {
  interface SessionData {
    user?: { id: string; email: string; roles: string[] };
  }
}

const redisUrl = process.env.REDIS_URL || "redis://127.0.0.1:6379";
const prefix = process.env.PREFIX || `bench:${Date.now()}:sess:`;

const client = createClient({ url: redisUrl, socket: { connectTimeout: 2000, reconnectStrategy: false } });
client.on("error", (error: unknown) => console.error(`express-session peer: redis: ${String(error)}`));
await client.connect();

const app = express();
app.disable("x-powered-by");
app.disable("etag");
const sessions = session({
  store: new RedisStore({ client, prefix }),
  secret: process.env.SESSION_SECRET || randomBytes(32).toString("base64url"),
  resave: false,
  saveUninitialized: false,
  cookie: { httpOnly: true, sameSite: "lax", secure: false, maxAge: 30 * 60_000 },
});

app.get("/api/hello", (_req, res) => {
  res.json({ hello: "world" });
});
app.post("/login", sessions, (req, res) => {
  req.session.user = { id: randomBytes(16).toString("base64url"), email: "bench@example.com", roles: [] };
  res.json({ ok: true });
});
app.get("/api/me", sessions, (req, res) => {
  if (!req.session.user) {
    res.status(401).json({ error: "unauthorized" });
    return;
  }
  res.json({ user: req.session.user });
});

const server = app.listen(0, "127.0.0.1", () => {
  const { port } = server.address() as AddressInfo;
  process.stdout.write(`${JSON.stringify({ url: `http://127.0.0.1:${port}` })}\n`);
});
server.keepAliveTimeout = 60_000;

let closing = false;
async function close(): Promise<void> {
  if (closing) return;
  closing = true;
  server.closeAllConnections();
  server.close();
  try {
    // Remove what this run wrote: every key under our unique prefix.
    for await (const keys of client.scanIterator({ MATCH: `${prefix}*`, COUNT: 500 })) {
      if (keys.length) await client.unlink(keys);
    }
    await client.quit();
  } catch {
    // Best effort.
  }
  process.exit(0);
}
process.on("SIGTERM", () => void close());
process.on("SIGINT", () => void close());
process.stdin.on("end", () => void close());
process.stdin.on("error", () => void close());
process.stdin.resume();
