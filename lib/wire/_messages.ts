/**
 * The v3 and 3.1 struct schemas, declared once: the decoders (`_decode.ts`,
 * `_search_v31.ts`) and the encoders (`_encode.ts`, `_search_v31.ts`) are
 * driven by these lists. Field order is wire order (serde declaration
 * order); text caps are the ones the peer's preflight applies to each key.
 * Private to `lib/wire`.
 *
 * @module
 */

import { type CborReader, TextInterner } from "./_cbor_read.ts";
import { encodeFailed, SMALL_TEXT_CAP } from "./_cbor_write.ts";
import { entryKey, missing } from "./_decode_parts.ts";
import { writeSymbol } from "./_encode_parts.ts";
import {
  arrayOf,
  BOOL,
  I32_INT,
  item,
  nested,
  nullable,
  SMALL_TEXT,
  stringEnum,
  struct,
  type StructSchema,
  TEXT,
  text,
  U32_INT,
  U64_INT,
  type ValueCodec,
} from "./_schema.ts";
import type {
  CachedIndexInfo,
  Capabilities,
  CompressionAlgo,
  DiagnosticSeverity,
  FileText,
  HandshakeReject,
  RankedSymbol,
  RejectCode,
  RemoteDiagnostic,
  RouterWelcome,
  RpcError,
  RpcErrorCode,
  ShardIndex,
  ShardSummary,
  SupportedVersions,
  Symbol,
  SymbolMatches,
  SymbolSearchMode,
  WorkerHello,
  WorkerStats,
} from "./types.ts";
import type { ProtocolVersion } from "./types.ts";

// Enums -----------------------------------------------------------------------

/** `CompressionAlgo`. */
export const COMPRESSION: ValueCodec<CompressionAlgo> = stringEnum(
  ["none", "zstd"] as const,
);
const REJECT_CODE: ValueCodec<RejectCode> = stringEnum(
  [
    "invalid_request",
    "unauthorized",
    "unsupported_version",
    "internal",
  ] as const,
);
const RPC_ERROR_CODE: ValueCodec<RpcErrorCode> = stringEnum(
  [
    "invalid_request",
    "unauthorized",
    "unsupported_version",
    "too_large",
    "cancelled",
    "internal",
  ] as const,
);
const SEVERITY: ValueCodec<DiagnosticSeverity> = stringEnum(
  ["error", "warning", "info", "hint"] as const,
);
/** `SymbolSearchMode` (3.1): unknown names decode to `"unknown"`. */
export const SEARCH_MODE: ValueCodec<SymbolSearchMode> = stringEnum(
  ["all", "trigram", "bucket", "scan", "none"] as const,
);
/** A ranked match's `kind` (3.1): anything else is a schema error. */
const MATCH_KIND: ValueCodec<"prefix" | "fuzzy"> = stringEnum(
  ["prefix", "fuzzy"] as const,
  true,
) as ValueCodec<"prefix" | "fuzzy">;

// Handshake -------------------------------------------------------------------

/** `ProtocolVersion`. */
export const PROTOCOL_VERSION: StructSchema<ProtocolVersion> = struct(
  "ProtocolVersion",
  [["major", U32_INT], ["minor", U32_INT]],
);
const SUPPORTED_VERSIONS: StructSchema<SupportedVersions> = struct(
  "SupportedVersions",
  [["min", nested(PROTOCOL_VERSION)], ["max", nested(PROTOCOL_VERSION)]],
);
/** `Capabilities`. */
export const CAPABILITIES: StructSchema<Capabilities> = struct(
  "Capabilities",
  [
    ["max_frame_len", U32_INT],
    ["max_packet_len", U32_INT],
    ["supported_compression", arrayOf(COMPRESSION)],
    ["supports_cancel", BOOL],
    ["supports_chunking", BOOL],
  ],
);
const CACHED_INDEX_INFO: StructSchema<CachedIndexInfo> = struct(
  "CachedIndexInfo",
  [["revision", U64_INT], ["index_generation", U64_INT], [
    "symbol_count",
    U32_INT,
  ]],
);
const NONE = { absent: null };
/** `WorkerHello`. */
export const WORKER_HELLO: StructSchema<WorkerHello> = struct("WorkerHello", [
  ["shard_id", U32_INT],
  ["auth_token", nullable(SMALL_TEXT), NONE],
  ["supported_versions", nested(SUPPORTED_VERSIONS)],
  ["capabilities", nested(CAPABILITIES)],
  ["cached_index_info", nullable(nested(CACHED_INDEX_INFO)), NONE],
  ["worker_build", nullable(SMALL_TEXT), NONE],
]);
/** `RouterWelcome`. */
export const ROUTER_WELCOME: StructSchema<RouterWelcome> = struct(
  "RouterWelcome",
  [
    ["worker_id", U32_INT],
    ["shard_id", U32_INT],
    ["revision", U64_INT],
    ["chosen_version", nested(PROTOCOL_VERSION)],
    ["chosen_capabilities", nested(CAPABILITIES)],
  ],
);
/** `HandshakeReject`. */
export const HANDSHAKE_REJECT: StructSchema<HandshakeReject> = struct(
  "HandshakeReject",
  [["code", REJECT_CODE], ["message", SMALL_TEXT]],
);

