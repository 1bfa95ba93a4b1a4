/**
 * Distributed search mode (protocol 3.1): p50/p99 latency of router-local
 * `workspaceSymbols` versus distributed search over the same generated
 * symbols. The distributed path runs every shard's `search_shard_symbols`
 * through the codec (request and response encoded and decoded, as on the
 * wire) and merges with `distributedWorkspaceSymbols`; shards answer one
 * after another on this thread, so the figure is the total CPU cost of a
 * query, an upper bound on its latency with workers searching in parallel.
 * Sockets are not included.
 *
 * Usage: deno run bench/distributed_search_latency.ts [symbols] [shards] [queries]
 */

import {
  distributedWorkspaceSymbols,
  ScanCountCache,
  type ShardSearchTarget,
} from "../lib/router/distributed_search.ts";
import { SymbolIndex } from "../lib/router/symbol_index.ts";
import { decodeRpcPayload, encodeRpcPayload } from "../lib/wire/codec.ts";
import { WorkerSearch } from "../lib/worker/search.ts";
import { generateQueries, generateShards } from "./_symbols.ts";

const count = Number(Deno.args[0] ?? 1_000_000);
const shardCount = Number(Deno.args[1] ?? 2);
const queries = Number(Deno.args[2] ?? 200);

const shards = generateShards(count, shardCount);
const index = new SymbolIndex();
const targets: ShardSearchTarget[] = [];
let wireBytes = 0;
shards.forEach((symbols, id) => {
  index.replaceShard(id, symbols);
  const worker = new WorkerSearch(id, {
    shard_id: id,
    revision: 1,
    index_generation: 1,
    symbols,
  });
  targets.push({
    shardId: id,
    search(request) {
      const req = encodeRpcPayload({ type: "request", body: request });
      const decoded = decodeRpcPayload(req);
      if (decoded.type !== "request") throw new Error("bad request");
      const result = worker.answer(
        decoded.body as Parameters<WorkerSearch["answer"]>[0],
      );
      const resp = encodeRpcPayload({ type: "response", body: result });
      wireBytes += req.length + resp.length;
      const back = decodeRpcPayload(resp);
      if (
        back.type !== "response" || back.body.status !== "ok" ||
        back.body.value.type !== "symbol_matches"
      ) throw new Error("bad response");
      return back.body.value.body;
    },
  });
});
// Build every worker's search structures once (as a worker does on its
// first query after a rebuild).
for (const t of targets) {
  t.search({ type: "search_shard_symbols", query: "", limit: 1 });
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)];
}

const { short, long } = generateQueries(queries);
type Search = (q: string) => Promise<number> | number;
const local: Search = (q) => index.workspaceSymbols(q).length;
const scanCache = new ScanCountCache();
const distributed: Search = async (q) =>
  (await distributedWorkspaceSymbols(targets, q, { scanCache })).length;
const uncached: Search = async (q) =>
  (await distributedWorkspaceSymbols(targets, q)).length;
const runs: [string, string[], Search][] = [
  ["router-local short", short, local],
  ["router-local long", long, local],
  ["distributed short", short, distributed],
  ["distributed long", long, distributed],
  ["distributed short, no scan cache", short, uncached],
];
console.log(`${count} symbols, ${shardCount} shards, ${queries} queries`);
for (const [label, list, search] of runs) {
  for (const q of list) await search(q); // warm-up (JIT)
  wireBytes = 0;
  const times: number[] = [];
  for (const q of list) {
    const s = performance.now();
    await search(q);
    times.push(performance.now() - s);
  }
  times.sort((a, b) => a - b);
  const f = (x: number) => x.toFixed(2);
  console.log(
    `${label}: p50=${f(percentile(times, 0.5))} ms p99=${
      f(percentile(times, 0.99))
    } ms max=${f(times[times.length - 1])} ms` +
      (wireBytes > 0
        ? ` | wire ${(wireBytes / list.length / 1024).toFixed(1)} KiB/query`
        : ""),
  );
}
