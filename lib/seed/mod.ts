/**
 * Cluster formation, pure core: the 8-byte frame and CBOR message codec,
 * the HMAC token proof, the seed and joiner state machines with their
 * transition tables, the seed-owned membership with generations and
 * checkpoints, and the receive-based failure detector. The Deno binding is
 * in `./runtime/mod.ts`.
 *
 * @example
 * ```ts
 * import { SEED_TRANSITIONS, JOINER_TRANSITIONS } from "./mod.ts";
 * console.assert(Object.keys(SEED_TRANSITIONS).length === 7);
 * console.assert(Object.keys(JOINER_TRANSITIONS).length === 7);
 * ```
 *
 * @module
 */

export * from "./errors.ts";
export * from "./limits.ts";
export * from "./frame.ts";
export * from "./messages.ts";
export * from "./auth.ts";
export * from "./identity.ts";
export * from "./health.ts";
export * from "./membership.ts";
export * from "./seed_machine.ts";
export * from "./joiner_machine.ts";
