/**
 * What the freshness check costs, counted by the store itself: commands per verified request on
 * a cache miss in a replica region, and the clock writer's commands per day.
 */
import { randomBytes } from "node:crypto";
import type { StoreServer } from "@edge-session/local-store";
import { api, PASSWORD } from "../realtime/client.ts";
import type { GlobalCluster } from "./cluster.ts";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function control(url: string, token: string, path: string, method = "GET"): Promise<any> {
  const res = await fetch(url + path, { method, headers: { Authorization: `Bearer ${token}` }, signal: AbortSignal.timeout(5000) });
  if (!res.ok) throw new Error(`${path}: ${res.status}`);
  return res.json();
}

/**
 * Signs `n` sessions in at `from`, lets them replicate, then verifies each once at `to` (a miss:
 * never presented there) and counts the commands `to`'s store endpoint received.
 */
export async function commandsPerMiss(o: { cluster: GlobalCluster; store: StoreServer; from: string; to: string; n: number }): Promise<{ perMiss: number; commands: Record<string, number>; verified: number }> {
  const region = o.store.regions.find((r) => r.name === o.to);
  if (!region) throw new Error(`no region ${o.to}`);
  const tokens: string[] = [];
  for (let i = 0; i < o.n; i++) {
    const r = await api(o.cluster.workers[o.from]!, "/auth/register", { body: { email: `c-${randomBytes(5).toString("hex")}@example.test`, password: PASSWORD } });
    if (r.status !== 201) throw new Error(`register: ${r.status}`);
    tokens.push(r.json.token);
  }
  // Replicated (lag 0) and the clock beaten at least once since.
  await sleep(1500);
  await control(region.url, o.store.token, "/_stats/reset", "POST");
  let verified = 0;
  for (const token of tokens) if ((await api(o.cluster.workers[o.to]!, "/api/me", { token })).status === 200) verified++;
  const stats = await control(region.url, o.store.token, "/_stats");
  return { perMiss: stats.total / o.n, commands: stats.commands, verified };
}

/** The primary endpoint's commands over a quiet window (only the clock writer talks to it), per day. */
export async function writerCommandsPerDay(store: StoreServer, windowMs = 5000): Promise<{ perDay: number; commands: Record<string, number> }> {
  await control(store.url, store.token, "/_stats/reset", "POST");
  await sleep(windowMs);
  const stats = await control(store.url, store.token, "/_stats");
  return { perDay: Math.round((stats.total / windowMs) * 86_400_000), commands: stats.commands };
}
