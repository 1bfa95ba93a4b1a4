/**
 * The `worker` subcommand: one indexing worker process.
 *
 * Startup: parse the arguments, load `<cache-dir>/shard_<id>.bin` (a miss
 * only warns), connect to the router with the cache summary in the `Hello`,
 * check the welcome's shard, then send `Notification::CachedIndex` when a
 * cache was loaded. Requests run through {@link WorkerState}: one mutating
 * request at a time in arrival order, `GetWorkerStats` at once, long
 * rebuilds time-sliced so cancels and stats are served meanwhile.
 *
 * Deliberate difference: the cache is written behind the reply (the
 * reference writes it before replying and turns a write failure into an
 * `internal` error). Writes are atomic, coalesced to the newest index,
 * flushed before the process exits, and a failure only logs a warning: the
 * cache is best-effort, and a large shard's write would otherwise dominate
 * the latency of an incremental `UpdateFile`.
 *
 * Exit status: 0 after a `Shutdown` request (its reply is flushed first) or
 * SIGTERM/SIGINT,
 * 1 on a startup error (message on stderr), 2 when the router connection is
 * lost (unless `--linger`, which keeps the process idling as the reference
 * does).
 *
 * @module
 */

import { connect } from "../lib/net/connect.ts";
import type { Connection, RequestContext } from "../lib/net/connection.ts";
import { createLogger, type Logger } from "../lib/net/log.ts";
import {
  loadShardCache,
  prepareCacheDirectory,
  saveShardCache,
} from "../lib/net/shard_cache_file.ts";
import {
  parseWorkerArgs,
  redactWorkerArgs,
  WORKER_USAGE,
  type WorkerArgs,
} from "../lib/worker/cli_args.ts";
import { JAVA_INDEXER } from "../lib/worker/indexer.ts";
import { ShardCacheError } from "../lib/worker/shard_cache.ts";
import {
  escapeControlChars,
  sanitizeErrorText,
} from "../lib/worker/sanitize.ts";
import { DISTRIBUTED_SEARCH_VERSIONS } from "../lib/worker/search.ts";
import {
  cachedIndexInfo,
  type WorkerJob,
  WorkerState,
} from "../lib/worker/state.ts";
import { formatErrorChain, isProtocolError } from "../lib/wire/errors.ts";
import type { Request, RpcResult, ShardIndex } from "../lib/wire/types.ts";

/** Exit status after a `Shutdown` request. */
export const EXIT_OK = 0;
/** Exit status of a startup error. */
export const EXIT_STARTUP_ERROR = 1;
/** Exit status when the router connection was lost. */
export const EXIT_CONNECTION_LOST = 2;

/** How long a rebuild runs before letting other work in, in ms. */
const SLICE_MS = 8;
/** How long to wait for the `Shutdown` reply to flush (the reference's). */
const SHUTDOWN_FLUSH_MS = 50;

const encoder = new TextEncoder();

/** Prints one line; control characters (from peers, paths) are escaped. */
function printErr(text: string): void {
  Deno.stderr.writeSync(encoder.encode(escapeControlChars(text) + "\n"));
}

function fileMode(path: string): number | null {
  if (Deno.build.os === "windows") return null;
  return Deno.statSync(path).mode;
}

function readPem(flag: string, path: string): string {
  try {
    return Deno.readTextFileSync(path);
  } catch (err) {
    throw new StartupError(`read ${flag} ${path}: ${formatErrorChain(err)}`);
  }
}

class StartupError extends Error {
  constructor(message: string, cause?: unknown) {
    super(message, { cause });
    this.name = "StartupError";
  }
}

/**
 * Yields to the event loop so socket reads, cancels and stats get through.
 * A timer, not `setImmediate`: Deno runs immediates without polling sockets.
 */
function pause(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 0));
}

/** Drives one job: time-sliced yields, cache writes at `persist` steps. */
async function drive(
  job: WorkerJob,
  persist: (index: ShardIndex) => Promise<void>,
): Promise<RpcResult> {
  let sliceStart = performance.now();
  let step = job.next();
  while (!step.done) {
    const current = step.value;
    if (current.type === "persist") {
      try {
        await persist(current.index);
      } catch (err) {
        step = job.throw(err);
        continue;
      }
    } else if (performance.now() - sliceStart >= SLICE_MS) {
      await pause();
      sliceStart = performance.now();
    }
    step = job.next();
  }
  return step.value;
}

/**
 * Writes the shard cache behind the replies: `schedule` returns at once, one
 * write runs at a time, and only the newest pending index is written next.
 * `flush` waits until everything scheduled is on disk.
 */
class CacheWriter {
  readonly #dir: string;
  readonly #logger: Logger;
  #pending: ShardIndex | undefined;
  #running: Promise<void> | undefined;

  constructor(dir: string, logger: Logger) {
    this.#dir = dir;
    this.#logger = logger;
  }

  schedule(index: ShardIndex): void {
    this.#pending = index;
    this.#running ??= this.#drain();
  }

