// The demo SPA: plain ES modules, no framework. The session client is bundled from
// src/client by `npm run build:client` (run before `npm run dev`, `npm test` and `npm run check`).
// Cookie mode: this page is served by the worker itself, so the token lives in the worker's
// HttpOnly `__Host-session` cookie — no script here can read it, and a reload stays signed in
// (`session.restore()` below). The "Bearer flow" card shows the other transport, the one for
// SPAs on other origins, mobile apps and servers.
import { createSessionClient, StoreUnavailableError } from "./vendor/session-client.js";

const session = createSessionClient({ baseUrl: location.origin, transport: "cookie" });

const $ = (id) => {
  const el = document.getElementById(id);
  if (!el) throw new Error(`#${id} is missing from index.html`);
  return el;
};

const ui = {
  signinView: $("signin-view"),
  signinTitle: $("signin-title"),
  signinNotice: $("signin-notice"),
  signinForm: $("signin-form"),
  signinError: $("signin-error"),
  email: $("email"),
  password: $("password"),
  registerButton: $("register-button"),
  ssoButton: $("sso-button"),
  demoHint: $("demo-hint"),
  appView: $("app-view"),
  appTitle: $("app-title"),
  whoami: $("whoami"),
  whoamiEmail: $("whoami-email"),
  meEmail: $("me-email"),
  meId: $("me-id"),
  meRoles: $("me-roles"),
  meExpires: $("me-expires"),
  meBound: $("me-bound"),
  refresh: $("refresh-button"),
  logout: $("logout-button"),
  logoutAll: $("logout-all-button"),
  sessionsBody: /** @type {HTMLTableElement} */ ($("sessions")).tBodies[0],
  sessionsRefresh: $("sessions-refresh"),
  wsStatus: $("ws-status"),
  wsNotice: $("ws-notice"),
  wsPresence: $("ws-presence"),
  wsConnect: $("ws-connect"),
  wsDisconnect: $("ws-disconnect"),
  wsForm: $("ws-form"),
  wsInput: $("ws-input"),
  wsSend: $("ws-send"),
  wsMessages: $("ws-messages"),
  log: $("log"),
  logClear: $("log-clear"),
  bearerTry: $("bearer-try"),
  bearerSteps: $("bearer-steps"),
};

// ---------------------------------------------------------------------------------------------
// Event log

const MAX_LOG = 200;

function log(text, kind = "info") {
  const li = document.createElement("li");
  li.className = `log-${kind}`;
  const time = document.createElement("time");
  const now = new Date();
  time.dateTime = now.toISOString();
  time.textContent = now.toLocaleTimeString();
  li.append(time, " ", text);
  ui.log.prepend(li);
  while (ui.log.children.length > MAX_LOG) ui.log.lastElementChild?.remove();
}

// ---------------------------------------------------------------------------------------------
// Views

function showSignIn(notice) {
  ui.appView.hidden = true;
  ui.whoami.hidden = true;
  ui.signinView.hidden = false;
  ui.signinNotice.hidden = !notice;
  ui.signinNotice.textContent = notice ?? "";
  // Nothing of the ended session stays on the page (hidden is not gone).
  ui.whoamiEmail.textContent = "";
  for (const el of [ui.meEmail, ui.meId, ui.meRoles, ui.meExpires]) el.textContent = "…";
  ui.sessionsBody.replaceChildren();
  ui.signinTitle.focus();
}

function showApp() {
  ui.signinView.hidden = true;
  ui.signinError.hidden = true;
  ui.appView.hidden = false;
  ui.whoami.hidden = false;
  ui.whoamiEmail.textContent = session.user?.email ?? "";
  ui.meExpires.textContent = session.expiresAt ? formatTime(session.expiresAt) : "…";
  ui.appTitle.focus();
}

/** Set while the session came from SSO, so that signing out also signs out at the provider. */
const SSO_MARK = "edge-session-demo:sso";

