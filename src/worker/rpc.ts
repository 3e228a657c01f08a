/**
 * The deployed worker's `SessionVerifier`: the library's entrypoint over the worker's own
 * dependencies, so a revocation over RPC closes the worker's sockets like one over HTTP does.
 *
 *   # wrangler.toml of the calling worker
 *   services = [{ binding = "SESSIONS", service = "edge-session", entrypoint = "SessionVerifier" }]
 */
import { SessionVerifierBase, VerifierMisconfigured } from "../rpc/entrypoint.js";
import { depsFor } from "./deps-for.js";
import type { WorkerEnv } from "./env.js";

export class SessionVerifier extends SessionVerifierBase<WorkerEnv> {
  static override layerFor = async (env: WorkerEnv) => {
    const loaded = await depsFor(env);
    if (!loaded.ok) throw new VerifierMisconfigured("edge-session is misconfigured");
    return loaded.deps;
  };
}
