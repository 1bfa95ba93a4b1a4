/**
 * The router's public option, event, progress and status types, the error
 * an index run fails with ({@link ShardError}) and the token helper used for
 * spawned workers. `router.ts` re-exports everything here.
 *
 * @example
 * ```ts
 * import { generateToken, type RouterOptions } from "./router_options.ts";
 * const options: RouterOptions = { roots: ["src"], authToken: generateToken() };
 * console.assert(options.authToken!.length === 64);
 * ```
 *
 * @module
 */

import { randomBytes } from "node:crypto";
import { LimitExceededError, ProtocolError } from "../wire/errors.ts";
import type { CachedIndexInfo, U64 } from "../wire/types.ts";
import type { SentFile } from "./shard_manifest.ts";
import type { Logger } from "./log.ts";
import type {
  FingerprintAllowlist,
  RouterTlsOptions,
  WorkerTlsOptions,
} from "./router_config.ts";
import type { SupervisorBackoff, SupervisorEvent } from "./supervisor.ts";
import type { SkippedFile } from "./workspace_fs.ts";
import type { LoomWorkerProgram } from "./worker_command.ts";

/** Options for spawning local workers. */
export interface SpawnWorkersOptions {
  /**
   * Worker command template (`{connect}`, `{shard}`, `{cache_dir}`,
   * `{token_env}`). One of `command` and `program` is required.
   */
  command?: string | readonly string[];
  /**
   * The loom worker program, run with `loomWorkerCommand` (plus the
   * TLS flags of `tls`) when `command` is absent. The CLI passes its own
   * entry point.
   */
  program?: LoomWorkerProgram;
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
  createBackoff?: () => SupervisorBackoff;
  /**
   * How long a spawned worker may run before it connects, in ms. A worker
   * loads its shard cache before it says Hello, which takes seconds for a
   * large shard on a busy machine; a worker that exits is noticed at once
   * whatever this is.
   * @default {the router's handshakeTimeoutMs (5000)}
   */
  connectTimeoutMs?: number;
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
  /**
   * Spawn and supervise one worker per shard. `true` alone is refused: say
   * what to run (`command` or `program`).
   */
  spawnWorkers?: boolean | SpawnWorkersOptions;
  /**
   * Largest frame/packet offered to workers, clamped to [1, 64 MiB].
   * @default {67108864}
   */
  maxRpcBytes?: number;
  /** Handshakes in progress at once; more are closed. @default {128} */
  maxInflightHandshakes?: number;
  /** Worker connections at once. @default {1024} */
  maxWorkerConnections?: number;
  /** Time a worker has to complete its handshake. @default {5000} */
  handshakeTimeoutMs?: number;
  /**
   * Budget for writing a request to a worker (until its bytes are handed to
   * the socket); when it runs out the call fails with `timeout` and the
   * connection is closed.
   * @default {30000}
   */
  rpcWriteTimeoutMs?: number;
  /**
   * Budget for a worker's response, counted from the end of the write; when
   * it runs out the call fails with `timeout` and the connection is closed.
   * Distributed searches use at most 30 s.
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
   * Distributed search (protocol 3.1): a worker that negotiates 3.1 keeps
   * its symbols (index requests carry `omit_symbols`) and answers
   * {@link Router.searchSymbols} itself. 3.0 workers keep working through
   * the router-local index.
   * @default {false}
   */
  distributedSearch?: boolean;
  /**
   * Highest protocol minor version offered: 1 (3.1: batched snapshots, and
   * distributed search when asked for) or 0 (3.0 only, as the reference; a
   * shard's snapshot must then fit in one packet).
   * @default {1}
   */
  maxProtocolMinor?: 0 | 1;
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
  /** The shard id. */
  shard: number;
  /** The shard's source root. */
  root: string;
  /** Where the shard is in the run. */
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
  /** Files read so far. */
  filesRead: number;
  /** Bytes read so far. */
  bytesRead: number;
  /** Bytes sent to the worker so far. */
  bytesSent: number;
  /** Symbols in the shard's index once done. */
  symbols: number;
}

/** A progress snapshot for UIs. */
export interface IndexProgress {
  /** The run's revision. */
  revision: U64;
  /** Per-shard progress, by shard id. */
  shards: readonly ShardProgress[];
  /** Shards finished. */
  shardsDone: number;
}

