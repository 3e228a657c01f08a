/**
 * The expected noise of a passing run, kept out of its output so that what remains is what
 * needs reading. The fault tests refuse, hang and break the store on purpose, and closing
 * sockets is routine; two sources then print on every run:
 *
 * - workerd itself: @cloudflare/vitest-pool-workers starts Miniflare with verbose logging and
 *   its own log handler, writing straight to this process's stderr (neither is a project
 *   option in 0.15.1), so the only place to filter is that stream. Dropped: the disconnection
 *   records listed in WORKERD_EXPECTED and the "stack:" line of addresses that follows one;
 * - the worker's one-line JSON warnings "session store unavailable" (the 503 path) and "socket
 *   host unreachable" / "socket admission unavailable" (the realtime 503 path), seen by Vitest's
 *   console capture (`onConsoleLog`);
 * - the configuration errors tests provoke on purpose (`{"level":"error","msg":"config",…}`: a
 *   worker with such an error refuses to build, so one a test did not expect fails that test);
 * - the figures tests measure (test/helpers/figure.ts), counted here and printed with TEST_VERBOSE=1;
 * - wrangler's "Using secrets defined in .dev.vars", printed once per test file when a local
 *   .dev.vars (left by `npm run dev`) sits next to wrangler.toml.
 *
 * Nothing else is touched: test failures, errors and every other log line print as before, and
 * a failure caused by the store shows up as the failing assertion it produces. The number of
 * lines kept back is printed in one line at the end. TEST_VERBOSE=1 turns all this off.
 */
import { FIGURE_MARK } from "./helpers/figure.ts";

const WORKERD_EXPECTED: RegExp[] = [
  /^uncaught exception; source = Uncaught \(in promise\); stack = Error: Network connection lost\.\s*$/,
  /^uncaught exception; exception = \S+: disconnected: jsg\.Error: Network connection lost\.\s*$/,
  /^exception = kj\/async-io-unix\.c\+\+:\d+: disconnected: connect\(\): Connection refused\s*$/,
  /^exception = workerd\/api\/web-socket\.c\+\+:\d+: disconnected: WebSocket peer disconnected\s*$/,
  /^exception = kj\/compat\/http\.c\+\+:\d+: disconnected: other end of WebSocketPipe was destroyed\s*$/,
  // integration/realtime.test.ts points ROOMS / USER_SOCKETS at objects that cannot serve (the 503 path).
  /^uncaught exception; source = Uncaught \(in promise\); stack = TypeError: UserSockets exported by \S+ does not define a `fetch\(\)` method\s*$/,
  /^uncaught exception; exception = \S+: failed: jsg\.TypeError: UserSockets exported by \S+ does not define a `fetch\(\)` method\s*$/,
  /^uncaught exception; source = Uncaught \(in promise\); stack = TypeError: The RPC receiver does not implement "admit"\.\s*$/,
];
/** wrangler's notice, from the pool reading wrangler.toml (the test bindings override what it reads). */
const WRANGLER_EXPECTED = /^Using secrets defined in \.dev\.vars\s*$/;
/** workerd's unsymbolised stack: "stack: /path/to/workerd@2f20430 /path/to/workerd@…". */
const WORKERD_STACK = /^stack:( \S+@[0-9a-f]+)+\s*$/;
/** The JS stack of such a record, when the error passed through the pool's wrapper of an object. */
const POOL_STACK = /^\s+at \S+(?: \S+)? \(\S*vitest-pool-workers\/dist\/worker\/lib\/cloudflare\/test-internal\.mjs:\d+:\d+\)\s*$/;

export const verbose = process.env.TEST_VERBOSE === "1";

/** Whether one line of output is a record of workerd's that a passing run expects. */
export function isExpectedWorkerdLine(line: string, previousWasExpected: boolean): boolean {
  return WORKERD_EXPECTED.some((re) => re.test(line)) || (previousWasExpected && (WORKERD_STACK.test(line) || POOL_STACK.test(line)));
}

/** Whether a line is wrangler's expected notice. */
export function isExpectedWranglerLine(line: string): boolean {
  return WRANGLER_EXPECTED.test(line);
}

