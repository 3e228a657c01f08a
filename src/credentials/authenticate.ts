/**
 * The one credential path: read the request's token sources, resolve what they present to a
 * live session, or say why not — as data. `sessionAuth()`, the gateway and the WebSocket
 * handshake all call this; `refusalResponse()` turns a refusal into HTTP.
 *
 * Sources are read in order. When more than one presents a credential (a Bearer header and a
 * WebSocket ticket), every one must resolve, and all to the same session: a ticket minted by
 * another session is `foreign_ticket`. A store failure throws `StoreError` (a 503, never a grant).
 */
import type { Context } from "hono";
import type { SessionUser } from "../protocol.js";
import type { SessionManager } from "../session/manager.js";
import type { LookupSource, SessionReader } from "../session/reader.js";
import type { Session } from "../session/record.js";
import type { TicketStore } from "../session/tickets.js";
import type { DpopVerifier } from "../device/dpop.js";
import { dpopRefusal } from "./dpop-source.js";
import { isRefusal, type Refusal } from "./refusal.js";
import { metrics } from "../metrics/registry.js";
import { M, refusedName } from "../metrics/names.js";
import type { Presented, TokenSource } from "./sources.js";

/** What the credential path needs from the session layer. */
export interface CredentialDeps {
  reader: SessionReader;
  sessions: SessionManager;
  /** Needed only by sources that present tickets. */
  tickets?: TicketStore;
  /** Accept a session token in the URL (`WS_QUERY_SESSION_TOKEN=allow`). @default false */
  allowTokenInUrl?: boolean;
  /** Checks proofs for DPoP-bound sessions; without it such a session is refused (`dpop_required`). @default none */
  dpop?: DpopVerifier;
  /** The clock for proofs (ms). @default Date.now */
  now?: () => number;
}

export interface AuthenticateOptions {
  sources: readonly TokenSource[];
  /** Bypass the edge cache: for routes where a revocation elsewhere must be seen at once. @default false */
  fresh?: boolean;
}

export type Authenticated = {
  ok: true;
  session: Session;
  user: SessionUser;
  /** Where the answer came from: the edge cache, a store read, or a forced store read. */
  source: LookupSource;
  /** The source that presented the credential (the first, when several agreed). */
  via: string;
  /** A subprotocol to echo in the WebSocket handshake, when the ticket came as one. */
  protocol: string | null;
};

export type Authentication = Authenticated | { ok: false; refusal: Refusal };

export function toUser(session: Session): SessionUser {
  return { id: session.userId, email: session.email, roles: session.roles };
}

export async function authenticate(c: Context, deps: CredentialDeps, options: AuthenticateOptions): Promise<Authentication> {
  const fresh = options.fresh ?? false;
  let granted: Authenticated | null = null;
  for (const source of options.sources) {
    if (source.fallback && granted) continue;
    const presented = source.read(c);
    if (presented === null) continue;
    if (isRefusal(presented)) return refused(c, clearing(presented, source), source);
    // A cache hit (the common case) is answered without a turn of the event loop.
    const resolved = (fresh ? undefined : cachedAnswer(presented, deps)) ?? (await resolve(presented, deps, fresh));
    if (isRefusal(resolved)) return refused(c, clearing(resolved, source), source);
    // Only a DPoP-bound session pays for this (a signature verify, no store command).
    if (resolved.session.bound?.kind === "dpop") {
      const proof = await dpopRefusal(c, presented, resolved.session, deps.dpop, (deps.now ?? Date.now)());
      if (proof) return refused(c, proof, source);
    }
    if (granted && granted.session.id !== resolved.session.id) return refused(c, { status: 401, reason: "foreign_ticket" }, source);
    granted ??= { ok: true, session: resolved.session, user: toUser(resolved.session), source: resolved.source, via: source.name, protocol: null };
    if (presented.kind === "ticket") granted.protocol = presented.protocol;
  }
  if (!granted) return refused(c, { status: 401, reason: "missing" }, null);
  metrics.count(VERIFIED[granted.source]);
  // Sliding idle expiry, off the response path where the platform allows it.
  const write = deps.sessions.touch(granted.session);
  if (write) waitUntilOf(c)?.(write);
  return granted;
}

async function resolve(p: Presented, deps: CredentialDeps, fresh: boolean): Promise<{ session: Session; source: LookupSource } | Refusal> {
  if (p.kind === "ticket") {
    const claims = deps.tickets ? await deps.tickets.consume(p.ticket) : null;
    if (!claims) return { status: 401, reason: "invalid_ticket" };
    const session = await deps.sessions.get(claims.sessionId);
    if (!session || session.userId !== claims.userId) return { status: 401, reason: "revoked" };
    return { session, source: "fresh" };
  }
  if (p.inUrl && !deps.allowTokenInUrl) {
    // A session token in the URL ends up in logs and history (ASVS 14.2.1). Checked without a
    // store call: a genuine token here is refused as such.
    const verified = await deps.reader.verifySignature(p.token);
    return { status: 401, reason: verified.ok ? "ticket_required" : verified.reason };
  }
  const result = await deps.reader.read(p.token, fresh || p.inUrl === true);
  return result.ok ? result : { status: 401, reason: result.reason };
}

/** The edge cache's answer for a session token presented the usual way; undefined otherwise. */
function cachedAnswer(p: Presented, deps: CredentialDeps): { session: Session; source: LookupSource } | Refusal | undefined {
  if (p.kind !== "token" || p.inUrl) return undefined;
  const result = deps.reader.cached(p.token);
  if (result === undefined) return undefined;
  return result.ok ? result : { status: 401, reason: result.reason };
}

const VERIFIED = { hit: M.verifyHit, miss: M.verifyMiss, fresh: M.verifyFresh } as const;

/** Counts the refusal and names its transport for the request log. */
function refused(c: Context, refusal: Refusal, source: TokenSource | null): Authentication {
  metrics.count(refusedName(refusal.status === 401 ? refusal.reason : String(refusal.status)));
  if (source) c.set("credential", source.name);
  return { ok: false, refusal };
}

/**
 * A 401 for what a cookie presented also removes the cookie, except `device_bound`: that request
 * left with the long-lived cookie just before a DBSC registration replaced it, and clearing now
 * would delete the bound cookie the browser holds.
 */
function clearing(r: Refusal, source: TokenSource): Refusal {
  return r.status === 401 && source.clear && r.reason !== "device_bound" ? { ...r, setCookie: source.clear } : r;
}

function waitUntilOf(c: Context): ((p: Promise<unknown>) => void) | undefined {
  try {
    const ctx = c.executionCtx;
    return (p) => ctx.waitUntil(p);
  } catch {
    return undefined; // Not running in a Worker (e.g. app.request() in a unit test): the write still runs.
  }
}
