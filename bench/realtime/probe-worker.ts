/**
 * The worker as it deploys, plus a probe, for the cross-isolate tests and the realtime benchmark:
 * the same classes with counters around their entry points, and every timer made in the isolate
 * tracked (calls and still pending). `GET /__probe` answers the counters of this isolate;
 * `POST /__probe/reset` zeroes the call counts; `GET /__probe/room?name=` asks that room how
 * many sockets it holds. Only ever bundled for loopback tests (bench/realtime/cluster.ts).
 */
import worker, { RealtimeRoom as Room, UserSockets as Users } from "../../src/worker/index.js";
import type { AdmitInput } from "../../src/realtime/user-sockets.js";
import type { WorkerEnv as Env } from "../../src/worker/env.js";

export { SessionVerifier } from "../../src/worker/index.js";

const counts = { roomFetch: 0, roomPush: 0, roomAlarm: 0, admit: 0, release: 0, sessionsEnded: 0, timerCalls: 0 };
const pending = new Set<unknown>();

// Wrapping (not calling) timers at module scope: every later setTimeout/setInterval in this
// isolate, by the worker or by its objects, is counted, and tracked until it fires or is cleared.
// Bound to globalThis: workerd throws "Illegal invocation" when a timer function is called with another `this`.
const real = {
  setTimeout: globalThis.setTimeout.bind(globalThis),
  setInterval: globalThis.setInterval.bind(globalThis),
  clearTimeout: globalThis.clearTimeout.bind(globalThis),
  clearInterval: globalThis.clearInterval.bind(globalThis),
};
globalThis.setTimeout = ((fn: (...a: unknown[]) => void, ms?: number, ...args: unknown[]) => {
  counts.timerCalls++;
  const id: unknown = real.setTimeout(() => {
    pending.delete(id);
    fn(...args);
  }, ms);
  pending.add(id);
  return id;
}) as typeof setTimeout;
globalThis.setInterval = ((fn: (...a: unknown[]) => void, ms?: number, ...args: unknown[]) => {
  counts.timerCalls++;
  const id: unknown = real.setInterval(fn, ms, ...args);
  pending.add(id);
  return id;
}) as typeof setInterval;
globalThis.clearTimeout = ((id: unknown) => {
  pending.delete(id);
  real.clearTimeout(id as number);
}) as typeof clearTimeout;
globalThis.clearInterval = ((id: unknown) => {
  pending.delete(id);
  real.clearInterval(id as number);
}) as typeof clearInterval;

export class RealtimeRoom extends Room {
  override async fetch(request: Request): Promise<Response> {
    counts.roomFetch++;
    return super.fetch(request);
  }
  override async edgeSessionsEnded(sessionIds: string[]): Promise<number> {
    counts.roomPush++;
    return super.edgeSessionsEnded(sessionIds);
  }
  override async alarm(): Promise<void> {
    counts.roomAlarm++;
    return super.alarm();
  }
  async probeSockets(): Promise<number> {
    return this.ctx.getWebSockets().length;
  }
}

export class UserSockets extends Users {
  override async admit(input: AdmitInput) {
    counts.admit++;
    return super.admit(input);
  }
  override async release(socketIds: string[]) {
    counts.release++;
    return super.release(socketIds);
  }
  override async sessionsEnded(sessionIds: string[]) {
    counts.sessionsEnded++;
    return super.sessionsEnded(sessionIds);
  }
}

export default {
  async fetch(request, env, ctx) {
    const url = new URL(request.url);
    if (url.pathname === "/__probe") return Response.json({ ...counts, pendingTimers: pending.size });
    if (url.pathname === "/__probe/reset" && request.method === "POST") {
      for (const k of Object.keys(counts) as (keyof typeof counts)[]) counts[k] = 0;
      return Response.json({ ok: true });
    }
    if (url.pathname === "/__probe/room") {
      const ns = env.ROOMS as unknown as DurableObjectNamespace<RealtimeRoom>;
      const stub = ns.get(ns.idFromName(url.searchParams.get("name") ?? "lobby"));
      return Response.json({ sockets: await stub.probeSockets() });
    }
    return worker.fetch!(request as Request<unknown, IncomingRequestCfProperties>, env, ctx);
  },
} satisfies ExportedHandler<Env>;
