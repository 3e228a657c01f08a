/**
 * The TypeScript blocks of a Markdown file, for the docs test (code-blocks.node.test.ts). Pure:
 * text in, blocks out. Tolerant of the ways Markdown is written: ``` or ~~~ fences of three or
 * more, indented fences (list items), an info string after the language, a file without a final
 * newline, an unclosed fence (read to the end, as CommonMark does).
 *
 * Markers, in an HTML comment on the last non-blank line before the fence:
 * - `<!-- not-compiled -->` (optionally `<!-- not-compiled: why -->`): a deliberate fragment;
 *   reported as skipped, never compiled.
 * - `<!-- compile: dom -->` / `<!-- compile: worker -->` / `<!-- compile: node -->`: where the
 *   block runs, when its imports do not say (see `environmentOf`).
 */

export type Environment = "worker" | "dom" | "node";

export interface CodeBlock {
  /** The Markdown file, as given. */
  file: string;
  /** 1-based line of the opening fence. */
  line: number;
  lang: "ts" | "tsx";
  code: string;
  /** Why it is not compiled (the marker's text, or "not-compiled"), or null. */
  skipped: string | null;
  environment: Environment;
}

const LANGS: Record<string, "ts" | "tsx"> = { ts: "ts", typescript: "ts", mts: "ts", tsx: "tsx" };
const OPEN = /^( *)(`{3,}|~{3,})\s*([^\s`]*)[^`]*$/;
const MARKER = /^\s*<!--\s*(not-compiled|compile)\s*(?::\s*(.*?))?\s*-->\s*$/i;

/** Modules only a front end imports; a block that imports them and no Workers module is DOM code. */
const FRONT_END = [/^edge-session\/(client|react|types)$/, /^react-dom(\/|$)/, /^hono\/client$/];
const WORKER_ONLY = [/^cloudflare:/, /^edge-session\/(hono|realtime|rpc|worker)$/, /^hono$/];
/** Modules of a Node program (a server or CLI client). */
const NODE = [/^ws$/, /^node:/];

export function extractBlocks(markdown: string, file: string): CodeBlock[] {
  const lines = markdown.replace(/\r\n?/g, "\n").split("\n");
  const blocks: CodeBlock[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = OPEN.exec(lines[i]!);
    if (!open) continue;
    const [, indent, fence, info] = open as unknown as [string, string, string, string];
    let end = i + 1;
    const closing = new RegExp(`^ {0,${indent.length + 3}}${fence[0] === "`" ? "`" : "~"}{${fence.length},}\\s*$`);
    while (end < lines.length && !closing.test(lines[end]!)) end++;
    const lang = LANGS[info.toLowerCase()];
    if (lang) {
      const code = lines
        .slice(i + 1, end)
        .map((l) => stripIndent(l, indent.length))
        .join("\n");
      const marker = markerBefore(lines, i);
      const skipped = marker?.kind === "not-compiled" ? marker.text || "not-compiled" : null;
      const hinted = marker?.kind === "compile" && ["dom", "worker", "node"].includes(marker.text) ? (marker.text as Environment) : null;
      blocks.push({ file, line: i + 1, lang, code: `${code}\n`, skipped, environment: hinted ?? environmentOf(code) });
    }
    i = end;
  }
  return blocks;
}

function stripIndent(line: string, n: number): string {
  let k = 0;
  while (k < n && line[k] === " ") k++;
  return line.slice(k);
}

function markerBefore(lines: string[], fenceIndex: number): { kind: string; text: string } | null {
  for (let j = fenceIndex - 1; j >= 0; j--) {
    if (lines[j]!.trim() === "") continue;
    const m = MARKER.exec(lines[j]!);
    return m ? { kind: m[1]!.toLowerCase(), text: (m[2] ?? "").trim() } : null;
  }
  return null;
}

/**
 * From the block's imports: anything only a worker imports → `worker`; else a Node module →
 * `node`; else a front-end module → `dom`; else `worker` (the package's home).
 */
export function environmentOf(code: string): Environment {
  const imports = [...code.matchAll(/\b(?:import|export)\b[^"'`;]*?\bfrom\s*["']([^"']+)["']|\bimport\s*["']([^"']+)["']/g)].map((m) => m[1] ?? m[2]!);
  const has = (list: RegExp[]) => imports.some((s) => list.some((r) => r.test(s)));
  if (has(WORKER_ONLY)) return "worker";
  if (has(NODE)) return "node";
  return has(FRONT_END) ? "dom" : "worker";
}

/** A file name for the block inside the fresh project: `README.md` line 377 → `README-L377.ts`. */
export function blockFileName(block: CodeBlock): string {
  const base = block.file.replace(/\.md$/i, "").replace(/[^A-Za-z0-9]+/g, "-").replace(/^-|-$/g, "");
  return `${base}-L${block.line}.${block.lang}`;
}
