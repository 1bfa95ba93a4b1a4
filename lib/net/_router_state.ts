/**
 * The router's shared mutable state: shard slots, connected workers, the
 * index store, the unsaved-text overlay and the background bookkeeping that
 * the router modules (`_router_admission.ts`, `_router_index.ts`,
 * `_router_updates.ts`, `_router_queries.ts`, `_router_shutdown.ts`) act on.
 * `Router` in `router.ts` owns one {@link RouterState} and delegates.
 *
 * @module
 */

import { resolve as resolvePath, sep } from "node:path";
import { ProtocolError } from "../wire/errors.ts";
import type { CachedIndexInfo, FileText } from "../wire/types.ts";
import { formatAddress } from "./address.ts";
import { createLogger, type Logger } from "./log.ts";
import type { NormalizedAllowlist } from "./router_config.ts";
import type { RouterEvent, RouterOptions } from "./router_options.ts";
import type { WorkerSupervisor } from "./supervisor.ts";
import { RouterIndexStore } from "./_router_core.ts";
import { ThreadReader } from "./_router_reader.ts";
import type { WorkerConnection, WorkerListener } from "./_router_transport.ts";
import { WorkspaceLayout } from "../router/layout.ts";
import { UnsavedOverlay } from "../router/overlay.ts";
import { ScanCountCache } from "../router/distributed_search.ts";

/** An admitted, connected worker of one shard. */
export interface LiveWorker {
  conn: WorkerConnection;
  workerId: number;
  spawnAttempt?: number;
  /** Settles when the advertised cached index arrived (or never will). */
  cacheSettled: PromiseWithResolvers<void>;
  /** Settles when rehydration finished; calls wait for it. */
  ready: Promise<void>;
  /** Negotiated 3.1 with distributed search on: symbols stay on the worker. */
  distributed: boolean;
}

/** One shard: its root, its worker (or admission reservation) and flags. */
export interface ShardSlot {
  id: number;
  root: string;
  /** Roots of other shards nested inside this one. */
  exclude: Set<string>;
  worker?: LiveWorker;
  pending?: {
    workerId: number;
    spawnAttempt?: number;
    timer: ReturnType<typeof setTimeout>;
  };
  /** Indexed (or updated) during this router run. */
  indexed: boolean;
  /** A worker's cached index was accepted for this shard. */
  warm: boolean;
  /** Identity of the accepted cached index (set with `warm`). */
  warmIndex?: CachedIndexInfo;
  /** Symbols the shard's workers reported outside the shard, dropped. */
  rejectedSymbols: number;
  /** Why the shard's last index run failed; cleared by the next success. */
  degraded?: { code: string; message: string };
  /** The accepted index is a 3.1 summary: the symbols live on the worker. */
  remote: boolean;
}

/**
 * A counting semaphore whose waits can be aborted.
 *
 * @example
 * ```ts
 * import { Semaphore } from "./_router_state.ts";
 * const s = new Semaphore(1);
 * const release = await s.acquire();
 * console.assert(s.tryAcquire() === undefined);
 * const second = s.acquire();
 * release();
 * (await second)();
 * ```
 */
export class Semaphore {
  #free: number;
  #queue: (() => void)[] = [];
  /** Creates a semaphore with `n` permits. */
  constructor(n: number) {
    this.#free = n;
  }
  /** A permit if one is free right now (its release function), else undefined. */
  tryAcquire(): (() => void) | undefined {
    if (this.#free === 0) return undefined;
    this.#free--;
    return this.#releaser();
  }

  /** Waits for a permit; resolves to its (idempotent) release function. */
  async acquire(signal?: AbortSignal): Promise<() => void> {
    signal?.throwIfAborted();
    if (this.#free > 0) {
      this.#free--;
    } else {
      await new Promise<void>((resolve, reject) => {
        const grant = (): void => {
          signal?.removeEventListener("abort", onAbort);
          resolve();
        };
        const onAbort = (): void => {
          const i = this.#queue.indexOf(grant);
          if (i >= 0) this.#queue.splice(i, 1);
          reject(signal!.reason);
        };
        signal?.addEventListener("abort", onAbort, { once: true });
        this.#queue.push(grant);
      });
    }
    return this.#releaser();
  }

  #releaser(): () => void {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.#queue.shift();
      if (next) next();
      else this.#free++;
    };
  }
}

/**
 * The error of a cancelled operation.
 *
 * @example
 * ```ts
 * import { cancelledError } from "./_router_state.ts";
 * console.assert(cancelledError().code === "cancelled");
 * ```
 */
export function cancelledError(): ProtocolError {
  return new ProtocolError("cancelled", "operation cancelled");
}

/**
 * What an aborted operation rejects with: the signal's `ProtocolError`
 * reason, or a `cancelled` error.
 *
 * @example
 * ```ts
 * import { abortReason } from "./_router_state.ts";
 * import { ProtocolError } from "../wire/errors.ts";
 * const c = new AbortController();
 * c.abort();
 * console.assert((abortReason(c.signal) as ProtocolError).code === "cancelled");
 * ```
 */
export function abortReason(signal: AbortSignal): unknown {
  const r = signal.reason;
  return r instanceof ProtocolError ? r : cancelledError();
}

function normalizeRoot(root: string): string {
  const abs = resolvePath(root);
  return abs.length > 1 && abs.endsWith(sep) ? abs.slice(0, -1) : abs;
}

function isWithin(path: string, root: string): boolean {
  return path === root || path.startsWith(root === sep ? root : root + sep);
}

