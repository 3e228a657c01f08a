/**
 * The stored session record: a compact JSON document under `<prefix>s:<sessionId>`, where
 * `sessionId` is a hash of the token's random id (a dump of the store holds no usable token).
 * Field names are short on purpose: every session costs Redis memory (see BENCHMARKS.md).
 */
import { encodeBase64url } from "../util/base64url.js";

export interface Session {
  /** Public handle: base64url of the first 16 bytes of SHA-256(domain ‖ id). Not a credential. */
  id: string;
  userId: string;
  email: string;
  roles: string[];
  createdAt: number;
  lastSeenAt: number;
  idleExpiresAt: number;
  absoluteExpiresAt: number;
  userAgent: string;
  ip: string;
  /** Room for application data (small, JSON-serialisable). */
  data?: Record<string, unknown>;
}

interface StoredRecord {
  u: string;
  e: string;
  r: string[];
  c: number;
  l: number;
  i: number;
  a: number;
  ua: string;
  ip: string;
  d?: Record<string, unknown>;
}

/** Longest user agent kept: enough to tell devices apart, bounded so records stay small. */
export const MAX_USER_AGENT = 96;

export function encodeRecord(s: Session): string {
  const r: StoredRecord = { u: s.userId, e: s.email, r: s.roles, c: s.createdAt, l: s.lastSeenAt, i: s.idleExpiresAt, a: s.absoluteExpiresAt, ua: s.userAgent, ip: s.ip };
  if (s.data && Object.keys(s.data).length) r.d = s.data;
  return JSON.stringify(r);
}

const isNum = (v: unknown): v is number => typeof v === "number" && Number.isFinite(v);
const isStr = (v: unknown): v is string => typeof v === "string";

/** Parses a stored record; anything malformed is `null` (treated as no session: fail closed). */
export function decodeRecord(id: string, raw: string | null): Session | null {
  if (raw === null) return null;
  let r: Partial<StoredRecord>;
  try {
    r = JSON.parse(raw) as Partial<StoredRecord>;
  } catch {
    return null;
  }
  if (!r || typeof r !== "object") return null;
  if (!isStr(r.u) || !isStr(r.e) || !Array.isArray(r.r) || !r.r.every(isStr)) return null;
  if (!isNum(r.c) || !isNum(r.l) || !isNum(r.i) || !isNum(r.a)) return null;
  const session: Session = {
    id,
    userId: r.u,
    email: r.e,
    roles: r.r,
    createdAt: r.c,
    lastSeenAt: r.l,
    idleExpiresAt: r.i,
    absoluteExpiresAt: r.a,
    userAgent: isStr(r.ua) ? r.ua : "",
    ip: isStr(r.ip) ? r.ip : "",
  };
  if (r.d && typeof r.d === "object") session.data = r.d;
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
