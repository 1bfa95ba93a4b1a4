/**
 * The shard index cache format: a pure encoder and a strict decoder for the
 * bytes of `<cache-dir>/shard_<id>.bin`.
 *
 * The layout is the reference worker's current one (fixed-width integers,
 * little-endian), so a cache written by either implementation loads in the
 * other:
 *
 * | Offset | Size | Field |
 * |---|---|---|
 * | 0 | 8 | magic, ASCII `NOVASHRD` |
 * | 8 | 4 | cache format version, u32 = 1 |
 * | 12 | 4 | protocol version, u32 = 4 |
 * | 16 | 4 | shard id, u32 |
 * | 20 | 8 | revision, u64 |
 * | 28 | 8 | index generation, u64 |
 * | 36 | 8 | symbol count, u64 |
 * | 44 | ... | per symbol: u64 name length, name UTF-8; u64 path length, path UTF-8; u32 line; u32 column |
 *
 * That reference layout carries no integrity check, so flipped bytes would
 * be served as results. loom writes format version 2 by default: the same
 * layout with version 2 at offset 8, followed by a 40-byte trailer:
 *
 * | Offset | Size | Field |
 * |---|---|---|
 * | end - 40 | 8 | trailer magic, ASCII `LOOMSUM1` |
 * | end - 32 | 32 | SHA-256 of every byte before the trailer |
 *
 * A digest mismatch is the miss reason `corrupt`. The reference layout
 * (format 1) and its two older layouts, a versioned wrapper (u32 1, u64
 * length + crate version `0.1.0`, u32 protocol 4, u64 saved-at millis, then
 * the index) and a bare index (the fields from offset 16 on, without the
 * prefix), are read only when asked to (`acceptReferenceLayout`; otherwise
 * the miss reason is `unverified`) and written only with
 * `layout: "reference"`.
 *
 * @module
 */

import { ERROR_CODES, type ErrorCode, ProtocolError } from "../wire/errors.ts";
import type { ShardIndex, Symbol, U64 } from "../wire/types.ts";
import { sha256 } from "@noble/hashes/sha2.js";
import {
  MAX_MESSAGE_BYTES,
  MAX_SMALL_STRING_BYTES,
  MAX_SYMBOLS_PER_SHARD_INDEX,
} from "../wire/limits.ts";

/** The 8 magic bytes at the start of every cache file (ASCII `NOVASHRD`). */
export const SHARD_CACHE_MAGIC: Uint8Array = new Uint8Array([
  0x4e,
  0x4f,
  0x56,
  0x41,
  0x53,
  0x48,
  0x52,
  0x44,
]);
/** The reference's cache format version (no integrity trailer). */
export const SHARD_CACHE_FORMAT_VERSION = 1;
/** The verified cache format version: format 1 plus a digest trailer. */
export const SHARD_CACHE_VERIFIED_FORMAT_VERSION = 2;
/** The 8 magic bytes that open the trailer (ASCII `LOOMSUM1`). */
export const SHARD_CACHE_TRAILER_MAGIC: Uint8Array = new Uint8Array([
  0x4c,
  0x4f,
  0x4f,
  0x4d,
  0x53,
  0x55,
  0x4d,
  0x31,
]);
/** Size of the verified format's trailer: magic plus a 32-byte digest. */
export const SHARD_CACHE_TRAILER_BYTES = 40;

/**
 * A SHA-256 implementation: the bytes in, 32 bytes out. The default is a
 * pure one; a runtime may inject a native one (same output).
 */
export type ShardCacheDigest = (bytes: Uint8Array) => Uint8Array;

const pureSha256: ShardCacheDigest = (bytes) => sha256(bytes);
/** The legacy protocol version the reference uses as a cache-invalidation knob. */
export const SHARD_CACHE_PROTOCOL_VERSION = 4;
/** Size of the fixed header, up to and including the symbol count. */
export const SHARD_CACHE_HEADER_BYTES = 44;
/** The smallest encoding of one symbol (two empty strings, line, column). */
const MIN_SYMBOL_BYTES = 24;

