// Distributed search mode (protocol 3.1): distributed == router-local.
import assert from "node:assert/strict";
import fc from "fast-check";
import {
  distributedWorkspaceSymbols,
  evaluateShardSearch,
  localSearchTarget,
  ScanCountCache,
  type ShardSearchTarget,
} from "./distributed_search.ts";
import { ShardSymbols } from "./shard_symbols.ts";
import { FALLBACK_SCAN_LIMIT, SymbolIndex } from "./symbol_index.ts";
import type { SymbolMatch } from "./ranking.ts";
import { WorkerState } from "../worker/state.ts";
import { JAVA_INDEXER } from "../worker/indexer.ts";
import { decodeRpcPayload, encodeRpcPayload } from "../wire/codec.ts";
import type {
  FileText,
  Request,
  RpcResult,
  SearchShardSymbolsRequest,
  Symbol,
  SymbolMatches,
} from "../wire/types.ts";

const key = (ms: SymbolMatch[]) =>
  ms.map((m) => [
    m.symbol.name,
    m.symbol.path,
    m.symbol.line,
    m.symbol.column,
    m.shardId,
    m.stale,
    m.kind,
    m.score,
  ]);

/** Sends a request through the codec to a worker and decodes its answer. */
function overWire(state: WorkerState, request: Request): RpcResult {
  const req = decodeRpcPayload(
    encodeRpcPayload({ type: "request", body: request }),
  );
  assert.ok(req.type === "request");
  const result = state.run(req.body);
  const back = decodeRpcPayload(
    encodeRpcPayload({ type: "response", body: result }),
  );
  assert.ok(back.type === "response");
  return back.body;
}

function workerTarget(state: WorkerState, shardId: number): ShardSearchTarget {
  return {
    shardId,
    search(request: SearchShardSymbolsRequest): SymbolMatches {
      const r = overWire(state, request);
      assert.ok(r.status === "ok" && r.value.type === "symbol_matches");
      return r.value.body;
    },
  };
}

// Generated Java workspaces: class and member names from a small alphabet
// so queries hit prefixes, fuzzy matches, trigrams and empty buckets.
const ident = fc.array(fc.constantFrom(..."aAbBcC_x9".split("")), {
  minLength: 1,
  maxLength: 6,
}).map((a) => /^[0-9]/.test(a.join("")) ? `K${a.join("")}` : a.join(""));
const javaFile = fc.tuple(ident, fc.array(ident, { maxLength: 4 })).map((
  [cls, members],
) =>
  `class ${cls} {\n${
    members.map((m, i) => `  int ${m}${i};\n  void ${m}() {}\n`).join("")
  }}\n`
);
const workspace = fc.array(
  fc.tuple(fc.boolean(), fc.array(javaFile, { maxLength: 5 })),
  { minLength: 1, maxLength: 4 },
);
const query = fc.oneof(
  { arbitrary: fc.constant(""), weight: 1 },
  {
    arbitrary: fc.array(fc.constantFrom(..."aAbBcCx_9zK".split("")), {
      minLength: 1,
      maxLength: 2,
    }).map((a) => a.join("")),
    weight: 3,
  },
  {
    arbitrary: fc.array(fc.constantFrom(..."abcAB_x9z".split("")), {
      minLength: 3,
      maxLength: 5,
    }).map((a) => a.join("")),
    weight: 6,
  },
);

Deno.test("distributed search == router-local search on a generated workspace (property)", async () => {
  await fc.assert(
    fc.asyncProperty(
      workspace,
      query,
      fc.integer({ min: 0, max: 12 }),
      async (shards, q, limit) => {
        const index = new SymbolIndex();
        const targets: ShardSearchTarget[] = [];
        for (let id = 0; id < shards.length; id++) {
          const [v31, texts] = shards[id];
          const files: FileText[] = texts.map((text, i) => ({
            path: `/root${id}/src/F${i}.java`,
            text,
          }));
          // Router-local mode: a 3.0-style worker ships its full index.
          const plain = new WorkerState({ shardId: id, indexer: JAVA_INDEXER });
          const full = plain.run({ type: "index_shard", revision: 1, files });
          assert.ok(full.status === "ok" && full.value.type === "shard_index");
          index.replaceShard(id, full.value.body.symbols);
          if (v31) {
            // A 3.1 worker keeps its symbols and answers with a summary.
            const w = new WorkerState({ shardId: id, indexer: JAVA_INDEXER });
            const r = overWire(w, {
              type: "index_shard",
              revision: 1,
              files,
              omit_symbols: true,
            });
            assert.ok(r.status === "ok" && r.value.type === "shard_summary");
            assert.equal(
              r.value.body.symbol_count,
              full.value.body.symbols.length,
            );
            targets.push(workerTarget(w, id));
          } else {
            // Mixed workspace: a 3.0 shard searched from the router's copy.
            targets.push(localSearchTarget(index.shard(id)!));
          }
        }
        const local = index.workspaceSymbols(q, { limit });
        const distributed = await distributedWorkspaceSymbols(targets, q, {
          limit,
        });
        assert.deepEqual(key(distributed), key(local));
      },
    ),
    { numRuns: 500 },
  );
});

