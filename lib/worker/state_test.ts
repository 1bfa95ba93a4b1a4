import assert from "node:assert/strict";
import fc from "fast-check";
import {
  cachedIndexInfo,
  CANCELLED_ERROR,
  type SymbolIndexer,
  WorkerState,
  type WorkerStep,
} from "./state.ts";
import { compareSymbols } from "./symbol_order.ts";
import type { Request, RpcResult, ShardIndex, Symbol } from "../wire/types.ts";

/** Every whitespace-separated word is a symbol; `!` words are parse errors. */
function toyIndexer(counter?: { parses: number }): SymbolIndexer {
  return {
    extractSymbols(path, text) {
      if (counter) counter.parses++;
      const out: Symbol[] = [];
      for (const match of text.matchAll(/\S+/g)) {
        if (match[0].startsWith("!")) continue;
        out.push({ name: match[0], path, line: 0, column: match.index! });
      }
      return out;
    },
    sortSymbols(symbols) {
      const sorted = [...symbols].sort(compareSymbols);
      return sorted.filter((s, i) =>
        i === 0 || s.name !== sorted[i - 1].name ||
        s.path !== sorted[i - 1].path
      );
    },
    diagnostics(_path, text) {
      return [...text.matchAll(/!\S*/g)].map((m) => ({
        severity: "error" as const,
        line: 0,
        column: m.index!,
        message: "bang",
      }));
    },
  };
}

function fullIndex(files: Map<string, string>): Symbol[] {
  const indexer = toyIndexer();
  const all: Symbol[] = [];
  for (const [path, text] of files) {
    all.push(...indexer.extractSymbols(path, text));
  }
  return indexer.sortSymbols(all);
}

function expectIndex(result: RpcResult): ShardIndex {
  if (result.status !== "ok" || result.value.type !== "shard_index") {
    throw new Error(`expected shard_index, got ${Deno.inspect(result)}`);
  }
  return result.value.body;
}

const file = (path: string, text: string) => ({ path, text });

Deno.test("WorkerState: LoadFiles acks without rebuilding or persisting", () => {
  const counter = { parses: 0 };
  const state = new WorkerState({ shardId: 2, indexer: toyIndexer(counter) });
  const persisted: ShardIndex[] = [];
  const result = state.run({
    type: "load_files",
    revision: 5,
    files: [file("/a", "A B"), file("/b", "C")],
  }, { persist: (i) => void persisted.push(i) });
  assert.deepEqual(result, { status: "ok", value: { type: "ack" } });
  assert.equal(counter.parses, 0);
  assert.equal(persisted.length, 0);
  assert.deepEqual(state.stats, {
    shard_id: 2,
    revision: 5,
    index_generation: 0,
    file_count: 2,
  });
});

Deno.test("WorkerState: IndexShard rebuilds, persists and advances the generation", () => {
  const state = new WorkerState({ shardId: 1, indexer: toyIndexer() });
  const persisted: ShardIndex[] = [];
  const index = expectIndex(state.run({
    type: "index_shard",
    revision: 3,
    files: [file("/b", "beta alpha"), file("/a", "alpha alpha")],
  }, { persist: (i) => void persisted.push(i) }));
  assert.deepEqual(index, {
    shard_id: 1,
    revision: 3,
    index_generation: 1,
    symbols: [
      { name: "alpha", path: "/a", line: 0, column: 0 },
      { name: "alpha", path: "/b", line: 0, column: 5 },
      { name: "beta", path: "/b", line: 0, column: 0 },
    ],
  });
  assert.deepEqual(persisted, [index]);
  assert.equal(state.stats.index_generation, 1);
});

Deno.test("WorkerState: generation starts from the cache, revision from 0", () => {
  const cached: ShardIndex = {
    shard_id: 4,
    revision: 9,
    index_generation: 7,
    symbols: [{ name: "X", path: "/x", line: 0, column: 0 }],
  };
  const state = new WorkerState({ shardId: 4, indexer: toyIndexer(), cached });
  assert.deepEqual(state.stats, {
    shard_id: 4,
    revision: 0,
    index_generation: 7,
    file_count: 0,
  });
  assert.deepEqual(cachedIndexInfo(cached), {
    revision: 9,
    index_generation: 7,
    symbol_count: 1,
  });
  const index = expectIndex(
    state.run({ type: "index_shard", revision: 1, files: [] }),
  );
  assert.equal(index.index_generation, 8);
});

