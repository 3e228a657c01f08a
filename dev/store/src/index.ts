/**
 * The package's entry point: the server, its backends and the helpers the worker's test setup
 * and the bench use. Everything here runs in Node.
 */
export { FAULTS, startStore, type Fault, type InstanceOptions, type StoreOptions, type StoreServer, type StoreStats } from "./server.ts";
export { CommandError, type Backend, type Outcome, type Reply } from "./types.ts";
export { MemoryBackend, type MemoryBackendOptions } from "./memory/index.ts";
export { RedisBackend, type RedisBackendOptions } from "./redis-backend.ts";
export { dropPrefix } from "./drop-prefix.ts";
export type { RegionInfo, RegionView } from "./replicas/start.ts";
export type { RegionStatus } from "./replicas/types.ts";
