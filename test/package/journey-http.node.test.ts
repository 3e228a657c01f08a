/**
 * The newcomer's journey over HTTP, in workerd (Miniflare), with the installed package: its own
 * sign-in ends in `createSession()`; `sessionAuth()` takes the token as Bearer or from the
 * `__Host-session` cookie (with both CSRF proofs on unsafe methods); `requireRole()` and
 * `errorHandler` answer 401/403/503 as the edge-session worker does. Run with the lowest and the
 * newest hono (fresh-project.ts).
 */
import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freshProject, HONO_VERSIONS } from "./fresh-project.ts";
import { ADMIN_EMAIL, signIn, startNewcomer, TEAM_PASSWORD, type Newcomer } from "./newcomer-runtime.ts";

const email = (who: string) => `${who}-${randomBytes(4).toString("hex")}@example.test`;
const cookieOf = (setCookie: string | null) => /__Host-session=([^;]*)/.exec(setCookie ?? "")?.[1] ?? "";

describe.each(HONO_VERSIONS)("the newcomer's worker with hono %s", (hono) => {
  let n: Newcomer;
  beforeAll(async () => {
    n = await startNewcomer(freshProject(hono));
  }, 600_000);
  afterAll(async () => {
    await n?.close();
  });

  describe("Bearer", () => {
    it("sign-in answers createSession()'s result; the token opens /me; a wrong password is 401", async () => {
      const who = email("ada");
      const r = await signIn(n, who);
      expect(r.body).toMatchObject({ ok: true, token: expect.stringMatching(/^v1\.k1\./), user: { email: who, roles: [] } });
      expect(typeof (r.body.session as { expiresAt: unknown }).expiresAt).toBe("number");
      const me = await n.call("app", "/me", { token: r.body.token as string });
      expect(me.status).toBe(200);
      expect(me.body).toMatchObject({ user: r.body.user, session: (r.body.session as { id: string }).id, credential: "bearer" });
      expect(me.headers.get("Cache-Control")).toBe("no-store");
      expect((await n.call("app", "/sign-in", { json: { email: who, password: `${TEAM_PASSWORD}x` } })).status).toBe(401);
    });

    it("401 without a token and with a forged one, with the worker's body and challenge", async () => {
      const missing = await n.call("app", "/me");
      expect(missing.status).toBe(401);
      expect(missing.body).toEqual({ error: "unauthorized", reason: "missing" });
      expect(missing.headers.get("WWW-Authenticate")).toBe('Bearer error="invalid_token", error_description="missing"');
      const token = (await signIn(n, email("forger"))).body.token as string;
      const forged = await n.call("app", "/me", { token: token.slice(0, -2) + (token.endsWith("AA") ? "BB" : "AA") });
      expect(forged.status).toBe(401);
      expect(forged.body.reason).toBe("bad_signature");
    });

    it("requireRole: 403 without the role, 200 with it", async () => {
      const user = (await signIn(n, email("grace"))).body.token as string;
      const refused = await n.call("app", "/admin", { token: user });
      expect(refused.status).toBe(403);
      expect(refused.body).toEqual({ error: "forbidden" });
      const boss = (await signIn(n, ADMIN_EMAIL)).body.token as string;
      expect((await n.call("app", "/admin", { token: boss })).body).toEqual({ admin: true });
    });

    it("an unsafe method needs no CSRF proof with a header (it is not ambient)", async () => {
      const token = (await signIn(n, email("noter"))).body.token as string;
      const r = await n.call("app", "/notes", { token, body: "hello" });
      expect(r.status).toBe(201);
      expect(r.body.saved).toBe("hello");
    });

    it("sign-out ends one session (then 401 revoked); sign-out-everywhere ends the rest", async () => {
      const who = email("linus");
      const [a, b, c] = [await signIn(n, who), await signIn(n, who), await signIn(n, who)].map((r) => r.body.token as string);
      expect((await n.call("app", "/sign-out", { method: "POST", token: a })).status).toBe(204);
      const after = await n.call("app", "/me", { token: a });
      expect(after.status).toBe(401);
      expect(after.body.reason).toBe("revoked");
      expect((await n.call("app", "/me", { token: b })).status).toBe(200);
      expect((await n.call("app", "/sign-out-everywhere", { method: "POST", token: c })).body).toEqual({ ended: 2 });
      expect((await n.call("app", "/me", { token: b })).body.reason).toBe("revoked");
    });
  });

  describe("the __Host-session cookie", () => {
    const proofs = () => ({ Origin: n.base, "X-CSRF-Protection": "1" });

    it("sign-in sets it (HttpOnly, Secure, SameSite=Lax) and puts no token in the body; it opens /me", async () => {
      const who = email("cookie");
      const r = await signIn(n, who, "cookie");
      const set = r.headers.get("Set-Cookie") ?? "";
      expect(set).toMatch(/^__Host-session=v1\.k1\.[^;]+; Max-Age=\d+; Path=\/; Secure; HttpOnly; SameSite=Lax$/);
      expect(r.text).not.toContain(cookieOf(set));
      expect(r.body).toMatchObject({ transport: "cookie", user: { email: who } });
      const me = await n.call("app", "/me", { headers: { Cookie: `theme=dark; __Host-session=${cookieOf(set)}` } });
      expect(me.status).toBe(200);
      expect(me.body).toMatchObject({ user: { email: who }, credential: "cookie" });
    });

    it("an unsafe method with the cookie needs both CSRF proofs: the Origin and X-CSRF-Protection", async () => {
      const Cookie = `__Host-session=${cookieOf((await signIn(n, email("csrf"), "cookie")).headers.get("Set-Cookie"))}`;
      const tries: { headers: Record<string, string>; status: number }[] = [
        { headers: { Cookie }, status: 403 },
        { headers: { Cookie, Origin: n.base }, status: 403 },
        { headers: { Cookie, "X-CSRF-Protection": "1" }, status: 403 },
        // A foreign Origin never reaches the worker here: Miniflare's loopback entry refuses it itself.
        { headers: { Cookie, "Sec-Fetch-Site": "same-site", "X-CSRF-Protection": "1" }, status: 403 },
        { headers: { Cookie, "Sec-Fetch-Site": "same-origin", "X-CSRF-Protection": "1" }, status: 201 },
        { headers: { Cookie, ...proofs() }, status: 201 },
      ];
      for (const t of tries) {
        const r = await n.call("app", "/notes", { body: "note", headers: t.headers });
        expect(r.status, JSON.stringify(t.headers)).toBe(t.status);
        if (t.status === 403) expect(r.body, r.text).toEqual({ error: "forbidden", reason: "csrf" });
      }
    });

    it("a Bearer header wins over the cookie of another session", async () => {
      const cookieUser = email("cookie-owner");
      const Cookie = `__Host-session=${cookieOf((await signIn(n, cookieUser, "cookie")).headers.get("Set-Cookie"))}`;
      const bearerUser = email("header-owner");
      const token = (await signIn(n, bearerUser)).body.token as string;
      const me = await n.call("app", "/me", { token, headers: { Cookie } });
      expect(me.body).toMatchObject({ user: { email: bearerUser }, credential: "bearer" });
    });

    it("sign-out with the cookie ends the session and clears the cookie; the old cookie then gets 401 and a clearing Set-Cookie", async () => {
      const Cookie = `__Host-session=${cookieOf((await signIn(n, email("leaver"), "cookie")).headers.get("Set-Cookie"))}`;
      const out = await n.call("app", "/sign-out", { method: "POST", headers: { Cookie, ...proofs() } });
      expect(out.status).toBe(204);
      expect(out.headers.get("Set-Cookie")).toMatch(/^__Host-session=; Max-Age=0; Path=\/; Secure; HttpOnly/);
      const again = await n.call("app", "/me", { headers: { Cookie } });
      expect(again.status).toBe(401);
      expect(again.body).toEqual({ error: "unauthorized", reason: "revoked" });
      expect(again.headers.get("Set-Cookie")).toMatch(/^__Host-session=; Max-Age=0/);
    });
  });

  describe("errorHandler during a store outage", () => {
    it("503 with Retry-After (not a 500, not a 401) for Bearer and cookie; fine again after", async () => {
      const token = (await signIn(n, email("outage"))).body.token as string; // never verified: not in the edge cache
      const Cookie = `__Host-session=${cookieOf((await signIn(n, email("outage-cookie"), "cookie")).headers.get("Set-Cookie"))}`;
      await n.store.setFault("refuse");
      try {
        for (const r of [await n.call("app", "/me", { token }), await n.call("app", "/me", { headers: { Cookie } }), await n.call("app", "/sign-in", { json: { email: email("x"), password: TEAM_PASSWORD } })]) {
          expect(r.status).toBe(503);
          expect(r.headers.get("Retry-After")).toBe("2");
          expect(r.body).toEqual({ error: "session_store_unavailable" });
          expect(r.headers.get("Set-Cookie")).toBeNull();
        }
      } finally {
        await n.store.setFault(null);
      }
      expect((await n.call("app", "/me", { token })).status).toBe(200);
    });
  });
});
