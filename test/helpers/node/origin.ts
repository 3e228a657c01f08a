/**
 * A real Node origin on loopback for the gateway tests: echoes what it received (method, path,
 * query, headers, body) as JSON, answers chosen statuses, streams, and speaks WebSocket (echo,
 * plus a first message describing the upgrade request: its target and every header received).
 */
import http from "node:http";
import type { AddressInfo } from "node:net";
import { WebSocketServer } from "ws";

/** How long `/stream` waits between its first chunk and its last. */
export const STREAM_GAP_MS = 1500;

export interface SeenRequest {
  method: string;
  path: string;
  query: string;
  headers: http.IncomingHttpHeaders;
  body: string;
}

export interface Origin {
  url: string;
  seen: SeenRequest[];
  close(): Promise<void>;
}

export async function startOrigin(): Promise<Origin> {
  const seen: SeenRequest[] = [];
  const server = http.createServer(async (req, res) => {
    const url = new URL(req.url ?? "/", "http://origin");
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const entry: SeenRequest = { method: req.method ?? "", path: url.pathname, query: url.search, headers: req.headers, body: Buffer.concat(chunks).toString("utf8") };
    seen.push(entry);
    const status = /^\/status\/(\d{3})$/.exec(url.pathname);
    if (status) {
      res.writeHead(Number(status[1]), { "content-type": "application/json", "x-origin": "yes" });
      res.end(JSON.stringify({ status: Number(status[1]) }));
      return;
    }
    if (url.pathname === "/cacheable") {
      res.writeHead(200, { "content-type": "application/json", "cache-control": "public, max-age=60" });
      res.end(JSON.stringify(entry));
      return;
    }
    if (url.pathname === "/stream") {
      // text/event-stream, as a streaming origin sends: the edge (and Miniflare, which emulates
      // it) gzips compressible types such as text/plain, and its encoder holds small chunks back.
      res.writeHead(200, { "content-type": "text/event-stream" });
      res.write("first\n");
      setTimeout(() => res.end("last\n"), STREAM_GAP_MS);
      return;
    }
    res.writeHead(200, { "content-type": "application/json", "x-origin": "yes" });
    res.end(JSON.stringify(entry));
  });
  const wss = new WebSocketServer({ server });
  wss.on("connection", (socket, req) => {
    socket.send(JSON.stringify({ type: "origin-hello", user: req.headers["x-session-user"] ?? null, assertion: Boolean(req.headers["x-session-assertion"]), path: req.url, cookie: req.headers.cookie ?? null, headers: req.headers }));
    socket.on("message", (data) => socket.send(JSON.stringify({ type: "origin-echo", data: data.toString() })));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    seen,
    close: () =>
      new Promise<void>((resolve) => {
        for (const c of wss.clients) c.terminate();
        wss.close();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
