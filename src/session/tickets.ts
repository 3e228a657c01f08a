/**
 * WebSocket tickets (ASVS 4.4.3/4.4.4, 14.2.1): browsers cannot set headers on a WebSocket, so
 * a credential travels in the URL or the subprotocol list. Rather than the long-lived session
 * token, that credential is a ticket: random, single use (consumed atomically with GETDEL),
 * valid at most 30 s, bound to the session that asked for it, and stored only as a hash.
 */
import { encodeBase64url, isBase64url, randomBytes } from "../util/base64url.js";
import type { KeySpace } from "../store/keys.js";
import type { RedisStore } from "../store/redis.js";
import { ISSUE_TICKET } from "../store/scripts.js";
import { DEFAULTS } from "../defaults.js";

export const TICKET_PREFIX = "wt1.";
export const MAX_TICKET_TTL_MS = 30_000;
const TICKET_LENGTH = TICKET_PREFIX.length + 43;

export interface TicketClaims {
  sessionId: string;
  userId: string;
}

const encoder = new TextEncoder();

async function ticketKey(keys: KeySpace, ticket: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", encoder.encode(`edge-session/ticket\0${ticket}`));
  return keys.ticket(encodeBase64url(new Uint8Array(digest, 0, 16)));
}

export function looksLikeTicket(value: string): boolean {
  return value.length === TICKET_LENGTH && value.startsWith(TICKET_PREFIX) && isBase64url(value.slice(TICKET_PREFIX.length));
}

export type IssueResult = { ok: true; ticket: string } | { ok: false; retryAfterSeconds: number };

export class TicketStore {
  /**
   * @param maxPerUser outstanding (unused, unexpired) tickets a user may hold at once
   *   (WS_MAX_TICKETS_PER_USER). @default 10
   */
  constructor(
    private readonly store: RedisStore,
    private readonly keys: KeySpace,
    private readonly ttlMs: number,
    private readonly maxPerUser: number = DEFAULTS.wsMaxTicketsPerUser,
    private readonly now: () => number = Date.now,
  ) {
    if (ttlMs > MAX_TICKET_TTL_MS || ttlMs <= 0) throw new Error(`ticket TTL must be within (0, ${MAX_TICKET_TTL_MS}] ms`);
  }

  get ttlSeconds(): number {
    return Math.floor(this.ttlMs / 1000);
  }

  /** A new ticket, or a refusal when the user already holds `maxPerUser` outstanding ones. */
  async issue(claims: TicketClaims): Promise<IssueResult> {
    const ticket = TICKET_PREFIX + encodeBase64url(randomBytes(32));
    const now = this.now();
    const reply = await this.store.run<(number | string)[]>(
      ISSUE_TICKET,
      [await ticketKey(this.keys, ticket), this.keys.userTickets(claims.userId)],
      [JSON.stringify({ s: claims.sessionId, u: claims.userId }), this.ttlMs, now, this.maxPerUser],
    );
    if (Number(reply[0]) === 1) return { ok: true, ticket };
    return { ok: false, retryAfterSeconds: Math.max(1, Math.ceil((Number(reply[1]) - now) / 1000)) };
  }

  /** Consumes a ticket: the first caller gets its claims, every later one `null`. */
  async consume(ticket: string): Promise<TicketClaims | null> {
    if (!looksLikeTicket(ticket)) return null;
    const raw = await this.store.getdel(await ticketKey(this.keys, ticket));
    if (!raw) return null;
    try {
      const v = JSON.parse(raw) as { s?: unknown; u?: unknown };
      return typeof v.s === "string" && typeof v.u === "string" ? { sessionId: v.s, userId: v.u } : null;
    } catch {
      return null;
    }
  }
}
