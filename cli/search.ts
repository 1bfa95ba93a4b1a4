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
 * re-indexed (`--refresh` forces a full index). Relative paths are relative
 * to the directory the command was typed in (`INIT_CWD` under `deno task`).
 * Bad input (a missing root, a root that is a file, the same root twice, a
 * bad flag) exits 2 with one line on stderr; a failure while indexing exits
 * 1; when some shards fail, the others' results are printed and the exit
 * status is 3; SIGINT/SIGTERM stop the workers, remove the router's socket
 * directory and exit 130/143.
 *
 * @module
 */

import {
  type Router,
  SnapshotTooLargeError,
  startRouter,
} from "../lib/net/router.ts";
import type { SkippedFile } from "../lib/net/workspace_fs.ts";
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
} from "./router_flags.ts";
import { checkRoots, resolveUserPath, UsageError } from "./_roots.ts";
import { planShards, splitBySize } from "./_shard_plan.ts";
import { onInterrupt } from "./_signals.ts";
import {
  loadSkipped,
  protocolFlag,
  reportSkipped,
  saveSkipped,
  workersFlag,
} from "./_workspace_cli.ts";
import { LOOM_WORKER_PROGRAM } from "./worker_program.ts";

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
and prints the best matching symbols as path:line:col (1-based, like
compilers print). Relative paths are relative to the directory the command
was typed in.

