/**
 * Distributed indexing benchmark: a generated workspace (default 20,000
 * files, about 40 MB, in two source roots) indexed
 *
 * - in-process (read, extract and sort symbols in one process, the
 *   reference's in-process mode; the baseline);
 * - by the router with 1 worker process (one shard over both roots) and
 *   with 2 (one shard per root), in router-local mode (every symbol is
 *   shipped back and indexed by the router, as in the reference) and in
 *   distributed mode (protocol 3.1: the symbols stay on the workers);
 *
 * all in the same run, several runs each (every file is edited before each
 * run, since workers reuse the symbols of unchanged texts), reporting
 * medians and the speed-up of 2 workers over 1 (ratio of medians).
 *
 * Every setup runs in a process of its own (an "agent" of this script, as a
 * router runs in production), and only one setup is alive at a time, so no
 * setup's heap or garbage collection lands in another's timings. The setups
 * take turns in two passes, the second in reverse order. After each timed
 * run the agent waits for its workers to write their shard caches (they do
 * so behind the reply), so that work does not land in the next timed run; a
 * cache that never appears fails the bench.
 *
 * ```sh
 * deno run -A bench/router_index.ts [--files 20000] [--rounds 9]
 * ```
 *
 * @module
 */

import { startRouter } from "../lib/net/router.ts";
import { writeSampleWorkspace } from "../lib/net/sample_workspace.ts";
import { collectJavaFiles } from "../lib/net/workspace_fs.ts";
import { extractJavaSymbols, sortSymbols } from "../lib/worker/java_symbols.ts";
import { flagValue, intFlag, lines, parseFlags } from "../cli/router_flags.ts";
import { LOOM_WORKER_PROGRAM } from "../cli/worker_program.ts";
import { shardCacheFileName } from "../lib/worker/shard_cache.ts";

/** One measured setup, as handed to its agent process. */
interface Setup {
  name: string;
  roots: string[];
  /** Absent for the in-process baseline. */
  router?: { distributed: boolean; cacheDir: string };
}

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
 * land in the next setup's timed run. Throws after 10 s: a worker that
 * cannot write its cache would otherwise skew every later round unnoticed.
 */
async function cachesSettled(
  cacheDir: string,
  shards: number,
  since: number,
): Promise<void> {
  const deadline = Date.now() + 10_000;
  for (let id = 0; id < shards; id++) {
    const path = `${cacheDir}/${shardCacheFileName(id)}`;
    for (;;) {
      const mtime = await Deno.stat(path).then((s) => s.mtime?.getTime() ?? 0)
        .catch(() => 0);
      if (mtime >= since) break;
      if (Date.now() > deadline) {
        throw new Error(`no shard cache written within 10 s: ${path}`);
      }
      await new Promise((r) => setTimeout(r, 20));
    }
  }
}

/** One timed run: milliseconds and the symbols indexed. */
interface RunResult {
  ms: number;
  symbols: number;
}

/**
 * The agent: prepares its setup (router and workers started, one untimed
 * warm-up run), prints `ready`, then answers every `run` line on stdin with
 * a JSON {@link RunResult} line until stdin ends.
 */
async function agent(setup: Setup): Promise<void> {
  const router = setup.router && await startRouter({
    roots: setup.roots,
    distributedSearch: setup.router.distributed,
    spawnWorkers: {
      program: LOOM_WORKER_PROGRAM,
      cacheDir: setup.router.cacheDir,
    },
  });
  const once = async (): Promise<RunResult> => {
    const t = performance.now();
    if (router === undefined) {
      let symbols = 0;
      for (const root of setup.roots) {
        const snap = await collectJavaFiles(root);
        symbols += sortSymbols(
          snap.files.flatMap((f) => extractJavaSymbols(f.path, f.text)),
        ).length;
      }
      return { ms: performance.now() - t, symbols };
    }
    const since = Date.now() - 5;
    const { symbols } = await router.indexWorkspace();
    const ms = performance.now() - t;
    await cachesSettled(setup.router!.cacheDir, setup.roots.length, since);
    return { ms, symbols };
  };
  const out = (line: string): Promise<number> =>
    Deno.stdout.write(new TextEncoder().encode(`${line}\n`));
  try {
    await router?.waitForWorkers();
    await once();
    await out("ready");
    for await (const line of lines(Deno.stdin.readable)) {
      if (line !== "run") throw new Error(`unexpected agent input: ${line}`);
      await out(JSON.stringify(await once()));
    }
  } finally {
    await router?.shutdown();
  }
}

