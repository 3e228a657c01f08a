/**
 * One structured log line per request (ASVS 16.2.5): method, path, status, duration, and the
 * session lookup source (`c.var.sessionSource`, set by the credential path), the credential
 * transport (`bearer`, `cookie`, `ticket`, refused ones too) and a 401's reason. The query string is masked key by key and headers are never logged,
 * so tokens, tickets and passwords cannot reach the log.
 */
import type { MiddlewareHandler } from "hono";
import type { SessionVariables } from "../credentials/middleware.js";

/** `?token=abc&x=1` → `token=***&x=***`: names survive for debugging, values never. */
export function maskQuery(search: string): string {
  if (!search || search === "?") return "";
  return search
    .replace(/^\?/, "")
    .split("&")
    .map((pair) => `${pair.split("=")[0]!.slice(0, 32)}=***`)
    .join("&");
}

export interface RequestLogLine {
  level: "info";
  msg: "request";
  method: string;
  path: string;
  query?: string;
  status: number;
  ms: number;
  session?: string;
  /** The token source: `bearer`, `cookie`, … */
  credential?: string;
  user?: string;
  /** Why a 401 was answered (`revoked`, `expired`, `missing`, `bad_signature`, …): the `WWW-Authenticate` error description. */
  reason?: string;
}

const REASON = /error_description="([a-z_]{1,40})"/;

/** The refusal reason of a 401, from the challenge every 401 here carries (http/responses.ts). */
export function refusalReason(res: Response): string | undefined {
  if (res.status !== 401) return undefined;
  return REASON.exec(res.headers.get("WWW-Authenticate") ?? "")?.[1];
}

export function requestLog(write: (line: string) => void = console.log): MiddlewareHandler<{ Variables: Partial<SessionVariables> }> {
  return async (c, next) => {
    const started = Date.now();
    await next();
    const url = new URL(c.req.url);
    const line: RequestLogLine = { level: "info", msg: "request", method: c.req.method, path: url.pathname.slice(0, 256), status: c.res.status, ms: Date.now() - started };
    const query = maskQuery(url.search);
    if (query) line.query = query;
    const source = c.get("sessionSource");
    if (source) line.session = source;
    const credential = c.get("credential");
    if (credential) line.credential = credential;
    const user = c.get("user");
    if (user) line.user = user.id;
    const reason = refusalReason(c.res);
    if (reason) line.reason = reason;
    const text = JSON.stringify(line);
    // After the response has gone out (a timer runs after the runtime wrote it, a microtask
    // would not): the first console.log of an isolate loads the runtime's formatting code, a
    // quarter of a cold first request's instructions (bench/cold-instructions.ts), and no
    // response needs to wait for its own log line. Without an execution context (app.request in
    // a test), at once.
    let ctx: ExecutionContext | undefined;
    try {
      ctx = c.executionCtx;
    } catch {
      ctx = undefined;
    }
    if (ctx) ctx.waitUntil(new Promise<void>((done) => setTimeout(() => done(write(text)), 0)));
    else write(text);
  };
}
