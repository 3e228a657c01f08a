/** `AppType` alone (no Workers globals reach it: see worker/env.ts), for `edge-session/types`. */
import type { App } from "./app.js";

export type AppType = App;
