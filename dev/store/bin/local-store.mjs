#!/usr/bin/env node
// The `local-store` command. The package ships TypeScript sources (it is never built), so the
// CLI runs through tsx's loader, registered in this same process: signals reach the server
// directly instead of passing through a chain of wrapper processes.
import { register } from "tsx/esm/api";

register();
await import("../src/cli.ts");
