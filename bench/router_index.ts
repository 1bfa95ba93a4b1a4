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

/** Runs the benchmark and prints the table. */
async function main(args: string[]): Promise<void> {
  const flags = parseFlags(args, { values: ["files", "rounds"], bools: [] });
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

    // The three setups run round-robin (one round of each in turn) so a
    // change in machine load hits all of them alike.
    let symbolCount = -1;
    const inProcessRound = async (): Promise<void> => {
      let n = 0;
      for (const root of ws.roots) {
        const snap = await collectJavaFiles(root);
        n += sortSymbols(
          snap.files.flatMap((f) => extractJavaSymbols(f.path, f.text)),
        ).length;
      }
      symbolCount = n;
    };
    const one = await startRouter({
      roots: [`${dir}/ws`],
      spawnWorkers: { cacheDir: `${dir}/cache-1` },
    });
    const two = await startRouter({
      roots: ws.roots,
      spawnWorkers: { cacheDir: `${dir}/cache-2` },
    });
    const times = {
      inProcess: [] as number[],
      one: [] as number[],
      two: [] as number[],
    };
    try {
      await one.waitForWorkers();
      await two.waitForWorkers();
      const timed = async (xs: number[], fn: () => Promise<unknown>) => {
        const t = performance.now();
        await fn();
        xs.push(performance.now() - t);
      };
      // One untimed warm-up round each (JIT, page cache).
      await inProcessRound();
      await one.indexWorkspace();
      await two.indexWorkspace();
      for (let r = 0; r < rounds; r++) {
        await timed(times.inProcess, inProcessRound);
        for (
          const [router, xs] of [[one, times.one], [two, times.two]] as const
        ) {
          await timed(xs, async () => {
            const result = await router.indexWorkspace();
            if (result.symbols !== symbolCount) {
              throw new Error(
                `symbol count mismatch: ${result.symbols} vs ${symbolCount}`,
              );
            }
          });
        }
      }
    } finally {
      await one.shutdown();
      await two.shutdown();
    }
    const row = (name: string, xs: number[]): void =>
      console.log(
        `${name.padEnd(22)} median ${median(xs).toFixed(0).padStart(6)} ms  (${
          xs.map((x) => x.toFixed(0)).join(", ")
        })  ${(ws.bytes / 1e6 / (median(xs) / 1000)).toFixed(1)} MB/s`,
      );
    console.log(`symbols: ${symbolCount}`);
    row("in-process", times.inProcess);
    row("router, 1 worker", times.one);
    row("router, 2 workers", times.two);
    console.log(
      `speed-up 2 workers vs 1: ${
        (median(times.one) / median(times.two)).toFixed(2)
      }x; 2 workers vs in-process: ${
        (median(times.inProcess) / median(times.two)).toFixed(2)
      }x`,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

if (import.meta.main) {
  await main(Deno.args);
}
