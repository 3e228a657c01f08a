/**
 * dev/worker-dev.ts as `npm run dev` serves it (`wrangler dev`, the local store, a local OpenID
 * Connect provider: test/helpers/node/browser.ts's stack), attacked where it differs from the
 * deployed worker: the development-only SSO routes, and the dev server in front of the worker.
 */
import http from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { emailOf } from "../../dev/local-idp.ts";
import { startStack, type Stack } from "../helpers/node/browser.ts";
import { browse, Jar } from "../helpers/node/oidc-op.ts";

const SSO_LOGIN = "sso-dev";
let stack: Stack;
let base = "";

beforeAll(async () => {
  stack = await startStack({}, { sso: true });
  base = `http://127.0.0.1:${stack.port}`;
});

afterAll(async () => {
  await stack?.stop();
});

/** Signs in at the local provider (its own forms) up to its redirect back; returns that callback URL and the browser's cookies. */
async function toCallback(): Promise<{ callback: URL; jar: Jar }> {
  const jar = new Jar();
  const callback = await browse(jar, `${base}/sso/local/start`, { login: SSO_LOGIN, stopAt: `${base}/sso/local/callback` });
  return { callback, jar };
}

describe("attack: a percent-encoded SSO path gets past the development mount (raw vs decoded path)", () => {
  for (const spelling of ["/sso/local/callback", "/sso/local/%63allback", "/sso/%6cocal/c%61llback", "/%73so/local/callback"]) {
    it(`${spelling}: the module's cookie-mode callback answers, the token goes into the HttpOnly cookie, never into the page`, async () => {
      const { callback, jar } = await toCallback();
      expect(callback.pathname).toBe("/sso/local/callback");
      const res = await jar.fetch(`${base}${spelling}${callback.search}`, { headers: { Accept: "text/html" }, signal: AbortSignal.timeout(10_000) });
      const page = await res.text();
      expect(res.status, page).toBe(200);
      expect(res.headers.getSetCookie().some((c) => c.startsWith("__Host-session="))).toBe(true);
      expect(page).not.toMatch(/v1\.[\w-]+\.[\w-]{20,}/);
      // The session the cookie carries is the provider's user.
      const me = await fetch(`${base}/auth/session`, { headers: { Cookie: jar.header(), "X-CSRF-Protection": "1" }, signal: AbortSignal.timeout(10_000) });
      expect(me.status).toBe(200);
      expect(((await me.json()) as { user: { email: string } }).user.email).toBe(emailOf(SSO_LOGIN));
    });
  }
});

/** A POST with a chunked body of `chunks` × 16 KiB, on a connection of its own; resolves with the status. */
function chunkedPost(path: string, chunks: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = http.request(`${base}${path}`, { method: "POST", agent: false, headers: { "Content-Type": "application/json", "Transfer-Encoding": "chunked" } }, (res) => {
      res.resume();
      res.on("end", () => resolve(res.statusCode!));
    });
    req.on("error", reject);
    req.setTimeout(20_000, () => req.destroy(new Error("timed out")));
    const chunk = Buffer.alloc(16 * 1024, "a");
    let sent = 0;
    const pump = () => {
      while (sent < chunks) {
        sent++;
        if (!req.write(chunk)) return void req.once("drain", pump);
      }
      req.end();
    };
    req.on("error", () => {}); // A server that answers early may reset the upload: the status is what counts.
    pump();
  });
}

describe("attack: an oversized chunked body under wrangler dev breaks the next client's request", () => {
  it("the oversized body gets its 413; the next client, on a connection of its own, gets its answer", async () => {
    for (let round = 0; round < 3; round++) {
      const status = await chunkedPost("/auth/login", 64).catch((e: Error) => e.message);
      expect([413, "socket hang up", "write EPIPE", "read ECONNRESET"]).toContain(status);
      const next = await fetch(`${base}/health`, { signal: AbortSignal.timeout(10_000) });
      const body = await next.text();
      expect(`${next.status} ${body.slice(0, 200)}`).toMatch(/^200 /);
    }
  });
});
