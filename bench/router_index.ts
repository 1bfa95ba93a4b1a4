/**
 * Distributed indexing benchmark: a generated workspace (default 20,000
 * files, about 40 MB, in two source roots) indexed
 *
 * - in-process (read, extract and sort symbols in this process, the
 *   reference's in-process mode; the baseline);
 * - by the router with 1 worker process (one shard over both roots);
 * - by the router with 2 worker processes (one shard per root);
 *
 * all in the same run, several rounds each, reporting medians and the
 * speed-up of 2 workers over 1.
 *
 * ```sh
 * deno run -A bench/router_index.ts [--files 20000] [--rounds 5]
 * ```
 *
 * @module
 */

import { startRouter } from "../lib/net/router.ts";
import { writeSampleWorkspace } from "../lib/net/sample_workspace.ts";
import { collectJavaFiles } from "../lib/net/workspace_fs.ts";
import { extractJavaSymbols, sortSymbols } from "../lib/worker/java_symbols.ts";
import { flagValue, parseFlags } from "../cli/_router_cli.ts";

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

const flags = parseFlags(Deno.args, { values: ["files", "rounds"], bools: [] });
const totalFiles = Number(flagValue(flags, "files") ?? 20_000);
const rounds = Number(flagValue(flags, "rounds") ?? 5);

const dir = await Deno.makeTempDir({ prefix: "loom-bench-" });
try {
  const ws = await writeSampleWorkspace(`${dir}/ws`, {
    roots: ["left", "right"],
    filesPerRoot: Math.ceil(totalFiles / 2),
    seed: 7,
  });
  console.log(
    `workspace: ${ws.files} files, ${
      (ws.bytes / 1e6).toFixed(1)
    } MB, ${navigator.hardwareConcurrency} CPUs, ${rounds} rounds`,
  );

  const inProcess: number[] = [];
  let symbolCount = 0;
  for (let r = 0; r < rounds; r++) {
    const t = performance.now();
    let n = 0;
    for (const root of ws.roots) {
      const snap = await collectJavaFiles(root);
      const symbols = sortSymbols(
        snap.files.flatMap((f) => extractJavaSymbols(f.path, f.text)),
      );
      n += symbols.length;
    }
    inProcess.push(performance.now() - t);
    symbolCount = n;
  }

  const distributed = async (roots: string[]): Promise<number[]> => {
    const times: number[] = [];
    const router = await startRouter({
      roots,
      spawnWorkers: { cacheDir: `${dir}/cache-${roots.length}` },
    });
    try {
      await router.waitForWorkers();
      for (let r = 0; r < rounds; r++) {
        const t = performance.now();
        const result = await router.indexWorkspace();
        times.push(performance.now() - t);
        if (result.symbols !== symbolCount) {
          throw new Error(
            `symbol count mismatch: ${result.symbols} vs ${symbolCount}`,
          );
        }
      }
    } finally {
      await router.shutdown();
    }
    return times;
  };
  const one = await distributed([`${dir}/ws`]);
  const two = await distributed(ws.roots);

  const row = (name: string, xs: number[]): void =>
    console.log(
      `${name.padEnd(22)} median ${median(xs).toFixed(0).padStart(6)} ms  (${
        xs.map((x) => x.toFixed(0)).join(", ")
      })  ${(ws.bytes / 1e6 / (median(xs) / 1000)).toFixed(1)} MB/s`,
    );
  console.log(`symbols: ${symbolCount}`);
  row("in-process", inProcess);
  row("router, 1 worker", one);
  row("router, 2 workers", two);
  console.log(
    `speed-up 2 workers vs 1: ${(median(one) / median(two)).toFixed(2)}x; ` +
      `2 workers vs in-process: ${
        (median(inProcess) / median(two)).toFixed(2)
      }x`,
  );
} finally {
  await Deno.remove(dir, { recursive: true });
}
