import { randomBytes } from "node:crypto";
import type {} from "vitest";
import type { TestProject } from "vitest/node";
import { dropPrefix, startStore } from "@edge-session/local-store";

declare module "vitest" {
  export interface ProvidedContext {
    storeUrl: string;
    storeToken: string;
    storeControlUrl: string;
    storeBackend: string;
    sessionKeys: string;
    passwordPepper: string;
    storePrefix: string;
  }
}

/** Starts the local store once for the whole run; REDIS_URL selects the real Redis backend. */
export default async function setup(project: TestProject) {
  const store = await startStore({
    port: 0,
    token: randomBytes(24).toString("base64url"),
    redisUrl: process.env.REDIS_URL || undefined,
  });
  const key = (kid: string) => `${kid}:${randomBytes(32).toString("base64url")}`;
  project.provide("storeUrl", store.url);
  project.provide("storeToken", store.token);
  project.provide("storeControlUrl", store.controlUrl);
  project.provide("storeBackend", store.backend.name);
  project.provide("sessionKeys", [key("k2"), key("k1")].join(","));
  project.provide("passwordPepper", randomBytes(32).toString("base64url"));
  // Every run writes under its own prefix, removed at teardown: runs against a shared Redis
  // never see each other's accounts or rate-limit counters, and leave nothing behind.
  const prefix = `test:${randomBytes(4).toString("hex")}:`;
  project.provide("storePrefix", prefix);
  // Where the store is, for whoever debugs a run; a green run prints only results.
  if (process.env.TEST_VERBOSE === "1") console.log(`[test] local store (${store.backend.name}) at ${store.url}`);
  return async () => {
    try {
      await dropPrefix(store.backend, prefix);
    } finally {
      await store.close();
    }
  };
}
