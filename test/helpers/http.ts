/** Small helpers to drive the worker from tests inside workerd. */
import { SELF } from "cloudflare:test";

export type Fetch = (request: Request) => Promise<Response>;

/** The real worker (its default export), as deployed. */
export const worker: Fetch = (req) => SELF.fetch(req);

export const BASE = "https://edge.test";
export const PASSWORD = "correct horse battery staple";

let counter = 0;
/** A fresh email per call: tests share one store and never collide. */
export function uniqueEmail(tag = "user"): string {
  return `${tag}-${Date.now().toString(36)}-${(counter++).toString(36)}-${crypto.randomUUID().slice(0, 8)}@example.test`;
}

export interface CallOptions {
  method?: string;
  token?: string;
  body?: unknown;
  headers?: Record<string, string>;
}

export function request(path: string, o: CallOptions = {}): Request {
  const headers = new Headers(o.headers);
  if (o.token !== undefined) headers.set("Authorization", `Bearer ${o.token}`);
  let body: string | undefined;
  if (o.body !== undefined) {
    body = typeof o.body === "string" ? o.body : JSON.stringify(o.body);
    if (!headers.has("Content-Type")) headers.set("Content-Type", "application/json");
  }
  return new Request(BASE + path, { method: o.method ?? (body !== undefined ? "POST" : "GET"), headers, body });
}

export async function call(path: string, o: CallOptions = {}, fetcher: Fetch = worker) {
  const res = await fetcher(request(path, o));
  const text = await res.text();
  let json: any = null;
  try {
    json = text ? JSON.parse(text) : null;
  } catch {
    json = null;
  }
  return { status: res.status, headers: res.headers, json, text };
}

export interface LoggedIn {
  token: string;
  email: string;
  password: string;
  user: { id: string; email: string; roles: string[] };
  body: any;
}

export async function register(fetcher: Fetch = worker, email = uniqueEmail(), password = PASSWORD, headers?: Record<string, string>): Promise<LoggedIn> {
  const r = await call("/auth/register", { body: { email, password }, headers }, fetcher);
  if (r.status !== 201) throw new Error(`register failed: ${r.status} ${r.text}`);
  return { token: r.json.token, email, password, user: r.json.user, body: r.json };
}

export async function login(fetcher: Fetch, email: string, password = PASSWORD, headers?: Record<string, string>): Promise<LoggedIn> {
  const r = await call("/auth/login", { body: { email, password }, headers }, fetcher);
  if (r.status !== 200) throw new Error(`login failed: ${r.status} ${r.text}`);
  return { token: r.json.token, email, password, user: r.json.user, body: r.json };
}
