/**
 * Schema-directed decoders for every v3 message. They run after the
 * preflight validator and follow the reference's acceptance rules (unknown
 * keys ignored, absent options are null, unknown enum strings and variants
 * become `unknown`, duplicate known keys and wrong types rejected).
 * Private to `lib/wire`.
 *
 * @module
 */

import { ProtocolError } from "./errors.ts";
import {
  cborInvalid,
  type CborReader,
  decodeAsciiRanges,
  isValidUtf8,
  keyBytes,
  schemaMismatch,
  TextInterner,
} from "./_cbor_read.ts";
import type {
  CachedIndexInfo,
  Capabilities,
  CompressionAlgo,
  DiagnosticSeverity,
  FileText,
  HandshakeReject,
  Notification,
  Packet,
  PacketChunk,
  ProtocolVersion,
  RejectCode,
  RemoteDiagnostic,
  Request,
  Response,
  RouterWelcome,
  RpcError,
  RpcErrorCode,
  RpcPayload,
  RpcResult,
  ShardIndex,
  SupportedVersions,
  Symbol,
  U64,
  WireFrame,
  WorkerHello,
  WorkerStats,
} from "./types.ts";
import {
  readOmitSymbols,
  readSearchShardSymbols,
  readShardSummary,
  readSymbolMatches,
} from "./_search_v31.ts";

/** Pre-encoded map keys, matched by `CborReader.key`. */
export type Keys = readonly Uint8Array[];

/**
 * Pre-encodes map keys for `CborReader.key`.
 *
 * @example
 * ```ts
 * import { keys } from "./_decode.ts";
 * console.assert(keys("a", "bc").length === 2);
 * ```
 */
export function keys(...names: string[]): Keys {
  return names.map(keyBytes);
}

/**
 * Throws the peer's `duplicate_key` error for a known field seen twice.
 *
 * @example
 * ```ts
 * import { duplicate } from "./_decode.ts";
 * import { isProtocolError } from "./errors.ts";
 * try { duplicate("name"); } catch (err) { console.assert(isProtocolError(err, "duplicate_key")); }
 * ```
 */
export function duplicate(field: string): never {
  throw new ProtocolError("duplicate_key", `duplicate field \`${field}\``, {
    remote: true,
  });
}

/**
 * Throws the peer's `schema_mismatch` error for a required field not seen.
 *
 * @example
 * ```ts
 * import { missing } from "./_decode.ts";
 * import { isProtocolError } from "./errors.ts";
 * try { missing("name"); } catch (err) { console.assert(isProtocolError(err, "schema_mismatch")); }
 * ```
 */
export function missing(field: string): never {
  return schemaMismatch(`missing field \`${field}\``);
}

/**
 * Reads the key of entry `i` of a map and returns its index in `table`; an
 * unknown key's value is skipped and -1 returned. A known key whose bit is
 * already set in `seen` is a `duplicate_key` error naming `names[k]`.
 *
 * @example
 * ```ts
 * import { entryKey, keys } from "./_decode.ts";
 * import { CborReader } from "./_cbor_read.ts";
 * const r = new CborReader(new Uint8Array([0xa1, 0x61, 0x61, 0x01]));
 * const n = r.map("Example");
 * console.assert(n === 1 && entryKey(r, keys("a"), ["a"], 0, 0) === 0);
 * ```
 */
export function entryKey(
  r: CborReader,
  table: Keys,
  names: readonly string[],
  i: number,
  seen: number,
): number {
  const k = r.key(table, i);
  if (k < 0) {
    r.skip();
    return -1;
  }
  if (seen & (1 << k)) duplicate(names[k]);
  return k;
}

/**
 * Reads a text value naming a variant and returns its index in `names`, or
 * -1 for an unknown (but valid UTF-8) name. Integer variant indexes are
 * rejected (a leniency of the reference we do not copy).
 */
function variant(r: CborReader, names: Keys, field: string): number {
  const buf = r.buf;
  const ib = buf[r.pos];
  if ((ib >> 5) !== 3 || (ib & 31) === 31) {
    return schemaMismatch(`${field}: expected a variant name (text string)`);
  }
  r.pos++;
  const len = r.arg(ib & 31);
  const start = r.pos;
  r.pos = start + len;
  outer: for (let k = 0; k < names.length; k++) {
    const name = names[k];
    if (name.length !== len) continue;
    for (let i = 0; i < len; i++) {
      if (buf[start + i] !== name[i]) continue outer;
    }
    return k;
  }
  if (!isValidUtf8(buf, start, start + len)) {
    cborInvalid("invalid UTF-8 in text string");
  }
  return -1;
}

