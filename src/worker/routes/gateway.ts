/**
 * Gateway mode (`ORIGIN_URL` set): protected paths are verified here and proxied to the origin
 * with identity headers the origin can trust:
 *
 *   X-Session-User, X-Session-Roles, X-Session-Id (the stored hash, not the token's id),
 *   X-Session-Assertion (see gateway/assertion.ts)
 *
 * What the client sent passes through `forwardHeaders` first (gateway/forward-headers.ts: every
 * identity, proxy and hop-by-hop header removed, or only GATEWAY_FORWARD_HEADERS kept), the
 * session cookie is taken out of `Cookie`, and the forwarding headers are the gateway's own.
 * WebSocket upgrades follow the `/ws` handshake rules and are relayed (docs/GATEWAY.md).
 */
import type { Context, MiddlewareHandler } from "hono";
import { importAssertionKey, signAssertion, type AssertedRequest } from "../../gateway/assertion.js";
import { forwardHeaders, setForwarding } from "../../gateway/forward-headers.js";
import { resolveClientAddress } from "../../http/client-address.js";
import { compilePaths } from "../../gateway/paths.js";
import { authenticate } from "../../credentials/authenticate.js";
import { withoutSessionCookie } from "../../cookie/session-cookie.js";
import type { AppEnv, Deps } from "../deps.js";
import { jsonError, refusalResponse } from "../../http/responses.js";
import type { Session } from "../../session/record.js";
import { authorizeUpgrade, checkSocketCap, isUpgrade } from "../../realtime/handshake.js";
import { watchSession } from "../../realtime/relay-watch.js";
import { limitUpgrades } from "./ws.js";

/** The origin's view of the request target: pathname and query of the URL actually fetched. */
function targetOf(url: string): string {
  const u = new URL(url);
  return u.pathname + u.search;
}

/** The query without `token` parameters (the spent WebSocket ticket is ours, not the origin's). */
export function withoutTicket(search: string): string {
  if (!search) return "";
  const kept = search
    .slice(1)
    .split("&")
    .filter((pair) => {
      if (!pair) return false;
      const name = pair.split("=", 1)[0]!;
      let decoded = name;
      try {
        decoded = decodeURIComponent(name.replace(/\+/g, " "));
      } catch {
        // Undecodable: not our parameter's name.
      }
      return decoded !== "token";
    });
  return kept.length ? `?${kept.join("&")}` : "";
}

/** The gateway middleware, or null when `ORIGIN_URL` is unset (then nothing is mounted at all). */
export function gateway(deps: Deps): MiddlewareHandler<AppEnv> | null {
  const gw = deps.config.gateway;
  if (!gw) return null;
  const protects = compilePaths(gw.paths);
  const key = importAssertionKey(gw.assertionKey);
  const credentials = { ...deps, allowTokenInUrl: deps.config.ws.querySessionToken };
  const handshake = { allowedOrigins: deps.config.ws.allowedOrigins, cookie: deps.cookie };
  const httpAuth = { sources: deps.sources };

  async function originHeaders(c: Context<AppEnv>, session: Session, target: string): Promise<Headers> {
    const headers = forwardHeaders(c.req.raw.headers, { forwardAuthorization: gw!.forwardAuthorization, allow: gw!.forwardHeaders });
    // The session cookie is this worker's credential, never the origin's.
    const cookies = withoutSessionCookie(headers.get("cookie"));
    if (cookies === null) headers.delete("cookie");
    else headers.set("cookie", cookies);
    const identity: AssertedRequest = {
      user: session.userId,
      roles: session.roles.join(","),
      sessionId: session.id,
      method: c.req.method,
      target: targetOf(target),
      audience: gw!.audience,
    };
    headers.set("X-Session-User", identity.user);
    headers.set("X-Session-Roles", identity.roles);
    headers.set("X-Session-Id", identity.sessionId);
    headers.set("X-Session-Assertion", await signAssertion(await key, identity, deps.now()));
    const url = new URL(c.req.url);
    setForwarding(headers, {
      clientAddress: resolveClientAddress(c, deps.config.environment).address || null,
      host: url.host,
      proto: url.protocol.replace(":", ""),
    });
    return headers;
  }

  return async (c, next) => {
    const url = new URL(c.req.url);
    if (!protects(url.pathname)) return next();
    // Refused before any token work: a request we could not attribute to an address.
    resolveClientAddress(c, deps.config.environment);

    if (isUpgrade(c)) {
      const grant = await authorizeUpgrade(c, credentials, handshake);
      if (!grant.ok) return refusalResponse(grant.refusal);
      await limitUpgrades(deps, grant.session);
      checkSocketCap(deps.sockets, grant.session, deps.config.ws.maxSocketsPerUser);
      const target = gw.originUrl + url.pathname + withoutTicket(url.search);
      const headers = await originHeaders(c, grant.session, target);
      headers.delete("sec-websocket-protocol"); // the ticket pair was ours, not the origin's
      headers.set("Upgrade", "websocket");
      return relaySocket(deps, target, headers, grant.session, grant.protocol);
    }

    const target = gw.originUrl + url.pathname + url.search;
    const result = await authenticate(c, deps, httpAuth);
    if (!result.ok) return refusalResponse(result.refusal);

    const method = c.req.method;
    let upstream: Response;
    try {
      upstream = await fetch(target, {
        method,
        headers: await originHeaders(c, result.session, target),
        body: method === "GET" || method === "HEAD" ? undefined : c.req.raw.body,
        redirect: "manual",
      });
    } catch {
      throw jsonError("bad_gateway");
    }
    // Stream the origin's response through as it is. An answer to an authenticated request is
    // personal unless the origin said otherwise: never stored by a browser or a shared cache.
    const res = new Response(upstream.body, upstream);
    if (!res.headers.has("Cache-Control")) res.headers.set("Cache-Control", "no-store");
    return res;
  };
}

async function relaySocket(deps: Deps, target: string, headers: Headers, session: Session, protocol: string | null): Promise<Response> {
  let originRes: Response;
  try {
    originRes = await fetch(target, { headers });
  } catch {
    throw jsonError("bad_gateway");
  }
  const origin = originRes.webSocket;
  if (!origin) throw jsonError("bad_gateway", { message: `origin answered ${originRes.status} to the upgrade` });
  origin.accept();
  const pair = new WebSocketPair();
  const client = pair[0];
  const server = pair[1];
  server.accept();
  const safeClose = (ws: WebSocket, code: number, reason: string) => {
    try {
      ws.close(code, reason);
    } catch {
      // Already closed.
    }
  };
  server.addEventListener("message", (e) => origin.send(e.data));
  origin.addEventListener("message", (e) => server.send(e.data));
  // 1005/1006/1015 may not be sent in a close frame: map them to a normal close.
  const relayCode = (code: number) => (code === 1005 || code === 1006 || code === 1015 ? 1000 : code);
  server.addEventListener("close", (e) => safeClose(origin, relayCode(e.code), e.reason));
  origin.addEventListener("close", (e) => safeClose(server, relayCode(e.code), e.reason));
  watchSession(server, session, {
    sessions: deps.sessions,
    registry: deps.sockets,
    recheckIntervalMs: deps.config.ws.recheckIntervalMs,
    now: deps.now,
    onEnded: (code, reason) => safeClose(origin, code, reason),
  });
  return new Response(null, { status: 101, webSocket: client, headers: protocol ? { "Sec-WebSocket-Protocol": protocol } : {} });
}
