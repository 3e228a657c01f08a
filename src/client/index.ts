/**
 * `createSessionClient()`: the browser side of the edge session worker. Plain ESM with no
 * dependencies and no Worker APIs — it runs in any browser (bundled for the demo SPA as
 * `public/vendor/session-client.js` by `npm run build:client`), in workerd, and in Node (which
 * has a global `WebSocket` from 22 on; on Node 20 pass the `WebSocket` option, e.g. from `ws`).
 * Clients that are not browsers (servers, CLIs, mobile apps) send no `Origin` on a WebSocket
 * handshake, and the worker accepts such a handshake only with an `Authorization: Bearer`
 * header, which browsers cannot send on a WebSocket: pass a constructor that takes headers and
 * `socketAuthorization: true`, e.g. `{ WebSocket: WebSocketFromWs, socketAuthorization: true }`.
 *
 *   const session = createSessionClient({ baseUrl: location.origin });
 *   session.on("unauthorized", () => showSignIn());
 *   await session.login(email, password);
 *   const me = await (await session.fetch("/api/me")).json();
 *   const socket = await session.openSocket(); // ticket as subprotocol pair: the URL stays clean
 *
 * Typed calls with `hono/client`: hand it the authed fetch, and every call carries the Bearer
 * token, forgets it on 401 and throws `StoreUnavailableError` on 503 like `session.fetch` does:
 *
 *   import { hc } from "hono/client";
 *   import type { AppType } from "edge-session/types"; // no Workers types: fine in a DOM-only project
 *   const api = hc<AppType>(baseUrl, { fetch: session.fetch });
 *   const res = await api.api.me.$get(); // res.json() is typed as { user: … }; request bodies are typed too
 *
 * The token lives in memory unless you opt in to `storage` (e.g. `sessionStorage`). It is only
 * ever sent, as `Authorization: Bearer …`, to `baseUrl`'s origin, and never put in a URL.
 *
 * Cookie mode, for an SPA served from the worker's own origin: the token never reaches
 * JavaScript. It lives in the worker's `__Host-session` HttpOnly cookie; requests to `baseUrl`'s
 * origin go with the cookie (`credentials: "same-origin"`) and the `X-CSRF-Protection: 1`
 * header the worker asks of cookie-authenticated unsafe requests; `restore()` at start-up signs
 * a reloaded page back in.
 *
 *   const session = createSessionClient({ baseUrl: location.origin, transport: "cookie" });
 *   const user = await session.restore(); // null: show the sign-in view
 *
 * Over 250 lines on purpose: most of it is the documented public types, and the client is one
 * closure whose methods share the held token and its listeners; split up, that state would have
 * to be exported between modules. Error types live in errors.ts.
 */
import { loadDpopKey, type DpopKey } from "./dpop.js";
import { errorFromResponse, parseErrorBody, readJson, SessionClientError, StoreUnavailableError, UnauthorizedError } from "./errors.js";

export { loadDpopKey, type DpopKey, type DpopKeyOptions } from "./dpop.js";
export { SessionClientError, StoreUnavailableError, UnauthorizedError, type ErrorBody } from "./errors.js";

import { CSRF_HEADER, CSRF_HEADER_VALUE, TICKET_PROTOCOL, type SessionUser } from "../protocol.js";

export { CSRF_HEADER, TICKET_PROTOCOL, ERROR_CODES, UNAUTHORIZED_REASONS, type ErrorCode, type SessionUser, type UnauthorizedReason } from "../protocol.js";

/** How the token travels: `Authorization: Bearer` (held by this client) or the worker's HttpOnly cookie. */
export type SessionTransport = "bearer" | "cookie";

/** What `POST /auth/login` and `POST /auth/register` answer. */
export type SessionGrant = BearerGrant | CookieGrant;

