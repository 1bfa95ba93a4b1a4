/**
 * The router's primitives for reaching a shard's worker: waiting for one to
 * be connected and ready, one call with the router's timeouts, checking and
 * storing index responses, and retrying across a worker restart.
 *
 * @module
 */

import { ProtocolError } from "../wire/errors.ts";
import type { Request, Response, ShardIndex } from "../wire/types.ts";
import { guardShardSymbols, ownedPathBounds } from "../router/symbol_guard.ts";
import type { SentFile } from "./shard_manifest.ts";
import {
  abortReason,
  type LiveWorker,
  type RouterState,
  type ShardSlot,
} from "./_router_state.ts";

/** An index as the gate stores it, plus where its symbols live (3.1). */
export type StoredIndex = ShardIndex & { remote?: true; symbolCount?: number };

/**
 * Waits until `shard` has a connected worker (level-triggered).
 *
 * @example
 * ```ts
 * import { waitForWorker } from "./_router_calls.ts";
 * import { RouterState } from "./_router_state.ts";
 * import { normalizeAllowlist } from "./router_config.ts";
 * const st = new RouterState({ roots: ["src"] }, normalizeAllowlist(undefined));
 * st.closed = true;
 * const err = await waitForWorker(st, st.shards[0], undefined).catch((e) => e);
 * console.assert(err.code === "connection_closed");
 * ```
 */
export async function waitForWorker(
  st: RouterState,
  shard: ShardSlot,
  signal: AbortSignal | undefined,
): Promise<LiveWorker> {
  const limit = st.options.workerWaitTimeoutMs ?? 20_000;
  const deadline = Date.now() + limit;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let onAbort: (() => void) | undefined;
  const stop = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () =>
        reject(
          new ProtocolError(
            "timeout",
            `wait for worker for shard ${shard.id}: timed out waiting for worker`,
          ),
        ),
      Math.max(0, deadline - Date.now()),
    );
    if (signal) {
      onAbort = () => reject(abortReason(signal));
      signal.addEventListener("abort", onAbort, { once: true });
    }
  });
  try {
    while (true) {
      signal?.throwIfAborted();
      if (st.closed) {
        throw new ProtocolError("connection_closed", "router is shut down");
      }
      const worker = shard.worker;
      if (worker) {
        await Promise.race([worker.ready, stop]);
        if (shard.worker === worker) return worker;
        continue;
      }
      await Promise.race([st.changed.promise, stop]);
    }
  } catch (err) {
    if (signal?.aborted) throw abortReason(signal);
    throw err;
  } finally {
    clearTimeout(timer);
    if (onAbort) signal?.removeEventListener("abort", onAbort);
    stop.catch(() => {});
  }
}

/** Options of {@link callWorker}. */
export interface WorkerCallOptions {
  /** Cancels the call (a `Cancel` is sent). */
  signal?: AbortSignal;
  /** Runs once the request is encoded and queued for writing. */
  onSent?: () => void;
  /** Budget for writing the request, in ms (default: `rpcWriteTimeoutMs`). */
  writeTimeoutMs?: number;
  /**
   * Budget for the response once the request is written, in ms (default:
   * `rpcReadTimeoutMs`).
   */
  timeoutMs?: number;
}

/**
 * One router -> worker call with the reference's discipline (digest 2.7):
 * the request must be written within the write budget (30 s by default;
 * otherwise the connection is closed), then answered within the read
 * budget (10 min by default), which counts from the end of the write.
 * Either timeout rejects with code `timeout` and closes the connection.
 * The request is encoded (and queued for writing) synchronously inside
 * `call`, so `onSent` runs right after.
 *
 * @example
 * ```ts
 * import { callWorker } from "./_router_calls.ts";
 * import { type LiveWorker, RouterState } from "./_router_state.ts";
 * import { normalizeAllowlist } from "./router_config.ts";
 * const st = new RouterState({ roots: ["src"] }, normalizeAllowlist(undefined));
 * const body = { shard_id: 0, diagnostics: [] };
 * const worker = {
 *   conn: { call: () => Promise.resolve({ type: "diagnostics", body }) },
 * } as unknown as LiveWorker;
 * let sent = false;
 * const response = await callWorker(st, worker, { type: "diagnostics", path: "/A.java" }, {
 *   onSent: () => sent = true,
 * });
 * console.assert(sent && response.type === "diagnostics");
 * ```
 */
