/**
 * `.dev.vars` handling for the dev tools: parse it, create it on first run with freshly
 * generated secrets (it is git-ignored), and merge it with the environment (environment wins).
 */
import { randomBytes } from "node:crypto";
import { existsSync, readFileSync, writeFileSync } from "node:fs";

export const DEV_VARS = ".dev.vars";
export const DEV_VARS_EXAMPLE = ".dev.vars.example";

/** Every variable the worker reads: these may come from the environment too. */
export const WORKER_VARS = [
  "ENVIRONMENT", "SIGNUP", "SESSION_KEYS", "PASSWORD_PEPPER", "UPSTASH_REDIS_REST_URL", "UPSTASH_REDIS_REST_TOKEN",
  "STORE_PREFIX", "STORE_TIMEOUT_MS", "SESSION_IDLE_TIMEOUT", "SESSION_ABSOLUTE_TIMEOUT", "SESSION_MAX_PER_USER",
  "SESSION_TOUCH_INTERVAL", "SESSION_CACHE_TTL", "CORS_ORIGINS", "WS_ALLOWED_ORIGINS", "WS_QUERY_SESSION_TOKEN",
  "WS_RECHECK_INTERVAL", "WS_TICKET_TTL", "WS_MAX_SOCKETS_PER_SESSION", "WS_MAX_SOCKETS_PER_USER", "WS_MAX_MESSAGE_BYTES",
  "RATE_LIMIT_LOGIN_ACCOUNT", "RATE_LIMIT_LOGIN_IP", "RATE_LIMIT_REGISTER_IP",
  "ORIGIN_URL", "GATEWAY_PATHS", "GATEWAY_ASSERTION_KEY", "GATEWAY_FORWARD_AUTHORIZATION", "REQUEST_LOG",
  "COOKIE_TRUSTED_ORIGINS", "GATEWAY_FORWARD_HEADERS", "WS_UPGRADE_RATE", "WS_MESSAGE_RATE", "WS_ROOM_BYTE_RATE", "WS_ROOM_EMAILS",
  "RATE_LIMIT_PASSWORD_CHANGE_ACCOUNT", "RATE_LIMIT_PASSWORD_CHANGE_SESSION",
  // Development only (dev/worker-dev.ts): the OpenID Connect provider behind "Sign in with SSO".
  "OIDC_ISSUER", "OIDC_CLIENT_ID", "OIDC_CLIENT_SECRET",
] as const;

export function parseVars(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (!line || line.startsWith("#")) continue;
    const eq = line.indexOf("=");
    if (eq < 1) continue;
    let value = line.slice(eq + 1).trim();
    if (/^(".*"|'.*')$/.test(value)) value = value.slice(1, -1);
    out[line.slice(0, eq).trim()] = value;
  }
  return out;
}

export function formatVars(vars: Record<string, string>): string {
  return Object.entries(vars).map(([k, v]) => `${k}=${JSON.stringify(v)}`).join("\n") + "\n";
}

export function newKeyEntry(kid = "k1"): string {
  return `${kid}:${randomBytes(32).toString("base64url")}`;
}

export function newPepper(): string {
  return randomBytes(32).toString("base64url");
}

/**
 * Reads `.dev.vars`, creating it from the example with generated secrets when absent (or
 * filling empty secrets), and reports what it did.
 */
export function ensureDevVars(dir = "."): { vars: Record<string, string>; notes: string[] } {
  const path = `${dir}/${DEV_VARS}`;
  const notes: string[] = [];
  let text = existsSync(path) ? readFileSync(path, "utf8") : existsSync(`${dir}/${DEV_VARS_EXAMPLE}`) ? readFileSync(`${dir}/${DEV_VARS_EXAMPLE}`, "utf8") : "";
  const created = !existsSync(path);
  const vars = parseVars(text);
  let changed = created;
  if (!vars.SESSION_KEYS) {
    text = setVar(text, "SESSION_KEYS", newKeyEntry());
    changed = true;
    notes.push("generated SESSION_KEYS");
  }
  if (!vars.PASSWORD_PEPPER) {
    text = setVar(text, "PASSWORD_PEPPER", newPepper());
    changed = true;
    notes.push("generated PASSWORD_PEPPER");
  }
  if (changed) {
    writeFileSync(path, text, { mode: 0o600 });
    notes.unshift(created ? `created ${DEV_VARS} from ${DEV_VARS_EXAMPLE}` : `updated ${DEV_VARS}`);
  }
  return { vars: parseVars(text), notes };
}

function setVar(text: string, name: string, value: string): string {
  const re = new RegExp(`^${name}=.*$`, "m");
  return re.test(text) ? text.replace(re, `${name}=${value}`) : `${text.replace(/\n?$/, "\n")}${name}=${value}\n`;
}

/** `.dev.vars` overlaid with any worker variable set in the environment (environment wins). */
export function mergeWithEnvironment(vars: Record<string, string>, env: NodeJS.ProcessEnv = process.env): Record<string, string> {
  const out = { ...vars };
  for (const name of WORKER_VARS) {
    const v = env[name];
    if (v !== undefined && v !== "") out[name] = v;
  }
  return out;
}