// String enums ---------------------------------------------------------------

const COMPRESSION_NAMES = keys("none", "zstd");
const COMPRESSION_VALUES: readonly CompressionAlgo[] = ["none", "zstd"];
function compression(r: CborReader, field: string): CompressionAlgo {
  const v = variant(r, COMPRESSION_NAMES, field);
  return v < 0 ? "unknown" : COMPRESSION_VALUES[v];
}

const REJECT_CODES: readonly RejectCode[] = [
  "invalid_request",
  "unauthorized",
  "unsupported_version",
  "internal",
];
const REJECT_CODE_NAMES = keys(...REJECT_CODES);

const RPC_ERROR_CODES: readonly RpcErrorCode[] = [
  "invalid_request",
  "unauthorized",
  "unsupported_version",
  "too_large",
  "cancelled",
  "internal",
];
const RPC_ERROR_CODE_NAMES = keys(...RPC_ERROR_CODES);

const SEVERITIES: readonly DiagnosticSeverity[] = [
  "error",
  "warning",
  "info",
  "hint",
];
const SEVERITY_NAMES = keys(...SEVERITIES);

// Handshake structs -----------------------------------------------------------

const VERSION_KEYS = keys("major", "minor");
function protocolVersion(r: CborReader, field: string): ProtocolVersion {
  const n = r.map(field);
  let major = 0;
  let minor = 0;
  let seen = 0;
  for (let i = 0; i < n; i++) {
    const k = r.key(VERSION_KEYS, i);
    if (k < 0) {
      r.skip();
      continue;
    }
    if (seen & (1 << k)) duplicate(k === 0 ? "major" : "minor");
    seen |= 1 << k;
    if (k === 0) major = r.u32("major");
    else minor = r.u32("minor");
  }
  if (!(seen & 1)) missing("major");
  if (!(seen & 2)) missing("minor");
  return { major, minor };
}

const SUPPORTED_KEYS = keys("min", "max");
function supportedVersions(r: CborReader): SupportedVersions {
  const n = r.map("supported_versions");
  let min: ProtocolVersion | undefined;
  let max: ProtocolVersion | undefined;
  for (let i = 0; i < n; i++) {
    const k = r.key(SUPPORTED_KEYS, i);
    if (k === 0) {
      if (min) duplicate("min");
      min = protocolVersion(r, "min");
    } else if (k === 1) {
      if (max) duplicate("max");
      max = protocolVersion(r, "max");
    } else r.skip();
  }
  if (!min) return missing("min");
  if (!max) return missing("max");
  return { min, max };
}

const CAPS_KEYS = keys(
  "max_frame_len",
  "max_packet_len",
  "supported_compression",
  "supports_cancel",
  "supports_chunking",
);
const CAPS_NAMES = [
  "max_frame_len",
  "max_packet_len",
  "supported_compression",
  "supports_cancel",
  "supports_chunking",
];
function capabilities(r: CborReader, field: string): Capabilities {
  const n = r.map(field);
  let maxFrame = 0;
  let maxPacket = 0;
  let algos: CompressionAlgo[] = [];
  let cancel = false;
  let chunking = false;
  let seen = 0;
  for (let i = 0; i < n; i++) {
    const k = entryKey(r, CAPS_KEYS, CAPS_NAMES, i, seen);
    if (k < 0) continue;
    seen |= 1 << k;
    switch (k) {
      case 0:
        maxFrame = r.u32("max_frame_len");
        break;
      case 1:
        maxPacket = r.u32("max_packet_len");
        break;
      case 2: {
        const len = r.array("supported_compression");
        algos = new Array(len);
        for (let j = 0; j < len; j++) {
          algos[j] = compression(r, "supported_compression");
        }
        break;
      }
      case 3:
        cancel = r.bool("supports_cancel");
        break;
      default:
        chunking = r.bool("supports_chunking");
    }
  }
  for (let k = 0; k < 5; k++) if (!(seen & (1 << k))) missing(CAPS_NAMES[k]);
  return {
    max_frame_len: maxFrame,
    max_packet_len: maxPacket,
    supported_compression: algos,
    supports_cancel: cancel,
    supports_chunking: chunking,
  };
}

