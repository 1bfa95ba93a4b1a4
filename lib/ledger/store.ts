/**
 * The ledger's storage contract, shared by the embedded SQLite backend
 * (`runtime/sqlite_store.ts`) and the PostgreSQL backend: row types, the
 * checks every backend enforces before writing, the pure monotonic lattice
 * merge of done-ledger rows and the observation merge (each backend's SQL
 * upsert must agree with them; property tests prove it), the u64 ↔ BIGINT
 * mappings, and the store interfaces.
 *
 * Change policy: this file only grows (new optional members, new exports).
 * The migrations mechanism lives in `migrations.ts` and is re-exported here.
 *
 * @module
 */

import { LedgerError } from "./errors.ts";

export * from "./migrations.ts";

// ---------------------------------------------------------------------------
// Done-ledger rows.

/**
 * Done-ledger statuses and their stored SMALLINT values. Higher wins in a
 * merge, so a success can never be downgraded by a later failure.
 *
 * @example
 * ```ts
 * import { DONE_STATUS } from "./store.ts";
 * console.assert(DONE_STATUS.SCANNED_CLEAN > DONE_STATUS.FAILED_RETRYABLE);
 * ```
 */
export const DONE_STATUS = {
  /** The item failed and may be retried (needs an error code). */
  FAILED_RETRYABLE: 1,
  /** The item failed for good (needs an error code). */
  FAILED_PERMANENT: 2,
  /** The item was skipped, e.g. binary or over budget (needs an error code). */
  SKIPPED: 3,
  /** Scanned, no findings (findings count 0, no error code). */
  SCANNED_CLEAN: 10,
  /** Scanned, at least one finding (findings count > 0, no error code). */
  SCANNED_WITH_FINDINGS: 11,
} as const;

/** One of the {@link DONE_STATUS} values. */
export type DoneStatus = typeof DONE_STATUS[keyof typeof DONE_STATUS];

/** Every valid status value. */
export const DONE_STATUS_VALUES: readonly DoneStatus[] = [1, 2, 3, 10, 11];

/**
 * One done-ledger row. Key: `(tenantId, policyHash, ovidHash)`. 64-bit
 * fields are `bigint`: identifiers (`runId`, `shardId`) are any u64 (stored
 * as their two's-complement bit pattern); ordered fields are 0..2^63-1.
 */
export interface DoneLedgerRecord {
  /** Tenant id, 32 bytes. */
  readonly tenantId: Uint8Array;
  /** Policy hash (rules + scan options), 32 bytes. */
  readonly policyHash: Uint8Array;
  /** Object-version id hash, 32 bytes. */
  readonly ovidHash: Uint8Array;
  /** Outcome. */
  readonly status: DoneStatus;
  /** Bytes scanned, 0..2^63-1. */
  readonly bytesScanned: bigint;
  /** Findings, 0..2^31-1 (0 iff clean, > 0 iff with findings). */
  readonly findingsCount: number;
  /** Fencing epoch of the lease that wrote it, 0..2^63-1. */
  readonly fenceEpoch: bigint;
  /** Start time (ms since the epoch), 0..2^63-1. */
  readonly startedAt: bigint;
  /** Finish time, `startedAt`..2^63-1. */
  readonly finishedAt: bigint;
  /** Run id, any u64. */
  readonly runId: bigint;
  /** Shard id, any u64. */
  readonly shardId: bigint;
  /** Failure code (1..128 UTF-8 bytes) for statuses 1, 2, 3; null otherwise. */
  readonly errorCode: string | null;
}

// ---------------------------------------------------------------------------
// Findings rows (three normalised tables).

/** A finding: policy-independent; key `(tenantId, findingId)`. */
export interface FindingRecord {
  /** Tenant id, 32 bytes. */
  readonly tenantId: Uint8Array;
  /** Finding id, 32 bytes (derived from the natural key). */
  readonly findingId: Uint8Array;
  /** Stable item id (the item's identity across versions), 32 bytes. */
  readonly stableItemId: Uint8Array;
  /** Rule fingerprint, 32 bytes. */
  readonly ruleFingerprint: Uint8Array;
  /** Keyed hash of the secret, 32 bytes (never the secret). */
  readonly secretHash: Uint8Array;
}

