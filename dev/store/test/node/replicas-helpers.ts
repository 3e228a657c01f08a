/**
 * Shared by the replicated-mode tests: a store with read regions (embedded, or the Redis at
 * REDIS_URL with spawned replicas), clients of the real @upstash/redis per endpoint, raw requests
 * that show the store's routing headers, and polling with a deadline.
 */
import { randomBytes } from "node:crypto";
import { Redis } from "@upstash/redis";
import { startStore, type StoreServer } from "../../src/server.ts";

export const REDIS_URL = process.env.REDIS_URL || undefined;
export const TOKEN = "replicas-test-token";

export function newPrefix(name: string): string {
  return `${name}:${randomBytes(6).toString("hex")}:`;
}

export function startReplicated(regions: string[] = ["eu", "ap"]): Promise<StoreServer> {
  return startStore({ port: 0, token: TOKEN, redisUrl: REDIS_URL, regions });
}

/** Drops the test's keys (on the primary) and closes the store with its replicas. */
export async function stop(store: StoreServer | undefined, prefix: string): Promise<void> {
  if (!store) return;
  try {
    const keys = (await store.backend.command(["keys", `${prefix}*`])) as string[];
    if (keys.length) await store.backend.command(["del", ...keys]);
  } finally {
    await store.close();
  }
}

/** The real client on one endpoint; no retries (a failure must show), no auto-pipelining (one request per command). */
export function client(url: string, options: { readYourWrites?: boolean } = {}): Redis {
  return new Redis({ url, token: TOKEN, retry: false, enableAutoPipelining: false, enableTelemetry: false, ...options });
}

export interface Raw {
  status: number;
  json: any;
  syncToken: string | null;
  servedBy: string | null;
}

/** One request by hand, to see the headers the client hides. */
export async function raw(url: string, body: unknown, headers: Record<string, string> = {}, path = ""): Promise<Raw> {
  const res = await fetch(`${url}${path}`, {
    method: "POST",
    headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/json", ...headers },
    body: JSON.stringify(body),
  });
  return { status: res.status, json: await res.json(), syncToken: res.headers.get("upstash-sync-token"), servedBy: res.headers.get("x-local-store-served-by") };
}

export async function control(url: string, method: "GET" | "POST", path: string, body?: unknown): Promise<{ status: number; json: any }> {
  const res = await fetch(`${url}${path}`, {
    method,
    headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, json: await res.json() };
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls `read` until it returns `want`; resolves with the ms it took, or null past `timeoutMs`. */
export async function until<T>(read: () => Promise<T>, want: T, timeoutMs: number, everyMs = 25): Promise<number | null> {
  const start = Date.now();
  for (;;) {
    if ((await read()) === want) return Date.now() - start;
    if (Date.now() - start > timeoutMs) return null;
    await sleep(everyMs);
  }
}
