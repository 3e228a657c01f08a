/**
 * The README's library section shows code that is tested: every TypeScript block in it is a
 * verbatim excerpt of a file under examples/ (type-checked by `npm run typecheck` and, from the
 * packed tarball, by test/consumer; run by the consumer, OIDC, React and ws tests), and the
 * complete worker is the whole of examples/library-worker.ts.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const readme = readFileSync(join(ROOT, "README.md"), "utf8");
const library = readme.slice(readme.indexOf("## Using it as a library"));
const blocks = [...library.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]!);
const examples = (readdirSync(join(ROOT, "examples"), { recursive: true }) as string[])
  .filter((f) => f.endsWith(".ts"))
  .map((f) => ({ file: f, text: readFileSync(join(ROOT, "examples", f), "utf8") }));

describe("README: using it as a library", () => {
  it("has its TypeScript blocks, each an excerpt of a file under examples/", () => {
    expect(blocks.length).toBeGreaterThanOrEqual(5);
    for (const block of blocks) {
      const home = examples.find((e) => e.text.includes(block));
      expect(home, `README block not found verbatim in examples/:\n${block.slice(0, 200)}`).toBeDefined();
    }
  });

  it("shows the complete worker: all of examples/library-worker.ts, from install to revocation", () => {
    const worker = examples.find((e) => e.file === "library-worker.ts")!.text;
    expect(blocks).toContain(worker);
    expect(library).toContain("npm install ../edge-session/edge-session-0.1.0.tgz hono");
    expect(worker).toContain("export default {");
    expect(worker).toContain("createSession(");
    expect(worker).toContain("endSession(");
    expect(worker).toContain("endUserSessions(");
    expect(worker).toContain("app.onError(errorHandler)");
  });

  it("names the hono range package.json declares", () => {
    const pkg = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { peerDependencies: { hono: string } };
    expect(library).toContain(`\`${pkg.peerDependencies.hono}\``);
  });
});
