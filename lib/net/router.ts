/**
 * The router's I/O side: listens for workers, admits them, optionally spawns
 * and supervises one worker process per shard, ships `.java` snapshots,
 * keeps an unsaved-text overlay, and answers workspace symbol queries from
 * the router-local index (the pure logic lives in `lib/router/`).
 *
 * Deliberate differences from the reference router:
 * - token compared in constant time, and every spawned child has its own
 *   token so only our child counts as "our worker" for its shard;
 * - one shard's failure sends real `Cancel`s to the other shards' in-flight
 *   calls and reports which shard failed;
 * - non-UTF-8 files are skipped and reported, not fatal;
 * - revision epochs: an index from this router run always outranks a cached
 *   index from an earlier run (the reference gate compares bare revisions);
 * - a router-side overlay of unsaved text: rehydration after a worker
 *   restart is disk + overlay;
 * - a worker that reconnects without a cache, for a shard that was already
 *   indexed in this run, is re-indexed (the reference leaves it empty);
 * - `UpdateFile` paths are checked (`.java`, inside a root) and routed by the
 *   longest matching root (nested roots);
 * - spawning works with `tcp+tls:` when worker TLS settings are given.
 *
 * This module is the public entry; the implementation is split into
 * `router_options.ts` (option, event and result types, `ShardError`),
 * `_router_state.ts` (shared state), `_router_calls.ts` (reaching a
 * worker), `_router_admission.ts` (listeners, admission, connections),
 * `_router_index.ts` (snapshots, `indexWorkspace`), `_router_updates.ts`
 * (overlay updates, rehydration), `_router_queries.ts` (search,
 * diagnostics, stats) and `_router_shutdown.ts`.
 *
 * @module
 */

import { resolve as resolvePath } from "node:path";
import type { RemoteDiagnostic, U64, WorkerStats } from "../wire/types.ts";
import {
  normalizeAllowlist,
  type NormalizedAllowlist,
} from "./router_config.ts";
import type {
  CallOptions,
  IndexWorkspaceOptions,
  IndexWorkspaceResult,
  RouterOptions,
  ShardStatus,
} from "./router_options.ts";
import type { SymbolMatch } from "../router/ranking.ts";
import { bind } from "./_router_admission.ts";
import { waitForWorker } from "./_router_calls.ts";
import { indexWorkspace } from "./_router_index.ts";
import { diagnostics, searchSymbols, workerStats } from "./_router_queries.ts";
import { abandonStart, shutdown } from "./_router_shutdown.ts";
import { RouterState } from "./_router_state.ts";
import { updateFile } from "./_router_updates.ts";

export type {
  FingerprintAllowlist,
  RouterTlsOptions,
  WorkerTlsOptions,
} from "./router_config.ts";
export type { SymbolMatch };
export * from "./router_options.ts";

/**
 * A running router. Create one with {@link startRouter}; every method that
 * reaches a worker takes an `AbortSignal`.
 *
 * @example Index, search, edit, shut down
 * ```ts ignore
 * import { startRouter } from "./router.ts";
 * await using router = await startRouter({ roots: ["a/src"], spawnWorkers: { program: { main: "cli/main.ts" } } });
 * await router.indexWorkspace({ onProgress: (p) => console.log(p.shardsDone) });
 * await router.updateFile("a/src/p/A.java", "class Unsaved {}");
 * console.log(router.workspaceSymbols("Unsav")[0].symbol);
 * ```
 */
export class Router {
  #st: RouterState;

  private constructor(options: RouterOptions, allowlist: NormalizedAllowlist) {
    this.#st = new RouterState(options, allowlist);
  }

