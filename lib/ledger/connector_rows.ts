/**
 * The pure half of connector mode: the shard plan (item keys cut into
 * contiguous key ranges), the per-item rows (done-ledger row, finding,
 * occurrence, observation) derived exactly as the local scan derives them,
 * so the same scan of the same items yields the same rows locally and
 * distributed; and the deterministic op ids of the fenced commits.
 *
 * @module
 */

import type { SourceKind } from "./config.ts";
import { compareBytes, fnv1a64 } from "./etcd_lease.ts";
import { deriveId, ID_CONTEXTS, secretHash, stableItemId } from "./ids.ts";
import type { ItemScanResult } from "./item_scan.ts";
import {
  DONE_STATUS,
  type DoneLedgerRecord,
  type FindingRecord,
  type FindingsBatch,
  type ObservationRecord,
  type OccurrenceRecord,
} from "./store.ts";

/** One shard of a connector plan: items with `start <= key < end` (empty end = unbounded). */
export interface ConnectorShardRange {
  /** Shard id (1-based, in key order). */
  readonly shard: bigint;
  /** Inclusive start key. */
  readonly keyRangeStart: Uint8Array;
  /** Exclusive end key (empty = unbounded). */
  readonly keyRangeEnd: Uint8Array;
}

/** Limits of the shard plan, with defaults in {@link DEFAULT_CONNECTOR_PLAN_LIMITS}. */
export interface ConnectorPlanLimits {
  /** Items per shard. Default 64. */
  readonly itemsPerShard: number;
  /** Most shards in one run. Default 100,000. */
  readonly maxShards: number;
}

/** The default {@link ConnectorPlanLimits}. */
export const DEFAULT_CONNECTOR_PLAN_LIMITS: ConnectorPlanLimits = Object.freeze(
  {
    itemsPerShard: 64,
    maxShards: 100_000,
  },
);

/**
 * Cuts sorted, distinct item keys into shards of `itemsPerShard` items. The
 * first shard starts at the empty key and the last is unbounded, so every
 * possible key falls in exactly one shard.
 *
 * @param keys Item keys, sorted ascending, distinct.
 * @param limits Items per shard, most shards.
 * @returns The shards (at least one).
 * @throws {RangeError} When the keys are not sorted and distinct, or the plan needs more than `maxShards`.
 *
 * @example
 * ```ts
 * import { planConnectorShards } from "./connector_rows.ts";
 * const keys = ["a", "b", "c"].map((k) => new TextEncoder().encode(k));
 * const plan = planConnectorShards(keys, { itemsPerShard: 2, maxShards: 10 });
 * console.assert(plan.length === 2 && new TextDecoder().decode(plan[1].keyRangeStart) === "c");
 * ```
 */
export function planConnectorShards(
  keys: readonly Uint8Array[],
  limits: ConnectorPlanLimits = DEFAULT_CONNECTOR_PLAN_LIMITS,
): ConnectorShardRange[] {
  for (let i = 1; i < keys.length; i++) {
    if (compareBytes(keys[i - 1], keys[i]) >= 0) {
      throw new RangeError("item keys must be sorted and distinct");
    }
  }
  const per = Math.max(1, Math.floor(limits.itemsPerShard));
  const count = Math.max(1, Math.ceil(keys.length / per));
  if (count > limits.maxShards) {
    throw new RangeError(
      `the plan needs ${count} shards, more than maxShards ${limits.maxShards}`,
    );
  }
  const shards: ConnectorShardRange[] = [];
  for (let s = 0; s < count; s++) {
    shards.push({
      shard: BigInt(s + 1),
      keyRangeStart: s === 0 ? new Uint8Array() : keys[s * per],
      keyRangeEnd: s === count - 1 ? new Uint8Array() : keys[(s + 1) * per],
    });
  }
  return shards;
}

