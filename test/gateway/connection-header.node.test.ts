/**
 * What the runtime does with a client's `Connection` header, measured, and what docs/GATEWAY.md
 * says about it. RFC 9110 §7.6.1 asks a proxy to remove the headers a client names there; the
 * gateway can do so only if the runtime hands `Connection` to the worker at all. The pinned
 * workerd (through Miniflare, as `wrangler dev` runs it) is asked with raw HTTP/1.1 requests,
 * a plain GET and a WebSocket upgrade, and the documentation must state the observed behaviour.
 */
import http from "node:http";
import { readFileSync } from "node:fs";
import { Miniflare } from "miniflare";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { COMPATIBILITY_DATE } from "../helpers/node/bundle.ts";

const ECHO = `export default {
  async fetch(request) {
    const seen = { connection: request.headers.get("connection"), named: request.headers.get("x-named") };
    if (request.headers.get("upgrade") === "websocket") {
      const pair = new WebSocketPair();
      pair[1].accept();
      pair[1].send(JSON.stringify(seen));
      return new Response(null, { status: 101, webSocket: pair[0] });
    }
    return Response.json(seen);
  },
};`;

let mf: Miniflare;
let base: URL;

beforeAll(async () => {
  mf = new Miniflare({ host: "127.0.0.1", port: 0, cf: false, modules: true, compatibilityDate: COMPATIBILITY_DATE, script: ECHO });
  base = new URL((await mf.ready).toString());
}, 60_000);

afterAll(async () => {
  await mf?.dispose();
});

/** A raw HTTP/1.1 request; resolves with the worker's report (JSON body, or the socket's first frame). */
function ask(headers: Record<string, string>): Promise<{ connection: string | null; named: string | null }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: base.hostname, port: base.port, path: "/", headers, timeout: 10_000 });
    req.on("response", (res) => {
      let body = "";
      res.on("data", (d: Buffer) => (body += d));
      res.on("end", () => resolve(JSON.parse(body)));
    });
    req.on("upgrade", (_res, socket, head: Buffer) => {
      const first = (frame: Buffer) => {
        // A short unmasked text frame from the server: 2 header bytes (or 4 with a 16-bit length).
        const len = frame[1]! & 0x7f;
        resolve(JSON.parse(frame.subarray(len === 126 ? 4 : 2).toString("utf8")));
        socket.destroy();
      };
      // The frame may have come with the 101 already.
      if (head.length) first(head);
      else socket.once("data", first);
    });
    req.on("timeout", () => req.destroy(new Error("timed out")));
    req.on("error", reject);
    req.end();
  });
}

describe("a client's Connection header under the pinned workerd", () => {
  it("reaches the worker as sent, with the header it names, on a plain request and on an upgrade; docs/GATEWAY.md says so", async () => {
    const plain = await ask({ Connection: "keep-alive, X-Named", "X-Named": "1" });
    const upgrade = await ask({ Connection: "Upgrade, X-Named", Upgrade: "websocket", "Sec-WebSocket-Version": "13", "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==", "X-Named": "1" });
    expect(plain).toEqual({ connection: "keep-alive, X-Named", named: "1" });
    expect(upgrade).toEqual({ connection: "Upgrade, X-Named", named: "1" });
    const doc = readFileSync(new URL("../../docs/GATEWAY.md", import.meta.url), "utf8").replace(/\s+/g, " ");
    // What the docs must say about it, given what was measured.
    expect(doc).toContain("the pinned workerd hands the client's `Connection` to the worker as sent");
    expect(doc).not.toMatch(/\*\*every header named in `Connection`\*\*/);
  });
});
