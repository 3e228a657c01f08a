// The admin console: a static page on the worker's own origin, signed in with the session cookie
// (cookie mode: no script here sees the token; the client adds the CSRF header to every unsafe
// request). Everything it shows comes from /admin/* (role admin); charts are drawn by uPlot.
import { createSessionClient, StoreUnavailableError, SessionClientError } from "/vendor/session-client.js";
import { metricsView } from "./metrics-view.js";

const session = createSessionClient({ baseUrl: location.origin, transport: "cookie" });
const $ = (id) => {
  const el = document.getElementById(id);
  if (!el) throw new Error(`#${id} is missing from console/index.html`);
  return el;
};

const ui = {
  status: $("status"),
  whoami: $("whoami"),
  whoamiEmail: $("whoami-email"),
  signout: $("signout"),
  signinView: $("signin-view"),
  signinForm: $("signin-form"),
  signinError: $("signin-error"),
  consoleView: $("console-view"),
  findForm: $("find-form"),
  findQuery: $("find-query"),
  findError: $("find-error"),
  userView: $("user-view"),
  toggleDisabled: $("toggle-disabled"),
  killSwitch: $("kill-switch"),
  userRefresh: $("user-refresh"),
  sessions: $("sessions").tBodies[0],
  sessionsEmpty: $("sessions-empty"),
  sockets: $("sockets").tBodies[0],
  socketsEmpty: $("sockets-empty"),
  auditForm: $("audit-form"),
  auditUser: $("audit-user"),
  auditType: $("audit-type"),
  auditFrom: $("audit-from"),
  auditTo: $("audit-to"),
  audit: $("audit").tBodies[0],
  auditEmpty: $("audit-empty"),
  dialog: /** @type {HTMLDialogElement} */ ($("confirm")),
  dialogText: $("confirm-text"),
  dialogOk: $("confirm-ok"),
  dialogCancel: $("confirm-cancel"),
};

/** @type {{ id: string, email: string, roles: string[], disabled: boolean, createdAt: string } | null} */
let current = null;

function say(text, kind = "info") {
  ui.status.textContent = text;
  ui.status.dataset.kind = kind;
}

const time = (iso) => (iso ? new Date(iso).toLocaleString() : "");

/** Calls the admin API; JSON or null (and a status line) when it did not succeed. */
async function api(path, init) {
  try {
    const res = await session.fetch(path, init);
    if (res.status === 401) {
      showSignIn("Your session has ended. Please sign in again.");
      return null;
    }
    if (res.status === 204) return {};
    const body = await res.json().catch(() => null);
    if (!res.ok) {
      say(`${init?.method ?? "GET"} ${path}: ${res.status} ${body?.error ?? ""}${body?.reason ? ` (${body.reason})` : ""}`, "error");
      return res.status === 404 ? { notFound: true } : null;
    }
    return body;
  } catch (error) {
    say(error instanceof StoreUnavailableError ? "The session store is unavailable: try again shortly." : `Request failed: ${error.message}`, "error");
    return null;
  }
}

// ----- The confirm dialog: every destructive action asks first (Cancel has the focus).

function confirmAction(text, okLabel) {
  ui.dialogText.textContent = text;
  ui.dialogOk.textContent = okLabel;
  return new Promise((resolve) => {
    const done = (ok) => {
      ui.dialogOk.removeEventListener("click", yes);
      ui.dialogCancel.removeEventListener("click", no);
      ui.dialog.removeEventListener("cancel", no);
      ui.dialog.close();
      resolve(ok);
    };
    const yes = () => done(true);
    const no = () => done(false);
    ui.dialogOk.addEventListener("click", yes);
    ui.dialogCancel.addEventListener("click", no);
    ui.dialog.addEventListener("cancel", no);
    ui.dialog.showModal();
  });
}

// ----- Sign-in

