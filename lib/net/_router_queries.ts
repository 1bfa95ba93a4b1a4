/**
 * Queries answered for the router's users: symbol search (router-local, or
 * distributed over 3.1 workers that keep their symbols), per-file
 * diagnostics and worker stats.
 *
 * @module
 */

import { resolve as resolvePath } from "node:path";
import { ProtocolError } from "../wire/errors.ts";
import type { RemoteDiagnostic, WorkerStats } from "../wire/types.ts";
import type { CallOptions } from "./router_options.ts";
import { callWorker, waitForWorker } from "./_router_calls.ts";
import type { RouterState } from "./_router_state.ts";
import {
  distributedWorkspaceSymbols,
  localSearchTarget,
  type ShardSearchTarget,
} from "../router/distributed_search.ts";
import type { SymbolMatch } from "../router/ranking.ts";

/**
 * Read budget of one shard's part of a distributed search, in ms (capped
 * by `rpcReadTimeoutMs`). A search is interactive and a worker's top-k is
 * quick, so a worker that has not answered after this long is treated as
 * stuck (its connection is closed, like any call timeout) rather than
 * holding the query for the 10 minute budget of index calls.
 */
const SEARCH_READ_TIMEOUT_MS = 30_000;

/**
 * Runs {@link Router.searchSymbols}: plans a distributed search over the
 * shards whose symbols live on 3.1 workers plus the router-local shards;
 * without remote shards it is a router-local search. Each shard's call has
 * the usual write budget (`rpcWriteTimeoutMs`) and a read budget of at
 * most 30 s after the write.
 *
 * @example
 * ```ts
 * import { searchSymbols } from "./_router_queries.ts";
 * import { RouterState } from "./_router_state.ts";
 * import { normalizeAllowlist } from "./router_config.ts";
 * const st = new RouterState({ roots: ["src"] }, normalizeAllowlist(undefined));
 * console.assert((await searchSymbols(st, "Foo", { limit: 5 })).length === 0);
 * ```
 */
export async function searchSymbols(
  st: RouterState,
  query: string,
  options: { limit?: number; signal?: AbortSignal } = {},
): Promise<SymbolMatch[]> {
  const limit = options.limit ?? 200;
  if (!st.shards.some((s) => s.remote)) {
    return st.store.search(query, limit);
  }
  const targets: ShardSearchTarget[] = [];
  for (const shard of st.shards) {
    const worker = shard.worker;
    if (shard.remote) {
      if (worker?.distributed) {
        targets.push({
          shardId: shard.id,
          search: async (request) => {
            const response = await callWorker(st, worker, request, {
              signal: options.signal,
              timeoutMs: Math.min(
                st.options.rpcReadTimeoutMs ?? SEARCH_READ_TIMEOUT_MS,
                SEARCH_READ_TIMEOUT_MS,
              ),
            });
            if (
              response.type !== "symbol_matches" ||
              response.body.shard_id !== shard.id
            ) {
              throw new ProtocolError(
                "unexpected_response",
                `unexpected worker response: ${response.type}`,
                { remote: true },
              );
            }
            return response.body;
          },
        });
      }
      continue;
    }
    const symbols = st.store.symbolIndex.shard(shard.id);
    if (symbols !== undefined) {
      targets.push(localSearchTarget(symbols, shard.worker === undefined));
    }
  }
  return await distributedWorkspaceSymbols(targets, query, {
    limit,
    scanCache: st.scanCache,
  });
}

/**
 * Diagnostics for a file from its shard's worker; best effort (an empty
 * list on any failure, or when no shard owns the path).
 *
 * @example
 * ```ts
 * import { diagnostics } from "./_router_queries.ts";
 * import { RouterState } from "./_router_state.ts";
 * import { normalizeAllowlist } from "./router_config.ts";
 * const st = new RouterState({ roots: ["src"] }, normalizeAllowlist(undefined));
 * console.assert((await diagnostics(st, "/elsewhere/A.java")).length === 0);
 * ```
 */
export async function diagnostics(
  st: RouterState,
  path: string,
  options: CallOptions = {},
): Promise<RemoteDiagnostic[]> {
  const abs = resolvePath(path);
  const shard = st.shardFor(abs);
  if (shard === undefined || st.closed) return [];
  try {
    const worker = await waitForWorker(st, shard, options.signal);
    const response = await callWorker(st, worker, {
      type: "diagnostics",
      path: abs,
    }, options);
    if (response.type === "diagnostics") return response.body.diagnostics;
    st.log.warn("unexpected diagnostics response", {
      shard_id: shard.id,
    });
  } catch (err) {
    if (!options.signal?.aborted) {
      st.log.warn("diagnostics failed", { shard_id: shard.id, err });
    }
  }
  return [];
}

/**
 * Stats of every shard's worker, asked one shard after another; the first
 * failure rejects.
 *
 * @example
 * ```ts
 * import { workerStats } from "./_router_queries.ts";
 * import { RouterState } from "./_router_state.ts";
 * import { normalizeAllowlist } from "./router_config.ts";
 * const st = new RouterState({ roots: ["src"] }, normalizeAllowlist(undefined));
 * st.closed = true;
 * const err = await workerStats(st).catch((e) => e);
 * console.assert(err.code === "connection_closed");
 * ```
 */
export async function workerStats(
  st: RouterState,
  options: CallOptions = {},
): Promise<Map<number, WorkerStats>> {
  st.ensureOpen();
  const out = new Map<number, WorkerStats>();
  for (const shard of st.shards) {
    const worker = await waitForWorker(st, shard, options.signal);
    const response = await callWorker(
      st,
      worker,
      { type: "get_worker_stats" },
      {
        signal: options.signal,
      },
    );
    if (response.type !== "worker_stats") {
      throw new ProtocolError(
        "unexpected_response",
        `unexpected worker response: ${response.type}`,
        { remote: true },
      );
    }
    if (response.body.shard_id !== shard.id) {
      st.disconnect(shard, worker);
      throw new ProtocolError(
        "unexpected_response",
        `worker ${worker.workerId} returned stats for wrong shard ${response.body.shard_id} (expected ${shard.id})`,
        { remote: true },
      );
    }
    out.set(shard.id, response.body);
  }
  return out;
}