/** A Bearer grant: the token is in the body (and held by the client). */
export interface BearerGrant {
  token: string;
  tokenType: "Bearer";
  /** Absolute expiry (ISO 8601): the session ends then whatever happens. */
  expiresAt: string;
  /** Idle expiry at issue time (ISO 8601); every authenticated request slides it. */
  idleExpiresAt: string;
  user: SessionUser;
}

/** A cookie grant: the token went into the HttpOnly cookie; JavaScript never sees it. */
export interface CookieGrant {
  token: null;
  tokenType: "Cookie";
  expiresAt: string;
  idleExpiresAt: string;
  user: SessionUser;
}

/**
 * What a server's `layer.createSession()` returns, as it arrives in JSON: `adopt()` takes it as
 * it is (times in ms since the epoch, or ISO strings).
 */
export interface AdoptableSession {
  token: string;
  user: SessionUser;
  session: { expiresAt: number | string; idleExpiresAt?: number | string };
}

/** Anything shaped like Web Storage: `sessionStorage`, `localStorage`, or your own. */
export interface TokenStorage {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
  removeItem(key: string): void;
}

/** A `fetch`-compatible function (the global one, `SELF.fetch` in tests, …). */
export type FetchFunction = (input: Request | string | URL, init?: RequestInit) => Promise<Response>;

/**
 * A `WebSocket`-compatible constructor. Non-browser ones (the `ws` package) also take options
 * with `headers`, which `socketAuthorization` uses.
 */
export type WebSocketConstructor = new (url: string, protocols?: string | string[], options?: { headers?: Record<string, string> }) => WebSocket;

export interface SessionClientOptions {
  /**
   * Where the worker answers, e.g. `location.origin` or `"https://auth.example"`. Relative
   * paths given to `fetch()` and `openSocket()` resolve against it, and the token is sent to
   * this origin only: a request to any other origin goes out without it.
   * Required: there is no default.
   */
  baseUrl: string | URL;
  /**
   * `"bearer"`: the client holds the token and sends `Authorization: Bearer …` (any origin,
   * mobile, servers). `"cookie"`: the worker keeps it in its `__Host-session` HttpOnly cookie;
   * for pages served from the worker's own origin (the cookie is host-only and SameSite, and
   * the worker's CORS never allows credentials). `storage` cannot be combined with it.
   * @default "bearer"
   */
  transport?: SessionTransport;
  /**
   * Where to keep the token (and user) so that it survives a page reload: anything with
   * `getItem`/`setItem`/`removeItem`, e.g. `sessionStorage` (per tab, cleared when the tab
   * closes). Opt-in, because script-readable storage exposes the token to any XSS on the page;
   * prefer `sessionStorage` to `localStorage`. A storage that throws (quota, privacy mode) is
   * ignored and the token stays in memory.
   * @default null (memory only: a reload signs the user out)
   */
  storage?: TokenStorage | null;
  /**
   * The key under which `storage` holds the session.
   * @default "edge-session"
   */
  storageKey?: string;
  /**
   * The `fetch` used for every request, e.g. `SELF.fetch` in a Workers test or a wrapped fetch
   * that adds tracing. Called with a `Request` and no second argument.
   * @default globalThis.fetch
   */
  fetch?: FetchFunction;
  /**
   * The `WebSocket` constructor `openSocket()` uses.
   * @default globalThis.WebSocket
   */
  WebSocket?: WebSocketConstructor;
  /**
   * Also send `Authorization: Bearer <token>` on the WebSocket handshake, as the constructor's
   * third argument `{ headers }` (the `ws` package takes it; browsers ignore it and cannot send
   * headers on a WebSocket at all). For clients that are not browsers and so send no `Origin`:
   * the worker accepts a handshake without `Origin` only with this header, and the ticket must
   * belong to the same session. Leave it off in browsers.
   * @default false
   */
  socketAuthorization?: boolean;
  /**
   * Bind the Bearer token to a key this client keeps (DPoP, RFC 9449): the login proves the
   * key, and every request then carries `Authorization: DPoP <token>` and a fresh `DPoP` proof
   * (method, URL, time, the token's hash), so a copied token is refused without the key
   * (`dpop_required`). `true` loads or makes a non-extractable key kept in IndexedDB
   * (`loadDpopKey()`); pass a key of your own to choose. Bearer transport only; not with
   * `socketAuthorization`.
   * @default false
   */
  dpop?: boolean | DpopKey | Promise<DpopKey>;
  /**
   * The clock, in milliseconds since the epoch: a stored session past its `expiresAt` is
   * dropped at start-up instead of being sent.
   * @default Date.now
   */
  now?: () => number;
  /**
   * Where your server answers each call, relative to `baseUrl` (or absolute on its origin).
   * The defaults are the edge-session worker's routes; a Hono app of your own that mounts
   * `ticketRoute()` at `/ws-ticket`, say, passes `{ ticket: "/ws-ticket" }`.
   * @default DEFAULT_PATHS
   */
  paths?: Partial<SessionPaths>;
}

