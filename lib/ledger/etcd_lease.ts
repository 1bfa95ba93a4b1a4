/**
 * The lease, claim and fencing rules of the etcd coordination, as pure
 * functions over decoded records: they decide, the runtime only reads the
 * records and sends the compare-and-swap transaction they describe.
 *
 * Ownership needs two things: the `/owner` key exists (it lives on an etcd
 * lease) and `now < deadline` of the logical lease in the shard record, with
 * the owner's fence equal to the record's `fenceEpoch`. Every fenced op
 * (renew, checkpoint, complete, park, split) presents `(worker, fence)`; a
 * different fence, a missing owner or an expired deadline is `stale_fence`,
 * which is how a zombie's late commit is rejected. Ops with an op id are
 * remembered in a bounded op-log ring so a replay returns `replayed` instead
 * of applying twice; a superseded fence is refused before the op-log is
 * consulted, so a zombie never mistakes its successor's op for its own.
 *
 * The shard status transitions are the data table
 * {@link SHARD_TRANSITIONS}, the single source of truth.
 *
 * @module
 */

import {
  FENCE_INITIAL,
  newShardRecord,
  type OpKind,
  type OpLogEntry,
  type ShardCursor,
  type ShardOwner,
  type ShardRecord,
  type ShardStatus,
} from "./etcd_codec.ts";
import { LedgerError } from "./errors.ts";

/** Events that act on a shard. */
export const SHARD_EVENTS = [
  "acquire",
  "renew",
  "checkpoint",
  "complete",
  "park",
  "unpark",
  "split_replace",
  "split_residual",
] as const;
/** One of {@link SHARD_EVENTS}. */
export type ShardEvent = typeof SHARD_EVENTS[number];

/**
 * The shard status transitions: `table[status][event]` is the status after
 * the event, or null when the event is refused (`shard_terminal`).
 *
 * @example
 * ```ts
 * import { SHARD_TRANSITIONS } from "./etcd_lease.ts";
 * console.assert(SHARD_TRANSITIONS.active.complete === "done");
 * console.assert(SHARD_TRANSITIONS.done.acquire === null);
 * ```
 */
export const SHARD_TRANSITIONS: Readonly<
  Record<ShardStatus, Readonly<Record<ShardEvent, ShardStatus | null>>>
> = Object.freeze({
  active: {
    acquire: "active",
    renew: "active",
    checkpoint: "active",
    complete: "done",
    park: "parked",
    unpark: null,
    split_replace: "split",
    split_residual: "active",
  },
  done: {
    acquire: null,
    renew: null,
    checkpoint: null,
    complete: null,
    park: null,
    unpark: null,
    split_replace: null,
    split_residual: null,
  },
  parked: {
    acquire: null,
    renew: null,
    checkpoint: null,
    complete: null,
    park: null,
    unpark: "active",
    split_replace: null,
    split_residual: null,
  },
  split: {
    acquire: null,
    renew: null,
    checkpoint: null,
    complete: null,
    park: null,
    unpark: null,
    split_replace: null,
    split_residual: null,
  },
});

/** How many op-log entries a shard record keeps (oldest dropped first). */
export const OP_LOG_CAPACITY = 16;

/** At most this many shards are registered per etcd transaction (3 ops each, under etcd's default 128). */
export const MAX_SHARDS_PER_ETCD_TXN = 41;

/** The most children one split may create. */
export const MAX_SPLIT_CHILDREN = 64;

/** The lease a worker presents for a fenced op. */
export interface PresentedLease {
  /** Worker id. */
  readonly worker: bigint;
  /** The fence it was granted. */
  readonly fence: bigint;
}

function transition(record: ShardRecord, event: ShardEvent): ShardStatus {
  const next = SHARD_TRANSITIONS[record.status][event];
  if (next === null) {
    throw new LedgerError(
      "shard_terminal",
      `shard ${record.shard} is ${record.status}; ${event} is not allowed`,
      { details: { shard: record.shard, status: record.status, event } },
    );
  }
  return next;
}

/**
 * Whether the shard is owned right now.
 *
 * @param record The shard record.
 * @param owner The owner binding, or null when the key is absent.
 * @param now Current time (ms).
 * @returns True when the owner key exists, matches the record's fence and the deadline is ahead.
 *
 * @example
 * ```ts
 * import { isLeaseLive } from "./etcd_lease.ts";
 * import { newShardRecord } from "./etcd_codec.ts";
 * const rec = newShardRecord(new Uint8Array(32), 1n, 1n, new Uint8Array(), new Uint8Array(), new Uint8Array());
 * console.assert(!isLeaseLive(rec, null, 0n));
 * ```
 */
