/**
 * `search`: index a Java workspace with local worker processes and print
 * the best workspace symbol matches as `path:line:col`.
 *
 * ```text
 * search --root a/src --root b/src [--workers N] [--worker-command T] QUERY
 * ```
 *
 * The second run is warm: each worker loads its shard cache, and shards
 * whose cache is provably current (same root and layout, every file
 * unchanged by stat or, when the stat changed, by content hash) are not
 * re-indexed (`--refresh` forces a full index).
 *
 * @module
 */

import { startRouter } from "../lib/net/router.ts";
import { prepareCacheDirectory } from "../lib/net/shard_cache_file.ts";
import { removeShardManifest } from "../lib/net/shard_manifest.ts";
import { escapeControlChars } from "../lib/worker/sanitize.ts";
import { createProgressBar } from "./progress.ts";
import {
  defaultCacheDir,
  flagValue,
  formatLocation,
  freshWarmShards,
  intFlag,
  manifestRecorder,
  parseFlags,
} from "./_router_cli.ts";
import { planShards } from "./_shard_plan.ts";

/**
 * Usage text of the `search` command.
 *
 * @example
 * ```ts
 * import { SEARCH_USAGE } from "./search.ts";
 * console.assert(SEARCH_USAGE.startsWith("usage: search"));
 * ```
 */
export const SEARCH_USAGE =
  `usage: search --root DIR [--root DIR ...] [options] QUERY

Indexes the .java files under each root with one worker process per shard
and prints the best matching symbols as path:line:col.

options:
  --root DIR               a source root (repeatable; shard id = position)
  --workers N              split the roots into up to N shards (by subdirectory)
  --worker-command T       worker command template; placeholders {connect},
                           {shard}, {cache_dir}, {token_env}, {ca_cert}
                           (default: this package's worker)
  --cache-dir DIR          worker cache directory (default: per workspace under
                           $XDG_CACHE_HOME/loom, ~/.cache/loom or the temp dir)
  --listen ADDR            router address (default: a private unix socket)
  --limit N                how many results to print (default 20)
  --refresh                re-index every shard even when its cache is current
  --distributed            offer protocol 3.1: workers that support it keep
                           their symbols and answer the query themselves
  --json                   print one JSON object per result
  --no-progress            never draw the progress display
  -h, --help               show this help

exit status: 0 ok, 1 error, 2 bad usage, 3 some shards failed (each is
named on stderr; the other shards' results are printed).
`;

/** Exit status when some shards failed and the others' results were printed. */
export const EXIT_PARTIAL = 3;

const enc = new TextEncoder();

function out(text: string): void {
  Deno.stdout.writeSync(enc.encode(text));
}

function err(text: string): void {
  Deno.stderr.writeSync(enc.encode(text));
}

/**
 * Runs the `search` command.
 *
 * @param args Command-line arguments after `search`.
 * @returns The exit code.
 *
 * @example
 * ```ts ignore
 * import { runSearch } from "./search.ts";
 * Deno.exit(await runSearch(["--root", "src", "FooBar"]));
 * ```
 */
export async function runSearch(args: readonly string[]): Promise<number> {
  if (args.includes("--help") || args.includes("-h")) {
    out(SEARCH_USAGE);
    return 0;
  }
  let flags;
  try {
    flags = parseFlags(args, {
      values: [
        "root",
        "workers",
        "worker-command",
        "cache-dir",
        "listen",
        "limit",
      ],
      bools: ["refresh", "json", "no-progress", "distributed"],
    });
  } catch (e) {
    err(`search: ${(e as Error).message}\n${SEARCH_USAGE}`);
    return 2;
  }
  const roots = flags.values.get("root") ?? [];
  if (roots.length === 0 || flags.positionals.length !== 1) {
    err(
      `search: need at least one --root and exactly one QUERY\n${SEARCH_USAGE}`,
    );
    return 2;
  }
  const query = flags.positionals[0];
  let limit: number;
  let workers: number | undefined;
  try {
    limit = intFlag(flags, "limit", 20);
    workers = flags.values.has("workers")
      ? intFlag(flags, "workers", 1)
      : undefined;
  } catch (e) {
    err(`search: ${(e as Error).message}\n`);
    return 2;
  }
  const layout = workers === undefined
    ? roots
    : await planShards(roots, workers);
  const cacheDir = flagValue(flags, "cache-dir") ?? defaultCacheDir(layout);
  try {
    await prepareCacheDirectory(cacheDir);
  } catch (e) {
    err(`search: ${(e as Error).message}\n`);
    return 2;
  }
  const started = performance.now();
  const router = await startRouter({
    roots: layout,
    listen: flagValue(flags, "listen"),
    // One-shot: warm shards are only queried, never updated.
    rehydrateCachedWorkers: false,
    distributedSearch: flags.bools.has("distributed"),
    spawnWorkers: {
      command: flagValue(flags, "worker-command"),
      cacheDir,
    },
  });
  try {
    await router.waitForWorkers();
    let failed = 0;
    const fresh = flags.bools.has("refresh")
      ? []
      : await freshWarmShards(router, cacheDir);
    const stale = router.shardStatus()
      .map((s) => s.shard)
      .filter((s) => !fresh.includes(s));
    for (const shard of stale) await removeShardManifest(cacheDir, shard);
    const recorder = manifestRecorder(router, cacheDir);
    if (stale.length > 0) {
      const bar = createProgressBar(
        flags.bools.has("no-progress") ? { enabled: false } : {},
      );
      const result = await router.indexWorkspace({
        shards: stale,
        onProgress: (p) => bar.update(p),
        onShardIndexed: recorder.onShardIndexed,
        // One failing shard must not cost the others' results.
        partial: true,
      });
      bar.finish();
      await recorder.flush();
      failed = result.failed.length;
      for (const f of result.failed) {
        err(
          `search: shard ${f.shard} failed, its results are missing: ${
            escapeControlChars(f.message)
          } (${f.code})\n`,
        );
      }
      for (const skipped of result.skipped) {
        err(
          `search: skipped ${
            escapeControlChars(skipped.path)
          } (${skipped.reason})\n`,
        );
      }
    }
    const hits = await router.searchSymbols(query, { limit });
    const ms = performance.now() - started;
    for (const hit of hits) {
      if (flags.bools.has("json")) {
        out(
          JSON.stringify({
            ...hit.symbol,
            shard: hit.shardId,
            stale: hit.stale,
          }) +
            "\n",
        );
      } else {
        // Paths and names come from the workspace (and from workers):
        // never let them drive the terminal.
        out(
          `${escapeControlChars(formatLocation(hit.symbol))}  ${
            escapeControlChars(hit.symbol.name)
          }\n`,
        );
      }
    }
    err(
      `search: ${hits.length} result(s) in ${
        ms.toFixed(0)
      } ms (${fresh.length} shard(s) from cache, ${
        stale.length - failed
      } indexed${failed > 0 ? `, ${failed} failed` : ""})\n`,
    );
    return failed > 0 ? EXIT_PARTIAL : 0;
  } catch (e) {
    err(`search: ${escapeControlChars((e as Error).message)}\n`);
    return 1;
  } finally {
    await router.shutdown();
  }
}

if (import.meta.main) {
  Deno.exit(await runSearch(Deno.args));
}
