/**
 * Checks and id assignment for new executions, shared by every backend.
 *
 * @module
 */

import { validateCapabilities } from "./capabilities.ts";
import {
  clampPriority,
  DEFAULT_MAX_ATTEMPTS,
  type ExecutionSpec,
} from "./backend.ts";
import { laneIdProblem } from "./config.ts";
import { CapsError, CapsLimitError } from "./errors.ts";
import { executionIdFor, parseExecutionId } from "./partition.ts";

/** Largest payload in UTF-8 bytes. */
export const MAX_PAYLOAD_BYTES = 1 << 20;

/** An execution ready to be stored. */
export interface PreparedExecution {
  /** `{fp:N}:<uuid>`. */
  readonly executionId: string;
  /** Its partition. */
  readonly partition: number;
  /** Namespace. */
  readonly namespace: string;
  /** Lane. */
  readonly lane: string;
  /** Canonical required CSV. */
  readonly requiredCsv: string;
  /** Clamped priority. */
  readonly priority: number;
  /** Payload. */
  readonly payload: string;
  /** Attempts allowed. */
  readonly maxAttempts: number;
}

/**
 * Validates a spec and assigns its id. Required capabilities follow the
 * worker-side ingress rules (Unicode whitespace and control characters
 * rejected, 256 tokens, 4096 bytes) with context `execution` and field
 * `required_capabilities`.
 *
 * @param spec The spec.
 * @param numFlowPartitions Partition count.
 * @param uuid A fresh UUID when the spec has none.
 * @returns The prepared execution.
 * @throws {CapsError} For any bad field.
 *
 * @example
 * ```ts
 * import { prepareExecution } from "./execution.ts";
 * const e = prepareExecution(
 *   { namespace: "ns", lane: "default", requiredCapabilities: ["gpu", "cuda"] },
 *   256,
 *   "00000000-0000-4000-8000-000000000001",
 * );
 * console.assert(e.requiredCsv === "cuda,gpu" && e.maxAttempts === 3);
 * ```
 */
export function prepareExecution(
  spec: ExecutionSpec,
  numFlowPartitions: number,
  uuid: string,
): PreparedExecution {
  const bad = (message: string, field: string): never => {
    throw new CapsError("invalid_config", message, {
      context: "execution",
      field,
    });
  };
  if (typeof spec.namespace !== "string" || spec.namespace.length === 0) {
    bad("namespace must not be empty", "namespace");
  }
  const laneProblem = laneIdProblem(spec.lane);
  if (laneProblem !== undefined) bad(laneProblem, "lane");
  let requiredCsv = "";
  try {
    requiredCsv = validateCapabilities(spec.requiredCapabilities).csv;
  } catch (err) {
    const e = err as CapsError;
    const options = {
      context: "execution",
      field: "required_capabilities",
      cause: err,
    };
    throw e instanceof CapsLimitError
      ? new CapsLimitError(e.limit, e.max, e.actual, e.message, options)
      : new CapsError(e.code, e.message, options);
  }
  const maxAttempts = spec.maxAttempts ?? DEFAULT_MAX_ATTEMPTS;
  if (!Number.isSafeInteger(maxAttempts) || maxAttempts < 1) {
    bad(
      `max_attempts must be a positive integer (got ${maxAttempts})`,
      "max_attempts",
    );
  }
  const payload = spec.payload ?? "";
  const payloadBytes = new TextEncoder().encode(payload).length;
  if (payloadBytes > MAX_PAYLOAD_BYTES) {
    throw new CapsLimitError(
      "MAX_PAYLOAD_BYTES",
      MAX_PAYLOAD_BYTES,
      payloadBytes,
      `payload exceeds ${MAX_PAYLOAD_BYTES} bytes: ${payloadBytes}`,
      { context: "execution", field: "payload" },
    );
  }
  const executionId = executionIdFor(spec.uuid ?? uuid, numFlowPartitions);
  return {
    executionId,
    partition: parseExecutionId(executionId).partition,
    namespace: spec.namespace,
    lane: spec.lane,
    requiredCsv,
    priority: clampPriority(spec.priority),
    payload,
    maxAttempts,
  };
}

/**
 * The partitions one direct-claim poll scans: `min(chunk, n)` partitions
 * from `cursor`, wrapping modulo `n`.
 *
 * @param cursor The scan cursor.
 * @param numFlowPartitions Partition count.
 * @param chunk Partitions per poll. @default {32}
 * @returns The partitions in scan order.
 *
 * @example
 * ```ts
 * import { claimScanPartitions } from "./execution.ts";
 * console.assert(claimScanPartitions(254, 256, 5).join() === "254,255,0,1,2");
 * ```
 */
export function claimScanPartitions(
  cursor: number,
  numFlowPartitions: number,
  chunk = 32,
): number[] {
  const n = Math.max(1, numFlowPartitions);
  const count = Math.min(chunk, n);
  const out: number[] = [];
  for (let i = 0; i < count; i++) out.push((cursor + i) % n);
  return out;
}
