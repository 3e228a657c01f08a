/**
 * What the package adds to a consumer's worker: `npm pack`, the tarball unpacked as
 * node_modules/edge-session of a scratch project under .tmp (its dependencies and hono taken
 * from this repository's node_modules, the versions the tarball declares), then three workers
 * bundled with esbuild as a consumer's build would (minified ESM for workerd) and gzipped:
 *
 * - bare:      a Hono app with one route;
 * - minimal:   the same plus `createSessionLayer` + `sessionAuth` (the smallest real use);
 * - withRpc:   minimal plus `export { SessionVerifier } from "edge-session/rpc"`.
 *
 * `minimalOverBareGzipBytes` is the package's share of the minimal consumer.
 */
import { execFileSync } from "node:child_process";
import { mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import path from "node:path";
import { gzipSync } from "node:zlib";
import { build } from "esbuild";

export interface PackageSize {
  tarballBytes: number;
  bareGzipBytes: number;
  minimalGzipBytes: number;
  withRpcGzipBytes: number;
  /** minimal − bare: what the package adds to the smallest real consumer. */
  minimalOverBareGzipBytes: number;
  /** withRpc − bare. */
  withRpcOverBareGzipBytes: number;
  /** Gzipped bytes of the minimal consumer by input package, from esbuild's metafile (before gzip, scaled). */
  minimalByPackage: Record<string, number>;
}

const ENTRIES: Record<string, string> = {
  bare: `import { Hono } from "hono";
export default new Hono().get("/", (c) => c.text("hello"));
`,
  minimal: `import { Hono } from "hono";
import { createSessionLayer, type SessionLayer } from "edge-session";
import { sessionAuth, type SessionVariables } from "edge-session/hono";
type Env = { UPSTASH_REDIS_REST_URL: string; UPSTASH_REDIS_REST_TOKEN: string; SESSION_KEYS: string };
let layer: Promise<SessionLayer> | undefined;
const app = new Hono<{ Bindings: Env; Variables: SessionVariables }>();
app.use("*", async (c, next) => {
  layer ??= createSessionLayer({ url: c.env.UPSTASH_REDIS_REST_URL, token: c.env.UPSTASH_REDIS_REST_TOKEN, sessionKeys: c.env.SESSION_KEYS });
  return sessionAuth(await layer)(c, next);
});
app.get("/", (c) => c.text(c.var.user.email));
export default app;
`,
};
ENTRIES.withRpc = `${ENTRIES.minimal}export { SessionVerifier } from "edge-session/rpc";\n`;

export async function measurePackageSize(root: string, tmp: string): Promise<PackageSize> {
  const dir = path.join(tmp, "bench-package");
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(path.join(dir, "node_modules", "edge-session"), { recursive: true });
  // A package scope of its own: without it, "edge-session" would resolve to this repository's
  // build/ by package self-reference (the nearest package.json up the tree is ours).
  writeFileSync(path.join(dir, "package.json"), JSON.stringify({ name: "bench-consumer", private: true, type: "module" }));
  // `npm pack` runs prepack (the build), as publishing does.
  const out = execFileSync("npm", ["pack", "--json", "--pack-destination", dir], { cwd: root, encoding: "utf8", maxBuffer: 16 * 1024 * 1024, stdio: ["ignore", "pipe", "ignore"] });
  const packed = (JSON.parse(out) as { filename: string; size: number }[])[0]!;
  execFileSync("tar", ["xzf", path.join(dir, packed.filename), "-C", path.join(dir, "node_modules", "edge-session"), "--strip-components=1"]);
  // The tarball's own dependencies and the hono peer, as an install would place them.
  const pkg = JSON.parse(readFileSync(path.join(dir, "node_modules", "edge-session", "package.json"), "utf8")) as { dependencies: Record<string, string> };
  for (const name of [...Object.keys(pkg.dependencies), "hono"]) {
    const link = path.join(dir, "node_modules", name);
    mkdirSync(path.dirname(link), { recursive: true });
    symlinkSync(path.join(root, "node_modules", name), link, "dir");
  }
  const gz: Record<string, number> = {};
  let minimalByPackage: Record<string, number> = {};
  for (const [name, source] of Object.entries(ENTRIES)) {
    const entry = path.join(dir, `${name}.ts`);
    writeFileSync(entry, source);
    const result = await build({
      entryPoints: [entry],
      absWorkingDir: dir,
      bundle: true,
      minify: true,
      write: false,
      metafile: name === "minimal",
      format: "esm",
      platform: "neutral",
      target: "es2022",
      conditions: ["workerd", "worker", "browser"],
      mainFields: ["module", "main"],
      external: ["cloudflare:*"],
      logLevel: "silent",
    });
    const code = result.outputFiles[0]!.contents;
    gz[name] = gzipSync(code).length;
    if (result.metafile) {
      // Each input's share of the output bytes, scaled to the gzipped total.
      const inputs = Object.values(result.metafile.outputs)[0]!.inputs;
      const total = Object.values(inputs).reduce((a, i) => a + i.bytesInOutput, 0);
      const by: Record<string, number> = {};
      for (const [file, i] of Object.entries(inputs)) {
        // The last node_modules segment names the package (hono and @upstash/redis are reached
        // through links into this repository's node_modules).
        const m = /.*node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(file);
        const owner = m ? m[1]! : "(entry)";
        by[owner] = (by[owner] ?? 0) + i.bytesInOutput;
      }
      minimalByPackage = Object.fromEntries(Object.entries(by).map(([k, v]) => [k, Math.round((v / total) * gz[name]!)]));
    }
  }
  return {
    tarballBytes: packed.size,
    bareGzipBytes: gz.bare!,
    minimalGzipBytes: gz.minimal!,
    withRpcGzipBytes: gz.withRpc!,
    minimalOverBareGzipBytes: gz.minimal! - gz.bare!,
    withRpcOverBareGzipBytes: gz.withRpc! - gz.bare!,
    minimalByPackage,
  };
}
