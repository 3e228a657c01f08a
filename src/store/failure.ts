/**
 * What kind of store failure an error is, for an on-call engineer: the store did not answer in
 * time, could not be reached, answered with an error status, or answered something unreadable.
 * Read from the client's error types and messages; nothing of the command or reply is kept.
 */
export type StoreFailureKind = "timeout" | "refused" | "unauthorized" | "error_reply" | "bad_reply" | "unknown";

export function failureKind(cause: unknown): StoreFailureKind {
  if (!(cause instanceof Error)) return "unknown";
  const text = `${cause.name} ${cause.message}`;
  if (cause.name === "TimeoutError" || cause.name === "AbortError" || /timed? ?out|aborted/i.test(text)) return "timeout";
  // The body of a non-2xx or 2xx answer was not JSON (a proxy's error page, a truncated reply).
  if (cause.name === "UpstashJSONParseError" || cause.name === "SyntaxError") return "bad_reply";
  if (cause.name === "UpstashError") return /unauthori[sz]ed|WRONGPASS|NOAUTH|invalid token/i.test(cause.message) ? "unauthorized" : "error_reply";
  // fetch() itself failed: refused, reset, DNS, TLS (workerd: "Network connection lost").
  if (cause.name === "TypeError" || /fetch failed|ECONNREFUSED|ECONNRESET|connection|network/i.test(text)) return "refused";
  return "unknown";
}
