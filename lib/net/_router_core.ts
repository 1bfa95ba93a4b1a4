/**
 * Glue between the router's I/O side and the pure router core
 * (`lib/router/`): the per-shard index store with its revision gate, the
 * global symbol index, and the restart backoff.
 *
 * @module
 */

import type { SymbolMatch } from "../router/ranking.ts";
import { ShardSymbols } from "../router/shard_symbols.ts";
import { SymbolIndex } from "../router/symbol_index.ts";
import type { ShardIndex, U64 } from "../wire/types.ts";
import type { RestartBackoff } from "./supervisor.ts";

/** Options for {@link ShardStore.apply}. */
export interface ApplyOptions {
  /** Store without rebuilding the global index (call `commit()` later). */
  defer?: boolean;
}

/** The per-shard index store plus the global symbol index. */
export interface ShardStore {
  /** Applies an index built during this router run. */
  apply(shard: number, index: ShardIndex, options?: ApplyOptions): boolean;
  /** Applies a worker's cached index (from any run). */
  applyCached(shard: number, index: ShardIndex): boolean;
  /** Rebuilds the global index after deferred applies. */
  commit(): void;
  /** Flags a shard's symbols as stale (no connected worker) or fresh. */
  setStale(shard: number, stale: boolean): void;
  /** Searches the global index. */
  search(query: string, limit: number): SymbolMatch[];
}

function big(v: U64): bigint {
  return typeof v === "bigint" ? v : BigInt(v);
}

interface Stored {
  /** 1 for this run's indexes, 0 for caches of unknown age. */
  epoch: number;
  revision: bigint;
  generation: bigint;
  index: ShardIndex;
}

function compareKey(a: Stored, b: Stored): number {
  if (a.epoch !== b.epoch) return a.epoch - b.epoch;
  if (a.revision !== b.revision) return a.revision < b.revision ? -1 : 1;
  if (a.generation !== b.generation) {
    return a.generation < b.generation ? -1 : 1;
  }
  return 0;
}

/** Creates the store for one router run. */
export function createShardStore(_epoch: number): ShardStore {
  const keys = new Map<number, Stored>();
  const index = new SymbolIndex();
  const deferred = new Map<number, ShardSymbols>();
  const put = (shard: number, next: Stored, defer: boolean): boolean => {
    const cur = keys.get(shard);
    if (cur !== undefined && compareKey(next, cur) < 0) return false;
    keys.set(shard, next);
    const built = new ShardSymbols(shard, next.index.symbols);
    if (defer) deferred.set(shard, built);
    else {
      deferred.delete(shard);
      index.install(built, { stale: index.isStale(shard) });
    }
    return true;
  };
  return {
    apply(shard, idx, options) {
      return put(shard, {
        epoch: 1,
        revision: big(idx.revision),
        generation: big(idx.index_generation),
        index: idx,
      }, options?.defer ?? false);
    },
    applyCached(shard, idx) {
      return put(shard, {
        epoch: 0,
        revision: big(idx.revision),
        generation: big(idx.index_generation),
        index: idx,
      }, false);
    },
    commit() {
      for (const [shard, built] of deferred) {
        index.install(built, { stale: index.isStale(shard) });
      }
      deferred.clear();
    },
    setStale(shard, stale) {
      index.setStale(shard, stale);
    },
    search(query, limit) {
      return index.workspaceSymbols(query, { limit });
    },
  };
}

/** The reference restart backoff: 50 ms doubling to 5 s. */
export function createRestartBackoff(): RestartBackoff {
  let next = 50;
  return {
    nextDelay() {
      const d = next;
      next = Math.min(next * 2, 5000);
      return d;
    },
    reset() {
      next = 50;
    },
  };
}