/** Limits applied when decoding (and encoding) a cache. */
export interface ShardCacheLimits {
  /**
   * Largest accepted cache, in bytes.
   * @default {67108864} (64 MiB)
   */
  readonly maxBytes: number;
  /**
   * Largest accepted symbol count.
   * @default {1000000}
   */
  readonly maxSymbols: number;
  /**
   * Largest accepted name or path, in UTF-8 bytes.
   * @default {16384}
   */
  readonly maxStringBytes: number;
}

/**
 * The default cache limits (the reference's decode limits).
 *
 * @example
 * ```ts
 * import { DEFAULT_SHARD_CACHE_LIMITS } from "./shard_cache.ts";
 * console.assert(DEFAULT_SHARD_CACHE_LIMITS.maxSymbols === 1_000_000);
 * ```
 */
export const DEFAULT_SHARD_CACHE_LIMITS: ShardCacheLimits = Object.freeze({
  maxBytes: MAX_MESSAGE_BYTES,
  maxSymbols: MAX_SYMBOLS_PER_SHARD_INDEX,
  maxStringBytes: MAX_SMALL_STRING_BYTES,
});

/**
 * Fills in and range-checks cache limits.
 *
 * @param overrides Limits to change from the defaults.
 * @returns The complete, frozen limits.
 * @throws {RangeError} When a limit is not a positive safe integer.
 *
 * @example
 * ```ts
 * import { resolveShardCacheLimits } from "./shard_cache.ts";
 * console.assert(resolveShardCacheLimits({ maxSymbols: 10 }).maxSymbols === 10);
 * ```
 */
export function resolveShardCacheLimits(
  overrides?: Partial<ShardCacheLimits>,
): ShardCacheLimits {
  const limits = { ...DEFAULT_SHARD_CACHE_LIMITS, ...overrides };
  for (const [key, value] of Object.entries(limits)) {
    if (!Number.isSafeInteger(value) || value < 1) {
      throw new RangeError(`${key} must be a positive integer, got ${value}`);
    }
  }
  return Object.freeze(limits);
}

/**
 * Why a cache could not be used. The decoder raises the kinds up to
 * `oversize`; `lib/net/shard_cache_file.ts` adds the file-level ones.
 *
 * @example
 * ```ts
 * import { SHARD_CACHE_MISS_REASONS } from "./shard_cache.ts";
 * console.assert(SHARD_CACHE_MISS_REASONS.TRAILING_BYTES === "trailing_bytes");
 * ```
 */
export const SHARD_CACHE_MISS_REASONS = {
  /** Too short for any layout and not starting with `NOVASHRD`. */
  BAD_MAGIC: "bad_magic",
  /** The cache format version is not 1. */
  BAD_FORMAT_VERSION: "bad_format_version",
  /** The protocol version is not 4. */
  BAD_PROTOCOL_VERSION: "bad_protocol_version",
  /** The cache belongs to another shard. */
  WRONG_SHARD_ID: "wrong_shard_id",
  /** The bytes end before the declared content. */
  TRUNCATED: "truncated",
  /** More symbols than `maxSymbols` are declared. */
  TOO_MANY_SYMBOLS: "too_many_symbols",
  /** A name or path is longer than `maxStringBytes`. */
  STRING_TOO_LONG: "string_too_long",
  /** A name or path is not valid UTF-8. */
  INVALID_UTF8: "invalid_utf8",
  /** Bytes remain after the last symbol. */
  TRAILING_BYTES: "trailing_bytes",
  /** The cache is larger than `maxBytes`. */
  OVERSIZE: "oversize",
  /** No cache file exists (file level). */
  MISSING: "missing",
  /** The cache path is a symbolic link; it is deleted (file level). */
  SYMLINK: "symlink",
  /** The cache path is a directory, socket... (file level). */
  NOT_REGULAR_FILE: "not_regular_file",
  /** The file could not be stat'ed or read (file level). */
  IO_ERROR: "io_error",
  /** The integrity trailer is missing or its digest does not match. */
  CORRUPT: "corrupt",
  /** A reference-layout cache (no digest) and reading it was not asked for. */
  UNVERIFIED: "unverified",
  /** The cache directory is writable by group or others (file level). */
  UNSAFE_DIRECTORY: "unsafe_directory",
} as const;

