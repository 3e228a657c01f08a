/** The local store's control API (stats, latency, faults, private instances), over HTTP. */
import { env } from "cloudflare:test";

export interface StoreInstance {
  url: string;
  controlUrl: string;
  token: string;
}

async function control(base: string, token: string, path: string, init: RequestInit = {}) {
  const res = await fetch(base + path, { ...init, headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json", ...(init.headers ?? {}) } });
  if (!res.ok) throw new Error(`store control ${path}: ${res.status} ${await res.text()}`);
  return res.json() as Promise<any>;
}

export function mainStore(): StoreInstance {
  return { url: env.UPSTASH_REDIS_REST_URL, controlUrl: env.STORE_CONTROL_URL, token: env.UPSTASH_REDIS_REST_TOKEN };
}

/** A sibling server sharing the same data, with its own counters and fault switches. */
export async function privateStore(): Promise<StoreInstance & { close(): Promise<void> }> {
  const main = mainStore();
  const inst = (await control(main.controlUrl, main.token, "/_instances", { method: "POST", body: "{}" })) as StoreInstance;
  return {
    ...inst,
    close: async () => {
      const port = new URL(inst.url).port;
      await fetch(`${main.controlUrl}/_instances/${port}`, { method: "DELETE", headers: { Authorization: `Bearer ${main.token}` } });
    },
  };
}

export async function stats(s: StoreInstance): Promise<{ commands: Record<string, number>; requests: number; total?: number }> {
  return control(s.controlUrl, s.token, "/_stats");
}

export async function totalCommands(s: StoreInstance): Promise<number> {
  const st = await stats(s);
  return Object.values(st.commands ?? {}).reduce((a, b) => a + b, 0);
}

export async function resetStats(s: StoreInstance): Promise<void> {
  await control(s.controlUrl, s.token, "/_stats/reset", { method: "POST", body: "{}" });
}

export async function setControl(s: StoreInstance, body: { latencyMs?: number; fault?: string | null }): Promise<void> {
  await control(s.controlUrl, s.token, "/_control", { method: "POST", body: JSON.stringify(body) });
}
