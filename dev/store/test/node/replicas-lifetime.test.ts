/**
 * The replicas a store spawns (real Redis mode) never outlive it: `local-store --regions` stopped
 * by a signal takes them down, and so does a store process killed outright (SIGKILL: no cleanup
 * code runs; the guard around each replica sees its stdin close). Runs only with REDIS_URL.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, it } from "vitest";
import { control, REDIS_URL, sleep, TOKEN } from "./replicas-helpers.ts";

const BIN = fileURLToPath(new URL("../../bin/local-store.mjs", import.meta.url));
const started: { child: ChildProcess; pids: number[] }[] = [];

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

/** The CLI with two regions; resolves once its replicas are up, with their pids. */
async function startCli(): Promise<{ child: ChildProcess; pids: number[] }> {
  const child = spawn(process.execPath, [BIN, "--port", "0", "--token", TOKEN, "--regions", "eu,ap"], {
    env: { ...process.env, REDIS_URL },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const entry = { child, pids: [] as number[] };
  started.push(entry);
  let out = "";
  child.stdout!.on("data", (c: Buffer) => (out += c));
  child.stderr!.on("data", (c: Buffer) => (out += c));
  const deadline = Date.now() + 30_000;
  while (!/Ctrl-C stops it/.test(out)) {
    if (Date.now() > deadline || child.exitCode !== null) throw new Error(`the store did not start:\n${out}`);
    await sleep(50);
  }
  const controlUrl = /Control:\s+(http:\/\/\S+)/.exec(out)![1]!;
  const { json } = await control(controlUrl, "GET", "/_regions");
  entry.pids = json.regions.map((r: { replica: { pid: number } }) => r.replica.pid);
  return entry;
}

async function gone(pids: number[], withinMs: number): Promise<boolean> {
  const deadline = Date.now() + withinMs;
  while (pids.some(alive)) {
    if (Date.now() > deadline) return false;
    await sleep(50);
  }
  return true;
}

afterEach(async () => {
  // Only what this file started, by pid.
  for (const { child, pids } of started.splice(0)) {
    if (child.exitCode === null) child.kill("SIGKILL");
    for (const pid of pids) if (alive(pid)) process.kill(pid, "SIGKILL");
  }
});

describe.skipIf(!REDIS_URL)("spawned replicas end with their store", () => {
  it("SIGTERM: the store closes its replicas", { timeout: 60_000 }, async () => {
    const { child, pids } = await startCli();
    expect(pids).toHaveLength(2);
    expect(pids.every(alive)).toBe(true);
    child.kill("SIGTERM");
    expect(await gone(pids, 8000)).toBe(true);
  });

  it("SIGKILL: no cleanup runs in the store, and the replicas still stop", { timeout: 60_000 }, async () => {
    const { child, pids } = await startCli();
    expect(pids.every(alive)).toBe(true);
    child.kill("SIGKILL");
    expect(await gone(pids, 8000)).toBe(true);
  });
});
