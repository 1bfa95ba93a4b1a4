import assert from "node:assert/strict";
import fc from "fast-check";
import {
  compareSymbolMatches,
  compareUtf8,
  type SymbolMatch,
  utf8Length,
} from "./ranking.ts";

const ENC = new TextEncoder();
function bytewise(a: string, b: string): number {
  const x = ENC.encode(a);
  const y = ENC.encode(b);
  for (let i = 0; i < Math.min(x.length, y.length); i++) {
    if (x[i] !== y[i]) return x[i] - y[i];
  }
  return x.length - y.length;
}

const text = fc.string({
  unit: fc.oneof(
    fc.constantFrom("a", "B", "é", "\uffff", "\ue000", "🦀", "\u{10000}"),
    fc.constant("\ud7ff"),
  ),
  maxLength: 5,
});

Deno.test("compareUtf8() equals UTF-8 byte order (property)", () => {
  fc.assert(
    fc.property(text, text, (a, b) => {
      assert.equal(Math.sign(compareUtf8(a, b)), Math.sign(bytewise(a, b)));
    }),
    { numRuns: 2000 },
  );
});

Deno.test("utf8Length() equals the encoded length (property)", () => {
  fc.assert(
    fc.property(fc.string({ unit: "grapheme" }), (s) => {
      assert.equal(utf8Length(s), ENC.encode(s).length);
    }),
  );
  assert.equal(utf8Length("\ud800"), 3); // lone surrogate -> U+FFFD
});

Deno.test("compareSymbolMatches() is the documented total order", () => {
  const m = (
    name: string,
    kind: "prefix" | "fuzzy",
    score: number,
    path = "a.java",
    line = 0,
    shardId = 0,
  ): SymbolMatch => ({
    symbol: { name, path, line, column: 0 },
    shardId,
    stale: false,
    kind,
    score,
  });
  const sorted = [
    m("zz", "prefix", 1),
    m("aaa", "fuzzy", 90),
    m("bb", "fuzzy", 50),
    m("cc", "fuzzy", 50),
    m("cc", "fuzzy", 50, "b.java"),
    m("cc", "fuzzy", 50, "b.java", 3),
    m("cc", "fuzzy", 50, "b.java", 3, 1),
    m("aaa", "fuzzy", 50),
  ];
  const shuffled = [...sorted].reverse().sort(compareSymbolMatches);
  assert.deepEqual(shuffled, sorted);
});
