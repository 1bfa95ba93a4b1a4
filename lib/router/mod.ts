/**
 * The pure core of the loom router: workspace layout and path routing, the
 * fuzzy matcher, the router-local global symbol index, merging of per-shard
 * results, the shard index store with revision epochs, restart backoff and
 * the unsaved-text overlay. No I/O: process supervision and sockets live in
 * `lib/net` and `cli`.
 *
 * @example Route, index and search
 * ```ts
 * import { SymbolIndex, WorkspaceLayout } from "./mod.ts";
 * const layout = new WorkspaceLayout(["/w/a/src", "/w/b/src"]);
 * const index = new SymbolIndex();
 * const path = "/w/b/src/p/HashMap.java";
 * index.replaceShard(layout.routeFile(path), [{ name: "HashMap", path, line: 2, column: 13 }]);
 * const [hit] = index.workspaceSymbols("hm");
 * console.assert(hit.symbol.name === "HashMap" && hit.shardId === 1);
 * ```
 *
 * @module
 */

export * from "./backoff.ts";
export * from "./command_template.ts";
export * from "./distributed.ts";
export * from "./fuzzy.ts";
export * from "./layout.ts";
export * from "./merge.ts";
export * from "./overlay.ts";
export * from "./ranking.ts";
export * from "./shard_store.ts";
export * from "./shard_symbols.ts";
export * from "./symbol_index.ts";
export * from "./symbol_guard.ts";
export type { FileText, ShardIndex, Symbol, U64 } from "../wire/types.ts";
export * from "./distributed_search.ts";
