/**
 * Key formats. Registry keys carry the namespace verbatim (no hash tag);
 * execution and index keys carry the flow partition tag `{fp:N}`.
 *
 * @module
 */

/**
 * The duplicate-instance guard: `ff:worker:{ns}:{instance}:alive`.
 *
 * @param namespace The namespace.
 * @param instanceId The worker instance id.
 * @returns The key.
 *
 * @example
 * ```ts
 * import { workerAliveKey } from "./keys.ts";
 * console.assert(workerAliveKey("ns", "w1") === "ff:worker:ns:w1:alive");
 * ```
 */
export function workerAliveKey(namespace: string, instanceId: string): string {
  return `ff:worker:${namespace}:${instanceId}:alive`;
}

/**
 * The capability advertisement HASH: `ff:worker:{ns}:{instance}:caps`.
 *
 * @param namespace The namespace.
 * @param instanceId The worker instance id.
 * @returns The key.
 *
 * @example
 * ```ts
 * import { workerCapsKey } from "./keys.ts";
 * console.assert(workerCapsKey("ns", "w1") === "ff:worker:ns:w1:caps");
 * ```
 */
export function workerCapsKey(namespace: string, instanceId: string): string {
  return `ff:worker:${namespace}:${instanceId}:caps`;
}

/**
 * The SET of registered instance ids: `ff:idx:{ns}:workers`.
 *
 * @param namespace The namespace.
 * @returns The key.
 *
 * @example
 * ```ts
 * import { workersIndexKey } from "./keys.ts";
 * console.assert(workersIndexKey("ns") === "ff:idx:ns:workers");
 * ```
 */
export function workersIndexKey(namespace: string): string {
  return `ff:idx:${namespace}:workers`;
}

/** The partition configuration HASH. */
export const PARTITIONS_CONFIG_KEY = "ff:config:partitions";
/** The SET of lanes that hold executions. */
export const LANES_INDEX_KEY = "ff:idx:lanes";

/**
 * The flow partition hash tag, e.g. `{fp:7}`.
 *
 * @param partition The partition index.
 * @returns The tag.
 *
 * @example
 * ```ts
 * import { flowPartitionTag } from "./keys.ts";
 * console.assert(flowPartitionTag(7) === "{fp:7}");
 * ```
 */
export function flowPartitionTag(partition: number): string {
  return `{fp:${partition}}`;
}

/**
 * An execution's core HASH: `ff:exec:{fp:N}:{eid}:core`, where the
 * execution id already starts with its tag.
 *
 * @param executionId The execution id (`{fp:N}:<uuid>`).
 * @returns The key.
 *
 * @example
 * ```ts
 * import { executionCoreKey } from "./keys.ts";
 * console.assert(executionCoreKey("{fp:3}:u") === "ff:exec:{fp:3}:u:core");
 * ```
 */
export function executionCoreKey(executionId: string): string {
  return `ff:exec:${executionId}:core`;
}

/** The per-lane index sets of one partition. */
export type LaneIndex =
  | "eligible"
  | "active"
  | "terminal"
  | "blocked:route";

/**
 * A per-partition, per-lane index ZSET: `ff:idx:{fp:N}:lane:{lane}:{which}`.
 *
 * @param partition The partition.
 * @param lane The lane.
 * @param which The index.
 * @returns The key.
 *
 * @example
 * ```ts
 * import { laneIndexKey } from "./keys.ts";
 * console.assert(laneIndexKey(0, "default", "eligible") === "ff:idx:{fp:0}:lane:default:eligible");
 * ```
 */
export function laneIndexKey(
  partition: number,
  lane: string,
  which: LaneIndex,
): string {
  return `ff:idx:${flowPartitionTag(partition)}:lane:${lane}:${which}`;
}

/**
 * The per-partition lease expiry ZSET (score = lease expiry time).
 *
 * @param partition The partition.
 * @returns The key.
 *
 * @example
 * ```ts
 * import { leaseExpiryKey } from "./keys.ts";
 * console.assert(leaseExpiryKey(2) === "ff:idx:{fp:2}:lease_expiry");
 * ```
 */
export function leaseExpiryKey(partition: number): string {
  return `ff:idx:${flowPartitionTag(partition)}:lease_expiry`;
}

/**
 * The SET of executions one instance holds leases on, per partition.
 *
 * @param partition The partition.
 * @param instanceId The worker instance id.
 * @returns The key.
 *
 * @example
 * ```ts
 * import { workerLeasesKey } from "./keys.ts";
 * console.assert(workerLeasesKey(1, "w") === "ff:idx:{fp:1}:worker:w:leases");
 * ```
 */
export function workerLeasesKey(partition: number, instanceId: string): string {
  return `ff:idx:${flowPartitionTag(partition)}:worker:${instanceId}:leases`;
}
