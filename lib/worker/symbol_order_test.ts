import assert from "node:assert/strict";
import fc from "fast-check";
import {
  compareSymbols,
  compareUtf8,
  concatByName,
  replaceFileSymbols,
  sortUtf8,
} from "./symbol_order.ts";
import type { Symbol } from "../wire/types.ts";

const encoder = new TextEncoder();

function byteCompare(a: string, b: string): number {
  const x = encoder.encode(a);
  const y = encoder.encode(b);
  for (let i = 0; i < Math.min(x.length, y.length); i++) {
    if (x[i] !== y[i]) return x[i] - y[i];
  }
  return x.length - y.length;
}

const textArb = fc.string({ unit: "grapheme", maxLength: 6 });

Deno.test("compareUtf8() agrees with UTF-8 byte order (property)", () => {
  assert.ok(compareUtf8("\u{10000}", "\uffff") > 0);
  assert.ok(compareUtf8("\ue000", "\ud7ff") > 0);
  assert.ok(compareUtf8("Z", "a") < 0);
  assert.equal(compareUtf8("abc", "abc"), 0);
  fc.assert(
    fc.property(textArb, textArb, (a, b) => {
      assert.equal(Math.sign(compareUtf8(a, b)), Math.sign(byteCompare(a, b)));
    }),
    { numRuns: 2000 },
  );
});

function sortDedup(symbols: Symbol[]): Symbol[] {
  const sorted = [...symbols].sort(compareSymbols);
  return sorted.filter((s, i) =>
    i === 0 || s.name !== sorted[i - 1].name || s.path !== sorted[i - 1].path
  );
}

const symbolArb = (path: fc.Arbitrary<string>) =>
  fc.record({
    name: fc.constantFrom("a", "B", "run", "é", "\u{1F600}", "\uffff"),
    path,
    line: fc.nat({ max: 5 }),
    column: fc.nat({ max: 5 }),
  }, { noNullPrototype: true });

Deno.test("replaceFileSymbols() equals re-sorting from scratch (property)", () => {
  const paths = fc.constantFrom("/a", "/b", "/c");
  fc.assert(
    fc.property(
      fc.array(symbolArb(paths), { maxLength: 30 }),
      fc.constantFrom("/a", "/b", "/c", "/new"),
      fc.array(symbolArb(fc.constant("")), { maxLength: 8 }),
      (others, path, fresh) => {
        const index = sortDedup(others);
        const removed = index.filter((s) => s.path === path);
        const added = sortDedup(fresh.map((s) => ({ ...s, path })));
        const expected = sortDedup([
          ...index.filter((s) => s.path !== path),
          ...added,
        ]);
        const frozen = Object.freeze([...index]);
        assert.deepEqual(replaceFileSymbols(frozen, removed, added), expected);
      },
    ),
    { numRuns: 1000 },
  );
});

Deno.test("sortUtf8() equals sorting by UTF-8 bytes (property)", () => {
  fc.assert(
    fc.property(fc.array(textArb, { maxLength: 20 }), (strings) => {
      const expected = [...strings].sort(byteCompare);
      assert.deepEqual(sortUtf8([...strings]), expected);
      const ascii = strings.map((t) => t.replace(/[^ -~]/g, "x"));
      assert.deepEqual(sortUtf8([...ascii]), [...ascii].sort(byteCompare));
    }),
    { numRuns: 1000 },
  );
});

Deno.test("concatByName() of per-file lists in path order equals a full sort (property)", () => {
  const paths = fc.constantFrom("/a", "/b", "/c", "/\u{1F600}", "/\uffff");
  fc.assert(
    fc.property(fc.array(symbolArb(paths), { maxLength: 40 }), (symbols) => {
      const expected = sortDedup(symbols);
      const files = [...new Set(symbols.map((s) => s.path))].sort(compareUtf8)
        .map((path) => sortDedup(symbols.filter((s) => s.path === path)));
      assert.deepEqual(concatByName(files), expected);
    }),
    { numRuns: 1000 },
  );
  assert.deepEqual(concatByName([]), []);
});

Deno.test("concatByName() keeps list order within a name and copies", () => {
  const s = (name: string, line: number): Symbol => ({
    name,
    path: "/p",
    line,
    column: 0,
  });
  const first = [s("b", 1), s("a", 2)];
  const second = [s("b", 3)];
  const merged = concatByName([first, second]);
  assert.deepEqual(merged.map((v) => v.line), [2, 1, 3]);
  assert.equal(merged[1], first[0]);
  assert.deepEqual(first.map((v) => v.line), [1, 2]);
});
