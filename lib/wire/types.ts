/**
 * TypeScript shapes of every nova remote RPC v3 message.
 *
 * Property names are the wire's snake_case keys and every discriminated union
 * uses the wire's own tag field (`type` or `status`), so a decoded value reads
 * exactly like the CBOR document it came from. Object key order in the
 * interfaces below is the wire (Rust declaration) order.
 *
 * Integers: `u32` fields are plain `number`s. `u64` fields (`Packet.id`,
 * `PacketChunk.id`, every `revision` and `index_generation`) are {@link U64}:
 * a `number` when the value is at most `Number.MAX_SAFE_INTEGER` (the hot
 * path: ids and revisions are small in practice) and a `bigint` above it.
 * Decoders always produce that normal form; encoders accept either form for
 * any value in range.
 *
 * @module
 */

/**
 * An unsigned 64-bit integer: a `number` up to 2^53 - 1, a `bigint` above.
 *
 * @example Normal form
 * ```ts
 * import type { U64 } from "./types.ts";
 * const small: U64 = 7;
 * const huge: U64 = 18446744073709551615n;
 * console.assert(typeof small === "number" && typeof huge === "bigint");
 * ```
 */
export type U64 = number | bigint;

/** A protocol version; versions order by `major`, then `minor`. */
export interface ProtocolVersion {
  /** Major version (u32). */
  major: number;
  /** Minor version (u32). */
  minor: number;
}

/** An inclusive range of protocol versions. */
export interface SupportedVersions {
  /** Lowest supported version. */
  min: ProtocolVersion;
  /** Highest supported version. */
  max: ProtocolVersion;
}

/** A compression algorithm name; any other string decodes to `"unknown"`. */
export type CompressionAlgo = "none" | "zstd" | "unknown";

/** Limits and features offered in `Hello` or chosen in `Welcome`. */
export interface Capabilities {
  /** Largest frame, in bytes, excluding the 4-byte length prefix (u32). */
  max_frame_len: number;
  /** Largest RPC payload, in bytes, after reassembly and decompression (u32). */
  max_packet_len: number;
  /** Ordered by preference, best first. */
  supported_compression: CompressionAlgo[];
  /** Whether `cancel` payloads are understood. */
  supports_cancel: boolean;
  /** Whether `packet_chunk` frames may be used. */
  supports_chunking: boolean;
}

/** Summary of the index a worker loaded from its cache. */
export interface CachedIndexInfo {
  /** Workspace revision (u64). */
  revision: U64;
  /** How many successful rebuilds produced this index (u64). */
  index_generation: U64;
  /** Number of symbols (u32, saturating). */
  symbol_count: number;
}

/** The first frame a worker sends. */
export interface WorkerHello {
  /** The shard (u32). */
  shard_id: number;
  /** Bearer token, or null; never logged. */
  auth_token: string | null;
  /** The protocol versions the worker speaks. */
  supported_versions: SupportedVersions;
  /** The limits and features the worker offers. */
  capabilities: Capabilities;
  /** The index loaded from the worker's cache, if any. */
  cached_index_info: CachedIndexInfo | null;
  /** Free-form build identification, or null. */
  worker_build: string | null;
}

/** The router's acceptance of a `Hello`. */
export interface RouterWelcome {
  /** The id the router assigned to this connection (u32). */
  worker_id: number;
  /** The shard (u32). */
  shard_id: number;
  /** Workspace revision (u64). */
  revision: U64;
  /** The negotiated version (the highest common one). */
  chosen_version: ProtocolVersion;
  /** The negotiated limits and features, binding on both sides. */
  chosen_capabilities: Capabilities;
}

/** Why a router refused a handshake; any other string decodes to `"unknown"`. */
export type RejectCode =
  | "invalid_request"
  | "unauthorized"
  | "unsupported_version"
  | "internal"
  | "unknown";

/** The router's refusal of a `Hello`; the connection closes after it. */
export interface HandshakeReject {
  /** Machine-readable reason. */
  code: RejectCode;
  /** Human-readable text. */
  message: string;
}

/** One whole RPC payload (possibly compressed) in a single frame. */
export interface Packet {
  /** Request id (u64): router ids are even, worker ids odd, 0 is reserved. */
  id: U64;
  /** How `data` is compressed. */
  compression: CompressionAlgo;
  /** The (possibly compressed) payload bytes. */
  data: Uint8Array;
}