export async function callWorker(
  st: RouterState,
  worker: LiveWorker,
  request: Request,
  options: WorkerCallOptions = {},
): Promise<Response> {
  try {
    const pending = worker.conn.call(request, {
      signal: options.signal,
      writeTimeoutMs: options.writeTimeoutMs ?? st.options.rpcWriteTimeoutMs ??
        30_000,
      timeoutMs: options.timeoutMs ?? st.options.rpcReadTimeoutMs ??
        600_000,
    });
    options.onSent?.();
    return await pending;
  } catch (err) {
    if (err instanceof ProtocolError && err.code === "timeout") {
      worker.conn.close();
    }
    if (
      err instanceof ProtocolError && err.code === "remote_error" &&
      (err as ProtocolError & { rpcError?: { code: string } }).rpcError
          ?.code === "cancelled"
    ) {
      throw new ProtocolError("cancelled", "worker cancelled the request", {
        remote: true,
        cause: err,
      });
    }
    throw err;
  }
}

/**
 * Checks an index-building response: a full `shard_index`, or (3.1) a
 * `shard_summary` standing for an index the worker keeps. Returns what
 * the gate stores (no symbols for a summary) and whether it is remote.
 *
 * @example
 * ```ts
 * import { expectIndex } from "./_router_calls.ts";
 * import { type LiveWorker, RouterState } from "./_router_state.ts";
 * import { normalizeAllowlist } from "./router_config.ts";
 * const st = new RouterState({ roots: ["src"] }, normalizeAllowlist(undefined));
 * const worker = { distributed: true } as LiveWorker;
 * const index = expectIndex(st, st.shards[0], worker, {
 *   type: "shard_summary",
 *   body: { shard_id: 0, revision: 1, index_generation: 1, symbol_count: 7 },
 * });
 * console.assert(index.remote === true && index.symbolCount === 7);
 * ```
 */
export function expectIndex(
  st: RouterState,
  shard: ShardSlot,
  worker: LiveWorker,
  response: Response,
): StoredIndex {
  let index: StoredIndex;
  if (response.type === "shard_index") index = response.body;
  else if (response.type === "shard_summary" && worker.distributed) {
    const { shard_id, revision, index_generation, symbol_count } =
      response.body;
    index = {
      shard_id,
      revision,
      index_generation,
      symbols: [],
      remote: true,
      symbolCount: symbol_count,
    };
  } else {
    // A worker that answers an index request with anything else is broken:
    // drop it (a spawned one is restarted) rather than keep asking it.
    st.disconnect(shard, worker);
    throw new ProtocolError(
      "unexpected_response",
      `unexpected worker response: ${response.type}`,
      { remote: true },
    );
  }
  if (index.shard_id !== shard.id) {
    st.disconnect(shard, worker);
    throw new ProtocolError(
      "unexpected_response",
      `worker returned index for wrong shard ${index.shard_id} (expected ${shard.id})`,
      { remote: true },
    );
  }
  return index;
}

/**
 * Drops (and counts, and logs once per reply) the symbols a worker reported
 * outside its shard: a path the router did not send it (or, without `sent`,
 * outside the shard's root), a name with control characters, a position
 * beyond the file.
 *
 * @example
 * ```ts
 * import { guardSymbols } from "./_router_calls.ts";
 * import { RouterState } from "./_router_state.ts";
 * import { normalizeAllowlist } from "./router_config.ts";
 * const st = new RouterState({ roots: ["/w"] }, normalizeAllowlist(undefined));
 * const kept = guardSymbols(st, st.shards[0], [
 *   { name: "x", path: "/etc/shadow", line: 0, column: 0 },
 * ]);
 * console.assert(kept.length === 0 && st.shards[0].rejectedSymbols === 1);
 * ```
 */
