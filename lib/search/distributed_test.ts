import assert from "node:assert/strict";
import fc from "fast-check";
import type { Symbol } from "../wire/types.ts";
import {
  type DistributedPlan,
  fallbackPlan,
  planFromStats,
  scanCounts,
  searchShardSymbols,
  shardQueryStats,
} from "./distributed.ts";
import { mergeTopK } from "./merge.ts";
import type { SymbolMatch } from "./ranking.ts";
import { ShardSymbols } from "./shard_symbols.ts";
import { FALLBACK_SCAN_LIMIT, SymbolIndex } from "./symbol_index.ts";

/** The whole distributed round trip, as the router would drive it. */
function distributedSearch(
  shards: ShardSymbols[],
  query: string,
  limit: number,
  scanLimit = FALLBACK_SCAN_LIMIT,
): SymbolMatch[] {
  let plan: DistributedPlan = planFromStats(
    query,
    shards.map((s) => shardQueryStats(s, query)),
  );
  const run = (p: DistributedPlan) => {
    const counts = p.mode === "scan"
      ? scanCounts(
        new Map(shards.map((s) => [s.shardId, s.symbols.slice(0, scanLimit)])),
        scanLimit,
      )
      : undefined;
    return shards.map((s) =>
      searchShardSymbols(s, p, { limit, scanCount: counts?.get(s.shardId) })
    );
  };
  let results = run(plan);
  if (plan.mode === "trigram" && !results.some((r) => r.hit)) {
    plan = fallbackPlan(plan);
    results = run(plan);
  }
  return mergeTopK(results.map((r) => r.matches), {
    limit,
    indexOrder: plan.mode === "all",
  });
}

const key = (ms: SymbolMatch[]) =>
  ms.map((m) => [m.symbol.name, m.symbol.path, m.shardId, m.kind, m.score]);

const nameArb = fc.array(fc.constantFrom(..."aAbB_1é".split("")), {
  maxLength: 6,
}).map((a) => a.join(""));
const shardsArb = fc.array(
  fc.tuple(
    fc.nat(4),
    fc.array(
      fc.record({
        name: nameArb,
        path: fc.constantFrom("a.java", "b.java"),
        line: fc.nat(2),
        column: fc.nat(2),
      }),
      { maxLength: 20 },
    ),
  ),
  { maxLength: 4 },
).map((entries) => {
  // Paths routed by a layout never repeat across shards.
  const byId = new Map<number, Symbol[]>();
  for (const [id, list] of entries) {
    byId.set(id, list.map((s) => ({ ...s, path: `${id}/${s.path}` })));
  }
  return byId;
});

Deno.test("distributed search equals router-local search (property)", () => {
  fc.assert(
    fc.property(shardsArb, nameArb, fc.integer({ min: 0, max: 10 }), (
      byId,
      query,
      limit,
    ) => {
      const index = new SymbolIndex();
      const shards: ShardSymbols[] = [];
      for (const [id, list] of byId) {
        index.replaceShard(id, list);
        shards.push(new ShardSymbols(id, list));
      }
      assert.deepEqual(
        key(distributedSearch(shards, query, limit)),
        key(index.workspaceSymbols(query, { limit })),
      );
    }),
    { numRuns: 1000 },
  );
});

Deno.test("distributed scan fallback uses the global first symbols", () => {
  const a: Symbol[] = [];
  const b: Symbol[] = [];
  for (let i = 0; i < 120; i++) {
    const s = {
      name: `x${String(i).padStart(3, "0")}`,
      path: `${i}.java`,
      line: 0,
      column: 0,
    };
    (i % 3 === 0 ? a : b).push({
      ...s,
      path: `${i % 3 === 0 ? "a" : "b"}/${s.path}`,
    });
  }
  const shards = [new ShardSymbols(0, a), new ShardSymbols(1, b)];
  // Pretend the scan covers 50 symbols: only x000..x049 may be scored.
  const got = distributedSearch(shards, "9", 100, 50);
  assert.deepEqual(
    got.map((m) => m.symbol.name),
    [
      "x009",
      "x019",
      "x029",
      "x039",
      "x049",
    ],
  );
});

Deno.test("planFromStats() follows the reference selection order", () => {
  const st = (trigrams: number[], bucket: boolean, size = 1) => ({
    shardId: 0,
    trigrams,
    bucket,
    size,
  });
  assert.equal(
    planFromStats("abc", [st([1], false), st([2], true)]).mode,
    "trigram",
  );
  assert.deepEqual(
    planFromStats("abc", [st([2], false), st([1, 2], true)]).trigrams,
    [1, 2],
  );
  assert.equal(planFromStats("abc", [st([], true)]).mode, "bucket");
  assert.equal(planFromStats("abc", [st([], false)]).mode, "scan");
  assert.equal(planFromStats("abc", [st([], false, 0)]).mode, "none");
  assert.equal(
    fallbackPlan(planFromStats("abc", [st([1], true)])).mode,
    "bucket",
  );
  assert.throws(
    () =>
      searchShardSymbols(new ShardSymbols(0, []), planFromStats("a", []), {
        limit: -1,
      }),
    RangeError,
  );
});