/** The parent's handle on one agent process. */
interface Agent {
  /** Sends a line and returns the agent's next line of output. */
  ask(line?: string): Promise<string>;
  close(): Promise<void>;
}

function startAgent(setup: Setup): Agent {
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-read",
      "--allow-write",
      "--allow-net",
      "--allow-env",
      "--allow-run",
      "--allow-sys",
      import.meta.url,
      "--agent",
      JSON.stringify(setup),
    ],
    stdin: "piped",
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const input = child.stdin.getWriter();
  const output = lines(child.stdout)[Symbol.asyncIterator]();
  return {
    async ask(line) {
      if (line !== undefined) {
        await input.write(new TextEncoder().encode(`${line}\n`));
      }
      const next = await output.next();
      if (next.done) throw new Error(`${setup.name}: the agent exited`);
      return next.value;
    },
    async close() {
      await input.close().catch(() => {});
      await child.status;
    },
  };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** Runs the benchmark and prints the table. */
async function main(args: string[]): Promise<void> {
  const flags = parseFlags(args, {
    values: ["files", "rounds", "agent"],
    bools: [],
  });
  const agentSetup = flagValue(flags, "agent");
  if (agentSetup !== undefined) return await agent(JSON.parse(agentSetup));
  const totalFiles = intFlag(flags, "files", 20_000);
  const rounds = intFlag(flags, "rounds", 9);

  // Not below /dev (/dev/shm is tempting): Deno lets only a process with
  // every permission touch paths there, and the agents and workers run with
  // the narrower flags that `deno task` uses.
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
    const router = (distributed: boolean, i: number) => ({
      distributed,
      cacheDir: `${dir}/cache-${i}`,
    });
    const setups: Setup[] = [
      { name: "in-process", roots: ws.roots },
      {
        name: "router, 1 worker",
        roots: [`${dir}/ws`],
        router: router(false, 1),
      },
      { name: "router, 2 workers", roots: ws.roots, router: router(false, 2) },
      {
        name: "3.1 distributed, 1 worker",
        roots: [`${dir}/ws`],
        router: router(true, 3),
      },
      {
        name: "3.1 distributed, 2 workers",
        roots: ws.roots,
        router: router(true, 4),
      },
    ];
    // One setup is alive at a time: idle routers and workers still collect
    // garbage now and then (V8 shrinks an idle heap some seconds after a
    // burst), and with every setup alive that work landed in the others'
    // timed runs. Two passes, the second in reverse order, spread slow
    // drift in machine speed evenly over the setups.
    const runs = setups.map(() => [] as RunResult[]);
    const passes: [number[], number][] = [
      [[...setups.keys()], Math.ceil(rounds / 2)],
      [[...setups.keys()].reverse(), Math.floor(rounds / 2)],
    ];
    let edits = 0;
    for (const [order, count] of passes) {
      for (const i of count > 0 ? order : []) {
        const agent = startAgent(setups[i]);
        try {
          const ready = await agent.ask();
          if (ready !== "ready") throw new Error(`${setups[i].name}: ${ready}`);
          for (let r = 0; r < count; r++) {
            // Workers keep the symbols of unchanged texts, so every run
            // follows an edit of every file (untimed): full re-indexing.
            await touchAll(ws.paths.flat(), edits++);
            runs[i].push(JSON.parse(await agent.ask("run")));
          }
        } finally {
          await agent.close();
        }
      }
    }
    const times = runs.map((xs) => xs.map((x) => x.ms));
    const symbols = new Set(runs.flat().map((x) => x.symbols));
    if (symbols.size !== 1) {
      throw new Error(`symbol counts differ: ${[...symbols].join(", ")}`);
    }
    console.log(`symbols: ${[...symbols][0]}`);
    setups.forEach((setup, i) =>
      console.log(
        `${setup.name.padEnd(28)} median ${
          median(times[i]).toFixed(0).padStart(6)
        } ms  (${times[i].map((x) => x.toFixed(0)).join(", ")})  ${
          (ws.bytes / 1e6 / (median(times[i]) / 1000)).toFixed(1)
        } MB/s`,
      )
    );
    const ratio = (x: number[], y: number[]) =>
      `${(median(x) / median(y)).toFixed(2)}x`;
    console.log(
      `speed-up 2 workers vs 1: router-local ${
        ratio(times[1], times[2])
      }, distributed ${ratio(times[3], times[4])}; ` +
        `2 distributed workers vs in-process: ${ratio(times[0], times[4])}`,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

if (import.meta.main) {
  await main(Deno.args);
}