export function isLeaseLive(
  record: ShardRecord,
  owner: ShardOwner | null,
  now: bigint,
): boolean {
  return owner !== null && record.lease !== null &&
    owner.fence === record.fenceEpoch &&
    owner.worker === record.lease.owner && now < record.lease.deadline;
}

/** What an acquire writes. */
export interface AcquirePlan {
  /** The new shard record. */
  readonly record: ShardRecord;
  /** The new owner binding. */
  readonly owner: ShardOwner;
}

/**
 * Plans an acquire: checks tenant, status and current owner, raises the fence
 * and sets the deadline `now + leaseDurationMs` (saturating at u64 max).
 *
 * @param record The current shard record.
 * @param owner The current owner binding, or null.
 * @param tenant The tenant the worker acts for.
 * @param worker The acquiring worker.
 * @param now Current time (ms).
 * @param leaseDurationMs The run's lease duration.
 * @returns The record and owner to write.
 * @throws {LedgerError} `tenant_mismatch`, `shard_terminal` or `already_leased`.
 *
 * @example
 * ```ts
 * import { planAcquire } from "./etcd_lease.ts";
 * import { newShardRecord } from "./etcd_codec.ts";
 * const t = new Uint8Array(32);
 * const rec = newShardRecord(t, 1n, 1n, new Uint8Array(), new Uint8Array(), new Uint8Array());
 * const plan = planAcquire(rec, null, t, 7n, 100n, 1000n);
 * console.assert(plan.owner.fence === 1n && plan.record.lease?.deadline === 1100n);
 * ```
 */
export function planAcquire(
  record: ShardRecord,
  owner: ShardOwner | null,
  tenant: Uint8Array,
  worker: bigint,
  now: bigint,
  leaseDurationMs: bigint,
): AcquirePlan {
  if (!sameBytes(record.tenant, tenant)) {
    throw new LedgerError(
      "tenant_mismatch",
      `shard ${record.shard} belongs to another tenant`,
      {
        details: { shard: record.shard },
      },
    );
  }
  transition(record, "acquire");
  if (isLeaseLive(record, owner, now)) {
    throw new LedgerError(
      "already_leased",
      `shard ${record.shard} is leased by worker ${owner!.worker}`,
      {
        details: {
          shard: record.shard,
          current_owner: owner!.worker,
          lease_deadline: record.lease!.deadline,
        },
      },
    );
  }
  const previous = owner === null ? 0n : owner.fence;
  const fence = maxBig(maxBig(record.fenceEpoch, previous) + 1n, FENCE_INITIAL);
  const deadline = saturatingAdd(now, leaseDurationMs);
  return {
    record: {
      ...record,
      lease: { owner: worker, deadline },
      fenceEpoch: fence,
    },
    owner: { worker, fence },
  };
}

/**
 * Checks that a presented lease still owns the shard.
 *
 * @param record The current shard record.
 * @param owner The current owner binding, or null.
 * @param lease The presented lease.
 * @param now Current time (ms).
 * @throws {LedgerError} `stale_fence` (with `presented` and `current` fences).
 *
 * @example
 * ```ts
 * import { checkPresentedLease, planAcquire } from "./etcd_lease.ts";
 * import { newShardRecord } from "./etcd_codec.ts";
 * const t = new Uint8Array(32);
 * const plan = planAcquire(newShardRecord(t, 1n, 1n, new Uint8Array(), new Uint8Array(), new Uint8Array()), null, t, 7n, 0n, 10n);
 * checkPresentedLease(plan.record, plan.owner, { worker: 7n, fence: 1n }, 5n); // no throw
 * ```
 */
export function checkPresentedLease(
  record: ShardRecord,
  owner: ShardOwner | null,
  lease: PresentedLease,
  now: bigint,
): void {
  const stale = (reason: string): never => {
    throw new LedgerError(
      "stale_fence",
      `stale fence for shard ${record.shard}: presented ${lease.fence}, current ${record.fenceEpoch} (${reason})`,
      {
        details: {
          shard: record.shard,
          presented: lease.fence,
          current: record.fenceEpoch,
          reason,
        },
      },
    );
  };
  if (lease.fence !== record.fenceEpoch) stale("fence superseded");
  if (owner === null) stale("owner binding expired");
  if (owner!.fence !== lease.fence || owner!.worker !== lease.worker) {
    stale("owner binding differs");
  }
  if (record.lease === null || record.lease.owner !== lease.worker) {
    stale("no lease for this worker");
  }
  if (now >= record.lease!.deadline) stale("lease deadline passed");
}

