/**
 * Snapshot collection and indexing: reading a shard's `.java` files (with
 * the unsaved overlay applied) and {@link indexWorkspace}, which indexes all
 * shards with progress events and cancels the other shards when one fails.
 *
 * @module
 */

import type { FileText } from "../wire/types.ts";
import {
  type IndexWorkspaceOptions,
  type IndexWorkspaceResult,
  ShardError,
  type ShardFailure,
  type ShardProgress,
} from "./router_options.ts";
import {
  collectJavaFiles,
  listJavaFiles,
  readJavaFiles,
  type SkippedFile,
} from "./workspace_fs.ts";
import {
  acceptIndex,
  callWorker,
  expectIndex,
  retrying,
  waitForWorker,
} from "./_router_calls.ts";
import {
  abortReason,
  type RouterState,
  type ShardSlot,
} from "./_router_state.ts";

/**
 * Fewest files worth handing to the reading thread (below this, the round
 * trip costs more than it saves).
 */
const THREAD_READ_MIN_FILES = 256;

/** Options for {@link snapshot}. */
export interface SnapshotOptions {
  signal?: AbortSignal;
  /** Called with the size of every file read. */
  onFile?: (bytes: number) => void;
  /** Called once with the number of files to read. */
  onListed?: (count: number) => void;
}

/** A shard's files as sent to its worker. */
export interface ShardSnapshot {
  files: FileText[];
  bytes: number;
  skipped: SkippedFile[];
}

/**
 * Disk snapshot of a shard with the overlay applied (one shard reads on the
 * router's thread at a time, a second one on the reading thread).
 *
 * @example
 * ```ts ignore
 * import { snapshot } from "./_router_index.ts";
 * const snap = await snapshot(st, st.shards[0], { signal });
 * console.log(snap.files.length, snap.bytes);
 * ```
 */
export async function snapshot(
  st: RouterState,
  shard: ShardSlot,
  options: SnapshotOptions = {},
): Promise<ShardSnapshot> {
  const { signal, onFile, onListed } = options;
  const collect = {
    signal,
    onFile: onFile && ((_p: string, b: number) => onFile(b)),
  };
  // The router's thread reads one shard at a time. A large shard arriving
  // while it is busy is read on the reading thread instead (listed here);
  // small ones, and any further shard, wait for the router's thread.
  let release = st.reads.tryAcquire();
  let snap;
  if (release === undefined) {
    const threadRelease = st.threadReads.tryAcquire();
    if (threadRelease !== undefined) {
      let paths;
      try {
        paths = await listJavaFiles(shard.root, {
          exclude: shard.exclude,
          signal,
        });
        if (paths.length >= THREAD_READ_MIN_FILES) {
          onListed?.(paths.length);
          snap = await st.readThread.read(paths, collect);
        }
      } finally {
        threadRelease();
      }
      if (snap === undefined) {
        release = await st.reads.acquire(signal);
        try {
          onListed?.(paths.length);
          snap = await readJavaFiles(paths, collect);
        } finally {
          release();
        }
      }
    } else release = await st.reads.acquire(signal);
  }
  if (snap === undefined) {
    try {
      snap = await collectJavaFiles(shard.root, {
        ...collect,
        exclude: shard.exclude,
        onListed,
      });
    } finally {
      release!();
    }
  }
  if (snap.skipped.length > 0) {
    st.log.warn("skipped files", {
      shard_id: shard.id,
      count: snap.skipped.length,
    });
    st.emit({
      type: "files_skipped",
      shard: shard.id,
      files: snap.skipped,
    });
  }
  if (st.overlayFor(shard).length === 0) return snap;
  const files = st.overlay.rehydrate(snap.files, {
    include: (p) => st.layout.ownsPath(shard.id, p),
  });
  const enc = new TextEncoder();
  const bytes = files.reduce((n, f) => n + enc.encode(f.text).length, 0);
  return { files, bytes, skipped: snap.skipped };
}

/**
 * Runs {@link Router.indexWorkspace}: every selected shard at once, at most
 * `maxConcurrentSnapshots` reading and sending, progress reported after
 * every step; the first failure aborts the run, which cancels the other
 * shards' calls, and rejects with a {@link ShardError}.
 *
 * @example
 * ```ts
 * import { indexWorkspace } from "./_router_index.ts";
 * import { RouterState } from "./_router_state.ts";
 * import { normalizeAllowlist } from "./router_config.ts";
 * const st = new RouterState({ roots: ["src"] }, normalizeAllowlist(undefined));
 * const result = await indexWorkspace(st, { shards: [] });
 * console.assert(result.files === 0 && result.symbols === 0);
 * ```
 */
