/**
 * README's configuration table against the code: every variable the worker reads is there,
 * once, and the default it states for a `[vars]` entry is wrangler.toml's value (which mirrors
 * src/defaults.ts). Two rows for one variable, with two defaults, is how the docs drift.
 */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";

const read = (path: string) => readFileSync(new URL(`../../${path}`, import.meta.url), "utf8");
const README = read("README.md");

/** Rows of the "## Configuration" section's tables: first cell's backticked names → the row's cells. */
function configRows(): { names: string[]; cells: string[] }[] {
  const section = README.slice(README.indexOf("## Configuration"));
  const end = section.indexOf("\n## ", 5);
  return (end === -1 ? section : section.slice(0, end))
    .split("\n")
    .filter((l) => l.startsWith("| `"))
    .map((l) => {
      const cells = l.split(" | ").map((c) => c.replace(/^\| |\|$/g, "").trim());
      return { names: [...cells[0]!.matchAll(/`([A-Z][A-Z0-9_]+)`/g)].map((m) => m[1]!), cells };
    });
}

/** The `Env` keys src/worker/config.ts reads. */
function envKeys(): string[] {
  const src = read("src/worker/config.ts");
  const body = src.slice(src.indexOf("export interface Env {"), src.indexOf("\n}", src.indexOf("export interface Env {")));
  return [...body.matchAll(/^ {2}([A-Z][A-Z0-9_]+)\?:/gm)].map((m) => m[1]!).filter((k) => k !== "ASSETS");
}

/** wrangler.toml's `[vars]`. */
function wranglerVars(): Map<string, string> {
  const toml = read("wrangler.toml");
  const vars = toml.slice(toml.indexOf("[vars]"), toml.indexOf("\n[", toml.indexOf("[vars]") + 1));
  return new Map([...vars.matchAll(/^([A-Z][A-Z0-9_]+) = "(.*)"$/gm)].map((m) => [m[1]!, m[2]!]));
}

describe("README configuration table", () => {
  it("names every variable once", () => {
    const seen = configRows().flatMap((r) => r.names);
    const twice = seen.filter((n, i) => seen.indexOf(n) !== i);
    expect(twice).toEqual([]);
  });

  it("names every variable the worker reads", () => {
    const seen = new Set(configRows().flatMap((r) => r.names));
    expect(envKeys().filter((k) => !seen.has(k))).toEqual([]);
  });

  it("states wrangler.toml's value as the default of every non-empty [vars] entry", () => {
    const rows = configRows();
    const wrong: string[] = [];
    for (const [name, value] of wranglerVars()) {
      if (value === "") continue;
      const row = rows.find((r) => r.names.includes(name));
      if (!row || !row.cells[1]!.includes(`\`${value}\``)) wrong.push(`${name}: README says ${row?.cells[1] ?? "nothing"}, wrangler.toml "${value}"`);
    }
    expect(wrong).toEqual([]);
  });
});