session.on("login", ({ user }) => log(`Signed in as ${user.email}.`, "ok"));
session.on("logout", () => {
  sessionStorage.removeItem(SSO_MARK);
  log("Signed out: the session is ended on the server.", "ok");
  showSignIn("You are signed out.");
});
session.on("unauthorized", ({ reason }) => {
  sessionStorage.removeItem(SSO_MARK);
  log(`401 from the API (${reason ?? "no reason"}): the token is gone, back to sign-in.`, "error");
  showSignIn(`Your session has ended (${reason ?? "unauthorized"}). Please sign in again.`);
});

// ---------------------------------------------------------------------------------------------
// API calls

/** Calls the worker with the session; returns parsed JSON, or null when the call did not succeed. */
async function api(path, init) {
  try {
    const res = await session.fetch(path, init);
    if (res.status === 401) return null; // `unauthorized` already moved us to sign-in.
    if (res.status === 204) return {};
    const body = await res.json().catch(() => null);
    if (!res.ok) {
      log(`${init?.method ?? "GET"} ${path} → ${res.status} ${body?.error ?? ""}`, "error");
      return null;
    }
    return body;
  } catch (error) {
    if (error instanceof StoreUnavailableError) {
      log(`The session store is unavailable; your session is kept. Try again in ${error.retryAfter ?? "a few"} s.`, "warn");
    } else {
      log(`${init?.method ?? "GET"} ${path} failed: ${error instanceof Error ? error.message : String(error)}`, "error");
    }
    return null;
  }
}

async function loadMe() {
  const body = await api("/api/me");
  if (!body) return;
  ui.meEmail.textContent = body.user.email;
  ui.meId.textContent = body.user.id;
  ui.meRoles.textContent = body.user.roles.length ? body.user.roles.join(", ") : "none";
  log(`GET /api/me → ${body.user.email}`);
  await loadBinding();
}

/** Whether this session is bound to this device's key (DBSC), as the worker's record says. */
async function loadBinding() {
  const body = await api("/auth/session");
  if (!body) return;
  const bound = body.session.bound;
  ui.meBound.dataset.bound = bound ?? "";
  ui.meBound.textContent = bound === "dbsc"
    ? "Bound to this device (DBSC): the cookie lasts minutes and only this browser's key renews it"
    : "Not bound: this browser does not do DBSC, so the cookie is the long-lived one";
}

async function loadSessions() {
  const body = await api("/auth/sessions");
  if (!body) return;
  const rows = body.sessions
    .slice()
    .sort((a, b) => Number(b.current) - Number(a.current) || Date.parse(b.lastSeenAt) - Date.parse(a.lastSeenAt))
    .map(sessionRow);
  ui.sessionsBody.replaceChildren(...rows);
}

function sessionRow(s) {
  const tr = document.createElement("tr");
  tr.dataset.sessionId = s.id;
  tr.dataset.current = String(Boolean(s.current));
  // The worker stores a short label ("Chrome 136 on macOS"), not the raw User-Agent.
  const device = s.device || "Unknown device";

  const deviceCell = document.createElement("td");
  const name = document.createElement("span");
  name.textContent = device;
  name.title = s.device ?? "";
  deviceCell.append(name);
  if (s.current) {
    const badge = document.createElement("span");
    badge.className = "badge current";
    badge.textContent = "this device";
    deviceCell.append(" ", badge);
  }
  if (s.bound) {
    const badge = document.createElement("span");
    badge.className = "badge bound";
    badge.textContent = `bound to ${s.current ? "this" : "its"} device (${s.bound.toUpperCase()})`;
    deviceCell.append(" ", badge);
  }

  const cell = (text, title) => {
    const td = document.createElement("td");
    td.textContent = text;
    if (title) td.title = title;
    return td;
  };

  const actions = document.createElement("td");
  const revoke = document.createElement("button");
  revoke.type = "button";
  revoke.className = "danger small";
  revoke.textContent = s.current ? "Sign out" : "Revoke";
  revoke.setAttribute("aria-label", s.current ? "Sign out this device" : `Revoke the session of ${device}, last seen ${formatTime(s.lastSeenAt)}`);
  revoke.addEventListener("click", () => (s.current ? signOut() : revokeSession(s.id, device)));
  actions.append(revoke);

  tr.append(
    deviceCell,
    cell(s.ip || "—"),
    cell(formatTime(s.createdAt), s.createdAt),
    cell(formatTime(s.lastSeenAt), s.lastSeenAt),
    cell(formatTime(s.expiresAt), s.expiresAt),
    actions,
  );
  return tr;
}