/**
 * Whether a key is in `[start, end)` and strictly after the cursor.
 *
 * @param key The item key.
 * @param start Inclusive start.
 * @param end Exclusive end (empty = unbounded).
 * @param after The committed cursor (null = nothing committed).
 * @returns True when the item still belongs to the shard's remaining work.
 *
 * @example
 * ```ts
 * import { keyRemainsInShard } from "./connector_rows.ts";
 * const k = (s: string) => new TextEncoder().encode(s);
 * console.assert(keyRemainsInShard(k("b"), k("a"), k("c"), k("a")));
 * console.assert(!keyRemainsInShard(k("b"), k("a"), k("c"), k("b")));
 * ```
 */
export function keyRemainsInShard(
  key: Uint8Array,
  start: Uint8Array,
  end: Uint8Array,
  after: Uint8Array | null,
): boolean {
  if (compareBytes(key, start) < 0) return false;
  if (end.length > 0 && compareBytes(key, end) >= 0) return false;
  return after === null || compareBytes(key, after) > 0;
}

/**
 * The op of a checkpoint at a cursor: id and payload are both the hash of
 * the cursor key, so any owner replaying the same checkpoint is `replayed`.
 *
 * @param lastKey The cursor key.
 * @returns Op id and payload hash.
 *
 * @example
 * ```ts
 * import { checkpointOp } from "./connector_rows.ts";
 * const k = new TextEncoder().encode("a");
 * console.assert(checkpointOp(k).opId === checkpointOp(k).opId);
 * ```
 */
export function checkpointOp(
  lastKey: Uint8Array,
): { opId: bigint; payloadHash: bigint } {
  const h = fnv1a64(Uint8Array.from([0x01, ...lastKey]));
  return { opId: h, payloadHash: h };
}

/** The op of a shard's completion (the same for every owner). */
export const COMPLETE_OP: {
  readonly opId: bigint;
  readonly payloadHash: bigint;
} = Object.freeze({
  opId: fnv1a64(new TextEncoder().encode("complete")),
  payloadHash: fnv1a64(new TextEncoder().encode("complete")),
});

/** Where rows are written from: identity and provenance. */
export interface RowContext {
  /** Source family (part of the stable item id). */
  readonly source: SourceKind;
  /** Tenant (32 bytes). */
  readonly tenantId: Uint8Array;
  /** Policy hash (32 bytes). */
  readonly policyHash: Uint8Array;
  /** Key of the stored secret hashes (32 bytes). */
  readonly secretKey: Uint8Array;
  /** Rule fingerprints, by rule index. */
  readonly fingerprints: readonly Uint8Array[];
  /** Run id. */
  readonly runId: bigint;
  /** Shard id. */
  readonly shardId: bigint;
  /** Fence epoch of the lease. */
  readonly fenceEpoch: bigint;
}

/** The rows of one batch. */
export interface BatchRows {
  /** Done-ledger rows. */
  readonly done: DoneLedgerRecord[];
  /** Findings, occurrences and observations (deduplicated by id). */
  readonly findings: FindingsBatch;
}

/** One scanned item for {@link buildBatchRows}. */
export interface ScannedItem {
  /** Path (relative to the scan root). */
  readonly path: string;
  /** Object-version id. */
  readonly ovid: Uint8Array;
  /** What the scan gave. */
  readonly result: ItemScanResult;
  /** When the item's scan started and finished (ms). */
  readonly startedAt: number;
  /** Finish time (ms). */
  readonly finishedAt: number;
}

/**
 * Builds the rows of scanned items the way the local scan does (same ids,
 * statuses, counts, displays), with the given provenance.
 *
 * @param ctx Identity and provenance.
 * @param items The scanned items.
 * @param seenAt Observation time (ms).
 * @returns The rows.
 *
 * @example
 * ```ts
 * import { buildBatchRows } from "./connector_rows.ts";
 * const z = new Uint8Array(32);
 * const rows = buildBatchRows(
 *   { source: "fs", tenantId: z, policyHash: z, secretKey: z, fingerprints: [], runId: 1n, shardId: 1n, fenceEpoch: 1n },
 *   [{ path: "a", ovid: z, startedAt: 1, finishedAt: 2,
 *      result: { findings: [], membersScanned: 0, bytesScanned: 3, skippedBinary: false, notes: [] } }],
 *   5,
 * );
 * console.assert(rows.done[0].status === 10);
 * ```
 */