/** An occurrence: a finding at a span of one object version. */
export interface OccurrenceRecord {
  /** Tenant id, 32 bytes. */
  readonly tenantId: Uint8Array;
  /** Occurrence id, 32 bytes. */
  readonly occurrenceId: Uint8Array;
  /** The finding, 32 bytes. */
  readonly findingId: Uint8Array;
  /** The object version, 32 bytes. */
  readonly objectVersionId: Uint8Array;
  /** Byte offset, 0..(2^63-2 - byteLength). */
  readonly byteOffset: bigint;
  /** Byte length, > 0. */
  readonly byteLength: bigint;
}

/** An observation: an occurrence seen under one policy. */
export interface ObservationRecord {
  /** Tenant id, 32 bytes. */
  readonly tenantId: Uint8Array;
  /** Observation id, 32 bytes. */
  readonly observationId: Uint8Array;
  /** The occurrence, 32 bytes. */
  readonly occurrenceId: Uint8Array;
  /** Policy hash, 32 bytes. */
  readonly policyHash: Uint8Array;
  /** Object-version id hash of the item, 32 bytes. */
  readonly ovidHash: Uint8Array;
  /** Run id, any u64. */
  readonly runId: bigint;
  /** Shard id, any u64. */
  readonly shardId: bigint;
  /** Fencing epoch, 0..2^63-1. */
  readonly fenceEpoch: bigint;
  /** When seen (ms since the epoch), 0..2^63-1. */
  readonly seenAt: bigint;
  /** Human location (`path:line:col`), 1..4096 UTF-8 bytes, or null. */
  readonly locationDisplay: string | null;
  /** Location URL, 1..4096 UTF-8 bytes, or null. */
  readonly locationUrl: string | null;
}

/** One transaction's worth of findings rows. */
export interface FindingsBatch {
  /** Insert-or-verify. */
  readonly findings: readonly FindingRecord[];
  /** Insert-or-verify (each refers to a finding in this batch or stored). */
  readonly occurrences: readonly OccurrenceRecord[];
  /** Merged with {@link mergeObservationRecords}. */
  readonly observations: readonly ObservationRecord[];
}

/** An observation joined with its occurrence and finding. */
export interface StoredObservation {
  /** The finding row. */
  readonly finding: FindingRecord;
  /** The occurrence row. */
  readonly occurrence: OccurrenceRecord;
  /** The observation row. */
  readonly observation: ObservationRecord;
}

// ---------------------------------------------------------------------------
// Store interfaces.

/** The done-ledger: which items were scanned under which policy. */
export interface DoneLedgerStore {
  /**
   * Monotonic upsert of every record, in one transaction: insert, or merge
   * with the stored row by {@link mergeDoneLedgerRecords}. Replaying a write
   * is a no-op. Records are checked with {@link validateDoneLedgerRecord}
   * first; an invalid one fails the whole call (`invalid_record`).
   */
  upsertDone(records: readonly DoneLedgerRecord[]): Promise<void>;
  /**
   * The rows for `ovidHashes` under `(tenantId, policyHash)`, in input order
   * (`undefined` where there is none; duplicates answered each time).
   */
  batchGetDone(
    tenantId: Uint8Array,
    policyHash: Uint8Array,
    ovidHashes: readonly Uint8Array[],
  ): Promise<(DoneLedgerRecord | undefined)[]>;
}

/** The findings tables. */
export interface FindingsStore {
  /**
   * Writes a batch in one transaction. Findings and occurrences are
   * immutable insert-or-verify: a replay is a no-op; the same id with other
   * content fails with `finding_conflict` / `occurrence_conflict` and nothing
   * of the batch is written. Observations are merged by
   * {@link mergeObservationRecords}. Rows are checked by the `validate*`
   * functions first (`invalid_record`).
   */
  writeFindings(batch: FindingsBatch): Promise<void>;
  /**
   * The observations under `(tenantId, policyHash)` of each ovid, in input
   * order (each list ordered by occurrence byte offset, then observation id).
   */
  batchGetObservations(
    tenantId: Uint8Array,
    policyHash: Uint8Array,
    ovidHashes: readonly Uint8Array[],
  ): Promise<StoredObservation[][]>;
}

