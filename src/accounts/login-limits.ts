/**
 * The brute-force policy for password checks, over the counters in rate-limits.ts. Designed so
 * that an attacker cannot turn it against the owner (no wall anyone can raise for an account),
 * while guessing stays bounded:
 *
 * - per address group (IPv4 address, IPv6 /64), whatever the account: `loginIp` attempts — a
 *   hard limit;
 * - per (account, address group): `loginAccountAddress` failures — a hard limit: from one
 *   address group an account can be guessed only this often;
 * - per account, all address groups together: `loginAccount` failures. Spending it is not a
 *   lock: from then on each address group gets only `loginUnderAttack` failures on this
 *   account (a slowdown), so the owner, from any address group the attacker has not used on
 *   this account, still gets in with the right password, and every further guess needs
 *   another address group.
 *
 * Bound on wrong guesses per account per `loginAccount` window: `loginAccount` +
 * `loginUnderAttack` × (address groups the attacker holds), and never more than
 * `loginAccountAddress` per group. Each attempt is counted before its PBKDF2 derivation, in the
 * same atomic step as the decision (concurrent guesses cannot slip past), and given back when
 * the password was right, so only failures use the budget.
 */
import type { LimitDecision, LimitKind, RateLimits } from "./rate-limits.js";

/** What an allowed attempt counted: give it back with `refundAttempt` when the password was right. */
export type CountedAttempt = { ok: true; counted: [LimitKind, string][] } | { ok: false; refusal: LimitDecision & { ok: false } };

/** Counts one password check on `account` (a normalised email) from `group`. */
export async function countLoginAttempt(limits: RateLimits, account: string, group: string): Promise<CountedAttempt> {
  const pair = `${account}\n${group}`;
  const local = await limits.hit("loginAccountAddress", pair);
  if (!local.ok) return { ok: false, refusal: local };
  const wide = await limits.hit("loginAccount", account);
  if (wide.ok) return { ok: true, counted: [["loginAccountAddress", pair], ["loginAccount", account]] };
  const slow = await limits.hit("loginUnderAttack", pair);
  if (slow.ok) return { ok: true, counted: [["loginAccountAddress", pair], ["loginUnderAttack", pair]] };
  // Refused before any password check: not a failure, so it does not use this group's budget.
  await limits.refund("loginAccountAddress", pair);
  return { ok: false, refusal: slow };
}

/** Gives back what `countLoginAttempt` counted (the password was right). */
export async function refundAttempt(limits: RateLimits, counted: [LimitKind, string][]): Promise<void> {
  for (const [kind, key] of counted) await limits.refund(kind, key);
}

/**
 * Counts one password change for `accountId` from `sessionId`: per session first (parallel
 * changes from one token stop there without touching the account's budget), then per account.
 * A refusal leaves nothing counted.
 */
export async function countPasswordChange(limits: RateLimits, accountId: string, sessionId: string): Promise<LimitDecision> {
  const session = await limits.hit("passwordChangeSession", sessionId);
  if (!session.ok) return session;
  const account = await limits.hit("passwordChangeAccount", accountId);
  if (!account.ok) await limits.refund("passwordChangeSession", sessionId);
  return account;
}

/** Gives back what `countPasswordChange` counted (the current password was wrong: no change). */
export async function refundPasswordChange(limits: RateLimits, accountId: string, sessionId: string): Promise<void> {
  await limits.refund("passwordChangeSession", sessionId);
  await limits.refund("passwordChangeAccount", accountId);
}
