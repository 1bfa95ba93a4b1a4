/**
 * The CBOR preflight validator: walks a whole buffer without allocating and
 * applies the reference's structural limits before any value is decoded.
 *
 * Rules (the reference validator's, exactly):
 * - exactly one top-level item; nothing may follow it;
 * - items sit at depth <= 64 (root 0; children of arrays, maps and tags one deeper);
 * - additional info 28-30 is invalid everywhere; 31 (indefinite) only for
 *   strings, arrays and maps (and the break byte);
 * - definite strings must fit the current text/bytes limit and the remaining bytes;
 *   indefinite strings are made of definite chunks of the same major type;
 * - arrays: length <= the current array limit and length * min item size <=
 *   remaining bytes (indefinite arrays count items instead);
 * - maps: <= 1024 pairs, 2 * pairs <= remaining bytes, keys are definite
 *   text strings of <= 64 bytes of valid UTF-8;
 * - key-driven limits: a map value's limits depend on its key and are
 *   inherited by everything under it (see {@link preflight}).
 *
 * Text values are not checked for UTF-8 here; the decoder does that.
 *
 * @module
 */

import { LimitExceededError, ProtocolError } from "./errors.ts";
import { isValidUtf8 } from "./_cbor_read.ts";
import {
  DEFAULT_PREFLIGHT_LIMITS,
  MAX_COMPRESSION_ALGOS,
  MAX_DIAGNOSTICS_PER_MESSAGE,
  MAX_FILE_TEXT_BYTES,
  MAX_FILES_PER_MESSAGE,
  MAX_MESSAGE_BYTES,
  MAX_SEARCH_RESULTS_PER_MESSAGE,
  MAX_SMALL_STRING_BYTES,
  MAX_SYMBOLS_PER_SHARD_INDEX,
  MAX_TAG_TEXT_BYTES,
  MIN_BYTES_PER_COMPLEX_ARRAY_ITEM,
  type PreflightLimits,
} from "./limits.ts";

const TWO_32 = 0x1_0000_0000;
/** `data` arrays (of u8) may declare up to 64 Mi items. */
const MAX_DATA_ARRAY_LEN = 64 * 1024 * 1024;

function invalid(message: string): never {
  throw new ProtocolError("cbor_invalid", message, { remote: true });
}

function eof(): never {
  throw new ProtocolError("unexpected_eof", "unexpected end of CBOR input", {
    remote: true,
  });
}

function limit(name: string, max: number, actual: number): never {
  throw new LimitExceededError(name, max, actual, { remote: true });
}

// Key codes for the key-driven limits.
const K_OTHER = 0;
const K_COMPLEX_FILES = 1;
const K_COMPLEX_ITEMS = 2;
const K_COMPLEX_DIAGNOSTICS = 3;
const K_COMPLEX_SYMBOLS = 4;
const K_DATA = 5;
const K_SUPPORTED_COMPRESSION = 6;
const K_SMALL_TEXT = 7;
const K_TAG = 8;

function ascii(s: string): number[] {
  return Array.from(s, (c) => c.charCodeAt(0));
}

/** Special keys grouped by length for a quick dispatch. */
const SPECIAL: Map<number, [number[], number][]> = new Map();
for (
  const [key, code] of [
    ["files", K_COMPLEX_FILES],
    ["items", K_COMPLEX_ITEMS],
    ["diagnostics", K_COMPLEX_DIAGNOSTICS],
    ["symbols", K_COMPLEX_SYMBOLS],
    ["data", K_DATA],
    ["supported_compression", K_SUPPORTED_COMPRESSION],
    ["path", K_SMALL_TEXT],
    ["name", K_SMALL_TEXT],
    ["auth_token", K_SMALL_TEXT],
    ["message", K_SMALL_TEXT],
    ["details", K_SMALL_TEXT],
    ["worker_build", K_SMALL_TEXT],
    ["query", K_SMALL_TEXT],
    ["type", K_TAG],
    ["compression", K_TAG],
  ] as const
) {
  const list = SPECIAL.get(key.length) ?? [];
  list.push([ascii(key), code]);
  SPECIAL.set(key.length, list);
}
const SPECIAL_BY_LEN: ([number[], number][] | undefined)[] = [];
for (const [len, list] of SPECIAL) SPECIAL_BY_LEN[len] = list;

