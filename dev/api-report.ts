/**
 * The package's public API, one report per entry point (api/<entry>.api.md), made by API
 * Extractor from the built declarations (`npm run build` first; `npm run api` does both).
 *
 *   npm run api            rewrite the reports after a deliberate change of the surface
 *   npm run api -- --check fail when the surface differs from the committed reports (CI)
 *
 * API Extractor analyses one entry point per run, so it runs once per `exports` entry.
 */
import { mkdirSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { Extractor, ExtractorConfig, ExtractorLogLevel, type IConfigFile } from "@microsoft/api-extractor";
import { PACKAGE_ENTRIES } from "./package-entries.ts";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const check = process.argv.includes("--check");

/** `edge-session/hono` → `hono`; the main entry is `index`. */
const reportName = (entry: string) => (entry === "edge-session" ? "index" : entry.slice("edge-session/".length));

let failed = 0;
for (const [entry, source] of Object.entries(PACKAGE_ENTRIES)) {
  const dts = path.join(ROOT, "build", source.replace(/^src\//, "").replace(/\.ts$/, ".d.ts"));
  const name = reportName(entry);
  const tempFolder = path.join(ROOT, ".tmp", "api");
  mkdirSync(tempFolder, { recursive: true });
  mkdirSync(path.join(ROOT, "api"), { recursive: true });
  const configObject: IConfigFile = {
    projectFolder: ROOT,
    mainEntryPointFilePath: dts,
    compiler: {
      overrideTsconfig: {
        compilerOptions: {
          target: "ES2022",
          module: "ES2022",
          moduleResolution: "Bundler",
          lib: name === "client" || name === "react" || name === "types" ? ["ES2022", "DOM", "DOM.Iterable"] : ["ES2022"],
          types: name === "client" || name === "react" || name === "types" ? [] : ["@cloudflare/workers-types"],
          strict: true,
          skipLibCheck: true,
        },
        files: [dts],
      },
    },
    apiReport: { enabled: true, reportFolder: path.join(ROOT, "api"), reportTempFolder: tempFolder, reportFileName: `${name}.api.md` },
    docModel: { enabled: false },
    dtsRollup: { enabled: false },
    tsdocMetadata: { enabled: false },
    messages: {
      // The report lists what the entry exposes; TSDoc tag style is not what it is for.
      tsdocMessageReporting: { default: { logLevel: ExtractorLogLevel.None } },
      extractorMessageReporting: {
        default: { logLevel: ExtractorLogLevel.Warning },
        // A type reachable from an entry but not exported by it is written into the report
        // (so a change to it still shows); it is not an error.
        "ae-forgotten-export": { logLevel: ExtractorLogLevel.None, addToApiReportFile: true },
        "ae-missing-release-tag": { logLevel: ExtractorLogLevel.None },
        // Documentation is reviewed in the README and JSDoc; the report tracks the shape.
        "ae-undocumented": { logLevel: ExtractorLogLevel.None, addToApiReportFile: false },
        "ae-internal-missing-underscore": { logLevel: ExtractorLogLevel.None },
      },
      compilerMessageReporting: { default: { logLevel: ExtractorLogLevel.Warning } },
    },
  };
  const config = ExtractorConfig.prepare({ configObject, configObjectFullPath: undefined, packageJsonFullPath: path.join(ROOT, "package.json") });
  const result = Extractor.invoke(config, { localBuild: !check, showVerboseMessages: false, messageCallback: (m) => {
    // Keep the output to what needs a person: the report's own notice, warnings and errors.
    if (m.logLevel === ExtractorLogLevel.Info || m.logLevel === ExtractorLogLevel.Verbose) m.handled = true;
  } });
  const changed = result.apiReportChanged;
  console.log(`${entry.padEnd(24)} api/${name}.api.md ${changed ? (check ? "DIFFERS from the committed report" : "updated") : "unchanged"}`);
  if (!result.succeeded || (check && changed)) failed++;
}
if (failed) {
  console.error(check ? "\nThe public API changed: run `npm run api` and commit api/*.api.md if the change is deliberate." : "\nAPI Extractor reported errors.");
  process.exit(1);
}
