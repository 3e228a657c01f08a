/**
 * The regions' control routes, served next to `/_control` on every listener of the store:
 *
 *   GET  /_regions          → { primaryOffset, regions: [{ name, url, lagMs, partitioned, appliedOffset, backlog }] }
 *   GET  /_regions/<name>   → that region
 *   POST /_regions/<name>   {"lagMs": 250} | {"partition": true} | {"heal": true} (combinable) → that region
 */
import { checkLag, type RegionStatus, type Replication } from "./types.ts";

export interface ControlAnswer {
  status: number;
  body: unknown;
  allow?: string;
}

export type RegionView = RegionStatus & { url: string };

const error = (status: number, reason: string, message: string, allow?: string): ControlAnswer => ({ status, body: { error: message, reason }, allow });

export async function regionsControl(
  rep: Replication | undefined,
  urls: ReadonlyMap<string, string>,
  method: string,
  path: string,
  body: Record<string, unknown>,
): Promise<ControlAnswer> {
  if (!rep) return error(404, "no-regions", "this store runs without read regions (start it with regions: [...] or --regions)");
  const view = async (name: string): Promise<RegionView> => ({ ...(await rep.regions.get(name)!.status()), url: urls.get(name) ?? "" });
  if (path === "/_regions") {
    if (method !== "GET") return error(405, "method", "Method Not Allowed: /_regions takes GET", "GET");
    const regions = await Promise.all([...rep.regions.keys()].map(view));
    return { status: 200, body: { primaryOffset: await rep.primaryOffset(), regions } };
  }
  const name = /^\/_regions\/([^/]+)$/.exec(path)?.[1];
  if (name === undefined) return error(404, "route", "Not Found: region routes are /_regions and /_regions/<name>");
  const region = rep.regions.get(name);
  if (!region) return error(404, "unknown-region", `no region ${JSON.stringify(name)}: the regions are ${[...rep.regions.keys()].join(", ")}`);
  if (method === "GET") return { status: 200, body: await view(name) };
  if (method !== "POST") return error(405, "method", `Method Not Allowed: ${path} takes GET or POST`, "GET, POST");

  const known = new Set(["lagMs", "partition", "heal"]);
  const unknown = Object.keys(body).filter((k) => !known.has(k));
  if (unknown.length > 0) return error(400, "unknown-field", `unknown field ${JSON.stringify(unknown[0])}: use lagMs, partition, heal`);
  const { lagMs, partition, heal } = body;
  let lag: number | undefined;
  if (lagMs !== undefined) {
    try {
      lag = checkLag(lagMs);
    } catch (e) {
      return error(400, "bad-lag", (e as Error).message);
    }
  }
  if (partition !== undefined && typeof partition !== "boolean") return error(400, "bad-partition", "partition must be true or false");
  if (heal !== undefined && heal !== true) return error(400, "bad-heal", "heal must be true");
  if (partition === true && heal === true) return error(400, "conflict", "partition and heal together: pick one");
  if (lag !== undefined) region.setLag(lag);
  if (partition !== undefined) region.setPartitioned(partition);
  if (heal === true) region.setPartitioned(false);
  return { status: 200, body: await view(name) };
}
