/**
 * Worker side of distributed search mode (protocol 3.1), pure and I/O free.
 *
 * {@link WorkerSearch} answers `search_shard_symbols` from the worker's
 * searchable index: the last index it built, else the one it loaded from its
 * cache (`LoadFiles` does not change it, as in the reference design). It
 * reuses the router's per-shard evaluation (`evaluateShardSearch` in
 * `lib/search/distributed_search.ts`), so a worker's top-k is exactly what
 * the router would compute on a local copy of the shard:
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
  ProtocolVersion,
  Request,
  RpcResult,
  SearchShardSymbolsRequest,
  ShardIndex,
  SupportedVersions,
  SymbolMatches,
} from "../wire/types.ts";
import { evaluateShardSearch } from "../search/distributed_search.ts";
import { ShardSymbols } from "../search/shard_symbols.ts";

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
    return evaluateShardSearch(this.#shard, request, {
      revision: index?.revision ?? 0,
      indexGeneration: index?.index_generation ?? 0,
    });
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

/**
 * The protocol versions a worker with distributed search offers: 3.0 to
 * 3.1. A 3.0 router (like the reference) chooses 3.0 and never sends the
 * 3.1 requests; a 3.1 router chooses 3.1.
 *
 * @example
 * ```ts
 * import { DISTRIBUTED_SEARCH_VERSIONS } from "./search.ts";
 * console.assert(DISTRIBUTED_SEARCH_VERSIONS.max.minor === 1);
 * ```
 */
export const DISTRIBUTED_SEARCH_VERSIONS: Readonly<SupportedVersions> = Object
  .freeze({
    min: Object.freeze({ major: 3, minor: 0 }),
    max: Object.freeze({ major: 3, minor: 1 }),
  });

/**
 * Whether a negotiated version enables distributed search mode (3.1+).
 *
 * @param version The chosen version (from the `Welcome`).
 * @returns True for 3.1 and later 3.x versions.
 *
 * @example
 * ```ts
 * import { supportsDistributedSearch } from "./search.ts";
 * console.assert(supportsDistributedSearch({ major: 3, minor: 1 }));
 * console.assert(!supportsDistributedSearch({ major: 3, minor: 0 }));
 * ```
 */
export function supportsDistributedSearch(version: ProtocolVersion): boolean {
  return version.major === 3 && version.minor >= 1;
}