async function revokeSession(id, device) {
  const res = await api(`/auth/sessions/${encodeURIComponent(id)}`, { method: "DELETE" });
  if (res) log(`Revoked the session of ${device}.`, "ok");
  await loadSessions();
}

async function signOut() {
  if (sso && sessionStorage.getItem(SSO_MARK)) return signOutWithProvider();
  try {
    await session.logout(); // The `logout` event shows the sign-in view.
  } catch (error) {
    // Not confirmed: the session is still live on the server, and still held here to retry.
    log(`Sign-out failed, you are still signed in: ${error instanceof Error ? error.message : String(error)}. Try again.`, "error");
  }
}

async function signOutEverywhere() {
  if (!confirm("Sign out everywhere? Every session of this account ends, on every device, this one included.")) return;
  const body = await api("/auth/sessions/revoke-others", { method: "POST" });
  if (body) log(`Revoked ${body.revoked} other session${body.revoked === 1 ? "" : "s"}.`, "ok");
  await signOut();
}

// ---------------------------------------------------------------------------------------------
// WebSocket

/** @type {WebSocket | null} */
let socket = null;

function setSocketState(state, text) {
  ui.wsStatus.dataset.state = state;
  ui.wsStatus.textContent = text;
  const open = state === "open";
  ui.wsConnect.disabled = state === "open" || state === "connecting";
  ui.wsDisconnect.disabled = !open;
  ui.wsInput.disabled = !open;
  ui.wsSend.disabled = !open;
}

function addMessage(direction, text) {
  const li = document.createElement("li");
  li.className = `msg-${direction}`;
  const tag = document.createElement("span");
  tag.className = "dir";
  tag.textContent = direction === "in" ? "⇠ in" : "⇢ out";
  const body = document.createElement("code");
  body.textContent = text;
  li.append(tag, " ", body);
  ui.wsMessages.append(li);
  li.scrollIntoView({ block: "nearest" });
}

/** Who is in the room, from the room's hello and presence messages. */
function showPresence(users) {
  if (!users.length) {
    ui.wsPresence.textContent = "nobody";
    return;
  }
  ui.wsPresence.replaceChildren(
    ...users.map((u) => {
      const span = document.createElement("span");
      span.className = "person";
      span.dataset.userId = u.id;
      // The room names others by id unless WS_ROOM_EMAILS=on.
      const name = u.email ?? `user ${u.id.slice(0, 6)}`;
      span.textContent = u.id === session.user?.id ? `${session.user.email} (you)` : name;
      return span;
    }),
  );
}

/** One frame from the room: hello and messages are listed; presence updates the list of who is online. */
function onRoomMessage(text) {
  if (text === "pong") return; // the answer to our keep-alive
  let m = null;
  try {
    m = JSON.parse(text);
  } catch {
    // Not JSON: listed as it came.
  }
  if (m?.type === "presence") return showPresence(m.users);
  if (m?.type === "hello") showPresence(m.presence ?? []);
  addMessage("in", text);
}

/** What a close code means to the person looking at the page. */
function closeNotice(code) {
  if (code === 4401) return "Your session has ended (signed out here or on another device, or revoked): this socket was closed by the server.";
  if (code === 4503) return "The session store could not confirm your session: the socket was closed. Connect again in a moment.";
  if (code === 1009) return "That message was too big: the room closed the socket.";
  if (code === 1008) return "Too many messages too fast: the room closed the socket.";
  return "";
}

