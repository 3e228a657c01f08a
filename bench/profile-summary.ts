/**
 * The V8 CPU profile tools' shared parts (bench/profile.ts, bench/profile-cold.ts): a free
 * inspector port, the DevTools protocol client of a worker's isolate, and where a profile's busy
 * time went, per function.
 */
import { createServer } from "node:net";
import path from "node:path";
import WebSocket from "ws";

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer().listen(0, "127.0.0.1", () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
    s.on("error", reject);
  });
}

export interface Inspector {
  send<T>(method: string, params?: object): Promise<T>;
  close(): void;
}

/** The DevTools protocol of the isolate whose inspector target's title names `worker`. */
export async function inspect(inspectorPort: number, worker: string): Promise<Inspector> {
  const targets = (await (await fetch(`http://127.0.0.1:${inspectorPort}/json/list`)).json()) as { title?: string; webSocketDebuggerUrl: string }[];
  const target = targets.find((t) => t.title?.includes(worker));
  if (!target) throw new Error(`no inspector target for the ${worker} worker among ${targets.map((t) => t.title).join(", ")}`);
  const ws = new WebSocket(target.webSocketDebuggerUrl);
  await new Promise((resolve, reject) => ws.once("open", resolve).once("error", reject));
  let nextId = 0;
  const pending = new Map<number, (result: unknown) => void>();
  ws.on("message", (m) => {
    const d = JSON.parse(m.toString()) as { id?: number; result?: unknown };
    if (d.id !== undefined) pending.get(d.id)?.(d.result);
  });
  return {
    send: <T>(method: string, params: object = {}) =>
      new Promise<T>((resolve) => {
        const id = ++nextId;
        pending.set(id, resolve as (r: unknown) => void);
        ws.send(JSON.stringify({ id, method, params }));
      }),
    close: () => ws.close(),
  };
}

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

