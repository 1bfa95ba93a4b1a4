/**
 * File updates with the router-side overlay of unsaved text, and the
 * rehydration of a (re)connected worker: a warm start from a cached index
 * gets the shard's files (`LoadFiles`), a restart after this run's indexing
 * (or with unsaved text) gets a rebuild (`IndexShard`).
 *
 * @module
 */

import { resolve as resolvePath } from "node:path";
import type { CallOptions } from "./router_options.ts";
import {
  acceptIndex,
  callWorker,
  expectIndex,
  retrying,
} from "./_router_calls.ts";
import { sendSnapshot } from "./_router_snapshot.ts";
import {
  abortReason,
  cancelledError,
  type LiveWorker,
  type RouterState,
  type ShardSlot,
} from "./_router_state.ts";

/** Options for {@link rehydrate}. */
export interface RehydrateOptions {
  /** The newly connected worker of the shard. */
  worker: LiveWorker;
  /**
   * `load_files` gives a warm worker its file map at the current revision;
   * `index_shard` rebuilds the shard (disk + overlay) at a new revision.
   */
  mode: "load_files" | "index_shard";
}

/**
 * Gives a newly connected worker the shard's files again (disk + overlay)
 * and reports `worker_rehydrated`; best effort (failures are logged).
 *
 * @example
 * ```ts ignore
 * import { rehydrate } from "./_router_updates.ts";
 * worker.ready = rehydrate(st, shard, { worker, mode: "load_files" });
 * ```
 */
export async function rehydrate(
  st: RouterState,
  shard: ShardSlot,
  options: RehydrateOptions,
): Promise<void> {
  const { worker, mode } = options;
  let release: (() => void) | undefined;
  try {
    const closed = new AbortController();
    worker.conn.closed.then(() => closed.abort(cancelledError()));
    release = await st.snapshots.acquire(closed.signal);
    // LoadFiles keeps the current revision (reference); a rebuild gets a
    // new one so its index outranks the previous worker's.
    const revision = mode === "load_files"
      ? st.store.revision
      : st.store.nextRevision();
    const sent = await sendSnapshot(st, shard, worker, {
      mode,
      revision,
      omitSymbols: worker.distributed,
      signal: closed.signal,
      onSent: () => {
        release?.();
        release = undefined;
      },
    });
    const response = sent.response;
    if (mode === "index_shard") {
      const index = expectIndex(st, shard, worker, response);
      acceptIndex(st, shard, index);
    }
    st.emit({
      type: "worker_rehydrated",
      shard: shard.id,
      workerId: worker.workerId,
      mode,
      files: sent.files,
      overlayFiles: st.overlayFor(shard).length,
    });
  } catch (err) {
    if (!st.closed) {
      st.log.warn("failed to rehydrate worker file map", {
        shard_id: shard.id,
        err,
      });
    }
  } finally {
    release?.();
  }
}

/**
 * Runs {@link Router.updateFile}: routes `file.path` to its shard (longest
 * matching root), records the text in the overlay, and sends it at a new
 * revision, retrying across a worker restart.
 *
 * @example
 * ```ts
 * import { updateFile } from "./_router_updates.ts";
 * import { RouterState } from "./_router_state.ts";
 * import { normalizeAllowlist } from "./router_config.ts";
 * const st = new RouterState({ roots: ["src"] }, normalizeAllowlist(undefined));
 * const err = await updateFile(st, { path: "elsewhere/A.java", text: "" })
 *   .catch((e) => e);
 * console.assert(err instanceof RangeError && st.overlay.paths().length === 0);
 * ```
 */
export async function updateFile(
  st: RouterState,
  file: { path: string; text: string },
  options: CallOptions = {},
): Promise<void> {
  const { path, text } = file;
  const { signal } = options;
  if (signal?.aborted) throw abortReason(signal);
  st.ensureOpen();
  if (typeof path !== "string" || typeof text !== "string") {
    throw new TypeError("path and text must be strings");
  }
  const abs = resolvePath(path);
  // Throws PathNotRoutableError (a RangeError): outside roots, not .java.
  const shard = st.shards[st.layout.routeFile(abs)];
  st.overlay.set(abs, text);
  const revision = st.store.nextRevision();
  const index = await retrying(st, shard, signal, async (worker) => {
    const response = await callWorker(st, worker, {
      type: "update_file",
      revision,
      file: { path: abs, text },
      ...(worker.distributed ? { omit_symbols: true } : {}),
    }, { signal });
    return expectIndex(st, shard, worker, response);
  });
  acceptIndex(st, shard, index);
  shard.indexed = true;
}
