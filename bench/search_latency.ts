/**
 * Prints build time and p50/p90/p99/max `workspaceSymbols` latency over
 * 1,000,000 generated symbols for short and long queries.
 *
 * Wall-clock and CPU-time (user + system) percentiles are both printed: on
 * a shared machine the CPU figures are the less noisy ones.
 *
 * Usage: deno run bench/search_latency.ts [symbols] [shards] [queries]
 */

import process from "node:process";
import { mergeTopK } from "../lib/router/merge.ts";
import { SymbolIndex } from "../lib/router/symbol_index.ts";
import { generateQueries, generateShards } from "./_symbols.ts";

const count = Number(Deno.args[0] ?? 1_000_000);
const shardCount = Number(Deno.args[1] ?? 4);
const queries = Number(Deno.args[2] ?? 200);

let t = performance.now();
const shards = generateShards(count, shardCount);
console.log(
  `generate ${count} symbols: ${(performance.now() - t).toFixed(0)} ms`,
);
const index = new SymbolIndex();
t = performance.now();
shards.forEach((list, id) => {
  const s = performance.now();
  index.replaceShard(id, list);
  console.log(
    `  shard ${id} (${list.length}): ${(performance.now() - s).toFixed(0)} ms`,
  );
});
console.log(
  `build: ${(performance.now() - t).toFixed(0)} ms, size ${index.size}`,
);

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)];
}

/** Distributed-search shape: plan, every shard's own top-k, merge. */
function merged(query: string): number {
  const plan = index.plan(query);
  return mergeTopK(index.shardIds.map((id) => index.searchShard(plan, id)))
    .length;
}
const local = (query: string) => index.workspaceSymbols(query).length;

const { short, long } = generateQueries(queries);
const runs = [
  ["local short", short, local],
  ["local long", long, local],
  ["merged short", short, merged],
  ["merged long", long, merged],
] as const;
for (const [label, list, search] of runs) {
  // Warm-up pass (JIT), then the measured pass.
  for (const q of list) search(q);
  const times: number[] = [];
  const cpu: number[] = [];
  let hits = 0;
  for (const q of list) {
    const c = process.cpuUsage();
    const s = performance.now();
    hits += search(q);
    times.push(performance.now() - s);
    const d = process.cpuUsage(c);
    cpu.push((d.user + d.system) / 1000);
  }
  cpu.sort((a, b) => a - b);
  times.sort((a, b) => a - b);
  const f = (x: number) => x.toFixed(2);
  console.log(
    `${label}: n=${times.length} p50=${f(percentile(times, 0.5))} ms p90=${
      f(percentile(times, 0.9))
    } ms p99=${f(percentile(times, 0.99))} ms max=${
      f(times[times.length - 1])
    } ms | cpu p50=${f(percentile(cpu, 0.5))} p99=${
      f(percentile(cpu, 0.99))
    } ms | avg hits=${(hits / list.length).toFixed(0)}`,
  );
}