  async flush(): Promise<void> {
    while (this.#running !== undefined) await this.#running;
  }

  async #drain(): Promise<void> {
    try {
      while (this.#pending !== undefined) {
        // Let the reply go out before encoding.
        await pause();
        const index = this.#pending;
        this.#pending = undefined;
        try {
          await saveShardCache(this.#dir, index);
          this.#logger.debug("shard cache written", {
            index_generation: index.index_generation,
            symbols: index.symbols.length,
          });
        } catch (err) {
          this.#logger.warn(
            isProtocolError(err, "encode_failed")
              ? "shard index too large to cache"
              : "write shard cache failed",
            { error: err },
          );
        }
      }
    } finally {
      this.#running = undefined;
    }
  }
}

async function connectToRouter(
  args: WorkerArgs,
  cached: ShardIndex | null,
  logger: Logger,
): Promise<Connection> {
  const tls = args.transport === "tcp+tls"
    ? {
      caCerts: readPem("--tls-ca-cert", args.tlsCaCert!),
      serverName: args.tlsDomain,
      ...(args.tlsClientCert !== null
        ? {
          cert: readPem("--tls-client-cert", args.tlsClientCert),
          key: readPem("--tls-client-key", args.tlsClientKey!),
        }
        : {}),
    }
    : undefined;
  for (let attempt = 0;; attempt++) {
    try {
      return await connectOnce(args, cached, logger, tls);
    } catch (err) {
      if (attempt >= args.connectRetries || !retryableConnectError(err)) {
        throw err;
      }
      const base = Math.min(CONNECT_RETRY_MAX_MS, 100 * 2 ** attempt);
      const delay = base + Math.floor(Math.random() * (base / 4 + 1));
      logger.warn("router refused or unreachable; retrying", {
        attempt: attempt + 1,
        of: args.connectRetries,
        delay_ms: delay,
        error: err,
      });
      await new Promise((resolve) => setTimeout(resolve, delay));
    }
  }
}

/** Longest pause between connection attempts, in ms. */
const CONNECT_RETRY_MAX_MS = 5000;

/**
 * Whether a failed connection attempt is worth repeating: the router
 * closed the stream before the handshake ended (it is at capacity). A
 * `Reject`, an unreachable router, a TLS or protocol failure is final.
 */
function retryableConnectError(err: unknown): boolean {
  if (!(err instanceof StartupError)) return false;
  const code = (err.cause as { code?: string } | undefined)?.code;
  return code === "connection_closed" || code === "unexpected_eof";
}

async function connectOnce(
  args: WorkerArgs,
  cached: ShardIndex | null,
  logger: Logger,
  tls: Parameters<typeof connect>[1]["tls"],
): Promise<Connection> {
  try {
    return await connect(args.connect, {
      shardId: args.shardId,
      authToken: args.authToken,
      allowInsecure: args.allowInsecure,
      cachedIndexInfo: cached === null ? null : cachedIndexInfo(cached),
      capabilities: {
        max_frame_len: args.maxRpcBytes,
        max_packet_len: args.maxRpcBytes,
      },
      // 3.0 to 3.1: distributed search mode when the router offers 3.1.
      supportedVersions: DISTRIBUTED_SEARCH_VERSIONS,
      tls,
      logger,
    });
  } catch (err) {
    // Socket-level failures get the reference's transport context; any
    // other protocol failure happened in the handshake.
    const handshake = !isProtocolError(err, "io_error") &&
      !isProtocolError(err, "timeout");
    const context = handshake
      ? "v3 handshake failed"
      : args.transport === "unix"
      ? "connect unix socket"
      : args.transport === "tcp"
      ? "connect tcp"
      : "tls connect";
    throw new StartupError(
      sanitizeErrorText(`${context}: ${formatErrorChain(err)}`),
      err,
    );
  }
}

/**
 * Runs the worker until shutdown or connection loss.
 *
 * @param argv The arguments after `worker`.
 * @returns The exit status.
 *
 * @example
 * ```ts ignore
 * import { runWorker } from "./worker.ts";
 * Deno.exit(await runWorker(["--connect", "unix:/run/r.sock", "--shard-id", "0", "--cache-dir", "/tmp/c"]));
 * ```
 */
