/**
 * Encoders for every v3 message, byte-identical to serde_cbor 0.11: maps in
 * field declaration order, `null` for absent options, the tag first, the
 * `body` key omitted for unit variants. Private to `lib/wire`.
 *
 * Every text value is written under the cap the peer's preflight applies to
 * its key (`SMALL_TEXT_CAP` for `path`, `name`, `message`, `details`,
 * `auth_token`, `worker_build` and `query`; `FILE_TEXT_CAP`, the decoder's
 * default, elsewhere), so a value a decoder would refuse fails here instead.
 * Tag values (`type`, `compression`, enums) are fixed constants far under
 * the 64-byte tag cap.
 *
 * @module
 */

import { concatBytes } from "./bytes.ts";
import {
  type CborWriter,
  encodeFailed,
  FILE_TEXT_CAP,
  keyTable,
  SMALL_TEXT_CAP,
  textBytes,
} from "./_cbor_write.ts";
import type {
  Capabilities,
  CompressionAlgo,
  FileText,
  Notification,
  ProtocolVersion,
  RemoteDiagnostic,
  Request,
  Response,
  RpcError,
  RpcPayload,
  RpcResult,
  ShardIndex,
  WireFrame,
  WorkerHello,
  WorkerStats,
} from "./types.ts";
import {
  K_SYMBOL,
  requireObject,
  writeShardIds,
  writeSymbol,
} from "./_encode_parts.ts";
import {
  omitSymbolsPrefix,
  writeOmitSymbols,
  writeSearchShardSymbols,
  writeShardSummary,
  writeSymbolMatches,
} from "./_search_v31.ts";

const t = textBytes;

/** `map(2) {"type": name, "body": ...` up to the body value. */
function adjacentPrefix(name: string): Uint8Array {
  return concatBytes([[0xa2], t("type"), t(name), t("body")]);
}

/** `map(1) {"type": name}`: a unit variant. */
function unitVariant(name: string): Uint8Array {
  return concatBytes([[0xa1], t("type"), t(name)]);
}

function stringEnum<T extends string>(
  names: readonly T[],
): Map<T | "unknown", Uint8Array> {
  const out = new Map<T | "unknown", Uint8Array>();
  for (const name of names) out.set(name, t(name));
  out.set("unknown", t("unknown"));
  return out;
}

const COMPRESSION = stringEnum(["none", "zstd"] as const);
const REJECT_CODES = stringEnum(
  [
    "invalid_request",
    "unauthorized",
    "unsupported_version",
    "internal",
  ] as const,
);
const RPC_ERROR_CODES = stringEnum(
  [
    "invalid_request",
    "unauthorized",
    "unsupported_version",
    "too_large",
    "cancelled",
    "internal",
  ] as const,
);
const SEVERITIES = stringEnum(["error", "warning", "info", "hint"] as const);

function writeEnum(
  w: CborWriter,
  table: Map<string, Uint8Array>,
  value: unknown,
  field: string,
): void {
  const bytes = table.get(value as string);
  if (bytes === undefined) encodeFailed(`${field}: unknown value`);
  w.raw(bytes);
}

/** An optional token, build string or details: 16 KiB when present. */
function writeOptSmallText(
  w: CborWriter,
  value: unknown,
  field: string,
): void {
  if (value === null || value === undefined) w.nil();
  else w.text(value as string, field, SMALL_TEXT_CAP);
}

// Handshake -------------------------------------------------------------------

const K_MAJOR = concatBytes([[0xa2], t("major")]);
const K_MINOR = t("minor");
function writeVersion(w: CborWriter, v: ProtocolVersion, field: string): void {
  requireObject(v, field);
  w.raw(K_MAJOR);
  w.u32(v.major, "major");
  w.raw(K_MINOR);
  w.u32(v.minor, "minor");
}

const K_CAPS = [
  concatBytes([[0xa5], t("max_frame_len")]),
  t("max_packet_len"),
  t("supported_compression"),
  t("supports_cancel"),
  t("supports_chunking"),
];
function writeCaps(w: CborWriter, c: Capabilities, field: string): void {
  requireObject(c, field);
  w.raw(K_CAPS[0]);
  w.u32(c.max_frame_len, "max_frame_len");
  w.raw(K_CAPS[1]);
  w.u32(c.max_packet_len, "max_packet_len");
  w.raw(K_CAPS[2]);
  const algos = c.supported_compression;
  if (!Array.isArray(algos)) {
    encodeFailed("supported_compression must be an array");
  }
  w.head(4, algos.length);
  for (const algo of algos) {
    writeEnum(w, COMPRESSION, algo, "supported_compression");
  }
  w.raw(K_CAPS[3]);
  w.bool(c.supports_cancel, "supports_cancel");
  w.raw(K_CAPS[4]);
  w.bool(c.supports_chunking, "supports_chunking");
}