/** A complete backend: both stores plus lifecycle. */
export interface LedgerBackend {
  /** The done-ledger. */
  readonly done: DoneLedgerStore;
  /** The findings. */
  readonly findings: FindingsStore;
  /** A short, secret-free description (e.g. `sqlite:/path/ledger.db`). */
  readonly describe: string;
  /** Releases connections / file handles. Idempotent. */
  close(): Promise<void>;
}

// ---------------------------------------------------------------------------
// u64 ↔ BIGINT mappings.

/** 2^63 - 1, the largest BIGINT. */
export const I64_MAX: bigint = 9223372036854775807n;

/**
 * A u64 identifier as the BIGINT holding its bit pattern (values ≥ 2^63
 * become negative). Equality lookups only.
 *
 * @param value A u64.
 * @returns The i64 with the same bits.
 * @throws {LedgerError} `invalid_record` when `value` is not a u64.
 *
 * @example
 * ```ts
 * import { u64ToBitPattern } from "./store.ts";
 * console.assert(u64ToBitPattern(2n ** 64n - 1n) === -1n);
 * ```
 */
export function u64ToBitPattern(value: bigint): bigint {
  if (value < 0n || value >= 1n << 64n) {
    throw new LedgerError(
      "invalid_record",
      `value ${value} is not an unsigned 64-bit integer`,
    );
  }
  return BigInt.asIntN(64, value);
}

/**
 * The u64 identifier stored as a BIGINT bit pattern.
 *
 * @param stored The stored i64.
 * @returns The u64.
 *
 * @example
 * ```ts
 * import { bitPatternToU64 } from "./store.ts";
 * console.assert(bitPatternToU64(-1n) === 2n ** 64n - 1n);
 * ```
 */
export function bitPatternToU64(stored: bigint): bigint {
  return BigInt.asUintN(64, stored);
}

/**
 * Checks an ordered field for writing: 0..2^63-1.
 *
 * @param value The value.
 * @param field The column name (for the message).
 * @returns `value`.
 * @throws {LedgerError} `invalid_record`.
 *
 * @example
 * ```ts
 * import { orderedToBigint } from "./store.ts";
 * console.assert(orderedToBigint(5n, "started_at") === 5n);
 * ```
 */
export function orderedToBigint(value: bigint, field: string): bigint {
  if (value > I64_MAX) {
    throw new LedgerError(
      "invalid_record",
      `value ${value} for field ${field} exceeds non-negative PostgreSQL BIGINT range`,
      { details: { field } },
    );
  }
  if (value < 0n) {
    throw new LedgerError(
      "invalid_record",
      `value ${value} for field ${field} is negative`,
      { details: { field } },
    );
  }
  return value;
}

/**
 * Checks an ordered field read back: it must not be negative.
 *
 * @param stored The stored value.
 * @param field The column name.
 * @returns `stored`.
 * @throws {LedgerError} `invalid_record`.
 *
 * @example
 * ```ts
 * import { bigintToOrdered } from "./store.ts";
 * console.assert(bigintToOrdered(7n, "seen_at") === 7n);
 * ```
 */
export function bigintToOrdered(stored: bigint, field: string): bigint {
  if (stored < 0n) {
    throw new LedgerError(
      "invalid_record",
      `stored value ${stored} for field ${field} is negative but the schema requires non-negative BIGINT`,
      { details: { field } },
    );
  }
  return stored;
}

// ---------------------------------------------------------------------------
// Checks.

const utf8 = new TextEncoder();

function invalid(message: string, field: string): LedgerError {
  return new LedgerError("invalid_record", message, { details: { field } });
}

function check32(value: Uint8Array, field: string): void {
  if (!(value instanceof Uint8Array) || value.length !== 32) {
    throw invalid(`${field} must be 32 bytes`, field);
  }
}

function checkU64(value: bigint, field: string): void {
  if (typeof value !== "bigint" || value < 0n || value >= 1n << 64n) {
    throw invalid(`${field} must be an unsigned 64-bit integer`, field);
  }
}

function checkOrdered(value: bigint, field: string): void {
  if (typeof value !== "bigint") {
    throw invalid(`${field} must be a bigint`, field);
  }
  orderedToBigint(value, field);
}