Deno.test("distributed scan rule over more than FALLBACK_SCAN_LIMIT symbols", async () => {
  // No name starts with "9": the scan rule scores only the global first
  // FALLBACK_SCAN_LIMIT symbols, which needs the extra counting round.
  const per = Math.ceil(FALLBACK_SCAN_LIMIT * 0.6);
  const make = (shard: number) => {
    const out: Symbol[] = [];
    for (let i = 0; i < per; i++) {
      const n = String(i * 2 + shard).padStart(6, "0");
      out.push({
        name: `x${n}9`,
        path: `/r${shard}/X.java`,
        line: i,
        column: 0,
      });
    }
    return out;
  };
  const index = new SymbolIndex();
  const targets: ShardSearchTarget[] = [];
  let rounds = 0;
  for (const id of [0, 1]) {
    const symbols = make(id);
    index.replaceShard(id, symbols);
    const shard = new ShardSymbols(id, symbols);
    targets.push({
      shardId: id,
      search: (request) => {
        rounds++;
        return evaluateShardSearch(shard, request);
      },
    });
  }
  const scanCache = new ScanCountCache();
  const got = await distributedWorkspaceSymbols(targets, "99", {
    limit: 20,
    scanCache,
  });
  assert.deepEqual(key(got), key(index.workspaceSymbols("99", { limit: 20 })));
  assert.ok(got.length > 0);
  assert.equal(rounds, 6, "round 1, the counting round, the scan round");
  // The counts are cached for these index versions: no counting round.
  rounds = 0;
  const again = await distributedWorkspaceSymbols(targets, "#9", {
    limit: 20,
    scanCache,
  });
  assert.deepEqual(
    key(again),
    key(index.workspaceSymbols("#9", { limit: 20 })),
  );
  assert.equal(rounds, 4);
});

Deno.test("distributed search flags stale local shards and validates limit", async () => {
  const t = localSearchTarget(
    new ShardSymbols(2, [{ name: "Foo", path: "F.java", line: 0, column: 0 }]),
    true,
  );
  const [hit] = await distributedWorkspaceSymbols([t], "foo");
  assert.equal(hit.stale, true);
  assert.equal(hit.shardId, 2);
  await assert.rejects(
    () => distributedWorkspaceSymbols([t], "foo", { limit: -1 }),
    RangeError,
  );
  assert.deepEqual(await distributedWorkspaceSymbols([], "foo"), []);
  assert.throws(
    () =>
      evaluateShardSearch(new ShardSymbols(0, []), {
        type: "search_shard_symbols",
        query: "",
        limit: 1,
        mode: "unknown",
      }),
    RangeError,
  );
});

Deno.test("a trigram hit without matches still applies the trigram rule", async () => {
  // "9aac": only the trigram "aac" exists (shard 0), its candidates do not
  // match, and the local index answers nothing; shard 1's own scan (which
  // would match "K9a9aC") must not leak in.
  const s = (name: string, path: string) => ({
    name,
    path,
    line: 0,
    column: 0,
  });
  const index = new SymbolIndex();
  index.replaceShard(0, [s("aaC", "/0/A.java"), s("aaC0", "/0/A.java")]);
  index.replaceShard(1, [s("K9a9aC", "/1/K.java")]);
  const targets = [0, 1].map((id) => localSearchTarget(index.shard(id)!));
  assert.deepEqual(index.workspaceSymbols("9aac"), []);
  assert.deepEqual(await distributedWorkspaceSymbols(targets, "9aac"), []);
});
