/**
 * The router's per-shard index store with the monotonic gate of the
 * reference (digest 2.11), fixed with **revision epochs**.
 *
 * Reference gate: an incoming `ShardIndex` whose key
 * `(revision, index_generation)` is strictly less than the stored key for its
 * shard is dropped; an equal key replaces. Its defect: revisions restart at 1
 * in every router run while worker caches keep the revision of the run that
 * built them, so after a restart a cached index at revision 10 outranks every
 * fresh index until the counter passes 10, and stale symbols are served.
 *
 * Fix: every revision this store hands out is `epoch * 2^32 + counter`, where
 * `epoch` identifies the router run (the driver passes a value that differs
 * from earlier runs, e.g. Unix seconds at start-up). The gate key becomes
 * `(from this run, revision, index_generation)`: an index whose revision
 * carries the current epoch always outranks one from another run, whatever
 * the numbers, and indexes from the same run compare as in the reference.
 * A cached index from an earlier run is still accepted while nothing newer is
 * stored, so warm starts keep working. Epoch 0 (the default) hands out the
 * reference's plain revisions 1, 2, 3...
 *
 * @example A stale cache cannot block a fresh index
 * ```ts
 * import { ShardStore } from "./shard_store.ts";
 * const store = new ShardStore({ epoch: 7 });
 * const cached = { shard_id: 0, revision: 10, index_generation: 5, symbols: [] };
 * console.assert(store.offer(cached)); // earlier run: accepted while empty
 * const rev = store.nextRevision(); // 7 * 2^32 + 1
 * console.assert(store.offer({ shard_id: 0, revision: rev, index_generation: 1, symbols: [] }));
 * console.assert(!store.offer(cached)); // the old cache no longer wins
 * ```
 *
 * @module
 */

import type { ShardIndex, U64 } from "../wire/types.ts";

/** Bits of a revision below the epoch: `revision = epoch * 2^32 + counter`. */
export const REVISION_EPOCH_SHIFT = 32;

const SHIFT = BigInt(REVISION_EPOCH_SHIFT);
const COUNTER_MAX = (1n << SHIFT) - 1n;
const U64_MAX = (1n << 64n) - 1n;
const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

/** Options for {@link ShardStore}. */
export interface ShardStoreOptions {
  /**
   * This router run's epoch, an integer in `[0, 2^32)` that differs from the
   * epochs of earlier runs whose caches workers may still hold.
   * @default {0}
   */
  epoch?: number;
}

function toBig(value: U64, what: string): bigint {
  if (typeof value === "bigint") {
    if (value < 0n || value > U64_MAX) {
      throw new RangeError(`${what} out of u64 range`);
    }
    return value;
  }
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new RangeError(`${what} must be a u64, got ${value}`);
  }
  return BigInt(value);
}

function toU64(value: bigint): U64 {
  return value <= MAX_SAFE ? Number(value) : value;
}

/**
 * The epoch part of a revision.
 *
 * @param revision A revision.
 * @returns `floor(revision / 2^32)`.
 * @throws {RangeError} When `revision` is not a u64.
 *
 * @example
 * ```ts
 * import { revisionEpoch } from "./shard_store.ts";
 * console.assert(revisionEpoch(3n * 2n ** 32n + 9n) === 3 && revisionEpoch(9) === 0);
 * ```
 */
export function revisionEpoch(revision: U64): number {
  return Number(toBig(revision, "revision") >> SHIFT);
}

/**
 * Compares the gate keys of two indexes for one shard under an epoch:
 * `(revision is from epoch, revision, index_generation)`.
 *
 * @param a An index.
 * @param b Another index.
 * @param epoch The current router epoch.
 * @returns Negative when `a` is older than `b`, 0 when equal, positive when newer.
 * @throws {RangeError} When a revision or generation is not a u64.
 *
 * @example
 * ```ts
 * import { compareIndexKeys } from "./shard_store.ts";
 * const idx = (revision: bigint | number, index_generation: number) =>
 *   ({ shard_id: 0, revision, index_generation, symbols: [] });
 * console.assert(compareIndexKeys(idx(2n ** 32n + 1n, 1), idx(99, 99), 1) > 0);
 * console.assert(compareIndexKeys(idx(1, 1), idx(1, 2), 0) < 0);
 * ```
 */