const K_HELLO = [
  concatBytes([adjacentPrefix("hello"), [0xa6], t("shard_id")]),
  t("auth_token"),
  t("supported_versions"),
  t("capabilities"),
  t("cached_index_info"),
  t("worker_build"),
];
const K_MIN = concatBytes([[0xa2], t("min")]);
const K_MAX = t("max");
const K_CACHED = [
  concatBytes([[0xa3], t("revision")]),
  t("index_generation"),
  t("symbol_count"),
];
function writeHello(w: CborWriter, h: WorkerHello): void {
  requireObject(h, "hello body");
  w.raw(K_HELLO[0]);
  w.u32(h.shard_id, "shard_id");
  w.raw(K_HELLO[1]);
  writeOptSmallText(w, h.auth_token, "auth_token");
  w.raw(K_HELLO[2]);
  const versions = h.supported_versions;
  requireObject(versions, "supported_versions");
  w.raw(K_MIN);
  writeVersion(w, versions.min, "min");
  w.raw(K_MAX);
  writeVersion(w, versions.max, "max");
  w.raw(K_HELLO[3]);
  writeCaps(w, h.capabilities, "capabilities");
  w.raw(K_HELLO[4]);
  const cached = h.cached_index_info;
  if (cached === null || cached === undefined) {
    w.nil();
  } else {
    requireObject(cached, "cached_index_info");
    w.raw(K_CACHED[0]);
    w.u64(cached.revision, "revision");
    w.raw(K_CACHED[1]);
    w.u64(cached.index_generation, "index_generation");
    w.raw(K_CACHED[2]);
    w.u32(cached.symbol_count, "symbol_count");
  }
  w.raw(K_HELLO[5]);
  writeOptSmallText(w, h.worker_build, "worker_build");
}

const K_WELCOME = [
  concatBytes([adjacentPrefix("welcome"), [0xa5], t("worker_id")]),
  t("shard_id"),
  t("revision"),
  t("chosen_version"),
  t("chosen_capabilities"),
];

const K_REJECT = [
  concatBytes([adjacentPrefix("reject"), [0xa2], t("code")]),
  t("message"),
];

const K_PACKET = concatBytes([adjacentPrefix("packet"), [0xa3], t("id")]);
const K_CHUNK = concatBytes([adjacentPrefix("packet_chunk"), [0xa5], t("id")]);
const K_COMPRESSION = t("compression");
const K_SEQ = t("seq");
const K_LAST = t("last");
const K_DATA = t("data");
const UNKNOWN = unitVariant("unknown");

/**
 * Writes a `WireFrame`.
 *
 * @example
 * ```ts
 * import { writeWireFrame } from "./_encode.ts";
 * import { CborWriter } from "./_cbor_write.ts";
 * const w = new CborWriter();
 * writeWireFrame(w, { type: "unknown" });
 * console.assert(w.finish().length === 14);
 * ```
 */
export function writeWireFrame(w: CborWriter, frame: WireFrame): void {
  requireObject(frame, "frame");
  switch (frame.type) {
    case "hello":
      writeHello(w, frame.body);
      return;
    case "welcome": {
      const b = frame.body;
      requireObject(b, "welcome body");
      w.raw(K_WELCOME[0]);
      w.u32(b.worker_id, "worker_id");
      w.raw(K_WELCOME[1]);
      w.u32(b.shard_id, "shard_id");
      w.raw(K_WELCOME[2]);
      w.u64(b.revision, "revision");
      w.raw(K_WELCOME[3]);
      writeVersion(w, b.chosen_version, "chosen_version");
      w.raw(K_WELCOME[4]);
      writeCaps(w, b.chosen_capabilities, "chosen_capabilities");
      return;
    }
    case "reject": {
      const b = frame.body;
      requireObject(b, "reject body");
      w.raw(K_REJECT[0]);
      writeEnum(w, REJECT_CODES, b.code, "code");
      w.raw(K_REJECT[1]);
      w.text(b.message, "message", SMALL_TEXT_CAP);
      return;
    }
    case "packet": {
      const b = frame.body;
      requireObject(b, "packet body");
      w.raw(K_PACKET);
      w.u64(b.id, "id");
      w.raw(K_COMPRESSION);
      writeCompression(w, b.compression);
      w.raw(K_DATA);
      w.bytes(b.data, "data");
      return;
    }
    case "packet_chunk": {
      const b = frame.body;
      requireObject(b, "packet_chunk body");
      w.raw(K_CHUNK);
      w.u64(b.id, "id");
      w.raw(K_COMPRESSION);
      writeCompression(w, b.compression);
      w.raw(K_SEQ);
      w.u32(b.seq, "seq");
      w.raw(K_LAST);
      w.bool(b.last, "last");
      w.raw(K_DATA);
      w.bytes(b.data, "data");
      return;
    }
    case "unknown":
      w.raw(UNKNOWN);
      return;
    default:
      encodeFailed("frame: unknown type");
  }
}