/** The server routes the client calls. */
export interface SessionPaths {
  /** `POST {email, password, transport?}` → a grant. @default "/auth/login" */
  login: string;
  /** `POST {email, password, transport?}` → 201 and a grant. @default "/auth/register" */
  register: string;
  /** `POST` → 204 (or 401 for a session already ended). @default "/auth/logout" */
  logout: string;
  /** `GET` → `{ user, session }` (cookie mode's `restore()`). @default "/auth/session" */
  session: string;
  /** `POST` → `{ ticket, expiresIn }`. @default "/auth/ws-ticket" */
  ticket: string;
  /** `POST` whose 2xx re-issues the session (the client adopts its body). @default "/auth/password" */
  password: string;
  /** `openSocket()`'s default path. @default "/ws" */
  socket: string;
}

export const DEFAULT_PATHS: Readonly<SessionPaths> = {
  login: "/auth/login",
  register: "/auth/register",
  logout: "/auth/logout",
  session: "/auth/session",
  ticket: "/auth/ws-ticket",
  password: "/auth/password",
  socket: "/ws",
};

/** Event payloads, by event name. */
export interface SessionEvents {
  /** A session was issued: `login()`, `register()`, or a re-issued token (password change). */
  login: { user: SessionUser; expiresAt: string; idleExpiresAt: string };
  /**
   * The session held here is gone: `ended: true` from `logout()` (the server ended it, or found
   * it already ended); `ended: false` from `forget()` (dropped here only; it lives on until it expires).
   */
  logout: { ended: boolean };
  /**
   * The worker refused the token (401: expired, revoked, signed out elsewhere). The token is
   * already forgotten: show the sign-in view. `reason` is the worker's (`revoked`, `expired`, …).
   */
  unauthorized: { status: 401; reason: string | undefined; url: string };
}

export type SessionEventName = keyof SessionEvents;
export type SessionEventHandler<E extends SessionEventName> = (detail: SessionEvents[E]) => void;

/** The grant a client of transport `T` receives. */
export type GrantFor<T extends SessionTransport> = T extends "cookie" ? CookieGrant : BearerGrant;

