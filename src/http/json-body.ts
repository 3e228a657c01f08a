/**
 * JSON bodies: size-limited before parsing (413), parsed without ever throwing past us (400
 * `invalid_json`), validated with a valibot schema (400 `invalid_request` naming the field).
 * `jsonBody(schema)` is the same as route middleware: the handler reads `c.req.valid("json")`,
 * and `hc<AppType>` types the request body from the schema.
 */
import type { Context, Env, MiddlewareHandler } from "hono";
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

/**
 * Validator middleware over `readJson`: the same checks and error bodies, with the schema's
 * input type declared for `hc<AppType>` (`$post({ json })`) and its output in `c.req.valid("json")`.
 */
export function jsonBody<S extends v.GenericSchema, E extends Env = Env, P extends string = string>(
  schema: S,
): MiddlewareHandler<E, P, { in: { json: v.InferInput<S> }; out: { json: v.InferOutput<S> } }> {
  return async (c, next) => {
    c.req.addValidatedData("json", (await readJson(c, schema)) as object);
    await next();
  };
}
