/**
 * A minimal CBOR writer that emits exactly what serde_cbor 0.11 emits:
 * definite lengths, shortest-form unsigned integers, UTF-8 text, byte strings.
 * Private to `lib/wire`.
 *
 * @module
 */

import { concatBytes } from "./bytes.ts";

import { LimitExceededError, ProtocolError } from "./errors.ts";
import { MAX_FILE_TEXT_BYTES, MAX_SMALL_STRING_BYTES } from "./limits.ts";
import type { U64 } from "./types.ts";

const TWO_32 = 0x1_0000_0000;
const U64_MAX = 0xffff_ffff_ffff_ffffn;
/** Scratch buffers larger than this are not kept between encodes. */
const KEEP_SCRATCH_BYTES = 8 * 1024 * 1024;

const textEncoder = new TextEncoder();
let scratch = new Uint8Array(8192);

/**
 * Throws the encoder's error.
 *
 * @example
 * ```ts
 * import { encodeFailed } from "./_cbor_write.ts";
 * import { isProtocolError } from "./errors.ts";
 * try {
 *   encodeFailed("bad value");
 * } catch (err) {
 *   console.assert(isProtocolError(err, "encode_failed"));
 * }
 * ```
 */
export function encodeFailed(message: string): never {
  throw new ProtocolError("encode_failed", message);
}

/**
 * The cap a peer's decoder applies to a text field: the most UTF-8 bytes it
 * accepts there, and the snake_case name reported when an encoder meets a
 * longer value.
 */
export interface TextCap {
  /** The limit's name, reported as `LimitExceededError.limit`. */
  readonly limit: string;
  /** The most UTF-8 bytes allowed. */
  readonly max: number;
}

/**
 * The decoder's default text cap (8 MiB, `max_file_text_bytes`): file text and
 * every text field without a smaller cap.
 *
 * @example
 * ```ts
 * import { FILE_TEXT_CAP } from "./_cbor_write.ts";
 * console.assert(FILE_TEXT_CAP.max === 8 * 1024 * 1024);
 * ```
 */
export const FILE_TEXT_CAP: TextCap = Object.freeze({
  limit: "max_file_text_bytes",
  max: MAX_FILE_TEXT_BYTES,
});

/**
 * The cap of paths, names, messages, details, tokens, build strings and
 * queries (16 KiB, `max_small_string_bytes`).
 *
 * @example
 * ```ts
 * import { SMALL_TEXT_CAP } from "./_cbor_write.ts";
 * console.assert(SMALL_TEXT_CAP.limit === "max_small_string_bytes");
 * ```
 */
export const SMALL_TEXT_CAP: TextCap = Object.freeze({
  limit: "max_small_string_bytes",
  max: MAX_SMALL_STRING_BYTES,
});

/** The UTF-8 length TextEncoder gives (a lone surrogate becomes 3 bytes). */
function utf8Length(value: string): number {
  let n = 0;
  const len = value.length;
  for (let i = 0; i < len; i++) {
    const c = value.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (
      c >= 0xd800 && c < 0xdc00 && i + 1 < len &&
      (value.charCodeAt(i + 1) & 0xfc00) === 0xdc00
    ) {
      n += 4;
      i++;
    } else n += 3;
  }
  return n;
}

function textTooLong(cap: TextCap, actual: number): never {
  throw new LimitExceededError(cap.limit, cap.max, actual, {
    code: "encode_failed",
  });
}

/**
 * Writes a CBOR head (major type 0-7, argument up to 2^53 - 1) in its
 * shortest form at `p`; there must be room for 9 bytes.
 *
 * @param buf The buffer.
 * @param p Where to write.
 * @param major The major type.
 * @param value The argument.
 * @returns The position after the head.
 *
 * @example
 * ```ts
 * import { putHead } from "./_cbor_write.ts";
 * const buf = new Uint8Array(9);
 * console.assert(putHead(buf, 0, 4, 500) === 3 && buf[0] === 0x99);
 * ```
 */
export function putHead(
  buf: Uint8Array,
  p: number,
  major: number,
  value: number,
): number {
  const m = major << 5;
  if (value < 24) {
    buf[p++] = m | value;
  } else if (value < 0x100) {
    buf[p++] = m | 24;
    buf[p++] = value;
  } else if (value < 0x10000) {
    buf[p++] = m | 25;
    buf[p++] = value >>> 8;
    buf[p++] = value & 0xff;
  } else if (value < TWO_32) {
    buf[p++] = m | 26;
    buf[p++] = value >>> 24;
    buf[p++] = (value >>> 16) & 0xff;
    buf[p++] = (value >>> 8) & 0xff;
    buf[p++] = value & 0xff;
  } else {
    p = putHead64(buf, p, m | 27, Math.floor(value / TWO_32), value >>> 0);
  }
  return p;
}

