/**
 * Indexing: {@link indexWorkspace}, which indexes all shards with progress
 * events and cancels the other shards when one fails (the snapshots
 * themselves are read and sent by `_router_snapshot.ts`).
 *
 * @module
 */

import {
  type IndexWorkspaceOptions,
  type IndexWorkspaceResult,
  ShardError,
  type ShardFailure,
  type ShardProgress,
  SnapshotTooLargeError,
} from "./router_options.ts";
import type { SkippedFile } from "./workspace_fs.ts";
import {
  acceptIndex,
  expectIndex,
  retrying,
  waitForWorker,
} from "./_router_calls.ts";
import { sendSnapshot } from "./_router_snapshot.ts";
import type { SentFile } from "./shard_manifest.ts";
import { abortReason, type RouterState } from "./_router_state.ts";

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
      let sentFiles: SentFile[] = [];
      let sentSkipped: SkippedFile[] = [];
      const index = await retrying(st, shard, run.signal, async (worker) => {
        // A retry (the worker restarted) reads the shard again.
        p.filesRead = 0;
        p.bytesRead = 0;
        const sent = await sendSnapshot(st, shard, worker, {
          mode: "index_shard",
          revision,
          omitSymbols: worker.distributed,
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
          onSent: () => {
            release?.();
            release = undefined;
            p.bytesSent = p.bytesRead;
            p.phase = "indexing";
            report();
          },
        });
        const index = expectIndex(st, shard, worker, sent.response);
        sentFiles = sent.sent;
        sentSkipped = sent.skipped;
        skipped.push(...sent.skipped);
        files += sent.files;
        bytes += sent.bytes;
        return index;
      });
      symbolCounts[shard.id] = index.symbolCount ?? index.symbols.length;
      acceptIndex(st, shard, index, true, sentFiles);
      shard.degraded = undefined;
      try {
        options.onShardIndexed?.({
          shard: shard.id,
          root: shard.root,
          files: sentFiles,
          skipped: sentSkipped,
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
      // A snapshot too large for its protocol is a planning error the
      // caller can fix (by splitting the root), not a degraded shard.
      if (
        options.partial && !run.signal.aborted &&
        !(err instanceof SnapshotTooLargeError)
      ) {
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
