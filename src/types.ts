/**
 * `edge-session/types`: the vocabulary as types only, for front ends type-checked with DOM types
 * alone (`skipLibCheck: false`): no Workers globals, no runtime code.
 *
 *   import type { AppType, SessionUser, UnauthorizedReason } from "edge-session/types";
 *   const api = hc<AppType>(location.origin);
 */
export type * from "./protocol.js";
export type { VerifyResponse, CreateSessionResponse, RpcSession } from "./rpc/types.js";
export type { AppType } from "./worker/app-type.js";
