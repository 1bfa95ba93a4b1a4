/**
 * Pure building blocks of distributed symbol search, where each worker
 * searches its own shard and the router merges the per-shard top-k lists.
 * They reproduce the router-local index's results exactly (the reference's
 * candidate selection is global, so it takes a few rounds):
 *
 * 1. Every shard reports {@link shardQueryStats} for the query.
 * 2. The router makes a plan with {@link planFromStats}.
 * 3. For a `scan` plan only: every shard sends its first
 *    `FALLBACK_SCAN_LIMIT` symbols in index order and the router computes
 *    per-shard counts with {@link scanCounts}. (Rare: no name in the whole
 *    workspace starts with the query's first byte.)
 * 4. Every shard answers {@link searchShardSymbols}.
 * 5. A `trigram` plan that no shard `hit` is replaced by
 *    {@link fallbackPlan} and step 3-4 repeat.
 * 6. The router merges with `mergeTopK` (`indexOrder` for the empty query).
 *
 * Exact when no `(name, path)` appears in two shards (guaranteed when paths
 * are routed by the layout); the router-local index additionally hides such
 * duplicates.
 *
 * @example Two shards, one query
 * ```ts
 * import { planFromStats, searchShardSymbols, shardQueryStats } from "./distributed.ts";
 * import { mergeTopK } from "./merge.ts";
 * import { ShardSymbols } from "./shard_symbols.ts";
 * const s = (name: string, path: string) => ({ name, path, line: 0, column: 0 });
 * const shards = [new ShardSymbols(0, [s("FooBar", "a/F.java")]), new ShardSymbols(1, [s("xfbr", "b/X.java")])];
 * const plan = planFromStats("fbr", shards.map((sh) => shardQueryStats(sh, "fbr")));
 * const merged = mergeTopK(shards.map((sh) => searchShardSymbols(sh, plan).matches));
 * console.assert(plan.mode === "trigram" && merged.map((m) => m.symbol.name).join() === "xfbr");
 * ```
 *
 * @module
 */

import type { Symbol } from "../wire/types.ts";
import { foldByte, FuzzyMatcher, trigramsOfBytes } from "./fuzzy.ts";
import { compareSymbols, type SymbolMatch } from "./ranking.ts";
import type { IdRange, ShardSymbols } from "./shard_symbols.ts";
import {
  FALLBACK_SCAN_LIMIT,
  type SearchMode,
  WORKSPACE_SYMBOL_LIMIT,
} from "./symbol_index.ts";
import { collectShard, TopK } from "./_top_k.ts";

/** What one shard reports about a query (round 1). */
export interface ShardQueryStats {
  /** The shard. */
  shardId: number;
  /** The query's trigrams present in this shard's names, ascending. */
  trigrams: number[];
  /** Whether some name starts with the query's first byte (ASCII-folded). */
  bucket: boolean;
  /** Number of symbols in the shard. */
  size: number;
}

/** A query's global candidate selection, sent to every shard. */
export interface DistributedPlan {
  /** The query. */
  query: string;
  /** The selection rule. */
  mode: SearchMode;
  /** Trigrams to intersect (mode `trigram`): those present in any shard. */
  trigrams: number[];
  /** Whether some shard has a non-empty first-byte bucket. */
  bucket: boolean;
}

/** Options for {@link searchShardSymbols}. */
export interface ShardSearchOptions {
  /**
   * Maximum results.
   * @default {200}
   */
  limit?: number;
  /**
   * The flag copied into every result.
   * @default {false}
   */
  stale?: boolean;
  /**
   * Mode `scan`: how many of this shard's first symbols fall in the global
   * first `FALLBACK_SCAN_LIMIT` (see {@link scanCounts}).
   * @default {50000}
   */
  scanCount?: number;
}

/** One shard's answer. */
export interface ShardSearchResult {
  /** The shard's best results, best first (index order for mode `all`). */
  matches: SymbolMatch[];
  /** Mode `trigram`: whether this shard's intersection was non-empty. */
  hit: boolean;
}

/**
 * A shard's round-1 report for a query.
 *
 * @param shard The shard's symbols.
 * @param query The query.
 * @returns Present trigrams, bucket flag and size.
 *
 * @example
 * ```ts
 * import { shardQueryStats } from "./distributed.ts";
 * import { ShardSymbols } from "./shard_symbols.ts";
 * const shard = new ShardSymbols(0, [{ name: "HashMap", path: "H.java", line: 0, column: 0 }]);
 * const stats = shardQueryStats(shard, "hasz");
 * console.assert(stats.trigrams.length === 1 && stats.bucket && stats.size === 1);
 * ```
 */
export function shardQueryStats(
  shard: ShardSymbols,
  query: string,
): ShardQueryStats {
  const matcher = new FuzzyMatcher(query);
  const bytes = matcher.queryBytes;
  const trigrams = bytes.length >= 3
    ? trigramsOfBytes(bytes).filter((t) => shard.trigrams.has(t))
    : [];
  const bucket = bytes.length > 0 && shard.hasBucket(foldByte(bytes[0]));
  return { shardId: shard.shardId, trigrams, bucket, size: shard.size };
}

/**
 * The global plan from every shard's report (the reference rules).
 *
 * @param query The query.
 * @param stats One report per shard.
 * @returns The plan.
 *
 * @example
 * ```ts
 * import { planFromStats } from "./distributed.ts";
 * const stats = [{ shardId: 0, trigrams: [], bucket: true, size: 3 }];
 * console.assert(planFromStats("fo", stats).mode === "bucket");
 * console.assert(planFromStats("", stats).mode === "all");
 * console.assert(planFromStats("x", []).mode === "none");
 * ```
 */
