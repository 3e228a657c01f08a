// What the console charts, from GET /admin/metrics (src/metrics/read.ts): pure functions, so the
// series are built the same way whatever draws them.

/** Upstash pay-as-you-go: $0.20 per 100,000 commands (the price the console quotes). */
export const DOLLARS_PER_COMMAND = 0.2 / 100_000;

const COLORS = ["#1f6feb", "#d1242f", "#8250df", "#1a7f37", "#bc4c00", "#0a7ea4", "#6e7781"];

const sum = (xs) => xs.reduce((a, b) => a + (b ?? 0), 0);
const zeros = (n) => new Array(n).fill(0);

function add(a, b) {
  return a.map((v, i) => v + (b?.[i] ?? 0));
}

/** Commands in the range, their cost, and the monthly cost at this rate. */
export function commandsCost(m) {
  const commands = sum(m.latencies.store?.n ?? []);
  const rangeMs = m.t.length * m.periodMs;
  const dollars = commands * DOLLARS_PER_COMMAND;
  return { commands, dollars, monthly: dollars * ((30 * 86_400_000) / rangeMs) };
}

export function chartSpecs(m) {
  const n = m.t.length;
  const x = m.t.map((t) => t / 1000);
  const c = (name) => m.counters[name] ?? zeros(n);
  const failed = Object.keys(m.counters).filter((k) => k.startsWith("signin.failed.")).reduce((acc, k) => add(acc, m.counters[k]), zeros(n));
  const refusals = Object.keys(m.counters).filter((k) => k.startsWith("verify.refused."));
  const hits = c("verify.hit");
  const misses = c("verify.miss");
  const ratio = hits.map((h, i) => (h + misses[i] ? h / (h + misses[i]) : null));
  const lag = (name) => m.latencies[name] ?? { p50: new Array(n).fill(null), p99: new Array(n).fill(null) };
  const close = lag("revocation.close");
  const refusal = lag("revocation.refusal");
  return [
    { id: "chart-signins", x, series: [{ label: "signed in", color: COLORS[0], values: add(c("signin.ok"), c("signin.register")) }, { label: "failed", color: COLORS[1], values: failed }] },
    {
      id: "chart-refusals",
      x,
      series: refusals.length
        ? refusals.map((k, i) => ({ label: k.slice("verify.refused.".length), color: COLORS[i % COLORS.length], values: m.counters[k] }))
        : [{ label: "none", color: COLORS[6], values: zeros(n) }],
    },
    { id: "chart-hits", x, yRange: [0, 1], series: [{ label: "hit ratio", color: COLORS[3], values: ratio }] },
    { id: "chart-store", x, series: [{ label: "commands", color: COLORS[2], values: m.latencies.store?.n ?? zeros(n) }] },
    {
      id: "chart-lags",
      x,
      series: [
        { label: "close p50", color: COLORS[0], values: close.p50 },
        { label: "close p99", color: COLORS[4], values: close.p99 },
        { label: "refusal p50", color: COLORS[3], values: refusal.p50 },
        { label: "refusal p99", color: COLORS[1], values: refusal.p99 },
      ],
    },
  ];
}
