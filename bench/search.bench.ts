/**
 * `workspaceSymbols` latency over 1,000,000 generated symbols (4 shards),
 * short (2-3 byte) and long (10+ byte) queries. The index is built once at
 * module level. For p50/p99 over many queries run `bench/search_latency.ts`.
 */

import { mergeTopK } from "../lib/router/merge.ts";
import { SymbolIndex } from "../lib/router/symbol_index.ts";
import { generateQueries, generateShards } from "./_symbols.ts";

const SYMBOLS = 1_000_000;
const index = new SymbolIndex();
generateShards(SYMBOLS, 4).forEach((list, id) => index.replaceShard(id, list));
const { short, long } = generateQueries(200);
// One warm-up pass so the first measured group does not pay for JIT
// compilation and the collection of the build's garbage.
for (const q of [...short, ...long]) index.workspaceSymbols(q);

let i = 0;
Deno.bench({
  name: "workspaceSymbols short query (2-3 bytes), 1M symbols",
  group: "search",
  baseline: true,
  fn() {
    index.workspaceSymbols(short[i++ % short.length]);
  },
});

let j = 0;
Deno.bench({
  name: "workspaceSymbols long query (10+ bytes), 1M symbols",
  group: "search",
  fn() {
    index.workspaceSymbols(long[j++ % long.length]);
  },
});

// Distributed-search shape: one plan, every shard's own top-k, then a merge
// (the wire round trips of the real mode are not included).
function distributed(query: string): void {
  const plan = index.plan(query);
  mergeTopK(
    index.shardIds.map((id) => index.searchShard(plan, id)),
    { indexOrder: query === "" },
  );
}

let k = 0;
Deno.bench({
  name: "plan + per-shard top-k + merge, short query, 1M symbols",
  group: "search-merged",
  baseline: true,
  fn() {
    distributed(short[k++ % short.length]);
  },
});

let l = 0;
Deno.bench({
  name: "plan + per-shard top-k + merge, long query, 1M symbols",
  group: "search-merged",
  fn() {
    distributed(long[l++ % long.length]);
  },
});