function writeCompression(w: CborWriter, algo: CompressionAlgo): void {
  writeEnum(w, COMPRESSION, algo, "compression");
}

// Payloads --------------------------------------------------------------------

const K_FILE = keyTable(["path", "text"]);
function writeFile(w: CborWriter, f: FileText): void {
  requireObject(f, "file");
  w.raw(K_FILE[0]);
  w.text(f.path, "path", SMALL_TEXT_CAP);
  w.raw(K_FILE[1]);
  w.text(f.text, "text", FILE_TEXT_CAP);
}

function writeFiles(w: CborWriter, files: FileText[]): void {
  if (!Array.isArray(files)) encodeFailed("files must be an array");
  w.head(4, files.length);
  for (let i = 0; i < files.length; i++) writeFile(w, files[i]);
}

const P_REQUEST = adjacentPrefix("request");
const K_REQ_LOAD = concatBytes([
  [0xa3],
  t("type"),
  t("load_files"),
  t("revision"),
]);
const K_REQ_INDEX = concatBytes([
  [0xa3],
  t("type"),
  t("index_shard"),
  t("revision"),
]);
const K_REQ_UPDATE = concatBytes([
  [0xa3],
  t("type"),
  t("update_file"),
  t("revision"),
]);
const K_REQ_DIAG = concatBytes([
  [0xa2],
  t("type"),
  t("diagnostics"),
  t("path"),
]);
const K_FILES = t("files");
const K_FILE_KEY = t("file");
const REQ_STATS = unitVariant("get_worker_stats");
const REQ_SHUTDOWN = unitVariant("shutdown");

function writeRequest(w: CborWriter, req: Request): void {
  requireObject(req, "request");
  switch (req.type) {
    case "load_files":
    case "index_shard":
      w.raw(
        omitSymbolsPrefix(req) ??
          (req.type === "load_files" ? K_REQ_LOAD : K_REQ_INDEX),
      );
      w.u64(req.revision, "revision");
      w.raw(K_FILES);
      writeFiles(w, req.files);
      writeOmitSymbols(w, req); // 3.1, only when present
      return;
    case "update_file":
      w.raw(omitSymbolsPrefix(req) ?? K_REQ_UPDATE);
      w.u64(req.revision, "revision");
      w.raw(K_FILE_KEY);
      writeFile(w, req.file);
      writeOmitSymbols(w, req); // 3.1, only when present
      return;
    case "search_shard_symbols": // 3.1
      writeSearchShardSymbols(w, req);
      return;
    case "diagnostics":
      w.raw(K_REQ_DIAG);
      w.text(req.path, "path", SMALL_TEXT_CAP);
      return;
    case "get_worker_stats":
      w.raw(REQ_STATS);
      return;
    case "shutdown":
      w.raw(REQ_SHUTDOWN);
      return;
    case "unknown":
      w.raw(UNKNOWN);
      return;
    default:
      encodeFailed("request: unknown type");
  }
}

function writeShardIndex(w: CborWriter, index: ShardIndex): void {
  requireObject(index, "shard index");
  writeShardIds(w, index, K_INDEX);
  w.raw(K_INDEX[3]);
  const symbols = index.symbols;
  if (!Array.isArray(symbols)) encodeFailed("symbols must be an array");
  w.head(4, symbols.length);
  for (let i = 0; i < symbols.length; i++) {
    writeSymbol(w, symbols[i], K_SYMBOL, "symbol");
  }
}
const K_INDEX = keyTable([
  "shard_id",
  "revision",
  "index_generation",
  "symbols",
]);

const K_STATS = keyTable([
  "shard_id",
  "revision",
  "index_generation",
  "file_count",
]);
function writeStats(w: CborWriter, s: WorkerStats): void {
  requireObject(s, "worker stats");
  writeShardIds(w, s, K_STATS);
  w.raw(K_STATS[3]);
  w.u32(s.file_count, "file_count");
}

const K_DIAG = keyTable(["severity", "line", "column", "message"]);
function writeDiagnostic(w: CborWriter, d: RemoteDiagnostic): void {
  requireObject(d, "diagnostic");
  w.raw(K_DIAG[0]);
  writeEnum(w, SEVERITIES, d.severity, "severity");
  w.raw(K_DIAG[1]);
  w.u32(d.line, "line");
  w.raw(K_DIAG[2]);
  w.u32(d.column, "column");
  w.raw(K_DIAG[3]);
  w.text(d.message, "message", SMALL_TEXT_CAP);
}

