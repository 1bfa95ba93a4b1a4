/**
 * Partition configuration and execution ids (`{fp:N}:<uuid>`).
 *
 * @module
 */

import { CapsError } from "./errors.ts";
import { crc16Xmodem } from "./hash.ts";

/** How many partitions each family has. */
export interface PartitionConfig {
  /** Flow (and execution) partitions. @default {256} */
  readonly numFlowPartitions: number;
  /** Budget partitions. @default {32} */
  readonly numBudgetPartitions: number;
  /** Quota partitions. @default {32} */
  readonly numQuotaPartitions: number;
}

/**
 * The defaults: 256 / 32 / 32.
 *
 * @example
 * ```ts
 * import { DEFAULT_PARTITION_CONFIG } from "./partition.ts";
 * console.assert(DEFAULT_PARTITION_CONFIG.numFlowPartitions === 256);
 * ```
 */
export const DEFAULT_PARTITION_CONFIG: PartitionConfig = Object.freeze({
  numFlowPartitions: 256,
  numBudgetPartitions: 32,
  numQuotaPartitions: 32,
});

function parseU16(value: string | undefined, fallback: number): number {
  if (value === undefined || !/^\+?[0-9]+$/.test(value)) return fallback;
  const n = Number(value);
  return n > 0 && n <= 0xffff ? n : fallback;
}

/**
 * Reads the `ff:config:partitions` HASH fields: each field on its own, a
 * missing, unparseable (not a u16) or zero field falls back to its default.
 * An empty HASH is an error (the caller falls back to the defaults).
 *
 * @param fields The HASH as field → value.
 * @returns The configuration.
 * @throws {CapsError} `invalid_config` when the HASH is empty.
 *
 * @example
 * ```ts
 * import { parsePartitionConfig } from "./partition.ts";
 * const c = parsePartitionConfig({ num_flow_partitions: "8", num_budget_partitions: "0" });
 * console.assert(c.numFlowPartitions === 8 && c.numBudgetPartitions === 32);
 * ```
 */
export function parsePartitionConfig(
  fields: Readonly<Record<string, string>>,
): PartitionConfig {
  if (Object.keys(fields).length === 0) {
    throw new CapsError(
      "invalid_config",
      "ff:config:partitions not found in Valkey",
      { context: "read_partition_config" },
    );
  }
  return {
    numFlowPartitions: parseU16(fields.num_flow_partitions, 256),
    numBudgetPartitions: parseU16(fields.num_budget_partitions, 32),
    numQuotaPartitions: parseU16(fields.num_quota_partitions, 32),
  };
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function uuidBytes(uuid: string): Uint8Array {
  const hex = uuid.replaceAll("-", "");
  const out = new Uint8Array(16);
  for (let i = 0; i < 16; i++) {
    out[i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  }
  return out;
}

/**
 * The flow partition of a UUID: CRC-16/XMODEM over its 16 bytes, modulo the
 * partition count.
 *
 * @param uuid The UUID text.
 * @param numFlowPartitions The partition count (at least 1).
 * @returns The partition.
 * @throws {CapsError} `invalid_config` for a malformed UUID.
 *
 * @example
 * ```ts
 * import { flowPartitionOf } from "./partition.ts";
 * const p = flowPartitionOf("00000000-0000-4000-8000-000000000000", 256);
 * console.assert(p >= 0 && p < 256);
 * ```
 */
export function flowPartitionOf(
  uuid: string,
  numFlowPartitions: number,
): number {
  if (!UUID.test(uuid)) {
    throw new CapsError("invalid_config", `invalid uuid: ${uuid}`);
  }
  return crc16Xmodem(uuidBytes(uuid)) % Math.max(1, numFlowPartitions);
}

/**
 * Builds an execution id `{fp:N}:<uuid>` for a UUID.
 *
 * @param uuid The UUID (lowercased in the id).
 * @param numFlowPartitions The partition count.
 * @returns The id.
 *
 * @example
 * ```ts
 * import { executionIdFor } from "./partition.ts";
 * console.assert(executionIdFor("00000000-0000-4000-8000-000000000000", 1).startsWith("{fp:0}:"));
 * ```
 */
export function executionIdFor(
  uuid: string,
  numFlowPartitions: number,
): string {
  const lower = uuid.toLowerCase();
  return `{fp:${flowPartitionOf(lower, numFlowPartitions)}}:${lower}`;
}

/** A parsed execution id. */
export interface ParsedExecutionId {
  /** The flow partition. */
  readonly partition: number;
  /** The UUID part. */
  readonly uuid: string;
}

/**
 * Parses `{fp:N}:<uuid>`.
 *
 * @param executionId The id.
 * @returns Its partition and UUID.
 * @throws {CapsError} `invalid_config` with `missing tag`, `invalid partition
 *   index` or `invalid uuid`.
 *
 * @example
 * ```ts
 * import { parseExecutionId } from "./partition.ts";
 * const id = parseExecutionId("{fp:42}:00000000-0000-4000-8000-000000000000");
 * console.assert(id.partition === 42);
 * ```
 */
export function parseExecutionId(executionId: string): ParsedExecutionId {
  const match = /^\{fp:([^}]*)\}:(.*)$/.exec(executionId);
  if (match === null) {
    throw new CapsError("invalid_config", `missing tag: ${executionId}`);
  }
  const index = match[1];
  if (!/^[0-9]+$/.test(index) || Number(index) > 0xffff) {
    throw new CapsError(
      "invalid_config",
      `invalid partition index: ${executionId}`,
    );
  }
  if (!UUID.test(match[2])) {
    throw new CapsError("invalid_config", `invalid uuid: ${executionId}`);
  }
  return { partition: Number(index), uuid: match[2] };
}

function isHex(code: number): boolean {
  return (code >= 48 && code <= 57) || (code >= 97 && code <= 102) ||
    (code >= 65 && code <= 70);
}

/** Whether `text` holds a UUID (either case) from `at` to its end. */
function isUuidFrom(text: string, at: number): boolean {
  if (text.length - at !== 36) return false;
  for (let i = 0; i < 36; i++) {
    const code = text.charCodeAt(at + i);
    if (i === 8 || i === 13 || i === 18 || i === 23) {
      if (code !== 45) return false;
    } else if (!isHex(code)) return false;
  }
  return true;
}

/**
 * The partition of an execution id `{fp:N}:<uuid>`: the same answer and the
 * same errors as {@link parseExecutionId}, without building a match (the
 * hot paths of the embedded backend call it once per lease operation).
 *
 * @param executionId The id.
 * @returns Its partition.
 * @throws {CapsError} `invalid_config`, as {@link parseExecutionId}.
 *
 * @example
 * ```ts
 * import { partitionOfExecutionId } from "./partition.ts";
 * const p = partitionOfExecutionId("{fp:42}:00000000-0000-4000-8000-000000000000");
 * console.assert(p === 42);
 * ```
 */
export function partitionOfExecutionId(executionId: string): number {
  const close = executionId.indexOf("}");
  if (
    close > 4 && close <= 9 && executionId.startsWith("{fp:") &&
    executionId.charCodeAt(close + 1) === 58 &&
    isUuidFrom(executionId, close + 2)
  ) {
    let index = 0;
    for (let i = 4; i < close; i++) {
      const digit = executionId.charCodeAt(i) - 48;
      if (digit < 0 || digit > 9) {
        return parseExecutionId(executionId).partition;
      }
      index = index * 10 + digit;
    }
    if (index <= 0xffff) return index;
  }
  return parseExecutionId(executionId).partition;
}