async function connect() {
  if (socket) return;
  setSocketState("connecting", "connecting…");
  ui.wsNotice.hidden = true;
  let ws;
  try {
    ws = await session.openSocket("/ws?room=lobby");
  } catch (error) {
    setSocketState("closed", "not connected");
    if (error instanceof StoreUnavailableError) log(`No socket ticket: the session store is unavailable (retry in ${error.retryAfter ?? "a few"} s).`, "warn");
    else log(`Could not open the socket: ${error instanceof Error ? error.message : String(error)}`, "error");
    return;
  }
  socket = ws;
  ws.addEventListener("open", () => {
    // One keep-alive at once: answered by the runtime without waking the room. A socket that has
    // sent a frame also sees a server-side close end its connection at once; without it, local
    // workerd keeps the connection until the room is evicted (docs/SILENT-CLIENTS.md).
    ws.send("ping");
    setSocketState("open", ws.protocol ? `open (subprotocol “${ws.protocol}”)` : "open (session cookie)");
    log(ws.protocol ? "WebSocket open; the ticket travelled as a subprotocol, not in the URL." : "WebSocket open, authenticated by the session cookie (the worker checked Origin); nothing in the URL.", "ok");
  });
  ws.addEventListener("message", (event) => {
    if (typeof event.data === "string") onRoomMessage(event.data);
    else addMessage("in", "[binary]");
  });
  ws.addEventListener("close", (event) => {
    if (socket === ws) socket = null;
    const why = `${event.code}${event.reason ? ` ${event.reason}` : ""}`;
    setSocketState("closed", `closed: ${why}`);
    ui.wsPresence.textContent = "not in the room";
    const notice = closeNotice(event.code);
    ui.wsNotice.textContent = notice;
    ui.wsNotice.hidden = !notice;
    const ended = event.code === 4401;
    log(ended ? `WebSocket closed by the server: ${why} (the session has ended).` : `WebSocket closed: ${why}.`, ended ? "warn" : "info");
    // The server says the session has ended: back to sign-in now, not at the next API call.
    // (After a sign-out here the sign-in view is already showing, with its own notice.)
    if (ended && !ui.appView.hidden) showSignIn(notice);
  });
}

function disconnect() {
  socket?.close(1000, "bye");
}

// ---------------------------------------------------------------------------------------------
// Wiring

async function authenticate(kind) {
  ui.signinError.hidden = true;
  const email = ui.email.value.trim();
  const password = ui.password.value;
  const buttons = ui.signinForm.querySelectorAll("button");
  buttons.forEach((b) => (b.disabled = true));
  try {
    if (kind === "register") await session.register(email, password);
    else await session.login(email, password);
    sessionStorage.removeItem(SSO_MARK);
    showApp();
    await Promise.all([loadMe(), loadSessions()]);
  } catch (error) {
    const code = error?.code ?? "";
    const text =
      code === "invalid_credentials"
        ? "Wrong email or password."
        : code === "rate_limited"
          ? `Too many attempts; try again in ${error.retryAfter ?? "a few"} s.`
          : code === "email_taken"
            ? "An account with that email exists: sign in instead."
            : code === "session_store_unavailable"
              ? "The session store is unavailable; try again shortly."
              : `Could not ${kind === "register" ? "create the account" : "sign in"}: ${error instanceof Error ? error.message : String(error)}`;
    ui.signinError.textContent = text;
    ui.signinError.hidden = false;
    log(text, "error");
  } finally {
    buttons.forEach((b) => (b.disabled = false));
  }
}

ui.signinForm.addEventListener("submit", (event) => {
  event.preventDefault();
  void authenticate("login");
});
ui.registerButton.addEventListener("click", () => void authenticate("register"));

