/**
 * Worker request handling on a 20,000-file shard: `UpdateFile` (one file
 * re-parsed, the sorted index patched) against a full rebuild (every file
 * parsed, the whole index sorted) and against a rebuild that re-sorts the
 * cached per-file symbols (what the reference's incremental database saves).
 * Persisting is left out of these cases (a no-op callback): the worker
 * process writes the cache behind the reply. Cache encode/decode of the same
 * shard are measured in their own group.
 *
 * Run: `deno bench --allow-read bench/worker.bench.ts`
 *
 * @module
 */

import { generateJavaCorpus } from "../lib/worker/java_corpus.ts";
import { JAVA_INDEXER } from "../lib/worker/indexer.ts";
import { WorkerState } from "../lib/worker/state.ts";
import {
  decodeShardCache,
  encodeShardCache,
} from "../lib/worker/shard_cache.ts";
import type { FileText, RpcResult } from "../lib/wire/types.ts";

const FILES = 20_000;
const corpus: FileText[] = generateJavaCorpus({
  files: FILES,
  root: "/shard/",
  methodsPerClass: 2,
});

function check(result: RpcResult): void {
  if (result.status !== "ok" || result.value.type !== "shard_index") {
    throw new Error(`unexpected result: ${Deno.inspect(result)}`);
  }
}

const warm = new WorkerState({ shardId: 0, indexer: JAVA_INDEXER });
check(warm.run({ type: "index_shard", revision: 1, files: corpus }));
const target = corpus[FILES >> 1];
const edits = [
  { path: target.path, text: target.text + "\nclass Added { int field; }\n" },
  target,
];
let revision = 1;
let toggle = 0;

Deno.bench({
  name: "UpdateFile (one file changed)",
  group: "worker 20k files",
  n: 200,
  warmup: 20,
  fn() {
    check(warm.run({
      type: "update_file",
      revision: ++revision,
      file: edits[toggle++ & 1],
    }));
  },
});

Deno.bench({
  name: "IndexShard, full rebuild (parse every file)",
  group: "worker 20k files",
  baseline: true,
  n: 5,
  warmup: 1,
  fn() {
    const fresh = new WorkerState({ shardId: 0, indexer: JAVA_INDEXER });
    check(fresh.run({ type: "index_shard", revision: 1, files: corpus }));
  },
});

const cached = new WorkerState({ shardId: 0, indexer: JAVA_INDEXER });
check(cached.run({ type: "index_shard", revision: 1, files: corpus }));

Deno.bench({
  name: "IndexShard, same files (cached parses, full re-sort)",
  group: "worker 20k files",
  n: 10,
  warmup: 1,
  fn() {
    check(cached.run({ type: "index_shard", revision: 1, files: corpus }));
  },
});

const built = cached.run({ type: "index_shard", revision: 2, files: corpus });
if (built.status !== "ok" || built.value.type !== "shard_index") {
  throw new Error("index_shard failed");
}
const shardIndex = built.value.body;
const cacheBytes = encodeShardCache(shardIndex);

Deno.bench({
  name: `encodeShardCache (${shardIndex.symbols.length} symbols)`,
  group: "shard cache 20k files",
  n: 10,
  warmup: 2,
  fn() {
    encodeShardCache(shardIndex);
  },
});

Deno.bench({
  name: `decodeShardCache (${cacheBytes.length} bytes)`,
  group: "shard cache 20k files",
  n: 10,
  warmup: 2,
  fn() {
    decodeShardCache(cacheBytes, { shardId: 0 });
  },
});
