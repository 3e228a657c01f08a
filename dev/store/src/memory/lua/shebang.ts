/** The `#!lua flags=...` line Redis 7 allows at the top of a script. */
import { CommandError } from "../../types.ts";

const err = (message: string) => new CommandError(message);

/**
 * Flags Redis 7.0 accepts after `#!lua flags=`. `allow-key-locking` is not one of them (7.0
 * rejects it), but @upstash/ratelimit's scripts declare it and Upstash accepts it, so it is
 * accepted here as a no-op.
 */
const SHEBANG_FLAGS = new Set(["no-writes", "allow-oom", "allow-stale", "no-cluster", "allow-cross-slot-keys", "allow-key-locking"]);

/** Redis `evalExtractShebangFlags`: returns the body to compile (shebang line blanked) and flags. */
export function parseShebang(body: string): { code: string; flags: Set<string> } {
  const flags = new Set<string>();
  if (!body.startsWith("#!")) return { code: body, flags };
  const end = body.indexOf("\n");
  if (end < 0) throw err("ERR Invalid script shebang");
  const parts = body.slice(0, end).split(/[ \t\r]+/).filter(Boolean);
  if (parts.length === 0) throw err("ERR Invalid engine in script shebang");
  if (parts[0] !== "#!lua") throw err(`ERR Unexpected engine in script shebang: ${parts[0]}`);
  for (const part of parts.slice(1)) {
    if (!part.startsWith("flags=")) throw err(`ERR Unknown lua shebang option: ${part}`);
    for (const flag of part.slice(6).split(",")) {
      if (part.length === 6) break;
      if (!SHEBANG_FLAGS.has(flag)) throw err(`ERR Unexpected flag in script shebang: ${flag}`);
      flags.add(flag);
    }
  }
  return { code: body.slice(end), flags };
}

