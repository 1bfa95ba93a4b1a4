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
 * @module
 */

import { resolve as resolvePath, sep } from "node:path";
import { tmpdir } from "node:os";
import { randomBytes } from "node:crypto";
import { ProtocolError } from "../wire/errors.ts";
import type {
  FileText,
  HandshakeReject,
  Notification,
  RemoteDiagnostic,
  Request,
  Response,
  ShardIndex,
  Symbol,
  U64,
  WorkerHello,
  WorkerStats,
} from "../wire/types.ts";
import { type Address, formatAddress, parseAddress } from "./address.ts";
import { createLogger, type Logger } from "./log.ts";
import {
  type FingerprintAllowlist,
  normalizeAllowlist,
  type NormalizedAllowlist,
  type RouterTlsOptions,
  shardAuthorized,
  validateRouterConfig,
  type WorkerTlsOptions,
} from "./router_config.ts";
import {
  type RestartBackoff,
  type SpawnEndpoint,
  type SupervisorEvent,
  WorkerSupervisor,
} from "./supervisor.ts";
import { defaultWorkerCommand, splitCommandLine } from "./worker_command.ts";
import { collectJavaFiles, type SkippedFile } from "./workspace_fs.ts";
import * as core from "./_router_core.ts";
import { WorkspaceLayout } from "../router/layout.ts";
import { UnsavedOverlay } from "../router/overlay.ts";
import {
  distributedWorkspaceSymbols,
  localSearchTarget,
  ScanCountCache,
  type ShardSearchTarget,
} from "../router/distributed_search.ts";
import { supportsDistributedSearch } from "../worker/search.ts";
import type { SymbolMatch } from "../router/ranking.ts";
import {
  listenForWorkers,
  type ListenForWorkersOptions,
  type WorkerConnection,
  type WorkerListener,
} from "./_router_transport.ts";

export type { FingerprintAllowlist, RouterTlsOptions, WorkerTlsOptions };
export type { SymbolMatch };

/** Options for spawning local workers. */
export interface SpawnWorkersOptions {
  /**
   * Worker command template (`{connect}`, `{shard}`, `{cache_dir}`,
   * `{token_env}`).
   * @default {this checkout's worker run by the current Deno}
   */
  command?: string | readonly string[];
  /**
   * Cache directory passed to workers.
   * @default {"<os tmp>/loom-cache"}
   */
  cacheDir?: string;
  /** Environment variable carrying each child's token. */
  tokenEnv?: string;
  /** Extra environment for the children. */
  env?: Record<string, string>;
  /** TLS settings for workers connecting to a `tcp+tls:` router. */
  tls?: WorkerTlsOptions;
  /** Creates the restart backoff (50 ms doubling to 5 s by default). */
  createBackoff?: () => RestartBackoff;
}

/** Options for {@link startRouter}. */
export interface RouterOptions {
  /** Source roots; the shard id is the position in this list. */
  roots: readonly string[];
  /**
   * Listen address.
   * @default {"unix:<fresh 0700 temp dir>/router.sock"}
   */
  listen?: string;
  /** Bearer token for externally started workers. */
  authToken?: string;
  /** Permit plaintext `tcp:` with a token or on a non-loopback address. */
  allowInsecureTcp?: boolean;
  /** TLS for `tcp+tls:`. */
  tls?: RouterTlsOptions;
  /** mTLS shard authorization (needs `tls.clientCaFile`). */
  fingerprintAllowlist?: FingerprintAllowlist;
  /** Spawn and supervise one worker per shard. */
  spawnWorkers?: boolean | SpawnWorkersOptions;
  /**
   * Largest frame/packet offered to workers, clamped to [1, 64 MiB].
   * @default {67108864}
   */
  maxRpcBytes?: number;
  /** @default {128} */
  maxInflightHandshakes?: number;
  /** @default {1024} */
  maxWorkerConnections?: number;
  /** @default {5000} */
  handshakeTimeoutMs?: number;
  /**
   * Budget for sending a request.
   * @default {30000}
   */
  rpcWriteTimeoutMs?: number;
  /**
   * Budget for a response.
   * @default {600000}
   */
  rpcReadTimeoutMs?: number;
  /**
   * How long a call waits for its shard to have a worker.
   * @default {20000}
   */
  workerWaitTimeoutMs?: number;
  /**
   * Shards collecting and sending snapshots at the same time.
   * @default {2}
   */
  maxConcurrentSnapshots?: number;
  /**
   * Distributed search (protocol 3.1): offer version 3.1; a worker that
   * negotiates it keeps its symbols (index requests carry `omit_symbols`)
   * and answers {@link Router.searchSymbols} itself. 3.0 workers keep
   * working through the router-local index.
   * @default {false}
   */
  distributedSearch?: boolean;
  /**
   * Send a worker that connects with a cached index the shard's files
   * (`LoadFiles`), so later updates rebuild from the whole shard. A one-shot
   * query tool that never updates files can turn this off.
   * @default {true}
   */
  rehydrateCachedWorkers?: boolean;
  /** Lifecycle events (connections, restarts, worker output). */
  onEvent?: (event: RouterEvent) => void;
  /** Structured log sink. */
  logger?: Logger;
}

