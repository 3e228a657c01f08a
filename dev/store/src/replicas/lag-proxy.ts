/**
 * A TCP proxy on loopback between a Redis replica and its primary. The replica's `--replicaof`
 * names this proxy; everything the primary sends (the RDB of a full sync, then the command
 * stream) passes through a `LagQueue`, so it reaches the replica `lagMs` late, or not at all
 * while partitioned. The replica's own traffic (handshake, `REPLCONF ACK` every second) goes
 * straight through: the primary keeps seeing a live replica and never drops the link, so a heal
 * resumes the same stream (no new PSYNC, no full resync) and the replica catches up.
 */
import net, { type AddressInfo, type Socket } from "node:net";
import { LagQueue } from "./lag-queue.ts";

export interface LagProxyOptions {
  /** The primary. */
  targetHost: string;
  targetPort: number;
  /** @default 0 */
  lagMs?: number;
}

type Piece = Buffer | "end";

export class LagProxy {
  private readonly server: net.Server;
  private readonly lines = new Set<LagQueue<Piece>>();
  private readonly sockets = new Set<Socket>();
  private lag: number;
  private held = false;
  port = 0;

  constructor(private readonly options: LagProxyOptions) {
    this.lag = options.lagMs ?? 0;
    this.server = net.createServer((replica) => this.connect(replica));
  }

  async listen(): Promise<number> {
    await new Promise<void>((resolve, reject) => {
      this.server.once("error", reject);
      this.server.listen(0, "127.0.0.1", () => resolve());
    });
    this.port = (this.server.address() as AddressInfo).port;
    return this.port;
  }

  get lagMs() {
    return this.lag;
  }
  get partitioned() {
    return this.held;
  }
  setLag(ms: number): void {
    this.lag = ms;
    for (const l of this.lines) l.setLag(ms);
  }
  setPartitioned(on: boolean): void {
    this.held = on;
    for (const l of this.lines) l.setPartitioned(on);
  }
  /** Chunks of the primary's stream held in the lag line. */
  get backlog(): { items: number; bytes: number } {
    let items = 0;
    let bytes = 0;
    for (const l of this.lines) {
      items += l.backlog.items;
      bytes += l.backlog.size;
    }
    return { items, bytes };
  }

  private connect(replica: Socket): void {
    const primary = net.connect(this.options.targetPort, this.options.targetHost);
    const line = new LagQueue<Piece>(
      (piece) => {
        if (piece === "end") replica.end();
        else if (!replica.destroyed) replica.write(piece);
      },
      { lagMs: this.lag },
    );
    line.setPartitioned(this.held);
    this.lines.add(line);
    this.sockets.add(replica).add(primary);
    for (const s of [replica, primary]) s.setNoDelay(true);
    primary.on("data", (chunk: Buffer) => line.push(chunk, chunk.length));
    // The primary closing reaches the replica in turn, after what it sent before.
    primary.on("end", () => line.push("end", 0));
    replica.pipe(primary);
    const drop = () => {
      line.close();
      this.lines.delete(line);
      replica.destroy();
      primary.destroy();
      this.sockets.delete(replica);
      this.sockets.delete(primary);
    };
    replica.on("close", drop);
    replica.on("error", drop);
    primary.on("error", drop);
    primary.on("close", () => {
      // Wait for the line to hand over what it holds; the replica's close then cleans up.
      if (line.backlog.items === 0) replica.end();
    });
  }

  close(): Promise<void> {
    for (const l of this.lines) l.close();
    this.lines.clear();
    for (const s of this.sockets) s.destroy();
    this.sockets.clear();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}
