/**
 * Merging per-shard top-k result lists (distributed search) under the same
 * total order as the router-local index (`compareSymbolMatches`).
 *
 * @example
 * ```ts
 * import { mergeTopK } from "./merge.ts";
 * const m = (name: string, score: number, shardId: number) => ({
 *   symbol: { name, path: `${name}.java`, line: 0, column: 0 },
 *   shardId, stale: false, kind: "fuzzy" as const, score,
 * });
 * const merged = mergeTopK([[m("a", 50, 0), m("b", 10, 0)], [m("c", 30, 1)]], {
 *   limit: 2,
 * });
 * console.assert(merged.map((x) => x.symbol.name).join() === "a,c");
 * ```
 *
 * @module
 */

import {
  compareSymbolMatches,
  compareSymbols,
  type SymbolMatch,
} from "./ranking.ts";
import { WORKSPACE_SYMBOL_LIMIT } from "./symbol_index.ts";

/** Options for {@link mergeTopK}. */
export interface MergeTopKOptions {
  /**
   * Maximum number of merged results (a non-negative integer).
   * @default {200}
   */
  limit?: number;
  /**
   * Merge in index order `(name, path, line, column, shard)` instead of rank
   * order: an empty query's results are the first symbols in index order.
   * @default {false}
   */
  indexOrder?: boolean;
}

function compareIndexOrder(a: SymbolMatch, b: SymbolMatch): number {
  return compareSymbols(a.symbol, b.symbol) || a.shardId - b.shardId;
}

/**
 * Merges lists that are each sorted best first (e.g. every shard's top-k for
 * the same query and limit) into the global best `limit`.
 *
 * Results with the same `(name, path)` are adjacent in the total order; only
 * the first is kept, like the router-local index. With per-shard top-k inputs
 * the merge is exact when no `(name, path)` appears in two shards, which holds
 * whenever paths are routed to shards by the layout.
 *
 * @param lists Sorted result lists (not mutated).
 * @param options The result limit.
 * @returns The merged results, best first.
 * @throws {RangeError} When `limit` is not a non-negative integer.
 *
 * @example Router-local and merged per-shard search agree
 * ```ts
 * import { mergeTopK } from "./merge.ts";
 * import { SymbolIndex } from "./symbol_index.ts";
 * const index = new SymbolIndex();
 * index.replaceShard(0, [{ name: "foobar", path: "a/F.java", line: 0, column: 0 }]);
 * index.replaceShard(1, [{ name: "barfoo", path: "b/B.java", line: 0, column: 0 }]);
 * const plan = index.plan("foo");
 * const merged = mergeTopK(index.shardIds.map((id) => index.searchShard(plan, id)));
 * console.assert(merged.length === 2 && merged[0].symbol.name === "foobar");
 * ```
 */
export function mergeTopK(
  lists: readonly (readonly SymbolMatch[])[],
  options?: MergeTopKOptions,
): SymbolMatch[] {
  const limit = options?.limit ?? WORKSPACE_SYMBOL_LIMIT;
  if (!Number.isInteger(limit) || limit < 0) {
    throw new RangeError(`limit must be a non-negative integer, got ${limit}`);
  }
  const compare = options?.indexOrder
    ? compareIndexOrder
    : compareSymbolMatches;
  const pos = lists.map(() => 0);
  const out: SymbolMatch[] = [];
  while (out.length < limit) {
    let best = -1;
    for (let l = 0; l < lists.length; l++) {
      if (pos[l] >= lists[l].length) continue;
      if (
        best < 0 ||
        compare(lists[l][pos[l]], lists[best][pos[best]]) < 0
      ) best = l;
    }
    if (best < 0) break;
    const next = lists[best][pos[best]++];
    const last = out[out.length - 1];
    if (
      last !== undefined && last.symbol.name === next.symbol.name &&
      last.symbol.path === next.symbol.path
    ) continue;
    out.push(next);
  }
  return out;
}
