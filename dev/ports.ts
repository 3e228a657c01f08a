/** Ports for `npm run dev`: a taken port is replaced by a free one before anything is started on it. */
import { createServer } from "node:net";

/** Whether `port` can be bound on `host` now (0 always can). */
export function portIsFree(port: number, host = "127.0.0.1"): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.once("error", () => resolve(false));
    srv.listen(port, host, () => srv.close(() => resolve(true)));
  });
}

/** A port the kernel has free on `host` (bound, then released). */
export function freePort(host = "127.0.0.1"): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once("error", reject);
    srv.listen(0, host, () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

/**
 * `port` when it is free, else a free one, saying so in one line: wrangler would otherwise print
 * the dev runner's success line and then workerd's stack trace for a port it cannot bind.
 */
export async function portOrFree(port: number, what: string, variable: string, log: (line: string) => void, host = "127.0.0.1"): Promise<number> {
  if (port === 0) return freePort(host);
  if (await portIsFree(port, host)) return port;
  const other = await freePort(host);
  log(`[dev] port ${port} is busy: ${what} listens on ${other} instead (${variable} chooses the port)`);
  return other;
}

/** Resolves true once `url` answers any HTTP status, false when `alive()` turns false or `ms` pass. */
export async function waitForAnswer(url: string, alive: () => boolean, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline && alive()) {
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(2_000) });
      await res.body?.cancel();
      return true;
    } catch {
      await new Promise((r) => setTimeout(r, 250));
    }
  }
  return false;
}
