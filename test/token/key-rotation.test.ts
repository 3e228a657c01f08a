/**
 * The key-rotation guide (docs/OPERATIONS.md), step by step: add a key, switch the signer,
 * retire the old key. Each step is a deploy with a new SESSION_KEYS; here, a new app.
 */
import { describe, expect, it } from "vitest";
import { testApp } from "../helpers/app.js";
import { call, login, register } from "../helpers/http.js";
import { generateKeyEntry } from "../../src/token/key-ring.js";

describe("key rotation", () => {
  it("add → switch signer → retire", async () => {
    const oldKey = generateKeyEntry("old");
    const newKey = generateKeyEntry("new");
    const me = (fetch: Parameters<typeof call>[2], token: string) => call("/api/me", { token }, fetch);

    // 0. Today: one key.
    const v0 = await testApp({ SESSION_KEYS: oldKey });
    const user = await register(v0.fetch);
    expect(user.token.startsWith("v1.old.")).toBe(true);

    // 1. Add the new key AFTER the signer: it verifies but does not sign yet.
    const v1 = await testApp({ SESSION_KEYS: `${oldKey},${newKey}` });
    expect((await me(v1.fetch, user.token)).status).toBe(200);
    expect((await login(v1.fetch, user.email)).token.startsWith("v1.old.")).toBe(true);

    // 2. Switch the signer: new first. Old tokens still verify; new ones use the new key.
    const v2 = await testApp({ SESSION_KEYS: `${newKey},${oldKey}` });
    const fresh = await login(v2.fetch, user.email);
    expect(fresh.token.startsWith("v1.new.")).toBe(true);
    expect((await me(v2.fetch, user.token)).status).toBe(200);

    // 3. Retire the old key (after the absolute lifetime): its tokens die, new ones live on.
    const v3 = await testApp({ SESSION_KEYS: newKey });
    const dead = await me(v3.fetch, user.token);
    expect(dead.status).toBe(401);
    expect(dead.json.reason).toBe("unknown_key");
    expect((await me(v3.fetch, fresh.token)).status).toBe(200);
  });
});
