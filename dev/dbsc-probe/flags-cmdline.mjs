// What chrome://flags' "Enabled - For developers" expands to: set the flags in Local State
// (as the flags page does) and read the resulting command line from chrome://version.
import { chromium } from "playwright-core";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
const dir = mkdtempSync(join(tmpdir(), "flags-"));
const choice = process.argv[2] ?? "2";
writeFileSync(join(dir, "Local State"), JSON.stringify({ browser: { enabled_labs_experiments: [`enable-standard-device-bound-session-credentials@${choice}`, "enable-bound-session-credentials-software-keys-for-manual-testing@1"] } }));
const ctx = await chromium.launchPersistentContext(dir, { executablePath: "/usr/bin/chromium", args: ["--headless", "--no-sandbox"] });
const p = await ctx.newPage();
await p.goto("chrome://version/");
const cmd = await p.textContent("#command_line");
console.log(cmd.split(" ").filter((a) => /features|flag-switches/.test(a)).join("\n"));
const variations = await p.textContent("#variations-cmd").catch(() => "");
console.log("variations:", variations);
await ctx.close();
