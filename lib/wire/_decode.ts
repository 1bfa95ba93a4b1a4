/**
 * Schema-directed decoders for every v3 message. They run after the
 * preflight validator and follow the reference's acceptance rules (unknown
 * keys ignored, absent options are null, unknown enum strings and variants
 * become `unknown`, duplicate known keys and wrong types rejected).
 * Structs are read by `readStruct` from their schemas in `_messages.ts`;
 * this module adds the enums' framing (adjacently and internally tagged),
 * the packet map and the batched ASCII pass over file lists.
 * Private to `lib/wire`.
 *
 * @module
 */

import { ProtocolError } from "./errors.ts";
import {
  type CborReader,
  decodeAsciiRanges,
  schemaMismatch,
} from "./_cbor_read.ts";
import type {
  CompressionAlgo,
  FileText,
  Notification,
  Packet,
  PacketChunk,
  Request,
  Response,
  RpcError,
  RpcPayload,
  RpcResult,
  U64,
  WireFrame,
} from "./types.ts";
import {
  duplicate,
  type Keys,
  keys,
  missing,
  variant,
} from "./_decode_parts.ts";
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
import { readStruct } from "./_schema.ts";
import {
  readOmitSymbols,
  readSearchShardSymbols,
  readShardSummary,
  readSymbolMatches,
} from "./_search_v31.ts";

// Handshake structs (driven by the schemas of _messages.ts) ------------------

const PACKET_KEYS = keys("id", "compression", "seq", "last", "data");
const PACKET_NAMES = ["id", "compression", "seq", "last", "data"];
function packetLike(r: CborReader, chunk: boolean): Packet | PacketChunk {
  const n = r.map(chunk ? "PacketChunk" : "Packet");
  let id: U64 = 0;
  let algo: CompressionAlgo = "none";
  let seq = 0;
  let last = false;
  let data: Uint8Array | undefined;
  let seen = 0;
  for (let i = 0; i < n; i++) {
    let k = r.key(PACKET_KEYS, chunk || i < 2 ? i : 4);
    if (!chunk && (k === 2 || k === 3)) k = -1;
    if (k < 0) {
      r.skip();
      continue;
    }
    if (seen & (1 << k)) duplicate(PACKET_NAMES[k]);
    seen |= 1 << k;
    switch (k) {
      case 0:
        id = r.u64("id");
        break;
      case 1:
        algo = COMPRESSION.read(r, "compression");
        break;
      case 2:
        seq = r.u32("seq");
        break;
      case 3:
        last = r.bool("last");
        break;
      default:
        data = r.bytes("data");
    }
  }
  if (!(seen & 1)) missing("id");
  if (!(seen & 2)) missing("compression");
  if (chunk) {
    if (!(seen & 4)) missing("seq");
    if (!(seen & 8)) missing("last");
  }
  if (data === undefined) return missing("data");
  return chunk
    ? { id, compression: algo, seq, last, data }
    : { id, compression: algo, data };
}

// Adjacently tagged enums -----------------------------------------------------

const TAG_BODY_KEYS = keys("type", "body");

/**
 * Decodes `{type, body}` in either key order. `unit` has a bit set for each
 * variant index that takes no body. An unknown variant decodes to -1 with
 * its body (if any) skipped: the spec's forward-compatibility rule (the
 * reference rejects an unknown variant carrying a non-null body).
 */
function adjacent<T>(
  r: CborReader,
  what: string,
  names: Keys,
  unit: number,
  body: (r: CborReader, variant: number) => T,
  unitValue: (variant: number) => T,
): T {
  const n = r.map(what);
  let v = -2;
  let bodyPos = -1;
  let hasBody = false;
  let result: T | undefined;
  for (let i = 0; i < n; i++) {
    const k = r.key(TAG_BODY_KEYS, i);
    if (k === 0) {
      if (v !== -2) duplicate("type");
      v = variant(r, names, "type");
    } else if (k === 1) {
      if (hasBody) duplicate("body");
      hasBody = true;
      if (v === -2) {
        bodyPos = r.pos;
        r.skip();
      } else {
        result = adjacentBody(r, v, unit, body, unitValue);
      }
    } else r.skip();
  }
  if (v === -2) return missing("type");
  if (!hasBody) {
    if (v < 0 || (unit & (1 << v))) return unitValue(v);
    return missing("body");
  }
  if (bodyPos >= 0) {
    const end = r.pos;
    r.pos = bodyPos;
    result = adjacentBody(r, v, unit, body, unitValue);
    r.pos = end;
  }
  return result as T;
}

