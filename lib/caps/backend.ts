/**
 * The operations every caps backend offers, with one behaviour whether it
 * is the embedded in-memory backend or a Redis/Valkey server: raw commands
 * for the preamble, the worker registry, and executions with claims,
 * leases and capability routing.
 *
 * Claim path: direct claim (the worker scans the eligible sets itself and
 * the backend grants and leases in one atomic step), documented in
 * `lib/caps/README.md`.
 *
 * @module
 */

import type { ServerCommand, ServerReply } from "./preamble.ts";

/** Longest `markWorkerDead` reason in UTF-8 bytes. */
export const MARK_WORKER_DEAD_REASON_MAX_BYTES = 256;
/** Highest priority (priorities are clamped to 0..9000). */
export const MAX_PRIORITY = 9000;
/** Default attempts before an execution fails for good. */
export const DEFAULT_MAX_ATTEMPTS = 3;
/** Candidates a claim looks at per partition. */
export const DEFAULT_CLAIM_SCAN_DEPTH = 64;
/** Members per blocked set per lane per partition per unblock pass. */
export const UNBLOCK_BATCH = 100;
/** Expired leases handled per partition per expiry pass. */
export const EXPIRY_BATCH = 1000;
/** The blocking detail of a capability mismatch. */
export const ROUTE_BLOCK_DETAIL =
  "no connected worker satisfies required_capabilities";

/** `register` outcome. */
export type RegisterOutcome = "registered" | "refreshed" | "duplicate";

/** What registration writes. */
export interface RegisterWorkerArgs {
  /** Namespace. */
  readonly namespace: string;
  /** Instance id. */
  readonly workerInstanceId: string;
  /** Pool id. */
  readonly workerId: string;
  /** Canonical lanes CSV. */
  readonly lanesCsv: string;
  /** Canonical capabilities CSV. */
  readonly capabilitiesCsv: string;
  /** TTL of the alive key and caps hash. */
  readonly ttlMs: number;
  /** Refuse (`duplicate`) when the alive key is held. @default {false} */
  readonly exclusive?: boolean;
}

/** `heartbeat` outcome. */
export interface HeartbeatOutcome {
  /** `refreshed`, or `not_registered` when the alive key or caps are gone. */
  readonly status: "refreshed" | "not_registered";
  /** The TTL applied (refreshed only). */
  readonly ttlMs?: number;
}

/** One registered worker. */
export interface WorkerInfo {
  /** Instance id. */
  readonly workerInstanceId: string;
  /** Pool id. */
  readonly workerId: string;
  /** Lanes CSV. */
  readonly lanesCsv: string;
  /** Capabilities CSV. */
  readonly capabilitiesCsv: string;
  /** TTL in ms. */
  readonly ttlMs: number;
  /** Registration time. */
  readonly registeredAtMs: number;
  /** Last heartbeat (falls back to registration time). */
  readonly lastHeartbeatMs: number;
}

/** A page of {@link WorkerInfo}. */
export interface WorkerPage {
  /** The workers, by instance id in code-point order. */
  readonly workers: readonly WorkerInfo[];
  /** Pass as `after` for the next page; absent on the last page. */
  readonly nextAfter?: string;
}

/** Options for listing workers. */
export interface ListWorkersOptions {
  /** Only ids after this one. */
  readonly after?: string;
  /** Page size. @default {1000} */
  readonly limit?: number;
}

/** A new execution. */
export interface ExecutionSpec {
  /** Namespace (tenant). */
  readonly namespace: string;
  /** Lane. */
  readonly lane: string;
  /** Capabilities the running worker must have. */
  readonly requiredCapabilities: readonly string[];
  /** 0..9000 (clamped); higher runs first. @default {0} */
  readonly priority?: number;
  /** Opaque payload. @default {""} */
  readonly payload?: string;
  /** Attempts before failing for good. @default {3} */
  readonly maxAttempts?: number;
  /** A UUID for the id (one is generated otherwise). */
  readonly uuid?: string;
}

/** Lifecycle phases. */
export type LifecyclePhase = "runnable" | "active" | "terminal";
/** Eligibility states. */
export type EligibilityState =
  | "eligible_now"
  | "blocked_by_route"
  | "not_applicable";
/** Terminal outcomes. */
export type TerminalOutcome = "none" | "success" | "failed";

