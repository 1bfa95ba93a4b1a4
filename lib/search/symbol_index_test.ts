import assert from "node:assert/strict";
import fc from "fast-check";
import type { Symbol } from "../wire/types.ts";
import { foldByte, fuzzyMatch, trigramsOf, utf8Bytes } from "./fuzzy.ts";
import { mergeTopK } from "./merge.ts";
import {
  compareSymbolMatches,
  compareSymbols,
  type SymbolMatch,
} from "./ranking.ts";
import { FALLBACK_SCAN_LIMIT, SymbolIndex } from "./symbol_index.ts";

const sym = (name: string, path = "a.java", line = 0, column = 0): Symbol => ({
  name,
  path,
  line,
  column,
});

function single(symbols: Symbol[], dedupe = true): SymbolIndex {
  const index = new SymbolIndex();
  index.replaceShard(0, symbols, { dedupe });
  return index;
}

const names = (ms: SymbolMatch[]) => ms.map((m) => m.symbol.name);

// --- Reference router unit tests (digest 5.6 / 6.1) -------------------------

Deno.test("workspaceSymbols() prefers prefix matches", () => {
  const index = single([sym("foobar", "a.java"), sym("barfoo", "b.java")]);
  assert.deepEqual(names(index.workspaceSymbols("foo")), ["foobar", "barfoo"]);
});

Deno.test("workspaceSymbols() supports acronym queries", () => {
  const index = single([sym("FooBar", "a.java"), sym("foobar", "b.java")]);
  assert.equal(index.workspaceSymbols("fb")[0].symbol.name, "FooBar");
});

Deno.test("workspaceSymbols() filters by trigrams for long queries", () => {
  const index = single([sym("HashMap"), sym("FooBar")]);
  assert.deepEqual(names(index.workspaceSymbols("Hash")), ["HashMap"]);
});

Deno.test("workspaceSymbols() repeated queries keep their expectations", () => {
  const index = single([sym("HashMap"), sym("FooBar"), sym("Vector")]);
  for (let round = 0; round < 3; round++) {
    assert.equal(index.workspaceSymbols("Hash")[0].symbol.name, "HashMap");
    assert.equal(index.workspaceSymbols("fbr")[0].symbol.name, "FooBar");
    assert.deepEqual(index.workspaceSymbols("zzz"), []);
    assert.equal(index.workspaceSymbols("Vec")[0].symbol.name, "Vector");
  }
});

Deno.test("workspaceSymbols() scores only trigram candidates when any exist", () => {
  const both = single([sym("FooBar"), sym("xfbr")]);
  assert.deepEqual(names(both.workspaceSymbols("fbr")), ["xfbr"]);
  const only = single([sym("FooBar")]);
  assert.deepEqual(names(only.workspaceSymbols("fbr")), ["FooBar"]);
});

Deno.test("workspaceSymbols() top-k orders ties like the reference", () => {
  const symbols = [
    sym("fooaa", "b.java"),
    sym("fooaa", "a.java"),
    sym("fooaa", "a.java"),
  ];
  for (let x = 97; x <= 122; x++) {
    for (let y = 97; y <= 122; y++) {
      if (x === 97 && y === 97) continue;
      symbols.push(
        sym(`foo${String.fromCharCode(x, y)}`, `${x}${y}.java`),
      );
    }
  }
  // The reference test builds its raw structure without deduplication.
  const raw = single(symbols, false).workspaceSymbols("foo", { limit: 5 });
  assert.deepEqual(raw.map((m) => [m.symbol.name, m.symbol.path]), [
    ["fooaa", "a.java"],
    ["fooaa", "a.java"],
    ["fooaa", "b.java"],
    ["fooab", "9798.java"],
    ["fooac", "9799.java"],
  ]);
  // The router itself keeps one symbol per (name, path).
  const deduped = single(symbols).workspaceSymbols("foo", { limit: 3 });
  assert.deepEqual(deduped.map((m) => [m.symbol.name, m.symbol.path]), [
    ["fooaa", "a.java"],
    ["fooaa", "b.java"],
    ["fooab", "9798.java"],
  ]);
});