function adjacentBody<T>(
  r: CborReader,
  v: number,
  unit: number,
  body: (r: CborReader, variant: number) => T,
  unitValue: (variant: number) => T,
): T {
  if (v < 0) {
    r.skip();
    return unitValue(v);
  }
  if (unit & (1 << v)) {
    if (!r.nullNext()) return schemaMismatch("unit variant given a body");
    return unitValue(v);
  }
  if (r.peek() === 0xf6) return schemaMismatch("variant body is null");
  return body(r, v);
}

const FRAME_NAMES = keys(
  "hello",
  "welcome",
  "reject",
  "packet",
  "packet_chunk",
);
function frameBody(r: CborReader, v: number): WireFrame {
  switch (v) {
    case 0:
      return { type: "hello", body: readStruct(r, WORKER_HELLO) };
    case 1:
      return { type: "welcome", body: readStruct(r, ROUTER_WELCOME) };
    case 2:
      return { type: "reject", body: readStruct(r, HANDSHAKE_REJECT) };
    case 3:
      return { type: "packet", body: packetLike(r, false) as Packet };
    default:
      return {
        type: "packet_chunk",
        body: packetLike(r, true) as PacketChunk,
      };
  }
}

/**
 * Decodes a `WireFrame` from a preflighted buffer.
 *
 * @example
 * ```ts
 * import { readWireFrame } from "./_decode.ts";
 * import { CborReader } from "./_cbor_read.ts";
 * import { encodeWireFrame } from "./codec.ts";
 * const r = new CborReader(encodeWireFrame({ type: "unknown" }));
 * console.assert(readWireFrame(r).type === "unknown");
 * ```
 */
export function readWireFrame(r: CborReader): WireFrame {
  return adjacent(r, "WireFrame", FRAME_NAMES, 0, frameBody, unknownFrame);
}

function unknownFrame(): WireFrame {
  return { type: "unknown" };
}

// Shared structs ------------------------------------------------------------

const FILE_KEYS = FILE_TEXT.keys;
function fileText(r: CborReader, field: string): FileText {
  const n = r.map(field);
  let path: string | undefined;
  let text: string | undefined;
  for (let i = 0; i < n; i++) {
    const k = r.key(FILE_KEYS, i);
    if (k === 0) {
      if (path !== undefined) duplicate("path");
      path = r.text("path");
    } else if (k === 1) {
      if (text !== undefined) duplicate("text");
      text = r.text("text");
    } else r.skip();
  }
  if (path === undefined) return missing("path");
  if (text === undefined) return missing("text");
  return { path, text };
}

/**
 * Reads a file list. The fast pass notes every path and text as a byte
 * range and decodes them all with one call when they are pure ASCII; on
 * non-ASCII text or any error it rewinds and runs the strict pass, so
 * errors and their order are exactly the strict pass's.
 */
function files(r: CborReader): FileText[] {
  const start = r.pos;
  try {
    const out = filesAscii(r);
    if (out) return out;
  } catch (err) {
    if (!(err instanceof ProtocolError)) throw err;
  }
  r.pos = start;
  const len = r.array("files");
  const out: FileText[] = new Array(len);
  for (let i = 0; i < len; i++) out[i] = fileText(r, "files");
  return out;
}

function filesAscii(r: CborReader): FileText[] | undefined {
  const len = r.array("files");
  // path start, path end, text start, text end per file
  const ranges: number[] = new Array(len * 4);
  for (let i = 0; i < len; i++) {
    const n = r.map("files");
    let path = -1;
    let text = -1;
    for (let j = 0; j < n; j++) {
      const k = r.key(FILE_KEYS, j);
      if (k === 0) {
        if (path >= 0) duplicate("path");
        path = r.textStart("path");
        ranges[i * 4] = path;
        ranges[i * 4 + 1] = r.pos;
      } else if (k === 1) {
        if (text >= 0) duplicate("text");
        text = r.textStart("text");
        ranges[i * 4 + 2] = text;
        ranges[i * 4 + 3] = r.pos;
      } else r.skip();
    }
    if (path < 0) return missing("path");
    if (text < 0) return missing("text");
  }
  const all = decodeAsciiRanges(r.buf, ranges);
  if (all === undefined) return undefined;
  const out: FileText[] = new Array(len);
  let off = 0;
  for (let i = 0; i < len; i++) {
    const pathEnd = off + ranges[i * 4 + 1] - ranges[i * 4];
    const textEnd = pathEnd + ranges[i * 4 + 3] - ranges[i * 4 + 2];
    out[i] = {
      path: all.slice(off, pathEnd),
      text: all.slice(pathEnd, textEnd),
    };
    off = textEnd;
  }
  return out;
}

