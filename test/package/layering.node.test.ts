/**
 * The shape the README's architecture promises, checked from the code's own imports: the
 * package's entry points (all but `edge-session/worker`) never import src/worker/ — the deployed
 * worker is built from the library, never the other way round — and src/ has no import cycle.
 * Type-only imports are allowed across (edge-session/types names the worker's `AppType`, a type
 * that exists only there); the check follows value imports, transitively.
 */
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { PACKAGE_ENTRIES } from "../../dev/package-entries.ts";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const SRC = join(ROOT, "src");
const WORKER = join(SRC, "worker") + "/";

const IMPORT = /^\s*(import|export)\s+(type\s+)?([^;]*?)\s+from\s+["'](\.[^"']+)["']/gms;

/** The files a file imports for their values (not `import type`, not `{ type A, type B }`). */
function valueImports(file: string): string[] {
  const out: string[] = [];
  for (const m of readFileSync(file, "utf8").matchAll(IMPORT)) {
    if (m[2]) continue;
    const names = m[3]!.trim();
    if (/^\{[^}]*\}$/s.test(names) && names.slice(1, -1).split(",").map((s) => s.trim()).filter(Boolean).every((s) => s.startsWith("type "))) continue;
    const base = resolve(dirname(file), m[4]!).replace(/\.js$/, "");
    const found = [`${base}.ts`, `${base}.tsx`, join(base, "index.ts")].find(existsSync);
    if (found) out.push(found);
  }
  return out;
}

/** Every file reachable from `entry` by value imports, with the chain that reached it. */
function reach(entry: string): Map<string, string[]> {
  const seen = new Map<string, string[]>([[entry, [entry]]]);
  const queue = [entry];
  while (queue.length) {
    const f = queue.shift()!;
    for (const g of valueImports(f)) {
      if (seen.has(g)) continue;
      seen.set(g, [...seen.get(f)!, g]);
      queue.push(g);
    }
  }
  return seen;
}

const rel = (f: string) => relative(ROOT, f);

describe("layering: the library never imports the deployed worker", () => {
  for (const [name, file] of Object.entries(PACKAGE_ENTRIES)) {
    if (name === "edge-session/worker") continue;
    it(`${name} (${file}) reaches no file under src/worker/ by value imports`, () => {
      const into = [...reach(join(ROOT, file))].filter(([f]) => f.startsWith(WORKER));
      expect(into.map(([, chain]) => chain.map(rel).join(" → "))).toEqual([]);
    });
  }

  it("the check sees a value import into src/worker/ (it is not vacuous)", () => {
    const worker = reach(join(ROOT, PACKAGE_ENTRIES["edge-session/worker"]!));
    expect([...worker.keys()].some((f) => f.startsWith(WORKER) && !f.endsWith("index.ts"))).toBe(true);
  });
});

describe("layering: no import cycle in src/", () => {
  it("no strongly connected group of value imports", () => {
    const files: string[] = [];
    (function walk(d: string) {
      for (const n of readdirSync(d)) {
        const p = join(d, n);
        if (statSync(p).isDirectory()) walk(p);
        else if (/\.tsx?$/.test(n) && !n.endsWith(".d.ts")) files.push(p);
      }
    })(SRC);
    const edges = new Map(files.map((f) => [f, valueImports(f)]));
    // Tarjan's strongly connected components.
    let i = 0;
    const index = new Map<string, number>();
    const low = new Map<string, number>();
    const stack: string[] = [];
    const on = new Set<string>();
    const cycles: string[][] = [];
    const visit = (v: string) => {
      index.set(v, i);
      low.set(v, i++);
      stack.push(v);
      on.add(v);
      for (const w of edges.get(v) ?? []) {
        if (!index.has(w)) {
          visit(w);
          low.set(v, Math.min(low.get(v)!, low.get(w)!));
        } else if (on.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
      }
      if (low.get(v) === index.get(v)) {
        const c: string[] = [];
        let w: string;
        do {
          w = stack.pop()!;
          on.delete(w);
          c.push(w);
        } while (w !== v);
        if (c.length > 1) cycles.push(c.map(rel));
      }
    };
    for (const f of files) if (!index.has(f)) visit(f);
    expect(cycles).toEqual([]);
    expect(files.length).toBeGreaterThan(50);
  });
});
