/**
 * The embedded backend: every operation runs synchronously (hence
 * atomically) against a {@link MemoryKeyspace} with the same keys, fields
 * and rules the server scripts use, and TTLs follow an injected clock. It
 * is the default for local runs and the demo.
 *
 * @module
 */

import {
  type CapsBackend,
  type ClaimOutcome,
  type ClaimRequest,
  DEFAULT_CLAIM_SCAN_DEPTH,
  eligibleScore,
  type ExecutionRecord,
  executionRecordFromHash,
  type ExecutionSpec,
  EXPIRY_BATCH,
  type HeartbeatOutcome,
  type Lease,
  type LeaseRef,
  type ListWorkersOptions,
  type RegisterOutcome,
  type RegisterWorkerArgs,
  ROUTE_BLOCK_DETAIL,
  type ScanOutcome,
  UNBLOCK_BATCH,
  type WorkerPage,
} from "./backend.ts";
import { capabilitiesSatisfy, parseCapabilityCsv } from "./capabilities.ts";
import { CapsError } from "./errors.ts";
import { prepareExecution } from "./execution.ts";
import {
  executionCoreKey,
  type LaneIndex,
  laneIndexKey,
  LANES_INDEX_KEY,
  leaseExpiryKey,
  PARTITIONS_CONFIG_KEY,
  workerAliveKey,
  workerCapsKey,
  workerLeasesKey,
  workersIndexKey,
} from "./keys.ts";
import {
  DEFAULT_PARTITION_CONFIG,
  parsePartitionConfig,
  partitionOfExecutionId,
} from "./partition.ts";
import type { ServerCommand, ServerReply } from "./preamble.ts";
import { checkDeadReason, listWorkersVia } from "./registry.ts";
import { MemoryKeyspace, type SortedSet } from "./memory_keyspace.ts";

/** Options for {@link EmbeddedCapsBackend}. */
export interface EmbeddedCapsBackendOptions {
  /** The clock in ms (TTLs and lease times follow it). @default {Date.now} */
  readonly now?: () => number;
  /** Share a keyspace (e.g. between several backends of one process). */
  readonly keyspace?: MemoryKeyspace;
  /** UUID source. @default {crypto.randomUUID} */
  readonly randomUUID?: () => string;
  /** Observes every raw command. */
  readonly onCommand?: (command: ServerCommand) => void;
  /**
   * Write `ff:config:partitions` (256/32/32) into a new keyspace, as the
   * server side does at boot. @default {true}
   */
  readonly seedPartitionConfig?: boolean;
}

/** Whether every non-empty token of `required` is in `have`. */
function tokensCovered(required: string, have: ReadonlySet<string>): boolean {
  if (required === "") return true;
  let start = 0;
  for (;;) {
    const comma = required.indexOf(",", start);
    const end = comma < 0 ? required.length : comma;
    if (end > start && !have.has(required.slice(start, end))) return false;
    if (comma < 0) return true;
    start = comma + 1;
  }
}

/**
 * Most cached lease keys (the cache is emptied when full; entries are only
 * left behind by leases whose execution was deleted under them).
 */
const LEASED_KEY_CACHE_LIMIT = 65_536;

function fail(
  code: ConstructorParameters<typeof CapsError>[0],
  message: string,
): never {
  throw new CapsError(code, message);
}

/**
 * The in-memory backend.
 *
 * @example Submit, claim, complete
 * ```ts
 * import { EmbeddedCapsBackend } from "./embedded_backend.ts";
 * const b = new EmbeddedCapsBackend();
 * await b.registerWorker({
 *   namespace: "ns", workerInstanceId: "gpu-1", workerId: "w", lanesCsv: "default", capabilitiesCsv: "gpu", ttlMs: 60000,
 * });
 * const e = await b.submit({ namespace: "ns", lane: "default", requiredCapabilities: ["gpu"] });
 * const partitions = Array.from({ length: 256 }, (_, i) => i);
 * const base = { namespace: "ns", workerId: "w", lane: "default", leaseTtlMs: 1000, max: 1, partitions };
 * const cpu = await b.claim({ ...base, workerInstanceId: "cpu-1", capabilitiesCsv: "cpu" });
 * console.assert(cpu.leases.length === 0);
 * const gpu = await b.claim({ ...base, workerInstanceId: "gpu-1", capabilitiesCsv: "gpu" });
 * console.assert(gpu.leases[0].executionId === e.executionId);
 * await b.complete(gpu.leases[0]);
 * console.assert((await b.getExecution(e.executionId))?.terminalOutcome === "success");
 * ```
 */
