/**
 * The pure core of the loom router: workspace layout and path routing, the
 * shard index store with revision epochs, restart backoff, worker command
 * templates and the unsaved-text overlay. No I/O: process supervision and
 * sockets live in `lib/net` and `cli`.
 *
 * Symbol search (the fuzzy matcher, ranking, the global symbol index,
 * top-k and the distributed plan/merge) moved to `@loom/loom/search`; its
 * re-exports here are deprecated and go in the next release.
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
export * from "./layout.ts";
export * from "./overlay.ts";
export * from "./shard_store.ts";
export * from "./symbol_guard.ts";
// The `./wire` message types the signatures here use.
export type * from "../wire/types.ts";
// Deprecated: moved to `@loom/loom/search` (see the module doc).
export * from "../search/mod.ts";
