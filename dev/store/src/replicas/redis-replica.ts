/**
 * One read region over real Redis: a `redis-server` replica the store spawns on a free loopback
 * port (no persistence, its files in a temporary folder), replicating the primary through a
 * `LagProxy`, and read through a `RedisBackend` of its own.
 *
 * The process is started under a small `sh` guard that kills it when its stdin closes, so a test
 * run that dies without calling `close()` (a killed worker) still takes its replicas with it.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import net, { type AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { RedisBackend } from "../redis-backend.ts";
import { LagProxy } from "./lag-proxy.ts";
import type { Region, RegionStatus } from "./types.ts";

// Runs the replica, prints its pid, and on EOF (our end of stdin closed, or this process gone)
// stops it and removes its folder: the guard's own cleanup, since ours may never run.
const GUARD = 'redis-server "$@" & pid=$!; echo "$pid"; read _ignored; kill "$pid" 2>/dev/null; wait "$pid"; rm -rf "$REPLICA_DIR"';
const POLL_MS = 10;

/** A field of an `INFO` reply, e.g. `master_repl_offset`. */
export function infoField(info: unknown, field: string): string | undefined {
  return new RegExp(`^${field}:(.*)$`, "m").exec(String(info))?.[1]?.trim();
}

export async function offsetOf(backend: RedisBackend, field: "master_repl_offset" | "slave_repl_offset"): Promise<number> {
  const n = Number(infoField(await backend.command(["INFO", "replication"]), field));
  return Number.isFinite(n) ? n : 0;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address() as AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export interface RedisRegionOptions {
  name: string;
  /** The primary, e.g. `redis://127.0.0.1:6379/0`. */
  primaryUrl: string;
  /** The primary's offset, read when a status is taken. */
  primaryOffset: () => Promise<number>;
  /** How long the first full sync may take (the primary waits `repl-diskless-sync-delay`, 5 s by default, before it starts one). @default 30000 */
  syncTimeoutMs?: number;
}

export class RedisRegion implements Region {
  backend!: RedisBackend;
  private child: ChildProcess | undefined;
  private pid = 0;
  private port = 0;
  private dir = "";
  private closed = false;

  private constructor(readonly name: string, private readonly proxy: LagProxy, private readonly options: RedisRegionOptions) {}

  /** Spawns the replica, waits for its first sync (with no lag), then applies `lagMs`. */
  static async start(options: RedisRegionOptions & { lagMs?: number }): Promise<RedisRegion> {
    const primary = new URL(options.primaryUrl);
    const proxy = new LagProxy({ targetHost: primary.hostname.replace(/^\[|\]$/g, ""), targetPort: Number(primary.port || 6379) });
    const region = new RedisRegion(options.name, proxy, options);
    try {
      await proxy.listen();
      await region.spawn(primary);
      await region.untilSynced(options.syncTimeoutMs ?? 30_000);
      proxy.setLag(options.lagMs ?? 0);
      return region;
    } catch (e) {
      await region.close();
      throw e;
    }
  }

  private async spawn(primary: URL): Promise<void> {
    this.dir = await mkdtemp(join(tmpdir(), `local-store-${this.name}-`));
    const port = await freePort();
    this.port = port;
    const args = [
      "--port", String(port), "--bind", "127.0.0.1", "--daemonize", "no",
      "--save", "", "--appendonly", "no", "--dir", this.dir, "--logfile", join(this.dir, "redis.log"),
      "--replicaof", "127.0.0.1", String(this.proxy.port),
      // A partition holds the stream, pings included: the replica must not give up on its primary meanwhile.
      "--repl-timeout", "3600",
      // The replica starts empty: it can load the primary's snapshot straight from the socket.
      "--repl-diskless-load", "on-empty-db",
    ];
    if (primary.password) args.push("--masterauth", decodeURIComponent(primary.password));
    if (primary.username) args.push("--masteruser", decodeURIComponent(primary.username));
    const child = spawn("sh", ["-c", GUARD, "sh", ...args], { stdio: ["pipe", "pipe", "pipe"], env: { ...process.env, REPLICA_DIR: this.dir } });
    this.child = child;
    child.stdin!.on("error", () => {});
    this.pid = await new Promise<number>((resolve, reject) => {
      child.once("error", reject);
      child.once("exit", (code) => reject(new Error(`redis-server for region ${this.name} exited (${code}); is redis-server installed?`)));
      child.stdout!.once("data", (d: Buffer) => resolve(Number(String(d).trim())));
    });
    child.removeAllListeners("exit");
    const db = primary.pathname.replace(/^\//, "") || "0";
    const deadline = Date.now() + 5000;
    for (;;) {
      try {
        this.backend = await RedisBackend.connect(`redis://127.0.0.1:${port}/${db}`, { connectTimeoutMs: 1000 });
        return;
      } catch (e) {
        if (Date.now() > deadline || child.exitCode !== null) throw new Error(`replica for region ${this.name} did not start: ${(e as Error).message}`);
        await sleep(50);
      }
    }
  }

  private async untilSynced(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const info = await this.backend.command(["INFO", "replication"]);
      if (infoField(info, "master_link_status") === "up" && infoField(info, "master_sync_in_progress") === "0") return;
      if (Date.now() > deadline) throw new Error(`replica for region ${this.name} did not sync with the primary within ${timeoutMs} ms`);
      await sleep(50);
    }
  }

  get lagMs() {
    return this.proxy.lagMs;
  }
  get partitioned() {
    return this.proxy.partitioned;
  }
  setLag(ms: number): void {
    this.proxy.setLag(ms);
  }
  setPartitioned(on: boolean): void {
    this.proxy.setPartitioned(on);
  }

  appliedOffset(): Promise<number> {
    return offsetOf(this.backend, "slave_repl_offset");
  }

  async waitFor(offset: number, timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if ((await this.appliedOffset()) >= offset) return true;
      if (this.closed || Date.now() >= deadline) return false;
      await sleep(Math.min(POLL_MS, Math.max(0, deadline - Date.now())));
    }
  }

  async status(): Promise<RegionStatus> {
    const [primaryOffset, appliedOffset] = await Promise.all([this.options.primaryOffset(), this.appliedOffset()]);
    return { name: this.name, lagMs: this.lagMs, partitioned: this.partitioned, primaryOffset, appliedOffset, backlog: this.proxy.backlog, replica: { pid: this.pid, port: this.port } };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.backend?.close().catch(() => {});
    await this.proxy.close();
    const child = this.child;
    if (child && child.exitCode === null && child.signalCode === null) {
      const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
      child.stdin!.end(); // the guard kills redis-server and waits for it
      const late = await Promise.race([exited.then(() => false), sleep(3000).then(() => true)]);
      if (late) {
        for (const pid of [this.pid, child.pid]) {
          try {
            if (pid) process.kill(pid, "SIGKILL");
          } catch {
            // already gone
          }
        }
        await Promise.race([exited, sleep(1000)]);
      }
    }
    if (this.dir) await rm(this.dir, { recursive: true, force: true });
  }
}