/** Options for {@link Router.indexWorkspace}. */
export interface IndexWorkspaceOptions {
  /** Aborts the operation. */
  signal?: AbortSignal;
  /** Called (synchronously) whenever progress changes. */
  onProgress?: (progress: IndexProgress) => void;
  /** Index only these shards (default: all). */
  shards?: readonly number[];
  /**
   * Keep indexing the other shards when one fails, and resolve with the
   * failures in {@link IndexWorkspaceResult.failed} (rejecting only when
   * every selected shard failed). Without it the first failure cancels the
   * run and rejects with a {@link ShardError}.
   * @default {false}
   */
  partial?: boolean;
  /**
   * Called once per shard whose fresh index was accepted, with exactly the
   * text that was sent (to record what the index was built from).
   */
  onShardIndexed?: (report: ShardIndexedReport) => void;
}

/** What {@link IndexWorkspaceOptions.onShardIndexed} receives. */
export interface ShardIndexedReport {
  /** The shard id. */
  shard: number;
  /** The shard's source root. */
  root: string;
  /** The files sent to the worker (path, content hash, bounds), in order. */
  files: readonly SentFile[];
  /** Files left out (unreadable, not UTF-8, too large). */
  skipped: readonly SkippedFile[];
  /** Whether unsaved overlay text replaced or added any file. */
  overlay: boolean;
  /** The identity of the index the worker built (and caches). */
  index: CachedIndexInfo;
}

/** The outcome of {@link Router.indexWorkspace}. */
export interface IndexWorkspaceResult {
  /** The run's revision. */
  revision: U64;
  /** Files indexed. */
  files: number;
  /** Bytes of text indexed. */
  bytes: number;
  /** Symbols in the shard's index once done. */
  symbols: number;
  /** Files left out (unreadable, not UTF-8, too large). */
  skipped: SkippedFile[];
  /** Shards that failed (only with `partial`; empty otherwise). */
  failed: ShardFailure[];
}

/** One failed shard of a partial index run. */
export interface ShardFailure {
  /** The shard id. */
  shard: number;
  /** The error code (a {@link ProtocolError} code). */
  code: string;
  /** What went wrong. */
  message: string;
}

/** What {@link Router.shardStatus} reports per shard. */
export interface ShardStatus {
  /** The shard id. */
  shard: number;
  /** The shard's source root. */
  root: string;
  /** Whether a worker is connected. */
  connected: boolean;
  /** A cached index from a worker is loaded. */
  warm: boolean;
  /** Which cached index was loaded (when `warm`). */
  warmIndex?: CachedIndexInfo;
  /**
   * Symbols this shard's workers reported outside the shard (a path not
   * sent to it, a control character in a name, a position past the file),
   * dropped since the router started.
   */
  rejectedSymbols: number;
  /** Indexed or updated during this router run. */
  indexed: boolean;
  /**
   * Set when the shard's last index run failed (its earlier symbols, if
   * any, are still served); cleared by the next successful run.
   */
  degraded?: { code: string; message: string };
}

/** Options for calls that reach a worker. */
export interface CallOptions {
  /** Aborts the operation. */
  signal?: AbortSignal;
}

/**
 * The error an index run fails with, naming the shard that failed; `code`
 * is the underlying error's code.
 *
 * @example
 * ```ts
 * import { ShardError } from "./router.ts";
 * import { LimitExceededError, ProtocolError } from "../wire/errors.ts";
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

/**
 * A shard snapshot larger than a protocol 3.0 worker's packet limit (3.0
 * has no batched snapshots): raised before anything is sent. Code
 * `limit_exceeded`, `limit` `max_packet_len`, `actual` a lower bound of the
 * encoded size; `root` names the shard's root, to split.
 *
 * @example
 * ```ts
 * import { SnapshotTooLargeError } from "./router_options.ts";
 * const e = new SnapshotTooLargeError("/src", 64, 100);
 * console.assert(e.code === "limit_exceeded" && e.limit === "max_packet_len" && e.root === "/src");
 * ```
 */
export class SnapshotTooLargeError extends LimitExceededError {
  /** The shard's root. */
  readonly root: string;
  /**
   * Creates the error.
   *
   * @param root The shard's root.
   * @param max The negotiated packet limit.
   * @param actual The encoded size, at least.
   */
  constructor(root: string, max: number, actual: number) {
    super("max_packet_len", max, actual);
    this.name = "SnapshotTooLargeError";
    this.root = root;
    this.message = `${root}: the snapshot needs at least ${actual} bytes, ` +
      `over the packet limit of ${max} bytes of a protocol 3.0 worker ` +
      `(max_packet_len exceeded); split the root into smaller roots or use ` +
      `a worker that speaks protocol 3.1 (batched snapshots)`;
  }
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
