/**
 * The re-check's store read: every session an object holds, in one command (a read-only script
 * around MGET), so a room's safety net costs one command per interval however many sockets and
 * sessions it holds.
 */
import type { SessionManager } from "../session/manager.js";
import { decodeRecord, type Session } from "../session/record.js";
import type { KeySpace } from "../store/keys.js";
import type { RedisStore, StoreScript } from "../store/redis.js";
import type { RecheckReader } from "./host.js";

const READ_SESSIONS: StoreScript = {
  name: "read-sessions",
  source: "return redis.call('MGET', unpack(KEYS))",
};

/** At most this many sessions per command (Lua's unpack has a stack limit of a few thousand). */
const BATCH = 500;

export function recheckReader(o: { store: RedisStore; keys: KeySpace; sessions: SessionManager; now: () => number }): RecheckReader {
  return {
    now: o.now,
    idleTimeoutMs: o.sessions.policy.idleTimeoutMs,
    async readSessions(ids) {
      const out = new Map<string, Session | null>();
      for (let i = 0; i < ids.length; i += BATCH) {
        const batch = ids.slice(i, i + BATCH);
        const raw = await o.store.run<(string | null)[]>(READ_SESSIONS, batch.map((id) => o.keys.session(id)), []);
        const now = o.now();
        batch.forEach((id, j) => {
          const s = decodeRecord(id, raw?.[j] ?? null);
          // Expiry is checked in code too, as everywhere (ASVS 7.3.2).
          out.set(id, s && now < s.idleExpiresAt && now < s.expiresAt ? s : null);
        });
      }
      return out;
    },
    keepAlive: async (session) => (await o.sessions.touch(session)) ?? false,
  };
}