// Development only (`npm run dev` serves dev/worker-dev.ts, which answers /dev/info): whether
// "Sign in with SSO" has a local OpenID Connect provider behind it (edge-session/oidc, where it
// starts and signs out), and which demo accounts the runner created. The deployed worker, or a
// plain `wrangler dev`, answers 404: no button, no demo accounts advertised, nothing filled in.
/** @type {{ start: string, logout: string } | null} */
let sso = null;
fetch("/dev/info")
  .then((r) => (r.ok ? r.json() : null))
  .then((info) => {
    sso = info?.sso === true ? { start: info.ssoStart, logout: info.ssoLogout } : null;
    ui.ssoButton.hidden = sso === null;
    const demo = Array.isArray(info?.demoAccounts) ? info.demoAccounts : [];
    if (!demo.length) return;
    ui.demoHint.replaceChildren("Local demo accounts: ");
    demo.forEach((a, i) => {
      const email = document.createElement("code");
      email.textContent = a.email;
      const password = document.createElement("code");
      password.textContent = a.password;
      ui.demoHint.append(i ? ", " : "", email, " / ", password, a.roles?.length ? ` (${a.roles.join(", ")})` : "");
    });
    ui.demoHint.hidden = false;
    const first = demo.find((a) => !a.roles?.length) ?? demo[0];
    if (!ui.email.value && !ui.password.value) {
      ui.email.value = first.email;
      ui.password.value = first.password;
    }
  }, () => {});
ui.ssoButton.addEventListener("click", () => {
  if (!sso) return;
  ui.signinError.hidden = true;
  window.open(sso.start, "edge-session-sso", "popup,width=480,height=640");
});

/** What the popup reports when the provider or a check said no (`edge-session:sso-error`). */
function ssoErrorText(error, reason) {
  if (error === "sso_refused" && reason === "access_denied") return "Sign-in with SSO was cancelled.";
  if (error === "sso_refused") return `Your sign-in provider refused the sign-in (${reason}).`;
  if (error === "forbidden") return `This account is not admitted (${reason}).`;
  if (error === "sso_unavailable") return "The sign-in provider could not be reached. Try again in a moment.";
  if (error === "invalid_request") return "That sign-in is no longer in progress. Start again.";
  return `Sign-in with SSO failed (${reason}).`;
}

// The popup (edge-session/oidc's callback page) posts to this window, addressed to this origin;
// anything from another origin, or shaped otherwise, is ignored. On success the module has put
// the session into the HttpOnly cookie and the grant holds no token: the session is read back
// from the cookie, as after a reload.
window.addEventListener("message", (event) => {
  if (event.origin !== location.origin) return;
  if (event.data?.type === "edge-session:sso-error" && typeof event.data.error === "string") {
    const text = ssoErrorText(event.data.error, String(event.data.reason));
    ui.signinError.textContent = text;
    ui.signinError.hidden = false;
    log(`SSO: ${text}`, "error");
    return;
  }
  if (event.data?.type !== "edge-session:sso" || event.data.grant?.transport !== "cookie") return;
  void (async () => {
    let user = null;
    try {
      user = await session.restore();
    } catch (error) {
      log(`SSO: ${error instanceof Error ? error.message : String(error)}`, "error");
      return;
    }
    if (!user) {
      log("SSO: the sign-in finished but no session cookie arrived.", "error");
      return;
    }
    sessionStorage.setItem(SSO_MARK, "1");
    showApp();
    await Promise.all([loadMe(), loadSessions()]);
  })();
});

/**
 * RP-initiated logout: the module ends the edge session (and clears the cookie) and answers the
 * provider's end-session URL; the page then goes there to sign out at the provider too, which
 * sends it back here.
 */
async function signOutWithProvider() {
  sessionStorage.removeItem(SSO_MARK);
  const res = await fetch(sso.logout, { method: "POST", headers: { "X-CSRF-Protection": "1" } });
  const body = res.ok ? await res.json() : null;
  // Forget the session here too (a 401 from the ended session is a confirmed sign-out).
  await session.logout().catch(() => {});
  if (typeof body?.logoutUrl === "string") location.assign(body.logoutUrl);
}