  /** Starts a router (binds, then spawns workers when asked). */
  static async start(options: RouterOptions): Promise<Router> {
    if (!Array.isArray(options.roots)) {
      throw new TypeError("roots must be an array of paths");
    }
    const allowlist = normalizeAllowlist(options.fingerprintAllowlist);
    const router = new Router(options, allowlist);
    try {
      await bind(router.#st);
    } catch (err) {
      await abandonStart(router.#st);
      throw err;
    }
    return router;
  }

  /** The bound address (TCP port 0 resolved). */
  get address(): string {
    return this.#st.address;
  }

  /** The normalized source roots, by shard id. */
  get roots(): readonly string[] {
    return this.#st.shards.map((s) => s.root);
  }

  /**
   * The current global revision: `epoch * 2^32 + counter`, where the epoch
   * identifies this router run (see `lib/router/shard_store.ts`).
   */
  get revision(): U64 {
    return this.#st.store.revision;
  }

  /** Shards that currently have a connected worker. */
  connectedShards(): number[] {
    return this.#st.shards.filter((s) => s.worker).map((s) => s.id);
  }

  /** The pid of the spawned worker of `shard`, if any. */
  workerPid(shard: number): number | undefined {
    return this.#st.supervisor?.pid(shard);
  }

  /** How many worker processes were started for `shard`. */
  workerAttempts(shard: number): number {
    return this.#st.supervisor?.attempts(shard) ?? 0;
  }

  /** Kills the spawned worker of `shard` (SIGKILL); the supervisor restarts it. */
  killWorker(shard: number): boolean {
    return this.#st.supervisor?.kill(shard) ?? false;
  }

  /**
   * Indexes every shard: all shards at once, at most
   * `maxConcurrentSnapshots` reading and sending at a time. The first shard
   * failure cancels the others (real `Cancel`s) and rejects with a
   * {@link ShardError} naming the shard.
   */
  indexWorkspace(
    options: IndexWorkspaceOptions = {},
  ): Promise<IndexWorkspaceResult> {
    return indexWorkspace(this.#st, options);
  }

  /**
   * Sends a file's (possibly unsaved) text to its shard's worker and
   * remembers it in the overlay, so a restarted worker gets it back.
   */
  updateFile(
    path: string,
    text: string,
    options: CallOptions = {},
  ): Promise<void> {
    return updateFile(this.#st, { path, text }, options);
  }

  /**
   * Drops a file from the overlay (its buffer was saved or closed); the
   * disk text is authoritative again from the next snapshot on.
   */
  discardOverlay(path: string): boolean {
    return this.#st.overlay.delete(resolvePath(path));
  }

  /** Paths that currently have unsaved text in the overlay. */
  overlayPaths(): string[] {
    return this.#st.overlay.paths();
  }

  /**
   * Searches the router-local symbol index (reference candidate selection
   * and ranking).
   */
  workspaceSymbols(
    query: string,
    options: { limit?: number } = {},
  ): SymbolMatch[] {
    return this.#st.store.search(query, options.limit ?? 200);
  }

  /**
   * Searches like {@link workspaceSymbols}, asking 3.1 workers that keep
   * their symbols (distributed search) and merging their top-k lists with
   * the router-local shards under the same ranking. Shards whose symbols
   * live on a disconnected worker are skipped. Without such shards this is
   * {@link workspaceSymbols}.
   */
  searchSymbols(
    query: string,
    options: { limit?: number; signal?: AbortSignal } = {},
  ): Promise<SymbolMatch[]> {
    return searchSymbols(this.#st, query, options);
  }

  /** Diagnostics for a file; best effort (an empty list on any failure). */
  diagnostics(
    path: string,
    options: CallOptions = {},
  ): Promise<RemoteDiagnostic[]> {
    return diagnostics(this.#st, path, options);
  }

  /** Stats of every shard's worker (sequential; the first failure rejects). */
  workerStats(
    options: CallOptions = {},
  ): Promise<Map<number, WorkerStats>> {
    return workerStats(this.#st, options);
  }

  /**
   * Waits until every shard has a connected worker and each cached index
   * its Hello advertised has arrived (no fixed delay: a worker without a
   * cache is ready at once; one with a cache when its `cached_index`
   * notification arrives or its connection closes).
   */
  async waitForWorkers(options: CallOptions = {}): Promise<void> {
    for (const shard of this.#st.shards) {
      const worker = await waitForWorker(this.#st, shard, options.signal);
      await worker.cacheSettled.promise;
    }
  }

  /** Per-shard state, for UIs and the CLI. */
  shardStatus(): ShardStatus[] {
    return this.#st.shards.map((s) => ({
      shard: s.id,
      root: s.root,
      connected: s.worker !== undefined,
      warm: s.warm,
      ...(s.warmIndex ? { warmIndex: s.warmIndex } : {}),
      indexed: s.indexed,
      rejectedSymbols: s.rejectedSymbols,
      ...(s.degraded ? { degraded: s.degraded } : {}),
    }));
  }

  /**
   * Shuts down: stops restarts, sends `Shutdown` to every connected worker
   * (2 s each, in parallel), closes the connections, then kills stragglers
   * and removes the socket.
   */
  shutdown(): Promise<void> {
    return shutdown(this.#st);
  }

  /** Same as {@link shutdown}. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.shutdown();
  }
}

/**
 * Starts a router.
 *
 * @example
 * ```ts ignore
 * import { startRouter } from "./router.ts";
 * await using router = await startRouter({ roots: ["a/src", "b/src"], spawnWorkers: { program: { main: "cli/main.ts" } } });
 * await router.indexWorkspace();
 * console.log(router.workspaceSymbols("FooBar"));
 * ```
 */
export function startRouter(options: RouterOptions): Promise<Router> {
  return Router.start(options);
}
