/**
 * The `realtime` section of the benchmark (issue 11): two entry workers sharing one Durable
 * Object namespace (cluster.ts), sockets opened at edge-a, revocations handled by edge-b.
 *
 * - upgradesPerSecond: POST /auth/ws-ticket + the upgrade + the room's hello, `concurrency`
 *   lanes, each socket kept open (they are the sockets revoked below); store commands counted
 *   around it.
 * - idleSocketTimers: after every socket is open and quiet, the timers still pending in both
 *   isolates (the worker's and the objects') divided by the sockets, and the timer calls made
 *   during an idle window (the probe wraps setTimeout/setInterval; see probe-worker.ts).
 * - revocationClose: one logout at a time at edge-b; for every socket of that session, the time
 *   from the logout's response (and from its request) to the close frame at the client.
 * - revocationCloseByClient: the same closes split by kind of client (every other socket sends
 *   one "ping" after the hello, the rest never send a frame), with the end of the connection
 *   too (close-figures.ts).
 */
import { performance } from "node:perf_hooks";
import { startRealtimeCluster } from "./cluster.ts";
import { api, APP_ORIGIN, loginUser, openSocket, PASSWORD, pingOnce, registerUser, ticketFor, type Socket } from "./client.ts";
import { closeFiguresByKind, kindOf, pct, type ClientKind, type CloseFigures, type CloseSample } from "./close-figures.ts";

/** How long after the last logout the connection ends are awaited (locally a silent client's takes 8–15 s). */
const CONNECTION_END_WAIT_MS = 20_000;

export interface RealtimeSettings {
  users: number;
  sessionsPerUser: number;
  socketsPerSession: number;
  rooms: number;
  concurrency: number;
  idleMs: number;
}

export const REALTIME_FULL: RealtimeSettings = { users: 24, sessionsPerUser: 2, socketsPerSession: 5, rooms: 8, concurrency: 10, idleMs: 2000 };
export const REALTIME_QUICK: RealtimeSettings = { users: 4, sessionsPerUser: 2, socketsPerSession: 3, rooms: 2, concurrency: 4, idleMs: 500 };

export interface RealtimeResult {
  sockets: number;
  users: number;
  sessions: number;
  revocations: number;
  revocationCloseP50Ms: number;
  revocationCloseP99Ms: number;
  revocationCloseMaxMs: number;
  /** The same closes measured from the revoking request's start (the revocation awaits the push). */
  revocationCloseFromRequestP50Ms: number;
  revocationCloseFromRequestP99Ms: number;
  /** Closes that did not arrive within 5 s (each counted, never dropped from the figures silently). */
  revocationMissed: number;
  /** Silent clients (never send a frame) and pinging ones (one "ping" after the hello), apart. */
  revocationCloseByClient: Record<ClientKind, CloseFigures>;
  upgradesPerSecond: number;
  upgradeP50Ms: number;
  upgradeP99Ms: number;
  storeCommandsPerUpgrade: number;
  storeCommandsPerUpgradeByName: Record<string, number>;
  idleSocketTimers: number;
  idleTimerCallsDuringIdle: number;
  pendingTimersAfterIdle: { edgeA: number; edgeB: number };
  objectRequests: { admissions: number; roomRequests: number; pushes: number; sessionsEnded: number };
  settings: RealtimeSettings;
  method: string;
}

export interface RealtimeOptions {
  store: { url: string; token: string };
  storeStats: () => Promise<{ total: number; byCommand: Record<string, number> }>;
  resetStoreStats: () => Promise<void>;
  sessionKeys: string;
  pepper: string;
  prefix: string;
  settings: RealtimeSettings;
  log: (msg: string) => void;
  output?: (worker: string, stream: NodeJS.ReadableStream) => void;
}

const r3 = (n: number) => Number(n.toFixed(3));

