/**
 * Durations in configuration are typed strings such as `"30 m"`, `"12 h"`, `"1 s"`, `"250 ms"`
 * (as @upstash/ratelimit writes them), or a bare number of seconds.
 */
export type Unit = "ms" | "s" | "m" | "h" | "d";
export type Duration = `${number} ${Unit}` | `${number}${Unit}`;

const UNIT_MS: Record<Unit, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };
const DURATION = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?\s*$/;

/** Milliseconds for `value`, or `null` when it is not a duration. A bare number means seconds. */
export function parseDuration(value: string | number): number | null {
  if (typeof value === "number") return Number.isFinite(value) && value >= 0 ? value * 1000 : null;
  const m = DURATION.exec(value);
  if (!m) return null;
  const ms = Number(m[1]) * UNIT_MS[(m[2] as Unit | undefined) ?? "s"];
  return Number.isFinite(ms) ? Math.round(ms) : null;
}

export const SECOND = 1000;
export const MINUTE = 60 * SECOND;
export const HOUR = 60 * MINUTE;
