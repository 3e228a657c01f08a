/**
 * JSON bodies: size-limited before parsing (413), parsed without ever throwing past us (400
 * `invalid_json`), validated with a valibot schema (400 `invalid_request` naming the field).
 */
import type { Context, MiddlewareHandler } from "hono";
import { bodyLimit } from "hono/body-limit";
import * as v from "valibot";
import { jsonError } from "./responses.js";

/** Largest JSON body any auth route accepts. */
export const MAX_JSON_BODY = 16 * 1024;

export const limitBody: MiddlewareHandler = bodyLimit({
  maxSize: MAX_JSON_BODY,
  onError: () => {
    throw jsonError("payload_too_large", { limit: MAX_JSON_BODY });
  },
});

export async function readJson<S extends v.GenericSchema>(c: Context, schema: S): Promise<v.InferOutput<S>> {
  const type = c.req.header("Content-Type") ?? "";
  if (!/^application\/json\b/i.test(type)) throw jsonError("invalid_request", { field: null, message: "Content-Type must be application/json" });
  let body: unknown;
  try {
    body = JSON.parse(await c.req.text());
  } catch {
    throw jsonError("invalid_json", { message: "body is not valid JSON" });
  }
  const parsed = v.safeParse(schema, body);
  if (!parsed.success) {
    const issue = parsed.issues[0];
    const field = issue ? v.getDotPath(issue) : null;
    throw jsonError("invalid_request", { field, message: issue?.message ?? "invalid body" });
  }
  return parsed.output;
}