export interface SessionClient<T extends SessionTransport = SessionTransport> {
  /** The transport this client was created with. */
  readonly transport: T;
  /** The current Bearer token, or null when signed out — and always null in cookie mode. */
  readonly token: string | null;
  /** The signed-in user, or null when signed out. */
  readonly user: SessionUser | null;
  /** Absolute expiry of the current session (ISO 8601), or null when signed out. */
  readonly expiresAt: string | null;
  /**
   * Signs in (`POST /auth/login`), keeps the token and emits `login`. Throws
   * `SessionClientError` on refusal: `invalid_credentials` (401), `rate_limited` (429, with
   * `retryAfter`), `invalid_request` or `invalid_json` (400), `session_store_unavailable` (503,
   * `StoreUnavailableError`). A token held before is replaced, not ended: `logout()` first.
   */
  login(email: string, password: string): Promise<GrantFor<T>>;
  /**
   * Takes a session issued by another sign-in path — an SSO callback, a magic link, a passkey
   * route of your own: `login()`'s answer, or what the server's `layer.createSession()` returned
   * (`{ token, session, user }`, times in ms), passed on as JSON. Emits `login`. Throws
   * `TypeError` for anything that is not such a grant. Only pass grants that came from your
   * server (e.g. a `message` event whose `origin` you checked).
   */
  adopt(grant: SessionGrant | AdoptableSession): void;
  /** Creates an account (`POST /auth/register`) and signs in; errors as `login()`, plus `email_taken` (409) and `signup_closed` (403). */
  register(email: string, password: string): Promise<GrantFor<T>>;
  /**
   * Ends the session (`POST` to `paths.logout`) and forgets the token, once the server confirmed
   * it: a 2xx, or a 401 for a session that had already ended. Emits `logout`. Anything else — a
   * 404 (no such route: check `paths`), a 5xx, a network error — throws (`SessionClientError`,
   * `StoreUnavailableError` for a store outage, or the network's error) and KEEPS the token, so
   * the session that is still live can be ended by a retry; `forget()` drops it locally instead.
   */
  logout(): Promise<{ ended: true }>;
  /** Drops the session held here without telling the server (it lives on until it expires). */
  forget(): void;
  /**
   * `fetch` with the session: adds `Authorization: Bearer <token>` to requests for `baseUrl`'s
   * origin (unless the request sets its own), resolves relative paths against `baseUrl`, and:
   * - 401 → forgets the token, emits `unauthorized`, and returns the response;
   * - 503 `session_store_unavailable` → KEEPS the token and throws `StoreUnavailableError`
   *   (`retryAfter` seconds from `Retry-After`): the session may be fine, retry later;
   * - a 2xx from `POST /auth/password` (which re-issues the token, in its body) → adopts the
   *   new token and emits `login`;
   * - anything else (including network errors, which reject as usual) is passed through.
   * A plain function, bound to this client: `hc<AppType>(baseUrl, { fetch: session.fetch })`.
   */
  fetch: FetchFunction;
  /**
   * Opens a WebSocket: gets a single-use ticket (`POST` to `paths.ticket`) and connects to `path`
   * (http→ws, https→wss) offering the subprotocols `["session", ticket, ...protocols]`. The
   * ticket travels in `Sec-WebSocket-Protocol`, so the URL stays clean; the worker answers
   * with the `session` subprotocol. This worker's `/ws` accepts exactly the pair, so leave
   * `protocols` empty unless your server takes more. Throws `UnauthorizedError` when signed
   * out or refused (and then emits `unauthorized`), `StoreUnavailableError` on 503. The socket
   * is returned at once (CONNECTING): listen for `open`, `message` and `close` (4401
   * `session_ended` when the session ends). A `path` on another origin than `baseUrl`'s is
   * refused with a `TypeError` before any ticket is minted: the ticket, and with
   * `socketAuthorization` the token, go only to the server that issued them.
   * @param path @default paths.socket ("/ws")
   * @param protocols @default []
   */
  openSocket(path?: string, protocols?: string[]): Promise<WebSocket>;
  /**
   * Signs a reloaded page back in. Cookie mode: asks the worker (`GET /auth/session`, with the
   * cookie) and resolves to the user, emitting `login`, or to null when there is no live session
   * (the worker then clears a stale cookie). Bearer mode: the user restored from `storage`, if
   * any, without a request. Throws `StoreUnavailableError` on 503 (the cookie may be fine: retry).
   */
  restore(): Promise<SessionUser | null>;
  /** Subscribes to an event; returns the function that unsubscribes. */
  on<E extends SessionEventName>(event: E, handler: SessionEventHandler<E>): () => void;
}

interface Held {
  /** null in cookie mode. */
  token: string | null;
  user: SessionUser;
  expiresAt: string;
  idleExpiresAt: string;
}

