/**
 * Deno bindings of loom: the only layer with sockets, timers and files.
 *
 * - {@link connect} (worker role) and {@link listen} (router role) over
 *   `unix:`, `tcp:` and `tcp+tls:` (mutual TLS included);
 * - {@link Connection}: async calls with cancellation and timeouts, request
 *   and notification handlers;
 * - {@link SessionDriver}: runs any pure session over a byte stream;
 * - {@link nodeZstdCompressor}: bounded zstd via `node:zlib`;
 * - {@link createLogger}: one JSON line per event on stderr.
 *
 * @example
 * ```ts
 * import { parseAddress } from "./mod.ts";
 * console.assert(parseAddress("unix:/run/r.sock").transport === "unix");
 * ```
 *
 * @module
 */

export {
  type Address,
  formatAddress,
  parseAddress,
  toAddress,
  TRANSPORTS,
  unsupportedPipeError,
} from "./address.ts";
export {
  type AdmissionDecision,
  type AdmissionHook,
  type AdmissionInfo,
  type CallOptions,
  type Connection,
  type ConnectionSession,
  type ConnectionSessionEvent,
  DEFAULT_OUTBOUND_LIMITS,
  type NotificationHandler,
  type OutboundLimits,
  RemoteCallError,
  type RequestContext,
  type RequestHandler,
  sessionOptions,
  type SessionTuning,
  startConnection,
  type StartConnectionOptions,
} from "./connection.ts";
export {
  connect,
  type ConnectOptions,
  type ConnectTlsOptions,
  openStream,
} from "./connect.ts";
export {
  type DrivableSession,
  type FlushWait,
  SessionDriver,
  type SessionDriverOptions,
} from "./driver.ts";
export {
  listen,
  type Listener,
  type ListenOptions,
  type ListenTlsOptions,
} from "./listen.ts";
export {
  createLogger,
  LOG_LEVELS,
  type LogFields,
  type Logger,
  type LoggerOptions,
  type LogLevel,
} from "./log.ts";
export {
  type ByteStream,
  nodeSocketStream,
  type NodeSocketStreamOptions,
  writeAll,
} from "./stream.ts";
export type { SupervisorBackoff, SupervisorEvent } from "./supervisor.ts";
export { derFingerprint } from "./tls_server.ts";
export { nodeZstdCompressor, ZSTD_LEVEL } from "./zstd.ts";
export type { CallOptions as RouterCallOptions } from "./router_options.ts";
export {
  generateToken,
  type IndexProgress,
  type IndexWorkspaceOptions,
  type IndexWorkspaceResult,
  Router,
  type RouterEvent,
  type RouterOptions,
  ShardError,
  type ShardFailure,
  type ShardIndexedReport,
  type ShardProgress,
  type ShardStatus,
  SnapshotTooLargeError,
  type SpawnWorkersOptions,
  startRouter,
} from "./router.ts";
export type { SentFile } from "./shard_manifest.ts";
export type { FileBounds } from "../router/symbol_guard.ts";
export {
  type FingerprintAllowlist,
  normalizeFingerprint,
  type RouterTlsOptions,
  type WorkerTlsOptions,
} from "./router_config.ts";
export {
  expandWorkerCommand,
  loomWorkerCommand,
  type LoomWorkerProgram,
  splitCommandLine,
  type WorkerCommandVars,
} from "./worker_command.ts";
export {
  collectJavaFiles,
  type CollectOptions,
  listJavaFiles,
  type ShardSnapshot,
  type SkippedFile,
  type SkipReason,
} from "./workspace_fs.ts";
export { connectionSearchTarget } from "./search_target.ts";

// The `./wire` message types and errors, and the `./router` types, that the
// signatures above use: re-exported so that an importer of this subpath
// alone can name them.
export type * from "../wire/types.ts";
export {
  ERROR_CODES,
  type ErrorCode,
  LimitExceededError,
  ProtocolError,
  type ProtocolErrorOptions,
} from "../wire/errors.ts";
export type { SessionOptions } from "../wire/session_options.ts";
export type { Compressor } from "../wire/compression.ts";
export type { ShardSearchTarget } from "../router/distributed_search.ts";
export type { SymbolMatch } from "../router/ranking.ts";
export { MATCH_KIND, type MatchKind } from "../router/fuzzy.ts";