Deno.test("WorkerState: UpdateFile upserts, reparses only that file, equals a full rebuild", () => {
  const counter = { parses: 0 };
  const state = new WorkerState({ shardId: 0, indexer: toyIndexer(counter) });
  state.run({
    type: "index_shard",
    revision: 1,
    files: [file("/a", "Alpha"), file("/b", "Beta")],
  });
  assert.equal(counter.parses, 2);
  const index = expectIndex(state.run({
    type: "update_file",
    revision: 2,
    file: file("/a", "Alpha Gamma"),
  }));
  assert.equal(counter.parses, 3);
  assert.deepEqual(
    index.symbols,
    fullIndex(new Map([["/a", "Alpha Gamma"], ["/b", "Beta"]])),
  );
  assert.equal(index.index_generation, 2);
  assert.equal(index.revision, 2);
  // A new path is accepted as is.
  const added = expectIndex(state.run({
    type: "update_file",
    revision: 3,
    file: file("/c/Not.txt", "Delta"),
  }));
  assert.equal(counter.parses, 4);
  assert.equal(added.symbols.length, 4);
  assert.equal(state.stats.file_count, 3);
});

Deno.test("WorkerState: UpdateFile after LoadFiles builds the whole shard", () => {
  const counter = { parses: 0 };
  const state = new WorkerState({ shardId: 0, indexer: toyIndexer(counter) });
  state.run({
    type: "load_files",
    revision: 1,
    files: [file("/a", "Alpha"), file("/b", "Beta")],
  });
  const index = expectIndex(state.run({
    type: "update_file",
    revision: 2,
    file: file("/a", "Gamma"),
  }));
  assert.deepEqual(index.symbols.map((s) => s.name), ["Beta", "Gamma"]);
  assert.equal(counter.parses, 2);
});

Deno.test("WorkerState: a snapshot reuses symbols of unchanged files", () => {
  const counter = { parses: 0 };
  const state = new WorkerState({ shardId: 0, indexer: toyIndexer(counter) });
  const files = [file("/a", "A"), file("/b", "B")];
  state.run({ type: "index_shard", revision: 1, files });
  state.run({
    type: "index_shard",
    revision: 2,
    files: [files[0], file("/b", "B2")],
  });
  assert.equal(counter.parses, 3);
});

Deno.test("WorkerState: cancelled on entry changes nothing", () => {
  const state = new WorkerState({ shardId: 0, indexer: toyIndexer() });
  const result = state.run(
    { type: "index_shard", revision: 4, files: [file("/a", "A")] },
    { isCancelled: () => true },
  );
  assert.deepEqual(result, { status: "err", error: { ...CANCELLED_ERROR } });
  assert.deepEqual(result.status === "err" && result.error, {
    code: "cancelled",
    message: "request cancelled",
    retryable: true,
    details: null,
  });
  assert.equal(state.stats.revision, 0);
  assert.equal(state.stats.file_count, 0);
});

Deno.test("WorkerState: cancel between files keeps the mutation but not the generation", () => {
  const state = new WorkerState({ shardId: 0, indexer: toyIndexer() });
  let calls = 0;
  const persisted: ShardIndex[] = [];
  const result = state.run({
    type: "index_shard",
    revision: 4,
    files: [file("/a", "A"), file("/b", "B"), file("/c", "C")],
  }, {
    isCancelled: () => ++calls > 3,
    persist: (i) => void persisted.push(i),
  });
  assert.equal(result.status, "err");
  assert.equal(persisted.length, 0);
  assert.deepEqual(state.stats, {
    shard_id: 0,
    revision: 4,
    index_generation: 0,
    file_count: 3,
  });
  // The next rebuild still works and equals a full one.
  const index = expectIndex(
    state.run({ type: "update_file", revision: 5, file: file("/a", "Z") }),
  );
  assert.deepEqual(index.symbols.map((s) => s.name), ["B", "C", "Z"]);
  assert.equal(index.index_generation, 1);
});

Deno.test("WorkerState: cancel after persisting still answers cancelled (reference)", () => {
  const state = new WorkerState({ shardId: 0, indexer: toyIndexer() });
  let cancelled = false;
  const result = state.run(
    { type: "index_shard", revision: 1, files: [file("/a", "A")] },
    {
      isCancelled: () => cancelled,
      persist: () => {
        cancelled = true;
      },
    },
  );
  assert.equal(result.status === "err" && result.error.code, "cancelled");
  assert.equal(state.stats.index_generation, 1);
});