/**
 * Writes an initial byte and a 64-bit argument given as two u32 halves
 * (big-endian) at `p`; returns the position after them.
 */
function putHead64(
  buf: Uint8Array,
  p: number,
  initial: number,
  hi: number,
  lo: number,
): number {
  buf[p++] = initial;
  buf[p++] = hi >>> 24;
  buf[p++] = (hi >>> 16) & 0xff;
  buf[p++] = (hi >>> 8) & 0xff;
  buf[p++] = hi & 0xff;
  buf[p++] = lo >>> 24;
  buf[p++] = (lo >>> 16) & 0xff;
  buf[p++] = (lo >>> 8) & 0xff;
  buf[p++] = lo & 0xff;
  return p;
}

/**
 * A growable output buffer. Not re-entrant: one encode runs at a time and the
 * backing scratch buffer is shared between encodes.
 *
 * @example
 * ```ts
 * import { CborWriter } from "./_cbor_write.ts";
 * const w = new CborWriter();
 * w.head(4, 1);
 * w.u64(2n ** 64n - 1n, "id");
 * console.assert(w.finish().length === 10);
 * ```
 */
export class CborWriter {
  buf: Uint8Array;
  pos: number;
  /**
   * The most bytes this writer may hold: growing past it throws a
   * `packet_too_large` {@link LimitExceededError} (limit `max_packet_len`)
   * before anything larger is allocated, so an oversized value costs at
   * most this much memory, never its full size.
   */
  readonly maxBytes: number;

  /**
   * Starts writing at `offset` (bytes before it are left for the caller).
   *
   * @param offset Bytes reserved at the start.
   * @param maxBytes The size bound (default: none).
   */
  constructor(offset = 0, maxBytes = Infinity) {
    this.buf = scratch;
    this.pos = offset;
    this.maxBytes = maxBytes;
  }