/** Creates a client. Nothing is sent until you call one of its methods. */
export function createSessionClient<T extends SessionTransport = "bearer">(options: SessionClientOptions & { transport?: T }): SessionClient<T> {
  if (!options || options.baseUrl === undefined || options.baseUrl === null || String(options.baseUrl) === "") {
    throw new TypeError("createSessionClient: baseUrl is required (e.g. location.origin)");
  }
  const base = new URL(String(options.baseUrl));
  const transport = (options.transport ?? "bearer") as T;
  if (transport !== "bearer" && transport !== "cookie") throw new TypeError(`createSessionClient: transport must be "bearer" or "cookie" (got ${String(options.transport)})`);
  const cookieMode = transport === "cookie";
  if (cookieMode && options.storage) throw new TypeError("createSessionClient: storage holds a Bearer token; cookie mode keeps none in JavaScript (drop storage)");
  const storageKey = options.storageKey ?? "edge-session";
  const paths: SessionPaths = { ...DEFAULT_PATHS, ...options.paths };
  const now = options.now ?? Date.now;
  const send: FetchFunction = options.fetch ?? ((input, init) => globalThis.fetch(input, init));
  let storage: TokenStorage | null = options.storage ?? null;
  if (options.dpop && (cookieMode || options.socketAuthorization)) throw new TypeError("createSessionClient: dpop binds a Bearer token; it cannot be combined with cookie mode or socketAuthorization");
  const dpopKey: Promise<DpopKey> | null = !options.dpop ? null : options.dpop === true ? loadDpopKey() : Promise.resolve(options.dpop);
  /** A proof for one request to the worker (DPoP mode), set on `request` with the token's scheme. */
  async function prove(request: Request, token?: string): Promise<void> {
    if (!dpopKey) return;
    request.headers.set("DPoP", await (await dpopKey).proof(request.method, request.url, token));
    if (token !== undefined) request.headers.set("Authorization", `DPoP ${token}`);
  }
  const handlers: { [E in SessionEventName]: Set<SessionEventHandler<E>> } = {
    login: new Set(),
    logout: new Set(),
    unauthorized: new Set(),
  };

  let held: Held | null = restore();

  function restore(): Held | null {
    if (!storage) return null;
    try {
      const raw = storage.getItem(storageKey);
      const parsed = raw === null ? null : parseHeld(JSON.parse(raw) as unknown);
      if (parsed && Date.parse(parsed.expiresAt) > now()) return parsed;
      if (raw !== null) storage.removeItem(storageKey);
    } catch {
      // Unreadable or unavailable storage: start signed out.
    }
    return null;
  }

  function persist(): void {
    if (!storage) return;
    try {
      if (held) storage.setItem(storageKey, JSON.stringify(held));
      else storage.removeItem(storageKey);
    } catch {
      // A storage that refuses (quota, privacy mode) is dropped: memory only from now on.
      storage = null;
    }
  }

  function hold(grant: SessionGrant): void {
    held = { token: grant.token, user: grant.user, expiresAt: grant.expiresAt, idleExpiresAt: grant.idleExpiresAt };
    persist();
    emit("login", { user: grant.user, expiresAt: grant.expiresAt, idleExpiresAt: grant.idleExpiresAt });
  }

  function forget(): void {
    held = null;
    persist();
  }

  function emit<E extends SessionEventName>(event: E, detail: SessionEvents[E]): void {
    for (const handler of [...handlers[event]]) {
      try {
        handler(detail);
      } catch (error) {
        // A failing handler must not break the client or the other handlers: report it apart.
        queueMicrotask(() => {
          throw error;
        });
      }
    }
  }

  const resolve = (path: string | URL): URL => new URL(path, base);
  const isOurs = (url: string): boolean => new URL(url).origin === base.origin;

  /**
   * A request to the worker with the cookie and the CSRF header (cookie mode).
   * `credentials: "same-origin"`, not `"include"`: the cookie is host-only and the worker's CORS
   * never allows credentials, so a cross-origin request could not carry it anyway. (The Workers
   * type definitions lack the member, hence the cast; workerd accepts and ignores it.)
   */
  function withCookie(request: Request): Request {
    const headers = new Headers(request.headers);
    if (!headers.has(CSRF_HEADER)) headers.set(CSRF_HEADER, CSRF_HEADER_VALUE);
    return new Request(request, { headers, credentials: "same-origin" } as RequestInit);
  }

  async function authenticate(path: string, email: string, password: string): Promise<SessionGrant> {
    const request = new Request(resolve(path), {
      method: "POST",
      headers: { "Content-Type": "application/json", Accept: "application/json" },
      body: JSON.stringify(cookieMode ? { email, password, transport: "cookie" } : { email, password }),
    });
    if (!cookieMode) await prove(request);
    const res = await send(cookieMode ? withCookie(request) : request);
    // A failed login is not a refused token: a plain error, no `unauthorized` event.
    if (!res.ok) throw await errorFromResponse(res, { tokenSent: false });
    const grant = cookieMode ? parseCookieGrant(await readJson(res)) : parseGrant(await readJson(res));
    if (!grant) throw new SessionClientError(res.status, "unexpected_response", { message: `${path} answered ${res.status} without a session` });
    hold(grant);
    return grant;
  }

  /**
   * What both transports do with a refusal: a 401 forgets the credential if it is still the one
   * held (`stillHeld`) and emits `unauthorized`; a 503 from the store throws
   * `StoreUnavailableError`. True when the response was such a refusal.
   */
  async function refused(res: Response, stillHeld: boolean, url: string): Promise<boolean> {
    if (res.status === 401) {
      if (stillHeld) {
        const reason = parseErrorBody(await readJson(res.clone()))?.reason;
        forget();
        emit("unauthorized", { status: 401, reason, url });
      }
      return true;
    }
    if (res.status === 503) {
      const error = await errorFromResponse(res.clone(), { tokenSent: true });
      if (error instanceof StoreUnavailableError) throw error;
      return true;
    }
    return false;
  }

  const cookieFetch: FetchFunction = async (input, init) => {
    const request = new Request(typeof input === "string" || input instanceof URL ? resolve(input) : input, init);
    // Another origin, or a request that brings its own Authorization: passed through as given.
    if (!isOurs(request.url) || request.headers.has("Authorization")) return send(request);
    const sentWith = held;
    let res = await send(withCookie(request.clone()));
    // Sent with the long-lived cookie while the browser was swapping it for a DBSC-bound one:
    // the browser now holds the bound cookie, so the same request once more.
    if (res.status === 401 && parseErrorBody(await readJson(res.clone()))?.reason === "device_bound") res = await send(withCookie(request));
    // On a 401 the worker has cleared the cookie. Only the session that was in use is forgotten.
    if (await refused(res, sentWith !== null && held === sentWith, request.url)) return res;
    // A password change re-issues the session into a new cookie: adopt what the body describes.
    if (res.ok && new URL(request.url).pathname === resolve(paths.password).pathname && held === sentWith) {
      const grant = parseCookieGrant(await readJson(res.clone()));
      if (grant) hold(grant);
    }
    return res;
  };

  const bearerFetch: FetchFunction = async (input, init) => {
    const request = new Request(typeof input === "string" || input instanceof URL ? resolve(input) : input, init);
    const token = held?.token ?? null;
    let sent: string | null = null;
    if (token !== null && isOurs(request.url) && !request.headers.has("Authorization")) {
      request.headers.set("Authorization", `Bearer ${token}`);
      await prove(request, token);
      sent = token;
    }
    const res = await send(request);
    if (sent === null) return res;

    // Only the token that was refused is forgotten: a login that finished meanwhile stays.
    if (await refused(res, held?.token === sent, request.url)) return res;
    // A password change re-issues the token, in the body only (never in a response header).
    if (res.ok && request.method === "POST" && new URL(request.url).pathname === resolve(paths.password).pathname) {
      const grant = parseGrant(await readJson(res.clone()));
      if (grant && held?.token === sent) hold(grant);
    }
    return res;
  };

  const authedFetch: FetchFunction = cookieMode ? cookieFetch : bearerFetch;

  /** The server's answer to a logout: done (2xx, or 401: already ended), or thrown. */
  async function confirmLogout(res: Response): Promise<void> {
    if (res.ok || res.status === 401) {
      await res.body?.cancel();
      return;
    }
    throw await errorFromResponse(res, { tokenSent: true });
  }

  async function cookieLogout(): Promise<{ ended: true }> {
    // Sent even when nothing is held: a cookie from before a reload may still be there.
    const was = held;
    await confirmLogout(await send(withCookie(new Request(resolve(paths.logout), { method: "POST" }))));
    if (held === was) forget();
    if (was !== null) emit("logout", { ended: true });
    return { ended: true };
  }

  async function restoreSession(): Promise<SessionUser | null> {
    if (!cookieMode) return held?.user ?? null;
    const res = await send(withCookie(new Request(resolve(paths.session), { headers: { Accept: "application/json" } })));
    // 204: no cookie at all (the worker says so without a 401, which browsers log as an error);
    // 401: a cookie, but its session has ended (the worker clears it).
    if (res.status === 204 || res.status === 401) {
      await res.body?.cancel();
      forget();
      return null;
    }
    if (!res.ok) throw await errorFromResponse(res, { tokenSent: true });
    const body = await readJson(res);
    const b = typeof body === "object" && body !== null ? (body as { user?: unknown; session?: { expiresAt?: unknown; idleExpiresAt?: unknown } }) : {};
    const grant = parseCookieGrant({ transport: "cookie", user: b.user, expiresAt: b.session?.expiresAt, idleExpiresAt: b.session?.idleExpiresAt });
    if (!grant) throw new SessionClientError(res.status, "unexpected_response", { message: `${paths.session} answered without a session` });
    hold(grant);
    return grant.user;
  }

  async function logout(): Promise<{ ended: true }> {
    if (cookieMode) return cookieLogout();
    const token = held?.token ?? null;
    if (token === null) return { ended: true };
    const out = new Request(resolve(paths.logout), { method: "POST", headers: { Authorization: `Bearer ${token}` } });
    await prove(out, token);
    await confirmLogout(await send(out));
    if (held?.token === token) forget();
    emit("logout", { ended: true });
    return { ended: true };
  }

  async function openSocket(path = paths.socket, protocols: string[] = []): Promise<WebSocket> {
    if (held === null) throw new UnauthorizedError(401, "unauthorized", { reason: "missing", message: "openSocket: not signed in" });
    // An absolute or `//` path names its own origin: the ticket (and the token) stay with ours.
    const target = resolve(path);
    if (target.protocol === "ws:" || target.protocol === "wss:") target.protocol = target.protocol === "wss:" ? "https:" : "http:";
    if (!isOurs(target.href)) throw new TypeError(`openSocket: ${target.origin} is not ${base.origin}; the ticket is only sent to the server that issued it`);
    if (cookieMode) {
      // The browser sends the same-site cookie with the handshake; the worker checks Origin.
      const url = new URL(target);
      url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
      const Ctor = options.WebSocket ?? globalThis.WebSocket;
      return protocols.length ? new Ctor(url.href, protocols) : new Ctor(url.href);
    }
    const res = await authedFetch(resolve(paths.ticket), { method: "POST", headers: { Accept: "application/json" } });
    if (!res.ok) throw await errorFromResponse(res, { tokenSent: true });
    const body = await readJson(res);
    const ticket = typeof body === "object" && body !== null ? (body as { ticket?: unknown }).ticket : undefined;
    if (typeof ticket !== "string" || ticket === "") throw new SessionClientError(res.status, "unexpected_response", { message: `${paths.ticket} answered without a ticket` });
    const url = new URL(target);
    url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
    const Ctor = options.WebSocket ?? globalThis.WebSocket;
    if (options.socketAuthorization && held !== null) {
      return new Ctor(url.href, [TICKET_PROTOCOL, ticket, ...protocols], { headers: { Authorization: `Bearer ${held.token}` } });
    }
    return new Ctor(url.href, [TICKET_PROTOCOL, ticket, ...protocols]);
  }

  return {
    transport,
    get token() {
      return held?.token ?? null;
    },
    get user() {
      return held?.user ?? null;
    },
    get expiresAt() {
      return held?.expiresAt ?? null;
    },
    login: (email, password) => authenticate(paths.login, email, password) as Promise<GrantFor<T>>,
    register: (email, password) => authenticate(paths.register, email, password) as Promise<GrantFor<T>>,
    adopt(grant) {
      const parsed = cookieMode ? parseCookieGrant(grant) : parseGrant(grant);
      if (!parsed) throw new TypeError(cookieMode ? "adopt: not a cookie grant ({ transport: \"cookie\", expiresAt, idleExpiresAt, user })" : "adopt: not a session grant ({ token, expiresAt, user } or createSession()'s { token, session, user })");
      hold(parsed);
    },
    logout,
    forget() {
      const was = held;
      forget();
      if (was !== null) emit("logout", { ended: false });
    },
    restore: restoreSession,
    fetch: authedFetch,
    openSocket,
    on(event, handler) {
      const set = handlers[event] as Set<typeof handler>;
      set.add(handler);
      return () => {
        set.delete(handler);
      };
    },
  };
}