function checkText(
  value: string | null,
  field: string,
  maxBytes: number,
  nullable: boolean,
): void {
  if (value === null) {
    if (!nullable) throw invalid(`${field} must not be null`, field);
    return;
  }
  const n = utf8.encode(value).length;
  if (n < 1 || n > maxBytes) {
    throw invalid(`${field} must be 1..${maxBytes} UTF-8 bytes`, field);
  }
}

/**
 * Checks a done-ledger row against the schema's checks (lengths, ranges,
 * the status shape: 10 ⇒ 0 findings and no error; 11 ⇒ > 0 findings and no
 * error; 1/2/3 ⇒ an error code).
 *
 * @param record The row.
 * @throws {LedgerError} `invalid_record` with `details.field`.
 *
 * @example
 * ```ts
 * import { validateDoneLedgerRecord } from "./store.ts";
 * const id = new Uint8Array(32);
 * validateDoneLedgerRecord({
 *   tenantId: id, policyHash: id, ovidHash: id, status: 10, bytesScanned: 5n,
 *   findingsCount: 0, fenceEpoch: 0n, startedAt: 1n, finishedAt: 2n,
 *   runId: 1n, shardId: 0n, errorCode: null,
 * });
 * ```
 */
export function validateDoneLedgerRecord(record: DoneLedgerRecord): void {
  check32(record.tenantId, "tenant_id");
  check32(record.policyHash, "policy_hash");
  check32(record.ovidHash, "ovid_hash");
  if (!DONE_STATUS_VALUES.includes(record.status)) {
    throw invalid("status must be one of 1, 2, 3, 10, 11", "status");
  }
  checkOrdered(record.bytesScanned, "bytes_scanned");
  if (
    !Number.isInteger(record.findingsCount) || record.findingsCount < 0 ||
    record.findingsCount > 0x7fffffff
  ) {
    throw invalid("findings_count must be 0..2147483647", "findings_count");
  }
  checkOrdered(record.fenceEpoch, "fence_epoch");
  checkOrdered(record.startedAt, "started_at");
  checkOrdered(record.finishedAt, "finished_at");
  if (record.finishedAt < record.startedAt) {
    throw invalid("finished_at must not be before started_at", "finished_at");
  }
  checkU64(record.runId, "run_id");
  checkU64(record.shardId, "shard_id");
  checkText(record.errorCode, "error_code", 128, true);
  const s = record.status;
  const ok = s === 10
    ? record.findingsCount === 0 && record.errorCode === null
    : s === 11
    ? record.findingsCount > 0 && record.errorCode === null
    : record.errorCode !== null;
  if (!ok) {
    throw invalid(
      "status, findings_count and error_code do not fit together",
      "status",
    );
  }
}

/**
 * Checks a finding row (every id 32 bytes).
 *
 * @param record The row.
 * @throws {LedgerError} `invalid_record`.
 *
 * @example
 * ```ts
 * import { validateFindingRecord } from "./store.ts";
 * const id = new Uint8Array(32);
 * validateFindingRecord({ tenantId: id, findingId: id, stableItemId: id, ruleFingerprint: id, secretHash: id });
 * ```
 */
export function validateFindingRecord(record: FindingRecord): void {
  check32(record.tenantId, "tenant_id");
  check32(record.findingId, "finding_id");
  check32(record.stableItemId, "stable_item_id");
  check32(record.ruleFingerprint, "rule_fingerprint");
  check32(record.secretHash, "secret_hash");
}

/**
 * Checks an occurrence row (ids 32 bytes, offset ≥ 0, length > 0,
 * offset ≤ 2^63-2 - length).
 *
 * @param record The row.
 * @throws {LedgerError} `invalid_record`.
 *
 * @example
 * ```ts
 * import { validateOccurrenceRecord } from "./store.ts";
 * const id = new Uint8Array(32);
 * validateOccurrenceRecord({ tenantId: id, occurrenceId: id, findingId: id, objectVersionId: id, byteOffset: 0n, byteLength: 4n });
 * ```
 */
