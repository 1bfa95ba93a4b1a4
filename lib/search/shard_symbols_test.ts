import assert from "node:assert/strict";
import fc from "fast-check";
import type { Symbol } from "../wire/types.ts";
import { foldByte, utf8Bytes } from "./fuzzy.ts";
import { compareSymbols } from "./ranking.ts";
import { ShardSymbols } from "./shard_symbols.ts";

const sym = (name: string, path = "a.java", line = 0, column = 0): Symbol => ({
  name,
  path,
  line,
  column,
});

Deno.test("ShardSymbols sorts in byte order and dedups (name, path)", () => {
  const shard = new ShardSymbols(0, [
    sym("run", "a.java", 7),
    sym("run", "a.java", 6),
    sym("Run", "b.java"),
    sym("\u{10000}"),
    sym("\uffff"),
    sym("x", "\u{10000}.java"),
    sym("x", "\uffff.java"),
  ]);
  assert.deepEqual(
    shard.symbols.map((s) => [s.name, s.path, s.line]),
    [
      ["Run", "b.java", 0],
      ["run", "a.java", 6],
      ["x", "\uffff.java", 0],
      ["x", "\u{10000}.java", 0],
      ["\uffff", "a.java", 0],
      ["\u{10000}", "a.java", 0],
    ],
  );
  assert.equal(shard.nameLength(5), 4);
  assert.deepEqual(shard.paths.length, 4);
  assert.deepEqual(shard.idsWithPath("a.java"), [1, 4, 5]);
  assert.deepEqual(shard.idsWithPath("zzz"), []);
  assert.throws(() => new ShardSymbols(-1, []), RangeError);
  assert.throws(() => new ShardSymbols(2 ** 32, []), RangeError);
});

const nameArb = fc.array(fc.constantFrom(...Array.from("aAbB_é\u{10000}")), {
  maxLength: 9,
}).map((a) => a.join(""));

Deno.test("ShardSymbols order equals compareSymbols (property)", () => {
  fc.assert(
    fc.property(
      fc.array(
        fc.record({
          name: nameArb,
          path: fc.constantFrom("a", "b", "\uffff", "\u{10000}"),
          line: fc.nat(2),
          column: fc.nat(2),
        }),
        { maxLength: 40 },
      ),
      (symbols) => {
        const shard = new ShardSymbols(0, symbols, { dedupe: false });
        const expected = symbols.slice().sort(compareSymbols);
        assert.deepEqual(
          shard.symbols.map((s) => [s.name, s.path, s.line, s.column]),
          expected.map((s) => [s.name, s.path, s.line, s.column]),
        );
      },
    ),
    { numRuns: 500 },
  );
});

Deno.test("prefixRanges() equals a naive case-insensitive prefix filter (property)", () => {
  fc.assert(
    fc.property(
      fc.array(nameArb, { maxLength: 40 }),
      nameArb,
      (names, prefix) => {
        const shard = new ShardSymbols(
          0,
          names.map((n, i) => sym(n, `${i}.java`)),
        );
        const folded = utf8Bytes(prefix).map(foldByte);
        const got = new Set<number>();
        for (const [lo, hi] of shard.prefixRanges(folded)) {
          for (let id = lo; id < hi; id++) got.add(id);
        }
        const expected = shard.symbols.flatMap((s, id) => {
          const b = utf8Bytes(s.name);
          return b.length >= folded.length &&
              folded.every((f, i) => foldByte(b[i]) === f)
            ? [id]
            : [];
        });
        assert.deepEqual([...got].sort((a, b) => a - b), expected);
        assert.equal(shard.prefixCount(folded), expected.length);
      },
    ),
    { numRuns: 500 },
  );
});

Deno.test("hasBucket() ignores empty names", () => {
  const shard = new ShardSymbols(0, [sym(""), sym("Foo")]);
  assert.equal(shard.hasBucket(0x66), true);
  assert.equal(shard.hasBucket(0x67), false);
});