// Payload structs -------------------------------------------------------------

/**
 * `Symbol`. Its hot loops are hand-tuned (`readSymbol` below interns paths,
 * `writeSymbol` writes the pre-encoded keys); the key names come from here.
 */
export const SYMBOL: StructSchema<Symbol> = struct("Symbol", [
  ["name", SMALL_TEXT],
  ["path", SMALL_TEXT],
  ["line", U32_INT],
  ["column", U32_INT],
]);
/**
 * `FileText`. Decoded by a hand-tuned loop (the ASCII batch pass); the key
 * names come from here.
 */
export const FILE_TEXT: StructSchema<FileText> = struct("FileText", [
  ["path", SMALL_TEXT],
  ["text", TEXT],
]);
/**
 * Reads one `Symbol` (hot: a hand-tuned loop over the `SYMBOL` keys),
 * interning its path.
 */
function readSymbol(r: CborReader, paths: TextInterner): Symbol {
  const n = r.map("Symbol");
  let name: string | undefined;
  let path: string | undefined;
  let line = 0;
  let column = 0;
  let seen = 0;
  for (let i = 0; i < n; i++) {
    const k = entryKey(r, SYMBOL.keys, SYMBOL.names, i, seen);
    if (k < 0) continue;
    seen |= 1 << k;
    if (k === 0) name = r.text("name");
    else if (k === 1) path = paths.text(r, "path");
    else if (k === 2) line = r.u32("line");
    else column = r.u32("column");
  }
  if (name === undefined) return missing("name");
  if (path === undefined) return missing("path");
  return { name, path, line, column };
}

/**
 * A shard's symbol list: paths interned per list when decoding, the
 * pre-encoded `Symbol` keys when encoding.
 */
const SYMBOL_LIST: ValueCodec<Symbol[]> = {
  read: (r, name) => {
    const len = r.array(name);
    const out: Symbol[] = new Array(len);
    const paths = new TextInterner();
    for (let j = 0; j < len; j++) out[j] = readSymbol(r, paths);
    return out;
  },
  write: (w, list, name) => {
    if (!Array.isArray(list)) encodeFailed(`${name} must be an array`);
    w.head(4, list.length);
    const keys = SYMBOL.encodedKeys;
    for (let i = 0; i < list.length; i++) {
      writeSymbol(w, list[i], keys, "symbol");
    }
  },
};
/** `ShardIndex`. */
export const SHARD_INDEX: StructSchema<ShardIndex> = struct("ShardIndex", [
  ["shard_id", U32_INT],
  ["revision", U64_INT],
  ["index_generation", U64_INT],
  ["symbols", SYMBOL_LIST],
]);

/** `WorkerStats`. */
export const WORKER_STATS: StructSchema<WorkerStats> = struct("WorkerStats", [
  ["shard_id", U32_INT],
  ["revision", U64_INT],
  ["index_generation", U64_INT],
  ["file_count", U32_INT],
]);
const REMOTE_DIAGNOSTIC: StructSchema<RemoteDiagnostic> = struct(
  "RemoteDiagnostic",
  [
    ["severity", SEVERITY],
    ["line", U32_INT],
    ["column", U32_INT],
    ["message", text(SMALL_TEXT_CAP)],
  ],
);
/** The body of `Response::Diagnostics`. */
export const DIAGNOSTICS_BODY: StructSchema<
  { diagnostics: RemoteDiagnostic[] }
> = struct("Response::Diagnostics", [
  ["diagnostics", arrayOf(item(REMOTE_DIAGNOSTIC, "diagnostic"))],
]);
/** `RpcError`. */
export const RPC_ERROR: StructSchema<RpcError> = struct("RpcError", [
  ["code", RPC_ERROR_CODE],
  ["message", SMALL_TEXT],
  ["retryable", BOOL],
  ["details", nullable(SMALL_TEXT), NONE],
]);

// 3.1 -------------------------------------------------------------------------

const RANKED_SYMBOL: StructSchema<RankedSymbol> = struct("RankedSymbol", [
  ["name", SMALL_TEXT],
  ["path", SMALL_TEXT],
  ["line", U32_INT],
  ["column", U32_INT],
  ["kind", MATCH_KIND],
  ["score", I32_INT],
]);
/** `SymbolMatches` (3.1). */
export const SYMBOL_MATCHES: StructSchema<SymbolMatches> = struct(
  "SymbolMatches",
  [
    ["shard_id", U32_INT],
    ["revision", U64_INT],
    ["index_generation", U64_INT],
    ["symbol_count", U32_INT],
    ["mode", SEARCH_MODE],
    ["hit", BOOL],
    ["bucket", BOOL],
    ["trigrams", arrayOf(U32_INT)],
    ["matches", arrayOf(item(RANKED_SYMBOL, "match"))],
  ],
);
/** `ShardSummary` (3.1). */
export const SHARD_SUMMARY: StructSchema<ShardSummary> = struct(
  "ShardSummary",
  [
    ["shard_id", U32_INT],
    ["revision", U64_INT],
    ["index_generation", U64_INT],
    ["symbol_count", U32_INT],
  ],
);
