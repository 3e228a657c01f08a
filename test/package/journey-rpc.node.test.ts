/**
 * A second worker calling the library's RPC entrypoint, in workerd (Miniflare), with the
 * installed package: the newcomer's worker re-exports `SessionVerifier` from `edge-session/rpc`
 * and examples/rpc-caller.ts (the README's) reaches it over a service binding — verify,
 * createSession, revoke — and a worker without SESSION_KEYS answers `misconfigured`. Also the
 * README's library worker and the package's deployed worker (`edge-session/worker`), which share
 * the store and keys: tokens from one verify in the others.
 */
import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freshProject, HONO_VERSIONS } from "./fresh-project.ts";
import { signIn, startNewcomer, TEAM_PASSWORD, type Newcomer } from "./newcomer-runtime.ts";

const email = (who: string) => `${who}-${randomBytes(4).toString("hex")}@example.test`;

describe.each(HONO_VERSIONS)("RPC and the other workers with hono %s", (hono) => {
  let n: Newcomer;
  beforeAll(async () => {
    n = await startNewcomer(freshProject(hono));
  }, 600_000);
  afterAll(async () => {
    await n?.close();
  });

  it("verify: the caller sees the newcomer's session through Service<SessionVerifier>", async () => {
    const who = email("rpc");
    const s = await signIn(n, who);
    const r = await n.call("caller", "/whoami", { token: s.body.token as string });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ email: who, roles: [], session: (s.body.session as { id: string }).id });
    expect(r.body.expiresAt).toBe((s.body.session as { expiresAt: number }).expiresAt);
    const missing = await n.call("caller", "/whoami");
    expect(missing.status).toBe(401);
    expect(missing.body).toEqual({ error: "missing" });
  });

  it("createSession over RPC issues a token the newcomer's worker accepts; revokeUser ends it everywhere", async () => {
    const id = `rpc-${randomBytes(6).toString("hex")}`;
    const created = await n.call("caller", "/trusted-sign-in", { json: { id, email: `${id}@example.test` } });
    expect(created.status).toBe(200);
    const token = created.body.token as string;
    expect((await n.call("app", "/me", { token })).body).toMatchObject({ user: { id, email: `${id}@example.test`, roles: [] } });
    expect((await n.call("caller", "/revoke-user", { json: { id } })).body).toEqual({ ended: 1 });
    expect((await n.call("caller", "/whoami", { token })).body).toEqual({ error: "revoked" });
    // The newcomer's own layer may have this token in its edge cache (the /me above): it sees the
    // revocation made by another layer once that entry lapses (createSessionLayer's cacheTtlMs).
    await expect.poll(async () => (await n.call("app", "/me", { token })).body.reason, { timeout: 5_000, interval: 200 }).toBe("revoked");
  });

  it("a SessionVerifier whose worker lacks SESSION_KEYS answers `misconfigured` (never a grant, never a throw)", async () => {
    const s = await signIn(n, email("nokeys"));
    const verify = await n.call("caller-misconfigured", "/whoami", { token: s.body.token as string });
    expect(verify.status).toBe(401);
    expect(verify.body).toEqual({ error: "misconfigured" });
    const create = await n.call("caller-misconfigured", "/trusted-sign-in", { json: { id: "nokeys-1", email: "nokeys-1@example.test" } });
    expect(create.status).toBe(403);
    expect(create.body).toEqual({ error: "misconfigured" });
  });

  it("503 from the caller while the store is down (store_unavailable, not a refusal)", async () => {
    const s = await signIn(n, email("rpc-outage"));
    await n.store.setFault("refuse");
    try {
      const r = await n.call("caller", "/whoami", { token: s.body.token as string });
      expect(r.status).toBe(503);
      expect(r.body).toEqual({ error: "store_unavailable" });
    } finally {
      await n.store.setFault(null);
    }
  });

  it("the README's library worker and the package's deployed worker verify the newcomer's tokens, and it theirs", async () => {
    const mine = (await signIn(n, email("shared"))).body.token as string;
    expect((await n.call("library", "/private/me", { token: mine })).status).toBe(200);
    expect((await n.call("edge-session", "/api/me", { token: mine })).status).toBe(200);

    const lib = await n.call("library", "/sign-in", { json: { email: email("lib"), code: TEAM_PASSWORD } });
    expect(lib.status).toBe(200);
    expect((await n.call("app", "/me", { token: lib.body.token as string })).status).toBe(200);

    const who = email("reg");
    const reg = await n.call("edge-session", "/auth/register", { json: { email: who, password: "correct horse battery staple" } });
    expect(reg.status).toBe(201);
    expect((await n.call("app", "/me", { token: reg.body.token as string })).body).toMatchObject({ user: { email: who } });
  });
});
