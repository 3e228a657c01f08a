// The console's metrics card: fetches GET /admin/metrics for the chosen period and draws each
// chart with uPlot (loaded as a classic script before the modules run).
import { chartSpecs, commandsCost } from "./charts.js";

/** Wires the card; returns the loader the console calls after sign-in. */
export function metricsView(api, $) {
  const summary = $("metrics-summary");
  /** @type {Map<string, any>} */
  const charts = new Map();

  function rangeValue() {
    return document.querySelector('input[name="range"]:checked')?.value ?? "hour";
  }

  async function loadMetrics() {
    const m = await api(`/admin/metrics?range=${rangeValue()}`);
    if (!m || m.notFound || typeof uPlot === "undefined") return;
    const cost = commandsCost(m);
    summary.textContent = `${cost.commands.toLocaleString()} store commands in the ${m.range === "hour" ? "last hour" : "last day"}: about $${cost.dollars.toFixed(4)} at Upstash pay-as-you-go ($0.20 per 100,000), $${cost.monthly.toFixed(2)} a month at this rate.`;
    for (const spec of chartSpecs(m)) draw(spec);
  }

  function draw(spec) {
    const host = $(spec.id);
    const width = Math.max(260, host.clientWidth || 300);
    charts.get(spec.id)?.destroy();
    const chart = new uPlot(
      {
        width,
        height: 180,
        scales: { x: { time: true }, y: spec.yRange ? { range: spec.yRange } : {} },
        // Points shown: a period with one busy minute is one point, which a line alone would not draw.
        series: [{}, ...spec.series.map((s) => ({ label: s.label, stroke: s.color, width: 2, spanGaps: false, points: { show: true, size: 5, fill: s.color } }))],
        axes: [{}, { size: 50 }],
        legend: { live: false },
      },
      [spec.x, ...spec.series.map((s) => s.values)],
      host,
    );
    charts.set(spec.id, chart);
    const empty = spec.series.every((s) => s.values.every((v) => v === null || v === 0));
    host.parentElement.dataset.empty = String(empty);
  }

  for (const input of document.querySelectorAll('input[name="range"]')) input.addEventListener("change", () => void loadMetrics());
  $("metrics-refresh").addEventListener("click", () => void loadMetrics());
  let resizing = 0;
  window.addEventListener("resize", () => {
    clearTimeout(resizing);
    resizing = setTimeout(() => {
      for (const [id, chart] of charts) chart.setSize({ width: Math.max(260, $(id).clientWidth || 300), height: 180 });
    }, 150);
  });

  return loadMetrics;
}
