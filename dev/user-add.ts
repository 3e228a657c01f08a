/**
 * `npm run user:add -- --email a@b.c [--role admin]`: creates an account in the configured store
 * (UPSTASH_REDIS_REST_URL/TOKEN, STORE_PREFIX and PASSWORD_PEPPER from the environment or
 * .dev.vars — the same pepper the worker uses, or the password will never verify). The password
 * comes from a prompt, stdin or USER_PASSWORD: never from argv, which npm echoes and the shell keeps.
 */
import { createHash } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { addUser } from "./accounts.ts";
import { die, parseFlags, readPassword } from "./cli.ts";
import { DEV_VARS, mergeWithEnvironment, parseVars } from "./dev-vars.ts";

const TOOL = "user:add";
const USAGE = `usage: npm run user:add -- --email <email> [--role <role>]...
  Creates an account in the store the worker uses (UPSTASH_REDIS_REST_URL, UPSTASH_REDIS_REST_TOKEN,
  STORE_PREFIX, PASSWORD_PEPPER: from the environment, else ${DEV_VARS}).
  The password (8-1024 characters): USER_PASSWORD if set, else a prompt (no echo), else the first
  line of stdin:  printf '%s\\n' "$PW" | npm run --silent user:add -- --email you@example.com
  --email <email>   the account's email
  --role <role>     a role, e.g. admin (repeatable)`;

const values = parseFlags(TOOL, USAGE, { email: { type: "string" }, password: { type: "string" }, role: { type: "string", multiple: true, default: [] } });
if (values.password !== undefined) die(TOOL, "--password is not accepted (npm echoes the command line and the shell keeps it): type it at the prompt, pipe it to stdin, or set USER_PASSWORD");
const fileVars = existsSync(DEV_VARS) ? parseVars(readFileSync(DEV_VARS, "utf8")) : {};
const vars = mergeWithEnvironment(fileVars);
const missing = [
  !values.email && "--email",
  !vars.UPSTASH_REDIS_REST_URL && "UPSTASH_REDIS_REST_URL",
  !vars.UPSTASH_REDIS_REST_TOKEN && "UPSTASH_REDIS_REST_TOKEN",
  !vars.PASSWORD_PEPPER && "PASSWORD_PEPPER",
].filter(Boolean);
if (missing.length) die(TOOL, `missing ${missing.join(", ")} (store settings come from the environment or ${DEV_VARS}; with npm run dev running, use the URL and token it prints)`);
const password = await readPassword("USER_PASSWORD");
if (password.length < 8 || password.length > 1024) die(TOOL, "the password must be 8-1024 characters");

const url = vars.UPSTASH_REDIS_REST_URL!;
const prefix = vars.STORE_PREFIX || undefined;
let result;
try {
  result = await addUser({ url, token: vars.UPSTASH_REDIS_REST_TOKEN!, pepper: vars.PASSWORD_PEPPER!, prefix }, values.email!, password, values.role ?? []);
} catch (error) {
  // The store error wraps the client's ("fetch failed", a 401 for a wrong token): its first line is enough.
  const cause = String((error as Error).message ?? error).split("\n")[0];
  die(TOOL, `cannot reach the store at ${url}: ${cause}`, 1);
}
// Which pepper: where it came from and a fingerprint (not the pepper) to compare with the worker's.
const pepperSource = process.env.PASSWORD_PEPPER ? "PASSWORD_PEPPER from the environment" : `PASSWORD_PEPPER from ${DEV_VARS}`;
const fingerprint = createHash("sha256").update(vars.PASSWORD_PEPPER!).digest("hex").slice(0, 12);
const roles = (values.role ?? []).join(",") || "no roles";
if (result.status === "created") console.log(`created ${values.email} (${roles}): id ${result.id}`);
else console.log(`${values.email} already exists: id ${result.id} (nothing changed)`);
console.log(`store: ${url}, prefix ${prefix ?? "es: (the default)"}`);
console.log(`pepper: ${pepperSource}, sha256 fingerprint ${fingerprint} (the worker's PASSWORD_PEPPER must be the same, or this password never verifies)`);
process.exit(result.status === "created" ? 0 : 1);
