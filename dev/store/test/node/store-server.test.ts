/**
 * The local store from Node: what workerd cannot reach or observe — binding rules, that close()
 * really lets go of every socket (hanging ones too), body limits, exact stats, the CLI.
 * Uses the embedded backend unless REDIS_URL is set (then the real one, under a random prefix).
 */
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import http from "node:http";
import net from "node:net";
import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, it } from "vitest";
import { sha1 } from "../../src/script-flags.ts";
import { startStore, type StoreServer } from "../../src/server.ts";

const REDIS_URL = process.env.REDIS_URL || undefined;
const prefix = `store-server-test:${randomBytes(6).toString("hex")}:`;

const open: StoreServer[] = [];
async function start(options: Parameters<typeof startStore>[0] = {}) {
  const s = await startStore({ port: 0, redisUrl: REDIS_URL, ...options });
  open.push(s);
  return s;
}
afterEach(async () => {
  for (const s of open.splice(0)) {
    await s.setFault(null).catch(() => {});
    try {
      const keys = (await s.backend.command(["keys", `${prefix}*`])) as string[];
      if (keys.length) await s.backend.command(["del", ...keys]);
    } catch {
      // already closed by the test
    }
    await s.close();
  }
});

interface Res {
  status: number;
  body: string;
  json: any;
  headers: http.IncomingHttpHeaders;
}

/** A request through node:http (no pooling unless an agent is given), bounded by `timeoutMs`. */
function request(url: string, opts: { method?: string; path?: string; token?: string; body?: string | Buffer; headers?: Record<string, string>; agent?: http.Agent; timeoutMs?: number } = {}): Promise<Res> {
  return new Promise((resolve, reject) => {
    const u = new URL((opts.path ?? "/").replace(/^\/?/, "/"), url);
    const req = http.request(
      u,
      {
        method: opts.method ?? "POST",
        agent: opts.agent ?? false,
        headers: { ...(opts.token ? { authorization: `Bearer ${opts.token}` } : {}), "content-type": "application/json", ...(opts.headers ?? {}) },
        timeout: opts.timeoutMs ?? 5000,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => {
          const body = Buffer.concat(chunks).toString("utf8");
          let json: any;
          try {
            json = JSON.parse(body);
          } catch {
            json = undefined;
          }
          resolve({ status: res.statusCode ?? 0, body, json, headers: res.headers });
        });
        res.on("error", reject);
      },
    );
    req.on("timeout", () => req.destroy(new Error("client timeout")));
    req.on("error", reject);
    req.end(opts.body);
  });
}

const cmd = (s: StoreServer, body: unknown, path = "/") => request(s.url, { path, token: s.token, body: JSON.stringify(body) });

function connectError(url: string): Promise<string | null> {
  const u = new URL(url);
  return new Promise((resolve) => {
    const sock = net.connect({ host: u.hostname.replace(/^\[|\]$/g, ""), port: Number(u.port) });
    sock.once("connect", () => {
      sock.destroy();
      resolve(null);
    });
    sock.once("error", (e: NodeJS.ErrnoException) => resolve(e.code ?? e.message));
  });
}