/** A reason from {@link SHARD_CACHE_MISS_REASONS}. */
export type ShardCacheMissReason =
  typeof SHARD_CACHE_MISS_REASONS[keyof typeof SHARD_CACHE_MISS_REASONS];

const REASON_CODES: Record<ShardCacheMissReason, ErrorCode> = {
  bad_magic: ERROR_CODES.SCHEMA_MISMATCH,
  bad_format_version: ERROR_CODES.SCHEMA_MISMATCH,
  bad_protocol_version: ERROR_CODES.SCHEMA_MISMATCH,
  wrong_shard_id: ERROR_CODES.SCHEMA_MISMATCH,
  truncated: ERROR_CODES.UNEXPECTED_EOF,
  too_many_symbols: ERROR_CODES.LIMIT_EXCEEDED,
  string_too_long: ERROR_CODES.LIMIT_EXCEEDED,
  invalid_utf8: ERROR_CODES.SCHEMA_MISMATCH,
  trailing_bytes: ERROR_CODES.TRAILING_BYTES,
  oversize: ERROR_CODES.LIMIT_EXCEEDED,
  missing: ERROR_CODES.IO_ERROR,
  symlink: ERROR_CODES.IO_ERROR,
  not_regular_file: ERROR_CODES.IO_ERROR,
  io_error: ERROR_CODES.IO_ERROR,
  corrupt: ERROR_CODES.SCHEMA_MISMATCH,
  unverified: ERROR_CODES.SCHEMA_MISMATCH,
  unsafe_directory: ERROR_CODES.IO_ERROR,
};

/**
 * A cache that cannot be used: a {@link ProtocolError} whose `reason` says
 * exactly why (the `code` is the generic taxonomy code).
 *
 * @example
 * ```ts
 * import { ShardCacheError } from "./shard_cache.ts";
 * const err = new ShardCacheError("truncated", "cache ends early");
 * console.assert(err.code === "unexpected_eof" && err.reason === "truncated");
 * ```
 */
export class ShardCacheError extends ProtocolError {
  /** The precise miss reason. */
  readonly reason: ShardCacheMissReason;

  /**
   * Creates a cache error.
   *
   * @param reason The miss reason.
   * @param message A human-readable description.
   */
  constructor(reason: ShardCacheMissReason, message: string) {
    super(REASON_CODES[reason], message, { remote: true });
    this.name = "ShardCacheError";
    this.reason = reason;
  }
}

/** Options for {@link decodeShardCache}. */
export interface DecodeShardCacheOptions {
  /** The shard the cache must belong to. */
  shardId: number;
  /** Limits to apply; defaults to {@link DEFAULT_SHARD_CACHE_LIMITS}. */
  limits?: Partial<ShardCacheLimits>;
  /**
   * Also read the reference's layouts, which carry no digest (format 1 and
   * the two older ones). Without it they are a miss (`unverified`).
   * @default {false}
   */
  acceptReferenceLayout?: boolean;
  /** The SHA-256 to check the trailer with (default: a pure one). */
  digest?: ShardCacheDigest;
}

/** Options for {@link encodeShardCache}. */
export interface EncodeShardCacheOptions {
  /** Limits the output must respect; defaults to {@link DEFAULT_SHARD_CACHE_LIMITS}. */
  limits?: Partial<ShardCacheLimits>;
  /**
   * `"verified"` writes format 2 with its digest trailer; `"reference"`
   * writes the reference's format 1, byte for byte, without one.
   * @default {"verified"}
   */
  layout?: "verified" | "reference";
  /** The SHA-256 to sign the trailer with (default: a pure one). */
  digest?: ShardCacheDigest;
}

const MAX_U64 = (1n << 64n) - 1n;
const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

function checkU32(value: number, field: string): void {
  if (!Number.isInteger(value) || value < 0 || value > 0xffff_ffff) {
    throw new RangeError(`${field} must be a u32, got ${value}`);
  }
}

