/**
 * The byte-exact `v1` value codec of the etcd coordination records: 2 bytes
 * `"v1"`, one kind byte (1 = run record, 2 = shard record, 3 = shard owner),
 * then little-endian fields. Byte strings carry a u32 length prefix, optional
 * values a one-byte flag (0 absent, 1 present), lists a u32 count; trailing
 * bytes are rejected, and every declared length or count is checked against
 * {@link EtcdCodecLimits} before anything is allocated.
 *
 * The owner value is fixed: `"v1"`, `0x03`, worker u64 LE, fence u64 LE (19
 * bytes); worker 7, fence 3 is `763103 0700000000000000 0300000000000000`.
 *
 * @module
 */

import { LedgerError, LedgerLimitError } from "./errors.ts";

/** The first fence a lease ever gets; owner values with a lower fence are rejected. */
export const FENCE_INITIAL = 1n;

/** The record kinds of the `v1` codec. */
export const ETCD_RECORD_KINDS = { run: 1, shard: 2, owner: 3 } as const;

/** Run statuses (one byte). */
export const RUN_STATUSES = {
  active: 1,
  completed: 2,
  failed: 3,
  cancelled: 4,
} as const;
/** One of {@link RUN_STATUSES}' names. */
export type RunStatus = keyof typeof RUN_STATUSES;

/** Shard statuses (one byte). `split` means replaced by its children. */
export const SHARD_STATUSES = {
  active: 1,
  done: 2,
  parked: 3,
  split: 4,
} as const;
/** One of {@link SHARD_STATUSES}' names. */
export type ShardStatus = keyof typeof SHARD_STATUSES;

/** Op kinds recorded in a shard's op-log. */
export const OP_KINDS = {
  checkpoint: 1,
  split_replace: 2,
  split_residual: 3,
  complete: 4,
  park: 5,
} as const;
/** One of {@link OP_KINDS}' names. */
export type OpKind = keyof typeof OP_KINDS;

/** How a cursor's `lastKey` is read: `after` = every key ≤ lastKey is committed. */
export const CURSOR_SEMANTICS = { after: 1 } as const;

/** Limits of the decoder, with their defaults in {@link DEFAULT_ETCD_CODEC_LIMITS}. */
export interface EtcdCodecLimits {
  /** Longest byte string (key range bounds, metadata, cursor, park reason). Default 65,536. */
  readonly maxBytesLength: number;
  /** Most children in a shard's spawned list. Default 64. */
  readonly maxSpawned: number;
  /** Most op-log entries in one shard record. Default 64. */
  readonly maxOpLog: number;
}

/** The default {@link EtcdCodecLimits}. */
export const DEFAULT_ETCD_CODEC_LIMITS: EtcdCodecLimits = Object.freeze({
  maxBytesLength: 65_536,
  maxSpawned: 64,
  maxOpLog: 64,
});

/** A run record. */
export interface RunRecord {
  /** 32-byte tenant id. */
  readonly tenant: Uint8Array;
  /** Run id. */
  readonly run: bigint;
  /** Run status. */
  readonly status: RunStatus;
  /** How long a lease lasts, in ms of logical time. */
  readonly leaseDurationMs: bigint;
  /** When the run was registered (ms). */
  readonly createdAt: bigint;
  /** How many root shards were registered. */
  readonly shardCount: bigint;
  /** A hash of the shard plan; a second registration must present the same. */
  readonly planHash: bigint;
  /** When the run reached a terminal status (ms). */
  readonly finishedAt: bigint | null;
}

/** A cursor: how far a shard's committed work reaches. */
export interface ShardCursor {
  /** The last committed key, or null before the first checkpoint. */
  readonly lastKey: Uint8Array | null;
  /** An opaque resume token. */
  readonly token: Uint8Array | null;
  /** How `lastKey` is read (see {@link CURSOR_SEMANTICS}). */
  readonly semantics: number;
}

/** A logical lease recorded in a shard record. */
export interface ShardLease {
  /** The worker id holding it. */
  readonly owner: bigint;
  /** When it ends (ms of logical time). */
  readonly deadline: bigint;
}

