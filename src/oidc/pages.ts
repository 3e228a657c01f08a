/**
 * What the sign-in popup shows when it lands back here: a short page that says what happened in
 * words a person can act on, and tells the window that opened it (`postMessage` addressed to the
 * app's origin only, so no other page can read a grant). The data sits in a JSON block read by
 * `complete.js` at the sub-app's root (`{baseUrl}/complete.js`; the pages are served one level down,
 * at `{baseUrl}/{id}/…`), so the pages run no inline script (`script-src 'self'`).
 */
import type { OidcErrorKind } from "./errors.js";

export const PAGE_HEADERS = {
  "Content-Type": "text/html; charset=utf-8",
  "Cache-Control": "no-store",
  "Content-Security-Policy": "default-src 'none'; script-src 'self'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  "Referrer-Policy": "no-referrer",
} as const;

const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`);

/** One sentence per outcome: what happened and what to do next. */
export function explain(kind: OidcErrorKind, reason: string): { title: string; message: string } {
  if (kind === "sso_refused" && reason === "access_denied") return { title: "Sign-in cancelled", message: "You cancelled the sign-in, or did not give this app access. Close this window and start again if you want to sign in." };
  if (kind === "sso_refused") return { title: "Sign-in refused", message: `Your sign-in provider refused the sign-in (${reason}). Close this window and try again; if it happens again, tell your administrator.` };
  if (kind === "forbidden") return { title: "Account not allowed", message: `You signed in, but this app does not admit this account (${reason}). Ask your administrator for access, or sign in with another account.` };
  if (kind === "sso_unavailable") return { title: "Provider unavailable", message: "Your sign-in provider could not be reached. Close this window and try again in a moment." };
  if (kind === "invalid_request") return { title: "Sign-in expired", message: "This sign-in is no longer in progress (it timed out, or was finished in another window). Close this window and start again from the app." };
  return { title: "Sign-in failed", message: "The answer from your sign-in provider could not be verified, so you were not signed in. Close this window and try again." };
}

function page(title: string, message: string, data: unknown): string {
  const json = JSON.stringify(data).replace(/</g, "\\u003c");
  return `<!doctype html><html lang="en"><meta charset="utf-8"><meta name="viewport" content="width=device-width"><title>${escapeHtml(title)}</title>` +
    `<style>body{font:16px/1.5 system-ui,sans-serif;max-width:28rem;margin:3rem auto;padding:0 1rem}</style>` +
    `<script type="application/json" id="sso-result">${json}</script><script src="../complete.js"></script>` +
    `<h1>${escapeHtml(title)}</h1><p>${escapeHtml(message)}</p></html>`;
}

export function successPage(grant: unknown, appOrigin: string): string {
  return page("Signed in", "You are signed in. This window closes by itself; you can also close it.", { type: "edge-session:sso", grant, appOrigin });
}

export function errorPage(kind: OidcErrorKind, reason: string, appOrigin: string): string {
  const { title, message } = explain(kind, reason);
  return page(title, message, { type: "edge-session:sso-error", error: kind, reason, appOrigin });
}

/** Posts the result to the opener at the app's origin; closes the popup after a success only (an error stays readable). */
export const COMPLETE_SCRIPT = `(() => {
  const data = JSON.parse(document.getElementById("sso-result").textContent);
  if (!window.opener) return;
  const message = data.type === "edge-session:sso" ? { type: data.type, grant: data.grant } : { type: data.type, error: data.error, reason: data.reason };
  window.opener.postMessage(message, data.appOrigin);
  if (data.type === "edge-session:sso") window.close();
})();
`;
