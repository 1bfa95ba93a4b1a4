/**
 * Symbol extraction throughput: the declaration-level parser against a naive
 * regex declaration scanner, on the same generated corpus of 1,000 Java
 * files (about 2 MB). Divide the corpus size in the bench names by the
 * per-iteration time for MB/s.
 *
 * Run: `deno bench --allow-read --allow-env bench/index.bench.ts`
 *
 * @module
 */

import { generateJavaCorpus } from "../lib/worker/java_corpus.ts";
import { extractJavaSymbols, sortSymbols } from "../lib/worker/java_symbols.ts";
import type { Symbol } from "../lib/wire/types.ts";
import { naiveScanJava } from "./_naive_java_scanner.ts";

const corpus = generateJavaCorpus({ files: 1000, seed: 1 });
let chars = 0;
for (const f of corpus) chars += f.text.length; // ASCII: chars == bytes
const size = `${(chars / 1e6).toFixed(2)} MB`;

Deno.bench({
  name: `naive regex scanner, 1,000 files (${size})`,
  group: "extract",
  baseline: true,
}, () => {
  let n = 0;
  for (const f of corpus) n += naiveScanJava(f.path, f.text).length;
  if (n === 0) throw new Error("no symbols");
});

Deno.bench({
  name: `extractJavaSymbols, 1,000 files (${size})`,
  group: "extract",
}, () => {
  let n = 0;
  for (const f of corpus) n += extractJavaSymbols(f.path, f.text).length;
  if (n === 0) throw new Error("no symbols");
});

Deno.bench({
  name: `extractJavaSymbols + sortSymbols (shard index), 1,000 files (${size})`,
  group: "extract",
}, () => {
  const all: Symbol[] = [];
  for (const f of corpus) {
    for (const s of extractJavaSymbols(f.path, f.text)) all.push(s);
  }
  if (sortSymbols(all).length === 0) throw new Error("no symbols");
});
