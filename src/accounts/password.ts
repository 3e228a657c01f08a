/**
 * Password hashing: PBKDF2-HMAC-SHA-256 through WebCrypto, with a per-user 16-byte salt and a
 * secret pepper.
 *
 * Production Workers refuse PBKDF2 above 100,000 iterations, so that is both our default and
 * our ceiling (OWASP asks 600,000; the pepper — an HMAC key kept out of the store — and the
 * login rate limits close the gap: see SECURITY.md). The stored string describes itself:
 *
 *   $pbkdf2-sha256$i=100000$<salt b64url>$<hash b64url>
 *
 * A stored hash asking for parameters outside the allowed range is rejected without deriving,
 * so a tampered record cannot make a login burn CPU.
 */
import { decodeBase64url, encodeBase64url, isBase64url, randomBytes } from "../util/base64url.js";

/** The production Workers cap. Never raise it: every deployed login would fail. */
export const MAX_ITERATIONS = 100_000;
export const MIN_ITERATIONS = 10_000;
export const DEFAULT_ITERATIONS = MAX_ITERATIONS;
export const SALT_BYTES = 16;
export const HASH_BYTES = 32;
/** NIST SP 800-63B / ASVS 6.2: at least 8, allow at least 64, bound the maximum before hashing. */
export const MIN_PASSWORD_LENGTH = 8;
export const MAX_PASSWORD_LENGTH = 1024;

const FORMAT = /^\$pbkdf2-sha256\$i=(\d{1,7})\$([A-Za-z0-9_-]{22})\$([A-Za-z0-9_-]{43})$/;
const encoder = new TextEncoder();

export interface PasswordHasher {
  hash(password: string): Promise<string>;
  /** False for a wrong password or an unusable stored hash; never throws on bad input. */
  verify(password: string, stored: string): Promise<boolean>;
  /** Does the same work as a real verification, for unknown users (ASVS 6.3.8: no timing oracle). */
  verifyDummy(password: string): Promise<false>;
}

export async function createPasswordHasher(pepper: string, iterations = DEFAULT_ITERATIONS): Promise<PasswordHasher> {
  if (iterations > MAX_ITERATIONS || iterations < MIN_ITERATIONS) {
    throw new Error(`PBKDF2 iterations must be between ${MIN_ITERATIONS} and ${MAX_ITERATIONS} (the production Workers cap)`);
  }
  const pepperKey = await crypto.subtle.importKey("raw", encoder.encode(pepper), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);

  // The peppered password: HMAC(pepper, password). Also bounds PBKDF2's input to 32 bytes.
  const pepperOf = async (password: string) => new Uint8Array(await crypto.subtle.sign("HMAC", pepperKey, encoder.encode(password)));

  const derive = async (password: string, salt: Uint8Array, rounds: number) => {
    const base = await crypto.subtle.importKey("raw", await pepperOf(password), "PBKDF2", false, ["deriveBits"]);
    return new Uint8Array(await crypto.subtle.deriveBits({ name: "PBKDF2", hash: "SHA-256", salt, iterations: rounds }, base, HASH_BYTES * 8));
  };

  // Workers' constant-time comparison; it throws on unequal lengths, so check those first.
  const subtle = crypto.subtle as typeof crypto.subtle & { timingSafeEqual(a: ArrayBufferView, b: ArrayBufferView): boolean };
  const equal = (a: Uint8Array, b: Uint8Array) => a.length === b.length && subtle.timingSafeEqual(a, b);

  // Made at the first use: the worker builds this while its isolate starts (src/worker/deps-for.ts),
  // where the runtime allows no random numbers.
  let dummy: { salt: Uint8Array; hash: Uint8Array } | undefined;

  return {
    async hash(password) {
      const salt = randomBytes(SALT_BYTES);
      const hash = await derive(password, salt, iterations);
      return `$pbkdf2-sha256$i=${iterations}$${encodeBase64url(salt)}$${encodeBase64url(hash)}`;
    },
    async verify(password, stored) {
      const m = typeof stored === "string" ? FORMAT.exec(stored) : null;
      if (!m) return false;
      const rounds = Number(m[1]);
      if (rounds > MAX_ITERATIONS || rounds < MIN_ITERATIONS) return false;
      if (!isBase64url(m[2]!) || !isBase64url(m[3]!)) return false;
      const actual = await derive(password, decodeBase64url(m[2]!), rounds);
      return equal(actual, decodeBase64url(m[3]!));
    },
    async verifyDummy(password) {
      dummy ??= { salt: randomBytes(SALT_BYTES), hash: randomBytes(HASH_BYTES) };
      const actual = await derive(password, dummy.salt, iterations);
      equal(actual, dummy.hash);
      return false;
    },
  };
}

/** Parameters of a stored hash, for upgrades and tests; null when it is not ours. */
export function describeHash(stored: string): { iterations: number } | null {
  const m = FORMAT.exec(stored);
  return m ? { iterations: Number(m[1]) } : null;
}