/**
 * Plans a renew: same fence, deadline moved to `now + leaseDurationMs`.
 *
 * @param record The current shard record.
 * @param owner The current owner binding.
 * @param lease The presented lease.
 * @param now Current time (ms).
 * @param leaseDurationMs The run's lease duration.
 * @returns The record to write.
 * @throws {LedgerError} `shard_terminal` or `stale_fence`.
 *
 * @example
 * ```ts
 * import { planAcquire, planRenew } from "./etcd_lease.ts";
 * import { newShardRecord } from "./etcd_codec.ts";
 * const t = new Uint8Array(32);
 * const a = planAcquire(newShardRecord(t, 1n, 1n, new Uint8Array(), new Uint8Array(), new Uint8Array()), null, t, 7n, 0n, 10n);
 * console.assert(planRenew(a.record, a.owner, a.owner, 5n, 10n).lease?.deadline === 15n);
 * ```
 */
export function planRenew(
  record: ShardRecord,
  owner: ShardOwner | null,
  lease: PresentedLease,
  now: bigint,
  leaseDurationMs: bigint,
): ShardRecord {
  transition(record, "renew");
  checkPresentedLease(record, owner, lease, now);
  return {
    ...record,
    lease: {
      owner: lease.worker,
      deadline: saturatingAdd(now, leaseDurationMs),
    },
  };
}

/** A fenced op with an op id (the idempotency key). */
export interface FencedOp {
  /** Caller-chosen op id, unique per shard and intent. */
  readonly opId: bigint;
  /** A hash of the op's payload (see {@link fnv1a64}). */
  readonly payloadHash: bigint;
}

/** The outcome of a fenced op. */
export type FencedOpPlan =
  | { readonly outcome: "replayed" }
  | {
    readonly outcome: "applied";
    readonly record: ShardRecord;
    readonly children: readonly ShardRecord[];
  };

function replayOf(record: ShardRecord, kind: OpKind, op: FencedOp): boolean {
  const seen = record.opLog.find((entry) => entry.opId === op.opId);
  if (seen === undefined) return false;
  if (seen.kind !== kind || seen.payloadHash !== op.payloadHash) {
    throw new LedgerError(
      "op_id_conflict",
      `op ${op.opId} on shard ${record.shard} was already applied with a different payload`,
      { details: { shard: record.shard, op_id: op.opId } },
    );
  }
  return true;
}

function logged(
  record: ShardRecord,
  kind: OpKind,
  op: FencedOp,
  now: bigint,
): readonly OpLogEntry[] {
  const entry: OpLogEntry = {
    opId: op.opId,
    kind,
    result: 0,
    payloadHash: op.payloadHash,
    executedAt: now,
  };
  return [...record.opLog, entry].slice(-OP_LOG_CAPACITY);
}

function fenced(
  record: ShardRecord,
  owner: ShardOwner | null,
  lease: PresentedLease,
  now: bigint,
  kind: OpKind,
  event: ShardEvent,
  op: FencedOp,
): ShardStatus | null {
  if (lease.fence !== record.fenceEpoch) {
    checkPresentedLease(record, owner, lease, now);
  }
  if (replayOf(record, kind, op)) return null;
  const next = transition(record, event);
  checkPresentedLease(record, owner, lease, now);
  return next;
}

/**
 * Plans a checkpoint: the cursor moves, the op is logged.
 *
 * @param record The current shard record.
 * @param owner The current owner binding.
 * @param lease The presented lease.
 * @param op The op id and payload hash.
 * @param cursor The new cursor.
 * @param now Current time (ms).
 * @returns `replayed`, or the record to write.
 * @throws {LedgerError} `op_id_conflict`, `shard_terminal` or `stale_fence`.
 *
 * @example
 * ```ts
 * import { planAcquire, planCheckpoint } from "./etcd_lease.ts";
 * import { newShardRecord } from "./etcd_codec.ts";
 * const t = new Uint8Array(32);
 * const a = planAcquire(newShardRecord(t, 1n, 1n, new Uint8Array(), new Uint8Array(), new Uint8Array()), null, t, 7n, 0n, 10n);
 * const cursor = { lastKey: new Uint8Array([1]), token: null, semantics: 1 };
 * const p = planCheckpoint(a.record, a.owner, a.owner, { opId: 1n, payloadHash: 2n }, cursor, 1n);
 * console.assert(p.outcome === "applied");
 * ```
 */
