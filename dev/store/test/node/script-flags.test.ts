import { describe, expect, it } from "vitest";
import { ScriptRewriter, sha1, stripUnknownFlags } from "../../src/script-flags.ts";

describe("Upstash-only script flags", () => {
  it("drops flags Redis 7.0 does not know and keeps the rest", () => {
    expect(stripUnknownFlags("#!lua flags=allow-key-locking\nreturn 1")).toBe("#!lua\nreturn 1");
    expect(stripUnknownFlags("#!lua flags=no-writes,allow-key-locking\nreturn 1")).toBe("#!lua flags=no-writes\nreturn 1");
    expect(stripUnknownFlags("#!lua flags=no-writes\nreturn 1")).toBe("#!lua flags=no-writes\nreturn 1");
    expect(stripUnknownFlags("return 1")).toBe("return 1");
  });

  it("maps the client's EVALSHA of the original text to the rewritten script", () => {
    const r = new ScriptRewriter();
    const original = "#!lua flags=allow-key-locking\nreturn 1";
    expect(r.rewrite(["evalsha", sha1(original), "0"])).toEqual(["evalsha", sha1(original), "0"]); // unknown yet: NOSCRIPT, then EVAL
    expect(r.rewrite(["eval", original, "0"])).toEqual(["eval", "#!lua\nreturn 1", "0"]);
    expect(r.rewrite(["evalsha", sha1(original), "0"])).toEqual(["evalsha", sha1("#!lua\nreturn 1"), "0"]);
    expect(r.rewrite(["get", "k"])).toEqual(["get", "k"]);
  });

  it("SCRIPT LOAD answers with the original's SHA", () => {
    const r = new ScriptRewriter();
    const original = "#!lua flags=allow-key-locking\nreturn 2";
    const args = ["script", "load", original];
    expect(r.rewrite(args)).toEqual(["script", "load", "#!lua\nreturn 2"]);
    expect(r.loadReply(args, sha1("#!lua\nreturn 2"))).toBe(sha1(original));
  });
});