// Internally tagged enums -----------------------------------------------------

/**
 * Finds the tag of an internally tagged map whose head was read (`n` pairs,
 * entries start at `r.pos`). Leaves `r.pos` at the first entry. Returns the
 * variant index or -1 for an unknown tag.
 */
function internalTag(
  r: CborReader,
  n: number,
  tagKey: Keys,
  names: Keys,
  tagName: string,
): number {
  const start = r.pos;
  let v = -2;
  for (let i = 0; i < n; i++) {
    if (r.key(tagKey, 0) === 0) {
      if (v !== -2) duplicate(tagName);
      v = variant(r, names, tagName);
      if (i === 0) break; // the usual layout; later duplicates are caught by the field pass
    } else r.skip();
  }
  if (v === -2) return missing(tagName);
  r.pos = start;
  return v;
}

const REQUEST_NAMES = keys(
  "load_files",
  "index_shard",
  "update_file",
  "diagnostics",
  "get_worker_stats",
  "shutdown",
  "search_shard_symbols", // 3.1
);
const TYPE_KEY = keys("type");
// `omit_symbols` and `append` (3.1) are optional and last.
const REQ_FILES_KEYS = keys(
  "type",
  "revision",
  "files",
  "omit_symbols",
  "append",
);
const REQ_UPDATE_KEYS = keys("type", "revision", "file", "omit_symbols");
const REQ_DIAG_KEYS = keys("type", "path");

function request(r: CborReader): Request {
  const n = r.map("Request");
  const v = internalTag(r, n, TYPE_KEY, REQUEST_NAMES, "type");
  if (v === 6) return readSearchShardSymbols(r, n);
  const table = v === 0 || v === 1
    ? REQ_FILES_KEYS
    : v === 2
    ? REQ_UPDATE_KEYS
    : v === 3
    ? REQ_DIAG_KEYS
    : TYPE_KEY;
  let revision: U64 = 0;
  let fileList: FileText[] | undefined;
  let file: FileText | undefined;
  let path: string | undefined;
  let omit: boolean | undefined;
  let append: boolean | undefined;
  let seen = 0;
  for (let i = 0; i < n; i++) {
    const k = r.key(table, i);
    if (k < 0) {
      r.skip();
      continue;
    }
    if (seen & (1 << k)) {
      duplicate(
        k === 0
          ? "type"
          : k === 4
          ? "append"
          : k === 3
          ? "omit_symbols"
          : k === 1
          ? (v === 3 ? "path" : "revision")
          : v === 2
          ? "file"
          : "files",
      );
    }
    seen |= 1 << k;
    if (k === 0) {
      r.skip(); // the tag, already read
    } else if (v === 3) {
      path = r.text("path");
    } else if (k === 1) {
      revision = r.u64("revision");
    } else if (k === 3) {
      omit = readOmitSymbols(r);
    } else if (k === 4) {
      append = readOmitSymbols(r, "append");
    } else if (v === 2) {
      file = fileText(r, "file");
    } else {
      fileList = files(r);
    }
  }
  switch (v) {
    case 0:
    case 1:
      if (!(seen & 2)) missing("revision");
      if (!fileList) return missing("files");
      if (omit !== undefined || append !== undefined) {
        const type = v === 0 ? "load_files" : "index_shard";
        return {
          type,
          revision,
          files: fileList,
          ...(omit !== undefined ? { omit_symbols: omit } : {}),
          ...(append !== undefined ? { append } : {}),
        };
      }
      return {
        type: v === 0 ? "load_files" : "index_shard",
        revision,
        files: fileList,
      };
    case 2:
      if (!(seen & 2)) missing("revision");
      if (!file) return missing("file");
      if (omit !== undefined) {
        return { type: "update_file", revision, file, omit_symbols: omit };
      }
      return { type: "update_file", revision, file };
    case 3:
      if (path === undefined) return missing("path");
      return { type: "diagnostics", path };
    case 4:
      return { type: "get_worker_stats" };
    case 5:
      return { type: "shutdown" };
    default:
      return { type: "unknown" };
  }
}

