/**
 * `AppType` alone, for `hc<AppType>()` in front-end projects: importing it pulls in no Workers
 * globals, so a project type-checked with DOM types only (and `skipLibCheck: false`) accepts it.
 * `edge-session/worker` exports the same type next to the worker itself.
 */
import type { App } from "./app.js";

export type AppType = App;
