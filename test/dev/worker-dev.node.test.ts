/**
 * dev/worker-dev.ts as `npm run dev` serves it (`wrangler dev`, the local store, a local OpenID
 * Connect provider: test/helpers/node/browser.ts's stack), attacked where it differs from the
 * deployed worker: the development-only SSO routes, and the dev server in front of the worker.
 */
import http from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startStack, type Stack } from "../helpers/node/browser.ts";

const SSO_USER = { email: "sso-dev@example.test", sub: "dev-sso" };
let stack: Stack;
let base = "";

beforeAll(async () => {
  stack = await startStack({}, { sso: SSO_USER });
  base = `http://127.0.0.1:${stack.port}`;
});

afterAll(async () => {
  await stack?.stop();
});

/** Runs the SSO flow up to the provider's redirect back; returns that callback URL and the flow cookie. */
async function toCallback(): Promise<{ callback: URL; cookie: string }> {
  const start = await fetch(`${base}/sso/start`, { redirect: "manual", signal: AbortSignal.timeout(10_000) });
  expect(start.status).toBe(302);
  const cookie = start.headers.getSetCookie().map((c) => c.split(";")[0]).join("; ");
  const authorize = await fetch(start.headers.get("location")!, { redirect: "manual", signal: AbortSignal.timeout(10_000) });
  expect(authorize.status).toBe(302);
  return { callback: new URL(authorize.headers.get("location")!), cookie };
}

describe("attack: a percent-encoded /sso/callback skips the dev cookie wrapper (raw vs decoded path)", () => {
  for (const spelling of ["/sso/callback", "/sso/%63allback", "/sso/c%61llback"]) {
    it(`${spelling}: the token goes into the HttpOnly cookie, never into the page`, async () => {
      const { callback, cookie } = await toCallback();
      expect(callback.pathname).toBe("/sso/callback");
      const url = `${base}${spelling}${callback.search}`;
      const res = await fetch(url, { headers: { Cookie: cookie, Accept: "text/html" }, signal: AbortSignal.timeout(10_000) });
      const page = await res.text();
      expect(res.status, page).toBe(200);
      expect(res.headers.getSetCookie().some((c) => c.startsWith("__Host-session="))).toBe(true);
      const grant = JSON.parse(/<script type="application\/json" id="sso-grant">(.*?)<\/script>/s.exec(page)![1]!) as { grant: Record<string, unknown> };
      expect(grant.grant.transport).toBe("cookie");
      expect(grant.grant).not.toHaveProperty("token");
      expect(grant.grant.user).toMatchObject({ email: SSO_USER.email });
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