/** One op-log entry (the idempotency memory of fenced ops). */
export interface OpLogEntry {
  /** Caller-chosen op id. */
  readonly opId: bigint;
  /** What the op was. */
  readonly kind: OpKind;
  /** 0 = applied. */
  readonly result: number;
  /** A hash of the op's payload; a replay must present the same. */
  readonly payloadHash: bigint;
  /** When it was applied (ms). */
  readonly executedAt: bigint;
}

/** A shard record. */
export interface ShardRecord {
  /** 32-byte tenant id. */
  readonly tenant: Uint8Array;
  /** Run id. */
  readonly run: bigint;
  /** Shard id. */
  readonly shard: bigint;
  /** Status. */
  readonly status: ShardStatus;
  /** Why it was parked (UTF-8), when parked. */
  readonly parkReason: string | null;
  /** Inclusive start of the key range. */
  readonly keyRangeStart: Uint8Array;
  /** Exclusive end of the key range (empty = unbounded). */
  readonly keyRangeEnd: Uint8Array;
  /** Opaque shard metadata. */
  readonly metadata: Uint8Array;
  /** Committed progress. */
  readonly cursor: ShardCursor;
  /** The logical lease, when leased. */
  readonly lease: ShardLease | null;
  /** The fence epoch (0 before the first lease). */
  readonly fenceEpoch: bigint;
  /** The parent shard, for split children. */
  readonly parent: bigint | null;
  /** Children spawned by splits. */
  readonly spawned: readonly bigint[];
  /** Recent fenced ops, oldest first. */
  readonly opLog: readonly OpLogEntry[];
}

/** The owner binding stored under `.../owner` on an etcd lease. */
export interface ShardOwner {
  /** Worker id. */
  readonly worker: bigint;
  /** Fence epoch of the lease. */
  readonly fence: bigint;
}

const U64_MAX = (1n << 64n) - 1n;
const utf8 = new TextEncoder();
const utf8Strict = new TextDecoder("utf-8", { fatal: true });

function invalid(message: string): LedgerError {
  return new LedgerError("coordination_codec_invalid", message);
}

