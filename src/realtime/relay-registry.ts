/**
 * Live sockets of this isolate, by session id, so a logout or revocation handled here closes
 * them at once. Sockets held by other isolates learn of it at their next re-check.
 *
 * Workers forbid I/O on an object created by another request, so the request that ends a
 * session cannot call `socket.close()` itself: it only flags the session here, and each
 * socket's own watcher (running in the socket's request context) sees the flag and closes.
 */
import { SOCKET_CLOSE } from "../protocol.js";

export const SESSION_ENDED_CODE = SOCKET_CLOSE.session_ended;
export const SESSION_ENDED_REASON = "session_ended";

/** How often a watcher looks at the flags: the "at once" of a same-isolate revocation. */
export const FLAG_POLL_MS = 100;

export class SocketRegistry {
  private readonly live = new Map<string, number>();
  private readonly ended = new Set<string>();
  private readonly perUser = new Map<string, number>();

  /** Registers one live socket of `sessionId` (of `userId`); returns its unregister function. */
  add(sessionId: string, userId = ""): () => void {
    this.live.set(sessionId, (this.live.get(sessionId) ?? 0) + 1);
    this.perUser.set(userId, (this.perUser.get(userId) ?? 0) + 1);
    let done = false;
    return () => {
      if (done) return;
      done = true;
      const u = (this.perUser.get(userId) ?? 1) - 1;
      if (u > 0) this.perUser.set(userId, u);
      else this.perUser.delete(userId);
      const n = (this.live.get(sessionId) ?? 1) - 1;
      if (n > 0) this.live.set(sessionId, n);
      else {
        this.live.delete(sessionId);
        this.ended.delete(sessionId);
      }
    };
  }

  /** Live sockets of one user in this isolate (the per-user cap, WS_MAX_SOCKETS_PER_USER). */
  countUser(userId: string): number {
    return this.perUser.get(userId) ?? 0;
  }

  count(sessionId?: string): number {
    if (sessionId) return this.live.get(sessionId) ?? 0;
    let n = 0;
    for (const c of this.live.values()) n += c;
    return n;
  }

  /** Flags these sessions as ended; only sessions with live sockets are remembered (bounded). */
  closeSessions(sessionIds: Iterable<string>): void {
    for (const id of sessionIds) if (this.live.has(id)) this.ended.add(id);
  }

  isEnded(sessionId: string): boolean {
    return this.ended.has(sessionId);
  }
}
