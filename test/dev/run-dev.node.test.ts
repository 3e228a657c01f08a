/**
 * `npm run dev` as a developer runs it (tsx dev/run-dev.ts in a scratch copy of the checkout,
 * so this worktree's .dev.vars and .wrangler/ stay untouched), with its ports in the way.
 */
import { createServer, type Server } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { run, scratchCheckout, TSX, type Running, type Scratch } from "../helpers/node/scratch-checkout.ts";

/** A Node stack frame, or workerd's address-list "stack:" line: never part of a clean start. */
const STACK = /^\s+at \S|^stack: \S+@[0-9a-f]+|\*\*\* Received signal|workerd\/server\/server\.c\+\+/m;

describe("npm run dev when PORT is taken", () => {
  let scratch: Scratch;
  let blocker: Server;
  let busy = 0;
  let dev: Running | null = null;

  beforeAll(async () => {
    scratch = scratchCheckout();
    blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, "127.0.0.1", resolve));
    busy = (blocker.address() as { port: number }).port;
  });

  afterAll(async () => {
    await dev?.stop();
    await new Promise((resolve) => blocker.close(resolve));
    scratch.remove();
  });

  it("says so in one line and serves on a free port instead (as STORE_PORT does); no stack trace", async () => {
    dev = run(scratch.dir, [TSX, "dev/run-dev.ts"], { PORT: String(busy), STORE_PORT: "0" });
    const out = await dev.waitFor(/\[dev\] worker: http:\/\/localhost:\d+/, 120_000);
    const port = Number(/\[dev\] worker: http:\/\/localhost:(\d+)/.exec(out)![1]);
    expect(out).toContain(`[dev] port ${busy} is busy: the worker listens on ${port} instead (PORT chooses the port)`);
    expect(port).not.toBe(busy);
    // The success line comes once the worker answers.
    const health = await fetch(`http://127.0.0.1:${port}/health`, { signal: AbortSignal.timeout(10_000) });
    expect(health.status).toBe(200);
    expect(dev.output()).not.toMatch(STACK);
  });
});