export async function indexWorkspace(
  st: RouterState,
  options: IndexWorkspaceOptions = {},
): Promise<IndexWorkspaceResult> {
  const { signal, onProgress } = options;
  if (signal?.aborted) throw abortReason(signal);
  st.ensureOpen();
  const revision = st.store.nextRevision();
  const progress: ShardProgress[] = st.shards.map((s) => ({
    shard: s.id,
    root: s.root,
    phase: "waiting",
    filesRead: 0,
    bytesRead: 0,
    bytesSent: 0,
    symbols: 0,
  }));
  let shardsDone = 0;
  const report = (): void => {
    try {
      onProgress?.({ revision, shards: progress, shardsDone });
    } catch {
      // Observers never break indexing.
    }
  };
  const run = new AbortController();
  const onAbort = (): void => run.abort(abortReason(signal!));
  signal?.addEventListener("abort", onAbort, { once: true });
  const skipped: SkippedFile[] = [];
  let files = 0;
  let bytes = 0;
  let firstError: unknown;
  const failures: ShardFailure[] = [];
  const failureErrors: ShardError[] = [];
  const symbolCounts: number[] = [];
  const selected = options.shards === undefined
    ? st.shards
    : st.shards.filter((s) => options.shards!.includes(s.id));
  for (const s of st.shards) {
    if (!selected.includes(s)) progress[s.id].phase = "done";
  }
  const tasks = selected.map(async (shard) => {
    const p = progress[shard.id];
    let release: (() => void) | undefined;
    try {
      await waitForWorker(st, shard, run.signal);
      release = await st.snapshots.acquire(run.signal);
      const snap = await snapshot(st, shard, {
        signal: run.signal,
        onFile: (b) => {
          p.filesRead++;
          p.bytesRead += b;
          report();
        },
        onListed: (count) => {
          p.phase = "reading";
          p.filesTotal = count;
          report();
        },
      });
      skipped.push(...snap.skipped);
      files += snap.files.length;
      bytes += snap.bytes;
      p.phase = "sending";
      report();
      const index = await retrying(st, shard, run.signal, async (worker) => {
        const response = await callWorker(st, worker, {
          type: "index_shard",
          revision,
          files: snap.files,
          ...(worker.distributed ? { omit_symbols: true } : {}),
        }, {
          signal: run.signal,
          onSent: () => {
            release?.();
            release = undefined;
            p.bytesSent = snap.bytes;
            p.phase = "indexing";
            report();
          },
        });
        return expectIndex(st, shard, worker, response);
      });
      symbolCounts[shard.id] = index.symbolCount ?? index.symbols.length;
      acceptIndex(st, shard, index, true, snap.files);
      shard.degraded = undefined;
      try {
        options.onShardIndexed?.({
          shard: shard.id,
          root: shard.root,
          files: snap.files,
          skipped: snap.skipped,
          overlay: st.overlayFor(shard).length > 0,
          index: {
            revision: index.revision,
            index_generation: index.index_generation,
            symbol_count: symbolCounts[shard.id],
          },
        });
      } catch (err) {
        st.log.warn("onShardIndexed failed", { error: err });
      }
      shard.indexed = true;
      p.symbols = symbolCounts[shard.id];
      p.phase = "done";
      shardsDone++;
      report();
    } catch (err) {
      if (options.partial && !run.signal.aborted) {
        // Partial failure: this shard is degraded, the others go on.
        const failure = new ShardError(shard.id, err);
        failureErrors.push(failure);
        failures.push({
          shard: shard.id,
          code: failure.code,
          message: failure.message,
        });
        shard.degraded = { code: failure.code, message: failure.message };
        st.log.warn("shard failed; serving the others", {
          shard_id: shard.id,
          error: err,
        });
        p.phase = "failed";
        report();
        return;
      }
      p.phase = run.signal.aborted && firstError === undefined
        ? "cancelled"
        : "failed";
      if (!run.signal.aborted) {
        firstError = new ShardError(shard.id, err);
        p.phase = "failed";
        run.abort(firstError);
      } else if (p.phase === "cancelled") {
        p.phase = "cancelled";
      }
      report();
    } finally {
      release?.();
    }
  });
  await Promise.all(tasks);
  signal?.removeEventListener("abort", onAbort);
  // Whatever was stored (even on failure) becomes searchable at once.
  st.store.commit();
  if (firstError !== undefined) throw firstError;
  if (run.signal.aborted) throw abortReason(run.signal);
  if (selected.length > 0 && failures.length === selected.length) {
    throw failureErrors.sort((a, b) => a.shard - b.shard)[0];
  }
  return {
    revision,
    files,
    bytes,
    symbols: symbolCounts.reduce((n, c) => n + (c ?? 0), 0),
    skipped,
    failed: failures.sort((a, b) => a.shard - b.shard),
  };
}