const RESP_ACK = unitVariant("ack");
const RESP_SHUTDOWN = unitVariant("shutdown");
const P_SHARD_INDEX = adjacentPrefix("shard_index");
const P_DIAGNOSTICS = concatBytes([
  adjacentPrefix("diagnostics"),
  [0xa1],
  t("diagnostics"),
]);
const P_STATS = adjacentPrefix("worker_stats");
const P_SYMBOL_MATCHES = adjacentPrefix("symbol_matches");
const P_SHARD_SUMMARY = adjacentPrefix("shard_summary");

function writeResponse(w: CborWriter, resp: Response): void {
  requireObject(resp, "response value");
  switch (resp.type) {
    case "ack":
      w.raw(RESP_ACK);
      return;
    case "shard_index":
      w.raw(P_SHARD_INDEX);
      writeShardIndex(w, resp.body);
      return;
    case "diagnostics": {
      requireObject(resp.body, "diagnostics body");
      const list = resp.body.diagnostics;
      if (!Array.isArray(list)) encodeFailed("diagnostics must be an array");
      w.raw(P_DIAGNOSTICS);
      w.head(4, list.length);
      for (let i = 0; i < list.length; i++) writeDiagnostic(w, list[i]);
      return;
    }
    case "worker_stats":
      w.raw(P_STATS);
      writeStats(w, resp.body);
      return;
    case "shutdown":
      w.raw(RESP_SHUTDOWN);
      return;
    case "symbol_matches": // 3.1
      w.raw(P_SYMBOL_MATCHES);
      writeSymbolMatches(w, resp.body);
      return;
    case "shard_summary": // 3.1
      w.raw(P_SHARD_SUMMARY);
      writeShardSummary(w, resp.body);
      return;
    case "unknown":
      w.raw(UNKNOWN);
      return;
    default:
      encodeFailed("response: unknown type");
  }
}

const P_RESPONSE = adjacentPrefix("response");
const K_OK = concatBytes([[0xa2], t("status"), t("ok"), t("value")]);
const K_ERR = concatBytes([[0xa2], t("status"), t("err"), t("error")]);
const RESULT_UNKNOWN = concatBytes([[0xa1], t("status"), t("unknown")]);
const K_RPC_ERROR = [
  concatBytes([[0xa4], t("code")]),
  t("message"),
  t("retryable"),
  t("details"),
];

function writeRpcError(w: CborWriter, e: RpcError): void {
  requireObject(e, "error");
  w.raw(K_RPC_ERROR[0]);
  writeEnum(w, RPC_ERROR_CODES, e.code, "code");
  w.raw(K_RPC_ERROR[1]);
  w.text(e.message, "message", SMALL_TEXT_CAP);
  w.raw(K_RPC_ERROR[2]);
  w.bool(e.retryable, "retryable");
  w.raw(K_RPC_ERROR[3]);
  writeOptSmallText(w, e.details, "details");
}

function writeResult(w: CborWriter, result: RpcResult): void {
  requireObject(result, "result");
  switch (result.status) {
    case "ok":
      w.raw(K_OK);
      writeResponse(w, result.value);
      return;
    case "err":
      w.raw(K_ERR);
      writeRpcError(w, result.error);
      return;
    case "unknown":
      w.raw(RESULT_UNKNOWN);
      return;
    default:
      encodeFailed("result: unknown status");
  }
}

const P_NOTIFICATION = adjacentPrefix("notification");
const P_CACHED_INDEX = adjacentPrefix("cached_index");
function writeNotification(w: CborWriter, n: Notification): void {
  requireObject(n, "notification");
  switch (n.type) {
    case "cached_index":
      w.raw(P_CACHED_INDEX);
      writeShardIndex(w, n.body);
      return;
    case "unknown":
      w.raw(UNKNOWN);
      return;
    default:
      encodeFailed("notification: unknown type");
  }
}

const CANCEL = unitVariant("cancel");

/**
 * Writes an `RpcPayload`.
 *
 * @example
 * ```ts
 * import { writeRpcPayload } from "./_encode.ts";
 * import { CborWriter } from "./_cbor_write.ts";
 * const w = new CborWriter();
 * writeRpcPayload(w, { type: "cancel" });
 * console.assert(w.finish().length === 13);
 * ```
 */
export function writeRpcPayload(w: CborWriter, payload: RpcPayload): void {
  requireObject(payload, "payload");
  switch (payload.type) {
    case "request":
      w.raw(P_REQUEST);
      writeRequest(w, payload.body);
      return;
    case "response":
      w.raw(P_RESPONSE);
      writeResult(w, payload.body);
      return;
    case "notification":
      w.raw(P_NOTIFICATION);
      writeNotification(w, payload.body);
      return;
    case "cancel":
      w.raw(CANCEL);
      return;
    case "unknown":
      w.raw(UNKNOWN);
      return;
    default:
      encodeFailed("payload: unknown type");
  }
}