Deno.test("workspaceSymbols() empty query returns the first symbols in index order", () => {
  const index = new SymbolIndex();
  index.replaceShard(1, [sym("b"), sym("B", "z.java")]);
  index.replaceShard(0, [sym("a"), sym("b", "0.java")]);
  const got = index.workspaceSymbols("", { limit: 3 });
  assert.deepEqual(got.map((m) => [m.symbol.name, m.symbol.path, m.shardId]), [
    ["B", "z.java", 1],
    ["a", "a.java", 0],
    ["b", "0.java", 0],
  ]);
  assert.ok(got.every((m) => m.kind === "prefix" && m.score === 0));
  assert.deepEqual(new SymbolIndex().workspaceSymbols(""), []);
  assert.deepEqual(new SymbolIndex().workspaceSymbols("a"), []);
});

Deno.test("workspaceSymbols() falls back to the first 50,000 symbols", () => {
  const symbols: Symbol[] = [];
  for (let i = 0; i < 60_000; i++) {
    symbols.push(sym(`x${String(i).padStart(5, "0")}`, `${i % 7}.java`));
  }
  const index = new SymbolIndex();
  index.replaceShard(0, symbols.filter((_, i) => i % 2 === 0));
  index.replaceShard(1, symbols.filter((_, i) => i % 2 === 1));
  index.replaceShard(2, [sym("y9")]);
  // No name starts with "9": scan the first 50,000 symbols in index order.
  const got = index.workspaceSymbols("9", { limit: 100_000 });
  const cutoff = `x${String(FALLBACK_SCAN_LIMIT).padStart(5, "0")}`;
  assert.ok(got.length > 0);
  assert.ok(got.every((m) => m.symbol.name < cutoff));
  const expected =
    symbols.slice(0, FALLBACK_SCAN_LIMIT).filter((s) => s.name.includes("9"))
      .length;
  assert.equal(got.length, expected);
});

Deno.test("workspaceSymbols() rejects a bad limit", () => {
  const index = single([sym("a")]);
  assert.throws(() => index.workspaceSymbols("a", { limit: -1 }), RangeError);
  assert.throws(() => index.workspaceSymbols("a", { limit: 1.5 }), RangeError);
  assert.deepEqual(index.workspaceSymbols("a", { limit: 0 }), []);
  assert.throws(
    () => index.workspaceSymbols(1 as unknown as string),
    TypeError,
  );
});

// --- Shard lifecycle ---------------------------------------------------------

Deno.test("replaceShard() swaps a shard's symbols atomically", () => {
  const index = new SymbolIndex();
  index.replaceShard(0, [sym("Alpha"), sym("Beta")]);
  index.replaceShard(1, [sym("Alpine", "b.java")]);
  const v = index.version;
  index.replaceShard(0, [sym("Gamma")]);
  assert.ok(index.version > v);
  assert.deepEqual(names(index.workspaceSymbols("al")), ["Alpine"]);
  assert.deepEqual(names(index.workspaceSymbols("gam")), ["Gamma"]);
  assert.equal(index.size, 2);
});

Deno.test("evictShard() and retainShards() drop shards that left the layout", () => {
  const index = new SymbolIndex();
  index.replaceShard(0, [sym("Alpha")]);
  index.replaceShard(1, [sym("Alpine", "b.java")]);
  index.replaceShard(5, [sym("Alps", "c.java")]);
  assert.deepEqual(index.retainShards([0, 1]), [5]);
  assert.deepEqual(index.shardIds, [0, 1]);
  assert.equal(index.evictShard(1), true);
  assert.equal(index.evictShard(1), false);
  assert.deepEqual(names(index.workspaceSymbols("al")), ["Alpha"]);
  assert.throws(() => index.replaceShard(-1, []), RangeError);
});