export function planFromStats(
  query: string,
  stats: readonly ShardQueryStats[],
): DistributedPlan {
  const bucket = stats.some((s) => s.bucket);
  const plan = (mode: SearchMode, trigrams: number[] = []) => ({
    query,
    mode,
    trigrams,
    bucket,
  });
  if (stats.every((s) => s.size === 0)) return plan("none");
  if (query === "") return plan("all");
  const union = [...new Set(stats.flatMap((s) => s.trigrams))].sort((a, b) =>
    a - b
  );
  if (union.length > 0) return plan("trigram", union);
  return plan(bucket ? "bucket" : "scan");
}

/**
 * The plan to use when a `trigram` plan found no candidate in any shard.
 *
 * @param plan The trigram plan.
 * @returns A `bucket` or `scan` plan.
 *
 * @example
 * ```ts
 * import { fallbackPlan } from "./distributed.ts";
 * const plan = { query: "zzzfoo", mode: "trigram" as const, trigrams: [1], bucket: false };
 * console.assert(fallbackPlan(plan).mode === "scan");
 * ```
 */
export function fallbackPlan(plan: DistributedPlan): DistributedPlan {
  return { ...plan, mode: plan.bucket ? "bucket" : "scan", trigrams: [] };
}

/**
 * Per-shard counts of the global first `max` symbols in index order, from
 * each shard's own first symbols (in index order, at least `max` of them or
 * all it has).
 *
 * @param firstSymbols Shard id to that shard's first symbols.
 * @param max How many symbols the scan covers.
 * @returns Shard id to count (the `scanCount` option).
 *
 * @example
 * ```ts
 * import { scanCounts } from "./distributed.ts";
 * const s = (name: string) => ({ name, path: "A.java", line: 0, column: 0 });
 * const counts = scanCounts(new Map([[0, [s("a"), s("c")]], [1, [s("b")]]]), 2);
 * console.assert(counts.get(0) === 1 && counts.get(1) === 1);
 * ```
 */
export function scanCounts(
  firstSymbols: ReadonlyMap<number, readonly Symbol[]>,
  max: number = FALLBACK_SCAN_LIMIT,
): Map<number, number> {
  const ids = [...firstSymbols.keys()].sort((a, b) => a - b);
  const pos = new Map(ids.map((id) => [id, 0]));
  for (let taken = 0; taken < max; taken++) {
    let best: number | undefined;
    for (const id of ids) {
      const list = firstSymbols.get(id)!;
      const p = pos.get(id)!;
      if (p >= list.length) continue;
      if (
        best === undefined ||
        compareSymbols(list[p], firstSymbols.get(best)![pos.get(best)!]) < 0
      ) best = id;
    }
    if (best === undefined) break;
    pos.set(best, pos.get(best)! + 1);
  }
  return pos;
}

/**
 * Evaluates a plan on one shard (the worker side of distributed search).
 *
 * @param shard The shard's symbols.
 * @param plan The global plan.
 * @param options Limit, stale flag and scan count.
 * @returns The shard's best results and its trigram hit flag.
 * @throws {RangeError} When `limit` is not a non-negative integer.
 *
 * @example
 * ```ts
 * import { searchShardSymbols } from "./distributed.ts";
 * import { ShardSymbols } from "./shard_symbols.ts";
 * const shard = new ShardSymbols(0, [{ name: "foobar", path: "F.java", line: 0, column: 0 }]);
 * const plan = { query: "fo", mode: "bucket" as const, trigrams: [], bucket: true };
 * console.assert(searchShardSymbols(shard, plan).matches[0].kind === "prefix");
 * ```
 */
export function searchShardSymbols(
  shard: ShardSymbols,
  plan: DistributedPlan,
  options?: ShardSearchOptions,
): ShardSearchResult {
  const limit = options?.limit ?? WORKSPACE_SYMBOL_LIMIT;
  if (!Number.isInteger(limit) || limit < 0) {
    throw new RangeError(`limit must be a non-negative integer, got ${limit}`);
  }
  const stale = options?.stale ?? false;
  const shardId = shard.shardId;
  if (plan.mode === "none") return { matches: [], hit: false };
  if (plan.mode === "all") {
    const n = Math.min(limit, shard.size);
    const matches: SymbolMatch[] = [];
    for (let id = 0; id < n; id++) {
      matches.push({
        symbol: shard.symbolAt(id),
        shardId,
        stale,
        kind: "prefix",
        score: 0,
      });
    }
    return { matches, hit: false };
  }
  const matcher = new FuzzyMatcher(plan.query);
  let cands: Uint32Array | readonly IdRange[];
  let hit = false;
  if (plan.mode === "trigram") {
    cands = shard.trigrams.intersect(plan.trigrams);
    hit = cands.length > 0;
  } else if (plan.mode === "bucket") {
    cands = shard.prefixRanges(matcher.foldedQueryBytes.subarray(0, 1));
  } else {
    const count = options?.scanCount ?? FALLBACK_SCAN_LIMIT;
    cands = [[0, Math.max(0, Math.min(shard.size, count))]];
  }
  const top = new TopK(limit);
  collectShard(shard, cands, matcher, top, { limit });
  const matches = top.sorted().map((c): SymbolMatch => ({
    symbol: c.shard.symbolAt(c.id),
    shardId,
    stale,
    kind: c.rank === 2 ? "prefix" : "fuzzy",
    score: c.score,
  }));
  return { matches, hit };
}
