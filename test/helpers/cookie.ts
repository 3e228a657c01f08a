/** Cookie-transport helpers: sign in for a `__Host-session` cookie, and the headers a same-origin page sends. */
import { BASE, PASSWORD, uniqueEmail, type Fetch, worker } from "./http.js";

export const COOKIE = "__Host-session";

/** What a same-origin page's `fetch` carries for an unsafe method: Origin, Sec-Fetch-Site, the CSRF header. */
export const SAME_ORIGIN = { Origin: BASE, "Sec-Fetch-Site": "same-origin", "X-CSRF-Protection": "1" } as const;

export interface ParsedSetCookie {
  name: string;
  value: string;
  /** Attribute names lower-cased → value ("" for flags). */
  attributes: Map<string, string>;
  raw: string;
}

export function parseSetCookie(raw: string): ParsedSetCookie {
  const [pair, ...attrs] = raw.split(";").map((s) => s.trim());
  const eq = pair!.indexOf("=");
  const attributes = new Map<string, string>();
  for (const a of attrs) {
    const i = a.indexOf("=");
    attributes.set((i === -1 ? a : a.slice(0, i)).toLowerCase(), i === -1 ? "" : a.slice(i + 1));
  }
  return { name: pair!.slice(0, eq), value: pair!.slice(eq + 1), attributes, raw };
}

/** Every `Set-Cookie` header of a response, unparsed (workerd has `getSetCookie()`; its types do not yet). */
export function rawSetCookies(res: { headers: Headers }): string[] {
  return (res.headers as unknown as { getSetCookie(): string[] }).getSetCookie();
}

/** Every `Set-Cookie` of a response, parsed. */
export function setCookies(res: { headers: Headers }): ParsedSetCookie[] {
  return rawSetCookies(res).map(parseSetCookie);
}

/** The one `__Host-session` Set-Cookie of a response, or null. */
export function sessionSetCookie(res: { headers: Headers }): ParsedSetCookie | null {
  const all = setCookies(res).filter((c) => c.name === COOKIE);
  if (all.length > 1) throw new Error(`${all.length} session Set-Cookie headers`);
  return all[0] ?? null;
}

export function cookieHeader(token: string): Record<string, string> {
  return { Cookie: `${COOKIE}=${token}` };
}

export interface CookieLogin {
  token: string;
  email: string;
  password: string;
  res: Response;
  body: any;
}

/** Registers (or logs in, when `email` exists) with `"transport": "cookie"` from a same-origin page. */
export async function cookieSignIn(fetcher: Fetch = worker, o: { email?: string; password?: string; path?: "/auth/register" | "/auth/login" } = {}): Promise<CookieLogin> {
  const email = o.email ?? uniqueEmail("cookie");
  const password = o.password ?? PASSWORD;
  const path = o.path ?? "/auth/register";
  const res = await fetcher(
    new Request(BASE + path, { method: "POST", headers: { "Content-Type": "application/json", ...SAME_ORIGIN }, body: JSON.stringify({ email, password, transport: "cookie" }) }),
  );
  const body = await res.clone().json().catch(() => null);
  if (res.status !== 200 && res.status !== 201) throw new Error(`${path} (cookie) failed: ${res.status} ${JSON.stringify(body)}`);
  const cookie = sessionSetCookie(res);
  if (!cookie) throw new Error(`${path} (cookie) set no session cookie`);
  return { token: cookie.value, email, password, res, body };
}
