import assert from "node:assert/strict";
import fc from "fast-check";
import {
  compareFuzzyMatches,
  type FuzzyMatch,
  fuzzyMatch,
  FuzzyMatcher,
  TrigramIndex,
  trigramsOf,
  utf8Bytes,
} from "./fuzzy.ts";

/** Digest section 5.6, computed by running the upstream matcher. */
const GOLDEN: Array<[string, string, FuzzyMatch | undefined]> = [
  ["foo", "foobar", { kind: "prefix", score: 999994 }],
  ["FOO", "foobar", { kind: "prefix", score: 999994 }],
  ["foo", "Foo", { kind: "prefix", score: 999997 }],
  ["foo", "fo", undefined],
  ["fb", "fooBar", { kind: "fuzzy", score: 48 }],
  ["fb", "foobar", { kind: "fuzzy", score: 35 }],
  ["fb", "FooBar", { kind: "fuzzy", score: 46 }],
  ["fbb", "FooBarBaz", { kind: "fuzzy", score: 69 }],
  ["fbb", "fobarbaz", { kind: "fuzzy", score: 46 }],
  ["foo", "barfoo", { kind: "fuzzy", score: 43 }],
  ["hm", "HashMap", { kind: "fuzzy", score: 45 }],
  ["HM", "HashMap", { kind: "fuzzy", score: 49 }],
  ["hmap", "HashMap", { kind: "fuzzy", score: 81 }],
  ["map", "HashMap", { kind: "fuzzy", score: 55 }],
  ["gs", "getString", { kind: "fuzzy", score: 45 }],
  ["gS", "getString", { kind: "fuzzy", score: 47 }],
  ["s2", "str2Int", { kind: "fuzzy", score: 49 }],
  ["xi", "str_x_int", { kind: "fuzzy", score: 47 }],
  ["ab", "a_b", { kind: "fuzzy", score: 53 }],
  ["ba", "ab", undefined],
  ["abc", "a.b.c", { kind: "fuzzy", score: 79 }],
  ["abc", "axxbxxc", { kind: "fuzzy", score: 47 }],
  ["café", "café", { kind: "prefix", score: 999995 }],
  ["cafe", "café", undefined],
  ["é", "café", { kind: "fuzzy", score: 26 }],
  ["alpha", "Alpha", { kind: "prefix", score: 999995 }],
];

for (const [query, candidate, expected] of GOLDEN) {
  Deno.test(`fuzzyMatch() golden: ${query} vs ${candidate}`, () => {
    assert.deepEqual(fuzzyMatch(query, candidate), expected);
  });
}

Deno.test("fuzzyMatch() golden vector count", () => {
  assert.equal(GOLDEN.length, 26);
});

Deno.test("fuzzyMatch() empty query is a prefix match scoring 0", () => {
  assert.deepEqual(fuzzyMatch("", "anything"), { kind: "prefix", score: 0 });
  assert.deepEqual(fuzzyMatch("", ""), { kind: "prefix", score: 0 });
});

Deno.test("fuzzyMatch() prefix always outranks fuzzy", () => {
  const prefix = fuzzyMatch("a", "a".repeat(500))!;
  const fuzzy = fuzzyMatch("ab", "a_b")!;
  assert.equal(prefix.kind, "prefix");
  assert.ok(compareFuzzyMatches(prefix, fuzzy) < 0);
  assert.ok(compareFuzzyMatches(fuzzy, prefix) > 0);
  assert.equal(compareFuzzyMatches(fuzzy, { ...fuzzy }), 0);
});

Deno.test("FuzzyMatcher reuses scratch across candidates of varying length", () => {
  const m = new FuzzyMatcher("fb");
  const long = "f" + "x".repeat(300) + "Bar";
  assert.deepEqual(m.match(long), fuzzyMatch("fb", long));
  assert.deepEqual(m.match("fooBar"), { kind: "fuzzy", score: 48 });
  const bytes = utf8Bytes("zzfooBarzz");
  assert.deepEqual(m.matchBytes(bytes, 2, 8), { kind: "fuzzy", score: 48 });
});

Deno.test("FuzzyMatcher rejects a non-string query", () => {
  assert.throws(() => new FuzzyMatcher(3 as unknown as string), TypeError);
});

// ---------------------------------------------------------------------------
// A naive oracle written straight from the digest (section 5) for property tests.

const SEPARATORS = new Set(
  "_- /\\.:<>()[]".split("").map((c) => c.charCodeAt(0)),
);
const fold = (b: number) => (b >= 65 && b <= 90 ? b + 32 : b);
const lower = (b: number) => b >= 97 && b <= 122;
const upper = (b: number) => b >= 65 && b <= 90;
const digit = (b: number) => b >= 48 && b <= 57;
const alpha = (b: number) => lower(b) || upper(b);

