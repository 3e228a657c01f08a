/**
 * The store half of `npm run dev`: which store the worker talks to, and whether demo accounts
 * go into it. Kept apart from run-dev.ts (which also spawns wrangler) so it can be tested
 * against real stores.
 *
 * Demo accounts have published passwords and one is an admin, so they are only written where
 * they cannot reach real data: into a store this runner started with the embedded engine
 * (gone when the runner stops). A store named by UPSTASH_REDIS_REST_URL, or a REDIS_URL behind
 * the started store, holds data the runner does not own: nothing is seeded there unless
 * SEED_DEMO_ACCOUNTS=1 / --seed-demo-accounts asks for it, and then the runner says so first.
 */
import { startStore, type StoreServer } from "@edge-session/local-store";
import { addUser, DEMO_USERS } from "./accounts.ts";

export const DEFAULT_STORE_PORT = 8079;

export interface DevStoreOptions {
  /** The merged worker variables; UPSTASH_REDIS_REST_URL/TOKEN are filled in when a store is started. */
  vars: Record<string, string>;
  /** Port for a store this runner starts; when taken, a free one is used instead. @default 8079 */
  storePort?: number;
  /** A real Redis behind the started store (REDIS_URL); unset: the embedded engine. */
  redisUrl?: string;
  /** Read regions for a store this runner starts (`--regions eu,ap` or a count): the store's replicated mode. @default none */
  regions?: string;
  /** Seed the demo accounts whatever the store (SEED_DEMO_ACCOUNTS=1). @default false */
  seedDemoAccounts?: boolean;
  /** Where the one-line notices go. @default console.log */
  log?: (line: string) => void;
}

export interface DevStore {
  url: string;
  token: string;
  /** The store this runner started, or null when UPSTASH_REDIS_REST_URL named one. */
  started: StoreServer | null;
  /** Emails of the demo accounts created or found; empty when none were seeded. */
  demoAccounts: string[];
  close(): Promise<void>;
}

/** Starts the store on `port`, or on a free port when that one is taken (saying so in one line). */
async function startOnFreePort(port: number, redisUrl: string | undefined, regions: string | undefined, log: (line: string) => void): Promise<StoreServer> {
  try {
    return await startStore({ port, redisUrl, regions });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "EADDRINUSE") throw error;
    const store = await startStore({ port: 0, redisUrl, regions });
    log(`[dev] port ${port} is busy: the store listens on ${new URL(store.url).port} instead (STORE_PORT chooses the port)`);
    return store;
  }
}

export async function prepareDevStore(options: DevStoreOptions): Promise<DevStore> {
  const { vars } = options;
  const log = options.log ?? console.log;
  let started: StoreServer | null = null;
  if (vars.UPSTASH_REDIS_REST_URL && vars.UPSTASH_REDIS_REST_TOKEN) {
    log(`[dev] store: ${vars.UPSTASH_REDIS_REST_URL} (from UPSTASH_REDIS_REST_URL)`);
  } else {
    started = await startOnFreePort(options.storePort ?? DEFAULT_STORE_PORT, options.redisUrl, options.regions, log);
    vars.UPSTASH_REDIS_REST_URL = started.url;
    vars.UPSTASH_REDIS_REST_TOKEN = started.token;
    log(`[dev] store: local Upstash-compatible server at ${started.url} (${started.backend.name})`);
    log(`[dev]   token: ${started.token}`);
    for (const r of started.regions) log(`[dev]   read region ${r.name}: ${r.url} (same token; lag, partition, heal: POST ${started.controlUrl}/_regions/${r.name})`);
  }

  const ownsTheData = started !== null && !options.redisUrl;
  const demoAccounts: string[] = [];
  if (options.seedDemoAccounts) {
    log(`[dev] SEED_DEMO_ACCOUNTS: creating demo accounts with published passwords (${DEMO_USERS.map((u) => u.email).join(", ")}; admin@example.com has role admin) in ${vars.UPSTASH_REDIS_REST_URL}${vars.STORE_PREFIX ? ` under ${vars.STORE_PREFIX}` : ""}`);
  } else if (!ownsTheData) {
    const where = started ? `REDIS_URL (${started.backend.name})` : vars.UPSTASH_REDIS_REST_URL;
    log(`[dev] no demo accounts: the data lives in ${where}, which this runner did not start. SEED_DEMO_ACCOUNTS=1 (or --seed-demo-accounts) creates them there; npm run user:add creates one account`);
  }
  if (ownsTheData || options.seedDemoAccounts) {
    for (const u of DEMO_USERS) {
      try {
        const r = await addUser({ url: vars.UPSTASH_REDIS_REST_URL, token: vars.UPSTASH_REDIS_REST_TOKEN!, pepper: vars.PASSWORD_PEPPER!, prefix: vars.STORE_PREFIX }, u.email, u.password, u.roles);
        demoAccounts.push(u.email);
        log(`[dev] ${u.roles.includes("admin") ? "admin" : "user "}: ${u.email} / ${u.password}${r.status === "exists" ? " (already there)" : ""}`);
      } catch (error) {
        log(`[dev] could not seed ${u.email}: ${(error as Error).message}`);
      }
    }
  }
  return {
    url: vars.UPSTASH_REDIS_REST_URL,
    token: vars.UPSTASH_REDIS_REST_TOKEN!,
    started,
    demoAccounts,
    close: async () => {
      await started?.close();
    },
  };
}
