/**
 * The package as a newcomer gets it (fresh-project.ts): `npm pack`, installed from the tarball
 * into a fresh project outside this repository, once with the lowest hono the peer range claims
 * and once with the newest 4.x, and type-checked with `skipLibCheck: false` by TypeScript 5 and
 * by TypeScript 7 (the native compiler): a worker project with Workers types (the README's
 * examples and the newcomer's own worker and room) and a front end with DOM types only (the
 * client, `edge-session/types`, React). The journey-*.node.test.ts files run the same project.
 *
 * Installing needs the npm registry (or its cache).
 */
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { CONSUMER_DOM_FILES, CONSUMER_WORKER_FILES, DOM_OPTIONS, freshProject, HONO_LOWEST, HONO_VERSIONS, packed, pkg, TYPESCRIPT, WORKER_OPTIONS, writeTsconfig, type FreshProject, type TsMajor } from "./fresh-project.ts";
import { copySources } from "./newcomer-runtime.ts";

const WORKER_FILES = CONSUMER_WORKER_FILES;
const DOM_FILES = CONSUMER_DOM_FILES;
const TS_MAJORS = Object.keys(TYPESCRIPT).map(Number) as TsMajor[];

describe("npm pack", () => {
  it("ships the build, the license, the README and SECURITY.md, the docs and examples the README links, and nothing else; every export points at a shipped file", () => {
    const paths = packed().files.map((f) => f.path).sort();
    expect(paths).toEqual(expect.arrayContaining(["package.json", "README.md", "SECURITY.md", "LICENSE", "docs/REALTIME.md", "examples/library-worker.ts"]));
    expect(paths.filter((p) => !/^(build\/.+\.(js|d\.ts)|package\.json|LICENSE|README\.md|SECURITY\.md|docs\/[\w.-]+\.(md|png)|examples\/[\w./-]+\.(ts|mjs|d\.mts))$/.test(p))).toEqual([]);
    for (const [name, target] of Object.entries(pkg.exports)) {
      for (const file of typeof target === "string" ? [target] : Object.values(target as Record<string, string>)) {
        expect(paths, `${name} → ${file}`).toContain(file.replace(/^\.\//, ""));
      }
    }
  });
});

describe.each(HONO_VERSIONS)("a fresh project with hono %s", (hono) => {
  let project: FreshProject;
  beforeAll(() => {
    project = freshProject(hono);
    copySources(project);
    writeTsconfig(project, "tsconfig.worker.json", WORKER_OPTIONS, WORKER_FILES);
    writeTsconfig(project, "tsconfig.dom.json", DOM_OPTIONS, DOM_FILES);
  }, 600_000);

  it("installs the package with hono as a peer (one copy, the version asked for) and both TypeScript majors", () => {
    const shipped = JSON.parse(readFileSync(join(project.dir, "node_modules/edge-session/package.json"), "utf8")) as Record<string, Record<string, string> | undefined>;
    expect(shipped.private).toBeUndefined();
    expect(shipped.dependencies?.hono).toBeUndefined();
    expect(shipped.peerDependencies?.hono).toBe(pkg.peerDependencies.hono);
    const version = (dir: string) => (JSON.parse(readFileSync(join(project.dir, "node_modules", dir, "package.json"), "utf8")) as { version: string }).version;
    expect(version("hono")).toBe(hono);
    expect(existsSync(join(project.dir, "node_modules/edge-session/node_modules/hono"))).toBe(false);
    for (const ts of TS_MAJORS) expect(version(`typescript${ts}`)).toBe(TYPESCRIPT[ts]);
    // TypeScript 7's `tsc` runs the native compiler of its platform package.
    expect(readdirSync(join(project.dir, "node_modules/@typescript")).filter((d) => d.startsWith("typescript-"))).toHaveLength(1);
  });

  it.each(TS_MAJORS)("TypeScript %i: a worker project (Workers types) — the README's examples, the newcomer's worker and room", (ts) => {
    const r = project.tsc(ts, "tsconfig.worker.json");
    expect(r.output).toBe("");
    expect(r.status).toBe(0);
  });

  it.each(TS_MAJORS)("TypeScript %i: a front end with DOM types only — the client, edge-session/types (AppType, SessionUser), React", (ts) => {
    const r = project.tsc(ts, "tsconfig.dom.json");
    expect(r.output).toBe("");
    expect(r.status).toBe(0);
  });

  // The checks above would pass vacuously if a file were not checked at all: break one of each.
  it.runIf(hono === HONO_LOWEST).each(TS_MAJORS)("TypeScript %i refuses a mistyped request body (AppType) and a mistyped role (requireRole)", (ts) => {
    const browser = readFileSync(join(project.dir, "src/browser.ts"), "utf8");
    writeFileSync(join(project.dir, "src/browser-bad.ts"), browser.replace("// @ts-expect-error request bodies are typed: email is a string\n", ""));
    const worker = readFileSync(join(project.dir, "src/newcomer/worker.ts"), "utf8");
    expect(worker).toContain('requireRole("admin")');
    writeFileSync(join(project.dir, "src/newcomer/worker-bad.ts"), worker.replace('requireRole("admin")', "requireRole(42)"));
    writeTsconfig(project, "tsconfig.bad-dom.json", DOM_OPTIONS, ["src/browser-bad.ts"]);
    writeTsconfig(project, "tsconfig.bad-worker.json", WORKER_OPTIONS, ["src/newcomer/worker-bad.ts"]);
    const dom = project.tsc(ts, "tsconfig.bad-dom.json");
    expect(dom.status).not.toBe(0);
    expect(dom.output).toMatch(/browser-bad\.ts\(\d+,\d+\): error TS2322/);
    const bad = project.tsc(ts, "tsconfig.bad-worker.json");
    expect(bad.status).not.toBe(0);
    expect(bad.output).toMatch(/worker-bad\.ts\(\d+,\d+\): error TS2345/);
  });
});