ui.refresh.addEventListener("click", () => void loadMe());
ui.sessionsRefresh.addEventListener("click", () => void loadSessions());
ui.logout.addEventListener("click", () => void signOut());
ui.logoutAll.addEventListener("click", () => void signOutEverywhere());
ui.wsConnect.addEventListener("click", () => void connect());
ui.wsDisconnect.addEventListener("click", disconnect);
ui.wsForm.addEventListener("submit", (event) => {
  event.preventDefault();
  const text = ui.wsInput.value;
  if (!socket || socket.readyState !== WebSocket.OPEN || text === "") return;
  socket.send(text);
  addMessage("out", text);
  ui.wsInput.value = "";
  ui.wsInput.focus();
});
ui.logClear.addEventListener("click", () => ui.log.replaceChildren());

// ---------------------------------------------------------------------------------------------
// Helpers

/** Compact local time: "14:05" today, "Nov 23, 14:05" this year, "Nov 23, 2027, 14:05" otherwise. */
function formatTime(iso) {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return "—";
  const now = new Date();
  const time = { hour: "numeric", minute: "2-digit" };
  if (d.toDateString() === now.toDateString()) return d.toLocaleTimeString(undefined, time);
  const date = d.getFullYear() === now.getFullYear() ? { month: "short", day: "numeric" } : { year: "numeric", month: "short", day: "numeric" };
  return d.toLocaleString(undefined, { ...date, ...time });
}

// ---------------------------------------------------------------------------------------------
// The Bearer flow, side by side: a second client that holds its token in memory and sends it as
// `Authorization: Bearer …`, as an SPA on another origin, a mobile app or a server would.

/** A token shown without giving it away: its key id and the first characters of its id. */
const masked = (token) => `${token.split(".").slice(0, 2).join(".")}.${token.split(".")[2]?.slice(0, 6) ?? ""}…`;

function bearerStep(text, kind = "info") {
  const li = document.createElement("li");
  li.className = `log-${kind}`;
  li.textContent = text;
  ui.bearerSteps.append(li);
}

async function tryBearer() {
  ui.bearerSteps.replaceChildren();
  ui.bearerTry.disabled = true;
  // DPoP: the token is bound to a non-extractable key this page keeps in IndexedDB.
  const bearer = createSessionClient({ baseUrl: location.origin, dpop: true });
  try {
    const grant = await bearer.login(ui.email.value.trim(), ui.password.value);
    bearerStep(`POST /auth/login with a DPoP proof → 200, body {token: "${masked(grant.token)}"} — held in this page's memory, bound to this device's key`, "ok");
    const res = await bearer.fetch("/api/me");
    const body = await res.json();
    bearerStep(`GET /api/me with Authorization: DPoP ${masked(grant.token)} and a fresh proof → ${res.status} ${body.user?.email ?? ""}`, res.ok ? "ok" : "error");
    const bare = await fetch("/api/me", { headers: { Authorization: `Bearer ${grant.token}` } });
    const refusal = await bare.json();
    bearerStep(`The same token without a proof (a thief's copy) → ${bare.status} ${refusal.reason ?? ""}`, bare.status === 401 ? "ok" : "error");
    await bearer.logout();
    bearerStep("POST /auth/logout with the same header → 204: that session is ended; the cookie session is untouched", "ok");
  } catch (error) {
    bearerStep(`Bearer sign-in failed: ${error instanceof Error ? error.message : String(error)}`, "error");
  } finally {
    ui.bearerTry.disabled = false;
  }
}
ui.bearerTry.addEventListener("click", () => void tryBearer());

// ---------------------------------------------------------------------------------------------
// Start-up: a reloaded page is signed back in from the cookie.

try {
  const user = await session.restore();
  if (user) {
    showApp();
    log(`Signed back in from the session cookie as ${user.email}.`, "ok");
    void loadMe();
    void loadSessions();
  } else {
    showSignIn();
    log("Ready. Sign in to begin.");
  }
} catch (error) {
  showSignIn(error instanceof StoreUnavailableError ? "The session store is unavailable; reload in a few seconds." : undefined);
  log(`Could not check for a session: ${error instanceof Error ? error.message : String(error)}`, "warn");
}