function keyCode(buf: Uint8Array, start: number, len: number): number {
  const list = len < SPECIAL_BY_LEN.length ? SPECIAL_BY_LEN[len] : undefined;
  if (list === undefined) return K_OTHER;
  outer: for (let k = 0; k < list.length; k++) {
    const bytes = list[k][0];
    for (let i = 0; i < len; i++) {
      if (buf[start + i] !== bytes[i]) continue outer;
    }
    return list[k][1];
  }
  return K_OTHER;
}

/** Walks one buffer; the current limits are passed down the recursion. */
class Walker {
  readonly buf: Uint8Array;
  readonly end: number;
  readonly maxNesting: number;
  readonly maxMapPairs: number;
  readonly maxKeyBytes: number;
  pos = 0;

  constructor(buf: Uint8Array, limits: Readonly<PreflightLimits>) {
    this.buf = buf;
    this.end = buf.length;
    this.maxNesting = limits.maxNesting;
    this.maxMapPairs = limits.maxMapPairs;
    this.maxKeyBytes = limits.maxKeyBytes;
  }

  /** Reads a head's argument (ai 0-27); ai 28-31 are the caller's problem. */
  arg(ai: number): number {
    if (ai < 24) return ai;
    const buf = this.buf;
    const p = this.pos;
    const size = 1 << (ai - 24);
    if (p + size > this.end) eof();
    this.pos = p + size;
    if (ai === 24) return buf[p];
    if (ai === 25) return (buf[p] << 8) | buf[p + 1];
    const hi = ((buf[p] << 24) >>> 0) +
      ((buf[p + 1] << 16) | (buf[p + 2] << 8) | buf[p + 3]);
    if (ai === 26) return hi;
    const lo = ((buf[p + 4] << 24) >>> 0) +
      ((buf[p + 5] << 16) | (buf[p + 6] << 8) | buf[p + 7]);
    return hi * TWO_32 + lo; // inexact above 2^53, still far above every limit
  }

  /** Reads the argument for a head that needs a definite value. */
  definiteArg(ai: number): number {
    if (ai >= 28) {
      if (ai === 31) invalid("indefinite length is not valid here");
      invalid(`invalid CBOR additional info: ${ai}`);
    }
    return this.arg(ai);
  }