export function compareIndexKeys(
  a: ShardIndex,
  b: ShardIndex,
  epoch: number,
): number {
  const ra = toBig(a.revision, "revision");
  const rb = toBig(b.revision, "revision");
  const ca = (ra >> SHIFT) === BigInt(epoch) ? 1 : 0;
  const cb = (rb >> SHIFT) === BigInt(epoch) ? 1 : 0;
  if (ca !== cb) return ca - cb;
  if (ra !== rb) return ra < rb ? -1 : 1;
  const ga = toBig(a.index_generation, "index_generation");
  const gb = toBig(b.index_generation, "index_generation");
  return ga === gb ? 0 : ga < gb ? -1 : 1;
}

/**
 * Latest accepted `ShardIndex` per shard, plus the run's revision counter.
 *
 * @example The reference's delayed-cache test
 * ```ts
 * import { ShardStore } from "./shard_store.ts";
 * const store = new ShardStore();
 * const rev = store.nextRevision(); // 1
 * const idx = (revision: number, index_generation: number) =>
 *   ({ shard_id: 0, revision, index_generation, symbols: [] });
 * console.assert(store.offer(idx(rev as number, 2)));
 * console.assert(!store.offer(idx(0, 999)) && !store.offer(idx(1, 1)));
 * console.assert(store.get(0)?.index_generation === 2);
 * ```
 */
export class ShardStore {
  #epoch: number;
  #counter = 0n;
  #indexes = new Map<number, ShardIndex>();
  #updateId = 0;

  /**
   * Creates an empty store.
   *
   * @param options The run's epoch.
   * @throws {RangeError} When the epoch is not an integer in `[0, 2^32)`.
   */
  constructor(options?: ShardStoreOptions) {
    const epoch = options?.epoch ?? 0;
    if (!Number.isInteger(epoch) || epoch < 0 || epoch > 0xffffffff) {
      throw new RangeError(
        `epoch must be an integer in [0, 2^32), got ${epoch}`,
      );
    }
    this.#epoch = epoch;
  }

  /** This run's epoch. */
  get epoch(): number {
    return this.#epoch;
  }

  /** The current revision (`epoch * 2^32` before the first increment). */
  get revision(): U64 {
    return toU64((BigInt(this.#epoch) << SHIFT) + this.#counter);
  }

  /**
   * Increments and returns the revision (reference `++global_revision`).
   *
   * @returns The new revision.
   * @throws {RangeError} After 2^32 - 1 revisions in one epoch.
   */
  nextRevision(): U64 {
    if (this.#counter >= COUNTER_MAX) {
      throw new RangeError("revision counter exhausted for this epoch");
    }
    this.#counter++;
    return this.revision;
  }

  /** Increases on every accepted index and every removal. */
  get updateId(): number {
    return this.#updateId;
  }

  /** Shard ids with a stored index, ascending. */
  get shardIds(): number[] {
    return [...this.#indexes.keys()].sort((a, b) => a - b);
  }

  /**
   * Offers an index through the gate.
   *
   * @param index The index (stored by reference; do not mutate it later).
   * @returns True when stored (newer or equal key), false when dropped.
   * @throws {RangeError} When its shard id, revision or generation is out of range.
   */
  offer(index: ShardIndex): boolean {
    const id = index.shard_id;
    if (!Number.isInteger(id) || id < 0 || id > 0xffffffff) {
      throw new RangeError(`shard id must be a u32, got ${id}`);
    }
    toBig(index.revision, "revision");
    toBig(index.index_generation, "index_generation");
    const current = this.#indexes.get(id);
    if (
      current !== undefined && compareIndexKeys(index, current, this.#epoch) < 0
    ) {
      return false;
    }
    this.#indexes.set(id, index);
    this.#updateId++;
    return true;
  }

  /**
   * The stored index of a shard.
   *
   * @param shardId A shard id.
   * @returns The index, or `undefined`.
   */
  get(shardId: number): ShardIndex | undefined {
    return this.#indexes.get(shardId);
  }

  /**
   * Forgets a shard's index (e.g. the shard left the layout).
   *
   * @param shardId A shard id.
   * @returns True when an index was stored.
   */
  delete(shardId: number): boolean {
    const had = this.#indexes.delete(shardId);
    if (had) this.#updateId++;
    return had;
  }

  /**
   * Forgets every shard not in `shardIds`.
   *
   * @param shardIds The shards to keep.
   * @returns The removed shard ids, ascending.
   */
  retain(shardIds: Iterable<number>): number[] {
    const keep = new Set(shardIds);
    const removed = this.shardIds.filter((id) => !keep.has(id));
    for (const id of removed) this.delete(id);
    return removed;
  }
}