options:
  --root DIR               a source root (repeatable; shard id = position);
                           must be an existing directory, each one once
  --workers N              split the roots into up to N shards (by
                           subdirectory); at most 2 per CPU core
  --worker-command T       worker command template; placeholders {connect},
                           {shard}, {cache_dir}, {token_env}, {ca_cert}
                           (default: this package's worker)
  --cache-dir DIR          worker cache directory (default: per workspace under
                           $XDG_CACHE_HOME/loom, ~/.cache/loom or the temp dir)
  --listen ADDR            router address (default: a private unix socket)
  --limit N                how many results to print (default 20)
  --refresh                re-index every shard even when its cache is current
  --distributed            workers that speak protocol 3.1 keep their symbols
                           and answer the query themselves
  --protocol V             highest protocol offered to workers: 3.1 (default;
                           snapshots of any size, in batches) or 3.0 (as the
                           reference; a root too large for one packet is then
                           split into shards by directory)
  --max-rpc-bytes N        largest frame/packet offered (default and max 64 MiB)
  --strict                 a skipped file (unreadable, not UTF-8, over the
                           8 MiB file limit) is an error (exit 1)
  --json                   print one JSON object per result: name, path,
                           line, column (0-based, as on the wire: add 1 for
                           the text output's numbers), shard, stale
  --no-progress            never draw the progress display
  -h, --help               show this help

Files that cannot be indexed (unreadable, not UTF-8, larger than 8 MiB) are
skipped; every run, cold or warm, prints how many and the first few paths.

exit status: 0 results printed (possibly none), 1 indexing failed (or a
skipped file under --strict), 2 bad arguments or roots, 3 some shards failed
(each is named on stderr; the other shards' results are printed), 130/143
interrupted.
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

async function makeCacheDir(dir: string): Promise<void> {
  const info = await Deno.stat(dir).catch(() => undefined);
  if (info !== undefined && !info.isDirectory) {
    throw new UsageError("bad_flag", `--cache-dir ${dir}: not a directory`);
  }
  try {
    // Created 0700; refused when others may write to it.
    await prepareCacheDirectory(dir);
  } catch (e) {
    if (e instanceof Deno.errors.AlreadyExists) {
      throw new UsageError("bad_flag", `--cache-dir ${dir}: not a directory`);
    }
    throw new UsageError(
      "bad_flag",
      `--cache-dir ${dir}: ${escapeControlChars((e as Error).message)}`,
    );
  }
}

/** How many times a 3.0 fallback may re-plan the shards. */
const MAX_SPLITS = 16;

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
  try {
    return await search(args);
  } catch (e) {
    if (e instanceof UsageError) {
      err(`search: ${e.message}\n`);
      return e.exitCode;
    }
    err(`search: ${escapeControlChars(oneLine(e))}\n`);
    return 1;
  }
}

function oneLine(e: unknown): string {
  const text = e instanceof Error ? e.message : String(e);
  return text.split("\n")[0];
}

async function search(args: readonly string[]): Promise<number> {
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
        "protocol",
        "max-rpc-bytes",
      ],
      bools: ["refresh", "json", "no-progress", "distributed", "strict"],
    });
  } catch (e) {
    throw new UsageError("bad_flag", `${(e as Error).message} (see --help)`);
  }
  const rootArgs = flags.values.get("root") ?? [];
  if (rootArgs.length === 0 || flags.positionals.length !== 1) {
    throw new UsageError(
      "bad_flag",
      "need at least one --root and exactly one QUERY (see --help)",
    );
  }
  const query = flags.positionals[0];
  let limit: number;
  let maxRpcBytes: number | undefined;
  try {
    limit = intFlag(flags, "limit", 20);
    maxRpcBytes = flags.values.has("max-rpc-bytes")
      ? intFlag(flags, "max-rpc-bytes", 1)
      : undefined;
  } catch (e) {
    throw new UsageError("bad_flag", (e as Error).message);
  }
  const protocolMinor = protocolFlag(flagValue(flags, "protocol"));
  const workers = workersFlag(flags, (line) => err(`search: ${line}\n`));
  const roots = await checkRoots(rootArgs);
  let layout = workers === undefined ? roots : await planShards(roots, workers);
  if (workers !== undefined && layout.length < workers) {
    err(
      `search: --workers ${workers}: ${layout.length} shard(s); the roots ` +
        `do not split further into subdirectories that fit ${workers}\n`,
    );
  }
  const cacheArg = flagValue(flags, "cache-dir");
  const started = performance.now();
  let starting: Promise<Router> | undefined;
  // One shutdown per router, awaited by both the normal path and a signal.
  const stopping = new Map<Router, Promise<void>>();
  const stop = (r: Router): Promise<void> => {
    let p = stopping.get(r);
    if (p === undefined) stopping.set(r, p = r.shutdown());
    return p;
  };
  const removeSignals = onInterrupt(async () => {
    const r = await starting?.catch(() => undefined);
    if (r !== undefined) await stop(r);
  });
  try {
    for (let splits = 0;; splits++) {
      const cacheDir = cacheArg !== undefined
        ? resolveUserPath(cacheArg)
        : defaultCacheDir(layout);
      await makeCacheDir(cacheDir);
      const skippedByShard = new Map<number, SkippedFile[]>();
      // A worker command that cannot start fails the run at once instead
      // of after the worker wait timeout.
      const spawnFailed = new AbortController();
      starting = startRouter({
        roots: layout,
        listen: flagValue(flags, "listen"),
        maxRpcBytes,
        maxProtocolMinor: protocolMinor,
        // One-shot: warm shards are only queried, never updated.
        rehydrateCachedWorkers: false,
        // Our own workers: a worker loading a large cache on a busy machine
        // may take long to connect; a worker that dies or cannot start
        // fails the run at once (below) instead.
        workerWaitTimeoutMs: 600_000,
        distributedSearch: flags.bools.has("distributed"),
        spawnWorkers: {
          command: flagValue(flags, "worker-command"),
          program: LOOM_WORKER_PROGRAM,
          cacheDir,
          // Loading a large cache takes long on a busy machine; a worker
          // that dies is noticed at once (below).
          connectTimeoutMs: 600_000,
        },
        onEvent: (e) => {
          if (e.type === "files_skipped") skippedByShard.set(e.shard, e.files);
          if (
            e.type === "supervisor" && e.event.type === "exited" &&
            e.event.beforeHandshake
          ) {
            spawnFailed.abort(
              new Error(
                `worker for shard ${e.event.shard} exited before connecting ` +
                  `(status ${e.event.code ?? e.event.signal})`,
              ),
            );
          }
          if (e.type === "supervisor" && e.event.type === "spawn_failed") {
            const why = e.event.error instanceof Error
              ? e.event.error.message
              : String(e.event.error);
            spawnFailed.abort(
              new Error(
                `worker for shard ${e.event.shard} failed to start: ${why}`,
              ),
            );
          }
        },
      });
      const router = await starting;
      try {
        await router.waitForWorkers({ signal: spawnFailed.signal });
        const fresh = flags.bools.has("refresh")
          ? []
          : await freshWarmShards(router, cacheDir);
        const stale = router.shardStatus()
          .map((s) => s.shard)
          .filter((s) => !fresh.includes(s));
        for (const shard of stale) await removeShardManifest(cacheDir, shard);
        const recorder = manifestRecorder(router, cacheDir);
        let failed = 0;
        if (stale.length > 0) {
          const bar = createProgressBar(
            flags.bools.has("no-progress") ? { enabled: false } : {},
          );
          try {
            const result = await router.indexWorkspace({
              shards: stale,
              signal: spawnFailed.signal,
              onProgress: (p) => bar.update(p),
              onShardIndexed: recorder.onShardIndexed,
              // One failing shard must not cost the others' results.
              partial: true,
            });
            failed = result.failed.length;
            for (const f of result.failed) {
              err(
                `search: shard ${f.shard} failed, its results are missing: ${
                  escapeControlChars(f.message)
                } (${f.code})\n`,
              );
            }
          } finally {
            bar.finish();
            await recorder.flush();
          }
          for (const shard of stale) {
            await saveSkipped(cacheDir, shard, skippedByShard.get(shard) ?? []);
          }
        }
        const skipped: SkippedFile[] = [];
        for (const status of router.shardStatus()) {
          skipped.push(
            ...(fresh.includes(status.shard)
              ? await loadSkipped(cacheDir, status.shard)
              : skippedByShard.get(status.shard) ?? []),
          );
        }
        reportSkipped(skipped, (line) => err(`search: ${line}\n`));
        if (skipped.length > 0 && flags.bools.has("strict")) {
          err(`search: --strict: ${skipped.length} file(s) skipped\n`);
          return 1;
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
              }) + "\n",
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
        if (spawnFailed.signal.aborted) throw spawnFailed.signal.reason;
        const cause = (e as { cause?: unknown }).cause;
        if (!(cause instanceof SnapshotTooLargeError) || splits >= MAX_SPLITS) {
          throw e;
        }
        // Protocol 3.0 fallback: split the root into shards by directory.
        const plan = await splitBySize(
          layout,
          cause.root,
          Math.floor(cause.max * 0.9),
        );
        if (!Array.isArray(plan)) {
          throw new Error(
            `${cause.message}; ${plan.root} holds ${plan.bytes} bytes of ` +
              `Java directly and cannot be split by directory`,
          );
        }
        err(
          `search: ${cause.root} is too large for one packet of its protocol ` +
            `3.0 worker (${cause.actual} > ${cause.max} bytes); splitting it ` +
            `by directory: ${layout.length} -> ${plan.length} shard(s)\n`,
        );
        layout = plan;
      } finally {
        await stop(router);
      }
    }
  } finally {
    removeSignals();
  }
}

if (import.meta.main) {
  Deno.exit(await runSearch(Deno.args));
}
