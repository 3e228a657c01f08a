/**
 * /auth: register, login, logout, the current session, the user's sessions, password change.
 * Session-management routes always read the store (`fresh`), never the edge cache.
 */
import { Hono, type Context, type MiddlewareHandler } from "hono";
import { nextCredentialVersion, normaliseEmail } from "../../accounts/accounts.js";
import { countLoginAttempt, countPasswordChange, refundAttempt, refundPasswordChange } from "../../accounts/login-limits.js";
import { CredentialsSchema, PasswordChangeSchema } from "../../accounts/schemas.js";
import type { LimitDecision } from "../../accounts/rate-limits.js";
import { sessionAuth } from "../../credentials/middleware.js";
import type { AppEnv, Deps } from "../deps.js";
import { resolveClientAddress } from "../../http/client-address.js";
import { jsonBody, limitBody } from "../../http/json-body.js";
import { forbidden, jsonError, refuse } from "../../http/responses.js";
import { checkCsrf } from "../../cookie/csrf.js";
import { clearedSessionCookie, sessionCookie } from "../../cookie/session-cookie.js";
import { SESSION_ID, type Session } from "../../session/record.js";
import type { DeviceBinding } from "../../session/record.js";
import { registrationOffer } from "./dbsc.js";
import { CSRF_HEADER } from "../../protocol.js";
import { cookieLoginView, loginView, sessionView } from "./views.js";
import type { CreatedHow } from "../../session/audit.js";
import { metrics } from "../../metrics/registry.js";
import { M, signinFailedName } from "../../metrics/names.js";

type Transport = "bearer" | "cookie";

/** One body for every failed login: unknown user, wrong password, disabled account (ASVS 6.3.8). */
const invalidCredentials = () => jsonError("invalid_credentials");

function tooMany(decision: LimitDecision): never {
  metrics.count(signinFailedName("rate_limited"));
  const retryAfter = decision.ok ? 1 : decision.retryAfterSeconds;
  throw jsonError("rate_limited", { retryAfter }, { "Retry-After": String(retryAfter) });
}