export function buildBatchRows(
  ctx: RowContext,
  items: readonly ScannedItem[],
  seenAt: number,
): BatchRows {
  const done: DoneLedgerRecord[] = [];
  const findings = new Map<string, FindingRecord>();
  const occurrences = new Map<string, OccurrenceRecord>();
  const observations = new Map<string, ObservationRecord>();
  const utf8 = new TextEncoder();
  for (const item of items) {
    for (const f of item.result.findings) {
      const memberItem = stableItemId(
        ctx.source,
        f.member === null ? item.path : `${item.path}!${f.member}`,
      );
      const hashed = secretHash(ctx.secretKey, f.secret);
      const findingId = deriveId(ID_CONTEXTS.finding, [
        ctx.tenantId,
        memberItem,
        ctx.fingerprints[f.ruleIndex],
        hashed,
      ]);
      const version = f.member === null
        ? item.ovid
        : deriveId(ID_CONTEXTS.ovid, [item.ovid, f.member]);
      const length = BigInt(Math.max(1, f.end - f.start));
      const occurrenceId = deriveId(ID_CONTEXTS.occurrence, [
        ctx.tenantId,
        findingId,
        version,
        f.start,
        length,
      ]);
      findings.set(hexOf(findingId), {
        tenantId: ctx.tenantId,
        findingId,
        stableItemId: memberItem,
        ruleFingerprint: ctx.fingerprints[f.ruleIndex],
        secretHash: hashed,
      });
      occurrences.set(hexOf(occurrenceId), {
        tenantId: ctx.tenantId,
        occurrenceId,
        findingId,
        objectVersionId: version,
        byteOffset: BigInt(f.start),
        byteLength: length,
      });
      const display = `${
        f.member === null ? item.path : `${item.path}!${f.member}`
      }:${f.line}:${f.column}`;
      if (!observations.has(hexOf(occurrenceId))) {
        observations.set(hexOf(occurrenceId), {
          tenantId: ctx.tenantId,
          observationId: deriveId(ID_CONTEXTS.observation, [
            ctx.tenantId,
            ctx.policyHash,
            occurrenceId,
          ]),
          occurrenceId,
          policyHash: ctx.policyHash,
          ovidHash: item.ovid,
          runId: ctx.runId,
          shardId: ctx.shardId,
          fenceEpoch: ctx.fenceEpoch,
          seenAt: BigInt(seenAt),
          locationDisplay: utf8.encode(display).length <= 4096 ? display : null,
          locationUrl: null,
        });
      }
    }
    const count = item.result.findings.length;
    done.push({
      tenantId: ctx.tenantId,
      policyHash: ctx.policyHash,
      ovidHash: item.ovid,
      status: item.result.skippedBinary
        ? DONE_STATUS.SKIPPED
        : count > 0
        ? DONE_STATUS.SCANNED_WITH_FINDINGS
        : DONE_STATUS.SCANNED_CLEAN,
      bytesScanned: BigInt(item.result.bytesScanned),
      findingsCount: Math.min(count, 0x7fffffff),
      fenceEpoch: ctx.fenceEpoch,
      startedAt: BigInt(item.startedAt),
      finishedAt: BigInt(Math.max(item.startedAt, item.finishedAt)),
      runId: ctx.runId,
      shardId: ctx.shardId,
      errorCode: item.result.skippedBinary ? "binary" : null,
    });
  }
  return {
    done,
    findings: {
      findings: [...findings.values()],
      occurrences: [...occurrences.values()],
      observations: [...observations.values()],
    },
  };
}

function hexOf(bytes: Uint8Array): string {
  let s = "";
  for (const b of bytes) s += b.toString(16).padStart(2, "0");
  return s;
}