export function planCheckpoint(
  record: ShardRecord,
  owner: ShardOwner | null,
  lease: PresentedLease,
  op: FencedOp,
  cursor: ShardCursor,
  now: bigint,
): FencedOpPlan {
  const next = fenced(
    record,
    owner,
    lease,
    now,
    "checkpoint",
    "checkpoint",
    op,
  );
  if (next === null) return { outcome: "replayed" };
  return {
    outcome: "applied",
    record: { ...record, cursor, opLog: logged(record, "checkpoint", op, now) },
    children: [],
  };
}

/**
 * Plans a complete: the shard becomes `done`, the lease is dropped (the
 * runtime also deletes the owner key and the active marker).
 *
 * @param record The current shard record.
 * @param owner The current owner binding.
 * @param lease The presented lease.
 * @param op The op id and payload hash.
 * @param cursor The final cursor.
 * @param now Current time (ms).
 * @returns `replayed`, or the record to write.
 * @throws {LedgerError} `op_id_conflict`, `shard_terminal` or `stale_fence`.
 *
 * @example
 * ```ts
 * import { planAcquire, planComplete } from "./etcd_lease.ts";
 * import { newShardRecord } from "./etcd_codec.ts";
 * const t = new Uint8Array(32);
 * const a = planAcquire(newShardRecord(t, 1n, 1n, new Uint8Array(), new Uint8Array(), new Uint8Array()), null, t, 7n, 0n, 10n);
 * const p = planComplete(a.record, a.owner, a.owner, { opId: 1n, payloadHash: 2n }, a.record.cursor, 1n);
 * console.assert(p.outcome === "applied" && p.record.status === "done");
 * ```
 */
export function planComplete(
  record: ShardRecord,
  owner: ShardOwner | null,
  lease: PresentedLease,
  op: FencedOp,
  cursor: ShardCursor,
  now: bigint,
): FencedOpPlan {
  const next = fenced(record, owner, lease, now, "complete", "complete", op);
  if (next === null) return { outcome: "replayed" };
  return {
    outcome: "applied",
    record: {
      ...record,
      status: next,
      cursor,
      lease: null,
      opLog: logged(record, "complete", op, now),
    },
    children: [],
  };
}

/**
 * Plans a park: the shard becomes `parked` with a reason, the lease is dropped.
 *
 * @param record The current shard record.
 * @param owner The current owner binding.
 * @param lease The presented lease.
 * @param op The op id and payload hash.
 * @param reason Why (UTF-8, shown to operators; never a secret).
 * @param now Current time (ms).
 * @returns `replayed`, or the record to write.
 * @throws {LedgerError} `op_id_conflict`, `shard_terminal` or `stale_fence`.
 *
 * @example
 * ```ts
 * import { planAcquire, planPark } from "./etcd_lease.ts";
 * import { newShardRecord } from "./etcd_codec.ts";
 * const t = new Uint8Array(32);
 * const a = planAcquire(newShardRecord(t, 1n, 1n, new Uint8Array(), new Uint8Array(), new Uint8Array()), null, t, 7n, 0n, 10n);
 * const p = planPark(a.record, a.owner, a.owner, { opId: 1n, payloadHash: 2n }, "poison item", 1n);
 * console.assert(p.outcome === "applied" && p.record.status === "parked");
 * ```
 */
export function planPark(
  record: ShardRecord,
  owner: ShardOwner | null,
  lease: PresentedLease,
  op: FencedOp,
  reason: string,
  now: bigint,
): FencedOpPlan {
  const next = fenced(record, owner, lease, now, "park", "park", op);
  if (next === null) return { outcome: "replayed" };
  return {
    outcome: "applied",
    record: {
      ...record,
      status: next,
      parkReason: reason,
      lease: null,
      opLog: logged(record, "park", op, now),
    },
    children: [],
  };
}

/**
 * Plans an unpark (an operator action, not fenced): a parked shard becomes
 * active again and can be acquired.
 *
 * @param record The current shard record.
 * @returns The record to write.
 * @throws {LedgerError} `shard_terminal` when the shard is not parked.
 *
 * @example
 * ```ts
 * import { planUnpark } from "./etcd_lease.ts";
 * import { newShardRecord } from "./etcd_codec.ts";
 * const rec = { ...newShardRecord(new Uint8Array(32), 1n, 1n, new Uint8Array(), new Uint8Array(), new Uint8Array()),
 *   status: "parked" as const, parkReason: "x" };
 * console.assert(planUnpark(rec).status === "active");
 * ```
 */
