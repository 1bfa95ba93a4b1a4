// Distributed search mode (protocol 3.1): the worker side.
import assert from "node:assert/strict";
import { WorkerState } from "./state.ts";
import { JAVA_INDEXER } from "./indexer.ts";
import { omitSymbols, WorkerSearch } from "./search.ts";
import { SymbolIndex } from "../router/symbol_index.ts";
import type {
  RpcResult,
  SearchShardSymbolsRequest,
  ShardIndex,
  SymbolMatches,
} from "../wire/types.ts";

const search = (
  query: string,
  extra?: Partial<SearchShardSymbolsRequest>,
): SearchShardSymbolsRequest => ({
  type: "search_shard_symbols",
  query,
  limit: 200,
  ...extra,
});

function body(result: RpcResult): SymbolMatches {
  assert.ok(result.status === "ok" && result.value.type === "symbol_matches");
  return result.value.body;
}

const names = (b: SymbolMatches) => b.matches.map((m) => m.name);

const FILES = [
  { path: "/w/src/HashMap.java", text: "class HashMap { int size; }\n" },
  { path: "/w/src/Hello.java", text: "class Hello { void hm() {} }\n" },
];

Deno.test("worker answers search_shard_symbols from its last built index", () => {
  const state = new WorkerState({ shardId: 4, indexer: JAVA_INDEXER });
  const empty = body(state.run(search("hm")));
  assert.equal(empty.mode, "none");
  assert.deepEqual(empty.matches, []);
  const built = state.run({ type: "index_shard", revision: 3, files: FILES });
  assert.ok(built.status === "ok" && built.value.type === "shard_index");
  const b = body(state.run(search("hm")));
  assert.equal(b.shard_id, 4);
  assert.equal(b.revision, 3);
  assert.equal(b.index_generation, 1);
  assert.equal(b.symbol_count, built.value.body.symbols.length);
  // Same ranking as the router-local index over the same symbols.
  const index = new SymbolIndex();
  index.replaceShard(4, built.value.body.symbols);
  const local = index.workspaceSymbols("hm");
  assert.deepEqual(names(b), local.map((m) => m.symbol.name));
  assert.deepEqual(
    b.matches.map((m) => [m.kind, m.score]),
    local.map((m) => [m.kind, m.score]),
  );
  // LoadFiles does not rebuild: the searchable index stays.
  state.run({ type: "load_files", revision: 5, files: [] });
  assert.deepEqual(names(body(state.run(search("hm")))), names(b));
  // UpdateFile rebuilds and the new symbol is searchable.
  state.run({
    type: "update_file",
    revision: 6,
    file: { path: "/w/src/Hm.java", text: "class HmNew {}\n" },
  });
  assert.equal(names(body(state.run(search("HmN"))))[0], "HmNew");
});

Deno.test("a cached index is searchable before any rebuild", () => {
  const cached: ShardIndex = {
    shard_id: 1,
    revision: 9,
    index_generation: 7,
    symbols: [{ name: "Cached", path: "/c/C.java", line: 0, column: 6 }],
  };
  const state = new WorkerState({ shardId: 1, indexer: JAVA_INDEXER, cached });
  const b = body(state.run(search("cac")));
  assert.deepEqual(names(b), ["Cached"]);
  assert.equal(b.revision, 9);
  assert.equal(b.index_generation, 7);
});

Deno.test("omit_symbols answers rebuilds with shard_summary", () => {
  const state = new WorkerState({ shardId: 0, indexer: JAVA_INDEXER });
  const persisted: number[] = [];
  const r = state.run(
    { type: "index_shard", revision: 2, files: FILES, omit_symbols: true },
    { persist: (index) => void persisted.push(index.symbols.length) },
  );
  assert.ok(r.status === "ok" && r.value.type === "shard_summary");
  assert.deepEqual(r.value.body, {
    shard_id: 0,
    revision: 2,
    index_generation: 1,
    symbol_count: persisted[0],
  });
  const u = state.run({
    type: "update_file",
    revision: 3,
    file: FILES[0],
    omit_symbols: true,
  });
  assert.ok(u.status === "ok" && u.value.type === "shard_summary");
  // Without the flag (or with false) the 3.0 answer is unchanged.
  const full = state.run({
    type: "update_file",
    revision: 4,
    file: FILES[0],
    omit_symbols: false,
  });
  assert.ok(full.status === "ok" && full.value.type === "shard_index");
  // Errors pass through untouched.
  const error: RpcResult = {
    status: "err",
    error: {
      code: "cancelled",
      message: "request cancelled",
      retryable: true,
      details: null,
    },
  };
  assert.equal(
    omitSymbols({
      type: "index_shard",
      revision: 1,
      files: [],
      omit_symbols: true,
    }, error),
    error,
  );
});

Deno.test("search requests are queued and validate the mode", () => {
  const state = new WorkerState({ shardId: 0, indexer: JAVA_INDEXER });
  assert.equal(state.isImmediate(search("x")), false);
  const r = state.run(search("x", { mode: "unknown" }));
  assert.ok(r.status === "err" && r.error.code === "invalid_request");
  const ws = new WorkerSearch(0);
  ws.setIndex({
    shard_id: 0,
    revision: 1,
    index_generation: 1,
    symbols: [
      { name: "a1", path: "/A.java", line: 0, column: 0 },
      { name: "a2", path: "/A.java", line: 1, column: 0 },
    ],
  });
  // The router's scan plan: only the first `scan_count` symbols score.
  const scan = ws.search(search("2", { mode: "scan", scan_count: 1 }));
  assert.equal(scan.mode, "scan");
  assert.deepEqual(names(scan), []);
  const all = ws.search(search("", { limit: 1 }));
  assert.equal(all.mode, "all");
  assert.deepEqual(names(all), ["a1"]);
});
