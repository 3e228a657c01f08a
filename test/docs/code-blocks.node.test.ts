/**
 * Every TypeScript block a user would paste from README.md and docs/*.md compiles: each block
 * becomes a module of its own in the consumer test's fresh project (the packed tarball with the
 * newest hono, test/package/fresh-project.ts) and is type-checked by TypeScript 5 with
 * `skipLibCheck: false`, with Workers types, or with DOM types only when the block is front-end
 * code (code-blocks.ts says how that is decided). A block marked `<!-- not-compiled -->` is a
 * deliberate fragment: it shows up as a skipped test, named with the marker's reason.
 */
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { CONSUMER_DOM_FILES, CONSUMER_WORKER_FILES, DOM_OPTIONS, freshProject, HONO_NEWEST, ROOT, STRICT, WORKER_OPTIONS, writeTsconfig, type FreshProject } from "../package/fresh-project.ts";
import { blockFileName, environmentOf, extractBlocks, type CodeBlock, type Environment } from "./code-blocks.ts";

const DOCS = ["README.md", ...readdirSync(join(ROOT, "docs")).filter((f) => f.endsWith(".md")).sort().map((f) => `docs/${f}`)];
const blocks = DOCS.flatMap((f) => extractBlocks(readFileSync(join(ROOT, f), "utf8"), f));
/**
 * The README shows examples/ files by excerpt (test/docs/readme-examples.node.test.ts): an excerpt
 * is compiled as part of its whole file, which the consumer test type-checks from the tarball,
 * not on its own (a part of a function is not a module).
 */
const EXAMPLES = (readdirSync(join(ROOT, "examples"), { recursive: true }) as string[])
  .filter((f) => f.endsWith(".ts"))
  .map((f) => ({ file: `examples/${f}`, text: readFileSync(join(ROOT, "examples", f), "utf8") }));
const homeOf = (b: CodeBlock) => (b.skipped === null ? EXAMPLES.find((e) => e.text !== b.code && e.text.includes(b.code)) : undefined);
const excerpts = blocks.filter((b) => homeOf(b) !== undefined);
const compiled = blocks.filter((b) => b.skipped === null && homeOf(b) === undefined);
const skipped = blocks.filter((b) => b.skipped !== null);
const label = (b: CodeBlock) => `${b.file}:${b.line} (${b.environment})`;
const DIR = "docs-blocks";

describe("extractBlocks()", () => {
  it("finds ts/typescript/tsx blocks in ``` and ~~~ fences, indented ones too, with their line; ignores other languages", () => {
    const md = ["# t", "```ts", "const a = 1;", "```", "", "- item", "  ~~~typescript title=x", "  const b = 2;", "  ~~~", "```sh", "npm i", "```", "````tsx", "```", "x", "````"].join("\n");
    const found = extractBlocks(md, "t.md");
    expect(found.map((b) => [b.line, b.lang, b.code])).toEqual([
      [2, "ts", "const a = 1;\n"],
      [7, "ts", "const b = 2;\n"],
      [13, "tsx", "```\nx\n"],
    ]);
  });

  it("honours <!-- not-compiled --> and <!-- compile: dom --> on the last non-blank line before the fence only", () => {
    const md = ["<!-- not-compiled: a fragment -->", "", "```ts", "x", "```", "<!-- not-compiled -->", "text", "```ts", "y", "```", "<!-- compile: dom -->", "```ts", "z", "```"].join("\n");
    expect(extractBlocks(md, "m.md").map((b) => [b.skipped, b.environment])).toEqual([
      ["a fragment", "worker"],
      [null, "worker"],
      [null, "dom"],
    ]);
  });

  it("reads an unclosed fence to the end; a file without blocks has none", () => {
    expect(extractBlocks("```ts\nlet a = 1;", "u.md").map((b) => b.code)).toEqual(["let a = 1;\n"]);
    expect(extractBlocks("no code here\n", "n.md")).toEqual([]);
  });

  it("tells a worker's block from a front end's and a Node program's by its imports", () => {
    expect(environmentOf('import { createSessionClient } from "edge-session/client";')).toBe("dom");
    expect(environmentOf('import type { AppType } from "edge-session/types";\nimport { hc } from "hono/client";')).toBe("dom");
    expect(environmentOf('import { Hono } from "hono";\nimport { createSessionClient } from "edge-session/client";')).toBe("worker");
    expect(environmentOf('import { createSessionLayer } from "edge-session";')).toBe("worker");
    expect(environmentOf('import WebSocket from "ws";\nimport { createSessionClient } from "edge-session/client";')).toBe("node");
  });
});