function isUser(v: unknown): v is SessionUser {
  if (typeof v !== "object" || v === null) return false;
  const u = v as Record<string, unknown>;
  return typeof u.id === "string" && typeof u.email === "string" && Array.isArray(u.roles) && u.roles.every((r) => typeof r === "string");
}

/** An ISO 8601 string or ms since the epoch, as an ISO string; null for anything else. */
function isoTime(v: unknown): string | null {
  const ms = typeof v === "number" ? v : typeof v === "string" ? Date.parse(v) : NaN;
  return Number.isFinite(ms) ? new Date(ms).toISOString() : null;
}

/**
 * A Bearer grant from `login()`'s answer or from `createSession()`'s result: the expiries at the
 * top level or in `session`, as ISO strings or ms. Without an idle expiry, the absolute one
 * stands for it (the server slides it; the client only displays it).
 */
function parseGrant(v: unknown): BearerGrant | null {
  if (typeof v !== "object" || v === null) return null;
  const g = v as Record<string, unknown>;
  const session = typeof g.session === "object" && g.session !== null ? (g.session as Record<string, unknown>) : {};
  const expiresAt = isoTime(g.expiresAt ?? session.expiresAt);
  const idleExpiresAt = isoTime(g.idleExpiresAt ?? session.idleExpiresAt) ?? expiresAt;
  if (typeof g.token !== "string" || g.token === "" || !expiresAt || !idleExpiresAt || !isUser(g.user)) return null;
  return { token: g.token, tokenType: "Bearer", expiresAt, idleExpiresAt, user: g.user };
}

/** A cookie-mode answer: the user and expiries, and (by design) no token. */
function parseCookieGrant(v: unknown): CookieGrant | null {
  if (typeof v !== "object" || v === null) return null;
  const g = v as Record<string, unknown>;
  if (g.transport !== "cookie" || typeof g.expiresAt !== "string" || typeof g.idleExpiresAt !== "string" || !isUser(g.user)) return null;
  return { token: null, tokenType: "Cookie", expiresAt: g.expiresAt, idleExpiresAt: g.idleExpiresAt, user: g.user };
}

function parseHeld(v: unknown): Held | null {
  const g = parseGrant(v);
  return g && { token: g.token, user: g.user, expiresAt: g.expiresAt, idleExpiresAt: g.idleExpiresAt };
}
