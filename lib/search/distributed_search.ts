/**
 * Distributed search mode (protocol 3.1): the router-side orchestration of
 * `search_shard_symbols` and the per-shard evaluation the workers run.
 *
 * Every shard is a {@link ShardSearchTarget}: a 3.1 worker answering over
 * the wire, or (for 3.0 workers such as the reference, whose symbols the
 * router keeps in its local index) {@link localSearchTarget}, which runs the
 * very same evaluation on the router's copy. {@link distributedWorkspaceSymbols}
 * then reproduces the router-local index's result exactly:
 *
 * 1. Round 1: every shard applies the candidate rules to itself
 *    ({@link evaluateShardSearch} without `mode`) and reports its top-k plus
 *    its query stats (present trigrams, bucket flag, symbol count, the rule
 *    it used and whether its trigram intersection was non-empty).
 * 2. The global rule follows from the stats (the reference order): empty
 *    workspace, empty query (merge in index order), trigram (a shard's
 *    intersection with the global trigram union is non-empty only when it
 *    holds every trigram of the union, so exactly the shards whose present
 *    set equals the union and that hit contribute, with their round-1
 *    lists), bucket, scan.
 * 3. Round 2, only when needed: shards whose round-1 rule differs from the
 *    global `bucket`/`scan` rule are asked again with `mode`. For `scan` over
 *    more than `FALLBACK_SCAN_LIMIT` symbols the per-shard counts of the
 *    global first symbols come from an extra `mode: "all"` round (rare: no
 *    name in the workspace starts with the query's first byte).
 * 4. The lists are merged with `mergeTopK` under the same total order.
 *
 * Exact when no `(name, path)` appears in two shards (paths routed by the
 * layout); the router-local index additionally hides such duplicates.
 *
 * @example
 * ```ts
 * import { distributedWorkspaceSymbols, localSearchTarget } from "./distributed_search.ts";
 * import { ShardSymbols } from "./shard_symbols.ts";
 * const s = (name: string, path: string) => ({ name, path, line: 0, column: 0 });
 * const targets = [
 *   localSearchTarget(new ShardSymbols(0, [s("FooBar", "a/F.java")])),
 *   localSearchTarget(new ShardSymbols(1, [s("xfbr", "b/X.java")])),
 * ];
 * const found = await distributedWorkspaceSymbols(targets, "fbr");
 * console.assert(found.map((m) => m.symbol.name).join() === "xfbr");
 * ```
 *
 * @module
 */

import type {
  RankedSymbol,
  SearchShardSymbolsRequest,
  Symbol,
  SymbolMatches,
  U64,
} from "../wire/types.ts";
import {
  type DistributedPlan,
  fallbackPlan,
  planFromStats,
  scanCounts,
  searchShardSymbols,
  shardQueryStats,
} from "./distributed.ts";
import { mergeTopK } from "./merge.ts";
import type { SymbolMatch } from "./ranking.ts";
import type { ShardSymbols } from "./shard_symbols.ts";
import { FALLBACK_SCAN_LIMIT, WORKSPACE_SYMBOL_LIMIT } from "./symbol_index.ts";

const U32_MAX = 0xffff_ffff;

/** One shard as seen by the distributed search. */
export interface ShardSearchTarget {
  /** The shard id. */
  readonly shardId: number;
  /** Flag results stale (e.g. a router-local copy of a disconnected shard). */
  readonly stale?: boolean;
  /** Runs one `search_shard_symbols` request on the shard. */
  search(
    request: SearchShardSymbolsRequest,
  ): SymbolMatches | Promise<SymbolMatches>;
}

/** Options for {@link evaluateShardSearch}. */
export interface EvaluateShardSearchOptions {
  /**
   * Revision reported in the answer.
   * @default {0}
   */
  revision?: U64;
  /**
   * Index generation reported in the answer.
   * @default {0}
   */
  indexGeneration?: U64;
}

/**
 * Evaluates a `search_shard_symbols` request on one shard's symbols (what a
 * 3.1 worker runs).
 *
 * @param shard The shard's prepared symbols.
 * @param request The request.
 * @param options Revision and generation to report.
 * @returns The `symbol_matches` body.
 * @throws {RangeError} For mode `unknown`.
 *
 * @example
 * ```ts
 * import { evaluateShardSearch } from "./distributed_search.ts";
 * import { ShardSymbols } from "./shard_symbols.ts";
 * const shard = new ShardSymbols(0, [{ name: "foobar", path: "F.java", line: 0, column: 0 }]);
 * const body = evaluateShardSearch(shard, { type: "search_shard_symbols", query: "fo", limit: 5 });
 * console.assert(body.mode === "bucket" && body.matches[0].kind === "prefix");
 * ```
 */