function toBigU64(value: U64, field: string): bigint {
  if (typeof value === "number") {
    if (!Number.isSafeInteger(value) || value < 0) {
      throw new RangeError(`${field} must be a u64, got ${value}`);
    }
    return BigInt(value);
  }
  if (typeof value !== "bigint" || value < 0n || value > MAX_U64) {
    throw new RangeError(`${field} must be a u64, got ${value}`);
  }
  return value;
}

function toU64(value: bigint): U64 {
  return value <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(value) : value;
}

function encodeOverLimit(what: string, max: number, actual: number): never {
  throw new ProtocolError(
    ERROR_CODES.ENCODE_FAILED,
    `shard cache ${what} over limit: ${actual} > ${max}`,
  );
}

/**
 * Encodes a shard index in the cache layout. The symbols are written in the
 * given order (callers pass them sorted, as the worker produces them).
 *
 * @param index The index to encode.
 * @param options Limits the output must respect.
 * @returns The cache bytes (format 2 with its trailer unless
 *   `layout: "reference"`).
 * @throws {RangeError} When a field is not a valid u32/u64.
 * @throws {ProtocolError} `encode_failed` when the index breaks a limit (the
 *   decoder would reject it).
 *
 * @example Round trip
 * ```ts
 * import { decodeShardCache, encodeShardCache } from "./shard_cache.ts";
 * const index = {
 *   shard_id: 3,
 *   revision: 7,
 *   index_generation: 2,
 *   symbols: [{ name: "Foo", path: "/a/Foo.java", line: 1, column: 13 }],
 * };
 * const bytes = encodeShardCache(index);
 * console.assert(bytes.length === 44 + 8 + 3 + 8 + 11 + 8 + 40);
 * console.assert(decodeShardCache(bytes, { shardId: 3 }).symbols[0].column === 13);
 * ```
 */
export function encodeShardCache(
  index: ShardIndex,
  options?: EncodeShardCacheOptions,
): Uint8Array {
  const limits = resolveShardCacheLimits(options?.limits);
  checkU32(index.shard_id, "shard_id");
  const revision = toBigU64(index.revision, "revision");
  const generation = toBigU64(index.index_generation, "index_generation");
  const symbols = index.symbols;
  if (symbols.length > limits.maxSymbols) {
    encodeOverLimit("symbol count", limits.maxSymbols, symbols.length);
  }
  // Paths repeat for every symbol of a file and names across files: encode
  // each distinct string once.
  const strings = new Map<string, Uint8Array>();
  const encodeString = (text: string): Uint8Array => {
    let bytes = strings.get(text);
    if (bytes === undefined) {
      bytes = encoder.encode(text);
      if (bytes.length > limits.maxStringBytes) {
        encodeOverLimit("string", limits.maxStringBytes, bytes.length);
      }
      strings.set(text, bytes);
    }
    return bytes;
  };
  const names: Uint8Array[] = new Array(symbols.length);
  const paths: Uint8Array[] = new Array(symbols.length);
  let total = SHARD_CACHE_HEADER_BYTES;
  for (let i = 0; i < symbols.length; i++) {
    const symbol = symbols[i];
    checkU32(symbol.line, "line");
    checkU32(symbol.column, "column");
    const name = names[i] = encodeString(symbol.name);
    const path = paths[i] = encodeString(symbol.path);
    total += MIN_SYMBOL_BYTES + name.length + path.length;
  }
  const verified = (options?.layout ?? "verified") === "verified";
  const body = total;
  if (verified) total += SHARD_CACHE_TRAILER_BYTES;
  if (total > limits.maxBytes) {
    encodeOverLimit("size", limits.maxBytes, total);
  }
  const out = new Uint8Array(total);
  const view = new DataView(out.buffer);
  out.set(SHARD_CACHE_MAGIC, 0);
  view.setUint32(
    8,
    verified ? SHARD_CACHE_VERIFIED_FORMAT_VERSION : SHARD_CACHE_FORMAT_VERSION,
    true,
  );
  view.setUint32(12, SHARD_CACHE_PROTOCOL_VERSION, true);
  view.setUint32(16, index.shard_id, true);
  view.setBigUint64(20, revision, true);
  view.setBigUint64(28, generation, true);
  view.setBigUint64(36, BigInt(symbols.length), true);
  let at = SHARD_CACHE_HEADER_BYTES;
  for (let i = 0; i < symbols.length; i++) {
    at = writeString(out, view, at, names[i]);
    at = writeString(out, view, at, paths[i]);
    view.setUint32(at, symbols[i].line, true);
    view.setUint32(at + 4, symbols[i].column, true);
    at += 8;
  }
  if (verified) {
    out.set(SHARD_CACHE_TRAILER_MAGIC, body);
    const digest = (options?.digest ?? pureSha256)(out.subarray(0, body));
    out.set(digest.subarray(0, 32), body + 8);
  }
  return out;
}

