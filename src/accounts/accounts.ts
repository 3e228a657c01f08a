/**
 * Accounts in Redis: `a:<userId>` is a hash (email, password hash, roles, disabled, credential
 * version), `e:<email>` maps a normalised email to its user id. Accounts are the product's
 * durable data and carry no TTL; everything session-shaped does.
 */
import type { KeySpace } from "../store/keys.js";
import type { RedisStore } from "../store/redis.js";
import { FIND_BY_EMAIL, REGISTER, SET_DISABLED } from "../store/scripts.js";
import { encodeBase64url, randomBytes } from "../util/base64url.js";
import { auditArgs, auditKeys, type AuditSettings } from "../session/audit.js";

export interface Account {
  id: string;
  email: string;
  roles: string[];
  passwordHash: string;
  disabled: boolean;
  /** Bumped by every password change; a login that read an older one cannot create a session. */
  credentialVersion: string;
  createdAt: number;
}

export function normaliseEmail(email: string): string {
  return email.trim().toLowerCase();
}

/** The credential version a password change writes (CREATE_SESSION does the write, atomically). */
export function nextCredentialVersion(account: Pick<Account, "credentialVersion">): string {
  return String(Number(account.credentialVersion) + 1);
}

export function newUserId(): string {
  return encodeBase64url(randomBytes(16));
}

function toAccount(id: string, fields: Record<string, string>): Account | null {
  if (!fields.email || !fields.hash) return null;
  return {
    id,
    email: fields.email,
    roles: fields.roles ? fields.roles.split(",").filter(Boolean) : [],
    passwordHash: fields.hash,
    disabled: fields.disabled === "1",
    credentialVersion: fields.ver ?? "1",
    createdAt: Number(fields.created ?? 0),
  };
}

function pairs(flat: unknown[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (let i = 0; i + 1 < flat.length; i += 2) out[String(flat[i])] = String(flat[i + 1]);
  return out;
}

export class AccountStore {
  constructor(
    private readonly store: RedisStore,
    private readonly keys: KeySpace,
    private readonly now: () => number = Date.now,
    /** The audit trail (account created, disabled, enabled). @default null (off) */
    private readonly audit: AuditSettings | null = null,
  ) {}

  /** Creates an account; `null` when the email is taken. */
  async create(input: { email: string; passwordHash: string; roles?: string[] }): Promise<Account | null> {
    const email = normaliseEmail(input.email);
    const id = newUserId();
    const roles = (input.roles ?? []).join(",");
    const createdAt = this.now();
    const ok = await this.store.run<number>(
      REGISTER,
      [this.keys.email(email), this.keys.account(id), ...auditKeys(this.audit, id)],
      [id, email, input.passwordHash, roles, createdAt, ...auditArgs(this.audit, createdAt)],
    );
    if (Number(ok) !== 1) return null;
    return { id, email, roles: input.roles ?? [], passwordHash: input.passwordHash, disabled: false, credentialVersion: "1", createdAt };
  }

  async findByEmail(email: string): Promise<Account | null> {
    const reply = await this.store.run<[string, unknown[]] | null>(FIND_BY_EMAIL, [this.keys.email(normaliseEmail(email))], [this.keys.account("")]);
    if (!reply || !Array.isArray(reply)) return null;
    return toAccount(String(reply[0]), pairs(reply[1] ?? []));
  }

  async findById(id: string): Promise<Account | null> {
    const fields = await this.store.hgetall(this.keys.account(id));
    return fields ? toAccount(id, fields) : null;
  }

  /** Returns false when the account does not exist. `by`: the actor's user id, for the audit trail. */
  async setDisabled(id: string, disabled: boolean, by = "system"): Promise<boolean> {
    const audit = this.audit ? [...auditArgs(this.audit, this.now()), id, by] : [];
    return Number(await this.store.run<number>(SET_DISABLED, [this.keys.account(id), ...auditKeys(this.audit, id)], [disabled ? "1" : "0", ...audit])) === 1;
  }
}
