/**
 * Sessions made with the worker's own code from Node: `SessionManager.create()` (the
 * CREATE_SESSION script, `encodeRecord`, the same key ring and key space) through the real
 * `@upstash/redis` client, against the local store. Logging in 10,000 times through the worker
 * would spend 10,000 PBKDF2 derivations on nothing the benchmark measures.
 */
import { randomBytes } from "node:crypto";
import { newUserId } from "../src/accounts/accounts.ts";
import { assembleCore } from "../src/session/core.ts";
import { DEFAULT_POLICY } from "../src/session/manager.ts";
import { parseKeyRing } from "../src/token/key-ring.ts";
import { createClient } from "redis";

/** A current desktop browser's User-Agent; the worker stores a short label of it ("Chrome 136 on macOS"). */
export const BROWSER_UA = "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/136.0.0.0 Safari/537.36";

/** A forged token: the real token's shape and key id, with the MAC of random bytes in place of its own. */
export function forgeToken(token: string): string {
  return `${token.slice(0, token.lastIndexOf(".") + 1)}${randomBytes(32).toString("base64url")}`;
}

export interface MintTarget {
  url: string;
  token: string;
  sessionKeys: string;
  prefix: string;
}

export interface Minted {
  token: string;
  sessionId: string;
  userId: string;
}

export async function sessionMinter(target: MintTarget) {
  const ring = parseKeyRing(target.sessionKeys);
  if (!ring.ok) throw new Error(`bench: bad SESSION_KEYS: ${ring.problems.join("; ")}`);
  // The worker's own assembly and defaults (SESSION_IDLE_TIMEOUT 30 m, SESSION_ABSOLUTE_TIMEOUT 12 h, 20 per user).
  const core = await assembleCore({ store: { url: target.url, token: target.token }, storeTimeoutMs: 5000, sessionKeys: ring.entries, prefix: target.prefix, policy: DEFAULT_POLICY });
  const manager = core.sessions;
  const keys = core.keys;
  let serial = 0;

  /** `n` sessions, each for a new user (the worst case for the per-user index), `concurrency` at a time. */
  async function mint(n: number, concurrency = 16): Promise<Minted[]> {
    const out: Minted[] = [];
    let next = 0;
    const lane = async () => {
      while (next < n) {
        next++;
        const i = serial++;
        const user = { id: newUserId(), email: `bench-user-${i}@example.com`, roles: [] as string[] };
        const created = await manager.create({ user, userAgent: BROWSER_UA, ip: `198.51.100.${i % 250}` });
        if (!created.ok) throw new Error(`bench: session create refused (${created.reason})`);
        out.push({ token: created.token, sessionId: created.session.id, userId: user.id });
      }
    };
    await Promise.all(Array.from({ length: Math.max(1, Math.min(concurrency, n)) }, lane));
    return out;
  }

  return { mint, keys };
}

export interface RedisBytes {
  /** (used_memory after − before) / sessions, or null with `reason`. */
  bytesPerSession: number | null;
  reason?: string;
  sessions?: number;
  /** Where: the logical database and the key prefix the sessions were written under. */
  database?: number;
  prefix?: string;
  usedMemoryBefore?: number;
  usedMemoryAfter?: number;
  /** Cross-check from `MEMORY USAGE` on a sample: the session key and the user's index key. */
  memoryUsage?: { sessionKey: number; userIndexKey: number; sample: number };
  recordBytes?: number;
}

async function usedMemory(client: ReturnType<typeof createClient>): Promise<number> {
  const info = await client.info("memory");
  const m = /^used_memory:(\d+)/m.exec(info);
  if (!m) throw new Error("INFO memory has no used_memory");
  return Number(m[1]);
}

/** `redis://host:port[/db]` with the logical database replaced. */
export function withDatabase(redisUrl: string, db: number): string {
  const u = new URL(redisUrl);
  u.pathname = `/${db}`;
  return u.toString();
}

/**
 * An empty logical database (15 down to 1), so the sessions can be written under the worker's
 * own default prefix (`es:`) — key length is part of the cost — without touching anyone's keys.
 * Null when there is none (or Redis has a single database).
 */
export async function findEmptyDatabase(redisUrl: string): Promise<number | null> {
  const client = createClient({ url: redisUrl, socket: { connectTimeout: 2000, reconnectStrategy: false } });
  client.on("error", () => {});
  try {
    await client.connect();
    const databases = Number(((await client.configGet("databases")) as Record<string, string>).databases ?? 1);
    for (let db = Math.min(15, databases - 1); db >= 1; db--) {
      await client.select(db);
      if ((await client.dbSize()) === 0) return db;
    }
    return null;
  } catch {
    return null;
  } finally {
    client.destroy();
  }
}

/**
 * Redis memory per session, measured on REAL Redis: `used_memory` before and after creating
 * `n` sessions under `prefix` (through a local store whose backend is that Redis, `redisUrl`
 * naming the database), then every key under the prefix is deleted again.
 */
export async function measureRedisBytes(o: { redisUrl: string; storeUrl: string; storeToken: string; sessionKeys: string; n: number; prefix: string }): Promise<RedisBytes> {
  const client = createClient({ url: o.redisUrl, socket: { connectTimeout: 2000, reconnectStrategy: false } });
  client.on("error", () => {});
  try {
    await client.connect();
  } catch (error) {
    return { bytesPerSession: null, reason: `real Redis not reachable at ${o.redisUrl}: ${String(error)}` };
  }
  const prefix = o.prefix;
  try {
    const minter = await sessionMinter({ url: o.storeUrl, token: o.storeToken, sessionKeys: o.sessionKeys, prefix });
    // One warm-up session: loads the script into Redis's script cache outside the measurement.
    await minter.mint(1, 1);
    const before = await usedMemory(client);
    const minted = await minter.mint(o.n, 48);
    const after = await usedMemory(client);
    const sample = minted.filter((_, i) => i % Math.max(1, Math.floor(minted.length / 200)) === 0).slice(0, 200);
    let sessionKey = 0;
    let userIndexKey = 0;
    let recordBytes = 0;
    for (const m of sample) {
      sessionKey += Number((await client.memoryUsage(minter.keys.session(m.sessionId), { SAMPLES: 0 })) ?? 0);
      userIndexKey += Number((await client.memoryUsage(minter.keys.userIndex(m.userId), { SAMPLES: 0 })) ?? 0);
      recordBytes += Number(await client.strLen(minter.keys.session(m.sessionId)));
    }
    return {
      bytesPerSession: (after - before) / o.n,
      sessions: o.n,
      database: Number(new URL(o.redisUrl).pathname.slice(1) || 0),
      prefix,
      usedMemoryBefore: before,
      usedMemoryAfter: after,
      memoryUsage: { sessionKey: sessionKey / sample.length, userIndexKey: userIndexKey / sample.length, sample: sample.length },
      recordBytes: recordBytes / sample.length,
    };
  } catch (error) {
    return { bytesPerSession: null, reason: `measurement failed: ${String(error)}` };
  } finally {
    try {
      for await (const keys of client.scanIterator({ MATCH: `${prefix}*`, COUNT: 1000 })) {
        if (keys.length) await client.unlink(keys);
      }
      await client.quit();
    } catch {
      client.destroy();
    }
  }
}
