import type { Backend, Reply } from "./types.ts";

/**
 * Deletes every key under `prefix` (SCAN MATCH + UNLINK in batches), so a test or benchmark run
 * against a shared Redis leaves nothing behind. Bounded: at most `maxSteps` SCAN steps.
 */
export async function dropPrefix(backend: Backend, prefix: string, maxSteps = 10_000): Promise<number> {
  if (!prefix) throw new Error("dropPrefix: refusing an empty prefix (it would match every key)");
  const pattern = `${prefix.replace(/[*?[\]\\]/g, "\\$&")}*`;
  let cursor = "0";
  let dropped = 0;
  for (let step = 0; step < maxSteps; step++) {
    const [next, keys] = (await backend.command(["SCAN", cursor, "MATCH", pattern, "COUNT", "1000"])) as [Reply, Reply[]];
    if (keys.length) dropped += Number(await backend.command(["UNLINK", ...keys.map(String)]));
    cursor = String(next);
    if (cursor === "0") break;
  }
  return dropped;
}
