/**
 * Medians for `index.bench.ts` (which reports averages and percentiles):
 * runs the same extractors interleaved, round after round, on the same
 * corpora and prints each one's median time, MB/s and ratio to the naive
 * per-line scanner. Interleaving keeps background load from favouring one
 * side.
 *
 * Run: `deno run --allow-read --allow-env bench/_index_medians.ts [rounds]`
 *
 * @module
 */

import { generateJavaCorpus } from "../lib/worker/java_corpus.ts";
import { extractJavaSymbols } from "../lib/worker/java_symbols.ts";
import { naiveScanJava, naiveScanJavaLines } from "./_naive_java_scanner.ts";

const rounds = Number(Deno.args[0] ?? 60);

for (const style of ["typical", "dense"] as const) {
  const corpus = generateJavaCorpus({ files: 1000, seed: 1, style });
  let chars = 0;
  for (const f of corpus) chars += f.text.length;
  const runs: [string, () => void][] = [
    ["naive regex, per line", () => {
      for (const f of corpus) naiveScanJavaLines(f.path, f.text);
    }],
    ["regex, whole text", () => {
      for (const f of corpus) naiveScanJava(f.path, f.text);
    }],
    ["extractJavaSymbols", () => {
      for (const f of corpus) extractJavaSymbols(f.path, f.text);
    }],
  ];
  const times = runs.map(() => [] as number[]);
  for (let r = 0; r < rounds + 5; r++) {
    runs.forEach(([, run], i) => {
      const t0 = performance.now();
      run();
      if (r >= 5) times[i].push(performance.now() - t0); // 5 warm-up rounds
    });
  }
  const medians = times.map((t) => t.sort((a, b) => a - b)[t.length >> 1]);
  console.log(`${style} corpus: 1,000 files, ${(chars / 1e6).toFixed(2)} MB`);
  runs.forEach(([name], i) => {
    const ms = medians[i];
    console.log(
      `  ${name.padEnd(24)} median ${ms.toFixed(2).padStart(6)} ms  ` +
        `${(chars / 1e6 / (ms / 1000)).toFixed(0).padStart(4)} MB/s  ` +
        `x${(medians[0] / ms).toFixed(2)} vs naive`,
    );
  });
}