export function evaluateShardSearch(
  shard: ShardSymbols,
  request: SearchShardSymbolsRequest,
  options?: EvaluateShardSearchOptions,
): SymbolMatches {
  const query = request.query;
  const stats = shardQueryStats(shard, query);
  const limit = Math.min(request.limit, shard.size);
  let plan: DistributedPlan;
  if (request.mode === undefined) {
    plan = planFromStats(query, [stats]);
  } else if (request.mode === "unknown") {
    throw new RangeError("unknown search mode");
  } else {
    plan = {
      query,
      mode: request.mode,
      trigrams: request.mode === "trigram" ? stats.trigrams : [],
      bucket: stats.bucket,
    };
  }
  const scanCount = request.scan_count;
  let result = searchShardSymbols(shard, plan, { limit, scanCount });
  if (request.mode === undefined && plan.mode === "trigram" && !result.hit) {
    plan = fallbackPlan(plan);
    result = searchShardSymbols(shard, plan, { limit });
  }
  return {
    shard_id: shard.shardId,
    revision: options?.revision ?? 0,
    index_generation: options?.indexGeneration ?? 0,
    symbol_count: Math.min(shard.size, U32_MAX),
    mode: plan.mode,
    hit: result.hit,
    bucket: stats.bucket,
    trigrams: stats.trigrams,
    matches: result.matches.map((m): RankedSymbol => ({
      name: m.symbol.name,
      path: m.symbol.path,
      line: m.symbol.line,
      column: m.symbol.column,
      kind: m.kind,
      score: m.score,
    })),
  };
}

/**
 * A target that searches a router-local copy of a shard (3.0 workers).
 *
 * @param shard The shard's prepared symbols.
 * @param stale Flag its results stale.
 * @returns The target.
 *
 * @example
 * ```ts
 * import { localSearchTarget } from "./distributed_search.ts";
 * import { ShardSymbols } from "./shard_symbols.ts";
 * const t = localSearchTarget(new ShardSymbols(4, []), true);
 * console.assert(t.shardId === 4 && t.stale === true);
 * ```
 */
export function localSearchTarget(
  shard: ShardSymbols,
  stale = false,
): ShardSearchTarget {
  return {
    shardId: shard.shardId,
    stale,
    search: (request) => evaluateShardSearch(shard, request),
  };
}

/** Options for {@link distributedWorkspaceSymbols}. */
export interface DistributedSearchOptions {
  /**
   * Maximum number of results (a non-negative integer).
   * @default {200}
   */
  limit?: number;
  /**
   * Remembers the scan rule's per-shard counts (they depend only on the
   * shards' indexes, not on the query) so the extra counting round runs once
   * per combination of shard revisions and generations. Reuse one cache per
   * workspace.
   */
  scanCache?: ScanCountCache;
}

/**
 * Per-shard counts of the global first `FALLBACK_SCAN_LIMIT` symbols, kept
 * for one combination of shard indexes (keyed by every shard's id,
 * revision, generation and size as reported in round 1).
 *
 * @example
 * ```ts
 * import { ScanCountCache } from "./distributed_search.ts";
 * const cache = new ScanCountCache();
 * cache.set("k", [1, 2]);
 * console.assert(cache.get("k")?.[1] === 2 && cache.get("other") === undefined);
 * ```
 */
export class ScanCountCache {
  #key: string | undefined;
  #counts: number[] | undefined;

  /**
   * The counts stored for a key.
   *
   * @param key The index combination.
   * @returns The counts, or `undefined` for another key.
   */
  get(key: string): readonly number[] | undefined {
    return key === this.#key ? this.#counts : undefined;
  }

  /**
   * Stores the counts for a key (replacing any other entry).
   *
   * @param key The index combination.
   * @param counts One count per target, in target order.
   */
  set(key: string, counts: number[]): void {
    this.#key = key;
    this.#counts = counts;
  }
}

function versionKey(
  targets: readonly ShardSearchTarget[],
  answers: readonly SymbolMatches[],
): string {
  return JSON.stringify(answers.map((a, i) => [
    targets[i].shardId,
    String(a.revision),
    String(a.index_generation),
    a.symbol_count,
  ]));
}

function toMatches(
  body: SymbolMatches,
  target: ShardSearchTarget,
): SymbolMatch[] {
  const stale = target.stale ?? false;
  return body.matches.map((m) => ({
    symbol: { name: m.name, path: m.path, line: m.line, column: m.column },
    shardId: target.shardId,
    stale,
    kind: m.kind,
    score: m.score,
  }));
}

function sameSet(a: readonly number[], b: readonly number[]): boolean {
  if (a.length !== b.length) return false;
  const sorted = [...a].sort((x, y) => x - y);
  return sorted.every((v, i) => v === b[i]);
}