/** Something the router observed. */
export type RouterEvent =
  | {
    type: "worker_connected";
    shard: number;
    workerId: number;
    cached: boolean;
    spawned: boolean;
  }
  | { type: "worker_disconnected"; shard: number; workerId: number }
  | {
    type: "worker_rehydrated";
    shard: number;
    workerId: number;
    mode: "load_files" | "index_shard";
    files: number;
    overlayFiles: number;
  }
  | { type: "cached_index"; shard: number; symbols: number; accepted: boolean }
  | { type: "files_skipped"; shard: number; files: SkippedFile[] }
  | { type: "supervisor"; event: SupervisorEvent };

/** Progress of one shard during {@link Router.indexWorkspace}. */
export interface ShardProgress {
  shard: number;
  root: string;
  phase:
    | "waiting"
    | "reading"
    | "sending"
    | "indexing"
    | "done"
    | "failed"
    | "cancelled";
  /** Files to read, once the walk is done. */
  filesTotal?: number;
  filesRead: number;
  bytesRead: number;
  bytesSent: number;
  symbols: number;
}

/** A progress snapshot for UIs. */
export interface IndexProgress {
  revision: U64;
  shards: readonly ShardProgress[];
  shardsDone: number;
}

/** Options for {@link Router.indexWorkspace}. */
export interface IndexWorkspaceOptions {
  signal?: AbortSignal;
  /** Called (synchronously) whenever progress changes. */
  onProgress?: (progress: IndexProgress) => void;
  /** Index only these shards (default: all). */
  shards?: readonly number[];
}

/** The outcome of {@link Router.indexWorkspace}. */
export interface IndexWorkspaceResult {
  revision: U64;
  files: number;
  bytes: number;
  symbols: number;
  skipped: SkippedFile[];
}

/** What {@link Router.shardStatus} reports per shard. */
export interface ShardStatus {
  shard: number;
  root: string;
  connected: boolean;
  /** A cached index from a worker is loaded. */
  warm: boolean;
  /** Indexed or updated during this router run. */
  indexed: boolean;
}

/** Options for calls that reach a worker. */
export interface CallOptions {
  signal?: AbortSignal;
}

/**
 * The error an index run fails with, naming the shard that failed; `code`
 * is the underlying error's code.
 *
 * @example
 * ```ts
 * import { ShardError } from "./router.ts";
 * import { ProtocolError } from "../wire/errors.ts";
 * const err = new ShardError(2, new ProtocolError("timeout", "slow worker"));
 * console.assert(err.shard === 2 && err.code === "timeout" && err instanceof ProtocolError);
 * ```
 */
export class ShardError extends ProtocolError {
  /** The shard that failed. */
  readonly shard: number;

  /** Wraps `cause` for `shard`. */
  constructor(shard: number, cause: unknown) {
    const code = cause instanceof ProtocolError ? cause.code : "io_error";
    super(
      code,
      `shard ${shard}: ${
        cause instanceof Error ? cause.message : String(cause)
      }`,
      {
        remote: cause instanceof ProtocolError ? cause.remote : false,
        cause,
      },
    );
    this.name = "ShardError";
    this.shard = shard;
  }
}

interface LiveWorker {
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

interface ShardSlot {
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
  /** The accepted index is a 3.1 summary: the symbols live on the worker. */
  remote: boolean;
}

class Semaphore {
  #free: number;
  #queue: (() => void)[] = [];
  constructor(n: number) {
    this.#free = n;
  }
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

function cancelledError(): ProtocolError {
  return new ProtocolError("cancelled", "operation cancelled");
}

function abortReason(signal: AbortSignal): unknown {
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
 * A running router. Create one with {@link startRouter}; every method that
 * reaches a worker takes an `AbortSignal`.
 *
 * @example Index, search, edit, shut down
 * ```ts ignore
 * import { startRouter } from "./router.ts";
 * await using router = await startRouter({ roots: ["a/src"], spawnWorkers: true });
 * await router.indexWorkspace({ onProgress: (p) => console.log(p.shardsDone) });
 * await router.updateFile("a/src/p/A.java", "class Unsaved {}");
 * console.log(router.workspaceSymbols("Unsav")[0].symbol);
 * ```
 */
export class Router {
  #options: RouterOptions;
  #log: Logger;
  #shards: ShardSlot[];
  #layout: WorkspaceLayout;
  #listener?: WorkerListener;
  #supervisor?: WorkerSupervisor;
  #authToken?: string;
  #allowlist: NormalizedAllowlist;
  #snapshots: Semaphore;
  /** Disk reads run one shard at a time so the first shard ships sooner. */
  #reads = new Semaphore(1);
  #nextWorkerId = 1;
  #store: core.RouterIndexStore;
  #overlay = new UnsavedOverlay();
  #changed: { promise: Promise<void>; resolve: () => void };
  #closed = false;
  #acceptLoops: Promise<void>[] = [];
  #tempDir?: string;
  #background = new Set<Promise<unknown>>();
  #scanCache = new ScanCountCache();

  private constructor(options: RouterOptions, allowlist: NormalizedAllowlist) {
    this.#options = options;
    this.#log = options.logger ?? createLogger({ component: "router" });
    this.#allowlist = allowlist;
    this.#authToken = options.authToken;
    this.#snapshots = new Semaphore(options.maxConcurrentSnapshots ?? 2);
    this.#changed = Promise.withResolvers<void>();
    this.#store = new core.RouterIndexStore();
    this.#layout = new WorkspaceLayout(options.roots.map(normalizeRoot));
    const roots = this.#layout.roots;
    this.#shards = roots.map((root, id) => ({
      id,
      root,
      exclude: new Set(
        roots.filter((other) => other !== root && isWithin(other, root)),
      ),
      indexed: false,
      warm: false,
      remote: false,
    }));
  }