describe("README.md and docs/*.md: every TypeScript block compiles against the installed package", () => {
  let project: FreshProject;
  const errors = new Map<string, string[]>();
  const outside: string[] = [];

  beforeAll(() => {
    project = freshProject(HONO_NEWEST);
    rmSync(join(project.dir, DIR), { recursive: true, force: true });
    mkdirSync(join(project.dir, DIR));
    for (const b of compiled) writeFileSync(join(project.dir, DIR, blockFileName(b)), b.code);
    // Every block is a module of its own (`moduleDetection: force`): two blocks may both declare `app`.
    const extra = { moduleDetection: "force", jsx: "react-jsx", noUnusedLocals: false };
    const options: Record<Environment, object> = {
      worker: { ...WORKER_OPTIONS, ...extra },
      dom: { ...DOM_OPTIONS, ...extra },
      node: { ...STRICT, ...extra, lib: ["ES2022"], types: ["node"] },
    };
    for (const env of ["worker", "dom", "node"] as const) {
      let files = compiled.filter((b) => b.environment === env).map((b) => `${DIR}/${blockFileName(b)}`);
      // tsc reports no semantic error anywhere while any file has a syntax error: the blocks with
      // errors leave the program and the rest is checked again, until a run finds none in a block.
      for (let round = 0; files.length && round < 10; round++) {
        const r = project.tsc(5, writeTsconfig(project, `tsconfig.docs-${env}.json`, options[env], files));
        const found = new Set<string>();
        const beyond: string[] = [];
        for (const line of r.output.split("\n").filter((l) => /error TS\d+/.test(l))) {
          const name = new RegExp(`^${DIR}/([^(]+)\\(`).exec(line)?.[1];
          if (name) found.add(name), errors.set(name, [...(errors.get(name) ?? []), line.slice(DIR.length + 1)]);
          else beyond.push(`[${env}] ${line}`);
        }
        if (r.status !== 0 && !r.output.includes("error TS")) beyond.push(`[${env}] tsc exited ${r.status}: ${r.output}`);
        if (!found.size) {
          outside.push(...beyond);
          break;
        }
        files = files.filter((f) => !found.has(f.slice(DIR.length + 1)));
      }
    }
  }, 600_000);

  it("finds TypeScript blocks in the README", () => {
    expect(blocks.filter((b) => b.file === "README.md").length).toBeGreaterThan(0);
  });

  it.each(compiled.map((b) => [label(b), b] as const))("%s compiles", (_name, block) => {
    expect(errors.get(blockFileName(block)) ?? [], `${block.file}:${block.line}\n${block.code}`).toEqual([]);
  });

  it("no errors outside the blocks (the package's own declarations, as the blocks reach them)", () => {
    expect(outside).toEqual([]);
  });

  it.each(excerpts.map((b) => [label(b), b] as const))("%s is an excerpt of a file under examples/ that is compiled whole (npm run typecheck, or from the tarball by the consumer test)", (_name, block) => {
    const home = homeOf(block)!.file;
    // The consumer test compiles examples/<f>.ts as src/<f>.ts of the fresh project; npm run
    // typecheck compiles what test/tsconfig.json (Workers) and dev/tsconfig.json (Node) include.
    const consumer = [...CONSUMER_WORKER_FILES, ...CONSUMER_DOM_FILES].includes(home.replace(/^examples\//, "src/"));
    const include = ["test/tsconfig.json", "dev/tsconfig.json"].flatMap((f) => (JSON.parse(readFileSync(join(ROOT, f), "utf8").replace(/^\s*\/\/.*$/gm, "")) as { include: string[] }).include);
    const typecheck = include.some((g) => {
      const pattern = g.replace(/^\.\.\//, "");
      return pattern === home || (pattern.endsWith("/*.ts") && home.startsWith(pattern.slice(0, -4)) && !home.slice(pattern.length - 4).includes("/"));
    });
    expect(consumer || typecheck, `${home} is compiled by neither the consumer test nor npm run typecheck`).toBe(true);
  });

  for (const b of skipped) it.skip(`${label(b)} is not compiled: ${b.skipped}`, () => {});
});
