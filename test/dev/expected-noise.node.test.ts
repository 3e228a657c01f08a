/**
 * The output filter of `npm test` (test/expected-noise.ts) drops only the fault tests' known
 * records; anything that could be a real failure or a different problem still prints.
 */
import { describe, expect, it } from "vitest";
import { isConfigError, isExpectedWarning, isExpectedWorkerdLine, isExpectedWranglerLine, isFigure } from "../expected-noise.ts";
import { FIGURE_MARK } from "../helpers/figure.ts";

const STACK = "stack: /x/node_modules/@cloudflare/workerd-linux-64/bin/workerd@2f20430 /x/node_modules/@cloudflare/workerd-linux-64/bin/workerd@51bdf58";

describe("workerd records kept back", () => {
  it("drops the disconnection records the fault tests cause, and the stack line right after one", () => {
    for (const line of [
      "uncaught exception; source = Uncaught (in promise); stack = Error: Network connection lost.",
      "uncaught exception; exception = workerd/jsg/_virtual_includes/iterator/workerd/jsg/value.h:1480: disconnected: jsg.Error: Network connection lost.",
      "exception = kj/async-io-unix.c++:1538: disconnected: connect(): Connection refused",
      "exception = workerd/api/web-socket.c++:821: disconnected: WebSocket peer disconnected",
    ]) {
      expect(isExpectedWorkerdLine(line, false)).toBe(true);
    }
    expect(isExpectedWorkerdLine(STACK, true)).toBe(true);
  });
});

describe("output that could be a real failure still prints", () => {
  it("keeps test failures, other workerd errors and a stack line after a kept line", () => {
    for (const line of [
      "AssertionError: expected 503 to be 200 // Network connection lost.",
      " FAIL   workers  test/store/fail-closed.test.ts > store fault: refuse > …",
      "Error: Network connection lost.",
      "uncaught exception; source = Uncaught (in promise); stack = TypeError: Cannot read properties of undefined",
      "exception = workerd/server/server.c++:100: error: Worker threw an exception",
      "uncaught exception; source = Uncaught (in promise); stack = Error: Network connection lost.\n    at verify (src/x.ts:1)",
    ]) {
      expect(isExpectedWorkerdLine(line, false)).toBe(false);
    }
    expect(isExpectedWorkerdLine(STACK, false)).toBe(false);
  });

  it("keeps every console entry except the worker's one-line 'session store unavailable' warning", () => {
    expect(isExpectedWarning('{"level":"warn","msg":"session store unavailable","path":"/api/me","cause":"Error: Network connection lost."}\n')).toBe(true);
    expect(isExpectedWarning('{"level":"error","msg":"unhandled","path":"/api/me","error":"TypeError","detail":"x"}')).toBe(false);
    expect(isExpectedWarning('{"level":"error","msg":"ws recheck failed","error":"Error: Network connection lost."}')).toBe(false);
    expect(isExpectedWarning('{"level":"warn","msg":"session store unavailable"}\nsomething else')).toBe(false);
    expect(isExpectedWarning("Network connection lost.")).toBe(false);
    expect(isExpectedWarning("")).toBe(false);
  });
});

describe("figures, provoked config errors and wrangler's .dev.vars notice are kept back; their look-alikes are not", () => {
  it("a figure is one line with the figure mark", () => {
    expect(isFigure(`${FIGURE_MARK}[lockout] 48 guesses from 12 groups: 17 password checks\n`)).toBe(true);
    expect(isFigure("[lockout] 48 guesses from 12 groups: 17 password checks")).toBe(false);
    expect(isFigure(`${FIGURE_MARK}[x] 1\nError: something else`)).toBe(false);
  });

  it("a config error is the worker's one-line JSON entry with its problems", () => {
    expect(isConfigError('{"level":"error","msg":"config","problems":["SERVER_TIMING must be on or off (got \\"yes\\")"]}\n')).toBe(true);
    expect(isConfigError('{"level":"error","msg":"unhandled","path":"/x","error":"TypeError"}')).toBe(false);
    expect(isConfigError('{"level":"error","msg":"config"}')).toBe(false);
    expect(isConfigError("StoreError: session store unavailable: Error: Network connection lost.")).toBe(false);
  });

  it("wrangler's notice for .dev.vars only", () => {
    expect(isExpectedWranglerLine("Using secrets defined in .dev.vars")).toBe(true);
    expect(isExpectedWranglerLine("Using secrets defined in process.env")).toBe(false);
    expect(isExpectedWranglerLine("✘ [ERROR] Using secrets defined in .dev.vars failed")).toBe(false);
  });
});
