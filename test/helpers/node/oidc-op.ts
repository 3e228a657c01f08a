/**
 * Test plumbing for the OpenID Connect module against the real certified provider
 * (oidc-provider, panva) on loopback: the provider behind a node server whose handler can be
 * swapped (key rotation is a new provider at the same issuer), a Hono app served by node:http
 * (the provider's back-channel logout must reach it), and a browser stand-in with a cookie jar
 * that follows redirects and fills in the provider's development login and consent forms.
 */
import { generateKeyPairSync } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import Provider, { type Configuration } from "oidc-provider";

export type Handler = (req: IncomingMessage, res: ServerResponse) => void;

export async function listen(handler: () => Handler): Promise<{ server: Server; origin: string; close: () => Promise<void> }> {
  const server = createServer((req, res) => handler()(req, res));
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { server, origin, close: () => new Promise((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }) };
}

/** A node:http handler for a fetch-style app (Hono's `app.fetch`). */
export function nodeHandler(fetchApp: (req: Request) => Response | Promise<Response>, seen?: (req: Request, body: string) => void): Handler {
  return (req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", async () => {
      const body = Buffer.concat(chunks).toString("utf8");
      const headers = new Headers();
      for (const [k, v] of Object.entries(req.headers)) if (typeof v === "string") headers.set(k, v);
      const request = new Request(`http://${req.headers.host}${req.url}`, { method: req.method, headers, body: req.method === "GET" || req.method === "HEAD" ? undefined : body });
      seen?.(request, body);
      const response = await fetchApp(request);
      const out: Record<string, string | string[]> = {};
      response.headers.forEach((v, k) => (out[k] = v));
      const cookies = response.headers.getSetCookie();
      if (cookies.length) out["set-cookie"] = cookies;
      res.writeHead(response.status, out);
      res.end(Buffer.from(await response.arrayBuffer()));
    });
  };
}

/** Private JWKs for the provider's signing keys, one per algorithm, each with its own kid. */
export function signingKeys(tag: string) {
  const jwk = (k: ReturnType<typeof generateKeyPairSync>["privateKey"], alg: string) => ({ ...k.export({ format: "jwk" }), kid: `${tag}-${alg}`, alg, use: "sig" });
  return [
    jwk(generateKeyPairSync("rsa", { modulusLength: 2048 }).privateKey, "RS256"),
    jwk(generateKeyPairSync("rsa", { modulusLength: 2048 }).privateKey, "PS256"),
    jwk(generateKeyPairSync("ec", { namedCurve: "P-256" }).privateKey, "ES256"),
    jwk(generateKeyPairSync("ed25519").privateKey, "EdDSA"),
  ];
}

/**
 * A provider in its default configuration, plus what a deployment must supply: the clients,
 * signing keys, accounts with email claims, the back-channel logout feature, and outgoing
 * requests allowed to loopback.
 */
export function newProvider(issuer: string, clients: Configuration["clients"], keys = signingKeys("k1")): Provider {
  const provider = new Provider(issuer, {
    clients,
    jwks: { keys: keys as never },
    findAccount: (_ctx, id) => ({ accountId: id, claims: () => ({ sub: id, email: `${id}@example.test`, email_verified: true, name: `User ${id}` }) }),
    claims: { email: ["email", "email_verified"], profile: ["name"] },
    features: { backchannelLogout: { enabled: true } },
    // The provider refuses outgoing requests to special-use addresses (SSRF protection); its
    // documented `fetch` hook lets the back-channel logout reach the app on loopback.
    fetch: (url, options) => {
      const { dispatcher: _ssrfGuard, ...rest } = options as RequestInit & { dispatcher?: unknown };
      return globalThis.fetch(url, rest);
    },
  });
  // The provider logs its development warnings once per process; a test run does not need them.
  provider.on("server_error", (_ctx, err) => console.error("oidc-provider server_error", err));
  provider.on("backchannel.error", (_ctx, err) => console.error("oidc-provider backchannel.error", err));
  return provider;
}