Deno.test("WorkerState: a persist failure is an internal error and keeps the generation", () => {
  const state = new WorkerState({ shardId: 0, indexer: toyIndexer() });
  const result = state.run(
    { type: "index_shard", revision: 1, files: [file("/a", "A")] },
    {
      persist: () => {
        throw new Error('disk full writing "/secret/path"');
      },
    },
  );
  assert.equal(result.status, "err");
  if (result.status !== "err") return;
  assert.equal(result.error.code, "internal");
  assert.equal(result.error.message, "write shard cache");
  assert.equal(result.error.retryable, false);
  assert.match(result.error.details!, /write shard cache: disk full/);
  assert.ok(!result.error.details!.includes("/secret/path"));
  assert.equal(state.stats.index_generation, 0);
});

Deno.test("WorkerState: Diagnostics, stats, shutdown and unknown requests", () => {
  const state = new WorkerState({ shardId: 3, indexer: toyIndexer() });
  state.run({
    type: "load_files",
    revision: 1,
    files: [file("/a", "ok !bad"), file("/b", "")],
  });
  assert.deepEqual(state.run({ type: "diagnostics", path: "/a" }), {
    status: "ok",
    value: {
      type: "diagnostics",
      body: {
        diagnostics: [{
          severity: "error",
          line: 0,
          column: 3,
          message: "bang",
        }],
      },
    },
  });
  for (const path of ["/b", "/missing"]) {
    assert.deepEqual(state.run({ type: "diagnostics", path }), {
      status: "ok",
      value: { type: "diagnostics", body: { diagnostics: [] } },
    });
  }
  assert.deepEqual(state.run({ type: "get_worker_stats" }), {
    status: "ok",
    value: {
      type: "worker_stats",
      body: { shard_id: 3, revision: 1, index_generation: 0, file_count: 2 },
    },
  });
  assert.deepEqual(state.run({ type: "unknown" }), {
    status: "err",
    error: {
      code: "invalid_request",
      message: "unknown request",
      retryable: false,
      details: null,
    },
  });
  assert.equal(state.shutdownRequested, false);
  assert.deepEqual(state.run({ type: "shutdown" }), {
    status: "ok",
    value: { type: "shutdown" },
  });
  assert.equal(state.shutdownRequested, true);
});

Deno.test("WorkerState: stats answer from the last completed state during a rebuild", () => {
  const state = new WorkerState({ shardId: 0, indexer: toyIndexer() });
  state.run({ type: "index_shard", revision: 1, files: [file("/a", "A")] });
  const job = state.handle({
    type: "index_shard",
    revision: 2,
    files: [file("/a", "A2"), file("/b", "B")],
  });
  let step = job.next();
  assert.deepEqual(step.value, { type: "yield" } satisfies WorkerStep);
  assert.ok(state.busy);
  assert.ok(state.isImmediate({ type: "get_worker_stats" }));
  assert.deepEqual(state.run({ type: "get_worker_stats" }), {
    status: "ok",
    value: {
      type: "worker_stats",
      body: { shard_id: 0, revision: 1, index_generation: 1, file_count: 1 },
    },
  });
  assert.throws(
    () => state.handle({ type: "diagnostics", path: "/a" }),
    TypeError,
  );
  while (!step.done) step = job.next();
  assert.equal(state.stats.index_generation, 2);
  assert.equal(state.stats.file_count, 2);
  assert.ok(!state.busy);
});

Deno.test("WorkerState: an extractor crash is an internal error", () => {
  const indexer = toyIndexer();
  const state = new WorkerState({
    shardId: 0,
    indexer: {
      ...indexer,
      extractSymbols: () => {
        throw new Error("boom `x`");
      },
    },
  });
  const result = state.run({
    type: "index_shard",
    revision: 1,
    files: [file("/a", "A")],
  });
  assert.ok(result.status === "err" && result.error.code === "internal");
  assert.ok(!state.busy);
});

