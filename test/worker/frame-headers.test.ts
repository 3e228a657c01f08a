/**
 * The demo page holds a token in memory: it must not be framable. Static assets carry a real
 * CSP with `frame-ancestors 'none'` and `X-Frame-Options: DENY` (public/_headers), served by the
 * assets binding as deployed.
 */
import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";

describe("attack: framing the demo page (clickjacking)", () => {
  it.each(["/", "/index.html", "/app.js", "/style.css"])("%s carries frame-ancestors 'none' and X-Frame-Options: DENY", async (path) => {
    const res = await (env as unknown as { ASSETS: Fetcher }).ASSETS.fetch(`https://edge.test${path}`);
    await res.arrayBuffer();
    expect(res.status).toBe(200);
    expect(res.headers.get("Content-Security-Policy")).toContain("frame-ancestors 'none'");
    expect(res.headers.get("X-Frame-Options")).toBe("DENY");
    expect(res.headers.get("X-Content-Type-Options")).toBe("nosniff");
  });

  it("the _headers file itself is not served", async () => {
    const res = await (env as unknown as { ASSETS: Fetcher }).ASSETS.fetch("https://edge.test/_headers");
    const body = await res.text();
    expect(body).not.toContain("X-Frame-Options");
  });
});