const RESPONSE_NAMES = keys(
  "ack",
  "shard_index",
  "diagnostics",
  "worker_stats",
  "shutdown",
  "symbol_matches", // 3.1
  "shard_summary", // 3.1
);
const RESPONSE_UNIT = (1 << 0) | (1 << 4);
function responseBody(r: CborReader, v: number): Response {
  switch (v) {
    case 1:
      return { type: "shard_index", body: readStruct(r, SHARD_INDEX) };
    case 2:
      return { type: "diagnostics", body: readStruct(r, DIAGNOSTICS_BODY) };
    case 5:
      return { type: "symbol_matches", body: readSymbolMatches(r) };
    case 6:
      return { type: "shard_summary", body: readShardSummary(r) };
    default:
      return { type: "worker_stats", body: readStruct(r, WORKER_STATS) };
  }
}
function responseUnit(v: number): Response {
  return v === 0
    ? { type: "ack" }
    : v === 4
    ? { type: "shutdown" }
    : { type: "unknown" };
}
function response(r: CborReader): Response {
  return adjacent(
    r,
    "Response",
    RESPONSE_NAMES,
    RESPONSE_UNIT,
    responseBody,
    responseUnit,
  );
}

const STATUS_KEY = keys("status");
const STATUS_NAMES = keys("ok", "err");
const RESULT_OK_KEYS = keys("status", "value");
const RESULT_ERR_KEYS = keys("status", "error");
function rpcResult(r: CborReader): RpcResult {
  const n = r.map("RpcResult");
  const v = internalTag(r, n, STATUS_KEY, STATUS_NAMES, "status");
  const table = v === 0
    ? RESULT_OK_KEYS
    : v === 1
    ? RESULT_ERR_KEYS
    : STATUS_KEY;
  let value: Response | undefined;
  let error: RpcError | undefined;
  let seen = 0;
  for (let i = 0; i < n; i++) {
    const k = r.key(table, i);
    if (k < 0) {
      r.skip();
      continue;
    }
    if (seen & (1 << k)) {
      duplicate(k === 0 ? "status" : v === 0 ? "value" : "error");
    }
    seen |= 1 << k;
    if (k === 0) r.skip();
    else if (v === 0) value = response(r);
    else error = readStruct(r, RPC_ERROR);
  }
  if (v === 0) {
    if (!value) return missing("value");
    return { status: "ok", value };
  }
  if (v === 1) {
    if (!error) return missing("error");
    return { status: "err", error };
  }
  return { status: "unknown" };
}

const NOTIFICATION_NAMES = keys("cached_index");
function notificationBody(r: CborReader): Notification {
  return { type: "cached_index", body: readStruct(r, SHARD_INDEX) };
}
function notificationUnit(): Notification {
  return { type: "unknown" };
}
function notification(r: CborReader): Notification {
  return adjacent(
    r,
    "Notification",
    NOTIFICATION_NAMES,
    0,
    notificationBody,
    notificationUnit,
  );
}

const PAYLOAD_NAMES = keys("request", "response", "notification", "cancel");
const PAYLOAD_UNIT = 1 << 3;
function payloadBody(r: CborReader, v: number): RpcPayload {
  switch (v) {
    case 0:
      if (r.peek() === 0xf6) return schemaMismatch("request body is null");
      return { type: "request", body: request(r) };
    case 1:
      return { type: "response", body: rpcResult(r) };
    default:
      return { type: "notification", body: notification(r) };
  }
}
function payloadUnit(v: number): RpcPayload {
  return v === 3 ? { type: "cancel" } : { type: "unknown" };
}

/**
 * Decodes an `RpcPayload` from a preflighted buffer.
 *
 * @example
 * ```ts
 * import { readRpcPayload } from "./_decode.ts";
 * import { CborReader } from "./_cbor_read.ts";
 * import { encodeRpcPayload } from "./codec.ts";
 * const r = new CborReader(encodeRpcPayload({ type: "cancel" }));
 * console.assert(readRpcPayload(r).type === "cancel");
 * ```
 */
export function readRpcPayload(r: CborReader): RpcPayload {
  return adjacent(
    r,
    "RpcPayload",
    PAYLOAD_NAMES,
    PAYLOAD_UNIT,
    payloadBody,
    payloadUnit,
  );
}