/** An execution's stored state. */
export interface ExecutionRecord {
  /** `{fp:N}:<uuid>`. */
  readonly executionId: string;
  /** Namespace. */
  readonly namespace: string;
  /** Lane. */
  readonly lane: string;
  /** Required capabilities (canonical CSV). */
  readonly requiredCapabilities: string;
  /** Priority. */
  readonly priority: number;
  /** Payload. */
  readonly payload: string;
  /** Lifecycle phase. */
  readonly lifecyclePhase: LifecyclePhase;
  /** Eligibility. */
  readonly eligibilityState: EligibilityState;
  /** `unowned` or `leased`. */
  readonly ownershipState: "unowned" | "leased";
  /** Public state: waiting, rate_limited, active, completed, failed. */
  readonly publicState: string;
  /** Outcome. */
  readonly terminalOutcome: TerminalOutcome;
  /** Why it is blocked or waiting. */
  readonly blockingReason: string;
  /** Attempts started. */
  readonly attempts: number;
  /** Attempts allowed. */
  readonly maxAttempts: number;
  /** Current lease id (empty when none). */
  readonly leaseId: string;
  /** Lease epoch (grows by 1 per lease). */
  readonly leaseEpoch: number;
  /** Lease expiry (0 when none). */
  readonly leaseExpiresAt: number;
  /** Instance holding (or last holding) the lease. */
  readonly workerInstanceId: string;
  /** Result or failure text. */
  readonly result: string;
  /** Creation time. */
  readonly createdAt: number;
  /** Last time a claim skipped it for missing capabilities (0 = never). */
  readonly lastCapabilityMismatchAt: number;
}

/** A claim request (direct claim). */
export interface ClaimRequest {
  /** Namespace: only executions of this namespace are claimed. */
  readonly namespace: string;
  /** Pool id. */
  readonly workerId: string;
  /** Instance id. */
  readonly workerInstanceId: string;
  /** Lane to claim from. */
  readonly lane: string;
  /** The worker's canonical capability CSV. */
  readonly capabilitiesCsv: string;
  /** Lease TTL in ms. */
  readonly leaseTtlMs: number;
  /** Most executions to claim. */
  readonly max: number;
  /** Partitions to scan, in order. */
  readonly partitions: readonly number[];
  /** Candidates per partition. @default {64} */
  readonly scanDepth?: number;
}

/** A claimed execution. */
export interface Lease {
  /** Execution id. */
  readonly executionId: string;
  /** Lease id. */
  readonly leaseId: string;
  /** Lease epoch. */
  readonly epoch: number;
  /** Lease expiry. */
  readonly expiresAt: number;
  /** 1-based attempt number. */
  readonly attempt: number;
  /** Payload. */
  readonly payload: string;
  /** Required capabilities CSV. */
  readonly requiredCapabilities: string;
}

/** Identifies a lease for renew/complete/fail. */
export interface LeaseRef {
  /** Execution id. */
  readonly executionId: string;
  /** Lease id. */
  readonly leaseId: string;
  /** Lease epoch. */
  readonly epoch: number;
}

/** What a claim saw besides the leases. */
export interface ClaimOutcome {
  /** Executions leased to the caller. */
  readonly leases: readonly Lease[];
  /** Candidates skipped for missing capabilities. */
  readonly mismatched: number;
  /** Candidates moved to `blocked:route` (no registered worker can run them). */
  readonly blocked: readonly string[];
}

/** What a maintenance pass did. */
export interface ScanOutcome {
  /** Executions requeued (expiry) or promoted (unblock). */
  readonly moved: readonly string[];
  /** Executions failed for good (expiry with no attempts left). */
  readonly failed: readonly string[];
}

