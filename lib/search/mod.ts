/**
 * Symbol search shared by the worker and the router: the fuzzy matcher and
 * its ranking, a shard's symbol table with trigram buckets, the
 * router-local global index, top-k selection, and the distributed plan and
 * merge (protocol 3.1). Pure: no I/O.
 *
 * @example Index and search
 * ```ts
 * import { SymbolIndex } from "./mod.ts";
 * const index = new SymbolIndex();
 * const path = "/w/b/src/p/HashMap.java";
 * index.replaceShard(1, [{ name: "HashMap", path, line: 2, column: 13 }]);
 * const [hit] = index.workspaceSymbols("hm");
 * console.assert(hit.symbol.name === "HashMap" && hit.shardId === 1);
 * ```
 *
 * @module
 */

export * from "./distributed.ts";
export * from "./distributed_search.ts";
export * from "./fuzzy.ts";
export * from "./merge.ts";
export * from "./ranking.ts";
export * from "./shard_symbols.ts";
export * from "./symbol_index.ts";
// The `./wire` message types the signatures here use.
export type * from "../wire/types.ts";
