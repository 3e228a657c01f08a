/**
 * Gateway mode's configuration (`ORIGIN_URL` set), from the environment: config.ts calls this and
 * collects its problems with every other one.
 */
import { isStripped } from "../gateway/forward-headers.js";
import type { Env } from "./config.js";
import { MIN_SECRET_LENGTH } from "../defaults.js";
import { list } from "../util/list.js";

export interface GatewayConfig {
  originUrl: string;
  paths: string[];
  assertionKey: string;
  /** What assertions name as their intended origin (GATEWAY_AUDIENCE, default ORIGIN_URL's origin). */
  audience: string;
  forwardAuthorization: boolean;
  /** Allowlist mode (GATEWAY_FORWARD_HEADERS), lower-cased; null forwards every header not stripped. */
  forwardHeaders: string[] | null;
}

/** An RFC 9110 field name (a token), lower-cased. */
const HEADER_NAME = /^[!#$%&'*+.^`|~0-9a-z-]+$/;

export function gatewayConfig(env: Env, problems: string[]): GatewayConfig | null {
  if (!env.ORIGIN_URL) return null;
  let originOfUrl = "";
  try {
    originOfUrl = new URL(env.ORIGIN_URL).origin;
  } catch {
    // Named below.
  }
  if (!/^https?:\/\/[^\s]+$/.test(env.ORIGIN_URL) || !originOfUrl) problems.push("ORIGIN_URL must be an http(s) URL");
  const assertionKey = env.GATEWAY_ASSERTION_KEY ?? "";
  if (assertionKey.length < MIN_SECRET_LENGTH) problems.push(`GATEWAY_ASSERTION_KEY must be set (at least ${MIN_SECRET_LENGTH} characters) when ORIGIN_URL is set`);
  const forwardList = env.GATEWAY_FORWARD_HEADERS?.trim() ? list(env.GATEWAY_FORWARD_HEADERS).map((n) => n.toLowerCase()) : null;
  // An identity, proxy or hop-by-hop name in the allowlist would be dropped anyway: say so now.
  const badNames = (forwardList ?? []).filter((n) => !HEADER_NAME.test(n) || isStripped(n));
  if (badNames.length) problems.push(`GATEWAY_FORWARD_HEADERS must name ordinary headers (not identity, proxy or hop-by-hop ones, no "_"): got ${badNames.map((n) => `"${n}"`).join(", ")}`);
  return {
    originUrl: env.ORIGIN_URL.replace(/\/$/, ""),
    paths: list(env.GATEWAY_PATHS),
    assertionKey,
    audience: env.GATEWAY_AUDIENCE || originOfUrl,
    forwardAuthorization: env.GATEWAY_FORWARD_AUTHORIZATION === "true",
    forwardHeaders: forwardList,
  };
}
