// Verifies X-Session-Assertion at the origin (Node 20+). See docs/GATEWAY.md for the format.
import { createHmac, timingSafeEqual } from "node:crypto";
export function verifyAssertion(headers, method, path, key, nowMs = Date.now()) {
  const [v, exp, mac] = String(headers["x-session-assertion"] ?? "").split(".");
  if (v !== "v1" || !/^\d+$/.test(exp) || Number(exp) * 1000 <= nowMs) return null;
  const msg = `edge-session/assertion\0v1.${exp}\n${headers["x-session-user"]}\n${headers["x-session-roles"]}\n${headers["x-session-id"]}\n${method.toUpperCase()}\n${path}`;
  const want = createHmac("sha256", key).update(msg).digest(), got = Buffer.from(mac ?? "", "base64url");
  if (got.length !== want.length || !timingSafeEqual(got, want)) return null;
  return { user: headers["x-session-user"], roles: headers["x-session-roles"].split(",").filter(Boolean), sessionId: headers["x-session-id"] };
}