/**
 * Searches every shard and merges the per-shard top-k lists; equal to the
 * router-local `SymbolIndex.workspaceSymbols` over the same shards.
 *
 * @param targets One target per shard (distinct shard ids).
 * @param query The query.
 * @param options The result limit.
 * @returns At most `limit` results, best first.
 * @throws {RangeError} When `limit` is not a non-negative integer.
 *
 * @example
 * ```ts
 * import { distributedWorkspaceSymbols, localSearchTarget } from "./distributed_search.ts";
 * import { ShardSymbols } from "./shard_symbols.ts";
 * const t = localSearchTarget(new ShardSymbols(0, [{ name: "Zed", path: "Z.java", line: 0, column: 0 }]));
 * console.assert((await distributedWorkspaceSymbols([t], "", { limit: 1 })).length === 1);
 * ```
 */
export async function distributedWorkspaceSymbols(
  targets: readonly ShardSearchTarget[],
  query: string,
  options?: DistributedSearchOptions,
): Promise<SymbolMatch[]> {
  const limit = options?.limit ?? WORKSPACE_SYMBOL_LIMIT;
  if (!Number.isInteger(limit) || limit < 0 || limit > U32_MAX) {
    throw new RangeError(`limit must be a non-negative integer, got ${limit}`);
  }
  if (typeof query !== "string") throw new TypeError("query must be a string");
  if (limit === 0 || targets.length === 0) return [];
  const ask = (
    t: ShardSearchTarget,
    extra?: Partial<SearchShardSymbolsRequest>,
  ) =>
    Promise.resolve(
      t.search({ type: "search_shard_symbols", query, limit, ...extra }),
    );
  const first = await Promise.all(targets.map((t) => ask(t)));
  if (first.every((r) => r.symbol_count === 0)) return [];
  if (query === "") {
    return mergeTopK(first.map((r, i) => toMatches(r, targets[i])), {
      limit,
      indexOrder: true,
    });
  }
  const union = [...new Set(first.flatMap((r) => r.trigrams))].sort((a, b) =>
    a - b
  );
  if (union.length > 0) {
    // A hit counts even when none of its candidates matches the query:
    // the trigram rule still applies (no fallback), as in the local index.
    const winners = first.map((r) =>
      r.mode === "trigram" && r.hit && sameSet(r.trigrams, union)
    );
    if (winners.some((w) => w)) {
      return mergeTopK(
        first.map((r, i) => winners[i] ? toMatches(r, targets[i]) : []),
        { limit },
      );
    }
  }
  if (first.some((r) => r.bucket)) {
    const lists = await Promise.all(first.map(async (r, i) => {
      if (!r.bucket) return [];
      const body = r.mode === "bucket"
        ? r
        : await ask(targets[i], { mode: "bucket" });
      return toMatches(body, targets[i]);
    }));
    return mergeTopK(lists, { limit });
  }
  const counts = await scanCountsOf(targets, first, options?.scanCache);
  const lists = await Promise.all(first.map(async (r, i) => {
    const count = counts[i];
    if (count === 0) return [];
    const body = r.mode === "scan" &&
        count === Math.min(r.symbol_count, FALLBACK_SCAN_LIMIT)
      ? r
      : await ask(targets[i], { mode: "scan", scan_count: count });
    return toMatches(body, targets[i]);
  }));
  return mergeTopK(lists, { limit });
}

/** Per target: how many of its first symbols the global scan covers. */
async function scanCountsOf(
  targets: readonly ShardSearchTarget[],
  first: readonly SymbolMatches[],
  cache: ScanCountCache | undefined,
): Promise<readonly number[]> {
  const total = first.reduce((n, r) => n + r.symbol_count, 0);
  if (total <= FALLBACK_SCAN_LIMIT) return first.map((r) => r.symbol_count);
  const key = versionKey(targets, first);
  const cached = cache?.get(key);
  if (cached !== undefined) return cached;
  const prefixes = await Promise.all(
    targets.map((t) =>
      Promise.resolve(t.search({
        type: "search_shard_symbols",
        query: "",
        limit: FALLBACK_SCAN_LIMIT,
        mode: "all",
      }))
    ),
  );
  const byId = new Map<number, Symbol[]>(
    prefixes.map((p, i) => [
      targets[i].shardId,
      p.matches.map((m) => ({
        name: m.name,
        path: m.path,
        line: m.line,
        column: m.column,
      })),
    ]),
  );
  const counts = scanCounts(byId, FALLBACK_SCAN_LIMIT);
  const out = targets.map((t) => counts.get(t.shardId) ?? 0);
  // Cache only when no shard changed between the rounds.
  if (cache !== undefined && versionKey(targets, prefixes) === key) {
    cache.set(key, out);
  }
  return out;
}
