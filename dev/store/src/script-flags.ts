/**
 * Upstash accepts script shebang flags that Redis 7.0 does not know (`#!lua flags=allow-key-locking`,
 * used by @upstash/ratelimit ≥ 2.1). Real Redis refuses such a script ("Unexpected flag in script
 * shebang"), so the local server rewrites it before any backend sees it: unknown flags are
 * dropped, and the client's EVALSHA (made with the SHA-1 of the ORIGINAL text) is mapped to the
 * rewritten script. Scripts without unknown flags pass through untouched.
 */
import { createHash } from "node:crypto";

/** Flags Redis 7.0 understands (https://redis.io/docs/latest/develop/interact/programmability/eval-intro/#eval-flags). */
const REDIS_FLAGS = new Set(["no-writes", "allow-oom", "allow-stale", "no-cluster", "allow-cross-slot-keys"]);
const SHEBANG = /^#!lua(?:[ \t]+flags=([^\n]*))?(\r?\n|$)/;

export const sha1 = (text: string) => createHash("sha1").update(text).digest("hex");

/** The script as Redis 7.0 accepts it, or the same string when nothing needed changing. */
export function stripUnknownFlags(script: string): string {
  const m = SHEBANG.exec(script);
  if (!m || m[1] === undefined) return script;
  const flags = m[1].split(",").map((f) => f.trim()).filter(Boolean);
  const kept = flags.filter((f) => REDIS_FLAGS.has(f));
  if (kept.length === flags.length) return script;
  const line = kept.length ? `#!lua flags=${kept.join(",")}` : "#!lua";
  return line + m[2] + script.slice(m[0].length);
}

/** Remembers original SHA → rewritten script, for EVALSHA and SCRIPT EXISTS. */
export class ScriptRewriter {
  private readonly rewritten = new Map<string, { script: string; sha: string }>();

  /** Rewrites an argument list in place semantics: returns the arguments to send to the backend. */
  rewrite(args: string[]): string[] {
    const name = (args[0] ?? "").toLowerCase();
    if ((name === "eval" || name === "eval_ro") && args[1] !== undefined) {
      const script = stripUnknownFlags(args[1]);
      if (script === args[1]) return args;
      this.rewritten.set(sha1(args[1]), { script, sha: sha1(script) });
      return [args[0]!, script, ...args.slice(2)];
    }
    if ((name === "evalsha" || name === "evalsha_ro") && args[1] !== undefined) {
      const known = this.rewritten.get(args[1].toLowerCase());
      return known ? [args[0]!, known.sha, ...args.slice(2)] : args;
    }
    if (name === "script" && (args[1] ?? "").toLowerCase() === "load" && args[2] !== undefined) {
      const script = stripUnknownFlags(args[2]);
      if (script === args[2]) return args;
      this.rewritten.set(sha1(args[2]), { script, sha: sha1(script) });
      return [args[0]!, args[1]!, script];
    }
    return args;
  }

  /** SCRIPT LOAD of a rewritten script answers with the SHA the client computed (the original's). */
  loadReply(args: string[], reply: unknown): unknown {
    const name = (args[0] ?? "").toLowerCase();
    if (name === "script" && (args[1] ?? "").toLowerCase() === "load" && args[2] !== undefined && stripUnknownFlags(args[2]) !== args[2]) return sha1(args[2]);
    return reply;
  }
}