export function authRoutes(deps: Deps) {
  const { config, accounts, passwords, rateLimits, sessions } = deps;
  const freshAuth = sessionAuth(deps, { sources: deps.sources, fresh: true, serverTiming: config.serverTiming });
  /**
   * A cookie-mode page (it sends the CSRF header) asking at start-up whether it has a session,
   * with no credential to present: 204, not a 401, which browsers log as an error on every
   * first visit. Anything presented, or no CSRF header (a Bearer caller), goes the usual way.
   */
  const nothingPresented: MiddlewareHandler<AppEnv> = async (c, next) => {
    if (c.req.header(CSRF_HEADER) !== undefined && deps.sources.every((s) => s.read(c) === null)) {
      c.header("Cache-Control", "no-store");
      return c.body(null, 204);
    }
    await next();
  };

  async function issue(
    c: Context<AppEnv>,
    status: 200 | 201,
    user: { id: string; email: string; roles: string[] },
    credentialVersion: string,
    transport: Transport,
    passwordChange?: { hash: string; version: string },
    how: CreatedHow = passwordChange ? "password-change" : "login",
  ) {
    // A Bearer login that proves a DPoP key binds the session to it; a password change keeps
    // the binding of the session it came from.
    // (The change's own proof was checked, and its jti spent, when it was authenticated.)
    const bound: DeviceBinding | undefined = transport !== "bearer" ? undefined : passwordChange ? dpopOf(c) : await loginDpop(c);
    const created = await sessions.create({
      ...(bound ? { bound } : {}),
      how,
      user,
      userAgent: c.req.header("User-Agent"),
      ip: resolveClientAddress(c, config.environment).address,
      credentialVersion,
      endOthers: passwordChange !== undefined,
      ...(passwordChange ? { passwordChange } : {}),
    });
    // A concurrent password change or disable won the race: this login (or change) does not count.
    if (!created.ok) {
      metrics.count(signinFailedName(passwordChange ? "conflict" : "invalid_credentials"));
      throw passwordChange ? jsonError("conflict", { message: "the password changed meanwhile" }) : invalidCredentials();
    }
    metrics.count(how === "register" ? M.signinRegistered : how === "login" ? M.signinOk : M.signinPasswordChange);
    c.header("Cache-Control", "no-store");
    if (transport === "cookie") {
      // The token leaves in Set-Cookie only (ASVS 5.0 3.3.4): not in the body, not in a header a script can read.
      c.header("Set-Cookie", sessionCookie(created.token, created.session.expiresAt, deps.now(), config.cookie));
      // Progressive: a browser with DBSC registers a key and trades this cookie for a bound one.
      if (config.dbsc.enabled) c.header("Secure-Session-Registration", await registrationOffer(deps, created.session.id));
      return c.json(cookieLoginView(created.session), status);
    }
    // The token travels in the body only: a copy in a response header is one more place for
    // logs, proxies and extensions to keep it.
    return c.json(loginView(created.token, created.session), status);
  }

  /** A `DPoP` proof on a Bearer sign-in: the key's thumbprint, or a 400 naming the failed check. */
  async function loginDpop(c: Context<AppEnv>): Promise<DeviceBinding | undefined> {
    const proof = c.req.header("DPoP");
    if (proof === undefined) return undefined;
    const checked = await deps.dpop.verify(proof, { method: c.req.method, url: c.req.url, now: deps.now() / 1000 });
    if (!checked.ok) throw jsonError("invalid_dpop_proof", { reason: checked.reason });
    return { kind: "dpop", jkt: checked.jkt };
  }

  function dpopOf(c: Context<AppEnv>): DeviceBinding | undefined {
    const bound = c.var.session?.bound;
    return bound?.kind === "dpop" ? bound : undefined;
  }

  /**
   * A sign-in that sets the cookie needs the same CSRF proofs as a cookie-authenticated request:
   * otherwise a cross-site page could sign the browser into the attacker's account (login CSRF).
   */
  function requireCsrfForCookie(c: Context, transport: Transport): void {
    if (transport === "cookie" && !checkCsrf(c.req.raw).ok) throw forbidden("csrf");
  }

  // Before the body is read: a closed sign-up says so whatever was sent.
  const signupOpen: MiddlewareHandler<AppEnv> = async (_c, next) => {
    if (config.signup !== "open") throw forbidden("signup_closed");
    await next();
  };

  return new Hono<AppEnv>()
    .post("/register", limitBody, signupOpen, jsonBody(CredentialsSchema), async (c) => {
      const body = c.req.valid("json");
      requireCsrfForCookie(c, body.transport);
      const ipLimit = await rateLimits.hit("registerIp", resolveClientAddress(c, config.environment).group);
      if (!ipLimit.ok) tooMany(ipLimit);
      const account = await accounts.create({ email: body.email, passwordHash: await passwords.hash(body.password) });
      if (!account) throw jsonError("email_taken");
      return issue(c, 201, account, account.credentialVersion, body.transport, undefined, "register");
    })
    .post("/login", limitBody, jsonBody(CredentialsSchema), async (c) => {
      const body = c.req.valid("json");
      requireCsrfForCookie(c, body.transport);
      const { group } = resolveClientAddress(c, config.environment);
      const ipLimit = await rateLimits.hit("loginIp", group);
      if (!ipLimit.ok) tooMany(ipLimit);
      // Failed attempts per (account, address group) and per account (auth/login-limits.ts),
      // counted before the password check: a refused attempt costs no PBKDF2. Unknown emails are
      // counted exactly like known ones; the key is the normalised email, so case variants share it.
      const email = normaliseEmail(body.email);
      const attempt = await countLoginAttempt(rateLimits, email, group);
      if (!attempt.ok) tooMany(attempt.refusal);
      const account = await accounts.findByEmail(email);
      const valid = account ? await passwords.verify(body.password, account.passwordHash) : await passwords.verifyDummy(body.password);
      if (!account || !valid || account.disabled) {
        metrics.count(signinFailedName("invalid_credentials"));
        throw invalidCredentials();
      }
      // Before the session is issued: if the limiter cannot answer now, nothing was issued (503).
      await refundAttempt(rateLimits, attempt.counted);
      return issue(c, 200, account, account.credentialVersion, body.transport);
    })
    .post("/logout", freshAuth, async (c) => {
      await sessions.end(c.var.session);
      if (c.var.credential === "cookie") c.header("Set-Cookie", clearedSessionCookie(config.cookie));
      return c.body(null, 204);
    })
    .get("/session", nothingPresented, freshAuth, (c) => c.json({ session: sessionView(c.var.session, c.var.session.id), user: c.var.user }))
    .get("/sessions", freshAuth, async (c) => {
      const list = await sessions.list(c.var.user.id);
      return c.json({ sessions: list.map((s) => sessionView(s, c.var.session.id)) });
    })
    .delete("/sessions/:id", freshAuth, async (c) => {
      const id = c.req.param("id");
      // Someone else's session and no session at all look the same: 404 (no existence oracle).
      const target: Session | null = SESSION_ID.test(id) ? await sessions.get(id) : null;
      if (!target || target.userId !== c.var.user.id) throw jsonError("not_found");
      await sessions.end(target, { why: "revoked", by: c.var.user.id });
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
      // Re-authentication before changing a credential (ASVS 7.5.1), limited like a login: a
      // stolen token must not become a password oracle. Counted per session before the PBKDF2
      // derivation, given back when right; per session, so a thief's guesses never lock the
      // owner's own sessions out of changing the password.
      const session = c.var.session.id;
      const check = await rateLimits.hit("passwordCheck", session);
      if (!check.ok) tooMany(check);
      // Changes themselves are limited too: each costs two derivations, and each issues a fresh
      // session, so the account's budget is what holds. Counted before any derivation; a wrong
      // current password gives the counts back (a thief's guesses must not spend the owner's).
      const changes = await countPasswordChange(rateLimits, account.id, session);
      if (!changes.ok) {
        await rateLimits.refund("passwordCheck", session);
        tooMany(changes);
      }
      // 403, not 401: the token is fine.
      if (!(await passwords.verify(body.currentPassword, account.passwordHash))) {
        await refundPasswordChange(rateLimits, account.id, session);
        throw forbidden("current_password_incorrect");
      }
      await rateLimits.refund("passwordCheck", session);
      const hash = await passwords.hash(body.newPassword);
      // One atomic step: the new hash, the version bump, every session ended (this one included)
      // and this device's fresh token (ASVS 7.4.3, 7.2.4), handed over the way the old one came:
      // a new cookie replaces the cookie. A concurrent change makes it fail whole.
      const transport = c.var.credential === "cookie" ? "cookie" : "bearer";
      return issue(c, 200, account, account.credentialVersion, transport, { hash, version: nextCredentialVersion(account) });
    });
}