export function planUnpark(record: ShardRecord): ShardRecord {
  const next = transition(record, "unpark");
  return { ...record, status: next, parkReason: null };
}

/** One child of a split. */
export interface SplitChild {
  /** The child's shard id (unused in the run). */
  readonly shard: bigint;
  /** Inclusive start. */
  readonly keyRangeStart: Uint8Array;
  /** Exclusive end. */
  readonly keyRangeEnd: Uint8Array;
  /** Opaque metadata. */
  readonly metadata: Uint8Array;
}

/**
 * Plans a split that replaces the shard by children: the parent becomes
 * `split`, lists the children, and drops its lease.
 *
 * @param record The current shard record.
 * @param owner The current owner binding.
 * @param lease The presented lease.
 * @param op The op id and payload hash.
 * @param children The children (1..maxChildren).
 * @param now Current time (ms).
 * @param maxChildren The configured `max_children_per_op`.
 * @returns `replayed`, or the parent and children to write.
 * @throws {LedgerError} `op_id_conflict`, `shard_terminal`, `stale_fence`; RangeError for a bad child count.
 *
 * @example
 * ```ts
 * import { planAcquire, planSplitReplace } from "./etcd_lease.ts";
 * import { newShardRecord } from "./etcd_codec.ts";
 * const t = new Uint8Array(32);
 * const a = planAcquire(newShardRecord(t, 1n, 1n, new Uint8Array(), new Uint8Array(), new Uint8Array()), null, t, 7n, 0n, 10n);
 * const e = new Uint8Array();
 * const p = planSplitReplace(a.record, a.owner, a.owner, { opId: 1n, payloadHash: 2n },
 *   [{ shard: 2n, keyRangeStart: e, keyRangeEnd: e, metadata: e }], 1n, 8);
 * console.assert(p.outcome === "applied" && p.children.length === 1);
 * ```
 */
export function planSplitReplace(
  record: ShardRecord,
  owner: ShardOwner | null,
  lease: PresentedLease,
  op: FencedOp,
  children: readonly SplitChild[],
  now: bigint,
  maxChildren: number,
): FencedOpPlan {
  checkChildren(children.length, maxChildren);
  const next = fenced(
    record,
    owner,
    lease,
    now,
    "split_replace",
    "split_replace",
    op,
  );
  if (next === null) return { outcome: "replayed" };
  return {
    outcome: "applied",
    record: {
      ...record,
      status: next,
      lease: null,
      spawned: [...record.spawned, ...children.map((c) => c.shard)],
      opLog: logged(record, "split_replace", op, now),
    },
    children: children.map((c) =>
      newShardRecord(
        record.tenant,
        record.run,
        c.shard,
        c.keyRangeStart,
        c.keyRangeEnd,
        c.metadata,
        record.shard,
      )
    ),
  };
}

/**
 * Plans a residual split: the parent keeps `[start, splitKey)` and its lease;
 * one child takes `[splitKey, end)`.
 *
 * @param record The current shard record.
 * @param owner The current owner binding.
 * @param lease The presented lease.
 * @param op The op id and payload hash.
 * @param child The child shard id and metadata; its range is computed.
 * @param splitKey Where to cut.
 * @param now Current time (ms).
 * @returns `replayed`, or the parent and child to write.
 * @throws {LedgerError} `op_id_conflict`, `shard_terminal`, `stale_fence`; RangeError when splitKey is outside the range.
 *
 * @example
 * ```ts
 * import { planAcquire, planSplitResidual } from "./etcd_lease.ts";
 * import { newShardRecord } from "./etcd_codec.ts";
 * const t = new Uint8Array(32);
 * const a = planAcquire(newShardRecord(t, 1n, 1n, new Uint8Array([0]), new Uint8Array([9]), new Uint8Array()), null, t, 7n, 0n, 10n);
 * const p = planSplitResidual(a.record, a.owner, a.owner, { opId: 1n, payloadHash: 2n },
 *   { shard: 2n, metadata: new Uint8Array() }, new Uint8Array([5]), 1n);
 * console.assert(p.outcome === "applied" && p.record.keyRangeEnd[0] === 5);
 * ```
 */