function showSignIn(message) {
  ui.consoleView.hidden = true;
  ui.whoami.hidden = true;
  ui.signinView.hidden = false;
  ui.signinError.hidden = !message;
  ui.signinError.textContent = message ?? "";
  $("signin-email").focus();
}

function showConsole(user) {
  if (!user.roles.includes("admin")) {
    showSignIn(`${user.email} is not an administrator.`);
    return;
  }
  ui.signinView.hidden = true;
  ui.consoleView.hidden = false;
  ui.whoami.hidden = false;
  ui.whoamiEmail.textContent = user.email;
  void loadAudit();
  void loadMetrics();
  ui.findQuery.focus();
}

ui.signinForm.addEventListener("submit", async (e) => {
  e.preventDefault();
  try {
    const grant = await session.login($("signin-email").value, $("signin-password").value);
    $("signin-password").value = "";
    showConsole(grant.user);
  } catch (error) {
    showSignIn(error instanceof SessionClientError ? `Sign-in refused (${error.code}).` : `Sign-in failed: ${error.message}`);
  }
});

ui.signout.addEventListener("click", async () => {
  await session.logout().catch(() => session.forget());
  current = null;
  ui.userView.hidden = true;
  showSignIn();
});

// ----- A user: account, sessions, sockets

ui.findForm.addEventListener("submit", async (e) => {
  e.preventDefault();
  const q = ui.findQuery.value.trim();
  ui.findError.hidden = true;
  if (!q) return;
  const param = q.includes("@") ? `email=${encodeURIComponent(q)}` : `id=${encodeURIComponent(q)}`;
  const found = await api(`/admin/users?${param}`);
  if (!found || found.notFound) {
    ui.findError.textContent = found?.notFound ? `No user ${q}.` : "The search failed.";
    ui.findError.hidden = false;
    return;
  }
  await showUser(found.user);
  $("user-title").focus();
});

async function showUser(user) {
  current = user;
  ui.userView.hidden = false;
  $("user-email").textContent = user.email;
  $("user-id").textContent = user.id;
  $("user-roles").textContent = user.roles.join(", ") || "none";
  $("user-status").textContent = user.disabled ? "Disabled" : "Active";
  $("user-status").dataset.state = user.disabled ? "disabled" : "active";
  $("user-created").textContent = time(user.createdAt);
  ui.toggleDisabled.textContent = user.disabled ? "Enable account" : "Disable account";
  ui.toggleDisabled.className = user.disabled ? "" : "danger";
  ui.auditUser.value = user.id;
  await Promise.all([loadSessions(), loadSockets(), loadAudit()]);
}

function cell(row, label, text, className) {
  const td = row.insertCell();
  td.dataset.label = label;
  td.textContent = text;
  if (className) td.className = className;
  return td;
}

async function loadSessions() {
  if (!current) return;
  const body = await api(`/admin/users/${current.id}/sessions`);
  ui.sessions.replaceChildren();
  const list = body?.sessions ?? [];
  ui.sessionsEmpty.hidden = list.length > 0;
  for (const s of list) {
    const row = ui.sessions.insertRow();
    row.dataset.session = s.id;
    cell(row, "Device", s.device || "unknown");
    cell(row, "Address", s.ip || "unknown", "mono");
    cell(row, "Created", time(s.createdAt));
    cell(row, "Last seen", time(s.lastSeenAt));
    cell(row, "Expires", time(s.expiresAt));
    const action = cell(row, "Action", "");
    const button = document.createElement("button");
    button.type = "button";
    button.className = "danger small";
    button.textContent = "Revoke";
    button.setAttribute("aria-label", `Revoke the session on ${s.device || "an unknown device"} last seen ${time(s.lastSeenAt)}`);
    button.addEventListener("click", () => revokeOne(s));
    action.append(button);
  }
}

