/**
 * A Node client of the worker's HTTP and `/ws` API (the `ws` package: a real peer over a real
 * loopback socket), shared by the cross-isolate tests and the realtime benchmark. Every wait is
 * bounded.
 */
import { performance } from "node:perf_hooks";
import WebSocket from "ws";

export const APP_ORIGIN = "https://app.example";
export const PASSWORD = "correct horse battery staple";

export async function api(base: string, pathname: string, init: { method?: string; token?: string; body?: unknown; headers?: Record<string, string> } = {}) {
  const headers: Record<string, string> = { ...init.headers };
  if (init.token) headers.Authorization = `Bearer ${init.token}`;
  if (init.body !== undefined) headers["Content-Type"] = "application/json";
  const res = await fetch(base + pathname, {
    method: init.method ?? (init.body !== undefined ? "POST" : "GET"),
    headers,
    body: init.body !== undefined ? JSON.stringify(init.body) : undefined,
    signal: AbortSignal.timeout(10_000),
  });
  const text = await res.text();
  let json: any = null;
  try {
    json = text ? JSON.parse(text) : null;
  } catch {
    json = null;
  }
  return { status: res.status, headers: res.headers, json, text, at: performance.now() };
}

export interface User {
  email: string;
  token: string;
  user: { id: string; email: string; roles: string[] };
}

export async function registerUser(base: string, email: string): Promise<User> {
  const r = await api(base, "/auth/register", { body: { email, password: PASSWORD } });
  if (r.status !== 201) throw new Error(`register ${email}: ${r.status} ${r.text}`);
  return { email, token: r.json.token, user: r.json.user };
}

export async function loginUser(base: string, email: string): Promise<User> {
  const r = await api(base, "/auth/login", { body: { email, password: PASSWORD } });
  if (r.status !== 200) throw new Error(`login ${email}: ${r.status} ${r.text}`);
  return { email, token: r.json.token, user: r.json.user };
}

export async function ticketFor(base: string, token: string): Promise<string> {
  const r = await api(base, "/auth/ws-ticket", { method: "POST", token });
  if (r.status !== 200) throw new Error(`ticket: ${r.status} ${r.text}`);
  return r.json.ticket as string;
}

export interface Socket {
  ws: WebSocket;
  /** The first frame (the room's hello). */
  hello: Promise<any>;
  messages: any[];
  /**
   * Resolves when the server's close frame arrives (code, reason, performance.now()): from then
   * on nothing more flows on the socket. This is the figure measured, see `closed`.
   */
  closeFrame: Promise<{ code: number; reason: string; at: number }>;
  /**
   * Resolves at the `ws` close event, after the TCP connection ended: when an application
   * listening with `ws` learns the socket is gone. Locally, workerd keeps the connection of a
   * socket that never sent a frame open after the object closed it, until the object is
   * evicted (docs/REALTIME.md, "silent clients"): measure both.
   */
  closed: Promise<{ code: number; reason: string; at: number }>;
}

/** Opens `/ws` with the ticket as the `["session", ticket]` subprotocol pair (as browsers do). */
export function openSocket(base: string, ticket: string, room = "lobby", timeoutMs = 10_000, via: "subprotocol" | "query" = "subprotocol"): Promise<Socket> {
  const url = `${base.replace(/^http/, "ws")}/ws?room=${encodeURIComponent(room)}`;
  const options = { headers: { Origin: APP_ORIGIN }, perMessageDeflate: false };
  const ws = via === "query" ? new WebSocket(`${url}&token=${encodeURIComponent(ticket)}`, options) : new WebSocket(url, ["session", ticket], options);
  const messages: any[] = [];
  let firstResolve: (m: any) => void;
  const hello = new Promise<any>((r) => (firstResolve = r));
  ws.on("message", (data) => {
    const text = data.toString();
    // "pong" (the runtime's answer to a "ping") is the one frame that is not JSON.
    const m = text === "pong" ? { type: "pong" } : JSON.parse(text);
    if (!messages.length) firstResolve(m);
    messages.push(m);
  });
  const closed = new Promise<{ code: number; reason: string; at: number }>((resolve) => ws.on("close", (code, reason) => resolve({ code, reason: reason.toString(), at: performance.now() })));
  let frameResolve: (v: { code: number; reason: string; at: number }) => void;
  const closeFrame = new Promise<{ code: number; reason: string; at: number }>((r) => (frameResolve = r));
  // `ws` has no public event for the close frame itself: its receiver emits "conclude".
  ws.once("open", () => (ws as unknown as { _receiver: NodeJS.EventEmitter })._receiver.once("conclude", (code: number, reason: Buffer) => frameResolve({ code, reason: reason.toString(), at: performance.now() })));
  void closed.then((c) => frameResolve(c));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      ws.terminate();
      reject(new Error(`no upgrade within ${timeoutMs} ms`));
    }, timeoutMs);
    ws.once("open", () => {
      clearTimeout(timer);
      resolve({ ws, hello, messages, closeFrame, closed });
    });
    ws.once("unexpected-response", (_req, res) => {
      clearTimeout(timer);
      let body = "";
      res.on("data", (c: Buffer) => (body += c.toString()));
      res.on("end", () => reject(Object.assign(new Error(`upgrade refused: ${res.statusCode} ${body}`), { status: res.statusCode, body, headers: res.headers })));
    });
    ws.once("error", (e) => {
      clearTimeout(timer);
      reject(e);
    });
  });
}

/** Sends the reserved "ping" (answered "pong" by the runtime, the object not woken) and waits for the answer. */
export function pingOnce(sock: Socket, timeoutMs = 5000): Promise<void> {
  const seen = sock.messages.length;
  sock.ws.send("ping");
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no pong within ${timeoutMs} ms`)), timeoutMs);
    const check = () => {
      if (!sock.messages.slice(seen).some((m) => m.type === "pong")) return;
      clearTimeout(timer);
      sock.ws.off("message", check);
      resolve();
    };
    sock.ws.on("message", check);
  });
}

export function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([p, new Promise<T>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what}: not within ${ms} ms`)), ms)))]).finally(() => clearTimeout(timer));
}
