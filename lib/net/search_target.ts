/**
 * Distributed search mode (protocol 3.1): a worker connection as a
 * `ShardSearchTarget` for `distributedWorkspaceSymbols`
 * (`lib/search/distributed_search.ts`). Use it only for connections whose
 * `welcome.chosen_version` is 3.1 or later (`supportsDistributedSearch`);
 * 3.0 shards are searched through the router-local copy
 * (`localSearchTarget`).
 *
 * @example
 * ```ts
 * import { connectionSearchTarget } from "./search_target.ts";
 * import type { Connection } from "./connection.ts";
 * const body = { shard_id: 2, revision: 1, index_generation: 1, symbol_count: 0,
 *   mode: "none" as const, hit: false, bucket: false, trigrams: [], matches: [] };
 * const conn = { call: () => Promise.resolve({ type: "symbol_matches", body }) } as unknown as Connection;
 * const target = connectionSearchTarget(conn, 2);
 * const got = await target.search({ type: "search_shard_symbols", query: "x", limit: 1 });
 * console.assert(got.shard_id === 2);
 * ```
 *
 * @module
 */

import type { ShardSearchTarget } from "../router/distributed_search.ts";
import { ERROR_CODES, ProtocolError } from "../wire/errors.ts";
import type { SymbolMatches } from "../wire/types.ts";
import type { CallOptions, Connection } from "./connection.ts";

/**
 * Wraps a 3.1 worker connection as a search target. Answers other than
 * `symbol_matches` for the right shard reject with `unexpected_response`;
 * call failures (remote errors, `timeout`, `cancelled`, `connection_closed`)
 * propagate as the connection reports them.
 *
 * @param conn The worker connection.
 * @param shardId The shard it serves.
 * @param options Per-call timeout and abort signal.
 * @returns The target.
 */
export function connectionSearchTarget(
  conn: Connection,
  shardId: number,
  options?: CallOptions,
): ShardSearchTarget {
  return {
    shardId,
    async search(request): Promise<SymbolMatches> {
      const response = await conn.call(request, options);
      if (response.type !== "symbol_matches") {
        throw new ProtocolError(
          ERROR_CODES.UNEXPECTED_RESPONSE,
          `unexpected worker response: ${response.type}`,
          { remote: true },
        );
      }
      if (response.body.shard_id !== shardId) {
        throw new ProtocolError(
          ERROR_CODES.UNEXPECTED_RESPONSE,
          `worker answered for shard ${response.body.shard_id} (expected ${shardId})`,
          { remote: true },
        );
      }
      return response.body;
    },
  };
}