export class EmbeddedCapsBackend implements CapsBackend {
  /** Always `embedded`. */
  readonly kind = "embedded" as const;
  /** The keyspace (tests inspect it). */
  readonly keyspace: MemoryKeyspace;
  readonly #randomUUID: () => string;
  #closed = false;

  /**
   * Creates a backend.
   *
   * @param options Clock, keyspace, UUID source, command observer.
   */
  constructor(options: EmbeddedCapsBackendOptions = {}) {
    this.keyspace = options.keyspace ??
      new MemoryKeyspace({ now: options.now, onCommand: options.onCommand });
    if (
      options.keyspace === undefined && options.seedPartitionConfig !== false
    ) {
      this.keyspace.hset(PARTITIONS_CONFIG_KEY, {
        num_flow_partitions: String(DEFAULT_PARTITION_CONFIG.numFlowPartitions),
        num_budget_partitions: String(
          DEFAULT_PARTITION_CONFIG.numBudgetPartitions,
        ),
        num_quota_partitions: String(
          DEFAULT_PARTITION_CONFIG.numQuotaPartitions,
        ),
      });
    }
    this.#randomUUID = options.randomUUID ?? (() => crypto.randomUUID());
  }

  readonly #laneKeys = new Map<string, Map<string, string[]>>();
  readonly #expiryKeys: string[] = [];

  /**
   * Core keys of the leases this backend handed out, dropped on release:
   * completing a lease then looks its hash up by an already hashed key
   * instead of building one. Bounded by {@link LEASED_KEY_CACHE_LIMIT}.
   */
  readonly #leasedCoreKeys = new Map<string, string>();

