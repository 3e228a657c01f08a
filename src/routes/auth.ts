/**
 * /auth: register, login, logout, the current session, the user's sessions, password change.
 * Session-management routes always read the store (`fresh`), never the edge cache.
 */
import { Hono, type Context, type MiddlewareHandler } from "hono";
import { CredentialsSchema, PasswordChangeSchema } from "../auth/schemas.js";
import type { LimitDecision } from "../auth/rate-limits.js";
import { sessionAuth } from "../credentials/session-auth.js";
import type { AppEnv, Deps } from "../deps.js";
import { jsonBody, limitBody } from "../http/json-body.js";
import { forbidden, jsonError, refuse } from "../http/responses.js";
import { SESSION_ID, type Session } from "../session/record.js";
import { loginView, sessionView } from "./views.js";

/** One body for every failed login: unknown user, wrong password, disabled account (ASVS 6.3.8). */
const invalidCredentials = () => jsonError("invalid_credentials");

function tooMany(decision: LimitDecision): never {
  const retryAfter = decision.ok ? 1 : decision.retryAfterSeconds;
  throw jsonError("rate_limited", { retryAfter }, { "Retry-After": String(retryAfter) });
}

function clientIp(c: Context): string {
  return c.req.header("CF-Connecting-IP") ?? "";
}

export function authRoutes(deps: Deps) {
  const { config, accounts, passwords, rateLimits, sessions } = deps;
  const freshAuth = sessionAuth(deps, { fresh: true, serverTiming: config.serverTiming });

  async function issue(c: Context<AppEnv>, status: 200 | 201, user: { id: string; email: string; roles: string[] }, credentialVersion: string, endOthers = false) {
    const created = await sessions.create({ user, userAgent: c.req.header("User-Agent"), ip: clientIp(c), credentialVersion, endOthers });
    // A concurrent password change or disable won the race: this login does not count.
    if (!created.ok) throw invalidCredentials();
    c.header("Authorization", `Bearer ${created.token}`);
    c.header("Cache-Control", "no-store");
    return c.json(loginView(created.token, created.session), status);
  }

  // Before the body is read: a closed sign-up says so whatever was sent.
  const signupOpen: MiddlewareHandler<AppEnv> = async (_c, next) => {
    if (config.signup !== "open") throw forbidden("signup_closed");
    await next();
  };

  return new Hono<AppEnv>()
    .post("/register", limitBody, signupOpen, jsonBody(CredentialsSchema), async (c) => {
      const body = c.req.valid("json");
      const ipLimit = await rateLimits.hit("registerIp", clientIp(c) || "unknown");
      if (!ipLimit.ok) tooMany(ipLimit);
      const account = await accounts.create({ email: body.email, passwordHash: await passwords.hash(body.password) });
      if (!account) throw jsonError("email_taken");
      return issue(c, 201, account, account.credentialVersion);
    })
    .post("/login", limitBody, jsonBody(CredentialsSchema), async (c) => {
      const body = c.req.valid("json");
      const ipLimit = await rateLimits.hit("loginIp", clientIp(c) || "unknown");
      if (!ipLimit.ok) tooMany(ipLimit);
      // Failed attempts per account. The attempt is counted before the password check, in the same
      // atomic step as the decision: concurrent guesses cannot all slip under the limit, and a
      // locked account costs no PBKDF2. A correct password gives the attempt back, so only
      // failures use up the budget (unknown emails are counted exactly like known ones).
      const accountLimit = await rateLimits.hit("loginAccount", body.email);
      if (!accountLimit.ok) tooMany(accountLimit);
      const account = await accounts.findByEmail(body.email);
      const valid = account ? await passwords.verify(body.password, account.passwordHash) : await passwords.verifyDummy(body.password);
      if (!account || !valid || account.disabled) throw invalidCredentials();
      // Before the session is issued: if the limiter cannot answer now, nothing was issued (503).
      await rateLimits.refund("loginAccount", body.email);
      return issue(c, 200, account, account.credentialVersion);
    })
    .post("/logout", freshAuth, async (c) => {
      await sessions.end(c.var.session);
      return c.body(null, 204);
    })
    .get("/session", freshAuth, (c) => c.json({ session: sessionView(c.var.session, c.var.session.id), user: c.var.user }))
    .get("/sessions", freshAuth, async (c) => {
      const list = await sessions.list(c.var.user.id);
      return c.json({ sessions: list.map((s) => sessionView(s, c.var.session.id)) });
    })
    .delete("/sessions/:id", freshAuth, async (c) => {
      const id = c.req.param("id");
      // Someone else's session and no session at all look the same: 404 (no existence oracle).
      const target: Session | null = SESSION_ID.test(id) ? await sessions.get(id) : null;
      if (!target || target.userId !== c.var.user.id) throw jsonError("not_found");
      await sessions.end(target);
      return c.body(null, 204);
    })
    .post("/sessions/revoke-others", freshAuth, async (c) => {
      // Ends nothing if this session has ended since it was authenticated (checked in the same
      // atomic step): a dead session does not get to end the ones created after it.
      const revoked = await sessions.endAll(c.var.user.id, c.var.session.id);
      if (revoked === null) throw refuse({ status: 401, reason: "revoked" });
      return c.json({ revoked });
    })
    .post("/password", limitBody, freshAuth, jsonBody(PasswordChangeSchema), async (c) => {
      const body = c.req.valid("json");
      const account = await accounts.findById(c.var.user.id);
      if (!account || account.disabled) throw forbidden();
      // Re-authentication before changing a credential (ASVS 7.5.1). 403, not 401: the token is fine.
      if (!(await passwords.verify(body.currentPassword, account.passwordHash))) throw forbidden("current_password_incorrect");
      const version = await accounts.changePassword(account, await passwords.hash(body.newPassword));
      if (!version) throw jsonError("conflict", { message: "the password changed meanwhile" });
      // Every session ends, this one included; this device gets a fresh token (ASVS 7.4.3, 7.2.4).
      return issue(c, 200, account, version, true);
    });
}
