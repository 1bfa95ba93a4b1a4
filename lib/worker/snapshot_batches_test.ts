// Protocol 3.1 batched snapshots on the worker: a replacing load_files,
// appending load_files and a closing appending index_shard build the same
// index as one index_shard with every file.
import assert from "node:assert/strict";
import { JAVA_INDEXER } from "./indexer.ts";
import { WorkerState } from "./state.ts";
import type { FileText, Request } from "../wire/types.ts";

const file = (name: string): FileText => ({
  path: `/w/${name}.java`,
  text: `package w;\npublic class ${name} {\n  void m${name}() {}\n}\n`,
});

function run(state: WorkerState, request: Request) {
  return state.run(request);
}

Deno.test("worker: batches (replace, append, append + rebuild) equal one index_shard", () => {
  const all = ["Alpha", "Beta", "Gamma", "Delta", "Epsilon"].map(file);
  const one = new WorkerState({ shardId: 0, indexer: JAVA_INDEXER });
  const whole = run(one, { type: "index_shard", revision: 1, files: all });
  const batched = new WorkerState({ shardId: 0, indexer: JAVA_INDEXER });
  // A stale file from an earlier snapshot: the replacing batch drops it.
  run(batched, { type: "index_shard", revision: 1, files: [file("Stale")] });
  assert.equal(
    run(batched, { type: "load_files", revision: 2, files: all.slice(0, 2) })
      .status,
    "ok",
  );
  const mid = run(batched, {
    type: "load_files",
    revision: 2,
    files: all.slice(2, 4),
    append: true,
  });
  assert.ok(mid.status === "ok" && mid.value.type === "ack");
  // load_files never rebuilds: stats keep the last generation.
  assert.equal(batched.stats.index_generation, 1);
  assert.equal(batched.stats.file_count, 4);
  const last = run(batched, {
    type: "index_shard",
    revision: 2,
    files: all.slice(4),
    append: true,
  });
  assert.ok(whole.status === "ok" && whole.value.type === "shard_index");
  assert.ok(last.status === "ok" && last.value.type === "shard_index");
  assert.deepEqual(last.value.body.symbols, whole.value.body.symbols);
  assert.equal(batched.stats.file_count, 5);
  assert.equal(
    last.value.body.symbols.some((s) => s.name === "Stale"),
    false,
  );
});

Deno.test("worker: an appended file replaces an earlier text of the same path", () => {
  const state = new WorkerState({ shardId: 0, indexer: JAVA_INDEXER });
  run(state, { type: "load_files", revision: 1, files: [file("Alpha")] });
  const r = run(state, {
    type: "index_shard",
    revision: 1,
    files: [{ path: "/w/Alpha.java", text: "class Renamed {}\n" }],
    append: true,
    omit_symbols: true,
  });
  assert.ok(r.status === "ok" && r.value.type === "shard_summary");
  assert.equal(r.value.body.symbol_count, 1);
  assert.equal(state.stats.file_count, 1);
});

Deno.test("worker: a cancelled appending batch answers cancelled", () => {
  const state = new WorkerState({ shardId: 0, indexer: JAVA_INDEXER });
  const r = state.run(
    {
      type: "load_files",
      revision: 1,
      files: [file("Alpha"), file("Beta")],
      append: true,
    },
    { isCancelled: () => true },
  );
  assert.ok(r.status === "err" && r.error.code === "cancelled");
});
