/**
 * A bounded best-k collector over (shard, symbol id) candidates under the
 * total order of `ranking.ts`, with a numeric fast path for the common case.
 *
 * @module
 */

import type { ShardSymbols } from "./shard_symbols.ts";

const LEN_BITS = 262144; // 2^18: name lengths up to 262143 bytes order exactly
const SCORE_BIAS = 2147483648; // 2^31

/**
 * Packs `(kind rank desc, score desc, name byte length asc)` into one number
 * (higher is better). Exact for i32 scores and names shorter than 2^18 bytes
 * (wire names are at most 16 KiB).
 */
export function rankKey(rank: number, score: number, len: number): number {
  const l = len < LEN_BITS ? len : LEN_BITS - 1;
  return (rank * 4294967296 + (score + SCORE_BIAS)) * LEN_BITS +
    (LEN_BITS - 1 - l);
}

/** One collected candidate. */
export interface Candidate {
  shard: ShardSymbols;
  id: number;
  rank: number;
  score: number;
  key: number;
}

/** Negative when `a` ranks before `b` (see `compareSymbolMatches`). */
export function compareCandidates(a: Candidate, b: Candidate): number {
  if (a.key !== b.key) return b.key - a.key;
  if (a.shard === b.shard) return a.id - b.id; // index order within a shard
  const sa = a.shard.symbolAt(a.id);
  const sb = b.shard.symbolAt(b.id);
  return a.shard.compareNames(a.id, b.shard, b.id) ||
    a.shard.comparePaths(a.id, b.shard, b.id) ||
    sa.line - sb.line || sa.column - sb.column ||
    a.shard.shardId - b.shard.shardId;
}

/** Keeps the best `limit` candidates; the heap root is the worst kept. */
export class TopK {
  #limit: number;
  #heap: Candidate[] = [];

  constructor(limit: number) {
    this.#limit = limit;
  }

  /**
   * The key a candidate must reach to be considered (`-Infinity` while the
   * collector is not full).
   */
  get threshold(): number {
    return this.#heap.length < this.#limit ? -Infinity : this.#heap[0].key;
  }

  /** Offers one candidate. */
  offer(
    shard: ShardSymbols,
    id: number,
    rank: number,
    score: number,
  ): void {
    if (this.#limit === 0) return;
    const key = rankKey(rank, score, shard.nameLength(id));
    const heap = this.#heap;
    if (heap.length === this.#limit) {
      const worst = heap[0];
      if (key < worst.key) return;
      const c: Candidate = { shard, id, rank, score, key };
      if (key === worst.key && compareCandidates(c, worst) >= 0) return;
      heap[0] = c;
      this.#down(0);
      return;
    }
    heap.push({ shard, id, rank, score, key });
    this.#up(heap.length - 1);
  }

  /** The kept candidates, best first. */
  sorted(): Candidate[] {
    return this.#heap.slice().sort(compareCandidates);
  }

  #up(i: number): void {
    const heap = this.#heap;
    const c = heap[i];
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (compareCandidates(heap[p], c) >= 0) break;
      heap[i] = heap[p];
      i = p;
    }
    heap[i] = c;
  }

  #down(i: number): void {
    const heap = this.#heap;
    const n = heap.length;
    const c = heap[i];
    for (;;) {
      let w = 2 * i + 1;
      if (w >= n) break;
      if (w + 1 < n && compareCandidates(heap[w + 1], heap[w]) > 0) w++;
      if (compareCandidates(heap[w], c) <= 0) break;
      heap[i] = heap[w];
      i = w;
    }
    heap[i] = c;
  }
}
