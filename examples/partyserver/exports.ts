/** The classes the example's worker exports next to its own: the per-user object and the RPC entrypoint. */
export { UserSockets } from "../../src/realtime/user-sockets.js";
export { SessionVerifier } from "../../src/rpc.js";