class Writer {
  #chunks: number[] = [];
  u8(v: number): void {
    this.#chunks.push(v & 0xff);
  }
  u32(v: number): void {
    for (let i = 0; i < 4; i++) this.#chunks.push((v >>> (8 * i)) & 0xff);
  }
  u64(v: bigint): void {
    if (v < 0n || v > U64_MAX) throw new RangeError(`${v} is not a u64`);
    for (let i = 0n; i < 8n; i++) {
      this.#chunks.push(Number((v >> (8n * i)) & 0xffn));
    }
  }
  bytes(b: Uint8Array): void {
    this.u32(b.length);
    for (const x of b) this.#chunks.push(x);
  }
  raw(b: Uint8Array): void {
    for (const x of b) this.#chunks.push(x);
  }
  opt<T>(v: T | null, body: (v: T) => void): void {
    if (v === null) this.u8(0);
    else {
      this.u8(1);
      body(v);
    }
  }
  finish(): Uint8Array {
    return Uint8Array.from(this.#chunks);
  }
}

class Reader {
  #pos = 0;
  readonly buf: Uint8Array;
  readonly limits: EtcdCodecLimits;
  constructor(buf: Uint8Array, limits: EtcdCodecLimits) {
    this.buf = buf;
    this.limits = limits;
  }
  need(n: number): void {
    if (this.buf.length - this.#pos < n) {
      throw invalid("etcd value is truncated");
    }
  }
  u8(): number {
    this.need(1);
    return this.buf[this.#pos++];
  }
  u32(): number {
    this.need(4);
    let v = 0;
    for (let i = 0; i < 4; i++) v += this.buf[this.#pos + i] * 2 ** (8 * i);
    this.#pos += 4;
    return v;
  }
  u64(): bigint {
    this.need(8);
    let v = 0n;
    for (let i = 7; i >= 0; i--) {
      v = (v << 8n) | BigInt(this.buf[this.#pos + i]);
    }
    this.#pos += 8;
    return v;
  }
  raw(n: number): Uint8Array {
    this.need(n);
    const out = this.buf.slice(this.#pos, this.#pos + n);
    this.#pos += n;
    return out;
  }
  bytes(field: string): Uint8Array {
    const n = this.u32();
    if (n > this.limits.maxBytesLength) {
      throw new LedgerLimitError(
        "maxBytesLength",
        this.limits.maxBytesLength,
        n,
        field,
      );
    }
    return this.raw(n);
  }
  count(limit: "maxSpawned" | "maxOpLog", entrySize: number): number {
    const n = this.u32();
    if (n > this.limits[limit]) {
      throw new LedgerLimitError(limit, this.limits[limit], n);
    }
    this.need(n * entrySize);
    return n;
  }
  opt<T>(body: () => T): T | null {
    const flag = this.u8();
    if (flag === 0) return null;
    if (flag === 1) return body();
    throw invalid(`etcd value has an invalid option flag ${flag}`);
  }
  header(kind: number): void {
    this.need(3);
    if (this.buf[0] !== 0x76 || this.buf[1] !== 0x31) {
      throw invalid("etcd value does not start with 'v1'");
    }
    if (this.buf[2] !== kind) {
      throw invalid(`etcd value has kind ${this.buf[2]}, expected ${kind}`);
    }
    this.#pos = 3;
  }
  end(): void {
    if (this.#pos !== this.buf.length) {
      throw invalid(
        `etcd value has ${this.buf.length - this.#pos} trailing bytes`,
      );
    }
  }
}

function nameOf<T extends Record<string, number>>(
  table: T,
  code: number,
  what: string,
): keyof T {
  for (const [name, value] of Object.entries(table)) {
    if (value === code) return name as keyof T;
  }
  throw invalid(`etcd value has an unknown ${what} ${code}`);
}

function header(w: Writer, kind: number): void {
  w.raw(new Uint8Array([0x76, 0x31, kind]));
}

function tenant32(w: Writer, tenant: Uint8Array): void {
  if (tenant.length !== 32) {
    throw new RangeError(`tenant id must be 32 bytes, got ${tenant.length}`);
  }
  w.raw(tenant);
}

/**
 * Encodes an owner binding (19 bytes).
 *
 * @param owner Worker and fence.
 * @returns The value bytes.
 *
 * @example
 * ```ts
 * import { encodeShardOwner } from "./etcd_codec.ts";
 * const hex = Array.from(encodeShardOwner({ worker: 7n, fence: 3n }), (b) => b.toString(16).padStart(2, "0")).join("");
 * console.assert(hex === "763103" + "0700000000000000" + "0300000000000000");
 * ```
 */
export function encodeShardOwner(owner: ShardOwner): Uint8Array {
  const w = new Writer();
  header(w, ETCD_RECORD_KINDS.owner);
  w.u64(owner.worker);
  w.u64(owner.fence);
  return w.finish();
}

/**
 * Decodes an owner binding; a fence below {@link FENCE_INITIAL} is rejected.
 *
 * @param bytes The value bytes.
 * @returns The owner.
 * @throws {LedgerError} `coordination_codec_invalid`.
 *
 * @example
 * ```ts
 * import { decodeShardOwner, encodeShardOwner } from "./etcd_codec.ts";
 * console.assert(decodeShardOwner(encodeShardOwner({ worker: 7n, fence: 3n })).fence === 3n);
 * ```
 */
export function decodeShardOwner(bytes: Uint8Array): ShardOwner {
  const r = new Reader(bytes, DEFAULT_ETCD_CODEC_LIMITS);
  r.header(ETCD_RECORD_KINDS.owner);
  const worker = r.u64();
  const fence = r.u64();
  r.end();
  if (fence < FENCE_INITIAL) {
    throw invalid(`owner fence ${fence} is below the initial fence`);
  }
  return { worker, fence };
}

/**
 * Encodes a run record.
 *
 * @param run The record.
 * @returns The value bytes.
 *
 * @example
 * ```ts
 * import { decodeRunRecord, encodeRunRecord } from "./etcd_codec.ts";
 * const run = { tenant: new Uint8Array(32), run: 1n, status: "active" as const, leaseDurationMs: 30000n,
 *   createdAt: 5n, shardCount: 2n, planHash: 9n, finishedAt: null };
 * console.assert(decodeRunRecord(encodeRunRecord(run)).shardCount === 2n);
 * ```
 */
export function encodeRunRecord(run: RunRecord): Uint8Array {
  const w = new Writer();
  header(w, ETCD_RECORD_KINDS.run);
  tenant32(w, run.tenant);
  w.u64(run.run);
  w.u8(RUN_STATUSES[run.status]);
  w.u64(run.leaseDurationMs);
  w.u64(run.createdAt);
  w.u64(run.shardCount);
  w.u64(run.planHash);
  w.opt(run.finishedAt, (v) => w.u64(v));
  return w.finish();
}

/**
 * Decodes a run record.
 *
 * @param bytes The value bytes.
 * @param limits Decoder limits.
 * @returns The record.
 * @throws {LedgerError} `coordination_codec_invalid`.
 *
 * @example
 * ```ts
 * import { decodeRunRecord } from "./etcd_codec.ts";
 * try { decodeRunRecord(new Uint8Array([0x76, 0x31, 2])); } catch (e) {
 *   console.assert((e as { code: string }).code === "coordination_codec_invalid");
 * }
 * ```
 */
export function decodeRunRecord(
  bytes: Uint8Array,
  limits: EtcdCodecLimits = DEFAULT_ETCD_CODEC_LIMITS,
): RunRecord {
  const r = new Reader(bytes, limits);
  r.header(ETCD_RECORD_KINDS.run);
  const tenant = r.raw(32);
  const run = r.u64();
  const status = nameOf(RUN_STATUSES, r.u8(), "run status");
  const leaseDurationMs = r.u64();
  const createdAt = r.u64();
  const shardCount = r.u64();
  const planHash = r.u64();
  const finishedAt = r.opt(() => r.u64());
  r.end();
  return {
    tenant,
    run,
    status,
    leaseDurationMs,
    createdAt,
    shardCount,
    planHash,
    finishedAt,
  };
}

/**
 * Encodes a shard record in the field order of the reference.
 *
 * @param shard The record.
 * @returns The value bytes.
 *
 * @example
 * ```ts
 * import { decodeShardRecord, encodeShardRecord, newShardRecord } from "./etcd_codec.ts";
 * const rec = newShardRecord(new Uint8Array(32), 1n, 2n, new Uint8Array(), new Uint8Array(), new Uint8Array());
 * console.assert(decodeShardRecord(encodeShardRecord(rec)).shard === 2n);
 * ```
 */
export function encodeShardRecord(shard: ShardRecord): Uint8Array {
  const w = new Writer();
  header(w, ETCD_RECORD_KINDS.shard);
  tenant32(w, shard.tenant);
  w.u64(shard.run);
  w.u64(shard.shard);
  w.u8(SHARD_STATUSES[shard.status]);
  w.opt(shard.parkReason, (v) => w.bytes(utf8.encode(v)));
  w.bytes(shard.keyRangeStart);
  w.bytes(shard.keyRangeEnd);
  w.bytes(shard.metadata);
  w.opt(shard.cursor.lastKey, (v) => w.bytes(v));
  w.opt(shard.cursor.token, (v) => w.bytes(v));
  w.u8(shard.cursor.semantics);
  w.opt(shard.lease, (v) => {
    w.u64(v.owner);
    w.u64(v.deadline);
  });
  w.u64(shard.fenceEpoch);
  w.opt(shard.parent, (v) => w.u64(v));
  w.u32(shard.spawned.length);
  for (const child of shard.spawned) w.u64(child);
  w.u32(shard.opLog.length);
  for (const op of shard.opLog) {
    w.u64(op.opId);
    w.u8(OP_KINDS[op.kind]);
    w.u8(op.result);
    w.u64(op.payloadHash);
    w.u64(op.executedAt);
  }
  return w.finish();
}

/**
 * Decodes a shard record.
 *
 * @param bytes The value bytes.
 * @param limits Decoder limits.
 * @returns The record.
 * @throws {LedgerError} `coordination_codec_invalid`, or `limit_exceeded`
 *   ({@link LedgerLimitError}) for a declared length over a limit.
 *
 * @example
 * ```ts
 * import { decodeShardRecord } from "./etcd_codec.ts";
 * try { decodeShardRecord(new Uint8Array([0x76, 0x32, 2])); } catch (e) {
 *   console.assert((e as { code: string }).code === "coordination_codec_invalid");
 * }
 * ```
 */
export function decodeShardRecord(
  bytes: Uint8Array,
  limits: EtcdCodecLimits = DEFAULT_ETCD_CODEC_LIMITS,
): ShardRecord {
  const r = new Reader(bytes, limits);
  r.header(ETCD_RECORD_KINDS.shard);
  const tenant = r.raw(32);
  const run = r.u64();
  const shard = r.u64();
  const status = nameOf(SHARD_STATUSES, r.u8(), "shard status");
  const parkReason = r.opt(() => {
    try {
      return utf8Strict.decode(r.bytes("park_reason"));
    } catch (error) {
      if (error instanceof LedgerError) throw error;
      throw invalid("etcd value has a park reason that is not UTF-8");
    }
  });
  const keyRangeStart = r.bytes("key_range_start");
  const keyRangeEnd = r.bytes("key_range_end");
  const metadata = r.bytes("metadata");
  const lastKey = r.opt(() => r.bytes("cursor_last_key"));
  const token = r.opt(() => r.bytes("cursor_token"));
  const semantics = r.u8();
  const lease = r.opt(() => ({ owner: r.u64(), deadline: r.u64() }));
  const fenceEpoch = r.u64();
  const parent = r.opt(() => r.u64());
  const spawned: bigint[] = [];
  const nSpawned = r.count("maxSpawned", 8);
  for (let i = 0; i < nSpawned; i++) spawned.push(r.u64());
  const opLog: OpLogEntry[] = [];
  const nOps = r.count("maxOpLog", 26);
  for (let i = 0; i < nOps; i++) {
    const opId = r.u64();
    const kind = nameOf(OP_KINDS, r.u8(), "op kind");
    const result = r.u8();
    const payloadHash = r.u64();
    const executedAt = r.u64();
    opLog.push({ opId, kind, result, payloadHash, executedAt });
  }
  r.end();
  return {
    tenant,
    run,
    shard,
    status,
    parkReason,
    keyRangeStart,
    keyRangeEnd,
    metadata,
    cursor: { lastKey, token, semantics },
    lease,
    fenceEpoch,
    parent,
    spawned,
    opLog,
  };
}

/**
 * A fresh, never-leased, active shard record.
 *
 * @param tenant 32-byte tenant id.
 * @param run Run id.
 * @param shard Shard id.
 * @param keyRangeStart Inclusive start.
 * @param keyRangeEnd Exclusive end (empty = unbounded).
 * @param metadata Opaque metadata.
 * @param parent The parent shard for split children.
 * @returns The record.
 *
 * @example
 * ```ts
 * import { newShardRecord } from "./etcd_codec.ts";
 * const rec = newShardRecord(new Uint8Array(32), 1n, 2n, new Uint8Array(), new Uint8Array(), new Uint8Array());
 * console.assert(rec.status === "active" && rec.fenceEpoch === 0n);
 * ```
 */
export function newShardRecord(
  tenant: Uint8Array,
  run: bigint,
  shard: bigint,
  keyRangeStart: Uint8Array,
  keyRangeEnd: Uint8Array,
  metadata: Uint8Array,
  parent: bigint | null = null,
): ShardRecord {
  return {
    tenant,
    run,
    shard,
    status: "active",
    parkReason: null,
    keyRangeStart,
    keyRangeEnd,
    metadata,
    cursor: { lastKey: null, token: null, semantics: CURSOR_SEMANTICS.after },
    lease: null,
    fenceEpoch: 0n,
    parent,
    spawned: [],
    opLog: [],
  };
}
