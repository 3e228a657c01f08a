/**
 * Which commands a read region may answer from its replica. Everything else goes to the primary,
 * as Upstash Global routes it: the list names reads, so a command it does not know (a new write,
 * a module command) is treated as a write, which is safe — it is only slower.
 *
 * Scripts: EVAL and EVALSHA always go to the primary (they may write, and a `no-writes` shebang
 * is not what Upstash routes on); EVAL_RO, EVALSHA_RO and FCALL_RO are the read-only forms
 * Upstash documents as servable by replicas.
 */

const READS = new Set([
  // strings and bits
  "get", "mget", "strlen", "getrange", "substr", "lcs", "getbit", "bitcount", "bitpos", "bitfield_ro",
  // keys
  "exists", "ttl", "pttl", "expiretime", "pexpiretime", "type", "keys", "scan", "randomkey", "dump", "touch",
  "dbsize", "object", "memory", "sort_ro",
  // hashes
  "hget", "hmget", "hgetall", "hkeys", "hvals", "hlen", "hexists", "hstrlen", "hscan", "hrandfield",
  // sets
  "smembers", "sismember", "smismember", "scard", "srandmember", "sscan", "sinter", "sunion", "sdiff", "sintercard",
  // sorted sets
  "zrange", "zrangebyscore", "zrangebylex", "zrevrange", "zrevrangebyscore", "zrevrangebylex", "zscore", "zmscore",
  "zcard", "zcount", "zlexcount", "zrank", "zrevrank", "zscan", "zrandmember", "zinter", "zunion", "zdiff", "zintercard",
  // lists
  "lrange", "lindex", "llen", "lpos",
  // streams (XREAD without BLOCK; XREADGROUP writes: it moves the group's cursor)
  "xrange", "xrevrange", "xlen", "xinfo", "xpending",
  // geo and hyperloglog
  "geopos", "geodist", "geohash", "geosearch", "georadius_ro", "georadiusbymember_ro", "pfcount",
  // JSON (RedisJSON reads)
  "json.get", "json.mget", "json.type", "json.strlen", "json.arrlen", "json.arrindex", "json.objkeys", "json.objlen", "json.resp",
  // scripts that cannot write
  "eval_ro", "evalsha_ro", "fcall_ro",
  // connection and server
  "ping", "echo", "time",
]);

/** True when a read region may serve the command from its replica. */
export function isRead(args: string[]): boolean {
  const name = (args[0] ?? "").toLowerCase();
  if (name === "xread") return !args.some((a, i) => i > 0 && a.toLowerCase() === "block");
  return READS.has(name);
}

/** A pipeline or transaction with any write goes to the primary as a whole. */
export function allReads(commands: string[][]): boolean {
  return commands.every(isRead);
}