export async function runRealtime(o: RealtimeOptions): Promise<RealtimeResult> {
  const s = o.settings;
  const cluster = await startRealtimeCluster({
    output: o.output,
    bindings: {
      ENVIRONMENT: "test",
      SIGNUP: "open",
      SESSION_KEYS: o.sessionKeys,
      PASSWORD_PEPPER: o.pepper,
      UPSTASH_REDIS_REST_URL: o.store.url,
      UPSTASH_REDIS_REST_TOKEN: o.store.token,
      STORE_PREFIX: o.prefix,
      CORS_ORIGINS: APP_ORIGIN,
      RATE_LIMIT_LOGIN_IP: "1000000 / 1 h",
      RATE_LIMIT_REGISTER_IP: "1000000 / 1 h",
      RATE_LIMIT_LOGIN_ACCOUNT: "1000000 / 1 h",
      WS_MAX_SOCKETS_PER_SESSION: String(s.socketsPerSession),
      WS_MAX_SOCKETS_PER_USER: String(s.sessionsPerUser * s.socketsPerSession),
      REQUEST_LOG: "off",
    },
  });
  const open: Socket[] = [];
  const kinds = new Map<Socket, ClientKind>();
  try {
    // Warm both entry workers and the objects (a cold start can exceed the store budget once).
    for (const base of [cluster.a, cluster.b]) {
      let ok = false;
      for (let i = 0; i < 20 && !ok; i++) ok = (await api(base, "/auth/register", { body: { email: `rt-warm-${i}-${Date.now()}@example.test`, password: PASSWORD } }).catch(() => null))?.status === 201;
      if (!ok) throw new Error(`${base} did not answer /auth/register`);
    }
    const w = await registerUser(cluster.a, `rt-warm-${Date.now()}@example.test`);
    const warmSocket = await openSocket(cluster.a, await ticketFor(cluster.a, w.token), "warm");
    await warmSocket.hello;
    warmSocket.ws.close();

    o.log(`realtime: ${s.users} users × ${s.sessionsPerUser} sessions × ${s.socketsPerSession} sockets in ${s.rooms} rooms`);
    const sessions: { token: string; userId: string; sockets: Socket[] }[] = [];
    for (let u = 0; u < s.users; u++) {
      const email = `rt-${u}-${Date.now().toString(36)}@example.test`;
      const first = await registerUser(cluster.a, email);
      sessions.push({ token: first.token, userId: first.user.id, sockets: [] });
      for (let k = 1; k < s.sessionsPerUser; k++) sessions.push({ token: (await loginUser(cluster.a, email)).token, userId: first.user.id, sockets: [] });
    }

    // Upgrades: every socket through edge-a, `concurrency` at a time, ticket + upgrade + hello.
    const jobs = sessions.flatMap((sess, i) =>
      Array.from({ length: s.socketsPerSession }, (_, j) => ({ sess, room: `bench-room-${(i * s.socketsPerSession + j) % s.rooms}`, kind: kindOf(i * s.socketsPerSession + j) })),
    );
    const latencies: number[] = [];
    await o.resetStoreStats();
    const t0 = performance.now();
    let next = 0;
    await Promise.all(
      Array.from({ length: s.concurrency }, async () => {
        while (next < jobs.length) {
          const job = jobs[next++]!;
          const started = performance.now();
          const sock = await openSocket(cluster.a, await ticketFor(cluster.a, job.sess.token), job.room);
          await sock.hello;
          latencies.push(performance.now() - started);
          if (job.kind === "pinging") await pingOnce(sock);
          kinds.set(sock, job.kind);
          job.sess.sockets.push(sock);
          open.push(sock);
        }
      }),
    );
    const upgradeSeconds = (performance.now() - t0) / 1000;
    const commands = await o.storeStats();
    latencies.sort((a, b) => a - b);
    o.log(`realtime: ${open.length} sockets open, ${(open.length / upgradeSeconds).toFixed(0)} upgrades/s, ${(commands.total / open.length).toFixed(2)} store commands per upgrade`);

    // Idle: nothing sent for idleMs; then count what is pending in both isolates.
    await new Promise((r) => setTimeout(r, 200)); // presence broadcasts of the last joins settle
    await Promise.all([cluster.resetProbe(cluster.a), cluster.resetProbe(cluster.b)]);
    await new Promise((r) => setTimeout(r, s.idleMs));
    const [idleA, idleB] = [await cluster.probe(cluster.a), await cluster.probe(cluster.b)];
    const idleSocketTimers = (idleA.pendingTimers + idleB.pendingTimers) / open.length;
    o.log(`realtime: after ${s.idleMs} ms idle, pending timers edge-a ${idleA.pendingTimers}, edge-b ${idleB.pendingTimers}; timer calls while idle ${idleA.timerCalls + idleB.timerCalls}`);

    // Revocations at edge-b, one session at a time.
    await Promise.all([cluster.resetProbe(cluster.a), cluster.resetProbe(cluster.b)]);
    const fromResponse: number[] = [];
    const fromRequest: number[] = [];
    let missed = 0;
    const samples: Promise<CloseSample>[] = [];
    // Resolved once, CONNECTION_END_WAIT_MS after the last logout.
    let endOfWait = () => {};
    const deadline = new Promise<null>((res) => (endOfWait = () => res(null)));
    for (const sess of sessions) {
      const started = performance.now();
      const r = await api(cluster.b, "/auth/logout", { method: "POST", token: sess.token });
      if (r.status !== 204) throw new Error(`logout at edge-b answered ${r.status}: ${r.text}`);
      const closes = await Promise.all(sess.sockets.map((sock) => Promise.race([sock.closeFrame, new Promise<null>((res) => setTimeout(() => res(null), 5000))])));
      sess.sockets.forEach((sock, i) => {
        const frame = closes[i];
        const frameMs = frame && frame.code === 4401 ? frame.at - r.at : null;
        // Awaited after the last logout: a connection that lingers does not slow the loop down.
        samples.push(Promise.race([sock.closed, deadline]).then((c) => ({ kind: kinds.get(sock)!, frameMs, connectionEndMs: c ? c.at - r.at : null })));
      });
      for (const c of closes) {
        if (!c || c.code !== 4401) {
          missed++;
          continue;
        }
        fromResponse.push(c.at - r.at);
        fromRequest.push(c.at - started);
      }
    }
    const endWait = setTimeout(endOfWait, CONNECTION_END_WAIT_MS);
    const byClient = closeFiguresByKind(await Promise.all(samples));
    clearTimeout(endWait);
    o.log(
      `realtime: by client: ${Object.entries(byClient)
        .map(([kind, f]) => `${kind} ${f.sockets} sockets, close frame p99 ${f.closeFrameP99Ms} ms, connection end p50 ${f.connectionEndP50Ms} / p99 ${f.connectionEndP99Ms} ms (${f.connectionEndMissed} still open after ${CONNECTION_END_WAIT_MS / 1000} s)`)
        .join("; ")}`,
    );
    const pa = await cluster.probe(cluster.a);
    fromResponse.sort((a, b) => a - b);
    fromRequest.sort((a, b) => a - b);
    o.log(`realtime: ${sessions.length} logouts at edge-b closed ${fromResponse.length} sockets accepted by edge-a: p50 ${pct(fromResponse, 50).toFixed(2)} ms, p99 ${pct(fromResponse, 99).toFixed(2)} ms after the response (${missed} missed)`);

    return {
      sockets: open.length,
      users: s.users,
      sessions: sessions.length,
      revocations: sessions.length,
      revocationCloseP50Ms: r3(pct(fromResponse, 50)),
      revocationCloseP99Ms: r3(pct(fromResponse, 99)),
      revocationCloseMaxMs: r3(fromResponse.at(-1) ?? NaN),
      revocationCloseFromRequestP50Ms: r3(pct(fromRequest, 50)),
      revocationCloseFromRequestP99Ms: r3(pct(fromRequest, 99)),
      revocationMissed: missed,
      revocationCloseByClient: byClient,
      upgradesPerSecond: r3(open.length / upgradeSeconds),
      upgradeP50Ms: r3(pct(latencies, 50)),
      upgradeP99Ms: r3(pct(latencies, 99)),
      storeCommandsPerUpgrade: r3(commands.total / open.length),
      storeCommandsPerUpgradeByName: Object.fromEntries(Object.entries(commands.byCommand).map(([k, v]) => [k, r3(v / open.length)])),
      idleSocketTimers: r3(idleSocketTimers),
      idleTimerCallsDuringIdle: idleA.timerCalls + idleB.timerCalls,
      pendingTimersAfterIdle: { edgeA: idleA.pendingTimers, edgeB: idleB.pendingTimers },
      objectRequests: { admissions: pa.admit, roomRequests: pa.roomFetch, pushes: pa.roomPush, sessionsEnded: pa.sessionsEnded },
      settings: s,
      method:
        "two entry workers sharing one Durable Object namespace in one Miniflare (bench/realtime/cluster.ts); sockets opened at edge-a (ticket + upgrade + hello, ws peers), revocations (POST /auth/logout) at edge-b one at a time; close measured at the client's close frame (revocationCloseByClient: also at the end of the connection, silent and pinging clients apart); timers counted by a probe build wrapping setTimeout/setInterval in both isolates",
    };
  } finally {
    for (const sock of open) sock.ws.terminate();
    await cluster.dispose();
  }
}