const CACHED_KEYS = keys("revision", "index_generation", "symbol_count");
const CACHED_NAMES = ["revision", "index_generation", "symbol_count"];
function cachedIndexInfo(r: CborReader): CachedIndexInfo {
  const n = r.map("cached_index_info");
  let revision: U64 = 0;
  let generation: U64 = 0;
  let count = 0;
  let seen = 0;
  for (let i = 0; i < n; i++) {
    const k = entryKey(r, CACHED_KEYS, CACHED_NAMES, i, seen);
    if (k < 0) continue;
    seen |= 1 << k;
    if (k === 0) revision = r.u64("revision");
    else if (k === 1) generation = r.u64("index_generation");
    else count = r.u32("symbol_count");
  }
  for (let k = 0; k < 3; k++) if (!(seen & (1 << k))) missing(CACHED_NAMES[k]);
  return { revision, index_generation: generation, symbol_count: count };
}

const HELLO_KEYS = keys(
  "shard_id",
  "auth_token",
  "supported_versions",
  "capabilities",
  "cached_index_info",
  "worker_build",
);
const HELLO_NAMES = [
  "shard_id",
  "auth_token",
  "supported_versions",
  "capabilities",
  "cached_index_info",
  "worker_build",
];
function workerHello(r: CborReader): WorkerHello {
  const n = r.map("WorkerHello");
  let shard = 0;
  let token: string | null = null;
  let versions: SupportedVersions | undefined;
  let caps: Capabilities | undefined;
  let cached: CachedIndexInfo | null = null;
  let build: string | null = null;
  let seen = 0;
  for (let i = 0; i < n; i++) {
    const k = entryKey(r, HELLO_KEYS, HELLO_NAMES, i, seen);
    if (k < 0) continue;
    seen |= 1 << k;
    switch (k) {
      case 0:
        shard = r.u32("shard_id");
        break;
      case 1:
        token = r.optText("auth_token");
        break;
      case 2:
        versions = supportedVersions(r);
        break;
      case 3:
        caps = capabilities(r, "capabilities");
        break;
      case 4:
        cached = r.nullNext() ? null : cachedIndexInfo(r);
        break;
      default:
        build = r.optText("worker_build");
    }
  }
  if (!(seen & 1)) missing("shard_id");
  if (!versions) return missing("supported_versions");
  if (!caps) return missing("capabilities");
  return {
    shard_id: shard,
    auth_token: token,
    supported_versions: versions,
    capabilities: caps,
    cached_index_info: cached,
    worker_build: build,
  };
}

const WELCOME_KEYS = keys(
  "worker_id",
  "shard_id",
  "revision",
  "chosen_version",
  "chosen_capabilities",
);
const WELCOME_NAMES = [
  "worker_id",
  "shard_id",
  "revision",
  "chosen_version",
  "chosen_capabilities",
];
function routerWelcome(r: CborReader): RouterWelcome {
  const n = r.map("RouterWelcome");
  let worker = 0;
  let shard = 0;
  let revision: U64 = 0;
  let version: ProtocolVersion | undefined;
  let caps: Capabilities | undefined;
  let seen = 0;
  for (let i = 0; i < n; i++) {
    const k = entryKey(r, WELCOME_KEYS, WELCOME_NAMES, i, seen);
    if (k < 0) continue;
    seen |= 1 << k;
    switch (k) {
      case 0:
        worker = r.u32("worker_id");
        break;
      case 1:
        shard = r.u32("shard_id");
        break;
      case 2:
        revision = r.u64("revision");
        break;
      case 3:
        version = protocolVersion(r, "chosen_version");
        break;
      default:
        caps = capabilities(r, "chosen_capabilities");
    }
  }
  for (let k = 0; k < 3; k++) if (!(seen & (1 << k))) missing(WELCOME_NAMES[k]);
  if (!version) return missing("chosen_version");
  if (!caps) return missing("chosen_capabilities");
  return {
    worker_id: worker,
    shard_id: shard,
    revision,
    chosen_version: version,
    chosen_capabilities: caps,
  };
}

