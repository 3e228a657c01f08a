/**
 * Keeps a live socket honest: it is closed with 4401 `session_ended` when its session ends —
 * at once if this isolate handled the logout/revocation (the registry), otherwise at the next
 * re-check (`WS_RECHECK_INTERVAL`) or when the session's own expiry comes due. A store error
 * during a re-check closes the socket too (4503): a store error is never a grant.
 */
import type { SessionManager } from "../session/manager.js";
import type { Session } from "../session/record.js";
import { SOCKET_CLOSE } from "../protocol.js";
import { StoreError } from "../store/redis.js";
import { FLAG_POLL_MS, SESSION_ENDED_CODE, SESSION_ENDED_REASON, type SocketRegistry } from "./relay-registry.js";

export const STORE_UNAVAILABLE_CODE = SOCKET_CLOSE.session_store_unavailable;

export interface WatchOptions {
  sessions: SessionManager;
  registry: SocketRegistry;
  recheckIntervalMs: number;
  now?: () => number;
  /** Called after the watcher closed the socket (e.g. to close a relayed origin socket too). */
  onEnded?: (code: number, reason: string) => void;
}

/** Starts watching; returns a function that stops (also called when the socket closes). */
export function watchSession(socket: WebSocket, session: Session, o: WatchOptions): () => void {
  const now = o.now ?? Date.now;
  let expiryTimer: ReturnType<typeof setTimeout> | undefined;
  let active = false;
  let stopped = false;
  const unregister = o.registry.add(session.id, session.userId);

  const end = (code: number, reason: string) => {
    stop();
    try {
      socket.close(code, reason);
    } catch {
      // Already closed.
    }
    o.onEnded?.(code, reason);
  };

  const stop = () => {
    if (stopped) return;
    stopped = true;
    clearInterval(interval);
    clearInterval(flagPoll);
    if (expiryTimer !== undefined) clearTimeout(expiryTimer);
    unregister();
  };

  const scheduleExpiry = (s: Session) => {
    if (expiryTimer !== undefined) clearTimeout(expiryTimer);
    const due = Math.min(s.idleExpiresAt, s.expiresAt) - now();
    // setTimeout takes a 32-bit delay; the interval re-check covers anything longer.
    if (due < 2 ** 31) expiryTimer = setTimeout(recheck, Math.max(0, due) + 5);
  };

  async function recheck() {
    if (stopped) return;
    try {
      const current = await o.sessions.get(session.id);
      if (stopped) return;
      if (!current) return end(SESSION_ENDED_CODE, SESSION_ENDED_REASON);
      // Traffic on the socket is activity: slide the idle window like an HTTP request would.
      if (active) {
        active = false;
        await o.sessions.touch(current);
      }
      scheduleExpiry(current);
    } catch (error) {
      if (!(error instanceof StoreError)) console.error(JSON.stringify({ level: "error", msg: "ws recheck failed", error: String(error) }));
      end(STORE_UNAVAILABLE_CODE, "session_store_unavailable");
    }
  }

  const interval = setInterval(recheck, o.recheckIntervalMs);
  // Same-isolate revocations: a local flag, no I/O, seen within FLAG_POLL_MS.
  const flagPoll = setInterval(() => {
    if (o.registry.isEnded(session.id)) end(SESSION_ENDED_CODE, SESSION_ENDED_REASON);
  }, FLAG_POLL_MS);
  scheduleExpiry(session);
  socket.addEventListener("message", () => {
    active = true;
  });
  socket.addEventListener("close", stop);
  socket.addEventListener("error", stop);
  return stop;
}
