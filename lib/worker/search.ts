/**
 * Worker side of distributed search mode (protocol 3.1), pure and I/O free.
 *
 * {@link WorkerSearch} answers `search_shard_symbols` from the worker's
 * searchable index: the last index it built, else the one it loaded from its
 * cache (`LoadFiles` does not change it, as in the reference design). It
 * reuses the router's per-shard search (`lib/router/distributed.ts`), so a
 * worker's top-k is exactly the shard's share of the router-local result:
 *
 * - without `mode`, the candidate rules run on this shard alone (a trigram
 *   plan that finds nothing falls back to the bucket or scan rule) and the
 *   answer carries the stats the router needs to decide the global plan
 *   (present trigrams, bucket flag, symbol count, the mode used, hit flag);
 * - with `mode` (`bucket`, `scan` with `scan_count`, `all`, `none`,
 *   `trigram` with this shard's present trigrams), the router's global plan
 *   is evaluated as given.
 *
 * {@link omitSymbols} implements the `omit_symbols` request flag: a rebuilt
 * index is answered with `shard_summary` (counters only) instead of the full
 * `shard_index`.
 *
 * @example
 * ```ts
 * import { WorkerSearch } from "./search.ts";
 * const search = new WorkerSearch(3);
 * search.setIndex({ shard_id: 3, revision: 1, index_generation: 1,
 *   symbols: [{ name: "HashMap", path: "/H.java", line: 0, column: 13 }] });
 * const r = search.answer({ type: "search_shard_symbols", query: "hm", limit: 10 });
 * console.assert(r.status === "ok" && r.value.type === "symbol_matches");
 * console.assert(r.status === "ok" && r.value.type === "symbol_matches" && r.value.body.matches[0].name === "HashMap");
 * ```
 *
 * @module
 */

import type {
  RankedSymbol,
  Request,
  RpcResult,
  SearchShardSymbolsRequest,
  ShardIndex,
  SymbolMatches,
} from "../wire/types.ts";
import {
  type DistributedPlan,
  fallbackPlan,
  planFromStats,
  searchShardSymbols,
  shardQueryStats,
} from "../router/distributed.ts";
import { ShardSymbols } from "../router/shard_symbols.ts";

const U32_MAX = 0xffff_ffff;

/**
 * The searchable index of one worker and its prepared search structures.
 *
 * @example A worker without any index answers with no matches
 * ```ts
 * import { WorkerSearch } from "./search.ts";
 * const r = new WorkerSearch(0).answer({ type: "search_shard_symbols", query: "", limit: 5 });
 * console.assert(r.status === "ok" && r.value.type === "symbol_matches" && r.value.body.mode === "none");
 * ```
 */
export class WorkerSearch {
  readonly #shardId: number;
  #index: ShardIndex | undefined;
  #shard: ShardSymbols | undefined;

  /**
   * Creates the search state.
   *
   * @param shardId This worker's shard id.
   * @param cached The index loaded from the cache, searchable at once.
   */
  constructor(shardId: number, cached?: ShardIndex | null) {
    this.#shardId = shardId;
    this.#index = cached ?? undefined;
  }

  /**
   * Replaces the searchable index (after a successful rebuild). The search
   * structures are built lazily, on the next query.
   *
   * @param index The new index.
   */
  setIndex(index: ShardIndex): void {
    this.#index = index;
    this.#shard = undefined;
  }

  /**
   * Answers a `search_shard_symbols` request.
   *
   * @param request The request.
   * @returns `symbol_matches`, or an `invalid_request` error for an unknown
   *   mode.
   */
  answer(request: SearchShardSymbolsRequest): RpcResult {
    if (request.mode === "unknown") {
      return {
        status: "err",
        error: {
          code: "invalid_request",
          message: "unknown search mode",
          retryable: false,
          details: null,
        },
      };
    }
    return {
      status: "ok",
      value: { type: "symbol_matches", body: this.search(request) },
    };
  }

  /**
   * Computes the `symbol_matches` body for a request.
   *
   * @param request The request (`mode` must not be `unknown`).
   * @returns The body.
   * @throws {RangeError} For mode `unknown`.
   */
  search(request: SearchShardSymbolsRequest): SymbolMatches {
    const index = this.#index;
    this.#shard ??= new ShardSymbols(this.#shardId, index?.symbols ?? []);
    const shard = this.#shard;
    const query = request.query;
    const stats = shardQueryStats(shard, query);
    const limit = Math.min(request.limit, shard.size);
    let plan: DistributedPlan;
    let scanCount: number | undefined;
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
      scanCount = request.scan_count;
    }
    let result = searchShardSymbols(shard, plan, { limit, scanCount });
    if (request.mode === undefined && plan.mode === "trigram" && !result.hit) {
      plan = fallbackPlan(plan);
      result = searchShardSymbols(shard, plan, { limit });
    }
    const matches = result.matches.map((m): RankedSymbol => ({
      name: m.symbol.name,
      path: m.symbol.path,
      line: m.symbol.line,
      column: m.symbol.column,
      kind: m.kind,
      score: m.score,
    }));
    return {
      shard_id: this.#shardId,
      revision: index?.revision ?? 0,
      index_generation: index?.index_generation ?? 0,
      symbol_count: Math.min(shard.size, U32_MAX),
      mode: plan.mode,
      hit: result.hit,
      bucket: stats.bucket,
      trigrams: stats.trigrams,
      matches,
    };
  }
}

/**
 * Applies the `omit_symbols` flag of a rebuilding request to its result: a
 * `shard_index` answer becomes a `shard_summary` (counters only). Anything
 * else is returned unchanged.
 *
 * @param request The request that produced the result.
 * @param result Its result.
 * @returns The result to send.
 *
 * @example
 * ```ts
 * import { omitSymbols } from "./search.ts";
 * const index = { shard_id: 0, revision: 2, index_generation: 1, symbols: [] };
 * const r = omitSymbols(
 *   { type: "index_shard", revision: 2, files: [], omit_symbols: true },
 *   { status: "ok", value: { type: "shard_index", body: index } },
 * );
 * console.assert(r.status === "ok" && r.value.type === "shard_summary");
 * ```
 */
export function omitSymbols(request: Request, result: RpcResult): RpcResult {
  if (
    result.status !== "ok" || result.value.type !== "shard_index" ||
    !("omit_symbols" in request) || request.omit_symbols !== true
  ) return result;
  const index = result.value.body;
  return {
    status: "ok",
    value: {
      type: "shard_summary",
      body: {
        shard_id: index.shard_id,
        revision: index.revision,
        index_generation: index.index_generation,
        symbol_count: Math.min(index.symbols.length, U32_MAX),
      },
    },
  };
}