Deno.test("setStale() flags a disconnected shard's results", () => {
  const index = new SymbolIndex();
  index.replaceShard(0, [sym("Alpha")]);
  index.replaceShard(1, [sym("Alpine", "b.java")]);
  assert.equal(index.setStale(1, true), true);
  assert.equal(index.setStale(9, true), false);
  const got = index.workspaceSymbols("al");
  assert.deepEqual(got.map((m) => [m.symbol.name, m.stale]), [
    ["Alpha", false],
    ["Alpine", true],
  ]);
  assert.equal(index.isStale(1), true);
  index.replaceShard(1, [sym("Alpine", "b.java")]);
  assert.equal(index.isStale(1), false);
  index.replaceShard(1, [sym("Alpine", "b.java")], { stale: true });
  assert.equal(index.workspaceSymbols("alpi")[0].stale, true);
});

Deno.test("a (name, path) held by two shards is kept once", () => {
  const index = new SymbolIndex();
  index.replaceShard(0, [sym("Foo", "x.java", 5, 0), sym("Bar", "x.java")]);
  index.replaceShard(1, [sym("Foo", "x.java", 2, 0), sym("Baz", "y.java")]);
  assert.equal(index.size, 3);
  let got = index.workspaceSymbols("foo");
  assert.deepEqual(got.map((m) => [m.shardId, m.symbol.line]), [[1, 2]]);
  index.evictShard(1);
  got = index.workspaceSymbols("foo");
  assert.deepEqual(got.map((m) => [m.shardId, m.symbol.line]), [[0, 5]]);
  assert.equal(index.size, 2);
  index.replaceShard(2, [sym("Foo", "x.java", 5, 0)]);
  got = index.workspaceSymbols("");
  assert.deepEqual(got.map((m) => [m.symbol.name, m.shardId]), [
    ["Bar", 0],
    ["Foo", 0],
  ]);
});

// --- Oracle: a direct transcription of the reference (global sort + scan) ---

interface Tagged {
  s: Symbol;
  shard: number;
}

function oracle(
  shards: Map<number, Symbol[]>,
  query: string,
  limit: number,
): SymbolMatch[] {
  const all: Tagged[] = [];
  for (const [shard, list] of [...shards].sort((a, b) => a[0] - b[0])) {
    for (const s of list) all.push({ s, shard });
  }
  all.sort((a, b) => compareSymbols(a.s, b.s) || a.shard - b.shard);
  const ids = all.filter((x, i) =>
    i === 0 || x.s.name !== all[i - 1].s.name || x.s.path !== all[i - 1].s.path
  );
  const m = (x: Tagged, kind: "prefix" | "fuzzy", score: number) => ({
    symbol: x.s,
    shardId: x.shard,
    stale: false,
    kind,
    score,
  });
  if (ids.length === 0) return [];
  if (query === "") return ids.slice(0, limit).map((x) => m(x, "prefix", 0));
  const q = utf8Bytes(query);
  let cands: Tagged[] = [];
  if (q.length >= 3) {
    const sets = ids.map((x) => new Set(trigramsOf(x.s.name)));
    const present = trigramsOf(query).filter((t) => sets.some((s) => s.has(t)));
    if (present.length > 0) {
      cands = ids.filter((_, i) => present.every((t) => sets[i].has(t)));
    }
  }
  if (cands.length === 0) {
    cands = ids.filter((x) => {
      const b = utf8Bytes(x.s.name);
      return b.length > 0 && foldByte(b[0]) === foldByte(q[0]);
    });
  }
  if (cands.length === 0) cands = ids.slice(0, FALLBACK_SCAN_LIMIT);
  const out: SymbolMatch[] = [];
  for (const x of cands) {
    const r = fuzzyMatch(query, x.s.name);
    if (r) out.push(m(x, r.kind, r.score));
  }
  return out.sort(compareSymbolMatches).slice(0, limit);
}

const key = (ms: SymbolMatch[]) =>
  ms.map((m) => [
    m.symbol.name,
    m.symbol.path,
    m.symbol.line,
    m.symbol.column,
    m.shardId,
    m.kind,
    m.score,
  ]);