/**
 * Everything a running router shares between its modules, plus the small
 * housekeeping every module needs (events, wake-ups, background tasks).
 *
 * @example
 * ```ts
 * import { RouterState } from "./_router_state.ts";
 * import { normalizeAllowlist } from "./router_config.ts";
 * const st = new RouterState({ roots: ["a", "a/b"] }, normalizeAllowlist(undefined));
 * console.assert(st.shards.length === 2 && st.shards[0].exclude.size === 1);
 * console.assert(st.shardFor(st.shards[1].root + "/p/A.java")?.id === 1);
 * ```
 */
export class RouterState {
  /** The options the router was started with. */
  options: RouterOptions;
  /** Structured log sink. */
  log: Logger;
  /** Shard slots by id. */
  shards: ShardSlot[];
  /** Path routing over the normalized roots. */
  layout: WorkspaceLayout;
  /** The main listener (once bound). */
  listener?: WorkerListener;
  /** The supervisor of spawned workers, if any. */
  supervisor?: WorkerSupervisor;
  /** Bearer token for externally started workers. */
  authToken?: string;
  /** mTLS shard authorization. */
  allowlist: NormalizedAllowlist;
  /** Shards collecting and sending snapshots at the same time. */
  snapshots: Semaphore;
  /** Disk reads on the router's thread run one shard at a time. */
  reads: Semaphore = new Semaphore(1);
  /**
   * A second shard, arriving while the router's thread is reading, is read
   * on the reading thread instead of waiting.
   */
  threadReads: Semaphore = new Semaphore(1);
  /** The reading thread (started on first use, stopped at shutdown). */
  readThread: ThreadReader = new ThreadReader();
  /** The next worker id handed out at admission. */
  nextWorkerId = 1;
  /** Revision gate plus the global symbol index. */
  store: RouterIndexStore;
  /** Unsaved text by absolute path. */
  overlay: UnsavedOverlay = new UnsavedOverlay();
  /** Resolved (and replaced) whenever a shard's worker changes. */
  changed: { promise: Promise<void>; resolve: () => void };
  /** Shut down (or shutting down). */
  closed = false;
  /** Accept loops of the main listener. */
  acceptLoops: Promise<void>[] = [];
  /** The router's private 0700 directory, once made. */
  tempDir?: string;
  /** Background tasks awaited at shutdown. */
  background: Set<Promise<unknown>> = new Set<Promise<unknown>>();
  /** Scan-count cache for distributed search planning. */
  scanCache: ScanCountCache = new ScanCountCache();

  /** Builds the shard slots for `options.roots`. */
  constructor(options: RouterOptions, allowlist: NormalizedAllowlist) {
    this.options = options;
    this.log = options.logger ?? createLogger({ component: "router" });
    this.allowlist = allowlist;
    this.authToken = options.authToken;
    this.snapshots = new Semaphore(options.maxConcurrentSnapshots ?? 2);
    this.changed = Promise.withResolvers<void>();
    this.store = new RouterIndexStore();
    this.layout = new WorkspaceLayout(options.roots.map(normalizeRoot));
    const roots = this.layout.roots;
    this.shards = roots.map((root, id) => ({
      id,
      root,
      exclude: new Set(
        roots.filter((other) => other !== root && isWithin(other, root)),
      ),
      indexed: false,
      warm: false,
      remote: false,
      rejectedSymbols: 0,
    }));
  }

  /** The bound address of the main listener (TCP port 0 resolved). */
  get address(): string {
    return formatAddress(this.listener!.address);
  }

  /** The router's private 0700 directory (made on first use). */
  async privateDir(): Promise<string> {
    if (this.tempDir === undefined) {
      this.tempDir = await Deno.makeTempDir({ prefix: "loom-router-" });
      await Deno.chmod(this.tempDir, 0o700);
    }
    return this.tempDir;
  }

  /** Reports an event to the observer (which never breaks the router). */
  emit(event: RouterEvent): void {
    try {
      this.options.onEvent?.(event);
    } catch {
      // Observers never break the router.
    }
  }

  /** Wakes everything waiting for a shard's worker to change. */
  wake(): void {
    const old = this.changed;
    this.changed = Promise.withResolvers<void>();
    old.resolve();
  }

  /** Keeps `p` until it settles, so shutdown can wait for it. */
  track(p: Promise<unknown>): void {
    this.background.add(p);
    p.finally(() => this.background.delete(p));
  }

  /** Throws `connection_closed` once the router is shut down. */
  ensureOpen(): void {
    if (this.closed) {
      throw new ProtocolError("connection_closed", "router is shut down");
    }
  }

  /** The shard owning `path` (longest matching root), if any. */
  shardFor(path: string): ShardSlot | undefined {
    const id = this.layout.shardForPath(path);
    return id === undefined ? undefined : this.shards[id];
  }

  /** The overlay's files that belong to `shard`. */
  overlayFor(shard: ShardSlot): FileText[] {
    const out: FileText[] = [];
    for (const path of this.overlay.paths()) {
      if (this.shardFor(path) === shard) {
        out.push({ path, text: this.overlay.get(path)! });
      }
    }
    return out;
  }

  /**
   * Frees `shard` if worker `workerId` still holds it: marks its index
   * stale and reports the disconnect. Returns whether it was held.
   */
  releaseShard(shard: ShardSlot, workerId: number): boolean {
    if (shard.worker?.workerId !== workerId) return false;
    shard.worker = undefined;
    this.store.setStale(shard.id, true);
    this.emit({ type: "worker_disconnected", shard: shard.id, workerId });
    return true;
  }

  /** Closes `worker` and frees its shard slot (if it still holds it). */
  disconnect(shard: ShardSlot, worker: LiveWorker): void {
    worker.conn.close();
    this.releaseShard(shard, worker.workerId);
    this.wake();
  }
}
