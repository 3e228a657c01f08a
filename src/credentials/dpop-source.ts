/**
 * DPoP-bound Bearer tokens (RFC 9449, issue 24) on the credential path.
 *
 * `authorizationSource` reads `Authorization: Bearer <token>` as `bearerSource` does, and also
 * `Authorization: DPoP <token>`; either way the request's `DPoP` header rides along. Whether a
 * proof is needed is the session's to say (`cnf.jkt` in its record), so `dpopRefusal` runs after
 * the session is resolved, cached or not: a signature verify per request, no store command.
 * Replay: a proof names the method and URL, is good for `iat` ± 60 s, and its `jti` is
 * remembered per isolate (DpopVerifier); see SECURITY.md for what that leaves.
 */
import type { Context } from "hono";
import type { DpopVerifier } from "../device/dpop.js";
import type { Session } from "../session/record.js";
import { MAX_TOKEN_LENGTH } from "../token/codec.js";
import type { Refusal } from "./refusal.js";
import { bearerToken, type Presented, type TokenSource } from "./sources.js";

const MAX_DPOP_AUTHORIZATION = 5 + MAX_TOKEN_LENGTH;

/** `Authorization: Bearer|DPoP <token>` plus the request's `DPoP` proof, if any. */
export const authorizationSource: TokenSource = {
  name: "bearer",
  read(c) {
    const header = c.req.header("Authorization");
    const proof = c.req.header("DPoP");
    if (header !== undefined && header.length > 5 && header.slice(0, 5).toLowerCase() === "dpop ") {
      if (header.length > MAX_DPOP_AUTHORIZATION) return { status: 401, reason: "malformed" };
      return { kind: "token", token: header.slice(5), dpop: proof ?? "" };
    }
    const extracted = bearerToken(header);
    if ("token" in extracted) return proof !== undefined ? { kind: "token", token: extracted.token, dpop: proof } : { kind: "token", token: extracted.token };
    return extracted.reason === "missing" ? null : { status: 401, reason: "malformed" };
  },
};

/**
 * For a DPoP-bound session: the request's proof must be signed by the bound key, for this
 * method and URL, now, over this token. A ticket (a WebSocket upgrade) was itself issued against
 * a proof and is single-use, so it needs none. Null when the request may proceed.
 */
export async function dpopRefusal(c: Context, presented: Presented, session: Session, verifier: DpopVerifier | undefined, nowMs: number): Promise<Refusal | null> {
  if (session.bound?.kind !== "dpop" || presented.kind !== "token") return null;
  if (!presented.dpop || !verifier) return { status: 401, reason: "dpop_required" };
  const checked = await verifier.verify(presented.dpop, { method: c.req.method, url: c.req.url, accessToken: presented.token, expectedJkt: session.bound.jkt, now: nowMs / 1000 });
  return checked.ok ? null : { status: 401, reason: "dpop_invalid", detail: checked.reason };
}
