/**
 * Which request headers the gateway passes to the origin. Everything the client sent passes,
 * except what could make the origin believe something the gateway did not verify:
 *
 * - every name containing `_`: CGI-style stacks (PHP, WSGI, Rack, nginx→FastCGI) map `-` and
 *   `_` to the same variable, so `X_Session_User` would arrive as `HTTP_X_SESSION_USER`;
 * - every identity header of a proxy or platform an origin may sit behind (identity-headers.ts:
 *   ours, `X-Auth-Request-*`, `Cf-Access-*`, `X-Amzn-Oidc-*`, `X-Goog-*`, `Remote-User`, …);
 * - hop-by-hop headers, and every header named in `Connection` when the runtime shows the worker
 *   that header (RFC 9110 §7.6.1; the pinned workerd does, Cloudflare's front proxy may not:
 *   docs/GATEWAY.md). Where it is not shown, a named header is judged by its own name like any
 *   other; `Connection` itself never reaches the origin, and the gateway's own headers are set
 *   after this filter, so naming them removes nothing of ours;
 * - the client's own proxy and identity claims (`Forwarded`, `X-Forwarded-*`, `X-Real-IP`,
 *   `X-Original-URL`, `X-Rewrite-URL`, `Remote-User`, …): the origin trusts these from its
 *   proxy, and the proxy is us — we set the forwarding headers ourselves (`setForwarding`);
 * - method overrides (`X-HTTP-Method-Override`, …): the assertion binds the method the origin
 *   receives, and an origin that honours an override would act on another;
 * - `Host` (the fetch sets the origin's own) and `Authorization` unless asked for.
 *
 * With `allow` (GATEWAY_FORWARD_HEADERS) only the named headers pass, and still none of the
 * above: an origin that needs three headers gets three, whatever a client or a future proxy
 * invents.
 *
 * Pure: no Hono, no I/O. The same function serves plain requests and WebSocket upgrades.
 */
import { isIdentityHeader } from "./identity-headers.js";

/** RFC 9110 §7.6.1 hop-by-hop fields, plus the de-facto ones (`Proxy-Connection`, `Keep-Alive`). */
export const HOP_BY_HOP = new Set([
  "connection",
  "proxy-connection",
  "keep-alive",
  "te",
  "trailer",
  "transfer-encoding",
  "upgrade",
  "proxy-authenticate",
  "proxy-authorization",
  "http2-settings",
]);

/** Headers a client may send to impersonate a proxy in front of the origin. */
export const CLIENT_PROXY_HEADERS = new Set([
  "forwarded",
  "x-real-ip",
  "x-client-ip",
  "client-ip",
  "true-client-ip",
  "x-cluster-client-ip",
  "x-originating-ip",
  "x-remote-ip",
  "x-remote-addr",
  "x-original-url",
  "x-original-uri",
  "x-original-host",
  "x-original-method",
  "x-rewrite-url",
  "x-host",
  "remote-user",
  "x-remote-user",
  "remote-addr",
  "x-http-method-override",
  "x-http-method",
  "x-method-override",
  "cf-connecting-ip",
  "cf-connecting-ipv6",
  "cf-worker",
  "host",
]);

export interface ForwardOptions {
  /** Keep the client's `Authorization` (GATEWAY_FORWARD_AUTHORIZATION). @default false */
  forwardAuthorization?: boolean;
  /** Allowlist mode: forward only these names (any case; GATEWAY_FORWARD_HEADERS). @default every name not stripped */
  allow?: readonly string[] | null;
}

/** True when a client-sent header of this name must not reach the origin. */
export function isStripped(name: string, connectionNamed: ReadonlySet<string> = new Set()): boolean {
  const n = name.toLowerCase();
  if (n.includes("_")) return true;
  if (isIdentityHeader(n)) return true;
  return HOP_BY_HOP.has(n) || CLIENT_PROXY_HEADERS.has(n) || connectionNamed.has(n);
}

/** The header names listed in `Connection` (and the legacy `Proxy-Connection`). */
function connectionTokens(headers: Headers): Set<string> {
  const out = new Set<string>();
  for (const field of ["connection", "proxy-connection"]) {
    for (const token of (headers.get(field) ?? "").split(",")) {
      const t = token.trim().toLowerCase();
      if (t) out.add(t);
    }
  }
  return out;
}

/** A copy of the client's headers with everything above removed. */
export function forwardHeaders(incoming: Headers, options: ForwardOptions = {}): Headers {
  const named = connectionTokens(incoming);
  const allow = options.allow ? new Set(options.allow.map((n) => n.toLowerCase())) : null;
  const out = new Headers();
  for (const [name, value] of incoming) {
    if (allow && !allow.has(name.toLowerCase())) continue;
    if (isStripped(name, named)) continue;
    if (name === "authorization" && !options.forwardAuthorization) continue;
    out.append(name, value);
  }
  return out;
}

export interface Forwarding {
  /** The client's address (already validated), or null when unknown (development only). */
  clientAddress: string | null;
  /** The client-facing host, e.g. `app.example.com`. */
  host: string;
  /** `https` or `http`. */
  proto: string;
}

/** Sets the forwarding headers from what the gateway itself saw (RFC 7239 and the X- forms). */
export function setForwarding(headers: Headers, f: Forwarding): void {
  const parts: string[] = [];
  if (f.clientAddress) {
    headers.set("X-Forwarded-For", f.clientAddress);
    headers.set("X-Real-IP", f.clientAddress);
    parts.push(`for=${f.clientAddress.includes(":") ? `"[${f.clientAddress}]"` : f.clientAddress}`);
  }
  headers.set("X-Forwarded-Host", f.host);
  headers.set("X-Forwarded-Proto", f.proto);
  parts.push(`host="${f.host}"`, `proto=${f.proto}`);
  headers.set("Forwarded", parts.join(";"));
}