export async function runWorker(argv: readonly string[]): Promise<number> {
  let args: WorkerArgs;
  try {
    const parsed = parseWorkerArgs(argv, {
      readTextFile: (path) => Deno.readTextFileSync(path),
      getEnv: (name) => Deno.env.get(name),
      fileMode,
      os: Deno.build.os,
    });
    if (parsed.help) {
      await Deno.stdout.write(encoder.encode(WORKER_USAGE));
      return EXIT_OK;
    }
    args = parsed.args;
  } catch (err) {
    printErr(`error: ${formatErrorChain(err)}`);
    return EXIT_STARTUP_ERROR;
  }
  const logger = createLogger({ component: "loom.worker" });
  for (const warning of args.warnings) logger.warn(warning);
  logger.info("starting worker", redactWorkerArgs(args));

  try {
    await prepareCacheDirectory(args.cacheDir);
  } catch (err) {
    // A directory others may write to is refused outright; one that cannot
    // be created only costs the cache (writes then warn, the index is
    // still served).
    if (err instanceof ShardCacheError) {
      printErr(
        `error: --cache-dir: ${sanitizeErrorText(formatErrorChain(err))}`,
      );
      return EXIT_STARTUP_ERROR;
    }
    logger.warn("cache directory unavailable", { error: err });
  }
  const load = await loadShardCache(args.cacheDir, args.shardId, {
    acceptReferenceLayout: args.readReferenceCache,
  });
  let cached: ShardIndex | null = null;
  if (load.ok) {
    cached = load.index;
    logger.info("loaded shard cache", {
      shard_id: args.shardId,
      path: load.path,
      symbols: cached.symbols.length,
    });
  } else if (load.reason !== "missing") {
    logger.warn("shard index cache miss", {
      shard_id: args.shardId,
      path: load.path,
      reason: load.reason,
      message: load.message,
    });
  }

  let conn: Connection;
  try {
    conn = await connectToRouter(args, cached, logger);
    if (conn.welcome.shard_id !== args.shardId) {
      await conn.close();
      throw new StartupError(
        `welcome shard mismatch: expected ${args.shardId}, got ${conn.welcome.shard_id}`,
      );
    }
  } catch (err) {
    printErr(`error: ${formatErrorChain(err)}`);
    return EXIT_STARTUP_ERROR;
  }
  logger.info("connected to router", {
    worker_id: conn.welcome.worker_id,
    revision: conn.welcome.revision,
    version:
      `${conn.welcome.chosen_version.major}.${conn.welcome.chosen_version.minor}`,
    capabilities: conn.welcome.chosen_capabilities,
  });

  const state = new WorkerState({
    shardId: args.shardId,
    indexer: JAVA_INDEXER,
    cached,
  });
  const writer = new CacheWriter(args.cacheDir, logger);
  const persist = (index: ShardIndex): Promise<void> => {
    writer.schedule(index);
    return Promise.resolve();
  };
  let shutdown!: () => void;
  const shutdownRequested = new Promise<void>((resolve) => {
    shutdown = resolve;
  });
  let queue: Promise<unknown> = Promise.resolve();
  conn.setRequestHandler(
    (request: Request, ctx: RequestContext): RpcResult | Promise<RpcResult> => {
      if (state.isImmediate(request)) {
        const result = state.run(request);
        logger.debug("request done", {
          request: request.type,
          status: result.status,
          busy: state.busy,
        });
        return result;
      }
      const isCancelled = (): boolean => ctx.signal.aborted;
      const started = performance.now();
      // Backpressure: the next answer is built only once the router has
      // read enough of the earlier ones (see OutboundLimits).
      const result = queue.then(() => conn.whenWritable()).then(() =>
        drive(state.handle(request, { isCancelled }), persist)
      ).then((result) => {
        logger.debug("request done", {
          request: request.type,
          status: result.status,
          ms: Math.round(performance.now() - started),
        });
        if (state.shutdownRequested) shutdown();
        return result;
      });
      queue = result.catch(() => {});
      return result;
    },
  );
  if (cached !== null) {
    try {
      conn.notify({ type: "cached_index", body: cached });
    } catch (err) {
      logger.warn("failed to send cached index", { error: err });
    }
  }

  // SIGTERM/SIGINT: stop like a Shutdown request (cache flushed, status 0).
  const signals: Deno.Signal[] = Deno.build.os === "windows"
    ? ["SIGINT"]
    : ["SIGTERM", "SIGINT"];
  let onSignal!: () => void;
  const signalled = new Promise<"signal">((resolve) => {
    onSignal = () => resolve("signal");
  });
  for (const signal of signals) Deno.addSignalListener(signal, onSignal);
  const outcome = await Promise.race([
    shutdownRequested.then(() => "shutdown" as const),
    conn.closed.then(() => "closed" as const),
    signalled,
  ]);
  for (const signal of signals) Deno.removeSignalListener(signal, onSignal);
  if (outcome === "signal") logger.info("signal received; shutting down");
  if (
    outcome === "shutdown" || outcome === "signal" || state.shutdownRequested
  ) {
    await new Promise((resolve) => setTimeout(resolve, SHUTDOWN_FLUSH_MS));
    try {
      await conn.close();
    } catch (err) {
      logger.warn("close failed", { error: err });
    }
    await writer.flush();
    logger.info("worker shutdown");
    return EXIT_OK;
  }
  const error = await conn.closed;
  await writer.flush();
  if (args.linger) {
    logger.warn("router connection lost; lingering", { error });
    // Idle like the reference worker until killed.
    await new Promise<never>(() => setInterval(() => {}, 1 << 30));
  }
  logger.error("router connection lost", { error });
  printErr(
    `error: router connection lost${
      error ? `: ${sanitizeErrorText(formatErrorChain(error))}` : ""
    }`,
  );
  return EXIT_CONNECTION_LOST;
}
