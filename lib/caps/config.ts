/**
 * The worker configuration and its checks.
 *
 * @module
 */

import { CapsError } from "./errors.ts";

/** Longest lane id in UTF-8 bytes (inclusive). */
export const LANE_ID_MAX_BYTES = 64;
/** Default lease TTL in milliseconds. */
export const DEFAULT_LEASE_TTL_MS = 30_000;
/** Default claim poll interval in milliseconds. */
export const DEFAULT_CLAIM_POLL_INTERVAL_MS = 1_000;
/** Default number of tasks a worker runs at once. */
export const DEFAULT_MAX_CONCURRENT_TASKS = 1;

/** What a worker is and what it advertises. */
export interface CapsWorkerConfig {
  /** The logical pool identity, stable across restarts. */
  readonly workerId: string;
  /** The process identity, unique per boot: the alive key's subject. */
  readonly workerInstanceId: string;
  /** The tenant scope: the registry key prefix. */
  readonly namespace: string;
  /** The lanes the worker serves (at least one). */
  readonly lanes: readonly string[];
  /** The advertised capability tokens. */
  readonly capabilities: readonly string[];
  /** Lease TTL in ms (a positive integer). @default {30000} */
  readonly leaseTtlMs?: number;
  /** Claim poll interval in ms. @default {1000} */
  readonly claimPollIntervalMs?: number;
  /** Tasks run at once; values below 1 count as 1. @default {1} */
  readonly maxConcurrentTasks?: number;
}

/**
 * Checks a lane id: non-empty, at most 64 bytes, printable ASCII only.
 * Returns the reference's message, or `undefined` when it is valid.
 *
 * @param lane The lane id.
 * @returns The problem, or `undefined`.
 *
 * @example
 * ```ts
 * import { laneIdProblem } from "./config.ts";
 * console.assert(laneIdProblem("default") === undefined);
 * console.assert(laneIdProblem("") === "lane_id is empty");
 * ```
 */
export function laneIdProblem(lane: string): string | undefined {
  const bytes = new TextEncoder().encode(lane);
  if (bytes.length === 0) return "lane_id is empty";
  if (bytes.length > LANE_ID_MAX_BYTES) {
    return `lane_id exceeds ${LANE_ID_MAX_BYTES} bytes (got ${bytes.length})`;
  }
  const bad = bytes.findIndex((b) => b < 0x20 || b > 0x7e);
  if (bad >= 0) {
    return `lane_id contains non-ASCII-printable byte at index ${bad}`;
  }
  return undefined;
}

function idProblem(name: string, value: unknown): string | undefined {
  if (typeof value !== "string" || value.length === 0) {
    return `${name} must not be empty`;
  }
  if (/[\p{Cc}\p{White_Space}]/u.test(value)) {
    return `${name} must not contain whitespace or control characters`;
  }
  return undefined;
}

/**
 * Checks everything of a configuration except the capabilities (which the
 * preamble validates with the reference's messages): ids non-empty without
 * whitespace or control characters, at least one lane, every lane a valid
 * lane id, positive integer durations.
 *
 * @param config The configuration.
 * @returns The lease TTL, poll interval and concurrency with defaults applied.
 * @throws {CapsError} `invalid_config` with context `worker_config`.
 *
 * @example
 * ```ts
 * import { checkWorkerConfig } from "./config.ts";
 * const c = checkWorkerConfig({ workerId: "w", workerInstanceId: "w-1", namespace: "ns", lanes: ["default"], capabilities: [] });
 * console.assert(c.leaseTtlMs === 30000);
 * ```
 */
export function checkWorkerConfig(config: CapsWorkerConfig): {
  leaseTtlMs: number;
  claimPollIntervalMs: number;
  maxConcurrentTasks: number;
} {
  const fail = (message: string, field?: string): never => {
    throw new CapsError("invalid_config", message, {
      context: "worker_config",
      field,
    });
  };
  for (
    const [field, value] of [
      ["worker_id", config.workerId],
      ["worker_instance_id", config.workerInstanceId],
      ["namespace", config.namespace],
    ] as const
  ) {
    const problem = idProblem(field, value);
    if (problem !== undefined) fail(problem, field);
  }
  if (!Array.isArray(config.lanes) || config.lanes.length === 0) {
    fail("at least one lane is required");
  }
  for (const lane of config.lanes) {
    const problem = laneIdProblem(lane);
    if (problem !== undefined) fail(problem, "lanes");
    if (lane.includes(",") || lane.includes(" ")) {
      fail(`lane_id must not contain ',' or ' ': ${lane}`, "lanes");
    }
  }
  const positive = (
    field: string,
    value: number | undefined,
    fallback: number,
  ) => {
    const v = value ?? fallback;
    if (!Number.isSafeInteger(v) || v < 1) {
      fail(`${field} must be a positive integer (got ${v})`, field);
    }
    return v;
  };
  return {
    leaseTtlMs: positive(
      "lease_ttl_ms",
      config.leaseTtlMs,
      DEFAULT_LEASE_TTL_MS,
    ),
    claimPollIntervalMs: positive(
      "claim_poll_interval_ms",
      config.claimPollIntervalMs,
      DEFAULT_CLAIM_POLL_INTERVAL_MS,
    ),
    maxConcurrentTasks: Math.max(
      1,
      Math.floor(config.maxConcurrentTasks ?? DEFAULT_MAX_CONCURRENT_TASKS),
    ),
  };
}

/**
 * The alive key's TTL: `max(2 × lease_ttl_ms, 1000)` ms.
 *
 * @param leaseTtlMs The lease TTL.
 * @returns The alive TTL.
 *
 * @example
 * ```ts
 * import { aliveTtlMs } from "./config.ts";
 * console.assert(aliveTtlMs(100) === 1000 && aliveTtlMs(30000) === 60000);
 * ```
 */
export function aliveTtlMs(leaseTtlMs: number): number {
  return Math.max(Math.min(2 * leaseTtlMs, Number.MAX_SAFE_INTEGER), 1000);
}
