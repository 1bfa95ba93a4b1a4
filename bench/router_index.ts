/**
 * Distributed indexing benchmark: a generated workspace (default 20,000
 * files, about 40 MB, in two source roots) indexed
 *
 * - in-process (read, extract and sort symbols in this process, the
 *   reference's in-process mode; the baseline);
 * - by the router with 1 worker process (one shard over both roots) and
 *   with 2 (one shard per root), in router-local mode (every symbol is
 *   shipped back and indexed by the router, as in the reference) and in
 *   distributed mode (protocol 3.1: the symbols stay on the workers);
 *
 * all in the same run, several rounds each (every file is edited before
 * each round, since workers reuse the symbols of unchanged texts), reporting
 * medians and the speed-up of 2 workers over 1. After each timed run the
 * bench waits for that setup's workers to write their shard caches (they do
 * so behind the reply), so that work does not land in the next timed run.
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
import { shardCacheFileName } from "../lib/worker/shard_cache.ts";

/** Appends a round marker comment to every file (a full-content change). */
async function touchAll(
  paths: readonly string[],
  round: number,
): Promise<void> {
  const enc = new TextEncoder();
  const dec = new TextDecoder();
  for (const p of paths) {
    const text = dec.decode(Deno.readFileSync(p)).replace(
      /\n\/\/ round \d+\n$/,
      "\n",
    );
    Deno.writeFileSync(p, enc.encode(`${text}// round ${round}\n`));
  }
  // Flush the edits now, so the kernel's write-back of ~40 MB does not land
  // inside the timed rounds (best effort).
  try {
    await new Deno.Command("sync", { stdout: "null", stderr: "null" })
      .output();
  } catch {
    // No `sync` here: the timings are just noisier.
  }
}

/**
 * Waits until the workers wrote their shard caches for a run that started at
 * `since` (they write behind the reply): otherwise that background work would
 * land in the next setup's timed run. Gives up after 10 s.
 */
async function cachesSettled(
  cacheDir: string,
  shards: number,
  since: number,
): Promise<void> {
  const deadline = Date.now() + 10_000;
  for (let id = 0; id < shards; id++) {
    const path = `${cacheDir}/${shardCacheFileName(id)}`;
    while (Date.now() < deadline) {
      const mtime = await Deno.stat(path).then((s) => s.mtime?.getTime() ?? 0)
        .catch(() => 0);
      if (mtime >= since) break;
      await new Promise((r) => setTimeout(r, 20));
    }
  }
}

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

  // On a RAM file system when there is one: the edits before every round
  // and the workers' cache writes then cause no disk write-back, which
  // otherwise lands in the timed runs at random.
  const dir = await Deno.makeTempDir({
    prefix: "loom-bench-",
    dir: await Deno.stat("/dev/shm").then((s) => s.isDirectory, () => false)
      ? "/dev/shm"
      : undefined,
  });
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
    // Router-local mode (the reference design: workers ship every symbol
    // back) and distributed mode (protocol 3.1: symbols stay on the
    // workers), each with one shard over both roots and one shard per root.
    const setups = [
      { name: "router, 1 worker", roots: [`${dir}/ws`], dist: false },
      { name: "router, 2 workers", roots: ws.roots, dist: false },
      { name: "3.1 distributed, 1 worker", roots: [`${dir}/ws`], dist: true },
      { name: "3.1 distributed, 2 workers", roots: ws.roots, dist: true },
    ];
    const routers = await Promise.all(setups.map((s, i) =>
      startRouter({
        roots: s.roots,
        distributedSearch: s.dist,
        spawnWorkers: { cacheDir: `${dir}/cache-${i}` },
      })
    ));
    const times = setups.map(() => [] as number[]);
    const inProcess: number[] = [];
    try {
      for (const router of routers) await router.waitForWorkers();
      const timed = async (xs: number[], fn: () => Promise<unknown>) => {
        const t = performance.now();
        await fn();
        xs.push(performance.now() - t);
      };
      // One untimed warm-up round each (JIT, page cache).
      await inProcessRound();
      for (const router of routers) await router.indexWorkspace();
      for (let r = 0; r < rounds; r++) {
        // Workers keep the symbols of unchanged texts, so every round edits
        // every file (untimed) to measure full re-indexing.
        await touchAll(ws.paths.flat(), r);
        await timed(inProcess, inProcessRound);
        for (const [i, router] of routers.entries()) {
          const since = Date.now() - 5;
          await timed(times[i], async () => {
            const result = await router.indexWorkspace();
            if (result.symbols !== symbolCount) {
              throw new Error(
                `symbol count mismatch: ${result.symbols} vs ${symbolCount}`,
              );
            }
          });
          await cachesSettled(
            `${dir}/cache-${i}`,
            setups[i].roots.length,
            since,
          );
        }
      }
    } finally {
      for (const router of routers) await router.shutdown();
    }
    const row = (name: string, xs: number[]): void =>
      console.log(
        `${name.padEnd(28)} median ${median(xs).toFixed(0).padStart(6)} ms  (${
          xs.map((x) => x.toFixed(0)).join(", ")
        })  ${(ws.bytes / 1e6 / (median(xs) / 1000)).toFixed(1)} MB/s`,
      );
    console.log(`symbols: ${symbolCount}`);
    row("in-process", inProcess);
    setups.forEach((setup, i) => row(setup.name, times[i]));
    // Ratios of medians, and medians of the per-round ratios (the two
    // setups of a round ran back to back, so these follow load drift less).
    const ratio = (x: number[], y: number[]) =>
      `${(median(x) / median(y)).toFixed(2)}x (per round ${
        median(x.map((v, r) => v / y[r])).toFixed(2)
      }x)`;
    console.log(
      `speed-up 2 workers vs 1: router-local ${
        ratio(times[0], times[1])
      }, distributed ${ratio(times[2], times[3])}; ` +
        `2 distributed workers vs in-process: ${ratio(inProcess, times[3])}`,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

if (import.meta.main) {
  await main(Deno.args);
}
