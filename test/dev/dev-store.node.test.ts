/**
 * `npm run dev`'s store half (dev/dev-store.ts) against real stores: which store the worker
 * gets, whether demo accounts (published passwords, one of them admin) are written into it,
 * and what happens when the store's port is taken.
 */
import { randomBytes } from "node:crypto";
import net from "node:net";
import { startStore, type StoreServer } from "@edge-session/local-store";
import { afterEach, describe, expect, it } from "vitest";
import { addUser, DEMO_USERS } from "../../dev/accounts.ts";
import { prepareDevStore, type DevStore } from "../../dev/dev-store.ts";

const REDIS_URL = process.env.REDIS_URL || undefined;

const cleanup: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn().catch(() => {});
});

/** A store this test starts itself: to the runner, somebody else's database. */
async function foreignStore(redisUrl?: string): Promise<StoreServer> {
  const s = await startStore({ port: 0, redisUrl });
  cleanup.push(() => s.close());
  return s;
}

function devVars(extra: Record<string, string> = {}): Record<string, string> & { PASSWORD_PEPPER: string; STORE_PREFIX: string } {
  return { PASSWORD_PEPPER: randomBytes(32).toString("base64url"), STORE_PREFIX: `dev-store-test:${randomBytes(4).toString("hex")}:`, ...extra };
}

async function prepare(options: Parameters<typeof prepareDevStore>[0]): Promise<{ dev: DevStore; lines: string[] }> {
  const lines: string[] = [];
  const dev = await prepareDevStore({ log: (l) => lines.push(l), ...options });
  cleanup.push(() => dev.close());
  return { dev, lines };
}

async function keysUnder(store: StoreServer, prefix: string): Promise<string[]> {
  return ((await store.backend.command(["KEYS", `${prefix.replace(/[*?[\]\\]/g, "\\$&")}*`])) as Buffer[] | string[]).map(String);
}

describe("demo accounts seeded into a database the runner did not start (UPSTASH_REDIS_REST_URL set)", () => {
  it("writes nothing at all to that store: no command reaches it, no key appears", async () => {
    const theirs = await foreignStore();
    const vars = devVars({ UPSTASH_REDIS_REST_URL: theirs.url, UPSTASH_REDIS_REST_TOKEN: theirs.token });
    const { dev, lines } = await prepare({ vars, storePort: 0 });

    expect(dev.started).toBeNull();
    expect(dev.url).toBe(theirs.url);
    expect(dev.demoAccounts).toEqual([]);
    expect(theirs.stats().commands).toEqual({});
    expect(await theirs.backend.command(["DBSIZE"])).toBe(0);
    expect(lines.join("\n")).not.toMatch(/admin-password-123/);
    expect(lines.join("\n")).toMatch(/no demo accounts.*SEED_DEMO_ACCOUNTS=1/);
  });

  it.runIf(REDIS_URL)("writes nothing either when the runner fronts REDIS_URL (a Redis it did not start)", async () => {
    const vars = devVars();
    const { dev } = await prepare({ vars, storePort: 0, redisUrl: REDIS_URL });
    expect(dev.started?.backend.name).toMatch(/^redis:/);
    expect(dev.demoAccounts).toEqual([]);
    const probe = await foreignStore(REDIS_URL);
    expect(await keysUnder(probe, vars.STORE_PREFIX)).toEqual([]);
  });
});

describe("demo accounts where they belong", () => {
  it("a store the runner started itself (embedded) gets the demo user and the demo admin", async () => {
    const vars = devVars();
    const { dev, lines } = await prepare({ vars, storePort: 0 });
    expect(dev.started?.backend.name).toMatch(/embedded/);
    expect(vars.UPSTASH_REDIS_REST_URL).toBe(dev.started!.url);
    expect(dev.demoAccounts).toEqual(DEMO_USERS.map((u) => u.email));
    // The worker's own account code finds them: creating them again says "exists".
    for (const u of DEMO_USERS) {
      expect((await addUser({ url: dev.url, token: dev.token, pepper: vars.PASSWORD_PEPPER, prefix: vars.STORE_PREFIX }, u.email, "another-password-123")).status).toBe("exists");
    }
    expect(lines.join("\n")).toContain("admin@example.com / admin-password-123");
  });

  it("an explicit SEED_DEMO_ACCOUNTS opt-in seeds a foreign store, and says so loudly first", async () => {
    const theirs = await foreignStore();
    const vars = devVars({ UPSTASH_REDIS_REST_URL: theirs.url, UPSTASH_REDIS_REST_TOKEN: theirs.token });
    const { dev, lines } = await prepare({ vars, storePort: 0, seedDemoAccounts: true });
    expect(dev.demoAccounts).toEqual(DEMO_USERS.map((u) => u.email));
    expect((await keysUnder(theirs, vars.STORE_PREFIX)).length).toBeGreaterThan(0);
    const warning = lines.findIndex((l) => /SEED_DEMO_ACCOUNTS.*published passwords.*admin/.test(l));
    const firstAccount = lines.findIndex((l) => l.includes("@example.com /"));
    expect(warning).toBeGreaterThanOrEqual(0);
    expect(warning).toBeLessThan(firstAccount);
  });
});

describe("a busy store port (another process on STORE_PORT)", () => {
  it("starts the store on a free port instead and says so in one line (no EADDRINUSE crash)", async () => {
    const squatter = net.createServer();
    await new Promise<void>((resolve) => squatter.listen(0, "127.0.0.1", resolve));
    cleanup.push(() => new Promise((resolve) => squatter.close(resolve)));
    const busy = (squatter.address() as net.AddressInfo).port;

    const vars = devVars();
    const { dev, lines } = await prepare({ vars, storePort: busy });
    const port = Number(new URL(dev.url).port);
    expect(port).not.toBe(busy);
    expect(port).toBeGreaterThan(0);
    const notice = lines.filter((l) => l.includes(String(busy)));
    expect(notice).toHaveLength(1);
    expect(notice[0]).toMatch(new RegExp(`port ${busy} is busy.*${port}.*STORE_PORT`));
    expect((await fetch(dev.url, { method: "POST", headers: { authorization: `Bearer ${dev.token}` }, body: '["ping"]' })).status).toBe(200);
  });
});
