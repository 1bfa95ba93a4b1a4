/**
 * The pure worker: request state machine, shard cache format, command-line
 * parsing and Java symbol extraction. File and socket I/O live in
 * `lib/net` and `cli/`.
 *
 * @example Index a shard in memory
 * ```ts
 * import { JAVA_INDEXER, WorkerState } from "./mod.ts";
 * const state = new WorkerState({ shardId: 0, indexer: JAVA_INDEXER });
 * const result = state.run({
 *   type: "index_shard",
 *   revision: 1,
 *   files: [{ path: "/src/A.java", text: "package a; public class Alpha {}" }],
 * });
 * console.assert(result.status === "ok" && result.value.type === "shard_index");
 * ```
 *
 * @module
 */

export {
  cachedIndexInfo,
  CANCELLED_ERROR,
  type HandleOptions,
  internalError,
  type SymbolIndexer,
  UNKNOWN_REQUEST_ERROR,
  type WorkerJob,
  WorkerState,
  type WorkerStateOptions,
  type WorkerStep,
} from "./state.ts";
export {
  decodeShardCache,
  type DecodeShardCacheOptions,
  DEFAULT_SHARD_CACHE_LIMITS,
  encodeShardCache,
  type EncodeShardCacheOptions,
  resolveShardCacheLimits,
  SHARD_CACHE_FORMAT_VERSION,
  SHARD_CACHE_HEADER_BYTES,
  SHARD_CACHE_MAGIC,
  SHARD_CACHE_MISS_REASONS,
  SHARD_CACHE_PROTOCOL_VERSION,
  SHARD_CACHE_TRAILER_BYTES,
  SHARD_CACHE_TRAILER_MAGIC,
  SHARD_CACHE_VERIFIED_FORMAT_VERSION,
  type ShardCacheDigest,
  ShardCacheError,
  shardCacheFileName,
  type ShardCacheLimits,
  type ShardCacheMissReason,
} from "./shard_cache.ts";
export {
  type AuthTokenSource,
  DEFAULT_TLS_DOMAIN,
  isValidTlsDomain,
  MAX_RPC_BYTES,
  type ParsedWorkerArgs,
  parseWorkerArgs,
  type ParseWorkerArgsOptions,
  redactWorkerArgs,
  WORKER_USAGE,
  type WorkerArgs,
} from "./cli_args.ts";
export {
  compareSymbols,
  compareUtf8,
  replaceFileSymbols,
} from "./symbol_order.ts";
export { escapeControlChars, sanitizeErrorText } from "./sanitize.ts";
export { JAVA_INDEXER } from "./indexer.ts";
export {
  extractJavaSymbols,
  javaDiagnostics,
  type JavaDiagnosticsOptions,
  sortSymbols,
} from "./java_symbols.ts";
export { generateJavaCorpus, type JavaCorpusOptions } from "./java_corpus.ts";
export {
  DISTRIBUTED_SEARCH_VERSIONS,
  omitSymbols,
  supportsDistributedSearch,
  WorkerSearch,
} from "./search.ts";

// The `./wire` message types and errors that the signatures above use:
// re-exported so that an importer of this subpath alone can name them.
export type * from "../wire/types.ts";
export {
  ERROR_CODES,
  type ErrorCode,
  ProtocolError,
  type ProtocolErrorOptions,
} from "../wire/errors.ts";
