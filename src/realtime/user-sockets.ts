/**
 * `UserSockets`: one Durable Object per user (`idFromName(userId)`) that knows where that user's
 * verified sockets are. It is the routing point of a revocation: whichever worker, isolate or
 * location ends a session tells this object, and it tells exactly the objects holding sockets
 * of that session, which close them at once. It also admits sockets (the per-session and
 * per-user caps are global counts, so they live here) and remembers recently ended sessions so
 * an upgrade admitted a moment before a revocation cannot slip through.
 *
 * State is in the object's SQLite storage (it survives eviction); rows are removed when a
 * socket closes, when its session ends, and when the session's absolute lifetime has passed.
 */
import { DurableObject } from "cloudflare:workers";
import type { AdmitResult, SocketHost, SocketHostRef, SocketLimits } from "./identity.js";

/** How long an ended session is remembered here (a forwarded upgrade takes milliseconds). */
export const TOMBSTONE_MS = 5 * 60_000;

export interface AdmitInput {
  socketId: string;
  sessionId: string;
  host: SocketHostRef;
  /** The session's absolute end: the row is dropped after it even if no close is ever reported. */
  absoluteExpiresAt: number;
  limits: SocketLimits;
}

export interface EndedOutcome {
  /** Objects told and the sockets they closed. */
  hosts: number;
  closed: number;
  /** Objects that could not be told after a retry (their safety-net re-check will catch it). */
  failed: number;
}

type Row = { socket_id: string; session_id: string; binding: string; name: string };

export class UserSockets extends DurableObject<Record<string, unknown>> {
  private readonly sql: SqlStorage;

  constructor(ctx: DurableObjectState, env: Record<string, unknown>) {
    super(ctx, env);
    this.sql = ctx.storage.sql;
    this.sql.exec(`CREATE TABLE IF NOT EXISTS sockets (
      socket_id TEXT PRIMARY KEY, session_id TEXT NOT NULL, binding TEXT NOT NULL, name TEXT NOT NULL, expires_at INTEGER NOT NULL)`);
    this.sql.exec("CREATE INDEX IF NOT EXISTS sockets_by_session ON sockets (session_id)");
    this.sql.exec("CREATE TABLE IF NOT EXISTS ended (session_id TEXT PRIMARY KEY, at INTEGER NOT NULL)");
  }

  private prune(now: number): void {
    this.sql.exec("DELETE FROM sockets WHERE expires_at <= ?", now);
    this.sql.exec("DELETE FROM ended WHERE at <= ?", now - TOMBSTONE_MS);
  }

  private counts(sessionId: string): { session: number; user: number } {
    const row = this.sql.exec<{ s: number; u: number }>("SELECT SUM(session_id = ?) AS s, COUNT(*) AS u FROM sockets", sessionId).one();
    return { session: Number(row.s ?? 0), user: Number(row.u ?? 0) };
  }

  private over(sessionId: string, limits: SocketLimits): AdmitResult {
    const n = this.counts(sessionId);
    if (n.session >= limits.perSession) return { ok: false, reason: "session_socket_limit" };
    if (n.user >= limits.perUser) return { ok: false, reason: "user_socket_limit" };
    return { ok: true };
  }

  /** Admits one socket, or refuses it (session ended, a cap reached). */
  async admit(input: AdmitInput): Promise<AdmitResult> {
    const now = Date.now();
    this.prune(now);
    if (this.sql.exec("SELECT 1 FROM ended WHERE session_id = ?", input.sessionId).toArray().length) return { ok: false, reason: "session_ended" };
    let verdict = this.over(input.sessionId, input.limits);
    if (!verdict.ok) {
      // At a cap: drop rows whose sockets are gone without a close reported (an object reset by
      // a deploy, a crash), then count again. Costs one call per holding object, only here.
      await this.reconcile();
      if (this.sql.exec("SELECT 1 FROM ended WHERE session_id = ?", input.sessionId).toArray().length) return { ok: false, reason: "session_ended" };
      verdict = this.over(input.sessionId, input.limits);
      if (!verdict.ok) return verdict;
    }
    this.sql.exec(
      "INSERT OR REPLACE INTO sockets (socket_id, session_id, binding, name, expires_at) VALUES (?, ?, ?, ?, ?)",
      input.socketId,
      input.sessionId,
      input.host.binding,
      input.host.name,
      input.absoluteExpiresAt,
    );
    return { ok: true };
  }

