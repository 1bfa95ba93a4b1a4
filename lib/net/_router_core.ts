/**
 * Glue between the router's I/O side and the pure router core
 * (`lib/router/`): the revision-epoch gate (`ShardStore`) feeding the global
 * symbol index (`SymbolIndex`), plus the restart backoff.
 *
 * @module
 */

import { randomBytes } from "node:crypto";
import { RestartBackoff } from "../router/backoff.ts";
import type { SymbolMatch } from "../router/ranking.ts";
import { ShardStore } from "../router/shard_store.ts";
import { ShardSymbols } from "../router/shard_symbols.ts";
import { SymbolIndex } from "../router/symbol_index.ts";
import type { ShardIndex, U64 } from "../wire/types.ts";
import type { SupervisorBackoff } from "./supervisor.ts";

/** Options for {@link RouterIndexStore.offer}. */
export interface OfferOptions {
  /** Store without installing in the search index (call `commit()` later). */
  defer?: boolean;
}

/**
 * The per-shard index store (revision epochs) plus the global symbol index.
 * Every revision handed out carries this run's epoch, so an index built in
 * this run always outranks a cache written by an earlier run.
 *
 * @example
 * ```ts
 * import { RouterIndexStore } from "./_router_core.ts";
 * const store = new RouterIndexStore(5);
 * const old = { shard_id: 0, revision: 9, index_generation: 9,
 *   symbols: [{ name: "Old", path: "A.java", line: 0, column: 0 }] };
 * console.assert(store.offer(old)); // an earlier run's cache: accepted while empty
 * const fresh = { shard_id: 0, revision: store.nextRevision(), index_generation: 1,
 *   symbols: [{ name: "Fresh", path: "A.java", line: 0, column: 0 }] };
 * console.assert(store.offer(fresh) && !store.offer(old));
 * console.assert(store.search("", 10)[0].symbol.name === "Fresh");
 * ```
 */
export class RouterIndexStore {
  #store: ShardStore;
  #index = new SymbolIndex();
  #deferred = new Map<number, ShardSymbols>();

  /** Creates a store with a random, non-zero epoch (or the given one). */
  constructor(epoch?: number) {
    this.#store = new ShardStore({
      epoch: epoch ?? (randomBytes(4).readUInt32LE(0) || 1),
    });
  }

  /** The current revision. */
  get revision(): U64 {
    return this.#store.revision;
  }

  /** Advances and returns the revision. */
  nextRevision(): U64 {
    return this.#store.nextRevision();
  }

  /** Offers an index (fresh or cached) to the gate; true when accepted. */
  offer(index: ShardIndex, options?: OfferOptions): boolean {
    if (!this.#store.offer(index)) return false;
    const shard = index.shard_id;
    const built = new ShardSymbols(shard, index.symbols);
    if (options?.defer) {
      // Work out the shard's distinct paths now, while other shards are
      // still indexing, rather than inside `commit()` (which needs them and
      // runs once the last shard is in).
      void built.paths;
      this.#deferred.set(shard, built);
    } else {
      this.#deferred.delete(shard);
      this.#index.install(built, { stale: this.#index.isStale(shard) });
    }
    return true;
  }

  /** Installs every deferred shard at once. */
  commit(): void {
    for (const [shard, built] of this.#deferred) {
      this.#index.install(built, { stale: this.#index.isStale(shard) });
    }
    this.#deferred.clear();
  }

  /** The accepted index of a shard (symbols empty for a 3.1 summary). */
  get(shard: number): ShardIndex | undefined {
    return this.#store.get(shard);
  }

  /** Flags a shard's symbols as stale (no connected worker) or fresh. */
  setStale(shard: number, stale: boolean): void {
    this.#index.setStale(shard, stale);
  }

  /** Searches the global index (reference ranking). */
  search(query: string, limit: number): SymbolMatch[] {
    return this.#index.workspaceSymbols(query, { limit });
  }

  /** The global symbol index (for distributed planning). */
  get symbolIndex(): SymbolIndex {
    return this.#index;
  }
}

/**
 * The reference restart backoff (50 ms doubling to 5 s, +0-25 % jitter
 * included in `nextDelay()`).
 *
 * @example
 * ```ts
 * import { createRestartBackoff } from "./_router_core.ts";
 * const b = createRestartBackoff();
 * const first = b.nextDelay();
 * console.assert(first >= 50 && first <= 62);
 * ```
 */
export function createRestartBackoff(): SupervisorBackoff {
  return new RestartBackoff();
}
