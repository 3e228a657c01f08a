/**
 * Revocation figures per kind of client, for the realtime benchmark. Clients that only listen
 * (dashboards, feeds) never send a frame; the others send one "ping" after the hello. Two
 * moments per socket, from the revoking response: the close frame (from then on nothing more
 * is delivered) and the end of the connection (the `ws` close event: when a listening
 * application learns the socket is gone). Locally they differ for silent clients only
 * (docs/REALTIME.md, "Silent clients"). Pure code.
 */

export type ClientKind = "silent" | "pinging";
export const CLIENT_KINDS: readonly ClientKind[] = ["silent", "pinging"];

/** Every other socket pings: both kinds in every session and every room. */
export const kindOf = (socketIndex: number): ClientKind => (socketIndex % 2 ? "pinging" : "silent");

export interface CloseSample {
  kind: ClientKind;
  /** ms from the revoking response to the 4401 close frame; null: not within the wait. */
  frameMs: number | null;
  /** ms from the revoking response to the end of the connection; null: not within the wait. */
  connectionEndMs: number | null;
}

export interface CloseFigures {
  sockets: number;
  closeFrameP50Ms: number;
  closeFrameP99Ms: number;
  closeFrameMissed: number;
  connectionEndP50Ms: number;
  connectionEndP99Ms: number;
  connectionEndMaxMs: number;
  /** Connections still open at the end of the wait (counted, never dropped silently). */
  connectionEndMissed: number;
}

/** The nearest-rank percentile of an ascending array (NaN when empty). */
export const pct = (sorted: number[], p: number) => (sorted.length ? sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]! : NaN);
const r3 = (n: number) => Number(n.toFixed(3));

export function closeFigures(samples: CloseSample[], kind: ClientKind): CloseFigures {
  const mine = samples.filter((s) => s.kind === kind);
  const frames = mine.flatMap((s) => (s.frameMs === null ? [] : [s.frameMs])).sort((a, b) => a - b);
  const ends = mine.flatMap((s) => (s.connectionEndMs === null ? [] : [s.connectionEndMs])).sort((a, b) => a - b);
  return {
    sockets: mine.length,
    closeFrameP50Ms: r3(pct(frames, 50)),
    closeFrameP99Ms: r3(pct(frames, 99)),
    closeFrameMissed: mine.length - frames.length,
    connectionEndP50Ms: r3(pct(ends, 50)),
    connectionEndP99Ms: r3(pct(ends, 99)),
    connectionEndMaxMs: r3(ends.at(-1) ?? NaN),
    connectionEndMissed: mine.length - ends.length,
  };
}

export function closeFiguresByKind(samples: CloseSample[]): Record<ClientKind, CloseFigures> {
  return { silent: closeFigures(samples, "silent"), pinging: closeFigures(samples, "pinging") };
}