/** One piece of an RPC payload that did not fit in a single frame. */
export interface PacketChunk {
  /** Request id (u64): router ids are even, worker ids odd, 0 is reserved. */
  id: U64;
  /** How `data` is compressed. */
  compression: CompressionAlgo;
  /** Position of this chunk in its stream, from 0 (u32). */
  seq: number;
  /** True on the chunk that ends the stream. */
  last: boolean;
  /** The (possibly compressed) payload bytes. */
  data: Uint8Array;
}

/** The outer message: one per length-prefixed frame (adjacently tagged). */
export type WireFrame =
  | { type: "hello"; body: WorkerHello }
  | { type: "welcome"; body: RouterWelcome }
  | { type: "reject"; body: HandshakeReject }
  | { type: "packet"; body: Packet }
  | { type: "packet_chunk"; body: PacketChunk }
  | { type: "unknown" };

/** A file's path and full text. */
export interface FileText {
  /** File path. */
  path: string;
  /** Full file text (at most 8 MiB). */
  text: string;
}

/** A declared Java symbol; `line` and `column` are 0-based (UTF-16 units). */
export interface Symbol {
  /** Symbol name. */
  name: string;
  /** File path. */
  path: string;
  /** 0-based line (u32). */
  line: number;
  /** 0-based column in UTF-16 code units (u32). */
  column: number;
}

/** The full symbol index of one shard. */
export interface ShardIndex {
  /** The shard (u32). */
  shard_id: number;
  /** Workspace revision (u64). */
  revision: U64;
  /** How many successful rebuilds produced this index (u64). */
  index_generation: U64;
  /** The symbols, sorted and de-duplicated. */
  symbols: Symbol[];
}

/** Counters a worker reports about itself. */
export interface WorkerStats {
  /** The shard (u32). */
  shard_id: number;
  /** Workspace revision (u64). */
  revision: U64;
  /** How many successful rebuilds produced this index (u64). */
  index_generation: U64;
  /** Number of files in the worker's memory (u32). */
  file_count: number;
}

/** Diagnostic severity; any other string decodes to `"unknown"`. */
export type DiagnosticSeverity =
  | "error"
  | "warning"
  | "info"
  | "hint"
  | "unknown";

/** One diagnostic for a file. */
export interface RemoteDiagnostic {
  /** How serious the diagnostic is. */
  severity: DiagnosticSeverity;
  /** 0-based line (u32). */
  line: number;
  /** 0-based column in UTF-16 code units (u32). */
  column: number;
  /** Human-readable text. */
  message: string;
}

/**
 * A request (internally tagged: fields sit next to `type`).
 *
 * Protocol 3.1 additions (distributed search mode): the `search_shard_symbols`
 * request and the optional `omit_symbols` flag, which is omitted from the
 * encoding when absent (so 3.0 messages stay byte-identical) and ignored by
 * 3.0 peers as an unknown key. (The tag is not `search_symbols`: golden
 * vectors pin that name to `unknown`.)
 */
export type Request =
  | {
    type: "load_files";
    revision: U64;
    files: FileText[];
    /** 3.1: accepted for symmetry; `load_files` never ships symbols. */
    omit_symbols?: boolean;
    /**
     * 3.1 batched snapshot: add these files to the file map instead of
     * replacing it (a snapshot too large for one packet is sent as a
     * replacing `load_files`, appending `load_files` and a last appending
     * `index_shard`). Omitted when absent; never sent to a 3.0 peer.
     */
    append?: boolean;
  }
  | {
    type: "index_shard";
    revision: U64;
    files: FileText[];
    /** 3.1: answer with `shard_summary` instead of the full `shard_index`. */
    omit_symbols?: boolean;
    /** 3.1 batched snapshot: add these files, then rebuild from all of them. */
    append?: boolean;
  }
  | {
    type: "update_file";
    revision: U64;
    file: FileText;
    /** 3.1: answer with `shard_summary` instead of the full `shard_index`. */
    omit_symbols?: boolean;
  }
  | { type: "diagnostics"; path: string }
  | { type: "get_worker_stats" }
  | { type: "shutdown" }
  | SearchShardSymbolsRequest
  | { type: "unknown" };

