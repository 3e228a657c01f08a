/**
 * One vocabulary (src/protocol.ts): every error code the worker can send is declared there, and
 * the browser client documents exactly that list. The worker's sources are read as text: a
 * `Response.json({ error: "…" })` written anywhere in src/ is found even where the types would
 * not catch it.
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ERROR_CODES, FORBIDDEN_REASONS, SOCKET_CLOSE, UNAUTHORIZED_REASONS } from "../../src/protocol.js";

const root = join(import.meta.dirname, "../../src");

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    return statSync(p).isDirectory() ? files(p) : p.endsWith(".ts") ? [p] : [];
  });
}

const serverSources = files(root).filter((p) => !p.includes("/client/"));

/** Every error code the server's code can put in a body: `jsonError("x")` and `{ error: "x" }` literals. */
function sentCodes(): Map<string, string[]> {
  const found = new Map<string, string[]>();
  for (const file of serverSources) {
    const text = readFileSync(file, "utf8");
    for (const m of text.matchAll(/jsonError\(\s*"(\w+)"|\berror:\s*"(\w+)"/g)) {
      const code = (m[1] ?? m[2])!;
      found.set(code, [...(found.get(code) ?? []), file.slice(root.length + 1)]);
    }
  }
  return found;
}

/** The codes listed in the client's `SessionClientError.code` documentation. */
function documentedCodes(): string[] {
  const text = readFileSync(join(root, "client/errors.ts"), "utf8");
  const doc = /\/\*\*((?:(?!\*\/)[\s\S])*?)\*\/\s*readonly code: string;/.exec(text)?.[1] ?? "";
  // The list follows "only these"; what comes before describes the field.
  return [...doc.slice(doc.indexOf("only these")).matchAll(/`([a-z_]+)`/g)].map((m) => m[1]!);
}

describe("one vocabulary", () => {
  it("every error code the server sends is declared in protocol.ts, and each declared code is sent somewhere", () => {
    const sent = sentCodes();
    expect(sent.size).toBeGreaterThan(10);
    const undeclared = [...sent.keys()].filter((c) => !(c in ERROR_CODES));
    expect(undeclared, `sent but not in ERROR_CODES: ${undeclared.map((c) => `${c} (${sent.get(c)!.join(", ")})`).join("; ")}`).toEqual([]);
    // jsonError(code) and refusalResponse() derive their bodies from the vocabulary itself.
    const unsent = Object.keys(ERROR_CODES).filter((c) => !sent.has(c));
    expect(unsent, "declared but never sent").toEqual([]);
  });

  it("the client documents exactly the codes the server can send", () => {
    expect(documentedCodes().sort()).toEqual(Object.keys(ERROR_CODES).sort());
  });

  it("every code or reason the client's docs name is one the server uses", () => {
    const text = readFileSync(join(root, "client/index.ts"), "utf8") + readFileSync(join(root, "client/errors.ts"), "utf8");
    const known = new Set<string>([...Object.keys(ERROR_CODES), ...UNAUTHORIZED_REASONS, ...FORBIDDEN_REASONS, ...Object.keys(SOCKET_CLOSE)]);
    const named = [...text.matchAll(/`([a-z]+_[a-z_]+)`/g)].map((m) => m[1]!);
    const strange = named.filter((n) => !known.has(n) && !n.startsWith("http_"));
    expect(strange).toEqual([]);
  });

  it("the browser client declares no shared shape of its own (it imports protocol.ts)", () => {
    const text = readFileSync(join(root, "client/index.ts"), "utf8");
    expect(text).not.toMatch(/export interface SessionUser\b/);
    expect(text).not.toMatch(/TICKET_PROTOCOL\s*=/);
    expect(text).toMatch(/from "\.\.\/protocol\.js"/);
  });
});
