/** Where a V8 CPU profile's busy time went, per function (bench/profile.ts, bench/profile-cold.ts). */
import path from "node:path";

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number };
  children?: number[];
}
export interface Profile {
  nodes: ProfileNode[];
  samples: number[];
}

/** Self and inclusive share of the busy samples (idle left out) per function. */
export function summarise(profile: Profile, source: string[], top = 25): string {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const label = (n: ProfileNode) => {
    const f = n.callFrame;
    const line = f.url.endsWith(".js") ? (source[f.lineNumber] ?? "") : "";
    const snippet = line.slice(f.columnNumber, f.columnNumber + 60);
    return `${f.functionName || "(anonymous)"}${f.url ? ` ${path.basename(f.url)}:${f.lineNumber}:${f.columnNumber}` : ""}${snippet ? `  ${snippet}` : ""}`;
  };
  const self = new Map<string, number>();
  const inclusive = new Map<string, number>();
  let busy = 0;
  for (const id of profile.samples) {
    const node = byId.get(id)!;
    if (node.callFrame.functionName === "(idle)") continue;
    busy++;
    self.set(label(node), (self.get(label(node)) ?? 0) + 1);
    const seen = new Set<string>();
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
      const l = label(byId.get(at)!);
      if (seen.has(l)) continue;
      seen.add(l);
      inclusive.set(l, (inclusive.get(l) ?? 0) + 1);
    }
  }
  const rows = (m: Map<string, number>) =>
    [...m.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([l, n]) => `${((100 * n) / busy).toFixed(1).padStart(5)}%  ${l}`)
      .join("\n");
  return `${busy} busy samples\n\nself\n${rows(self)}\n\ninclusive\n${rows(inclusive)}`;
}

