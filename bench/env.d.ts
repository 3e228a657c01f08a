/**
 * The benchmark runs the worker's own session code (src/session, src/token) under Node. That
 * code names the WebCrypto global `CryptoKey`, which @types/node types but does not declare
 * globally; declare it for the dev tsconfig (an interface, so it merges with lib.dom's if present).
 */
import type { webcrypto } from "node:crypto";

declare global {
  interface CryptoKey extends webcrypto.CryptoKey {}
}

export {};
