/**
 * Explicit limits and timings of the seed protocol, with documented
 * defaults. Every decoder checks a declared length against these before it
 * allocates.
 *
 * @module
 */

/** Size limits. */
export interface SeedLimits {
  /** Largest frame payload accepted before the peer is authenticated. @default {16384} */
  maxPreAuthFrameBytes: number;
  /** Largest frame payload accepted after authentication. @default {16777216} */
  maxFrameBytes: number;
  /** Largest peer table in a Welcome or Propose. @default {4096} */
  maxPeers: number;
  /** Longest string field (node id, address, reason). @default {512} */
  maxStringBytes: number;
}

/**
 * The default {@link SeedLimits}.
 *
 * @example
 * ```ts
 * import { DEFAULT_SEED_LIMITS } from "./limits.ts";
 * console.assert(DEFAULT_SEED_LIMITS.maxPreAuthFrameBytes === 16384);
 * ```
 */
export const DEFAULT_SEED_LIMITS: Readonly<SeedLimits> = Object.freeze({
  maxPreAuthFrameBytes: 16 * 1024,
  maxFrameBytes: 16 * 1024 * 1024,
  maxPeers: 4096,
  maxStringBytes: 512,
});

/** Timings (milliseconds). */
export interface SeedTimings {
  /** Whole formation deadline. @default {60000} */
  formationTimeoutMs: number;
  /** Per-connection deadline for each handshake step (Hello, Auth, Welcome ack). @default {5000} */
  handshakeTimeoutMs: number;
  /** Heartbeat period on the control lane. @default {1000} */
  heartbeatIntervalMs: number;
  /** A peer is dead when nothing was received for this long. @default {5000} */
  heartbeatTimeoutMs: number;
  /** Deadline for every participant to acknowledge a checkpoint. @default {10000} */
  checkpointTimeoutMs: number;
  /** Delay between a membership change and the checkpoint that applies it (batches joins). @default {0} */
  checkpointDelayMs: number;
}

/**
 * The default {@link SeedTimings}.
 *
 * @example
 * ```ts
 * import { DEFAULT_SEED_TIMINGS } from "./limits.ts";
 * console.assert(DEFAULT_SEED_TIMINGS.heartbeatTimeoutMs === 5000);
 * ```
 */
export const DEFAULT_SEED_TIMINGS: Readonly<SeedTimings> = Object.freeze({
  formationTimeoutMs: 60_000,
  handshakeTimeoutMs: 5_000,
  heartbeatIntervalMs: 1_000,
  heartbeatTimeoutMs: 5_000,
  checkpointTimeoutMs: 10_000,
  checkpointDelayMs: 0,
});
