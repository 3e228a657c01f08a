/** `npm run keys:generate [-- --kid k2]`: prints a new SESSION_KEYS entry and a pepper. */
import { die, parseFlags } from "./cli.ts";
import { newKeyEntry, newPepper } from "./dev-vars.ts";

const USAGE = `usage: npm run keys:generate [-- --kid <kid>]
  Prints a new SESSION_KEYS entry (32 random bytes), the rotation steps of docs/OPERATIONS.md
  and a PASSWORD_PEPPER. Writes nothing.
  --kid <kid>   the key id, 1-8 characters of [A-Za-z0-9_-] (default: k<seconds in base 36>)`;

const values = parseFlags("keys:generate", USAGE, { kid: { type: "string", default: `k${Math.floor(Date.now() / 1000).toString(36)}` } });
if (!/^[A-Za-z0-9_-]{1,8}$/.test(values.kid!)) die("keys:generate", "--kid must be 1-8 characters of [A-Za-z0-9_-]");
const entry = newKeyEntry(values.kid);
console.log(`# A new signing key (32 random bytes). A new deployment: use it alone.`);
console.log(`SESSION_KEYS=${entry}`);
console.log(`# Rotating (docs/OPERATIONS.md): 1. add it AFTER the current signer and deploy everywhere:`);
console.log(`#   SESSION_KEYS=<current entries>,${entry}`);
console.log(`# 2. then move it first (it signs from then on): SESSION_KEYS=${entry},<current entries>`);
console.log(`# 3. after the absolute timeout (12 h by default), remove the old entries.`);
console.log(`# A password pepper, if you need one (set once; changing it invalidates every password):`);
console.log(`PASSWORD_PEPPER=${newPepper()}`);