function naive(query: string, candidate: string): FuzzyMatch | undefined {
  const q = utf8Bytes(query);
  const c = utf8Bytes(candidate);
  const m = q.length;
  const n = c.length;
  if (m === 0) return { kind: "prefix", score: 0 };
  if (m <= n && q.every((b, i) => fold(b) === fold(c[i]))) {
    return { kind: "prefix", score: 1_000_000 - n };
  }
  if (m > n) return undefined;
  const ws = (j: number) =>
    j === 0 || SEPARATORS.has(c[j - 1]) ||
    (lower(c[j - 1]) && upper(c[j])) ||
    (alpha(c[j - 1]) && digit(c[j])) ||
    (digit(c[j - 1]) && alpha(c[j]));
  const bonus = (i: number, j: number): number | undefined =>
    fold(c[j]) === fold(q[i])
      ? 10 + (ws(j) ? 15 : 0) + (c[j] === q[i] ? 2 : 0)
      : undefined;
  let prev: Array<number | undefined> = [];
  for (let j = 0; j < n; j++) {
    const b = bonus(0, j);
    prev[j] = b === undefined ? undefined : b - j;
  }
  for (let i = 1; i < m; i++) {
    const cur: Array<number | undefined> = [];
    for (let j = 0; j < n; j++) {
      const b = bonus(i, j);
      if (b === undefined) continue;
      let best: number | undefined;
      if (j > 0 && prev[j - 1] !== undefined) best = prev[j - 1]! + 5;
      for (let k = 0; k < j; k++) {
        if (prev[k] === undefined) continue;
        const v = prev[k]! - (j - k - 1);
        if (best === undefined || v > best) best = v;
      }
      if (best !== undefined) cur[j] = b + best;
    }
    prev = cur;
  }
  let result: number | undefined;
  for (let j = 0; j < n; j++) {
    if (prev[j] === undefined) continue;
    const v = prev[j]! - (n - 1 - j);
    if (result === undefined || v > result) result = v;
  }
  return result === undefined ? undefined : { kind: "fuzzy", score: result };
}

const alphabet = fc.constantFrom(
  ..."aAbBcCxX12_.-é".split(""),
);
const word = (max: number) =>
  fc.array(alphabet, { maxLength: max }).map((a) => a.join(""));

Deno.test("fuzzyMatch() agrees with a naive oracle (property)", () => {
  fc.assert(
    fc.property(word(4), word(14), (q, c) => {
      assert.deepEqual(fuzzyMatch(q, c), naive(q, c));
    }),
    { numRuns: 3000 },
  );
});

Deno.test("FuzzyMatcher agrees with fuzzyMatch across reuse (property)", () => {
  fc.assert(
    fc.property(word(4), fc.array(word(20), { maxLength: 20 }), (q, cs) => {
      const m = new FuzzyMatcher(q);
      for (const c of cs) assert.deepEqual(m.match(c), fuzzyMatch(q, c));
    }),
    { numRuns: 300 },
  );
});

Deno.test("trigramsOf() folds ASCII case only and dedups", () => {
  assert.deepEqual(trigramsOf("ABCabc"), trigramsOf("abcabc"));
  assert.deepEqual(trigramsOf("abcabc"), [0x616263, 0x626361, 0x636162]);
  assert.deepEqual(trigramsOf("aé"), [0x61c3a9]);
  assert.deepEqual(trigramsOf(""), []);
});

Deno.test("TrigramIndex.candidates() ignores absent trigrams", () => {
  const index = TrigramIndex.fromNames(["FooBar", "xfbr", "HashMap"]);
  assert.deepEqual([...index.candidates(trigramsOf("fbr"))], [1]);
  assert.deepEqual([...index.candidates(trigramsOf("Hash"))], [2]);
  assert.deepEqual([...index.candidates(trigramsOf("zzz"))], []);
  assert.deepEqual([...index.candidates([])], []);
  assert.deepEqual([...index.intersect(trigramsOf("zzzfoo"))], []);
  assert.deepEqual([...index.candidates(trigramsOf("zzzfoo"))], [0]);
});

Deno.test("TrigramIndex.candidates() equals a naive filter (property)", () => {
  fc.assert(
    fc.property(
      fc.array(word(8), { maxLength: 40 }),
      word(6),
      (names, query) => {
        const index = TrigramIndex.fromNames(names);
        const sets = names.map((n) => new Set(trigramsOf(n)));
        const present = trigramsOf(query).filter((t) =>
          sets.some((s) => s.has(t))
        );
        const expected = present.length === 0
          ? []
          : names.map((_, i) => i).filter((i) =>
            present.every((t) => sets[i].has(t))
          );
        assert.deepEqual([...index.candidates(trigramsOf(query))], expected);
      },
    ),
    { numRuns: 500 },
  );
});
