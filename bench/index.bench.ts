/**
 * Symbol extraction throughput: the declaration-level parser against naive
 * regex declaration scanners, on the same generated corpora of 1,000 Java
 * files (about 2 MB each). Divide the corpus size in the bench names by the
 * per-iteration time for MB/s.
 *
 * - `typical`: methods with full Javadoc and realistic bodies (default
 *   corpus style).
 * - `dense`: short Javadoc and bodies, so declarations are a larger share of
 *   the text (the harder case for the parser, which skips bodies natively).
 *
 * Run: `deno bench --allow-read --allow-env bench/index.bench.ts`
 *
 * @module
 */

import { generateJavaCorpus } from "../lib/worker/java_corpus.ts";
import { extractJavaSymbols, sortSymbols } from "../lib/worker/java_symbols.ts";
import type { FileText, Symbol } from "../lib/wire/types.ts";
import { naiveScanJava, naiveScanJavaLines } from "./_naive_java_scanner.ts";

function size(corpus: FileText[]): string {
  let chars = 0;
  for (const f of corpus) chars += f.text.length; // ASCII: chars == bytes
  return `${(chars / 1e6).toFixed(2)} MB`;
}

for (const style of ["typical", "dense"] as const) {
  const corpus = generateJavaCorpus({ files: 1000, seed: 1, style });
  const label = `1,000 files, ${size(corpus)}`;
  const group = `extract (${style})`;

  Deno.bench({
    name: `naive regex scanner, per line (${style}, ${label})`,
    group,
    baseline: true,
  }, () => {
    let n = 0;
    for (const f of corpus) n += naiveScanJavaLines(f.path, f.text).length;
    if (n === 0) throw new Error("no symbols");
  });

  Deno.bench({
    name: `regex scanner, whole text (${style}, ${label})`,
    group,
  }, () => {
    let n = 0;
    for (const f of corpus) n += naiveScanJava(f.path, f.text).length;
    if (n === 0) throw new Error("no symbols");
  });

  Deno.bench({
    name: `extractJavaSymbols (${style}, ${label})`,
    group,
  }, () => {
    let n = 0;
    for (const f of corpus) n += extractJavaSymbols(f.path, f.text).length;
    if (n === 0) throw new Error("no symbols");
  });

  Deno.bench({
    name: `extractJavaSymbols + sortSymbols, shard index (${style}, ${label})`,
    group,
  }, () => {
    const all: Symbol[] = [];
    for (const f of corpus) {
      for (const s of extractJavaSymbols(f.path, f.text)) all.push(s);
    }
    if (sortSymbols(all).length === 0) throw new Error("no symbols");
  });
}
