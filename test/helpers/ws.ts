/** WebSocket helpers with timeouts (tests never hang on a socket). */
import { BASE, type Fetch, worker } from "./http.js";

export const ORIGIN = "https://app.example";

export async function ticketFor(token: string, fetcher: Fetch = worker): Promise<string> {
  const res = await fetcher(new Request(`${BASE}/auth/ws-ticket`, { method: "POST", headers: { Authorization: `Bearer ${token}` } }));
  if (res.status !== 200) throw new Error(`ticket: ${res.status} ${await res.text()}`);
  return ((await res.json()) as { ticket: string }).ticket;
}

export function upgrade(path: string, headers: Record<string, string> = {}, fetcher: Fetch = worker): Promise<Response> {
  return fetcher(new Request(BASE + path, { headers: { Upgrade: "websocket", Origin: ORIGIN, ...headers } }));
}

export interface OpenSocket {
  ws: WebSocket;
  messages: unknown[];
  next(timeoutMs?: number): Promise<any>;
  closed: Promise<{ code: number; reason: string }>;
}

export function open(res: Response): OpenSocket {
  const ws = res.webSocket;
  if (!ws) throw new Error(`no webSocket on a ${res.status} response`);
  ws.accept();
  const messages: unknown[] = [];
  const waiters: ((m: unknown) => void)[] = [];
  ws.addEventListener("message", (e) => {
    let m: unknown;
    try {
      m = JSON.parse(e.data as string);
    } catch {
      m = e.data; // a plain text frame ("pong")
    }
    const w = waiters.shift();
    if (w) w(m);
    else messages.push(m);
  });
  const closed = new Promise<{ code: number; reason: string }>((resolve) => ws.addEventListener("close", (e) => resolve({ code: e.code, reason: e.reason })));
  return {
    ws,
    messages,
    closed,
    next(timeoutMs = 3000) {
      if (messages.length) return Promise.resolve(messages.shift());
      return new Promise((resolve, reject) => {
        const t = setTimeout(() => reject(new Error("no message within " + timeoutMs + " ms")), timeoutMs);
        waiters.push((m) => {
          clearTimeout(t);
          resolve(m);
        });
      });
    },
  };
}

export function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  return Promise.race([p, new Promise<T>((_, reject) => setTimeout(() => reject(new Error(`${what}: not within ${ms} ms`)), ms))]);
}