  /** Starts a router (binds, then spawns workers when asked). */
  static async start(options: RouterOptions): Promise<Router> {
    if (!Array.isArray(options.roots)) {
      throw new TypeError("roots must be an array of paths");
    }
    const allowlist = normalizeAllowlist(options.fingerprintAllowlist);
    const router = new Router(options, allowlist);
    try {
      await router.#bind();
    } catch (err) {
      await router.#listener?.close();
      if (router.#tempDir !== undefined) {
        await Deno.remove(router.#tempDir, { recursive: true }).catch(() => {});
      }
      throw err;
    }
    return router;
  }

  #listenOptions(): Omit<ListenForWorkersOptions, "admit" | "authToken"> {
    const opts = this.#options;
    return {
      tls: opts.tls,
      allowInsecure: opts.allowInsecureTcp ?? false,
      maxRpcBytes: Math.min(
        Math.max(1, opts.maxRpcBytes ?? 64 * 1024 * 1024),
        64 * 1024 * 1024,
      ),
      maxInflightHandshakes: Math.max(1, opts.maxInflightHandshakes ?? 128),
      maxConnections: Math.max(1, opts.maxWorkerConnections ?? 1024),
      handshakeTimeoutMs: opts.handshakeTimeoutMs ?? 5000,
      supportedVersions: opts.distributedSearch
        ? { min: { major: 3, minor: 0 }, max: { major: 3, minor: 1 } }
        : undefined,
    };
  }

  async #privateDir(): Promise<string> {
    if (this.#tempDir === undefined) {
      this.#tempDir = await Deno.makeTempDir({ prefix: "loom-router-" });
      await Deno.chmod(this.#tempDir, 0o700);
    }
    return this.#tempDir;
  }