/** Whether a captured console entry is the worker's one-line configuration error (a test provoked it). */
export function isConfigError(log: string): boolean {
  const lines = log.split("\n").filter((l) => l.trim() !== "");
  if (lines.length !== 1) return false;
  try {
    const entry = JSON.parse(lines[0]!) as { level?: unknown; msg?: unknown; problems?: unknown };
    return entry.level === "error" && entry.msg === "config" && Array.isArray(entry.problems);
  } catch {
    return false;
  }
}

/** Whether a captured console entry is a test's measured figure (test/helpers/figure.ts). */
export function isFigure(log: string): boolean {
  return log.startsWith(FIGURE_MARK) && !log.trimEnd().includes("\n");
}

/** Whether a captured console entry is the worker's expected "store unavailable" warning. */
export function isExpectedWarning(log: string): boolean {
  const lines = log.split("\n").filter((l) => l.trim() !== "");
  return lines.length > 0 && lines.every((line) => {
    try {
      const entry = JSON.parse(line) as { level?: unknown; msg?: unknown };
      return entry.level === "warn" && (entry.msg === "session store unavailable" || entry.msg === "socket host unreachable" || entry.msg === "socket admission unavailable");
    } catch {
      return false;
    }
  });
}

const hidden = { workerd: 0, wrangler: 0, warnings: 0, configErrors: 0, figures: 0 };

/** For `onConsoleLog`: false drops the entry. */
export function keepConsoleLog(log: string): boolean {
  if (verbose) return true;
  const lines = log.split("\n").filter((l) => l.trim() !== "").length;
  if (isExpectedWarning(log)) hidden.warnings += lines;
  else if (isConfigError(log)) hidden.configErrors += lines;
  else if (isFigure(log)) hidden.figures += lines;
  else return true;
  return false;
}

/** Filters workerd's expected records out of this process's stderr (and stdout). */
export function filterWorkerdNoise(): void {
  const installed = Symbol.for("edge-session.expected-noise");
  const g = globalThis as { [installed]?: boolean };
  if (verbose || g[installed]) return;
  g[installed] = true;
  for (const stream of [process.stderr, process.stdout]) {
    const write = stream.write.bind(stream) as (...args: unknown[]) => boolean;
    let previousDropped = false;
    stream.write = ((chunk: unknown, ...rest: unknown[]) => {
      if (typeof chunk !== "string" && !(chunk instanceof Uint8Array)) return write(chunk, ...rest);
      const text = typeof chunk === "string" ? chunk : Buffer.from(chunk).toString("utf8");
      const lines = text.split("\n");
      if (lines.at(-1) === "") lines.pop();
      const kept: string[] = [];
      for (const line of lines) {
        const wrangler = isExpectedWranglerLine(line);
        const drop = wrangler || isExpectedWorkerdLine(line, previousDropped);
        previousDropped = drop && !wrangler;
        if (wrangler) hidden.wrangler++;
        else if (drop) hidden.workerd++;
        else kept.push(line);
      }
      if (kept.length === lines.length) return write(chunk, ...rest);
      const callback = rest.find((r) => typeof r === "function") as (() => void) | undefined;
      if (kept.length === 0) {
        callback?.();
        return true;
      }
      return write(kept.join("\n") + (text.endsWith("\n") ? "\n" : ""), ...rest);
    }) as typeof stream.write;
  }
  process.once("exit", () => {
    const total = Object.values(hidden).reduce((a, b) => a + b, 0);
    if (total === 0) return;
    const parts = [
      [hidden.figures, "measured figures"],
      [hidden.workerd, "workerd disconnections"],
      [hidden.warnings, '"session store unavailable" warnings'],
      [hidden.configErrors, "provoked config errors"],
      [hidden.wrangler, 'wrangler\'s "Using secrets defined in .dev.vars"'],
    ].filter(([n]) => n !== 0);
    process.stderr.write(`[test] kept back ${total} lines of expected output (${parts.map(([n, what]) => `${what}: ${n}`).join(", ")}); TEST_VERBOSE=1 shows them\n`);
  });
}
