/** The audit trail read back (READ_AUDIT): newest first, by user and by time, filtered by type. */
import type { OpsKeySpace } from "../store/keys.js";
import { READ_AUDIT } from "../store/ops-scripts.js";
import type { RedisStore } from "../store/redis.js";

export interface AuditEvent {
  /** The stream entry id (`<ms>-<seq>`): unique, ordered. */
  id: string;
  /** When the store appended it, ms since epoch. */
  at: number;
  type: string;
  /** The rest of the event's fields (user, sessions, why, by, how, device, net, kid, roles). */
  [field: string]: string | number;
}

export interface AuditQuery {
  /** One user's events (their own stream); all events otherwise. */
  userId?: string;
  /** Only this event type (`session.ended`, …) or family (`session`). */
  type?: string;
  /** Time window, ms since epoch. */
  from?: number;
  to?: number;
  /** @default 100 (at most 500) */
  limit?: number;
}

export function toEvents(reply: unknown): AuditEvent[] {
  if (!Array.isArray(reply)) return [];
  const out: AuditEvent[] = [];
  for (const entry of reply) {
    if (!Array.isArray(entry) || entry.length < 2) continue;
    const id = String(entry[0]);
    const flat = Array.isArray(entry[1]) ? entry[1] : [];
    const event: AuditEvent = { id, at: Number(id.split("-")[0]), type: "" };
    for (let i = 0; i + 1 < flat.length; i += 2) event[String(flat[i])] = String(flat[i + 1]);
    out.push(event);
  }
  return out;
}

export function matchesType(event: AuditEvent, type: string | undefined): boolean {
  return !type || event.type === type || event.type.startsWith(`${type}.`);
}

export async function readAudit(store: RedisStore, keys: OpsKeySpace, q: AuditQuery): Promise<AuditEvent[]> {
  const limit = Math.min(Math.max(1, q.limit ?? 100), 500);
  const stream = q.userId ? keys.userAudit(q.userId) : keys.audit;
  // A type filter reads more entries than it returns; a bounded multiple keeps one command cheap.
  const count = q.type ? limit * 5 : limit;
  const reply = await store.run(READ_AUDIT, [stream], [q.to !== undefined ? String(q.to) : "+", q.from !== undefined ? String(q.from) : "-", count]);
  return toEvents(reply).filter((e) => matchesType(e, q.type)).slice(0, limit);
}