  item(
    depth: number,
    textMax: number,
    bytesMax: number,
    arrayMax: number,
    minItem: number,
  ): void {
    if (depth > this.maxNesting) {
      limit("max_cbor_nesting", this.maxNesting, depth);
    }
    const buf = this.buf;
    if (this.pos >= this.end) eof();
    const ib = buf[this.pos++];
    const major = ib >> 5;
    const ai = ib & 31;
    switch (major) {
      case 0:
      case 1:
        this.definiteArg(ai);
        return;
      case 2:
      case 3: {
        const max = major === 2 ? bytesMax : textMax;
        const name = major === 2 ? "max_bytes_len" : "max_text_len";
        if (ai === 31) {
          this.indefiniteString(major, max, name);
          return;
        }
        const len = this.definiteArg(ai);
        if (len > max) limit(name, max, len);
        if (len > this.end - this.pos) eof();
        this.pos += len;
        return;
      }
      case 4: {
        if (ai === 31) {
          for (let count = 1; !this.atBreak(); count++) {
            if (count > arrayMax) limit("max_array_len", arrayMax, count);
            this.item(depth + 1, textMax, bytesMax, arrayMax, minItem);
          }
          return;
        }
        const len = this.definiteArg(ai);
        if (len > arrayMax) limit("max_array_len", arrayMax, len);
        const remaining = this.end - this.pos;
        if (len * minItem > remaining) {
          limit(
            "array_len_for_remaining_bytes",
            Math.floor(remaining / minItem),
            len,
          );
        }
        for (let i = 0; i < len; i++) {
          this.item(depth + 1, textMax, bytesMax, arrayMax, minItem);
        }
        return;
      }
      case 5: {
        if (ai === 31) {
          for (let count = 1; !this.atBreak(); count++) {
            if (count > this.maxMapPairs) {
              limit("max_map_pairs", this.maxMapPairs, count);
            }
            this.entry(depth, textMax, bytesMax, arrayMax, minItem);
          }
          return;
        }
        const len = this.definiteArg(ai);
        if (len > this.maxMapPairs) {
          limit("max_map_pairs", this.maxMapPairs, len);
        }
        const remaining = this.end - this.pos;
        if (len * 2 > remaining) {
          limit("map_len_for_remaining_bytes", Math.floor(remaining / 2), len);
        }
        for (let i = 0; i < len; i++) {
          this.entry(depth, textMax, bytesMax, arrayMax, minItem);
        }
        return;
      }
      case 6:
        this.definiteArg(ai);
        this.item(depth + 1, textMax, bytesMax, arrayMax, minItem);
        return;
      default:
        if (ai < 24) return;
        if (ai < 28) {
          const size = 1 << (ai - 24);
          if (this.pos + size > this.end) eof();
          this.pos += size;
          return;
        }
        if (ai === 31) invalid("unexpected CBOR break");
        invalid(`invalid CBOR additional info for major type 7: ${ai}`);
    }
  }

  /** Inside an indefinite array or map: consumes the break byte if next. */
  atBreak(): boolean {
    if (this.pos >= this.end) eof();
    if (this.buf[this.pos] !== 0xff) return false;
    this.pos++;
    return true;
  }

  indefiniteString(major: number, max: number, name: string): void {
    const buf = this.buf;
    let total = 0;
    for (;;) {
      if (this.pos >= this.end) eof();
      const ib = buf[this.pos++];
      if (ib === 0xff) return;
      if ((ib >> 5) !== major) {
        invalid(`indefinite string chunk has wrong major type: ${ib >> 5}`);
      }
      const ai = ib & 31;
      if (ai === 31) invalid("nested indefinite strings are not supported");
      const len = this.definiteArg(ai);
      if (len > max) limit(name, max, len);
      total += len;
      if (total > max) limit(name, max, total);
      if (len > this.end - this.pos) eof();
      this.pos += len;
    }
  }

  /** One map entry: a checked key, then its value under key-driven limits. */
  entry(
    depth: number,
    textMax: number,
    bytesMax: number,
    arrayMax: number,
    minItem: number,
  ): void {
    const buf = this.buf;
    if (this.pos >= this.end) eof();
    const ib = buf[this.pos++];
    if ((ib >> 5) !== 3) {
      throw new ProtocolError(
        "schema_mismatch",
        "map key must be a text string",
        { remote: true },
      );
    }
    const ai = ib & 31;
    if (ai === 31) {
      throw new ProtocolError(
        "schema_mismatch",
        "indefinite-length map keys are not supported",
        { remote: true },
      );
    }
    const len = this.definiteArg(ai);
    if (len > this.maxKeyBytes) limit("max_key_bytes", this.maxKeyBytes, len);
    if (len > this.end - this.pos) eof();
    const start = this.pos;
    this.pos += len;
    if (!isValidUtf8(buf, start, start + len)) {
      invalid("map key is not valid UTF-8");
    }
    switch (keyCode(buf, start, len)) {
      case K_OTHER:
        break;
      case K_COMPLEX_FILES:
        arrayMax = MAX_FILES_PER_MESSAGE;
        minItem = MIN_BYTES_PER_COMPLEX_ARRAY_ITEM;
        break;
      case K_COMPLEX_ITEMS:
        arrayMax = MAX_SEARCH_RESULTS_PER_MESSAGE;
        minItem = MIN_BYTES_PER_COMPLEX_ARRAY_ITEM;
        break;
      case K_COMPLEX_DIAGNOSTICS:
        arrayMax = MAX_DIAGNOSTICS_PER_MESSAGE;
        minItem = MIN_BYTES_PER_COMPLEX_ARRAY_ITEM;
        break;
      case K_COMPLEX_SYMBOLS:
        arrayMax = MAX_SYMBOLS_PER_SHARD_INDEX;
        minItem = MIN_BYTES_PER_COMPLEX_ARRAY_ITEM;
        break;
      case K_DATA:
        bytesMax = MAX_MESSAGE_BYTES;
        arrayMax = MAX_DATA_ARRAY_LEN;
        minItem = 1;
        break;
      case K_SUPPORTED_COMPRESSION:
        arrayMax = MAX_COMPRESSION_ALGOS;
        textMax = MAX_SMALL_STRING_BYTES;
        break;
      case K_SMALL_TEXT:
        textMax = MAX_SMALL_STRING_BYTES;
        break;
      case K_TAG:
        textMax = MAX_TAG_TEXT_BYTES;
        break;
    }
    this.item(depth + 1, textMax, bytesMax, arrayMax, minItem);
  }
}

