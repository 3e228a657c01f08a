/**
 * `npm run user:add -- --email a@b.c --password '…' [--role admin]`: creates an account in the
 * configured store (UPSTASH_REDIS_REST_URL/TOKEN and PASSWORD_PEPPER from the environment or
 * .dev.vars — the same pepper the worker uses, or the password will never verify).
 */
import { createHash } from "node:crypto";
import { parseArgs } from "node:util";
import { existsSync, readFileSync } from "node:fs";
import { addUser } from "./accounts.ts";
import { DEV_VARS, mergeWithEnvironment, parseVars } from "./dev-vars.ts";

const { values } = parseArgs({ options: { email: { type: "string" }, password: { type: "string" }, role: { type: "string", multiple: true, default: [] } } });
const fileVars = existsSync(DEV_VARS) ? parseVars(readFileSync(DEV_VARS, "utf8")) : {};
const vars = mergeWithEnvironment(fileVars);
const missing = [
  !values.email && "--email",
  !values.password && "--password",
  !vars.UPSTASH_REDIS_REST_URL && "UPSTASH_REDIS_REST_URL",
  !vars.UPSTASH_REDIS_REST_TOKEN && "UPSTASH_REDIS_REST_TOKEN",
  !vars.PASSWORD_PEPPER && "PASSWORD_PEPPER",
].filter(Boolean);
if (missing.length) {
  console.error(`user:add: missing ${missing.join(", ")} (store settings come from the environment or ${DEV_VARS}; with npm run dev running, use the URL and token it prints)`);
  process.exit(2);
}
if (values.password!.length < 8 || values.password!.length > 1024) {
  console.error("user:add: the password must be 8-1024 characters");
  process.exit(2);
}
const result = await addUser({ url: vars.UPSTASH_REDIS_REST_URL!, token: vars.UPSTASH_REDIS_REST_TOKEN!, pepper: vars.PASSWORD_PEPPER!, prefix: vars.STORE_PREFIX }, values.email!, values.password!, values.role ?? []);
// Which pepper: where it came from and a fingerprint (not the pepper) to compare with the worker's.
const pepperSource = process.env.PASSWORD_PEPPER ? "PASSWORD_PEPPER from the environment" : `PASSWORD_PEPPER from ${DEV_VARS}`;
const fingerprint = createHash("sha256").update(vars.PASSWORD_PEPPER!).digest("hex").slice(0, 12);
const roles = (values.role ?? []).join(",") || "no roles";
if (result.status === "created") console.log(`created ${values.email} (${roles}): id ${result.id}`);
else console.log(`${values.email} already exists: id ${result.id} (nothing changed)`);
console.log(`pepper: ${pepperSource}, sha256 fingerprint ${fingerprint} (the worker's PASSWORD_PEPPER must be the same, or this password never verifies)`);
process.exit(result.status === "created" ? 0 : 1);
