/**
 * `deno task demo`: a guided tour of distributed indexing, entirely local.
 *
 * 1. generates a sample Java workspace (3 roots, 3,000 files) in a temp dir;
 * 2. starts a router that spawns one worker process per root and indexes;
 * 3. runs a few workspace symbol queries (timings and `file:line:col`);
 * 4. sends an unsaved edit through the router's overlay;
 * 5. kills one worker, waits for the supervisor to restart it, and shows the
 *    rehydrated worker still has the unsaved edit;
 * 6. restarts the router on the same cache to show a warm start;
 * 7. re-indexes in distributed mode (protocol 3.1: symbols stay on the
 *    workers) and checks a query against the router-local ranking;
 * 8. shuts everything down and removes the temp dir.
 *
 * Options: `--files-per-root N` (default 1000), `--worker-command T`,
 * `--keep` (leave the temp dir).
 *
 * @module
 */

import { relative } from "node:path";
import { type Router, startRouter } from "../lib/net/router.ts";
import { writeSampleWorkspace } from "../lib/net/sample_workspace.ts";
import { createProgressBar } from "./progress.ts";
import {
  flagValue,
  formatLocation,
  intFlag,
  parseFlags,
} from "./router_flags.ts";
import { LOOM_WORKER_PROGRAM } from "./worker_program.ts";

const enc = new TextEncoder();

function say(text = ""): void {
  Deno.stdout.writeSync(enc.encode(text + "\n"));
}

function ms(since: number): string {
  return `${(performance.now() - since).toFixed(0)} ms`;
}

function mb(bytes: number): string {
  return `${(bytes / (1024 * 1024)).toFixed(1)} MB`;
}

function showQuery(router: Router, base: string, query: string, n = 3): void {
  const t = performance.now();
  const hits = router.workspaceSymbols(query);
  const took = (performance.now() - t).toFixed(2);
  say(`  query ${JSON.stringify(query)}: ${hits.length} hits in ${took} ms`);
  for (const hit of hits.slice(0, n)) {
    const loc = formatLocation({
      ...hit.symbol,
      path: relative(base, hit.symbol.path),
    });
    say(`    ${hit.symbol.name.padEnd(28)} ${loc}`);
  }
}

async function until<T>(
  what: string,
  check: () => T | undefined | Promise<T | undefined>,
  timeoutMs = 20_000,
): Promise<T> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    const v = await check();
    if (v !== undefined) return v;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`timed out waiting for ${what}`);
}

/**
 * Runs the demo.
 *
 * @param args Command-line arguments.
 * @returns The exit code.
 *
 * @example
 * ```ts ignore
 * import { runDemo } from "./demo.ts";
 * Deno.exit(await runDemo(["--files-per-root", "200"]));
 * ```
 */
