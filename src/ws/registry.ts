/**
 * Live sockets of this isolate, by session id, so a logout or revocation handled here closes
 * them at once. Sockets held by other isolates learn of it at their next re-check.
 */
export const SESSION_ENDED_CODE = 4401;
export const SESSION_ENDED_REASON = "session_ended";

export class SocketRegistry {
  private readonly bySession = new Map<string, Set<WebSocket>>();

  add(sessionId: string, socket: WebSocket): () => void {
    let set = this.bySession.get(sessionId);
    if (!set) this.bySession.set(sessionId, (set = new Set()));
    set.add(socket);
    return () => {
      set!.delete(socket);
      if (set!.size === 0 && this.bySession.get(sessionId) === set) this.bySession.delete(sessionId);
    };
  }

  count(sessionId?: string): number {
    if (sessionId) return this.bySession.get(sessionId)?.size ?? 0;
    let n = 0;
    for (const s of this.bySession.values()) n += s.size;
    return n;
  }

  /** Closes every socket of these sessions with 4401 `session_ended`. */
  closeSessions(sessionIds: Iterable<string>): void {
    for (const id of sessionIds) {
      const set = this.bySession.get(id);
      if (!set) continue;
      this.bySession.delete(id);
      for (const socket of set) closeEnded(socket);
    }
  }
}

export function closeEnded(socket: WebSocket): void {
  try {
    socket.close(SESSION_ENDED_CODE, SESSION_ENDED_REASON);
  } catch {
    // Already closed.
  }
}