/** Cookies by name, sent to every loopback origin as a browser does for one host (ports share cookies). */
export class Jar {
  readonly cookies = new Map<string, string>();
  header(): string {
    return [...this.cookies].map(([k, v]) => `${k}=${v}`).join("; ");
  }
  take(res: Response): void {
    for (const c of res.headers.getSetCookie()) {
      const [pair, ...attrs] = c.split(";");
      const at = pair!.indexOf("=");
      const name = pair!.slice(0, at).trim();
      const value = pair!.slice(at + 1);
      const expired = attrs.some((a) => /^\s*max-age=0\s*$/i.test(a) || /^\s*expires=Thu, 01 Jan 1970/i.test(a));
      if (expired || value === "") this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
  }
  async fetch(url: string | URL, init: RequestInit = {}): Promise<Response> {
    const headers = new Headers(init.headers);
    if (this.cookies.size) headers.set("Cookie", this.header());
    const res = await fetch(url, { ...init, headers, redirect: "manual" });
    this.take(res);
    return res;
  }
}

export interface Browse {
  /** The login the provider's development form is filled with. */
  login?: string;
  /** Press "Cancel" at the provider instead of signing in. */
  cancel?: boolean;
  /** Stop at (and do not fetch) the first URL starting with this. */
  stopAt: string;
}

const attr = (tag: string, name: string) => new RegExp(`${name}="([^"]*)"`).exec(tag)?.[1];
const unescape = (s: string) => s.replace(/&amp;/g, "&").replace(/&#x2F;/g, "/").replace(/&#47;/g, "/").replace(/&quot;/g, '"');

/** Follows redirects and fills the provider's forms until the browser is sent to `stopAt`; returns that URL. */
export async function browse(jar: Jar, start: string, o: Browse): Promise<URL> {
  let url = new URL(start);
  for (let step = 0; step < 20; step++) {
    if (url.href.startsWith(o.stopAt)) return url;
    const res = await jar.fetch(url);
    if (res.status >= 300 && res.status < 400) {
      url = new URL(res.headers.get("Location")!, url);
      continue;
    }
    const html = await res.text();
    if (res.status !== 200) throw new Error(`browse: ${url.href} answered ${res.status}: ${html.slice(0, 300)}`);
    if (o.cancel) {
      const abort = /href="([^"]*\/abort)"/.exec(html)?.[1];
      if (abort) {
        url = new URL(unescape(abort), url);
        continue;
      }
    }
    const form = /<form[^>]*action="([^"]*)"[^>]*>([\s\S]*?)<\/form>/.exec(html);
    if (!form) throw new Error(`browse: no form and no redirect at ${url.href}: ${html.slice(0, 300)}`);
    const fields = new URLSearchParams();
    for (const input of form[2]!.match(/<input[^>]*>/g) ?? []) {
      const name = attr(input, "name");
      if (name) fields.set(name, unescape(attr(input, "value") ?? ""));
    }
    if (fields.get("prompt") === "login") {
      fields.set("login", o.login ?? "alice");
      fields.set("password", "any");
    }
    const posted = await jar.fetch(new URL(unescape(form[1]!), url), { method: "POST", headers: { "Content-Type": "application/x-www-form-urlencoded" }, body: fields });
    if (posted.status < 300 || posted.status >= 400) throw new Error(`browse: form at ${url.href} answered ${posted.status}: ${(await posted.text()).slice(0, 300)}`);
    url = new URL(posted.headers.get("Location")!, url);
  }
  throw new Error(`browse: no arrival at ${o.stopAt}`);
}

/** Confirms the provider's logout page ("Yes, sign me out"), which sends back-channel logout tokens. */
export async function confirmLogout(jar: Jar, logoutUrl: string): Promise<Response> {
  const page = await jar.fetch(logoutUrl);
  const html = await page.text();
  const form = /<form[^>]*action="([^"]*)"[^>]*>([\s\S]*?)<\/form>/.exec(html);
  if (!form) throw new Error(`confirmLogout: no form (${page.status}): ${html.slice(0, 300)}`);
  const fields = new URLSearchParams();
  for (const input of form[2]!.match(/<input[^>]*>/g) ?? []) {
    const name = attr(input, "name");
    if (name) fields.set(name, unescape(attr(input, "value") ?? ""));
  }
  fields.set("logout", "yes");
  return jar.fetch(new URL(unescape(form[1]!), logoutUrl), { method: "POST", headers: { "Content-Type": "application/x-www-form-urlencoded" }, body: fields });
}