const REJECT_KEYS = keys("code", "message");
function handshakeReject(r: CborReader): HandshakeReject {
  const n = r.map("HandshakeReject");
  let code: RejectCode | undefined;
  let message: string | undefined;
  for (let i = 0; i < n; i++) {
    const k = r.key(REJECT_KEYS, i);
    if (k === 0) {
      if (code !== undefined) duplicate("code");
      const v = variant(r, REJECT_CODE_NAMES, "code");
      code = v < 0 ? "unknown" : REJECT_CODES[v];
    } else if (k === 1) {
      if (message !== undefined) duplicate("message");
      message = r.text("message");
    } else r.skip();
  }
  if (code === undefined) return missing("code");
  if (message === undefined) return missing("message");
  return { code, message };
}

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
        algo = compression(r, "compression");
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
      return { type: "hello", body: workerHello(r) };
    case 1:
      return { type: "welcome", body: routerWelcome(r) };
    case 2:
      return { type: "reject", body: handshakeReject(r) };
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

const FILE_KEYS = keys("path", "text");
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

const SYMBOL_KEYS = keys("name", "path", "line", "column");
const SYMBOL_NAMES = ["name", "path", "line", "column"];
function symbol(r: CborReader, paths: TextInterner): Symbol {
  const n = r.map("Symbol");
  let name: string | undefined;
  let path: string | undefined;
  let line = 0;
  let column = 0;
  let seen = 0;
  for (let i = 0; i < n; i++) {
    const k = entryKey(r, SYMBOL_KEYS, SYMBOL_NAMES, i, seen);
    if (k < 0) continue;
    seen |= 1 << k;
    switch (k) {
      case 0:
        name = r.text("name");
        break;
      case 1:
        path = paths.text(r, "path");
        break;
      case 2:
        line = r.u32("line");
        break;
      default:
        column = r.u32("column");
    }
  }
  if (name === undefined) return missing("name");
  if (path === undefined) return missing("path");
  return { name, path, line, column };
}

const INDEX_KEYS = keys("shard_id", "revision", "index_generation", "symbols");
const INDEX_NAMES = ["shard_id", "revision", "index_generation", "symbols"];
function shardIndex(r: CborReader): ShardIndex {
  const n = r.map("ShardIndex");
  let shard = 0;
  let revision: U64 = 0;
  let generation: U64 = 0;
  let symbols: Symbol[] | undefined;
  let seen = 0;
  for (let i = 0; i < n; i++) {
    const k = entryKey(r, INDEX_KEYS, INDEX_NAMES, i, seen);
    if (k < 0) continue;
    seen |= 1 << k;
    switch (k) {
      case 0:
        shard = r.u32("shard_id");
        break;
      case 1:
        revision = r.u64("revision");
        break;
      case 2:
        generation = r.u64("index_generation");
        break;
      default: {
        const len = r.array("symbols");
        symbols = new Array(len);
        const paths = new TextInterner();
        for (let j = 0; j < len; j++) symbols[j] = symbol(r, paths);
      }
    }
  }
  for (let k = 0; k < 3; k++) if (!(seen & (1 << k))) missing(INDEX_NAMES[k]);
  if (!symbols) return missing("symbols");
  return {
    shard_id: shard,
    revision,
    index_generation: generation,
    symbols,
  };
}

const STATS_KEYS = keys(
  "shard_id",
  "revision",
  "index_generation",
  "file_count",
);
const STATS_NAMES = ["shard_id", "revision", "index_generation", "file_count"];
function workerStats(r: CborReader): WorkerStats {
  const v = shardCounts(r, "WorkerStats", STATS_KEYS, STATS_NAMES);
  return {
    shard_id: v[0],
    revision: v[1],
    index_generation: v[2],
    file_count: v[3],
  };
}

/**
 * Reads a map of four required fields `shard_id` (u32), `revision` and
 * `index_generation` (u64) and a last u32 (`names[3]`); `what` names the map
 * in errors. Unknown keys are skipped, known ones may not repeat.
 *
 * @example
 * ```ts
 * import { keys, shardCounts } from "./_decode.ts";
 * import { CborReader } from "./_cbor_read.ts";
 * import { CborWriter, keyTable } from "./_cbor_write.ts";
 * const names = ["shard_id", "revision", "index_generation", "n"];
 * const w = new CborWriter();
 * const k = keyTable(names);
 * for (let i = 0; i < 4; i++) { w.raw(k[i]); w.u32(i, names[i]); }
 * const v = shardCounts(new CborReader(w.finish()), "Counts", keys(...names), names);
 * console.assert(v.join() === "0,1,2,3");
 * ```
 */
