/**
 * A loopback proxy in front of the local store that forwards a chosen script's next run and then
 * drops its reply (closes the socket): the client sees a failed `fetch` after the store applied
 * the command, and a retry-safe call is sent again. Real client, real store, real sockets.
 */
import { createHash } from "node:crypto";
import http from "node:http";
import type { AddressInfo } from "node:net";
import type { StoreScript } from "../../../src/store/redis.ts";
import { StoreError } from "../../../src/store/redis.ts";

export interface ReplyDropper {
  url: string;
  /** Runs `op` with the next run of `script` losing its reply; how many times the script was sent. */
  losingReplyOf<T>(script: StoreScript, op: () => Promise<T>): Promise<{ result: T | StoreError; sent: number }>;
  close(): Promise<void>;
}

const sha = (s: StoreScript) => createHash("sha1").update(s.source).digest("hex");

export async function startReplyDropper(storeUrl: string): Promise<ReplyDropper> {
  const dropNext = new Set<string>();
  const forwarded = new Map<string, number>();
  const proxy = http.createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const body = Buffer.concat(chunks).toString();
    const headers: Record<string, string> = {};
    for (const h of ["authorization", "content-type", "upstash-encoding", "upstash-sync-token"]) if (req.headers[h]) headers[h] = String(req.headers[h]);
    const answer = await fetch(storeUrl + (req.url ?? "/"), { method: "POST", headers, body });
    const text = await answer.text();
    let command: unknown[] = [];
    try {
      command = JSON.parse(body) as unknown[];
    } catch {
      // Not a command.
    }
    const key = command[0] === "evalsha" ? String(command[1]) : String(command[0]);
    forwarded.set(key, (forwarded.get(key) ?? 0) + 1);
    if (answer.ok && !text.includes("NOSCRIPT") && dropNext.delete(key)) {
      // It ran in the store; the client never hears of it.
      req.socket.destroy();
      return;
    }
    res.writeHead(answer.status, Object.fromEntries(answer.headers));
    res.end(text);
  });
  await new Promise<void>((r) => proxy.listen(0, "127.0.0.1", r));
  return {
    url: `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`,
    async losingReplyOf(script, op) {
      const key = sha(script);
      const before = forwarded.get(key) ?? 0;
      dropNext.add(key);
      let result;
      try {
        result = await op();
      } catch (e) {
        if (!(e instanceof StoreError)) throw e;
        result = e;
      }
      dropNext.delete(key);
      return { result, sent: (forwarded.get(key) ?? 0) - before };
    },
    close: () => new Promise<void>((r) => proxy.close(() => r())),
  };
}
