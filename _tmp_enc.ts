import { generateJavaCorpus } from "./lib/worker/java_corpus.ts";
import { JAVA_INDEXER } from "./lib/worker/indexer.ts";
import { WorkerState } from "./lib/worker/state.ts";
import { encodeShardCache, decodeShardCache } from "./lib/worker/shard_cache.ts";
const corpus = generateJavaCorpus({ files: 20000, root: "/shard/", methodsPerClass: 2 });
const st = new WorkerState({ shardId: 0, indexer: JAVA_INDEXER });
const r = st.run({ type: "index_shard", revision: 1, files: corpus });
if (r.status !== "ok" || r.value.type !== "shard_index") throw 0;
const idx = r.value.body;
const times: number[] = []; const dt: number[] = [];
let bytes!: Uint8Array;
for (let i = 0; i < 7; i++) { let t = performance.now(); bytes = encodeShardCache(idx); times.push(performance.now() - t); t = performance.now(); decodeShardCache(bytes, { shardId: 0 }); dt.push(performance.now() - t); }
const med = (x: number[]) => x.sort((a, b) => a - b)[3];
console.log("symbols", idx.symbols.length, "bytes", bytes.length, "encode ms", med(times).toFixed(1), "decode ms", med(dt).toFixed(1));
{
  let t = performance.now();
  const m = new Map<string, number>();
  for (const s of idx.symbols) { if (!m.has(s.name)) m.set(s.name, 1); if (!m.has(s.path)) m.set(s.path, 1); }
  console.log("map pass", (performance.now() - t).toFixed(1), m.size);
  t = performance.now();
  const out = new Uint8Array(25_000_000);
  const view = new DataView(out.buffer);
  let at = 0;
  for (let i = 0; i < idx.symbols.length; i++) { view.setUint32(at, 5, true); view.setUint32(at+4, 6, true); at += 80; if (at > 24_000_000) at = 0; }
  console.log("dataview pass", (performance.now() - t).toFixed(1));
  t = performance.now();
  let n = 0;
  for (const s of idx.symbols) n += s.line + s.column;
  console.log("iterate", (performance.now() - t).toFixed(1));
}