  /** Makes room for `n` more bytes. */
  ensure(n: number): void {
    const need = this.pos + n;
    if (need <= this.buf.length) return;
    if (need > this.maxBytes) {
      throw new LimitExceededError("max_packet_len", this.maxBytes, need, {
        code: "packet_too_large",
      });
    }
    let size = this.buf.length * 2;
    while (size < need) size *= 2;
    if (size > this.maxBytes) size = Math.max(need, this.maxBytes);
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.pos));
    this.buf = next;
    if (size <= KEEP_SCRATCH_BYTES) scratch = next;
  }

  /** Copies the written bytes out (the scratch buffer is reused). */
  finish(): Uint8Array {
    return this.buf.slice(0, this.pos);
  }

  /** Writes a head: major type (0-7) and an argument up to 2^53 - 1. */
  head(major: number, value: number): void {
    this.ensure(9);
    this.pos = putHead(this.buf, this.pos, major, value);
  }

  /** Writes a u32 field value. */
  u32(value: number, field: string): void {
    if (
      typeof value !== "number" || !(value >= 0 && value <= 0xffff_ffff) ||
      Math.floor(value) !== value
    ) {
      encodeFailed(`${field} must be an integer in 0..2^32-1`);
    }
    this.head(0, value);
  }

  /** Writes a u64 field value given as a number or a bigint. */
  u64(value: U64, field: string): void {
    if (typeof value === "number") {
      if (!Number.isSafeInteger(value) || value < 0) {
        encodeFailed(
          `${field} must be a non-negative safe integer or a bigint`,
        );
      }
      this.head(0, value);
      return;
    }
    if (typeof value !== "bigint" || value < 0n || value > U64_MAX) {
      encodeFailed(`${field} must be an integer in 0..2^64-1`);
    }
    if (value <= 0x1f_ffff_ffff_ffffn) {
      this.head(0, Number(value));
      return;
    }
    this.ensure(9);
    this.pos = putHead64(
      this.buf,
      this.pos,
      27,
      Number(value >> 32n),
      Number(value & 0xffff_ffffn),
    );
  }

  /** Writes `true` or `false`. */
  bool(value: boolean, field: string): void {
    if (typeof value !== "boolean") encodeFailed(`${field} must be a boolean`);
    this.ensure(1);
    this.buf[this.pos++] = value ? 0xf5 : 0xf4;
  }

  /** Writes `null`. */
  nil(): void {
    this.ensure(1);
    this.buf[this.pos++] = 0xf6;
  }

  /** Writes pre-encoded bytes (keys, constant fragments). */
  raw(bytes: Uint8Array): void {
    const n = bytes.length;
    this.ensure(n);
    const buf = this.buf;
    let p = this.pos;
    if (n < 32) {
      for (let i = 0; i < n; i++) buf[p++] = bytes[i];
    } else {
      buf.set(bytes, p);
      p += n;
    }
    this.pos = p;
  }

  /**
   * Writes a definite text string of at most `cap.max` UTF-8 bytes: the cap
   * the peer's decoder applies to this field (by default the decoder's
   * default, {@link FILE_TEXT_CAP}). A longer value throws a
   * `LimitExceededError` with code `encode_failed`, and `actual` its UTF-8
   * length; the position is left unchanged.
   */
  text(value: string, field: string, cap: TextCap = FILE_TEXT_CAP): void {
    if (typeof value !== "string") encodeFailed(`${field} must be a string`);
    const len = value.length;
    // UTF-8 never takes fewer bytes than UTF-16 code units, so this refuses
    // a hopeless value before allocating room for it; it also covers the
    // ASCII path below, where bytes = units.
    if (len > cap.max) textTooLong(cap, utf8Length(value));
    if (len < 256) {
      // Short strings (names, paths, keys): try a plain ASCII copy with a
      // one- or two-byte head; cheaper than a TextEncoder call.
      const headLen = len < 24 ? 1 : 2;
      this.ensure(len + headLen);
      const buf = this.buf;
      const start = this.pos;
      let p = start + headLen;
      let i = 0;
      for (; i < len; i++) {
        const c = value.charCodeAt(i);
        if (c >= 0x80) break;
        buf[p++] = c;
      }
      if (i === len) {
        if (headLen === 1) {
          buf[start] = 0x60 | len;
        } else {
          buf[start] = 0x78;
          buf[start + 1] = len;
        }
        this.pos = p;
        return;
      }
    }
    this.#textSlow(value, cap);
  }

  #textSlow(value: string, cap: TextCap): void {
    let max = value.length * 3;
    // Near the size bound, reserve the exact length rather than the worst
    // case, so a value that fits is never refused.
    if (this.pos + 5 + max > this.maxBytes) max = utf8Length(value);
    const headLen = max < 24 ? 1 : max < 0x100 ? 2 : max < 0x10000 ? 3 : 5;
    this.ensure(headLen + max);
    const start = this.pos;
    const { written } = textEncoder.encodeInto(
      value,
      this.buf.subarray(start + headLen, start + headLen + max),
    );
    // Pure ASCII text (one byte per UTF-16 unit) cannot hold a lone
    // surrogate, which TextEncoder would silently replace with U+FFFD.
    if (written !== value.length && !value.isWellFormed()) {
      encodeFailed("text contains a lone surrogate (not valid Unicode)");
    }
    if (written > cap.max) textTooLong(cap, written);
    const need = written < 24
      ? 1
      : written < 0x100
      ? 2
      : written < 0x10000
      ? 3
      : 5;
    if (need < headLen) {
      this.buf.copyWithin(
        start + need,
        start + headLen,
        start + headLen + written,
      );
    }
    this.head(3, written);
    this.pos = start + need + written;
  }

  /** Writes a definite byte string. */
  bytes(value: Uint8Array, field: string): void {
    if (!(value instanceof Uint8Array)) {
      encodeFailed(`${field} must be a Uint8Array`);
    }
    const n = value.length;
    this.head(2, n);
    this.ensure(n);
    this.buf.set(value, this.pos);
    this.pos += n;
  }
}

/**
 * Pre-encodes a text string (a key or a constant value) with its head.
 * Only for ASCII text shorter than 256 bytes.
 *
 * @example
 * ```ts
 * import { textBytes } from "./_cbor_write.ts";
 * console.assert(textBytes("type").join() === "100,116,121,112,101");
 * ```
 */
export function textBytes(value: string): Uint8Array {
  const n = value.length;
  const head = n < 24 ? [0x60 | n] : [0x78, n];
  const out = new Uint8Array(head.length + n);
  out.set(head);
  for (let i = 0; i < n; i++) out[head.length + i] = value.charCodeAt(i);
  return out;
}

/**
 * Pre-encodes the keys of a map written in a fixed order: entry `i` is the
 * key `names[i]`, and the first one is preceded by the map head. Fewer than
 * 24 ASCII names only.
 *
 * @example
 * ```ts
 * import { keyTable } from "./_cbor_write.ts";
 * const k = keyTable(["a", "b"]);
 * console.assert(k[0].join() === "162,97,97" && k[1].join() === "97,98");
 * ```
 */
export function keyTable(names: readonly string[]): Uint8Array[] {
  return names.map((k, i) =>
    i === 0 ? concatBytes([[0xa0 | names.length], textBytes(k)]) : textBytes(k)
  );
}