  async #bind(): Promise<void> {
    const opts = this.#options;
    const listenText = opts.listen ??
      `unix:${await this.#privateDir()}/router.sock`;
    const address = parseAddress(listenText);
    const spawn = opts.spawnWorkers === true
      ? {}
      : opts.spawnWorkers === false
      ? undefined
      : opts.spawnWorkers;
    validateRouterConfig({
      address,
      tokenInUse: opts.authToken !== undefined,
      allowInsecureTcp: opts.allowInsecureTcp ?? false,
      tls: opts.tls,
      allowlist: this.#allowlist,
    });
    this.#listener = await listenForWorkers(address, {
      ...this.#listenOptions(),
      authToken: opts.authToken,
      admit: (hello, peerFingerprint) => this.#admit(hello, peerFingerprint),
    });
    this.#acceptLoops.push(this.#accept(this.#listener));
    if (spawn !== undefined) this.#startSupervisor(spawn, address);
  }

  /**
   * A private listener for one spawned child: a unix socket in the router's
   * 0700 directory, or (for a `tcp+tls:` router with worker TLS settings) a
   * fresh TLS port on the same host. Its token is unique to the child, so
   * only that child is admitted through it, as "ours".
   */
  async #spawnEndpoint(
    shard: number,
    attempt: number,
    mainAddress: Address,
    tls: WorkerTlsOptions | undefined,
  ): Promise<SpawnEndpoint> {
    const token = generateToken();
    const address: Address =
      mainAddress.transport === "tcp+tls" && tls !== undefined
        ? { transport: "tcp+tls", hostname: mainAddress.hostname, port: 0 }
        : {
          transport: "unix",
          path: `${await this.#privateDir()}/w${shard}-${attempt}.sock`,
        };
    const listener = await listenForWorkers(address, {
      ...this.#listenOptions(),
      maxInflightHandshakes: 4,
      maxConnections: 4,
      authToken: token,
      admit: (hello, fp) => this.#admit(hello, fp, { shard, attempt }),
    });
    const loop = this.#accept(listener);
    this.#track(loop);
    return {
      connect: formatAddress(listener.address),
      token,
      close: () => listener.close(),
    };
  }

  #startSupervisor(spawn: SpawnWorkersOptions, mainAddress: Address): void {
    let command: string | readonly string[] = spawn.command ??
      defaultWorkerCommand();
    const tlsChildren = mainAddress.transport === "tcp+tls" &&
      spawn.tls !== undefined;
    if (tlsChildren && spawn.command === undefined) {
      const tls = spawn.tls!;
      const words = typeof command === "string"
        ? splitCommandLine(command)
        : [...command];
      words.push("--tls-ca-cert", tls.caCertFile);
      if (tls.domain) words.push("--tls-domain", tls.domain);
      if (tls.clientCertFile) {
        words.push("--tls-client-cert", tls.clientCertFile);
      }
      if (tls.clientKeyFile) words.push("--tls-client-key", tls.clientKeyFile);
      command = words;
    }
    this.#supervisor = new WorkerSupervisor({
      shards: this.#shards.map((s) => s.id),
      command,
      connect: this.address,
      prepare: (shard, attempt) =>
        this.#spawnEndpoint(shard, attempt, mainAddress, spawn.tls),
      cacheDir: spawn.cacheDir ?? `${tmpdir()}/loom-cache`,
      caCert: spawn.tls?.caCertFile,
      tokenEnv: spawn.tokenEnv,
      env: spawn.env,
      createBackoff: spawn.createBackoff ?? core.createRestartBackoff,
      // The default backoff adds its own jitter.
      jitter: spawn.createBackoff ? undefined : () => 0,
      handshakeTimeoutMs: this.#options.handshakeTimeoutMs ?? 5000,
      onEvent: (event) => {
        if (event.type === "output") {
          this.#log.info("worker output", {
            shard_id: event.shard,
            stream: event.stream,
            line: event.line,
          });
        } else {
          this.#log.info(`worker ${event.type}`, { ...event, type: undefined });
        }
        this.#emit({ type: "supervisor", event });
      },
    });
    this.#supervisor.start();
  }

  /** The bound address (TCP port 0 resolved). */
  get address(): string {
    return formatAddress(this.#listener!.address);
  }

  /** The normalized source roots, by shard id. */
  get roots(): readonly string[] {
    return this.#shards.map((s) => s.root);
  }

  /**
   * The current global revision: `epoch * 2^32 + counter`, where the epoch
   * identifies this router run (see `lib/router/shard_store.ts`).
   */
  get revision(): U64 {
    return this.#store.revision;
  }

  /** Shards that currently have a connected worker. */
  connectedShards(): number[] {
    return this.#shards.filter((s) => s.worker).map((s) => s.id);
  }

  /** The pid of the spawned worker of `shard`, if any. */
  workerPid(shard: number): number | undefined {
    return this.#supervisor?.pid(shard);
  }

  /** How many worker processes were started for `shard`. */
  workerAttempts(shard: number): number {
    return this.#supervisor?.attempts(shard) ?? 0;
  }

  /** Kills the spawned worker of `shard` (SIGKILL); the supervisor restarts it. */
  killWorker(shard: number): boolean {
    return this.#supervisor?.kill(shard) ?? false;
  }

  #emit(event: RouterEvent): void {
    try {
      this.#options.onEvent?.(event);
    } catch {
      // Observers never break the router.
    }
  }

  #wake(): void {
    const old = this.#changed;
    this.#changed = Promise.withResolvers<void>();
    old.resolve();
  }

  #admit(
    hello: WorkerHello,
    peerFingerprint: string | undefined,
    spawn?: { shard: number; attempt: number },
  ): { worker_id: number; revision: U64 } | { reject: HandshakeReject } {
    if (this.#closed) {
      return {
        reject: { code: "internal", message: "router is shutting down" },
      };
    }
    const shardId = hello.shard_id;
    // The token itself was checked by the transport (constant time). On the
    // shared listener, a spawning router without a configured token admits
    // nobody: its own children use their private listeners.
    if (
      spawn === undefined && this.#supervisor !== undefined &&
      this.#authToken === undefined
    ) {
      return {
        reject: { code: "unauthorized", message: "authentication failed" },
      };
    }
    if (spawn !== undefined && spawn.shard !== shardId) {
      return {
        reject: { code: "unauthorized", message: "shard authorization failed" },
      };
    }
    const spawnAttempt = spawn?.attempt;
    if (
      spawn === undefined &&
      !shardAuthorized(this.#allowlist, shardId, peerFingerprint)
    ) {
      return {
        reject: { code: "unauthorized", message: "shard authorization failed" },
      };
    }
    const shard = this.#shards[shardId];
    if (shard === undefined) {
      return {
        reject: {
          code: "invalid_request",
          message: `unknown shard ${shardId}`,
        },
      };
    }
    if (shard.worker !== undefined || shard.pending !== undefined) {
      return {
        reject: {
          code: "invalid_request",
          message: `shard ${shardId} already has a connected worker`,
        },
      };
    }
    const workerId = this.#nextWorkerId++;
    // The reservation lapses if the connection never shows up (the Welcome
    // could not be written).
    const timer = setTimeout(() => {
      if (shard.pending?.workerId === workerId) {
        shard.pending = undefined;
        this.#wake();
      }
    }, (this.#options.handshakeTimeoutMs ?? 5000) + 1000);
    shard.pending = { workerId, spawnAttempt, timer };
    return { worker_id: workerId, revision: this.#store.revision };
  }

  async #accept(listener: WorkerListener): Promise<void> {
    try {
      for await (const conn of listener) {
        this.#onConnection(conn);
      }
    } catch (err) {
      if (!this.#closed) {
        this.#log.error("router accept loop terminated", { err });
      }
    }
  }

  #onConnection(conn: WorkerConnection): void {
    const shard = this.#shards[conn.hello.shard_id];
    const workerId = conn.welcome.worker_id;
    if (shard?.pending?.workerId !== workerId || this.#closed) {
      conn.close();
      return;
    }
    clearTimeout(shard.pending.timer);
    const worker: LiveWorker = {
      conn,
      workerId,
      spawnAttempt: shard.pending.spawnAttempt,
      cacheSettled: Promise.withResolvers<void>(),
      ready: Promise.resolve(),
      distributed: this.#options.distributedSearch === true &&
        supportsDistributedSearch(conn.welcome.chosen_version),
    };
    shard.pending = undefined;
    shard.worker = worker;
    this.#store.setStale(shard.id, false);
    const cached = conn.hello.cached_index_info !== null;
    if (!cached) worker.cacheSettled.resolve();
    const settle = setTimeout(() => worker.cacheSettled.resolve(), 2000);
    worker.cacheSettled.promise.then(() => clearTimeout(settle));
    this.#log.info("worker connected", {
      shard_id: shard.id,
      worker_id: workerId,
      has_cached_index: cached,
    });
    conn.setNotificationHandler((n) => this.#onNotification(shard, worker, n));
    conn.closed.then(() => {
      worker.cacheSettled.resolve();
      if (shard.worker?.workerId === workerId) {
        shard.worker = undefined;
        this.#store.setStale(shard.id, true);
        this.#log.info("worker connection closed", {
          shard_id: shard.id,
          worker_id: workerId,
        });
        this.#emit({ type: "worker_disconnected", shard: shard.id, workerId });
        this.#wake();
      }
    });
    if (worker.spawnAttempt !== undefined) {
      this.#supervisor?.connected(shard.id, worker.spawnAttempt, conn.closed);
    }
    this.#emit({
      type: "worker_connected",
      shard: shard.id,
      workerId,
      cached,
      spawned: worker.spawnAttempt !== undefined,
    });
    const overlayFiles = this.#overlayFor(shard).length;
    // Calls to this worker wait until it holds the shard's files again, so
    // an update cannot race the rehydration snapshot.
    if (overlayFiles > 0 || (!cached && shard.indexed)) {
      worker.ready = this.#rehydrate(shard, worker, "index_shard");
    } else if (cached && this.#options.rehydrateCachedWorkers !== false) {
      worker.ready = this.#rehydrate(shard, worker, "load_files");
    }
    this.#track(worker.ready);
    this.#wake();
  }

  #track(p: Promise<unknown>): void {
    this.#background.add(p);
    p.finally(() => this.#background.delete(p));
  }

  #onNotification(
    shard: ShardSlot,
    worker: LiveWorker,
    n: Notification,
  ): void {
    if (n.type !== "cached_index") return;
    if (n.body.shard_id !== shard.id) {
      this.#log.warn(
        "worker sent cached index for wrong shard; disconnecting worker",
        { shard_id: shard.id, got: n.body.shard_id },
      );
      this.#disconnect(shard, worker);
      return;
    }
    const accepted = this.#store.offer(n.body);
    if (accepted) {
      shard.warm = true;
      shard.remote = false;
    }
    worker.cacheSettled.resolve();
    this.#emit({
      type: "cached_index",
      shard: shard.id,
      symbols: n.body.symbols.length,
      accepted,
    });
  }

  #disconnect(shard: ShardSlot, worker: LiveWorker): void {
    worker.conn.close();
    if (shard.worker?.workerId === worker.workerId) {
      shard.worker = undefined;
      this.#store.setStale(shard.id, true);
      this.#emit({
        type: "worker_disconnected",
        shard: shard.id,
        workerId: worker.workerId,
      });
    }
    this.#wake();
  }

  #overlayFor(shard: ShardSlot): FileText[] {
    const out: FileText[] = [];
    for (const path of this.#overlay.paths()) {
      if (this.#shardFor(path) === shard) {
        out.push({ path, text: this.#overlay.get(path)! });
      }
    }
    return out;
  }

  /** Disk snapshot of a shard with the overlay applied. */
  async #snapshot(
    shard: ShardSlot,
    signal: AbortSignal | undefined,
    onFile?: (bytes: number) => void,
    onListed?: (count: number) => void,
  ): Promise<{ files: FileText[]; bytes: number; skipped: SkippedFile[] }> {
    const release = await this.#reads.acquire(signal);
    let snap;
    try {
      snap = await collectJavaFiles(shard.root, {
        exclude: shard.exclude,
        signal,
        onListed,
        onFile: onFile && ((_p, b) => onFile(b)),
      });
    } finally {
      release();
    }
    if (snap.skipped.length > 0) {
      this.#log.warn("skipped files", {
        shard_id: shard.id,
        count: snap.skipped.length,
      });
      this.#emit({
        type: "files_skipped",
        shard: shard.id,
        files: snap.skipped,
      });
    }
    if (this.#overlayFor(shard).length === 0) return snap;
    const files = this.#overlay.rehydrate(snap.files, {
      include: (p) => this.#layout.ownsPath(shard.id, p),
    });
    const enc = new TextEncoder();
    const bytes = files.reduce((n, f) => n + enc.encode(f.text).length, 0);
    return { files, bytes, skipped: snap.skipped };
  }

  async #rehydrate(
    shard: ShardSlot,
    worker: LiveWorker,
    mode: "load_files" | "index_shard",
  ): Promise<void> {
    let release: (() => void) | undefined;
    try {
      const closed = new AbortController();
      worker.conn.closed.then(() => closed.abort(cancelledError()));
      release = await this.#snapshots.acquire(closed.signal);
      const snap = await this.#snapshot(shard, closed.signal);
      // LoadFiles keeps the current revision (reference); a rebuild gets a
      // new one so its index outranks the previous worker's.
      const revision = mode === "load_files"
        ? this.#store.revision
        : this.#store.nextRevision();
      const request: Request = mode === "load_files"
        ? { type: "load_files", revision, files: snap.files }
        : {
          type: "index_shard",
          revision,
          files: snap.files,
          ...(worker.distributed ? { omit_symbols: true } : {}),
        };
      const response = await this.#call(worker, request, {
        signal: closed.signal,
        onSent: () => {
          release?.();
          release = undefined;
        },
      });
      if (mode === "index_shard") {
        const index = this.#expectIndex(shard, worker, response);
        this.#acceptIndex(shard, index);
      }
      this.#emit({
        type: "worker_rehydrated",
        shard: shard.id,
        workerId: worker.workerId,
        mode,
        files: snap.files.length,
        overlayFiles: this.#overlayFor(shard).length,
      });
    } catch (err) {
      if (!this.#closed) {
        this.#log.warn("failed to rehydrate worker file map", {
          shard_id: shard.id,
          err,
        });
      }
    } finally {
      release?.();
    }
  }

  /** Waits until `shard` has a connected worker (level-triggered). */
  async #waitForWorker(
    shard: ShardSlot,
    signal: AbortSignal | undefined,
  ): Promise<LiveWorker> {
    const limit = this.#options.workerWaitTimeoutMs ?? 20_000;
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
        if (this.#closed) {
          throw new ProtocolError("connection_closed", "router is shut down");
        }
        const worker = shard.worker;
        if (worker) {
          await Promise.race([worker.ready, stop]);
          if (shard.worker === worker) return worker;
          continue;
        }
        await Promise.race([this.#changed.promise, stop]);
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

  /**
   * One router -> worker call. The request is encoded (and queued for
   * writing) synchronously inside `call`, so `onSent` runs right after; the
   * transport has a single budget per call, which gets the read timeout
   * (the write timeout bounds the shutdown and small calls).
   */
  async #call(
    worker: LiveWorker,
    request: Request,
    options: { signal?: AbortSignal; onSent?: () => void; timeoutMs?: number } =
      {},
  ): Promise<Response> {
    try {
      const pending = worker.conn.call(request, {
        signal: options.signal,
        timeoutMs: options.timeoutMs ?? this.#options.rpcReadTimeoutMs ??
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
   */
  #expectIndex(
    shard: ShardSlot,
    worker: LiveWorker,
    response: Response,
  ): ShardIndex & { remote?: true; symbolCount?: number } {
    let index: ShardIndex & { remote?: true; symbolCount?: number };
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
      throw new ProtocolError(
        "unexpected_response",
        `unexpected worker response: ${response.type}`,
        { remote: true },
      );
    }
    if (index.shard_id !== shard.id) {
      this.#disconnect(shard, worker);
      throw new ProtocolError(
        "unexpected_response",
        `worker returned index for wrong shard ${index.shard_id} (expected ${shard.id})`,
        { remote: true },
      );
    }
    return index;
  }

  /** Offers an index to the gate and records where its symbols live. */
  #acceptIndex(
    shard: ShardSlot,
    index: ShardIndex & { remote?: true; symbolCount?: number },
    defer = false,
  ): boolean {
    const { remote, symbolCount: _count, ...plain } = index;
    const ok = this.#store.offer(plain, { defer });
    if (ok) shard.remote = remote === true;
    return ok;
  }

  /**
   * Runs `fn` with the shard's worker; when the connection closes under it
   * (a crash or restart), waits for the next worker and tries again, at
   * most twice. Index and update requests are idempotent.
   */
  async #retrying<T>(
    shard: ShardSlot,
    signal: AbortSignal | undefined,
    fn: (worker: LiveWorker) => Promise<T>,
  ): Promise<T> {
    for (let attempt = 0;; attempt++) {
      const worker = await this.#waitForWorker(shard, signal);
      try {
        return await fn(worker);
      } catch (err) {
        const retry = attempt < 2 && !this.#closed && !signal?.aborted &&
          err instanceof ProtocolError && err.code === "connection_closed";
        if (!retry) throw err;
        this.#log.info("worker connection lost during a call; retrying", {
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

  #shardFor(path: string): ShardSlot | undefined {
    const id = this.#layout.shardForPath(path);
    return id === undefined ? undefined : this.#shards[id];
  }

  /**
   * Indexes every shard: all shards at once, at most
   * `maxConcurrentSnapshots` reading and sending at a time. The first shard
   * failure cancels the others (real `Cancel`s) and rejects with a
   * {@link ShardError} naming the shard.
   */
  async indexWorkspace(
    options: IndexWorkspaceOptions = {},
  ): Promise<IndexWorkspaceResult> {
    const { signal, onProgress } = options;
    if (signal?.aborted) throw abortReason(signal);
    this.#ensureOpen();
    const revision = this.#store.nextRevision();
    const progress: ShardProgress[] = this.#shards.map((s) => ({
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
    const symbolCounts: number[] = [];
    const selected = options.shards === undefined
      ? this.#shards
      : this.#shards.filter((s) => options.shards!.includes(s.id));
    for (const s of this.#shards) {
      if (!selected.includes(s)) progress[s.id].phase = "done";
    }
    const tasks = selected.map(async (shard) => {
      const p = progress[shard.id];
      let release: (() => void) | undefined;
      try {
        await this.#waitForWorker(shard, run.signal);
        release = await this.#snapshots.acquire(run.signal);
        const snap = await this.#snapshot(shard, run.signal, (b) => {
          p.filesRead++;
          p.bytesRead += b;
          report();
        }, (count) => {
          p.phase = "reading";
          p.filesTotal = count;
          report();
        });
        skipped.push(...snap.skipped);
        files += snap.files.length;
        bytes += snap.bytes;
        p.phase = "sending";
        report();
        const index = await this.#retrying(
          shard,
          run.signal,
          async (worker) => {
            const response = await this.#call(
              worker,
              {
                type: "index_shard",
                revision,
                files: snap.files,
                ...(worker.distributed ? { omit_symbols: true } : {}),
              },
              {
                signal: run.signal,
                onSent: () => {
                  release?.();
                  release = undefined;
                  p.bytesSent = snap.bytes;
                  p.phase = "indexing";
                  report();
                },
              },
            );
            return this.#expectIndex(shard, worker, response);
          },
        );
        symbolCounts[shard.id] = index.symbolCount ?? index.symbols.length;
        this.#acceptIndex(shard, index, true);
        shard.indexed = true;
        p.symbols = symbolCounts[shard.id];
        p.phase = "done";
        shardsDone++;
        report();
      } catch (err) {
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
    this.#store.commit();
    if (firstError !== undefined) throw firstError;
    if (run.signal.aborted) throw abortReason(run.signal);
    return {
      revision,
      files,
      bytes,
      symbols: symbolCounts.reduce((n, c) => n + (c ?? 0), 0),
      skipped,
    };
  }

  /**
   * Sends a file's (possibly unsaved) text to its shard's worker and
   * remembers it in the overlay, so a restarted worker gets it back.
   */
  async updateFile(
    path: string,
    text: string,
    options: CallOptions = {},
  ): Promise<void> {
    const { signal } = options;
    if (signal?.aborted) throw abortReason(signal);
    this.#ensureOpen();
    if (typeof path !== "string" || typeof text !== "string") {
      throw new TypeError("path and text must be strings");
    }
    const abs = resolvePath(path);
    // Throws PathNotRoutableError (a RangeError): outside roots, not .java.
    const shard = this.#shards[this.#layout.routeFile(abs)];
    this.#overlay.set(abs, text);
    const revision = this.#store.nextRevision();
    const index = await this.#retrying(shard, signal, async (worker) => {
      const response = await this.#call(worker, {
        type: "update_file",
        revision,
        file: { path: abs, text },
        ...(worker.distributed ? { omit_symbols: true } : {}),
      }, { signal });
      return this.#expectIndex(shard, worker, response);
    });
    this.#acceptIndex(shard, index);
    shard.indexed = true;
  }

  /**
   * Drops a file from the overlay (its buffer was saved or closed); the
   * disk text is authoritative again from the next snapshot on.
   */
  discardOverlay(path: string): boolean {
    return this.#overlay.delete(resolvePath(path));
  }

  /** Paths that currently have unsaved text in the overlay. */
  overlayPaths(): string[] {
    return this.#overlay.paths();
  }

  /**
   * Searches the router-local symbol index (reference candidate selection
   * and ranking).
   */
  workspaceSymbols(
    query: string,
    options: { limit?: number } = {},
  ): SymbolMatch[] {
    return this.#store.search(query, options.limit ?? 200);
  }

  /**
   * Searches like {@link workspaceSymbols}, asking 3.1 workers that keep
   * their symbols (distributed search) and merging their top-k lists with
   * the router-local shards under the same ranking. Shards whose symbols
   * live on a disconnected worker are skipped. Without such shards this is
   * {@link workspaceSymbols}.
   */
  async searchSymbols(
    query: string,
    options: { limit?: number; signal?: AbortSignal } = {},
  ): Promise<SymbolMatch[]> {
    const limit = options.limit ?? 200;
    if (!this.#shards.some((s) => s.remote)) {
      return this.#store.search(query, limit);
    }
    const targets: ShardSearchTarget[] = [];
    for (const shard of this.#shards) {
      const worker = shard.worker;
      if (shard.remote) {
        if (worker?.distributed) {
          targets.push({
            shardId: shard.id,
            search: async (request) => {
              const response = await this.#call(worker, request, {
                signal: options.signal,
                timeoutMs: this.#options.rpcWriteTimeoutMs ?? 30_000,
              });
              if (
                response.type !== "symbol_matches" ||
                response.body.shard_id !== shard.id
              ) {
                throw new ProtocolError(
                  "unexpected_response",
                  `unexpected worker response: ${response.type}`,
                  { remote: true },
                );
              }
              return response.body;
            },
          });
        }
        continue;
      }
      const symbols = this.#store.symbolIndex.shard(shard.id);
      if (symbols !== undefined) {
        targets.push(localSearchTarget(symbols, shard.worker === undefined));
      }
    }
    return await distributedWorkspaceSymbols(targets, query, {
      limit,
      scanCache: this.#scanCache,
    });
  }

  /** Diagnostics for a file; best effort (an empty list on any failure). */
  async diagnostics(
    path: string,
    options: CallOptions = {},
  ): Promise<RemoteDiagnostic[]> {
    const abs = resolvePath(path);
    const shard = this.#shardFor(abs);
    if (shard === undefined || this.#closed) return [];
    try {
      const worker = await this.#waitForWorker(shard, options.signal);
      const response = await this.#call(worker, {
        type: "diagnostics",
        path: abs,
      }, options);
      if (response.type === "diagnostics") return response.body.diagnostics;
      this.#log.warn("unexpected diagnostics response", {
        shard_id: shard.id,
      });
    } catch (err) {
      if (!options.signal?.aborted) {
        this.#log.warn("diagnostics failed", { shard_id: shard.id, err });
      }
    }
    return [];
  }

  /** Stats of every shard's worker (sequential; the first failure rejects). */
  async workerStats(
    options: CallOptions = {},
  ): Promise<Map<number, WorkerStats>> {
    this.#ensureOpen();
    const out = new Map<number, WorkerStats>();
    for (const shard of this.#shards) {
      const worker = await this.#waitForWorker(shard, options.signal);
      const response = await this.#call(worker, { type: "get_worker_stats" }, {
        signal: options.signal,
      });
      if (response.type !== "worker_stats") {
        throw new ProtocolError(
          "unexpected_response",
          `unexpected worker response: ${response.type}`,
          { remote: true },
        );
      }
      if (response.body.shard_id !== shard.id) {
        this.#disconnect(shard, worker);
        throw new ProtocolError(
          "unexpected_response",
          `worker ${worker.workerId} returned stats for wrong shard ${response.body.shard_id} (expected ${shard.id})`,
          { remote: true },
        );
      }
      out.set(shard.id, response.body);
    }
    return out;
  }

  /**
   * Waits until every shard has a connected worker and each advertised
   * cached index has arrived (or 2 s passed).
   */
  async waitForWorkers(options: CallOptions = {}): Promise<void> {
    for (const shard of this.#shards) {
      const worker = await this.#waitForWorker(shard, options.signal);
      await worker.cacheSettled.promise;
    }
  }

  /** Per-shard state, for UIs and the CLI. */
  shardStatus(): ShardStatus[] {
    return this.#shards.map((s) => ({
      shard: s.id,
      root: s.root,
      connected: s.worker !== undefined,
      warm: s.warm,
      indexed: s.indexed,
    }));
  }

  #ensureOpen(): void {
    if (this.#closed) {
      throw new ProtocolError("connection_closed", "router is shut down");
    }
  }

  /**
   * Shuts down: stops restarts, sends `Shutdown` to every connected worker
   * (2 s each, in parallel), closes the connections, then kills stragglers
   * and removes the socket.
   */
  async shutdown(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#wake();
    const live = this.#shards.flatMap((s) => (s.worker ? [s.worker] : []));
    await Promise.all(live.map(async (worker) => {
      try {
        await worker.conn.call({ type: "shutdown" }, { timeoutMs: 2000 });
      } catch {
        // Best effort.
      }
      await worker.conn.close();
    }));
    for (const shard of this.#shards) {
      if (shard.pending) clearTimeout(shard.pending.timer);
      shard.pending = undefined;
      shard.worker = undefined;
    }
    await this.#supervisor?.stop(2000);
    await this.#listener?.close();
    await Promise.all(this.#acceptLoops);
    await Promise.allSettled([...this.#background]);
    if (this.#tempDir !== undefined) {
      await Deno.remove(this.#tempDir, { recursive: true }).catch(() => {});
    }
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
 * await using router = await startRouter({ roots: ["a/src", "b/src"], spawnWorkers: true });
 * await router.indexWorkspace();
 * console.log(router.workspaceSymbols("FooBar"));
 * ```
 */
export function startRouter(options: RouterOptions): Promise<Router> {
  return Router.start(options);
}

/**
 * A fresh random token (32 bytes, lowercase hex), as the reference makes.
 *
 * @example
 * ```ts
 * import { generateToken } from "./router.ts";
 * console.assert(/^[0-9a-f]{64}$/.test(generateToken()));
 * ```
 */
export function generateToken(): string {
  return randomBytes(32).toString("hex");
}
