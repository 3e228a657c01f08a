/** "Sign in with SSO" lives in dev/worker-dev.ts only: the deployed worker (src/index.ts) has no such routes. */
import { describe, expect, it } from "vitest";
import { call } from "../helpers/http.js";

describe("SSO is development-only", () => {
  it("the worker as deployed answers 404 on /sso/*", async () => {
    for (const path of ["/dev/info", "/sso/enabled", "/sso/start", "/sso/local/start", "/sso/local/callback?code=x&state=y", "/sso/complete.js"]) expect((await call(path)).status, path).toBe(404);
  });
});