export function guardSymbols(
  st: RouterState,
  shard: ShardSlot,
  symbols: ShardIndex["symbols"],
  sent?: readonly SentFile[],
): ShardIndex["symbols"] {
  const bounds = sent === undefined
    ? undefined
    : new Map(sent.map((f) => [f.path, f.bounds]));
  const guarded = guardShardSymbols(
    symbols,
    bounds !== undefined
      ? (p) => bounds.get(p)
      : ownedPathBounds((p) => st.layout.ownsPath(shard.id, p)),
  );
  if (guarded.rejected > 0) {
    shard.rejectedSymbols += guarded.rejected;
    st.log.warn("dropped symbols outside the shard", {
      shard_id: shard.id,
      count: guarded.rejected,
      examples: guarded.examples.map((e) => ({
        reason: e.reason,
        path: e.symbol.path,
        name: e.symbol.name,
      })),
    });
  }
  return guarded.symbols;
}

/**
 * Offers an index to the gate and records where its symbols live.
 *
 * @example
 * ```ts
 * import { acceptIndex } from "./_router_calls.ts";
 * import { RouterState } from "./_router_state.ts";
 * import { normalizeAllowlist } from "./router_config.ts";
 * const st = new RouterState({ roots: ["src"] }, normalizeAllowlist(undefined));
 * const index = { shard_id: 0, revision: st.store.nextRevision(),
 *   index_generation: 1, symbols: [], remote: true as const };
 * console.assert(acceptIndex(st, st.shards[0], index) && st.shards[0].remote);
 * ```
 */
export function acceptIndex(
  st: RouterState,
  shard: ShardSlot,
  index: StoredIndex,
  defer = false,
  sent?: readonly SentFile[],
): boolean {
  const { remote, symbolCount: _count, ...plain } = index;
  plain.symbols = guardSymbols(st, shard, plain.symbols, sent);
  const ok = st.store.offer(plain, { defer });
  if (ok) shard.remote = remote === true;
  return ok;
}

/**
 * Runs `fn` with the shard's worker; when the connection closes under it
 * (a crash or restart), waits for the next worker and tries again, at
 * most twice. Index and update requests are idempotent.
 *
 * @example
 * ```ts
 * import { retrying } from "./_router_calls.ts";
 * import { RouterState } from "./_router_state.ts";
 * import { normalizeAllowlist } from "./router_config.ts";
 * const st = new RouterState({ roots: ["src"] }, normalizeAllowlist(undefined));
 * st.closed = true;
 * const err = await retrying(st, st.shards[0], undefined, () => Promise.resolve(1))
 *   .catch((e) => e);
 * console.assert(err.code === "connection_closed");
 * ```
 */
export async function retrying<T>(
  st: RouterState,
  shard: ShardSlot,
  signal: AbortSignal | undefined,
  fn: (worker: LiveWorker) => Promise<T>,
): Promise<T> {
  for (let attempt = 0;; attempt++) {
    const worker = await waitForWorker(st, shard, signal);
    try {
      return await fn(worker);
    } catch (err) {
      const retry = attempt < 2 && !st.closed && !signal?.aborted &&
        err instanceof ProtocolError && err.code === "connection_closed";
      if (!retry) throw err;
      st.log.info("worker connection lost during a call; retrying", {
        shard_id: shard.id,
      });
      // Let the close handler (registered first) release the shard slot,
      // so the next attempt waits for the replacement worker.
      let timer: ReturnType<typeof setTimeout> | undefined;
      await Promise.race([
        worker.conn.closed,
        new Promise((r) => timer = setTimeout(r, 1000)),
      ]);
      clearTimeout(timer);
    }
  }
}