export async function runDemo(args: readonly string[]): Promise<number> {
  const flags = parseFlags(args, {
    values: ["files-per-root", "worker-command"],
    bools: ["keep"],
  });
  const perRoot = intFlag(flags, "files-per-root", 1000);
  const started = performance.now();
  const dir = await Deno.makeTempDir({ prefix: "loom-demo-" });
  const cacheDir = `${dir}/cache`;
  let router: Router | undefined;
  try {
    say("loom demo: distributed Java symbol indexing\n");
    let t = performance.now();
    const ws = await writeSampleWorkspace(`${dir}/workspace`, {
      filesPerRoot: perRoot,
    });
    say(
      `1. generated ${ws.files} files (${
        mb(ws.bytes)
      }) in ${ws.roots.length} source roots in ${ms(t)}`,
    );
    for (const [i, root] of ws.roots.entries()) {
      say(`     shard ${i}: ${relative(dir, root)}`);
    }
    const spawn = {
      command: flagValue(flags, "worker-command"),
      program: LOOM_WORKER_PROGRAM,
      cacheDir,
    };
    t = performance.now();
    let restarts = 0;
    router = await startRouter({
      roots: ws.roots,
      spawnWorkers: spawn,
      onEvent: (e) => {
        if (e.type === "supervisor" && e.event.type === "spawned") restarts++;
      },
    });
    await router.waitForWorkers();
    say(`\n2. started ${ws.roots.length} worker processes in ${ms(t)}`);
    t = performance.now();
    const bar = createProgressBar();
    const result = await router.indexWorkspace({
      onProgress: (p) => bar.update(p),
    });
    bar.finish();
    say(
      `   indexed ${result.files} files (${
        mb(result.bytes)
      }), ${result.symbols} symbols, revision ${
        BigInt(result.revision) & 0xffffffffn
      } of this router run, in ${ms(t)}`,
    );

    say("\n3. workspace symbol queries (router-local index):");
    for (const q of ["Cache", "hndlr", "parseSess", "EventEngine"]) {
      showQuery(router, dir, q);
    }

    say(
      "\n4. an unsaved edit through the overlay (the file on disk is unchanged):",
    );
    const target = ws.paths[1][0];
    const disk = await Deno.readTextFile(target);
    const edited = disk.replace(
      /\}\s*$/,
      "\n  public static final class DemoUnsavedWidget {\n    int unsavedCounter;\n  }\n}\n",
    );
    t = performance.now();
    await router.updateFile(target, edited);
    say(`   updateFile(${relative(dir, target)}) in ${ms(t)}`);
    showQuery(router, dir, "DemoUnsaved");

    say("\n5. kill the worker of shard 1 and watch it come back:");
    const oldPid = router.workerPid(1);
    const spawnsBefore = restarts;
    const rehydrated = new Promise<string>((resolve) => {
      const prev = router!;
      const check = setInterval(() => {
        const s = prev.shardStatus()[1];
        if (s.connected && restarts > spawnsBefore) {
          clearInterval(check);
          resolve("ok");
        }
      }, 10);
    });
    t = performance.now();
    router.killWorker(1);
    say(`   killed pid ${oldPid} (SIGKILL)`);
    await until(
      "the disconnect",
      () => router!.shardStatus()[1].connected ? undefined : true,
    );
    const stale = router.workspaceSymbols("DemoUnsaved")[0];
    say(
      `   while it is down, results are still served and flagged stale: ${stale?.stale}`,
    );
    await rehydrated;
    const stats = await router.workerStats();
    say(
      `   restarted as pid ${router.workerPid(1)} after ${
        ms(t)
      }; it was rehydrated from disk + overlay: ${
        stats.get(1)?.file_count
      } files`,
    );
    await until(
      "the rehydrated index",
      () =>
        router!.workspaceSymbols("DemoUnsaved")[0]?.stale === false
          ? true
          : undefined,
    );
    showQuery(router, dir, "DemoUnsaved");
    // One more edit in the same shard: the new worker rebuilds from its
    // rehydrated file map, so the earlier unsaved class must survive it.
    const other = ws.paths[1][1];
    await router.updateFile(
      other,
      (await Deno.readTextFile(other)).replace(
        /\}\s*$/,
        "\n  void demoSecondEdit() {}\n}\n",
      ),
    );
    say("   after a second edit in the same shard:");
    showQuery(router, dir, "DemoUnsaved", 1);
    showQuery(router, dir, "demoSecondEdit", 1);

    const localRanking = router.workspaceSymbols("hndlr", { limit: 50 })
      .map((h) => `${h.symbol.name}@${h.symbol.path}:${h.symbol.line}`);
    t = performance.now();
    await router.shutdown();
    router = undefined;
    say(`\n6. router shut down (Shutdown sent to every worker) in ${ms(t)}`);

    t = performance.now();
    router = await startRouter({
      roots: ws.roots,
      spawnWorkers: spawn,
      distributedSearch: true,
    });
    await router.waitForWorkers();
    const warm = router.shardStatus().filter((s) => s.warm).length;
    say(
      `   warm restart: ${warm}/${ws.roots.length} shards answered from the workers' caches after ${
        ms(t)
      } (no re-index)`,
    );
    showQuery(router, dir, "Cache", 1);

    say(
      "\n7. distributed search (protocol 3.1): the workers keep their symbols",
    );
    t = performance.now();
    const again = await router.indexWorkspace();
    say(
      `   re-indexed with omit_symbols in ${
        ms(t)
      }: ${again.symbols} symbols stay on the workers; the router holds ${
        router.workspaceSymbols("").length
      }`,
    );
    t = performance.now();
    const distributed = (await router.searchSymbols("hndlr", { limit: 50 }))
      .map((h) => `${h.symbol.name}@${h.symbol.path}:${h.symbol.line}`);
    const same = distributed.length === localRanking.length &&
      distributed.every((k, i) => k === localRanking[i]);
    say(
      `   query "hndlr" asked every worker for its top-k in ${ms(t)}: ${
        same ? "identical to" : "DIFFERENT from"
      } the router-local ranking (${distributed.length} hits)`,
    );
    await router.shutdown();
    router = undefined;

    say(`\ndone in ${ms(started)}`);
    return 0;
  } catch (err) {
    say(`demo failed: ${err instanceof Error ? err.message : String(err)}`);
    return 1;
  } finally {
    await router?.shutdown();
    if (flags.bools.has("keep")) say(`(kept ${dir})`);
    else await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}

if (import.meta.main) {
  Deno.exit(await runDemo(Deno.args));
}
