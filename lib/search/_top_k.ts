/**
 * A bounded best-k collector over (shard, symbol id) candidates under the
 * total order of `ranking.ts`, with a numeric fast path for the common case.
 *
 * @module
 */

import { foldByte, type FuzzyMatcher, PREFIX_SCORE_BASE } from "./fuzzy.ts";
import type { IdRange, ShardSymbols } from "./shard_symbols.ts";

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

/** Options for {@link collectShard}. */
export interface CollectOptions {
  /** The collector's limit. */
  limit: number;
  /** Per-id flags of hidden duplicates (non-zero = skip), if any. */
  hidden?: Uint8Array;
}

/**
 * Scores one shard's candidates into `top`.
 *
 * Fast paths that never change the result:
 * - a shard with at least `limit` prefix matches answers from its prefix
 *   ranges alone (every prefix match is a candidate under every selection
 *   rule and outranks every fuzzy match);
 * - every fuzzy alignment pays exactly one point per unmatched byte and earns
 *   at most 27 per query byte plus 5 per consecutive step, so a name of `n`
 *   bytes scores at most `33m - 5 - n`; below the collector's threshold only
 *   a prefix match can still enter, and the DP is skipped.
 */
export function collectShard(
  shard: ShardSymbols,
  cands: Uint32Array | readonly IdRange[],
  matcher: FuzzyMatcher,
  top: TopK,
  options: CollectOptions,
): void {
  const { limit, hidden } = options;
  if (limit === 0) return;
  const folded = matcher.foldedQueryBytes;
  const prefix = shard.prefixRanges(folded);
  let count = 0;
  for (const [lo, hi] of prefix) {
    if (hidden === undefined) count += hi - lo;
    else for (let id = lo; id < hi; id++) count += hidden[id] === 0 ? 1 : 0;
  }
  if (count >= limit) {
    for (const [lo, hi] of prefix) {
      for (let id = lo; id < hi; id++) {
        if (hidden !== undefined && hidden[id] !== 0) continue;
        top.offer(shard, id, 2, PREFIX_SCORE_BASE - shard.nameLength(id));
      }
    }
    return;
  }
  const buf = shard.nameBuffer;
  const off = shard.nameOffsets;
  const m = folded.length;
  const maxFuzzy = 33 * m - 5;
  const score = (id: number) => {
    if (hidden !== undefined && hidden[id] !== 0) return;
    const s = off[id];
    const e = off[id + 1];
    const n = e - s;
    if (rankKey(1, maxFuzzy - n, n) < top.threshold) {
      if (n < m) return;
      for (let i = 0; i < m; i++) {
        if (foldByte(buf[s + i]) !== folded[i]) return;
      }
      top.offer(shard, id, 2, PREFIX_SCORE_BASE - n);
      return;
    }
    const rank = matcher.rankBytes(buf, s, e);
    if (rank !== 0) top.offer(shard, id, rank, matcher.lastScore);
  };
  if (cands instanceof Uint32Array) {
    for (let i = 0; i < cands.length; i++) score(cands[i]);
  } else {
    for (const [lo, hi] of cands as readonly IdRange[]) {
      for (let id = lo; id < hi; id++) score(id);
    }
  }
}
