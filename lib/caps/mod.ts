/**
 * Worker capabilities and capability routing, pure: capability validation
 * with the reference's exact messages, the canonical CSV and its FNV
 * digest, key formats, the connect preamble as an ordered command plan,
 * the backend contract (registry, claims, leases, routing) and the
 * embedded in-memory backend. The server binding is `./runtime/mod.ts`.
 *
 * @example Validate and hash a capability set
 * ```ts
 * import { validateCapabilities } from "./mod.ts";
 * const caps = validateCapabilities(["gpu", "cuda", "gpu"]);
 * console.assert(caps.csv === "cuda,gpu" && caps.hash === "c952a6c4");
 * ```
 *
 * @module
 */

export * from "./errors.ts";
export * from "./hash.ts";
export * from "./capabilities.ts";
export * from "./config.ts";
export * from "./keys.ts";
export * from "./partition.ts";
export * from "./preamble.ts";
export * from "./backend.ts";
export * from "./execution.ts";
export * from "./registry.ts";
export * from "./memory_keyspace.ts";
export * from "./embedded_backend.ts";
