/**
 * Creates accounts from Node with the worker's own code (same hash format, same pepper, same
 * keys), against whichever Upstash-compatible store is configured.
 */
import { AccountStore } from "../src/accounts/accounts.ts";
import { createPasswordHasher } from "../src/accounts/password.ts";
import { keySpace } from "../src/store/keys.ts";
import { createUpstashStore } from "../src/store/redis.ts";

export interface StoreTarget {
  url: string;
  token: string;
  pepper: string;
  prefix?: string;
}

/** The account's id either way: the new one's, or the one already holding that email. */
export async function addUser(target: StoreTarget, email: string, password: string, roles: string[] = []): Promise<{ status: "created" | "exists"; id: string }> {
  const store = createUpstashStore({ url: target.url, token: target.token, timeoutMs: 5000 });
  const accounts = new AccountStore(store, keySpace(target.prefix ?? "es:"));
  const hasher = await createPasswordHasher(target.pepper);
  const created = await accounts.create({ email, passwordHash: await hasher.hash(password), roles });
  if (created) return { status: "created", id: created.id };
  const existing = await accounts.findByEmail(email);
  return { status: "exists", id: existing?.id ?? "" };
}

/** DEMO_ACCOUNTS for dev/worker-dev.ts: `email:password[:role+role],…` (a .env value: no quotes to escape). */
export function formatDemoAccounts(users: readonly { email: string; password: string; roles: readonly string[] }[]): string {
  return users.map((u) => [u.email, u.password, ...(u.roles.length ? [u.roles.join("+")] : [])].join(":")).join(",");
}

export const DEMO_USERS = [
  { email: "demo@example.com", password: "demo-password-123", roles: [] as string[] },
  { email: "admin@example.com", password: "admin-password-123", roles: ["admin"] },
];
