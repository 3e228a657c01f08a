/** `npm run keys:generate [-- --kid k2]`: prints a new SESSION_KEYS entry and a pepper. */
import { parseArgs } from "node:util";
import { newKeyEntry, newPepper } from "./dev-vars.ts";

const { values } = parseArgs({ options: { kid: { type: "string", default: `k${Math.floor(Date.now() / 1000).toString(36)}` } } });
if (!/^[A-Za-z0-9_-]{1,8}$/.test(values.kid!)) {
  console.error("--kid must be 1-8 characters of [A-Za-z0-9_-]");
  process.exit(2);
}
const entry = newKeyEntry(values.kid);
console.log(`# A new signing key (32 random bytes). To rotate, put it FIRST and keep the old ones after it:`);
console.log(`#   SESSION_KEYS=${entry},<current entries>`);
console.log(`SESSION_KEYS=${entry}`);
console.log(`# A password pepper, if you need one (set once; changing it invalidates every password):`);
console.log(`PASSWORD_PEPPER=${newPepper()}`);