/** Writes a u64 length (high half left 0) and the bytes; returns the end. */
function writeString(
  out: Uint8Array,
  view: DataView,
  at: number,
  bytes: Uint8Array,
): number {
  const n = bytes.length;
  view.setUint32(at, n, true);
  at += 8;
  if (n > 32) {
    out.set(bytes, at);
  } else {
    // Short strings: a plain loop beats the call overhead of set().
    for (let i = 0; i < n; i++) out[at + i] = bytes[i];
  }
  return at + n;
}

/** Decodes UTF-8, with a fast path for short ASCII strings. */
function decodeText(raw: Uint8Array): string {
  if (raw.length <= 256) {
    let ascii = true;
    for (let i = 0; i < raw.length; i++) {
      if (raw[i] >= 0x80) {
        ascii = false;
        break;
      }
    }
    if (ascii) {
      return String.fromCharCode.apply(null, raw as unknown as number[]);
    }
  }
  return decoder.decode(raw); // throws on invalid UTF-8
}

function fail(reason: ShardCacheMissReason, message: string): never {
  throw new ShardCacheError(reason, message);
}

/**
 * Decodes and validates cache bytes for one shard. Every declared count and
 * length is checked against the limits and the remaining bytes before
 * anything is allocated.
 *
 * @param bytes The whole cache file.
 * @param options The expected shard id and the limits.
 * @returns The cached index (`revision`/`index_generation` in U64 normal form).
 * @throws {ShardCacheError} A `ProtocolError` whose `reason` is one of
 *   `oversize`, `truncated`, `corrupt`, `unverified`, `bad_magic`,
 *   `bad_format_version`,
 *   `bad_protocol_version`, `wrong_shard_id`, `too_many_symbols`,
 *   `string_too_long`, `invalid_utf8`, `trailing_bytes`.
 *
 * @example A cache for another shard is refused
 * ```ts
 * import { decodeShardCache, encodeShardCache, ShardCacheError } from "./shard_cache.ts";
 * const bytes = encodeShardCache({ shard_id: 1, revision: 0, index_generation: 0, symbols: [] });
 * try {
 *   decodeShardCache(bytes, { shardId: 2 });
 *   throw new Error("unreachable");
 * } catch (err) {
 *   console.assert(err instanceof ShardCacheError && err.reason === "wrong_shard_id");
 * }
 * ```
 */