/** A caps backend. */
export interface CapsBackend {
  /** `embedded` or `redis`. */
  readonly kind: "embedded" | "redis";
  /** Runs one raw command (the preamble's steps). */
  command(command: ServerCommand): Promise<ServerReply>;
  /** Backend time in ms (the injected clock, or server `TIME`). */
  now(): Promise<number>;
  /** Registers (or refreshes) a worker atomically. */
  registerWorker(args: RegisterWorkerArgs): Promise<RegisterOutcome>;
  /** Refreshes a worker's alive key and caps TTL atomically. */
  heartbeatWorker(
    namespace: string,
    workerInstanceId: string,
  ): Promise<HeartbeatOutcome>;
  /** Removes a worker (alive key, caps, index entry) atomically. */
  markWorkerDead(
    namespace: string,
    workerInstanceId: string,
    reason: string,
  ): Promise<"marked" | "not_registered">;
  /** Lists registered workers (SSCAN paging, stale index entries skipped). */
  listWorkers(
    namespace: string,
    options?: ListWorkersOptions,
  ): Promise<WorkerPage>;
  /** Creates an execution, eligible at once. */
  submit(spec: ExecutionSpec): Promise<ExecutionRecord>;
  /** Claims up to `max` executions the worker is capable of. */
  claim(request: ClaimRequest): Promise<ClaimOutcome>;
  /** Extends a lease by `ttlMs`. */
  renew(lease: LeaseRef, ttlMs: number): Promise<number>;
  /** Ends a lease with success. */
  complete(lease: LeaseRef, result?: string): Promise<void>;
  /** Ends a lease with failure; `retry` requeues while attempts remain. */
  fail(
    lease: LeaseRef,
    reason: string,
    retry: boolean,
  ): Promise<"requeued" | "failed">;
  /** Requeues (or fails) executions whose lease expired. */
  expireLeases(numFlowPartitions: number): Promise<ScanOutcome>;
  /** Promotes route-blocked executions a registered worker can now run. */
  unblockScan(numFlowPartitions: number): Promise<ScanOutcome>;
  /** Reads an execution. */
  getExecution(executionId: string): Promise<ExecutionRecord | undefined>;
  /** Releases the backend's resources. */
  close(): Promise<void>;
}

/**
 * The eligible-set score: `-(priority × 10^12) + created_at`, so higher
 * priority first, then older first.
 *
 * @param priority The (clamped) priority.
 * @param createdAt Creation time in ms.
 * @returns The score.
 *
 * @example
 * ```ts
 * import { eligibleScore } from "./backend.ts";
 * console.assert(eligibleScore(1, 5) < eligibleScore(0, 0));
 * ```
 */
export function eligibleScore(priority: number, createdAt: number): number {
  return -(priority * 1_000_000_000_000) + createdAt;
}

/**
 * Clamps a priority to 0..9000 (non-integers are floored).
 *
 * @param priority The priority.
 * @returns The clamped value.
 *
 * @example
 * ```ts
 * import { clampPriority } from "./backend.ts";
 * console.assert(clampPriority(99999) === 9000 && clampPriority(-1) === 0);
 * ```
 */
export function clampPriority(priority: number | undefined): number {
  const p = Math.floor(priority ?? 0);
  if (!Number.isFinite(p) || p < 0) return 0;
  return Math.min(p, MAX_PRIORITY);
}

/**
 * Turns a core HASH (field → value) into a record.
 *
 * @param fields The hash fields.
 * @returns The record.
 *
 * @example
 * ```ts
 * import { executionRecordFromHash } from "./backend.ts";
 * const r = executionRecordFromHash({ execution_id: "{fp:0}:x", attempts: "2" });
 * console.assert(r.attempts === 2 && r.lane === "");
 * ```
 */
export function executionRecordFromHash(
  fields: Readonly<Record<string, string>>,
): ExecutionRecord {
  const s = (name: string): string => fields[name] ?? "";
  const n = (name: string): number => Number(fields[name] ?? "0") || 0;
  return {
    executionId: s("execution_id"),
    namespace: s("namespace"),
    lane: s("lane_id"),
    requiredCapabilities: s("required_capabilities"),
    priority: n("priority"),
    payload: s("payload"),
    lifecyclePhase: s("lifecycle_phase") as LifecyclePhase,
    eligibilityState: s("eligibility_state") as EligibilityState,
    ownershipState: s("ownership_state") === "leased" ? "leased" : "unowned",
    publicState: s("public_state"),
    terminalOutcome: (s("terminal_outcome") || "none") as TerminalOutcome,
    blockingReason: s("blocking_reason"),
    attempts: n("attempts"),
    maxAttempts: n("max_attempts"),
    leaseId: s("current_lease_id"),
    leaseEpoch: n("current_lease_epoch"),
    leaseExpiresAt: n("lease_expires_at"),
    workerInstanceId: s("current_worker_instance_id"),
    result: s("result"),
    createdAt: n("created_at"),
    lastCapabilityMismatchAt: n("last_capability_mismatch_at"),
  };
}
