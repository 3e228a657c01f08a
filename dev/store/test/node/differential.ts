/**
 * Runs the same commands on the embedded engine and on the real Redis 7 at 127.0.0.1:6379 and
 * reports every reply or error that differs. Keys live under a random prefix deleted by
 * `cleanup()`; nothing is flushed (the Redis is shared). When that Redis is not reachable the
 * comparison is skipped with a warning, except in CI where it fails.
 */
import { randomUUID } from "node:crypto";
import ioredis, { type Redis as RedisClient } from "ioredis";
import { expect } from "vitest";
import { MemoryBackend } from "../../src/memory/index.ts";
import { CommandError } from "../../src/types.ts";

// ioredis is CommonJS: take the class from the default import, as src/redis-backend.ts does.
const { Redis } = ioredis;

export type Outcome = { ok: unknown } | { err: string };

export async function memOutcome(m: MemoryBackend, args: string[]): Promise<Outcome> {
  try {
    return { ok: await m.command(args) };
  } catch (e) {
    if (e instanceof CommandError) return { err: e.message };
    throw e;
  }
}

/** ioredis replies (callBuffer) in the Reply shape: bulk/status as strings, integers as numbers. */
function normalise(v: unknown): unknown {
  if (Buffer.isBuffer(v)) return v.toString("utf8");
  if (typeof v === "string") return Number(v); // integer replies (stringNumbers)
  if (v instanceof Error) return v.message;
  if (Array.isArray(v)) return v.map(normalise);
  return v;
}

async function redisOutcome(r: RedisClient, args: string[]): Promise<Outcome> {
  try {
    return { ok: normalise(await r.callBuffer(args[0]!, ...args.slice(1))) };
  } catch (e) {
    return { err: (e as Error).message };
  }
}

export async function connectRedis(label: string): Promise<RedisClient | undefined> {
  const r = new Redis({
    host: "127.0.0.1",
    port: 6379,
    lazyConnect: true,
    connectTimeout: 1500,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
    enableOfflineQueue: false,
    stringNumbers: true,
  });
  r.on("error", () => {});
  try {
    await r.connect();
    const version = /redis_version:(\d+)/.exec(await r.info("server"))?.[1];
    if (Number(version) < 7) throw new Error(`Redis ${version} is too old: the comparison needs Redis 7`);
    return r;
  } catch (e) {
    r.disconnect();
    const why = `real Redis at 127.0.0.1:6379 is not usable (${(e as Error).message})`;
    if (process.env.CI === "true") throw new Error(`${why}; the differential tests are required in CI`);
    console.warn(`\n[${label}] SKIPPING the differential comparison: ${why}.\n`);
    return undefined;
  }
}

/** A key prefix for one test file, and the cleanup that deletes its keys from Redis. */
export function keyspace(redis: RedisClient | undefined, name: string) {
  const prefix = `${name}:${randomUUID().slice(0, 8)}:`;
  return {
    k: (key: string) => prefix + key,
    prefix,
    async cleanup() {
      if (!redis) return;
      let cursor = "0";
      do {
        const [next, keys] = await redis.scan(cursor, "MATCH", `${prefix}*`, "COUNT", 1000);
        if (keys.length) await redis.del(...keys);
        cursor = next;
      } while (cursor !== "0");
      await redis.quit();
    },
  };
}

/** Runs every command on both sides; fails listing each step whose outcomes differ. */
export async function expectSame(redis: RedisClient, steps: string[][], mem = new MemoryBackend()): Promise<void> {
  const mismatches: unknown[] = [];
  try {
    for (const [i, cmd] of steps.entries()) {
      const a = await memOutcome(mem, cmd);
      const b = await redisOutcome(redis, cmd);
      try {
        expect(a).toEqual(b);
      } catch {
        mismatches.push({ step: i, command: cmd, memory: a, redis: b });
      }
    }
  } finally {
    await mem.close();
  }
  // The first few are enough to see what differs (a stream's range replies can be long).
  expect({ mismatches: mismatches.length, first: mismatches.slice(0, 5) }).toEqual({ mismatches: 0, first: [] });
}