  /** The holding object reports closed sockets (idempotent). */
  async release(socketIds: string[]): Promise<void> {
    for (const id of socketIds) this.sql.exec("DELETE FROM sockets WHERE socket_id = ?", id);
  }

  /** Live socket rows, for tests and operators. */
  async sockets(): Promise<{ socketId: string; sessionId: string; host: SocketHostRef }[]> {
    this.prune(Date.now());
    return this.sql
      .exec<Row>("SELECT socket_id, session_id, binding, name FROM sockets")
      .toArray()
      .map((r) => ({ socketId: r.socket_id, sessionId: r.session_id, host: { binding: r.binding, name: r.name } }));
  }

  /**
   * Sessions ended (anywhere): remember them, and tell every object holding their sockets. The
   * rows go at once: a socket of an ended session never counts against a cap again.
   */
  /** `endedAt`: when they ended (passed on to the holders for the revocation-to-close figure). */
  async sessionsEnded(sessionIds: string[], endedAt?: number): Promise<EndedOutcome> {
    const now = Date.now();
    this.prune(now);
    const byHost = new Map<string, { host: SocketHostRef; sessions: Set<string> }>();
    for (const id of sessionIds) {
      this.sql.exec("INSERT OR REPLACE INTO ended (session_id, at) VALUES (?, ?)", id, now);
      for (const r of this.sql.exec<Row>("SELECT socket_id, session_id, binding, name FROM sockets WHERE session_id = ?", id)) {
        const key = `${r.binding}\0${r.name}`;
        const entry = byHost.get(key) ?? { host: { binding: r.binding, name: r.name }, sessions: new Set<string>() };
        entry.sessions.add(r.session_id);
        byHost.set(key, entry);
      }
      this.sql.exec("DELETE FROM sockets WHERE session_id = ?", id);
    }
    const results = await Promise.allSettled(
      [...byHost.values()].map(({ host, sessions }) => withRetry(async () => Number(await this.host(host).edgeSessionsEnded([...sessions], endedAt)))),
    );
    let closed = 0;
    let failed = 0;
    results.forEach((r, i) => {
      if (r.status === "fulfilled") closed += r.value;
      else {
        failed++;
        const host = [...byHost.values()][i]!.host;
        console.error(JSON.stringify({ level: "error", msg: "revocation push to a socket host failed", binding: host.binding, error: String(r.reason) }));
      }
    });
    return { hosts: byHost.size, closed, failed };
  }

  private host(ref: SocketHostRef): DurableObjectStub<SocketHost & Rpc.DurableObjectBranded> {
    const ns = this.env[ref.binding] as DurableObjectNamespace<SocketHost & Rpc.DurableObjectBranded> | undefined;
    if (!ns || typeof ns.idFromName !== "function") throw new Error(`no Durable Object binding named ${ref.binding}`);
    return ns.get(ns.idFromName(ref.name));
  }

  private async reconcile(): Promise<void> {
    const rows = this.sql.exec<Row>("SELECT socket_id, session_id, binding, name FROM sockets").toArray();
    const byHost = new Map<string, { host: SocketHostRef; ids: string[] }>();
    for (const r of rows) {
      const key = `${r.binding}\0${r.name}`;
      const entry = byHost.get(key) ?? { host: { binding: r.binding, name: r.name }, ids: [] };
      entry.ids.push(r.socket_id);
      byHost.set(key, entry);
    }
    await Promise.all(
      [...byHost.values()].map(async ({ host, ids }) => {
        let live: string[];
        try {
          live = await this.host(host).edgeSocketsLive(ids);
        } catch {
          return; // Unknown: keep the rows (a cap errs on the side of refusing).
        }
        const keep = new Set(live);
        for (const id of ids) if (!keep.has(id)) this.sql.exec("DELETE FROM sockets WHERE socket_id = ?", id);
      }),
    );
  }
}

/** One retry after a short pause: a push lost to one transient error is not lost. */
async function withRetry<T>(op: () => Promise<T>): Promise<T> {
  try {
    return await op();
  } catch {
    await new Promise((r) => setTimeout(r, 50));
    return op();
  }
}