export function shardCounts(
  r: CborReader,
  what: string,
  table: Keys,
  names: readonly string[],
): [number, U64, U64, number] {
  const n = r.map(what);
  const v: [number, U64, U64, number] = [0, 0, 0, 0];
  let seen = 0;
  for (let i = 0; i < n; i++) {
    const k = entryKey(r, table, names, i, seen);
    if (k < 0) continue;
    seen |= 1 << k;
    v[k] = k === 1 || k === 2 ? r.u64(names[k]) : r.u32(names[k]);
  }
  for (let k = 0; k < 4; k++) if (!(seen & (1 << k))) missing(names[k]);
  return v;
}

const DIAG_KEYS = keys("severity", "line", "column", "message");
const DIAG_NAMES = ["severity", "line", "column", "message"];
function remoteDiagnostic(r: CborReader): RemoteDiagnostic {
  const n = r.map("RemoteDiagnostic");
  let severity: DiagnosticSeverity = "unknown";
  let line = 0;
  let column = 0;
  let message = "";
  let seen = 0;
  for (let i = 0; i < n; i++) {
    const k = entryKey(r, DIAG_KEYS, DIAG_NAMES, i, seen);
    if (k < 0) continue;
    seen |= 1 << k;
    switch (k) {
      case 0: {
        const v = variant(r, SEVERITY_NAMES, "severity");
        severity = v < 0 ? "unknown" : SEVERITIES[v];
        break;
      }
      case 1:
        line = r.u32("line");
        break;
      case 2:
        column = r.u32("column");
        break;
      default:
        message = r.text("message");
    }
  }
  for (let k = 0; k < 4; k++) if (!(seen & (1 << k))) missing(DIAG_NAMES[k]);
  return { severity, line, column, message };
}

const DIAGNOSTICS_BODY_KEYS = keys("diagnostics");
function diagnosticsBody(
  r: CborReader,
): { diagnostics: RemoteDiagnostic[] } {
  const n = r.map("Response::Diagnostics");
  let list: RemoteDiagnostic[] | undefined;
  for (let i = 0; i < n; i++) {
    if (r.key(DIAGNOSTICS_BODY_KEYS, 0) === 0) {
      if (list) duplicate("diagnostics");
      const len = r.array("diagnostics");
      list = new Array(len);
      for (let j = 0; j < len; j++) list[j] = remoteDiagnostic(r);
    } else r.skip();
  }
  if (!list) return missing("diagnostics");
  return { diagnostics: list };
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

const RPC_ERROR_KEYS = keys("code", "message", "retryable", "details");
const RPC_ERROR_NAMES = ["code", "message", "retryable", "details"];
function rpcError(r: CborReader): RpcError {
  const n = r.map("RpcError");
  let code: RpcErrorCode = "unknown";
  let message = "";
  let retryable = false;
  let details: string | null = null;
  let seen = 0;
  for (let i = 0; i < n; i++) {
    const k = entryKey(r, RPC_ERROR_KEYS, RPC_ERROR_NAMES, i, seen);
    if (k < 0) continue;
    seen |= 1 << k;
    switch (k) {
      case 0: {
        const v = variant(r, RPC_ERROR_CODE_NAMES, "code");
        code = v < 0 ? "unknown" : RPC_ERROR_CODES[v];
        break;
      }
      case 1:
        message = r.text("message");
        break;
      case 2:
        retryable = r.bool("retryable");
        break;
      default:
        details = r.optText("details");
    }
  }
  for (let k = 0; k < 3; k++) {
    if (!(seen & (1 << k))) missing(RPC_ERROR_NAMES[k]);
  }
  return { code, message, retryable, details };
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
      return { type: "shard_index", body: shardIndex(r) };
    case 2:
      return { type: "diagnostics", body: diagnosticsBody(r) };
    case 5:
      return { type: "symbol_matches", body: readSymbolMatches(r) };
    case 6:
      return { type: "shard_summary", body: readShardSummary(r) };
    default:
      return { type: "worker_stats", body: workerStats(r) };
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
    else error = rpcError(r);
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
  return { type: "cached_index", body: shardIndex(r) };
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
