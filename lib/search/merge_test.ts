import assert from "node:assert/strict";
import { mergeTopK } from "./merge.ts";
import type { SymbolMatch } from "./ranking.ts";

const m = (
  name: string,
  score: number,
  shardId: number,
  path = `${name}.java`,
  line = 0,
): SymbolMatch => ({
  symbol: { name, path, line, column: 0 },
  shardId,
  stale: shardId === 9,
  kind: "fuzzy",
  score,
});

Deno.test("mergeTopK() merges sorted lists under the total order", () => {
  const a = [m("x", 90, 0), m("y", 40, 0)];
  const b = [m("p", 80, 1), m("q", 40, 1), m("r", 10, 1)];
  const merged = mergeTopK([a, b], { limit: 4 });
  assert.deepEqual(merged.map((r) => r.symbol.name), ["x", "p", "q", "y"]);
  assert.deepEqual(mergeTopK([a, b], { limit: 0 }), []);
  assert.equal(mergeTopK([]).length, 0);
  assert.equal(mergeTopK([a, b]).length, 5);
});

Deno.test("mergeTopK() keeps one result per (name, path) and keeps flags", () => {
  const a = [m("Foo", 50, 0, "x.java", 7)];
  const b = [m("Foo", 50, 9, "x.java", 2), m("Bar", 10, 9)];
  const merged = mergeTopK([a, b]);
  assert.deepEqual(
    merged.map((r) => [r.symbol.name, r.symbol.line, r.shardId, r.stale]),
    [["Foo", 2, 9, true], ["Bar", 0, 9, true]],
  );
});

Deno.test("mergeTopK() validates its limit", () => {
  assert.throws(() => mergeTopK([], { limit: -1 }), RangeError);
  assert.throws(() => mergeTopK([], { limit: 0.5 }), RangeError);
});