const nameArb = fc.array(fc.constantFrom(..."aAbB_1é".split("")), {
  maxLength: 6,
}).map((a) => a.join(""));
const symbolArb = fc.record({
  name: nameArb,
  path: fc.constantFrom("a.java", "b.java", "c.java", "é.java"),
  line: fc.nat(3),
  column: fc.nat(3),
});
const shardsArb = fc.array(
  fc.tuple(fc.nat(3), fc.array(symbolArb, { maxLength: 25 })),
  { maxLength: 4 },
).map((entries) => new Map(entries));

Deno.test("workspaceSymbols() equals the reference transcription (property)", () => {
  fc.assert(
    fc.property(shardsArb, nameArb, fc.integer({ min: 1, max: 12 }), (
      shards,
      query,
      limit,
    ) => {
      const index = new SymbolIndex();
      for (const [id, list] of shards) index.replaceShard(id, list);
      assert.deepEqual(
        key(index.workspaceSymbols(query, { limit })),
        key(oracle(shards, query, limit)),
      );
    }),
    { numRuns: 1500 },
  );
});

Deno.test("workspaceSymbols() stays exact across replace and evict (property)", () => {
  fc.assert(
    fc.property(
      fc.array(
        fc.tuple(fc.nat(3), fc.option(fc.array(symbolArb, { maxLength: 15 }))),
        { maxLength: 8 },
      ),
      nameArb,
      (ops, query) => {
        const index = new SymbolIndex();
        const model = new Map<number, Symbol[]>();
        for (const [id, list] of ops) {
          if (list === null) {
            index.evictShard(id);
            model.delete(id);
          } else {
            index.replaceShard(id, list);
            model.set(id, list);
          }
          assert.deepEqual(
            key(index.workspaceSymbols(query, { limit: 5 })),
            key(oracle(model, query, 5)),
          );
        }
        assert.equal(index.size, oracle(model, "", 1e9).length);
      },
    ),
    { numRuns: 300 },
  );
});

Deno.test("streaming top-k matches full collection for f/fo/foo", () => {
  const shards = new Map<number, Symbol[]>();
  const words = ["foo", "fooBar", "FOO", "barfoo", "f_o_o", "fxo", "of", "F"];
  for (let s = 0; s < 3; s++) {
    shards.set(
      s,
      words.flatMap((w, i) => [sym(w, `${s}/${i}.java`), sym(w + s, "x.java")]),
    );
  }
  const index = new SymbolIndex();
  for (const [id, list] of shards) index.replaceShard(id, list);
  for (const q of ["f", "fo", "foo"]) {
    for (const limit of [1, 2, 5, 25, 200]) {
      assert.deepEqual(
        key(index.workspaceSymbols(q, { limit })),
        key(oracle(shards, q, limit)),
      );
    }
  }
});

Deno.test("mergeTopK() of per-shard top-k equals the global top-k (property)", () => {
  fc.assert(
    fc.property(shardsArb, nameArb, fc.integer({ min: 0, max: 12 }), (
      shards,
      query,
      limit,
    ) => {
      // Distinct paths per shard, as the layout guarantees.
      const routed = new Map(
        [...shards].map(([id, list]) => [
          id,
          list.map((s) => ({ ...s, path: `${id}/${s.path}` })),
        ]),
      );
      const index = new SymbolIndex();
      for (const [id, list] of routed) index.replaceShard(id, list);
      const plan = index.plan(query);
      const perShard = index.shardIds.map((id) =>
        index.searchShard(plan, id, { limit })
      );
      assert.deepEqual(
        key(mergeTopK(perShard, { limit, indexOrder: query === "" })),
        key(index.workspaceSymbols(query, { limit })),
      );
    }),
    { numRuns: 800 },
  );
});

Deno.test("searchShard() refuses a plan from an older index version", () => {
  const index = single([sym("a")]);
  const plan = index.plan("a");
  index.setStale(0, true); // flags do not invalidate plans
  assert.equal(index.searchShard(plan, 0)[0].stale, true);
  index.replaceShard(0, [sym("a")]);
  assert.throws(() => index.searchShard(plan, 0), RangeError);
  assert.deepEqual(index.searchShard(index.plan("a"), 7), []);
});