/**
 * Validates that `bytes` holds exactly one CBOR item within the reference's
 * limits, without allocating anything proportional to declared lengths.
 *
 * Key-driven limits (inherited below the key until another special key):
 * `files`/`diagnostics` arrays <= 100 000 and `items` <= 10 000, `symbols`
 * <= 1 000 000, each with >= 8 bytes per declared item; `data` bytes <= 64 MiB,
 * arrays <= 64 Mi with >= 1 byte per item; `supported_compression` arrays
 * <= 32 and text <= 16 KiB; `path`, `name`, `auth_token`, `message`,
 * `details`, `worker_build`, `query` text <= 16 KiB; `type`, `compression`
 * text <= 64 bytes. The starting limits are text <= 8 MiB, bytes <= 64 MiB,
 * arrays <= 1 000 000 with >= 1 byte per item.
 *
 * @param bytes The whole input.
 * @param limits Overrides of the structural limits (see `resolvePreflightLimits`).
 * @throws {ProtocolError} `unexpected_eof`, `trailing_bytes`, `cbor_invalid`,
 * `schema_mismatch` (non-text keys) or `limit_exceeded` (a {@link LimitExceededError}).
 *
 * @example Reject a 4 GiB declared byte string without allocating it
 * ```ts
 * import { preflight } from "./preflight.ts";
 * import { isProtocolError } from "./errors.ts";
 * preflight(new Uint8Array([0xa1, 0x61, 0x78, 0x01])); // {"x": 1}
 * try {
 *   preflight(new Uint8Array([0xa1, 0x64, 0x64, 0x61, 0x74, 0x61, 0x5a, 0xff, 0xff, 0xff, 0xff]));
 *   throw new Error("unreachable");
 * } catch (err) {
 *   console.assert(isProtocolError(err, "limit_exceeded"));
 * }
 * ```
 */
export function preflight(
  bytes: Uint8Array,
  limits: Readonly<PreflightLimits> = DEFAULT_PREFLIGHT_LIMITS,
): void {
  if (bytes.length > limits.maxInputBytes) {
    limit("max_message_bytes", limits.maxInputBytes, bytes.length);
  }
  const walker = new Walker(bytes, limits);
  walker.item(
    0,
    MAX_FILE_TEXT_BYTES,
    MAX_MESSAGE_BYTES,
    MAX_SYMBOLS_PER_SHARD_INDEX,
    1,
  );
  if (walker.pos !== bytes.length) {
    throw new ProtocolError(
      "trailing_bytes",
      `trailing ${bytes.length - walker.pos} bytes after CBOR value`,
      { remote: true },
    );
  }
}