Deno.test("WorkerState: the generation saturates at u64 max", () => {
  const max = 0xffff_ffff_ffff_ffffn;
  const state = new WorkerState({
    shardId: 0,
    indexer: toyIndexer(),
    cached: { shard_id: 0, revision: 0, index_generation: max, symbols: [] },
  });
  const index = expectIndex(
    state.run({ type: "index_shard", revision: 1, files: [] }),
  );
  assert.equal(index.index_generation, max);
  const safe = new WorkerState({
    shardId: 0,
    indexer: toyIndexer(),
    cached: {
      shard_id: 0,
      revision: 0,
      index_generation: Number.MAX_SAFE_INTEGER,
      symbols: [],
    },
  });
  const bumped = expectIndex(
    safe.run({ type: "index_shard", revision: 1, files: [] }),
  );
  assert.equal(bumped.index_generation, 2n ** 53n);
});

// Incremental indexing equals a full rebuild, for arbitrary edit sequences.
const pathArb = fc.constantFrom("/a", "/b", "/c", "/d", "/é", "/\u{10000}");
const textArb = fc.array(
  fc.constantFrom("A", "B", "a", "Foo", "foo", "\uffff", "\u{1F600}", "!x"),
  { maxLength: 5 },
).map((words) => words.join(" "));
const opArb = fc.oneof(
  fc.record({
    kind: fc.constantFrom("load_files", "index_shard"),
    files: fc.array(fc.record({ path: pathArb, text: textArb }), {
      maxLength: 5,
    }),
  }),
  fc.record({
    kind: fc.constant("update_file"),
    file: fc.record({ path: pathArb, text: textArb }),
  }),
  fc.record({
    kind: fc.constant("cancel_update"),
    file: fc.record({ path: pathArb, text: textArb }),
    after: fc.nat({ max: 4 }),
  }),
);

Deno.test("WorkerState: incremental rebuilds equal full rebuilds (property)", () => {
  fc.assert(
    fc.property(fc.array(opArb, { maxLength: 12 }), (ops) => {
      const state = new WorkerState({ shardId: 0, indexer: toyIndexer() });
      const model = new Map<string, string>();
      let revision = 0;
      for (const op of ops) {
        revision++;
        let request: Request;
        let isCancelled = (): boolean => false;
        if ("files" in op) {
          model.clear();
          for (const f of op.files) model.set(f.path, f.text);
          request = { type: op.kind, revision, files: op.files };
        } else {
          model.set(op.file.path, op.file.text);
          request = { type: "update_file", revision, file: op.file };
          if (op.kind === "cancel_update") {
            let calls = 0;
            isCancelled = () => ++calls > 1 + op.after;
          }
        }
        const result = state.run(request, { isCancelled });
        if (
          request.type !== "load_files" && result.status === "ok"
        ) {
          assert.deepEqual(expectIndex(result).symbols, fullIndex(model));
        }
      }
      const final = expectIndex(
        state.run({
          type: "update_file",
          revision: 99,
          file: { path: "/z", text: "" },
        }),
      );
      model.set("/z", "");
      assert.deepEqual(final.symbols, fullIndex(model));
    }),
    { numRuns: 1000 },
  );
});

Deno.test("WorkerState: incremental equals full with the Java indexer (property)", async () => {
  const { JAVA_INDEXER } = await import("./indexer.ts");
  const { generateJavaCorpus } = await import("./java_corpus.ts");
  const corpus = generateJavaCorpus({
    files: 12,
    root: "/r/",
    methodsPerClass: 1,
  });
  const textArb = fc.oneof(
    fc.constantFrom(...corpus.map((f) => f.text)),
    fc.string({ maxLength: 60 }),
    fc.constantFrom("class A { int a; void b() {} }", "enum E { X, Y }", ""),
  );
  fc.assert(
    fc.property(
      fc.array(
        fc.record({ at: fc.nat({ max: corpus.length }), text: textArb }),
        { maxLength: 6 },
      ),
      (edits) => {
        const state = new WorkerState({ shardId: 0, indexer: JAVA_INDEXER });
        state.run({ type: "index_shard", revision: 1, files: corpus });
        const model = new Map(corpus.map((f) => [f.path, f.text]));
        let revision = 1;
        for (const edit of edits) {
          const path = edit.at < corpus.length
            ? corpus[edit.at].path
            : "/r/New.java";
          model.set(path, edit.text);
          const index = expectIndex(state.run({
            type: "update_file",
            revision: ++revision,
            file: { path, text: edit.text },
          }));
          const all = [...model].flatMap(([p, t]) =>
            JAVA_INDEXER.extractSymbols(p, t)
          );
          assert.deepEqual(index.symbols, JAVA_INDEXER.sortSymbols(all));
        }
      },
    ),
    { numRuns: 60 },
  );
});
