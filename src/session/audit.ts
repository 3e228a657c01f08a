/**
 * The audit trail's arguments, for the scripts that append it (scripts.ts, AUDIT). Events hold
 * what an auditor needs to answer "who ended this session, when, why, from where" and nothing
 * more: user and session ids (never an email, a token or a record), the actor's id, a reason,
 * and for a new session its device summary and a network prefix (IPv4 /24, IPv6 /48) rather
 * than the address. docs/OPERATIONS.md lists every field.
 */
import type { OpsKeySpace } from "../store/keys.js";

export interface AuditSettings {
  /** How long events are kept (trimmed by time at each append), ms. */
  retentionMs: number;
  keys: OpsKeySpace;
}

/** Why sessions ended, as the trail says it. */
export type EndReason = "logout" | "revoked" | "revoke-others" | "password-change" | "cap" | "kill-switch" | "disable" | "expiry";

/** Who did it and why, for a lifecycle call; `by` is a user id, or `rpc`, `store`, `system`. */
export interface AuditContext {
  by?: string;
  why?: EndReason;
}

/** How a session was created. */
export type CreatedHow = "login" | "register" | "password-change" | "sso" | "api";

/** The streams to pass after a script's own KEYS (none when audit is off). */
export function auditKeys(audit: AuditSettings | null | undefined, userId: string): string[] {
  return audit ? [audit.keys.audit, audit.keys.userAudit(userId)] : [];
}

/** MINID and the user stream's lifetime, to pass after a script's own ARGV (none when audit is off). */
export function auditArgs(audit: AuditSettings | null | undefined, now: number): (string | number)[] {
  return audit ? [Math.max(0, now - audit.retentionMs), audit.retentionMs] : [];
}

/** The network an address belongs to: enough to tell "from the office" from "from abroad", not who. */
export function networkOf(ip: string | null | undefined): string {
  if (!ip) return "";
  const v4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.\d{1,3}$/.exec(ip);
  if (v4) return `${v4[1]}.${v4[2]}.${v4[3]}.0/24`;
  if (!ip.includes(":")) return "";
  const [head = ""] = ip.split("::");
  const groups = head.split(":").filter(Boolean).slice(0, 3);
  while (groups.length < 3) groups.push("0");
  return `${groups.join(":")}::/48`;
}
