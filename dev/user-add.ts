/**
 * `npm run user:add -- --email a@b.c --password '…' [--role admin]`: creates an account in the
 * configured store (UPSTASH_REDIS_REST_URL/TOKEN and PASSWORD_PEPPER from the environment or
 * .dev.vars — the same pepper the worker uses, or the password will never verify).
 */
import { parseArgs } from "node:util";
import { existsSync, readFileSync } from "node:fs";
import { addUser } from "./accounts.ts";
import { DEV_VARS, mergeWithEnvironment, parseVars } from "./dev-vars.ts";

const { values } = parseArgs({ options: { email: { type: "string" }, password: { type: "string" }, role: { type: "string", multiple: true, default: [] } } });
const vars = mergeWithEnvironment(existsSync(DEV_VARS) ? parseVars(readFileSync(DEV_VARS, "utf8")) : {});
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
console.log(result === "created" ? `created ${values.email} (${(values.role ?? []).join(",") || "no roles"})` : `${values.email} already exists`);
process.exit(result === "created" ? 0 : 1);
