import { cloudflareTest } from "@cloudflare/vitest-pool-workers";
import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";
import { PACKAGE_ENTRIES } from "./dev/package-entries.ts";
import { filterWorkerdNoise, keepConsoleLog } from "./test/expected-noise.ts";

// The fault tests' expected output is counted, not printed (TEST_VERBOSE=1 prints it).
filterWorkerdNoise();

/** The examples import the package by name, as a user's code does; in this repository that name is src/. */
const packageAlias = Object.entries(PACKAGE_ENTRIES).map(([name, file]) => ({
  find: new RegExp(`^${name}$`),
  replacement: fileURLToPath(new URL(`./${file}`, import.meta.url)),
}));

/**
 * Tests sit by what they cover (test/session/, test/realtime/, … mirroring src/); the suffix says
 * where a file runs. Two projects:
 * - `workers` (`*.test.ts`): unit and integration tests inside workerd (the Workers runtime) through the
 *   pinned pool. `test/global-setup.ts` starts the local Upstash-compatible store
 *   (dev/store, the `@edge-session/local-store` workspace) in Node — real Redis when REDIS_URL
 *   is set, the embedded in-memory backend otherwise — and provides its URL; the worker's
 *   bindings point at it. The store's own protocol conformance tests (dev/store/test/workerd)
 *   run here too: they need workerd and the real @upstash/redis client.
 * - `node` (`*.node.test.ts`, `*.e2e.test.ts`): tests of the Node-side tools (the local store's package, the dev runner), the
 *   browser end-to-end tests, which drive Debian's Chromium with playwright-core, and the
 *   consumer test (test/package: the packed tarball installed and run in a fresh project).
 */
export default defineConfig({
  test: {
    testTimeout: 20_000,
    hookTimeout: 60_000,
    onConsoleLog: (log) => keepConsoleLog(log),
    projects: [
      {
        resolve: { alias: packageAlias },
        plugins: [
          cloudflareTest(({ inject }) => ({
            main: "./src/worker/index.ts",
            wrangler: { configPath: "./wrangler.toml" },
            miniflare: {
              bindings: {
                ENVIRONMENT: "test",
                SIGNUP: "open",
                UPSTASH_REDIS_REST_URL: inject("storeUrl"),
                UPSTASH_REDIS_REST_TOKEN: inject("storeToken"),
                STORE_CONTROL_URL: inject("storeControlUrl"),
                STORE_BACKEND: inject("storeBackend"),
                // Test-only secrets, generated per run by the global setup: never real ones.
                SESSION_KEYS: inject("sessionKeys"),
                PASSWORD_PEPPER: inject("passwordPepper"),
                CORS_ORIGINS: "http://localhost:5173,https://app.example",
                // Every run writes under its own prefix (removed at teardown), so runs against a
                // shared Redis never see each other's accounts or rate-limit counters.
                STORE_PREFIX: inject("storePrefix"),
                // Generous limits for the suite; the rate-limit tests build apps with tight ones.
                RATE_LIMIT_LOGIN_ACCOUNT: "100000 / 1 h",
                RATE_LIMIT_LOGIN_ACCOUNT_ADDRESS: "100000 / 1 h",
                RATE_LIMIT_PASSWORD_CHECK: "100000 / 1 h",
                RATE_LIMIT_PASSWORD_CHANGE_ACCOUNT: "100000 / 1 h",
                RATE_LIMIT_PASSWORD_CHANGE_SESSION: "100000 / 1 h",
                WS_UPGRADE_RATE: "100000 / 1 m",
                RATE_LIMIT_LOGIN_IP: "100000 / 1 h",
                RATE_LIMIT_REGISTER_IP: "100000 / 1 h",
                // Thousands of requests: keep the output readable (test/http/request-log.test.ts
                // captures the log through createApp's sink instead).
                REQUEST_LOG: "off",
              },
            },
          })),
        ],
        test: {
          name: "workers",
          globalSetup: ["./test/global-setup.ts"],
          include: ["test/**/*.test.ts", "dev/store/test/workerd/**/*.test.ts"],
          exclude: ["test/**/*.node.test.ts", "test/**/*.e2e.test.ts"],
          testTimeout: 20_000,
          hookTimeout: 30_000,
        },
      },
      {
        resolve: { alias: packageAlias },
        test: {
          name: "node",
          environment: "node",
          // Removes the fresh projects the consumer tests installed (test/package/fresh-project.ts).
          globalSetup: ["./test/package/fresh-project-cleanup.ts"],
          include: ["test/**/*.node.test.ts", "test/**/*.e2e.test.ts", "dev/store/test/node/**/*.test.ts"],
          testTimeout: 60_000,
          hookTimeout: 120_000,
          // Each file starts its own servers on port 0; run them one at a time to keep the
          // 2-core machines responsive.
          fileParallelism: false,
        },
      },
    ],
  },
});