  #leasedCoreKey(eid: string): string {
    return this.#leasedCoreKeys.get(eid) ?? executionCoreKey(eid);
  }

  #partitionOf(eid: string): number {
    return partitionOfExecutionId(eid);
  }

  #laneKey(partition: number, lane: string, which: LaneIndex): string {
    let byLane = this.#laneKeys.get(which);
    if (byLane === undefined) {
      byLane = new Map();
      this.#laneKeys.set(which, byLane);
    }
    let byPartition = byLane.get(lane);
    if (byPartition === undefined) {
      byPartition = [];
      byLane.set(lane, byPartition);
    }
    return byPartition[partition] ??= laneIndexKey(partition, lane, which);
  }

  readonly #heldKeys = new Map<string, string[]>();

  #heldKey(partition: number, instanceId: string): string {
    let byPartition = this.#heldKeys.get(instanceId);
    if (byPartition === undefined) {
      byPartition = [];
      this.#heldKeys.set(instanceId, byPartition);
    }
    return byPartition[partition] ??= workerLeasesKey(partition, instanceId);
  }

  #expiryKey(partition: number): string {
    return this.#expiryKeys[partition] ??= leaseExpiryKey(partition);
  }

  #open(): void {
    if (this.#closed) fail("closed", "backend is closed");
  }

  /** Runs one raw command. */
  command(command: ServerCommand): Promise<ServerReply> {
    try {
      this.#open();
      return Promise.resolve(this.keyspace.execute(command));
    } catch (err) {
      return Promise.reject(err);
    }
  }

  /** The injected clock. */
  now(): Promise<number> {
    return Promise.resolve(this.keyspace.now());
  }

  #sync<T>(body: () => T): Promise<T> {
    try {
      this.#open();
      return Promise.resolve(body());
    } catch (err) {
      return Promise.reject(err);
    }
  }

  /** Registers or refreshes a worker. */
  registerWorker(args: RegisterWorkerArgs): Promise<RegisterOutcome> {
    return this.#sync(() => {
      const ks = this.keyspace;
      const alive = workerAliveKey(args.namespace, args.workerInstanceId);
      const caps = workerCapsKey(args.namespace, args.workerInstanceId);
      const existed = ks.exists(alive);
      if (existed && args.exclusive === true) return "duplicate";
      const now = String(ks.now());
      ks.set(alive, "1", args.ttlMs);
      ks.del(caps);
      ks.hset(caps, {
        worker_id: args.workerId,
        lanes_csv: args.lanesCsv,
        caps_csv: args.capabilitiesCsv,
        ttl_ms: String(args.ttlMs),
        registered_at_ms: now,
        last_heartbeat_ms: now,
      });
      ks.pexpire(caps, args.ttlMs);
      ks.sadd(workersIndexKey(args.namespace), args.workerInstanceId);
      return existed ? "refreshed" : "registered";
    });
  }

  /** Refreshes a worker's TTLs. */
  heartbeatWorker(
    namespace: string,
    workerInstanceId: string,
  ): Promise<HeartbeatOutcome> {
    return this.#sync(() => {
      const ks = this.keyspace;
      const caps = workerCapsKey(namespace, workerInstanceId);
      const ttl = Number(ks.hash(caps)?.get("ttl_ms") ?? "");
      if (!Number.isSafeInteger(ttl) || ttl <= 0) {
        return { status: "not_registered" };
      }
      if (ks.pexpire(workerAliveKey(namespace, workerInstanceId), ttl) === 0) {
        return { status: "not_registered" };
      }
      ks.pexpire(caps, ttl);
      ks.hset(caps, { last_heartbeat_ms: String(ks.now()) });
      return { status: "refreshed", ttlMs: ttl };
    });
  }

  /** Removes a worker. */
  markWorkerDead(
    namespace: string,
    workerInstanceId: string,
    reason: string,
  ): Promise<"marked" | "not_registered"> {
    return this.#sync(() => {
      checkDeadReason(reason);
      const ks = this.keyspace;
      const a = ks.del(workerAliveKey(namespace, workerInstanceId));
      const c = ks.del(workerCapsKey(namespace, workerInstanceId));
      ks.srem(workersIndexKey(namespace), workerInstanceId);
      return a + c === 0 ? "not_registered" : "marked";
    });
  }

  /** Lists workers. */
  listWorkers(
    namespace: string,
    options?: ListWorkersOptions,
  ): Promise<WorkerPage> {
    return listWorkersVia((c) => this.command(c), namespace, options);
  }

  #numFlowPartitions(): number {
    const hash = this.keyspace.hash(PARTITIONS_CONFIG_KEY);
    if (hash === undefined || hash.size === 0) {
      return DEFAULT_PARTITION_CONFIG.numFlowPartitions;
    }
    return parsePartitionConfig(Object.fromEntries(hash)).numFlowPartitions;
  }

  /** Creates an execution. */
  submit(spec: ExecutionSpec): Promise<ExecutionRecord> {
    return this.#sync(() => {
      const p = prepareExecution(
        spec,
        this.#numFlowPartitions(),
        this.#randomUUID(),
      );
      const ks = this.keyspace;
      const core = executionCoreKey(p.executionId);
      if (ks.exists(core)) {
        fail("execution_exists", `execution exists: ${p.executionId}`);
      }
      const now = ks.now();
      ks.hset(core, {
        execution_id: p.executionId,
        namespace: p.namespace,
        lane_id: p.lane,
        required_capabilities: p.requiredCsv,
        priority: String(p.priority),
        payload: p.payload,
        max_attempts: String(p.maxAttempts),
        attempts: "0",
        created_at: String(now),
        lifecycle_phase: "runnable",
        eligibility_state: "eligible_now",
        ownership_state: "unowned",
        public_state: "waiting",
        terminal_outcome: "none",
        blocking_reason: "waiting_for_worker",
        blocking_detail: "",
        current_lease_id: "",
        current_lease_epoch: "0",
        current_worker_instance_id: "",
        current_worker_id: "",
        lease_expires_at: "0",
        lease_renewal_deadline: "0",
        last_capability_mismatch_at: "0",
        result: "",
      });
      ks.zadd(
        this.#laneKey(p.partition, p.lane, "eligible"),
        eligibleScore(p.priority, now),
        p.executionId,
      );
      ks.sadd(LANES_INDEX_KEY, p.lane);
      return executionRecordFromHash(Object.fromEntries(ks.hash(core)!));
    });
  }

  /** Whether some registered worker of `namespace` can run `required`. */
  #capableWorkerExists(
    namespace: string,
    required: string,
    cache: Map<string, (string | null)[]>,
  ): boolean {
    let caps = cache.get(namespace);
    if (caps === undefined) {
      caps = [];
      for (
        const id of this.keyspace.members(workersIndexKey(namespace)) ?? []
      ) {
        try {
          const csv = this.keyspace.hash(workerCapsKey(namespace, id))?.get(
            "caps_csv",
          );
          if (csv !== undefined) caps.push(csv);
        } catch {
          caps.push(null); // unreadable caps: fail open
        }
      }
      cache.set(namespace, caps);
    }
    return caps.some((csv) =>
      csv === null || capabilitiesSatisfy(required, csv)
    );
  }

  /** Claims executions. */
  claim(request: ClaimRequest): Promise<ClaimOutcome> {
    return this.#sync(() => {
      const ks = this.keyspace;
      const now = ks.now();
      const depth = request.scanDepth ?? DEFAULT_CLAIM_SCAN_DEPTH;
      const base = this.#randomUUID();
      const leases: Lease[] = [];
      const blocked: string[] = [];
      const cache = new Map<string, (string | null)[]>();
      const have = new Set(parseCapabilityCsv(request.capabilitiesCsv));
      let mismatched = 0;
      for (const p of request.partitions) {
        if (leases.length >= request.max) break;
        const eligibleKey = this.#laneKey(p, request.lane, "eligible");
        const eligible = ks.zset(eligibleKey);
        if (eligible === undefined) continue;
        const candidates = eligible.rangeByScore(-Infinity, Infinity, 0, depth);
        let active: SortedSet | undefined;
        let expiry: SortedSet | undefined;
        let held: Set<string> | undefined;
        for (const eid of candidates) {
          if (leases.length >= request.max) break;
          const coreKey = executionCoreKey(eid);
          const core = ks.hash(coreKey);
          if (core === undefined) {
            ks.zrem(eligibleKey, eid);
            continue;
          }
          if (core.get("namespace") !== request.namespace) continue;
          if (
            core.get("lifecycle_phase") !== "runnable" ||
            core.get("eligibility_state") !== "eligible_now"
          ) continue;
          const required = core.get("required_capabilities") ?? "";
          if (!tokensCovered(required, have)) {
            mismatched++;
            core.set("last_capability_mismatch_at", String(now));
            if (
              !this.#capableWorkerExists(request.namespace, required, cache)
            ) {
              core.set("eligibility_state", "blocked_by_route");
              core.set("blocking_reason", "waiting_for_capable_worker");
              core.set("blocking_detail", ROUTE_BLOCK_DETAIL);
              core.set("public_state", "rate_limited");
              ks.zrem(eligibleKey, eid);
              ks.zadd(
                this.#laneKey(p, request.lane, "blocked:route"),
                now,
                eid,
              );
              blocked.push(eid);
            }
            continue;
          }
          const epoch = Number(core.get("current_lease_epoch") ?? "0") + 1;
          const attempt = Number(core.get("attempts") ?? "0") + 1;
          const expiresAt = now + request.leaseTtlMs;
          const renewal = now + Math.floor(request.leaseTtlMs * 2 / 3);
          const leaseId = `${base}-${leases.length}`;
          core.set("lifecycle_phase", "active");
          core.set("eligibility_state", "not_applicable");
          core.set("ownership_state", "leased");
          core.set("public_state", "active");
          core.set("blocking_reason", "");
          core.set("blocking_detail", "");
          core.set("current_lease_id", leaseId);
          core.set("current_lease_epoch", String(epoch));
          core.set("current_worker_instance_id", request.workerInstanceId);
          core.set("current_worker_id", request.workerId);
          core.set("lease_expires_at", String(expiresAt));
          core.set("lease_renewal_deadline", String(renewal));
          core.set("attempts", String(attempt));
          eligible.remove(eid);
          active ??= ks.zsetForWrite(this.#laneKey(p, request.lane, "active"));
          active.add(eid, expiresAt);
          expiry ??= ks.zsetForWrite(this.#expiryKey(p));
          expiry.add(eid, expiresAt);
          held ??= ks.setForWrite(this.#heldKey(p, request.workerInstanceId));
          held.add(eid);
          if (this.#leasedCoreKeys.size >= LEASED_KEY_CACHE_LIMIT) {
            this.#leasedCoreKeys.clear();
          }
          this.#leasedCoreKeys.set(eid, coreKey);
          leases.push({
            executionId: eid,
            leaseId,
            epoch,
            expiresAt,
            attempt,
            payload: core.get("payload") ?? "",
            requiredCapabilities: required,
          });
        }
      }
      return { leases, mismatched, blocked };
    });
  }

  #checkLease(lease: LeaseRef, now: number): Map<string, string> {
    const core = this.keyspace.hash(this.#leasedCoreKey(lease.executionId));
    if (core === undefined) {
      fail("execution_not_found", `no execution ${lease.executionId}`);
    }
    if (
      core.get("lifecycle_phase") !== "active" ||
      core.get("ownership_state") !== "leased"
    ) {
      fail(
        "execution_not_active",
        `execution ${lease.executionId} is not active`,
      );
    }
    if (
      core.get("current_lease_id") !== lease.leaseId ||
      core.get("current_lease_epoch") !== String(lease.epoch)
    ) {
      fail("stale_lease", `lease of ${lease.executionId} was superseded`);
    }
    if (Number(core.get("lease_expires_at")) <= now) {
      fail("lease_expired", `lease of ${lease.executionId} expired`);
    }
    return core;
  }

  #releaseLease(eid: string, core: Map<string, string>): number {
    const ks = this.keyspace;
    const p = this.#partitionOf(eid);
    this.#leasedCoreKeys.delete(eid);
    const lane = core.get("lane_id") ?? "";
    ks.zrem(this.#laneKey(p, lane, "active"), eid);
    ks.zrem(this.#expiryKey(p), eid);
    ks.srem(
      this.#heldKey(p, core.get("current_worker_instance_id") ?? ""),
      eid,
    );
    return p;
  }

  #requeue(
    eid: string,
    p: number,
    core: Map<string, string>,
    note: string,
  ): void {
    const ks = this.keyspace;
    core.set("lifecycle_phase", "runnable");
    core.set("eligibility_state", "eligible_now");
    core.set("ownership_state", "unowned");
    core.set("public_state", "waiting");
    core.set("blocking_reason", "waiting_for_worker");
    core.set("blocking_detail", "");
    core.set("current_lease_id", "");
    core.set("lease_expires_at", "0");
    core.set("lease_renewal_deadline", "0");
    core.set("result", note);
    ks.zadd(
      this.#laneKey(p, core.get("lane_id") ?? "", "eligible"),
      eligibleScore(
        Number(core.get("priority") ?? "0"),
        Number(core.get("created_at") ?? "0"),
      ),
      eid,
    );
  }

  #finish(
    eid: string,
    p: number,
    core: Map<string, string>,
    outcome: "success" | "failed",
    result: string,
  ): void {
    const ks = this.keyspace;
    const now = ks.now();
    core.set("lifecycle_phase", "terminal");
    core.set("eligibility_state", "not_applicable");
    core.set("ownership_state", "unowned");
    core.set("public_state", outcome === "success" ? "completed" : "failed");
    core.set("terminal_outcome", outcome);
    core.set("blocking_reason", "");
    core.set("current_lease_id", "");
    core.set("lease_expires_at", "0");
    core.set("lease_renewal_deadline", "0");
    core.set("result", result);
    core.set("completed_at", String(now));
    ks.zadd(this.#laneKey(p, core.get("lane_id") ?? "", "terminal"), now, eid);
  }

  /** Extends a lease. */
  renew(lease: LeaseRef, ttlMs: number): Promise<number> {
    return this.#sync(() => {
      const ks = this.keyspace;
      const now = ks.now();
      const core = this.#checkLease(lease, now);
      const p = this.#partitionOf(lease.executionId);
      const expiresAt = now + ttlMs;
      const renewal = String(now + Math.floor(ttlMs * 2 / 3));
      core.set("lease_expires_at", String(expiresAt));
      core.set("lease_renewal_deadline", renewal);
      ks.zadd(this.#expiryKey(p), expiresAt, lease.executionId);
      ks.zadd(
        this.#laneKey(p, core.get("lane_id") ?? "", "active"),
        expiresAt,
        lease.executionId,
      );
      return expiresAt;
    });
  }

  /** Completes a lease. */
  complete(lease: LeaseRef, result = ""): Promise<void> {
    return this.#sync(() => {
      const core = this.#checkLease(lease, this.keyspace.now());
      const p = this.#releaseLease(lease.executionId, core);
      this.#finish(lease.executionId, p, core, "success", result);
    });
  }

  /** Fails a lease. */
  fail(
    lease: LeaseRef,
    reason: string,
    retry: boolean,
  ): Promise<"requeued" | "failed"> {
    return this.#sync(() => {
      const core = this.#checkLease(lease, this.keyspace.now());
      const p = this.#releaseLease(lease.executionId, core);
      if (
        retry && Number(core.get("attempts")) < Number(core.get("max_attempts"))
      ) {
        this.#requeue(lease.executionId, p, core, reason);
        return "requeued";
      }
      this.#finish(lease.executionId, p, core, "failed", reason);
      return "failed";
    });
  }

  /** Requeues or fails executions whose lease ran out. */
  expireLeases(numFlowPartitions: number): Promise<ScanOutcome> {
    return this.#sync(() => {
      const ks = this.keyspace;
      const now = ks.now();
      const moved: string[] = [];
      const failed: string[] = [];
      for (let p = 0; p < numFlowPartitions; p++) {
        const key = this.#expiryKey(p);
        const due =
          ks.zset(key)?.rangeByScore(-Infinity, now, 0, EXPIRY_BATCH) ??
            [];
        for (const eid of due) {
          const core = ks.hash(executionCoreKey(eid));
          if (
            core === undefined || core.get("ownership_state") !== "leased" ||
            core.get("lifecycle_phase") !== "active"
          ) {
            ks.zrem(key, eid);
            continue;
          }
          if (Number(core.get("lease_expires_at")) > now) continue;
          this.#releaseLease(eid, core);
          if (
            Number(core.get("attempts")) >= Number(core.get("max_attempts"))
          ) {
            this.#finish(eid, p, core, "failed", "lease expired");
            failed.push(eid);
          } else {
            this.#requeue(eid, p, core, "lease expired");
            moved.push(eid);
          }
        }
      }
      return { moved, failed };
    });
  }

  /** Promotes route-blocked executions a registered worker can run. */
  unblockScan(numFlowPartitions: number): Promise<ScanOutcome> {
    return this.#sync(() => {
      const ks = this.keyspace;
      const moved: string[] = [];
      const cache = new Map<string, (string | null)[]>();
      const lanes = [...(ks.members(LANES_INDEX_KEY) ?? [])];
      for (let p = 0; p < numFlowPartitions; p++) {
        for (const lane of lanes) {
          const key = this.#laneKey(p, lane, "blocked:route");
          const ids = ks.zset(key)?.rangeByScore(
            -Infinity,
            Infinity,
            0,
            UNBLOCK_BATCH,
          ) ?? [];
          for (const eid of ids) {
            const core = ks.hash(executionCoreKey(eid));
            if (core === undefined) {
              ks.zrem(key, eid);
              continue;
            }
            const ns = core.get("namespace") ?? "";
            if (ns === "") continue;
            if (core.get("blocking_reason") !== "waiting_for_capable_worker") {
              continue;
            }
            const required = core.get("required_capabilities") ?? "";
            if (!this.#capableWorkerExists(ns, required, cache)) continue;
            core.set("eligibility_state", "eligible_now");
            core.set("blocking_reason", "waiting_for_worker");
            core.set("blocking_detail", "");
            core.set("public_state", "waiting");
            ks.zrem(key, eid);
            ks.zadd(
              this.#laneKey(p, lane, "eligible"),
              eligibleScore(
                Number(core.get("priority") ?? "0"),
                Number(core.get("created_at") ?? "0"),
              ),
              eid,
            );
            moved.push(eid);
          }
        }
      }
      return { moved, failed: [] };
    });
  }

  /** Reads an execution. */
  getExecution(executionId: string): Promise<ExecutionRecord | undefined> {
    return this.#sync(() => {
      const core = this.keyspace.hash(executionCoreKey(executionId));
      return core === undefined
        ? undefined
        : executionRecordFromHash(Object.fromEntries(core));
    });
  }

  /** Closes the backend (further calls fail with `closed`). */
  close(): Promise<void> {
    this.#closed = true;
    return Promise.resolve();
  }
}