export function validateOccurrenceRecord(record: OccurrenceRecord): void {
  check32(record.tenantId, "tenant_id");
  check32(record.occurrenceId, "occurrence_id");
  check32(record.findingId, "finding_id");
  check32(record.objectVersionId, "object_version_id");
  checkOrdered(record.byteOffset, "byte_offset");
  checkOrdered(record.byteLength, "byte_length");
  if (record.byteLength <= 0n) {
    throw invalid("byte_length must be > 0", "byte_length");
  }
  if (record.byteOffset > 9223372036854775806n - record.byteLength) {
    throw invalid("byte_offset + byte_length is out of range", "byte_offset");
  }
}

/**
 * Checks an observation row (ids 32 bytes, ranges, location texts
 * 1..4096 bytes or null).
 *
 * @param record The row.
 * @throws {LedgerError} `invalid_record`.
 *
 * @example
 * ```ts
 * import { validateObservationRecord } from "./store.ts";
 * const id = new Uint8Array(32);
 * validateObservationRecord({
 *   tenantId: id, observationId: id, occurrenceId: id, policyHash: id, ovidHash: id,
 *   runId: 1n, shardId: 0n, fenceEpoch: 0n, seenAt: 1n, locationDisplay: "a.txt:1:1", locationUrl: null,
 * });
 * ```
 */
export function validateObservationRecord(record: ObservationRecord): void {
  check32(record.tenantId, "tenant_id");
  check32(record.observationId, "observation_id");
  check32(record.occurrenceId, "occurrence_id");
  check32(record.policyHash, "policy_hash");
  check32(record.ovidHash, "ovid_hash");
  checkU64(record.runId, "run_id");
  checkU64(record.shardId, "shard_id");
  checkOrdered(record.fenceEpoch, "fence_epoch");
  checkOrdered(record.seenAt, "seen_at");
  checkText(record.locationDisplay, "location_display", 4096, true);
  checkText(record.locationUrl, "location_url", 4096, true);
}

// ---------------------------------------------------------------------------
// Merges (the single source of truth the SQL upserts must match).

function maxBig(a: bigint, b: bigint): bigint {
  return a > b ? a : b;
}

/**
 * Whether `incoming` supplies the provenance of a merged done-ledger row:
 * a higher status; or the same status and a later `finishedAt`; or both the
 * same and a later `startedAt`.
 *
 * @param existing The stored row.
 * @param incoming The row being written.
 * @returns True when the incoming row wins.
 *
 * @example
 * ```ts
 * import { doneProvenanceWinnerIsIncoming } from "./store.ts";
 * const base = { status: 10, finishedAt: 5n, startedAt: 1n } as const;
 * console.assert(doneProvenanceWinnerIsIncoming(base, { ...base, finishedAt: 6n }));
 * ```
 */
export function doneProvenanceWinnerIsIncoming(
  existing: Pick<DoneLedgerRecord, "status" | "finishedAt" | "startedAt">,
  incoming: Pick<DoneLedgerRecord, "status" | "finishedAt" | "startedAt">,
): boolean {
  if (incoming.status !== existing.status) {
    return incoming.status > existing.status;
  }
  if (incoming.finishedAt !== existing.finishedAt) {
    return incoming.finishedAt > existing.finishedAt;
  }
  return incoming.startedAt > existing.startedAt;
}

/**
 * The monotonic lattice merge of two done-ledger rows with the same key:
 * status and bytes take the maximum; the findings count is 0 for a clean
 * result, max(old, new, 1) with findings, else the maximum; the provenance
 * winner ({@link doneProvenanceWinnerIsIncoming}) supplies `runId`,
 * `shardId`, `fenceEpoch`, `startedAt`, `finishedAt` together; the error
 * code is null for a scanned status, else the winner's, falling back to the
 * loser's. Replaying a write is a no-op; a success is never downgraded.
 *
 * @param existing The stored row.
 * @param incoming The row being written (same key).
 * @returns The merged row (key from `existing`).
 *
 * @example
 * ```ts
 * import { mergeDoneLedgerRecords } from "./store.ts";
 * const id = new Uint8Array(32);
 * const ok = {
 *   tenantId: id, policyHash: id, ovidHash: id, status: 10, bytesScanned: 9n,
 *   findingsCount: 0, fenceEpoch: 1n, startedAt: 1n, finishedAt: 2n,
 *   runId: 1n, shardId: 0n, errorCode: null,
 * } as const;
 * const late = { ...ok, status: 1, findingsCount: 0, finishedAt: 9n, errorCode: "io" } as const;
 * console.assert(mergeDoneLedgerRecords(ok, late).status === 10);
 * ```
 */