export function decodeShardCache(
  bytes: Uint8Array,
  options: DecodeShardCacheOptions,
): ShardIndex {
  checkU32(options.shardId, "shardId");
  const limits = resolveShardCacheLimits(options.limits);
  if (bytes.length > limits.maxBytes) {
    fail(
      "oversize",
      `shard cache is ${bytes.length} bytes, over the ${limits.maxBytes} byte limit`,
    );
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const magicPrefix = Math.min(bytes.length, SHARD_CACHE_MAGIC.length);
  let magic = true;
  for (let i = 0; i < magicPrefix; i++) {
    if (bytes[i] !== SHARD_CACHE_MAGIC[i]) magic = false;
  }
  if (magic && bytes.length < SHARD_CACHE_HEADER_BYTES) {
    fail(
      "truncated",
      `shard cache header needs ${SHARD_CACHE_HEADER_BYTES} bytes, got ${bytes.length}`,
    );
  }
  const reference = options.acceptReferenceLayout === true;
  if (!magic) {
    if (!reference) refuseUnverified();
    return decodeLegacy(bytes, view, options.shardId, limits);
  }
  const format = view.getUint32(8, true);
  if (format === SHARD_CACHE_FORMAT_VERSION) {
    if (!reference) refuseUnverified();
    checkProtocol(view.getUint32(12, true));
    return decodeIndexAt(bytes, view, 16, options.shardId, limits);
  }
  if (format !== SHARD_CACHE_VERIFIED_FORMAT_VERSION) {
    fail(
      "bad_format_version",
      `unsupported cache format version: expected ${SHARD_CACHE_VERIFIED_FORMAT_VERSION}${
        reference ? ` or ${SHARD_CACHE_FORMAT_VERSION}` : ""
      }, found ${format}`,
    );
  }
  const body = bytes.length - SHARD_CACHE_TRAILER_BYTES;
  if (body < SHARD_CACHE_HEADER_BYTES) {
    fail("truncated", "shard cache ends before its integrity trailer");
  }
  for (let i = 0; i < SHARD_CACHE_TRAILER_MAGIC.length; i++) {
    if (bytes[body + i] !== SHARD_CACHE_TRAILER_MAGIC[i]) {
      fail("corrupt", "shard cache integrity trailer is missing");
    }
  }
  const digest = (options.digest ?? pureSha256)(bytes.subarray(0, body));
  const stored = bytes.subarray(body + 8);
  if (digest.length < 32 || !sameBytes(digest.subarray(0, 32), stored)) {
    fail("corrupt", "shard cache digest does not match its content");
  }
  checkProtocol(view.getUint32(12, true));
  return decodeIndexAt(
    bytes.subarray(0, body),
    view,
    16,
    options.shardId,
    limits,
  );
}

function refuseUnverified(): never {
  fail(
    "unverified",
    "shard cache has the reference layout, which has no integrity digest (not read unless asked to)",
  );
}

/** The crate version a legacy wrapper must name (the reference's `0.1.0`). */
const LEGACY_VERSION = "0.1.0";
/** u32 format, u64 length + version text, u32 protocol, u64 saved-at. */
const LEGACY_WRAPPER_BYTES = 4 + 8 + LEGACY_VERSION.length + 4 + 8;
/** shard id u32, revision u64, generation u64, symbol count u64. */
const INDEX_HEADER_BYTES = 28;

function checkProtocol(protocol: number): void {
  if (protocol !== SHARD_CACHE_PROTOCOL_VERSION) {
    fail(
      "bad_protocol_version",
      `incompatible protocol version: expected ${SHARD_CACHE_PROTOCOL_VERSION}, found ${protocol}`,
    );
  }
}

/**
 * The reference's two older layouts, still accepted: a versioned wrapper
 * (u32 1, the crate version `0.1.0`, u32 protocol 4, u64 saved-at millis,
 * then the index) and a bare index. Both hold the same fixed-width index as
 * the current layout from its shard id on.
 */
function decodeLegacy(
  bytes: Uint8Array,
  view: DataView,
  shardId: number,
  limits: ShardCacheLimits,
): ShardIndex {
  if (bytes.length < INDEX_HEADER_BYTES) {
    fail("bad_magic", "not a shard cache (no NOVASHRD magic)");
  }
  const wrapped = view.getUint32(0, true) === 1 &&
    view.getBigUint64(4, true) === BigInt(LEGACY_VERSION.length) &&
    bytes.length >= LEGACY_WRAPPER_BYTES &&
    LEGACY_VERSION.split("").every((c, i) => bytes[12 + i] === c.charCodeAt(0));
  if (wrapped) {
    checkProtocol(view.getUint32(12 + LEGACY_VERSION.length, true));
    return decodeIndexAt(bytes, view, LEGACY_WRAPPER_BYTES, shardId, limits);
  }
  return decodeIndexAt(bytes, view, 0, shardId, limits);
}

/** Decodes the fixed-width index (shard id first) that starts at `offset`. */
function decodeIndexAt(
  bytes: Uint8Array,
  view: DataView,
  offset: number,
  expectedShard: number,
  limits: ShardCacheLimits,
): ShardIndex {
  if (bytes.length < offset + INDEX_HEADER_BYTES) {
    fail(
      "truncated",
      `shard cache header needs ${
        offset + INDEX_HEADER_BYTES
      } bytes, got ${bytes.length}`,
    );
  }
  // The count is checked before the shard id, as the reference pre-checks.
  const declared = view.getBigUint64(offset + 20, true);
  if (declared > BigInt(limits.maxSymbols)) {
    fail(
      "too_many_symbols",
      `shard cache declares ${declared} symbols, over the ${limits.maxSymbols} limit`,
    );
  }
  const shardId = view.getUint32(offset, true);
  if (shardId !== expectedShard) {
    fail(
      "wrong_shard_id",
      `shard cache is for shard ${shardId}, expected ${expectedShard}`,
    );
  }
  const revision = toU64(view.getBigUint64(offset + 4, true));
  const generation = toU64(view.getBigUint64(offset + 12, true));
  const count = Number(declared);
  let at = offset + INDEX_HEADER_BYTES;
  if (count * MIN_SYMBOL_BYTES > bytes.length - at) {
    fail(
      "truncated",
      `shard cache declares ${count} symbols but has only ${
        bytes.length - at
      } bytes for them`,
    );
  }
  // Consecutive symbols usually share a path: reuse the previous string.
  let lastPathBytes: Uint8Array | undefined;
  let lastPath = "";
  const readString = (field: string, isPath: boolean): string => {
    if (at + 8 > bytes.length) {
      fail("truncated", `shard cache ends inside a ${field} length`);
    }
    const length = view.getBigUint64(at, true);
    if (length > BigInt(limits.maxStringBytes)) {
      fail(
        "string_too_long",
        `shard cache ${field} is ${length} bytes, over the ${limits.maxStringBytes} limit`,
      );
    }
    const start = at + 8;
    const end = start + Number(length);
    if (end > bytes.length) {
      fail("truncated", `shard cache ends inside a ${field}`);
    }
    at = end;
    const raw = bytes.subarray(start, end);
    if (
      isPath && lastPathBytes !== undefined && sameBytes(raw, lastPathBytes)
    ) {
      return lastPath;
    }
    let text: string;
    try {
      text = decodeText(raw);
    } catch {
      fail("invalid_utf8", `shard cache ${field} is not valid UTF-8`);
    }
    if (isPath) {
      lastPathBytes = raw;
      lastPath = text;
    }
    return text;
  };
  const symbols: Symbol[] = new Array(count);
  for (let i = 0; i < count; i++) {
    const name = readString("name", false);
    const path = readString("path", true);
    if (at + 8 > bytes.length) {
      fail("truncated", "shard cache ends inside a symbol position");
    }
    const line = view.getUint32(at, true);
    const column = view.getUint32(at + 4, true);
    at += 8;
    symbols[i] = { name, path, line, column };
  }
  if (at !== bytes.length) {
    fail(
      "trailing_bytes",
      `shard cache has ${bytes.length - at} bytes after the last symbol`,
    );
  }
  return {
    shard_id: shardId,
    revision,
    index_generation: generation,
    symbols,
  };
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) {
    if (a[i] !== b[i]) return false;
  }
  return true;
}

/**
 * The file name of a shard's cache inside the cache directory.
 *
 * @param shardId The shard id (u32).
 * @returns `shard_<id>.bin`.
 * @throws {RangeError} When `shardId` is not a u32.
 *
 * @example
 * ```ts
 * import { shardCacheFileName } from "./shard_cache.ts";
 * console.assert(shardCacheFileName(7) === "shard_7.bin");
 * ```
 */
export function shardCacheFileName(shardId: number): string {
  checkU32(shardId, "shardId");
  return `shard_${shardId}.bin`;
}
