/**
 * The stored session record: a compact JSON document under `<prefix>s:<sessionId>`, where
 * `sessionId` is a hash of the token's random id (a dump of the store holds no usable token).
 * Every session costs Redis memory once per live session (see BENCHMARKS.md), so the stored form
 * is compact: see `encodeRecord`.
 */
import type { EcPublicJwk } from "../device/jwt-es256.js";
import { encodeBase64url } from "../util/base64url.js";

/**
 * What a session is bound to (issue 24): the browser's DBSC key (cookie sessions: only the
 * short-lived bound cookie it refreshes with that key is accepted), or a DPoP key's RFC 7638
 * thumbprint, `cnf.jkt` (Bearer sessions: every request carries a proof signed by that key).
 */
export type DeviceBinding = { kind: "dbsc"; key: EcPublicJwk } | { kind: "dpop"; jkt: string };

export interface Session {
  /** Public handle: base64url of the first 16 bytes of SHA-256(domain ‖ id). Not a credential. */
  id: string;
  userId: string;
  email: string;
  roles: string[];
  createdAt: number;
  lastSeenAt: number;
  /** When the session idles out unless used (ms since epoch); slides with use. */
  idleExpiresAt: number;
  /**
   * Absolute expiry (ms since epoch): the session ends then whatever happens. Named as in the
   * HTTP API (`expiresAt`), which gives the same instant as an ISO 8601 string.
   */
  expiresAt: number;
  /** A short label for the User-Agent that signed in ("Chrome 136 on macOS"): see device.ts. */
  device: string;
  ip: string;
  /** Room for application data (small, JSON-serialisable). */
  data?: Record<string, unknown>;
  /** The device binding, when the session has one: see `DeviceBinding`. */
  bound?: DeviceBinding;
}

/**
 * Stored form: a positional JSON array, `[1, userId, email, roles, createdAt, lastSeen−created,
 * idleExpiry−created, absoluteExpiry−created, device, ip, data?]`. Positional because field names
 * were a fifth of the record; times after the first as offsets because they are short numbers.
 * The leading 1 is the format version: a record of any other shape decodes to null. A bound
 * session is version 2, `[2, …, data | null, binding]` with binding `["d", x, y]` (a DBSC P-256
 * key) or `["j", jkt]`: the leading `[2,` is what the store's slide script checks so that a
 * stale unbound copy can never overwrite a bound record (store/device-scripts.ts).
 */
const FORMAT = 1;
const FORMAT_BOUND = 2;

export function encodeRecord(s: Session): string {
  const c = s.createdAt;
  const hasData = s.data !== undefined && Object.keys(s.data).length > 0;
  const r: unknown[] = [s.bound ? FORMAT_BOUND : FORMAT, s.userId, s.email, s.roles, c, s.lastSeenAt - c, s.idleExpiresAt - c, s.expiresAt - c, s.device, s.ip];
  if (s.bound) r.push(hasData ? s.data : null, s.bound.kind === "dbsc" ? ["d", s.bound.key.x, s.bound.key.y] : ["j", s.bound.jkt]);
  else if (hasData) r.push(s.data);
  return JSON.stringify(r);
}

const B64_43 = /^[A-Za-z0-9_-]{43}$/;

function decodeBinding(b: unknown): DeviceBinding | null {
  if (!Array.isArray(b)) return null;
  if (b[0] === "d" && b.length === 3 && B64_43.test(String(b[1])) && B64_43.test(String(b[2]))) return { kind: "dbsc", key: { kty: "EC", crv: "P-256", x: b[1] as string, y: b[2] as string } };
  if (b[0] === "j" && b.length === 2 && B64_43.test(String(b[1]))) return { kind: "dpop", jkt: b[1] as string };
  return null;
}

const isNum = (v: unknown): v is number => typeof v === "number" && Number.isFinite(v);
const isStr = (v: unknown): v is string => typeof v === "string";
/** A time a Date can hold (±8.64e15 ms): sums of finite offsets may overflow, or be no date at all. */
const isTime = (t: number): boolean => Number.isFinite(t) && Math.abs(t) <= 8.64e15;

/** Parses a stored record; anything malformed is `null` (treated as no session: fail closed). */
export function decodeRecord(id: string, raw: string | null): Session | null {
  if (raw === null) return null;
  let r: unknown;
  try {
    r = JSON.parse(raw);
  } catch {
    return null;
  }
  if (!Array.isArray(r)) return null;
  if (r[0] === FORMAT ? r.length < 10 || r.length > 11 : r[0] !== FORMAT_BOUND || r.length !== 12) return null;
  const [, userId, email, roles, c, l, i, a, device, ip, data, binding] = r as unknown[];
  const bound = r[0] === FORMAT_BOUND ? decodeBinding(binding) : undefined;
  if (bound === null) return null;
  if (!isStr(userId) || !isStr(email) || !Array.isArray(roles) || !roles.every(isStr)) return null;
  if (!isNum(c) || !isNum(l) || !isNum(i) || !isNum(a) || !isStr(device) || !isStr(ip)) return null;
  if (!isTime(c) || !isTime(c + l) || !isTime(c + i) || !isTime(c + a)) return null;
  const session: Session = {
    id,
    userId,
    email,
    roles,
    createdAt: c,
    lastSeenAt: c + l,
    idleExpiresAt: c + i,
    expiresAt: c + a,
    device,
    ip,
  };
  if (data && typeof data === "object" && !Array.isArray(data)) session.data = data as Record<string, unknown>;
  if (bound) session.bound = bound;
  return session;
}

const encoder = new TextEncoder();
const ID_DOMAIN = "edge-session/id\0";

/** The public session id (and store key suffix) for a token's random id. */
export async function sessionIdFor(tokenId: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", encoder.encode(ID_DOMAIN + tokenId));
  return encodeBase64url(new Uint8Array(digest, 0, 16));
}

/** Public session ids are 22 base64url characters. */
export const SESSION_ID = /^[A-Za-z0-9_-]{22}$/;