export function planSplitResidual(
  record: ShardRecord,
  owner: ShardOwner | null,
  lease: PresentedLease,
  op: FencedOp,
  child: { readonly shard: bigint; readonly metadata: Uint8Array },
  splitKey: Uint8Array,
  now: bigint,
): FencedOpPlan {
  const next = fenced(
    record,
    owner,
    lease,
    now,
    "split_residual",
    "split_residual",
    op,
  );
  if (next === null) return { outcome: "replayed" };
  const afterStart = compareBytes(splitKey, record.keyRangeStart) > 0;
  const beforeEnd = record.keyRangeEnd.length === 0 ||
    compareBytes(splitKey, record.keyRangeEnd) < 0;
  if (!afterStart || !beforeEnd) {
    throw new RangeError("split key is outside the shard's key range");
  }
  return {
    outcome: "applied",
    record: {
      ...record,
      status: next,
      keyRangeEnd: splitKey,
      spawned: [...record.spawned, child.shard],
      opLog: logged(record, "split_residual", op, now),
    },
    children: [
      newShardRecord(
        record.tenant,
        record.run,
        child.shard,
        splitKey,
        record.keyRangeEnd,
        child.metadata,
        record.shard,
      ),
    ],
  };
}

function checkChildren(n: number, maxChildren: number): void {
  if (n < 1 || n > maxChildren || n > MAX_SPLIT_CHILDREN) {
    throw new RangeError(
      `a split needs 1..${
        Math.min(maxChildren, MAX_SPLIT_CHILDREN)
      } children, got ${n}`,
    );
  }
}

/**
 * The CAS retry backoff: 5 ms doubling per attempt (exponent capped at 6),
 * at most 200 ms, scaled by a jitter factor in [0.5, 1.5).
 *
 * @param attempt 0-based retry number.
 * @param jitter A number in [0, 1) (e.g. from the clock's sub-second part).
 * @returns The delay in ms.
 *
 * @example
 * ```ts
 * import { casBackoffMs } from "./etcd_lease.ts";
 * console.assert(casBackoffMs(0, 0.5) === 5);
 * console.assert(casBackoffMs(10, 0.5) === 200);
 * ```
 */
export function casBackoffMs(attempt: number, jitter: number): number {
  const base = Math.min(5 * 2 ** Math.min(Math.max(attempt, 0), 6), 200);
  const factor = 0.5 + Math.min(Math.max(jitter, 0), 0.999999);
  return Math.round(base * factor);
}

/**
 * FNV-1a 64 of some bytes (op payload hashes, shard plan hashes).
 *
 * @param bytes The input.
 * @returns The 64-bit hash.
 *
 * @example
 * ```ts
 * import { fnv1a64 } from "./etcd_lease.ts";
 * console.assert(fnv1a64(new Uint8Array()) === 0xcbf29ce484222325n);
 * console.assert(fnv1a64(new TextEncoder().encode("a")) === 0xaf63dc4c8601ec8cn);
 * ```
 */
export function fnv1a64(bytes: Uint8Array): bigint {
  let hash = 0xcbf29ce484222325n;
  for (const b of bytes) {
    hash ^= BigInt(b);
    hash = (hash * 0x100000001b3n) & 0xffffffffffffffffn;
  }
  return hash;
}

/**
 * Splits a list into chunks of at most `size` (for per-transaction batches).
 *
 * @param items The list.
 * @param size Chunk size, ≥ 1.
 * @returns The chunks, in order.
 *
 * @example
 * ```ts
 * import { chunked, MAX_SHARDS_PER_ETCD_TXN } from "./etcd_lease.ts";
 * console.assert(chunked(Array.from({ length: 100 }, (_, i) => i), MAX_SHARDS_PER_ETCD_TXN).length === 3);
 * ```
 */
export function chunked<T>(items: readonly T[], size: number): T[][] {
  if (size < 1) throw new RangeError("chunk size must be at least 1");
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) {
    out.push(items.slice(i, i + size));
  }
  return out;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && compareBytes(a, b) === 0;
}

/**
 * Lexicographic byte comparison.
 *
 * @param a Left.
 * @param b Right.
 * @returns Negative, zero or positive.
 *
 * @example
 * ```ts
 * import { compareBytes } from "./etcd_lease.ts";
 * console.assert(compareBytes(new Uint8Array([1]), new Uint8Array([1, 0])) < 0);
 * ```
 */
export function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i] - b[i];
  return a.length - b.length;
}

function maxBig(a: bigint, b: bigint): bigint {
  return a > b ? a : b;
}

function saturatingAdd(a: bigint, b: bigint): bigint {
  const sum = a + b;
  const max = (1n << 64n) - 1n;
  return sum > max ? max : sum;
}