describe("binding", () => {
  it("refuses anything but loopback, with a clear error", async () => {
    for (const host of ["0.0.0.0", "::", "192.168.1.10", "example.com", ""]) {
      await expect(startStore({ port: 0, host }), host).rejects.toThrow(/only binds to loopback/);
    }
  });

  it("accepts 127.0.0.1, ::1 and localhost", async () => {
    const v4 = await start({ host: "127.0.0.1" });
    expect(v4.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const v6 = await start({ host: "::1" });
    expect(v6.url).toMatch(/^http:\/\/\[::1\]:\d+$/);
    expect((await cmd(v6, ["ping"])).json).toEqual({ result: "PONG" });
    const local = await start({ host: "localhost" });
    expect(local.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(local.controlUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
  });

  it("a port already in use is a clear error", async () => {
    const a = await start();
    await expect(startStore({ port: a.port, redisUrl: REDIS_URL })).rejects.toMatchObject({ message: expect.stringMatching(/already in use/), code: "EADDRINUSE" });
  });

  it("a random token by default, the given one otherwise", async () => {
    const a = await start();
    const b = await start();
    expect(a.token.length).toBeGreaterThanOrEqual(24);
    expect(a.token).not.toBe(b.token);
    const c = await start({ token: "given" });
    expect(c.token).toBe("given");
    expect((await request(c.url, { token: "given", body: '["ping"]' })).status).toBe(200);
    expect((await request(c.url, { token: "other", body: '["ping"]' })).status).toBe(401);
  });

  it("with REDIS_URL pointing nowhere, startStore fails instead of serving errors", async () => {
    await expect(startStore({ port: 0, redisUrl: "redis://127.0.0.1:9" })).rejects.toThrow(/cannot reach Redis at redis:\/\/127\.0\.0\.1:9/);
  });
});

describe("close()", () => {
  it("releases listeners, idle keep-alive sockets, hanging and delayed requests, and siblings", async () => {
    const s = await start();
    const sibling = await s.createInstance();
    const agent = new http.Agent({ keepAlive: true });
    expect((await request(s.url, { token: s.token, body: '["ping"]', agent })).status).toBe(200); // leaves an idle socket

    await s.setFault("hang");
    const hanging = request(s.url, { token: s.token, body: '["ping"]', timeoutMs: 30_000 }).then(
      () => "answered",
      (e: Error) => e.message,
    );
    sibling.setLatency(20_000);
    const delayed = request(sibling.url, { token: sibling.token, body: '["ping"]', timeoutMs: 30_000 }).then(
      () => "answered",
      (e: Error) => e.message,
    );
    await new Promise((r) => setTimeout(r, 100));

    const started = Date.now();
    await s.close();
    expect(Date.now() - started).toBeLessThan(2000);
    expect(await hanging).toMatch(/socket hang up|ECONNRESET/);
    expect(await delayed).toMatch(/socket hang up|ECONNRESET/);
    for (const url of [s.url, s.controlUrl, sibling.url, sibling.controlUrl]) expect(await connectError(url)).toBe("ECONNREFUSED");
    // The ports are really free.
    const again = await start({ port: s.port });
    expect((await cmd(again, ["ping"])).json).toEqual({ result: "PONG" });
    agent.destroy();
    await s.close(); // idempotent
  });

  it("a hanging request is released when the fault changes", async () => {
    const s = await start();
    await s.setFault("hang");
    const hanging = request(s.url, { token: s.token, body: '["ping"]', timeoutMs: 30_000 }).then(
      () => "answered",
      (e: Error) => e.message,
    );
    await new Promise((r) => setTimeout(r, 100));
    await s.setFault(null);
    expect(await hanging).toMatch(/socket hang up|ECONNRESET/);
    expect((await cmd(s, ["ping"])).json).toEqual({ result: "PONG" });
  });
});

describe("faults from Node", () => {
  it("refuse closes the data port (ECONNREFUSED) and reopens the same port; the control port stays up", async () => {
    const s = await start();
    const agent = new http.Agent({ keepAlive: true });
    expect((await request(s.url, { token: s.token, body: '["ping"]', agent })).status).toBe(200);
    await s.setFault("refuse");
    expect(await connectError(s.url)).toBe("ECONNREFUSED");
    // The pooled keep-alive socket was destroyed too: the agent cannot sneak a request through.
    await expect(request(s.url, { token: s.token, body: '["ping"]', agent })).rejects.toThrow(/ECONNREFUSED|socket hang up|ECONNRESET/);
    expect((await request(s.controlUrl, { method: "GET", path: "/_control", token: s.token })).json).toEqual({ latencyMs: 0, fault: "refuse" });
    await s.setFault(null);
    expect((await cmd(s, ["ping"])).json).toEqual({ result: "PONG" });
    expect(new URL(s.url).port).toBe(String(s.port));
    agent.destroy();
  });

  it("if the port was taken while refused, clearing the fault fails clearly and can be retried", async () => {
    const s = await start();
    await s.setFault("refuse");
    const squatter = net.createServer();
    await new Promise<void>((r) => squatter.listen(s.port, "127.0.0.1", r));
    await expect(s.setFault(null)).rejects.toThrow(new RegExp(`could not reopen port ${s.port}`));
    expect(s.state().fault).toBe("refuse");
    await new Promise<void>((r) => squatter.close(() => r()));
    await s.setFault(null);
    expect((await cmd(s, ["ping"])).json).toEqual({ result: "PONG" });
  });

  it("each fault answers as documented", async () => {
    const s = await start();
    await s.setFault("status500");
    let r = await cmd(s, ["ping"]);
    expect(r.status).toBe(500);
    expect(r.headers["content-type"]).toBe("application/json");
    expect(typeof r.json.error).toBe("string");
    await s.setFault("unauthorized");
    r = await cmd(s, ["ping"]);
    expect([r.status, r.json]).toEqual([401, { error: "Unauthorized" }]);
    await s.setFault("invalid-json");
    r = await cmd(s, ["ping"]);
    expect(r.status).toBe(200);
    expect(() => JSON.parse(r.body)).toThrow();
    await s.setFault(null);
    expect((await cmd(s, ["ping"])).json).toEqual({ result: "PONG" });
    expect(s.stats().faulted).toBe(3);
    expect(() => s.setFault("explode" as never)).toThrow(/unknown fault/);
    expect(() => s.setLatency(-1)).toThrow(RangeError);
  });
});

describe("limits and HTTP details", () => {
  it("bodies over the limit get 413 with a JSON error; the connection stays usable", async () => {
    const s = await start({ maxBodyBytes: 1024 });
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    const big = JSON.stringify(["set", `${prefix}big`, "x".repeat(2000)]);
    const r = await request(s.url, { token: s.token, body: big, agent });
    expect(r.status).toBe(413);
    expect(r.json.error).toMatch(/too large.*1024/);
    const ok = JSON.stringify(["set", `${prefix}small`, "x".repeat(900)]);
    expect((await request(s.url, { token: s.token, body: ok, agent })).json).toEqual({ result: "OK" });
    agent.destroy();
  });

  it("the default limit is 1 MiB; far larger bodies are cut off early", async () => {
    const s = await start();
    const justUnder = JSON.stringify(["set", `${prefix}mib`, "x".repeat(1024 * 1024 - 100)]);
    expect((await request(s.url, { token: s.token, body: justUnder })).json).toEqual({ result: "OK" });
    const over = JSON.stringify(["set", `${prefix}mib`, "x".repeat(1024 * 1024 + 10)]);
    expect((await request(s.url, { token: s.token, body: over })).status).toBe(413);
    // A declared length far beyond the limit is refused without reading the body.
    const huge = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const u = new URL(s.url);
      const sock = net.connect({ host: u.hostname, port: Number(u.port) }, () => {
        sock.write(`POST / HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${s.token}\r\nContent-Type: application/json\r\nContent-Length: ${64 * 1024 * 1024}\r\n\r\n["set","k","`);
      });
      let text = "";
      sock.on("data", (c: Buffer) => (text += c.toString("utf8")));
      sock.on("close", () => resolve({ status: Number(text.split(" ")[1]), body: text.slice(text.indexOf("\r\n\r\n") + 4) }));
      sock.on("error", reject);
      setTimeout(() => sock.destroy(), 5000);
    });
    expect(huge.status).toBe(413);
    expect(JSON.parse(huge.body).error).toMatch(/too large/);
  });

  it("answers keep-alive with JSON content type, and 404 for control paths it does not know", async () => {
    const s = await start();
    const agent = new http.Agent({ keepAlive: true });
    const r = await request(s.url, { token: s.token, body: '["ping"]', agent });
    agent.destroy();
    expect(r.headers["content-type"]).toBe("application/json");
    expect(r.headers.connection).toBe("keep-alive");
    expect((await request(s.url, { path: "/_nope", method: "GET", token: s.token })).status).toBe(404);
    const m = await request(s.url, { method: "PATCH", token: s.token, body: "[]" });
    expect(m.status).toBe(405);
    expect(m.headers.allow).toBe("POST");
  });
});

describe("stats", () => {
  it("counts requests, commands per name, endpoints, errors and rejections", async () => {
    const s = await start();
    const k = `${prefix}stats`;
    await cmd(s, [["set", k, "1"], ["get", k], ["incr", k]], "/pipeline");
    await cmd(s, [["incr", k], ["hget", k, "f"]], "/multi-exec");
    await cmd(s, ["get", k]);
    await cmd(s, ["nosuchcommand"]);
    await request(s.url, { token: "wrong", body: '["get","x"]' });
    await request(s.url, { token: s.token, body: "{" });
    expect(s.stats()).toMatchObject({
      requests: 6,
      total: 7,
      commands: { SET: 1, GET: 2, INCR: 2, HGET: 1, NOSUCHCOMMAND: 1 },
      endpoints: { "/pipeline": 1, "/multi-exec": 1, "/": 2 },
      errors: 2, // HGET (WRONGTYPE inside EXEC) and the unknown command
      rejected: 2,
      faulted: 0,
    });
    // Control requests are not counted; the HTTP view equals the programmatic one.
    const viaHttp = await request(s.controlUrl, { method: "GET", path: "/_stats", token: s.token });
    expect(viaHttp.json).toEqual(s.stats());
    s.resetStats();
    expect(s.stats()).toMatchObject({ requests: 0, total: 0, commands: {}, endpoints: {}, scripts: {} });
  });

  it("counts script runs per script SHA1, for EVAL and EVALSHA alike", async () => {
    const s = await start();
    const a = "return 1";
    const b = "return 2";
    await cmd(s, ["eval", a, "0"]);
    await cmd(s, ["evalsha", sha1(a), "0"]);
    await cmd(s, ["eval", b, "0"]);
    await cmd(s, ["get", `${prefix}nothing`]);
    expect(s.stats().scripts).toEqual({ [sha1(a)]: 2, [sha1(b)]: 1 });
    expect(s.stats().commands).toMatchObject({ EVAL: 2, EVALSHA: 1, GET: 1 });
  });

  it("siblings count on their own but share the data", async () => {
    const s = await start();
    const sib = await s.createInstance();
    const k = `${prefix}shared`;
    await cmd(sib, ["set", k, "v"]);
    expect((await cmd(s, ["get", k])).json).toEqual({ result: "v" });
    expect(sib.stats()).toMatchObject({ requests: 1, commands: { SET: 1 } });
    expect(s.stats()).toMatchObject({ requests: 1, commands: { GET: 1 } });
    expect(sib.backend).toBe(s.backend);
    expect(sib.token).toBe(s.token);
    await sib.close();
    expect(await connectError(sib.url)).toBe("ECONNREFUSED");
    expect((await cmd(s, ["get", k])).json).toEqual({ result: "v" }); // closing a sibling leaves the backend alone
  });
});

describe.runIf(REDIS_URL)("real Redis backend", () => {
  it("a blocking command runs on its own connection and does not stall other requests", async () => {
    const s = await start();
    const started = Date.now();
    const blocked = cmd(s, ["blpop", `${prefix}empty-list`, "1"]);
    await new Promise((r) => setTimeout(r, 50));
    expect((await cmd(s, ["ping"])).json).toEqual({ result: "PONG" });
    expect(Date.now() - started).toBeLessThan(500);
    expect((await blocked).json).toEqual({ result: null });
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
  });
});

describe("CLI (the package's `local-store` bin, what `npm run store` runs)", () => {
  const BIN = fileURLToPath(new URL("../../bin/local-store.mjs", import.meta.url));
  function runCli(args: string[], env: NodeJS.ProcessEnv = process.env) {
    // Its own process group, so anything it starts can be signalled with it.
    const child = spawn(process.execPath, [BIN, ...args], { env, detached: true, stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    let err = "";
    child.stdout.on("data", (c: Buffer) => (out += c.toString("utf8")));
    child.stderr.on("data", (c: Buffer) => (err += c.toString("utf8")));
    const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
    const closed = new Promise<void>((resolve) => child.stdout.on("close", () => resolve()));
    const waitFor = async (re: RegExp, ms: number) => {
      const until = Date.now() + ms;
      while (!re.test(out)) {
        if (Date.now() > until) throw new Error(`CLI did not print ${re} in ${ms} ms:\n${out}\n${err}`);
        await new Promise((r) => setTimeout(r, 50));
      }
      return out;
    };
    const killGroup = (signal: NodeJS.Signals) => {
      try {
        process.kill(-child.pid!, signal);
      } catch {
        /* already gone */
      }
    };
    return { child, exited, closed, waitFor, killGroup, output: () => out, errors: () => err };
  }

  it("starts on --port 0, prints URL, token, backend and export lines, serves, and stops cleanly on SIGTERM", async () => {
    const env = { ...process.env };
    if (!REDIS_URL) delete env.REDIS_URL;
    const cli = runCli(["--port", "0", "--token", "cli-token-123"], env);
    try {
      const out = await cli.waitFor(/UPSTASH_REDIS_REST_TOKEN=\S+/, 30_000);
      const url = /URL:\s+(http:\/\/127\.0\.0\.1:\d+)/.exec(out)?.[1];
      expect(url).toBeDefined();
      expect(out).toMatch(/Token:\s+cli-token-123/);
      expect(out).toMatch(REDIS_URL ? /Backend:\s+redis:\/\// : /Backend:\s+embedded \(in-memory\)/);
      expect(out).toContain(`UPSTASH_REDIS_REST_URL=${url}`);
      expect(out).toContain("UPSTASH_REDIS_REST_TOKEN=cli-token-123");
      expect((await request(url!, { token: "cli-token-123", body: '["ping"]' })).json).toEqual({ result: "PONG" });

      cli.killGroup("SIGTERM");
      await Promise.race([cli.closed, new Promise((r) => setTimeout(r, 10_000))]);
      expect(cli.output()).toMatch(/store: stopped/);
      expect(await connectError(url!)).toBe("ECONNREFUSED");
    } finally {
      cli.killGroup("SIGKILL");
    }
  });

  it("exits with an error for a non-loopback host or a bad flag", async () => {
    const cli = runCli(["--port", "0", "--host", "0.0.0.0"]);
    try {
      const code = await Promise.race([cli.exited, new Promise<string>((r) => setTimeout(() => r("timeout"), 30_000))]);
      expect(code).toBe(1);
      expect(cli.errors()).toMatch(/only binds to loopback/);
    } finally {
      cli.killGroup("SIGKILL");
    }
    const bad = runCli(["--port", "nope"]);
    try {
      expect(await Promise.race([bad.exited, new Promise<string>((r) => setTimeout(() => r("timeout"), 30_000))])).toBe(2);
      expect(bad.errors()).toMatch(/--port must be a port number/);
    } finally {
      bad.killGroup("SIGKILL");
    }
  });
});