/**
 * How a shard's search candidates are selected (protocol 3.1); any other
 * string decodes to `"unknown"`.
 */
export type SymbolSearchMode =
  | "all"
  | "trigram"
  | "bucket"
  | "scan"
  | "none"
  | "unknown";

/**
 * Protocol 3.1: search the worker's own shard index. Without `mode` the
 * worker applies the candidate rules to its shard alone; with `mode` (and
 * `scan_count` for `scan`) it evaluates the router's global plan. The
 * optional fields are omitted from the encoding when absent.
 */
export interface SearchShardSymbolsRequest {
  /** The request tag. */
  type: "search_shard_symbols";
  /** The query (at most 16 KiB). */
  query: string;
  /** Maximum number of results (u32). */
  limit: number;
  /** The global candidate rule to evaluate. */
  mode?: SymbolSearchMode;
  /** Mode `scan`: how many of the shard's first symbols to score (u32). */
  scan_count?: number;
}

/** Protocol 3.1: one ranked search result (`score` is an i32). */
export interface RankedSymbol {
  /** Symbol name. */
  name: string;
  /** File path. */
  path: string;
  /** 0-based line (u32). */
  line: number;
  /** 0-based column in UTF-16 code units (u32). */
  column: number;
  /** How the name matched the query. */
  kind: "prefix" | "fuzzy";
  /** Match score (i32); higher is better within a kind. */
  score: number;
}

/** Protocol 3.1: a shard's answer to `search_shard_symbols`. */
export interface SymbolMatches {
  /** The shard (u32). */
  shard_id: number;
  /** Workspace revision (u64). */
  revision: U64;
  /** How many successful rebuilds produced this index (u64). */
  index_generation: U64;
  /** Number of symbols in the searched index (u32, saturating). */
  symbol_count: number;
  /** The candidate rule the matches were computed with. */
  mode: SymbolSearchMode;
  /** Mode `trigram`: whether the shard's trigram intersection was non-empty. */
  hit: boolean;
  /** Whether some name starts with the query's first byte (ASCII-folded). */
  bucket: boolean;
  /** The query's trigrams present in the shard's names, ascending. */
  trigrams: number[];
  /** The best matches, best first (index order for mode `all`). */
  matches: RankedSymbol[];
}

/** Protocol 3.1: a rebuilt index's counters, sent instead of its symbols. */
export interface ShardSummary {
  /** The shard (u32). */
  shard_id: number;
  /** Workspace revision (u64). */
  revision: U64;
  /** How many successful rebuilds produced this index (u64). */
  index_generation: U64;
  /** u32, saturating. */
  symbol_count: number;
}

/** An RPC error code; any other string decodes to `"unknown"`. */
export type RpcErrorCode =
  | "invalid_request"
  | "unauthorized"
  | "unsupported_version"
  | "too_large"
  | "cancelled"
  | "internal"
  | "unknown";

/** An error answer to a request. `details` holds a JSON string by convention. */
export interface RpcError {
  /** Machine-readable reason. */
  code: RpcErrorCode;
  /** Human-readable text. */
  message: string;
  /** Whether the same request may succeed if sent again. */
  retryable: boolean;
  /** Extra detail, by convention a JSON string, or null. */
  details: string | null;
}

/** A response body (adjacently tagged). */
export type Response =
  | { type: "ack" }
  | { type: "shard_index"; body: ShardIndex }
  | { type: "diagnostics"; body: { diagnostics: RemoteDiagnostic[] } }
  | { type: "worker_stats"; body: WorkerStats }
  | { type: "shutdown" }
  | { type: "symbol_matches"; body: SymbolMatches }
  | { type: "shard_summary"; body: ShardSummary }
  | { type: "unknown" };

/** The outcome of a request (internally tagged by `status`). */
export type RpcResult =
  | { status: "ok"; value: Response }
  | { status: "err"; error: RpcError }
  | { status: "unknown" };

/** A one-way message (adjacently tagged). */
export type Notification =
  | { type: "cached_index"; body: ShardIndex }
  | { type: "unknown" };

/** The CBOR document inside `Packet.data` after decompression. */
export type RpcPayload =
  | { type: "request"; body: Request }
  | { type: "response"; body: RpcResult }
  | { type: "notification"; body: Notification }
  | { type: "cancel" }
  | { type: "unknown" };
