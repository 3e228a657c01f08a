/**
 * The client's address and address group for per-address limits, from `CF-Connecting-IP`.
 *
 * On Cloudflare every request from the internet carries `CF-Connecting-IP`, set by the edge.
 * Its absence in production means a path we do not understand (a misrouted or internal
 * caller), so the request is refused — 400 `client_address_required` — rather than put in a
 * shared bucket (one attacker would lock everyone in it out) or in a bucket of its own (no
 * limit at all). Outside production (wrangler dev, tests) a missing header is the loopback
 * caller: the group `local`. A value that is not an IPv4 or IPv6 address is refused
 * everywhere (400 `invalid_client_address`): Cloudflare never sends one.
 */
import type { Context } from "hono";
import type { Environment } from "../worker/config.js";
import { clientAddress } from "../util/address.js";
import { jsonError } from "./responses.js";

export interface ResolvedAddress {
  /** The address as sent (validated), or "" for the development/test loopback caller. */
  address: string;
  /** The rate-limit group: the IPv4 address, the IPv6 /64, or `local`. */
  group: string;
}

export function resolveClientAddress(c: Context, environment: Environment): ResolvedAddress {
  const parsed = clientAddress(c.req.header("CF-Connecting-IP"));
  if (parsed.ok) return { address: parsed.address, group: parsed.group };
  if (parsed.reason === "client_address_missing" && environment !== "production") return { address: "", group: "local" };
  throw jsonError("invalid_request", {
    reason: parsed.reason === "client_address_missing" ? "client_address_required" : "invalid_client_address",
  });
}