export function mergeDoneLedgerRecords(
  existing: DoneLedgerRecord,
  incoming: DoneLedgerRecord,
): DoneLedgerRecord {
  const status =
    (incoming.status > existing.status
      ? incoming.status
      : existing.status) as DoneStatus;
  const winnerIsIncoming = doneProvenanceWinnerIsIncoming(existing, incoming);
  const winner = winnerIsIncoming ? incoming : existing;
  const loser = winnerIsIncoming ? existing : incoming;
  const most = Math.max(existing.findingsCount, incoming.findingsCount);
  const findingsCount = status === DONE_STATUS.SCANNED_CLEAN
    ? 0
    : status === DONE_STATUS.SCANNED_WITH_FINDINGS
    ? Math.max(most, 1)
    : most;
  const errorCode = status === DONE_STATUS.SCANNED_CLEAN ||
      status === DONE_STATUS.SCANNED_WITH_FINDINGS
    ? null
    : winner.errorCode ?? loser.errorCode;
  return {
    tenantId: existing.tenantId,
    policyHash: existing.policyHash,
    ovidHash: existing.ovidHash,
    status,
    bytesScanned: maxBig(existing.bytesScanned, incoming.bytesScanned),
    findingsCount,
    fenceEpoch: winner.fenceEpoch,
    startedAt: winner.startedAt,
    finishedAt: winner.finishedAt,
    runId: winner.runId,
    shardId: winner.shardId,
    errorCode,
  };
}

/**
 * The merge of two observations with the same `(tenantId, policyHash,
 * occurrenceId)`: the later `seenAt` wins; on a tie the incoming row wins
 * when the stored `locationDisplay` is null and the incoming one is not.
 * `seenAt` is the maximum; `runId`, `shardId`, `fenceEpoch` come from the
 * winner together; `locationDisplay` is the winner's, falling back to the
 * loser's, and `locationUrl` always comes from the row that supplied
 * `locationDisplay` (the winner's when both displays are null).
 *
 * @param existing The stored row.
 * @param incoming The row being written.
 * @returns The merged row (ids from `existing`).
 *
 * @example
 * ```ts
 * import { mergeObservationRecords } from "./store.ts";
 * const id = new Uint8Array(32);
 * const a = {
 *   tenantId: id, observationId: id, occurrenceId: id, policyHash: id, ovidHash: id,
 *   runId: 1n, shardId: 0n, fenceEpoch: 0n, seenAt: 5n, locationDisplay: null, locationUrl: null,
 * };
 * const b = { ...a, runId: 2n, locationDisplay: "x:1:1" };
 * console.assert(mergeObservationRecords(a, b).runId === 2n);
 * ```
 */
export function mergeObservationRecords(
  existing: ObservationRecord,
  incoming: ObservationRecord,
): ObservationRecord {
  const winnerIsIncoming = incoming.seenAt > existing.seenAt ||
    (incoming.seenAt === existing.seenAt &&
      existing.locationDisplay === null && incoming.locationDisplay !== null);
  const winner = winnerIsIncoming ? incoming : existing;
  const loser = winnerIsIncoming ? existing : incoming;
  const displaySource =
    winner.locationDisplay !== null || loser.locationDisplay === null
      ? winner
      : loser;
  return {
    ...existing,
    seenAt: maxBig(existing.seenAt, incoming.seenAt),
    runId: winner.runId,
    shardId: winner.shardId,
    fenceEpoch: winner.fenceEpoch,
    locationDisplay: displaySource.locationDisplay,
    locationUrl: displaySource.locationUrl,
  };
}

/**
 * Whether two byte strings are equal (not constant time; ids only).
 *
 * @param a First.
 * @param b Second.
 * @returns True when equal.
 *
 * @example
 * ```ts
 * import { sameId } from "./store.ts";
 * console.assert(sameId(new Uint8Array(2), new Uint8Array(2)));
 * ```
 */
export function sameId(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
