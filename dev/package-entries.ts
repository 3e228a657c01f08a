/**
 * The package's entry points and the source file behind each: in this repository the examples
 * and tests import `edge-session/…` by name, as a user's code does, and these resolve them
 * (vitest's alias, the esbuild bundles of examples). package.json's `exports` maps the same
 * names to build/ (test/package/surface.node.test.ts checks that the two agree).
 */
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { Plugin } from "esbuild";

const ROOT = fileURLToPath(new URL("..", import.meta.url));

export const PACKAGE_ENTRIES: Record<string, string> = {
  "edge-session": "src/index.ts",
  "edge-session/hono": "src/hono.ts",
  "edge-session/realtime": "src/realtime/index.ts",
  "edge-session/client": "src/client/index.ts",
  "edge-session/react": "src/react/index.ts",
  "edge-session/rpc": "src/rpc/index.ts",
  "edge-session/oidc": "src/oidc/index.ts",
  "edge-session/worker": "src/worker/index.ts",
  "edge-session/types": "src/types.ts",
};

/** An esbuild plugin that resolves `edge-session/…` to this repository's source, for bundles of the examples. */
export const packageSource: Plugin = {
  name: "edge-session-source",
  setup(b) {
    b.onResolve({ filter: /^edge-session(\/[a-z-]+)?$/ }, (args) => {
      const file = PACKAGE_ENTRIES[args.path];
      return file ? { path: path.join(ROOT, file) } : { errors: [{ text: `${args.path} is not an entry point of the package` }] };
    });
  },
};