async function loadSockets() {
  if (!current) return;
  const body = await api(`/admin/users/${current.id}/sockets`);
  ui.sockets.replaceChildren();
  const list = body?.sockets ?? [];
  ui.socketsEmpty.hidden = list.length > 0;
  for (const s of list) {
    const row = ui.sockets.insertRow();
    cell(row, "Socket", s.id.slice(0, 12), "mono");
    cell(row, "Session", s.session.slice(0, 12), "mono");
    cell(row, "Room", s.room);
  }
}

async function revokeOne(s) {
  if (!(await confirmAction(`End the session on ${s.device || "an unknown device"} (${s.ip || "unknown address"})? Its sockets close at once.`, "Revoke session"))) return;
  const done = await api(`/admin/users/${current.id}/sessions/${s.id}`, { method: "DELETE" });
  if (done && !done.notFound) say("Session revoked.");
  await refreshUser();
}

ui.killSwitch.addEventListener("click", async () => {
  if (!current) return;
  if (!(await confirmAction(`End every session of ${current.email}? They must sign in again everywhere.`, "End all sessions"))) return;
  const done = await api(`/admin/users/${current.id}/sessions`, { method: "DELETE" });
  if (done) say(`Kill switch: ${done.revoked} session(s) ended.`);
  await refreshUser();
});

ui.toggleDisabled.addEventListener("click", async () => {
  if (!current) return;
  const disable = !current.disabled;
  if (disable && !(await confirmAction(`Disable ${current.email}? Every session ends and sign-in is refused until enabled again.`, "Disable account"))) return;
  if (!disable && !(await confirmAction(`Enable ${current.email}? They can sign in again.`, "Enable account"))) return;
  const done = await api(`/admin/users/${current.id}/${disable ? "disable" : "enable"}`, { method: "POST" });
  if (done) say(disable ? `Account disabled; ${done.revoked} session(s) ended.` : "Account enabled.");
  await refreshUser();
});

ui.userRefresh.addEventListener("click", () => refreshUser());

async function refreshUser() {
  if (!current) return;
  const found = await api(`/admin/users?id=${encodeURIComponent(current.id)}`);
  if (found?.user) await showUser(found.user);
}

// ----- Audit trail

const DETAILS = ["how", "why", "by", "sessions", "session", "device", "net", "roles", "kid"];

async function loadAudit() {
  const params = new URLSearchParams({ limit: "100" });
  const user = ui.auditUser.value.trim();
  if (user) params.set("user", user);
  if (ui.auditType.value) params.set("type", ui.auditType.value);
  if (ui.auditFrom.value) params.set("from", String(new Date(ui.auditFrom.value).getTime()));
  if (ui.auditTo.value) params.set("to", String(new Date(ui.auditTo.value).getTime()));
  const body = await api(`/admin/audit?${params}`);
  ui.audit.replaceChildren();
  const events = body?.events ?? [];
  ui.auditEmpty.hidden = events.length > 0;
  if (body && body.audit === false) ui.auditEmpty.textContent = "The audit trail is off (AUDIT_RETENTION=off).";
  for (const e of events) {
    const row = ui.audit.insertRow();
    row.dataset.type = e.type;
    cell(row, "Time", new Date(e.at).toLocaleString());
    cell(row, "Event", e.type);
    cell(row, "User", e.user ? String(e.user).slice(0, 12) : "", "mono");
    cell(row, "Details", DETAILS.filter((k) => e[k]).map((k) => `${k}: ${k === "sessions" || k === "session" ? shortIds(e[k]) : e[k]}`).join(" · "));
  }
}

const shortIds = (ids) => String(ids).split(",").map((id) => id.slice(0, 8)).join(", ");

ui.auditForm.addEventListener("submit", (e) => {
  e.preventDefault();
  void loadAudit();
});

// ----- Metrics (metrics-view.js)

const loadMetrics = metricsView(api, $);

// ----- Start: a reload stays signed in (the cookie).

const user = await session.restore().catch(() => null);
if (user) showConsole(user);
else showSignIn();
