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
  SMALL_TEXT_CAP,
  textBytes,
} from "./_cbor_write.ts";
import type {
  CompressionAlgo,
  FileText,
  Notification,
  Request,
  Response,
  RpcPayload,
  RpcResult,
  WireFrame,
} from "./types.ts";
import { requireObject } from "./_encode_parts.ts";
import {
  COMPRESSION,
  DIAGNOSTICS_BODY,
  FILE_TEXT,
  HANDSHAKE_REJECT,
  ROUTER_WELCOME,
  RPC_ERROR,
  SHARD_INDEX,
  WORKER_HELLO,
  WORKER_STATS,
} from "./_messages.ts";
import { type StructSchema, writeStruct } from "./_schema.ts";
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

/** An adjacently tagged variant whose body is a plain struct. */
interface StructVariant<T> {
  /** `{"type": name, "body":` */
  readonly prefix: Uint8Array;
  /** The body's schema. */
  readonly schema: StructSchema<T>;
  /** The body's name in errors. */
  readonly what: string;
}

function structVariant<T>(
  name: string,
  schema: StructSchema<T>,
  what: string,
): StructVariant<T> {
  return { prefix: adjacentPrefix(name), schema, what };
}

function writeVariant<T>(w: CborWriter, v: StructVariant<T>, body: T): void {
  w.raw(v.prefix);
  writeStruct(w, v.schema, body, v.what);
}

const HELLO = structVariant("hello", WORKER_HELLO, "hello body");
const WELCOME = structVariant("welcome", ROUTER_WELCOME, "welcome body");
const REJECT = structVariant("reject", HANDSHAKE_REJECT, "reject body");

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
      return writeVariant(w, HELLO, frame.body);
    case "welcome":
      return writeVariant(w, WELCOME, frame.body);
    case "reject":
      return writeVariant(w, REJECT, frame.body);
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
  COMPRESSION.write(w, algo, "compression");
}

// Payloads --------------------------------------------------------------------

const K_FILE = FILE_TEXT.encodedKeys;
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

const RESP_ACK = unitVariant("ack");
const RESP_SHUTDOWN = unitVariant("shutdown");
const RESP_SHARD_INDEX = structVariant(
  "shard_index",
  SHARD_INDEX,
  "shard index",
);
const RESP_DIAGNOSTICS = structVariant(
  "diagnostics",
  DIAGNOSTICS_BODY,
  "diagnostics body",
);
const RESP_STATS = structVariant(
  "worker_stats",
  WORKER_STATS,
  "worker stats",
);
const P_SYMBOL_MATCHES = adjacentPrefix("symbol_matches");
const P_SHARD_SUMMARY = adjacentPrefix("shard_summary");

function writeResponse(w: CborWriter, resp: Response): void {
  requireObject(resp, "response value");
  switch (resp.type) {
    case "ack":
      w.raw(RESP_ACK);
      return;
    case "shard_index":
      return writeVariant(w, RESP_SHARD_INDEX, resp.body);
    case "diagnostics":
      return writeVariant(w, RESP_DIAGNOSTICS, resp.body);
    case "worker_stats":
      return writeVariant(w, RESP_STATS, resp.body);
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
function writeResult(w: CborWriter, result: RpcResult): void {
  requireObject(result, "result");
  switch (result.status) {
    case "ok":
      w.raw(K_OK);
      writeResponse(w, result.value);
      return;
    case "err":
      w.raw(K_ERR);
      writeStruct(w, RPC_ERROR, result.error, "error");
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
      writeStruct(w, SHARD_INDEX, n.body, "shard index");
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
