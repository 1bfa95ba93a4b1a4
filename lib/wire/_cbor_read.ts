/**
 * A schema-directed CBOR reader. It assumes the preflight validator already
 * accepted the whole buffer (well-formed, no truncation, lengths and depth in
 * range, keys are short definite UTF-8 text), so it only checks what the
 * schema requires. Private to `lib/wire`.
 *
 * @module
 */

import { ProtocolError } from "./errors.ts";
import type { U64 } from "./types.ts";

const TWO_32 = 0x1_0000_0000;
const utf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/**
 * Throws a `schema_mismatch` error caused by the peer.
 *
 * @example
 * ```ts
 * import { schemaMismatch } from "./_cbor_read.ts";
 * import { isProtocolError } from "./errors.ts";
 * try {
 *   schemaMismatch("expected a map");
 * } catch (err) {
 *   console.assert(isProtocolError(err, "schema_mismatch"));
 * }
 * ```
 */
export function schemaMismatch(message: string): never {
  throw new ProtocolError("schema_mismatch", message, { remote: true });
}

/**
 * Throws a `cbor_invalid` error caused by the peer.
 *
 * @example
 * ```ts
 * import { cborInvalid } from "./_cbor_read.ts";
 * import { isProtocolError } from "./errors.ts";
 * try {
 *   cborInvalid("bad UTF-8");
 * } catch (err) {
 *   console.assert(isProtocolError(err, "cbor_invalid"));
 * }
 * ```
 */
export function cborInvalid(message: string): never {
  throw new ProtocolError("cbor_invalid", message, { remote: true });
}

function outOfRange(field: string, what: string): never {
  throw new ProtocolError(
    "integer_out_of_range",
    `${field}: integer out of range, expected ${what}`,
    { remote: true },
  );
}

/**
 * True when `buf[start..end)` is valid UTF-8 (no overlongs, no surrogates,
 * nothing above U+10FFFF). Does not allocate.
 *
 * @example
 * ```ts
 * import { isValidUtf8 } from "./_cbor_read.ts";
 * const bytes = new Uint8Array([0x61, 0xc3, 0xa9, 0xff]);
 * console.assert(isValidUtf8(bytes, 0, 3) && !isValidUtf8(bytes, 0, 4));
 * ```
 */
export function isValidUtf8(
  buf: Uint8Array,
  start: number,
  end: number,
): boolean {
  let i = start;
  while (i < end) {
    const b = buf[i];
    if (b < 0x80) {
      i++;
      continue;
    }
    if (b >= 0xc2 && b <= 0xdf) {
      if (i + 1 >= end || (buf[i + 1] & 0xc0) !== 0x80) return false;
      i += 2;
    } else if (b >= 0xe0 && b <= 0xef) {
      if (i + 2 >= end) return false;
      const b1 = buf[i + 1];
      if ((b1 & 0xc0) !== 0x80 || (buf[i + 2] & 0xc0) !== 0x80) return false;
      if (b === 0xe0 && b1 < 0xa0) return false; // overlong
      if (b === 0xed && b1 > 0x9f) return false; // surrogate
      i += 3;
    } else if (b >= 0xf0 && b <= 0xf4) {
      if (i + 3 >= end) return false;
      const b1 = buf[i + 1];
      if (
        (b1 & 0xc0) !== 0x80 || (buf[i + 2] & 0xc0) !== 0x80 ||
        (buf[i + 3] & 0xc0) !== 0x80
      ) return false;
      if (b === 0xf0 && b1 < 0x90) return false; // overlong
      if (b === 0xf4 && b1 > 0x8f) return false; // above U+10FFFF
      i += 4;
    } else {
      return false;
    }
  }
  return true;
}

const lenient = new TextDecoder("utf-8", { ignoreBOM: true });
const fromCharCode = String.fromCharCode;

/** One reusable argument array per short length, for `fromCharCode.apply`. */
const charArrays: number[][] = Array.from(
  { length: 65 },
  (_, n) => new Array<number>(n).fill(0),
);

/**
 * Builds a string from at most 64 ASCII bytes with a single
 * `fromCharCode` call (no intermediate strings or typed-array views).
 */
function asciiString(buf: Uint8Array, start: number, end: number): string {
  const chars = charArrays[end - start];
  const n = end - start;
  for (let k = 0; k < n; k++) chars[k] = buf[start + k];
  return fromCharCode.apply(null, chars);
}

/**
 * Decodes UTF-8 bytes to a string; invalid UTF-8 is a `cbor_invalid` error.
 * Short ASCII strings are built directly. Longer strings use the lenient
 * decoder (much faster than the fatal one) and only fall back to the fatal
 * decoder when the result contains U+FFFD, which every invalid sequence
 * produces.
 *
 * @example
 * ```ts
 * import { decodeUtf8 } from "./_cbor_read.ts";
 * console.assert(decodeUtf8(new Uint8Array([0x61, 0xc3, 0xa9]), 0, 3) === "aé");
 * ```
 */
export function decodeUtf8(
  buf: Uint8Array,
  start: number,
  end: number,
): string {
  if (end - start <= 64) {
    let or = 0;
    for (let i = start; i < end; i++) or |= buf[i];
    if (or < 0x80) return asciiString(buf, start, end);
  }
  const bytes = buf.subarray(start, end);
  const text = lenient.decode(bytes);
  if (text.indexOf("\uFFFD") >= 0) {
    try {
      utf8.decode(bytes);
    } catch {
      return cborInvalid("invalid UTF-8 in text string");
    }
  }
  return text;
}

/** Trailing bytes of a text that {@link TextInterner} hashes. */
const INTERN_HASH_BYTES = 24;

/**
 * Decodes repeated texts of one input once: a text whose bytes equal an
 * earlier one's (same input buffer) gets the earlier string back. For the
 * paths of a symbol list, where every symbol of a file repeats its path:
 * one string per file instead of one per symbol, and hashing it later (a
 * `Set` of paths) happens once. A text is hashed (FNV-1a over its length and
 * last {@link INTERN_HASH_BYTES} bytes) and compared with the earlier text of
 * that hash; texts whose hash is taken by another text are decoded as usual.
 *
 * @example
 * ```ts
 * import { CborReader, TextInterner } from "./_cbor_read.ts";
 * // [ "a/B.java", "a/B.java" ]
 * const path = [0x68, ...new TextEncoder().encode("a/B.java")];
 * const r = new CborReader(new Uint8Array([0x82, ...path, ...path]));
 * const interner = new TextInterner();
 * r.array("paths");
 * const first = interner.text(r, "path");
 * console.assert(interner.text(r, "path") === first && first === "a/B.java");
 * ```
 */
export class TextInterner {
  #seen = new Map<number, { start: number; end: number; value: string }>();

  /**
   * Reads a definite text string, reusing the string of an earlier equal
   * text read through this interner from the same buffer.
   *
   * @param r The reader (positioned at the text).
   * @param field The field name, for errors.
   * @returns The string.
   */
  text(r: CborReader, field: string): string {
    const start = r.textStart(field);
    const end = r.pos;
    const buf = r.buf;
    // Paths tend to differ near their end (the file name): hashing the
    // last bytes is enough to tell them apart, and equal texts always agree.
    let h = 0x811c9dc5 ^ (end - start);
    for (let i = Math.max(start, end - INTERN_HASH_BYTES); i < end; i++) {
      h = Math.imul(h ^ buf[i], 0x01000193);
    }
    const hit = this.#seen.get(h);
    if (hit !== undefined && hit.end - hit.start === end - start) {
      let i = start;
      let j = hit.start;
      while (i < end && buf[i] === buf[j]) {
        i++;
        j++;
      }
      if (i === end) return hit.value;
    }
    const value = decodeUtf8(buf, start, end);
    if (hit === undefined) this.#seen.set(h, { start, end, value });
    return value;
  }
}

/** The shared batch buffer is not kept between decodes above this size. */
const KEEP_BATCH_BYTES = 8 * 1024 * 1024;
let batchBuf = new Uint8Array(64 * 1024);

/**
 * Decodes many text ranges of `buf` with one decoder call, for lists of
 * strings (file texts, symbol names). `ranges` holds `start, end` pairs.
 * Returns the concatenation of all ranges when every byte is ASCII (so
 * each range is a plain slice of the result at the same byte offsets), or
 * `undefined` otherwise; the caller then decodes strictly, string by
 * string, so invalid UTF-8 is still reported. One call instead of one per
 * string saves the decoder's per-call overhead; the slices share the
 * result's storage.
 *
 * @example
 * ```ts
 * import { decodeAsciiRanges } from "./_cbor_read.ts";
 * const buf = new Uint8Array([0x61, 0x62, 0xff, 0x63, 0xc3, 0xa9]);
 * console.assert(decodeAsciiRanges(buf, [0, 2, 3, 4]) === "abc");
 * console.assert(decodeAsciiRanges(buf, [0, 2, 4, 6]) === undefined);
 * ```
 */
export function decodeAsciiRanges(
  buf: Uint8Array,
  ranges: readonly number[],
): string | undefined {
  const n = ranges.length;
  let total = 0;
  for (let i = 0; i < n; i += 2) total += ranges[i + 1] - ranges[i];
  let out = batchBuf;
  if (out.length < total) {
    let size = out.length * 2;
    while (size < total) size *= 2;
    out = new Uint8Array(size);
    if (size <= KEEP_BATCH_BYTES) batchBuf = out;
  }
  let p = 0;
  for (let i = 0; i < n; i += 2) {
    const start = ranges[i];
    const end = ranges[i + 1];
    if (end - start < 48) {
      for (let k = start; k < end; k++) out[p++] = buf[k];
    } else {
      out.set(buf.subarray(start, end), p);
      p += end - start;
    }
  }
  const text = lenient.decode(out.subarray(0, total));
  // Every valid multi-byte sequence shortens the result and every invalid
  // one yields U+FFFD, so equal lengths without U+FFFD mean pure ASCII.
  if (text.length !== total || text.indexOf("\uFFFD") >= 0) return undefined;
  return text;
}

/**
 * Reads one schema-known CBOR document.
 *
 * @example
 * ```ts
 * import { CborReader } from "./_cbor_read.ts";
 * const r = new CborReader(new Uint8Array([0x82, 0x01, 0x61, 0x78]));
 * console.assert(r.array("list") === 2 && r.u32("n") === 1 && r.text("s") === "x");
 * ```
 */
export class CborReader {
  readonly buf: Uint8Array;
  pos: number;

  constructor(buf: Uint8Array) {
    this.buf = buf;
    this.pos = 0;
  }

  /** The initial byte of the next item (not consumed). */
  peek(): number {
    return this.buf[this.pos];
  }

  /** Reads the argument of a head whose initial byte was consumed. */
  arg(ai: number): number {
    const buf = this.buf;
    let p = this.pos;
    let v: number;
    if (ai < 24) return ai;
    if (ai === 24) {
      v = buf[p++];
    } else if (ai === 25) {
      v = (buf[p] << 8) | buf[p + 1];
      p += 2;
    } else if (ai === 26) {
      v = ((buf[p] << 24) >>> 0) + ((buf[p + 1] << 16) | (buf[p + 2] << 8) |
        buf[p + 3]);
      p += 4;
    } else {
      const hi = ((buf[p] << 24) >>> 0) +
        ((buf[p + 1] << 16) | (buf[p + 2] << 8) | buf[p + 3]);
      const lo = ((buf[p + 4] << 24) >>> 0) +
        ((buf[p + 5] << 16) | (buf[p + 6] << 8) | buf[p + 7]);
      v = hi * TWO_32 + lo; // inexact above 2^53; only used for lengths
      p += 8;
    }
    this.pos = p;
    return v;
  }

  /** Reads a definite map head and returns its pair count. */
  map(field: string): number {
    const ib = this.buf[this.pos];
    if ((ib >> 5) !== 5 || (ib & 31) === 31) {
      return schemaMismatch(`${field}: expected a definite-length map`);
    }
    this.pos++;
    return this.arg(ib & 31);
  }

  /** Reads a definite array head and returns its length. */
  array(field: string): number {
    const ib = this.buf[this.pos];
    if ((ib >> 5) !== 4 || (ib & 31) === 31) {
      return schemaMismatch(`${field}: expected a definite-length array`);
    }
    this.pos++;
    return this.arg(ib & 31);
  }

  /** Reads an unsigned integer that must fit in u32. */
  u32(field: string): number {
    const ib = this.buf[this.pos];
    const major = ib >> 5;
    if (major !== 0) {
      if (major === 1) outOfRange(field, "u32");
      return schemaMismatch(`${field}: expected an unsigned integer`);
    }
    this.pos++;
    const v = this.arg(ib & 31);
    if (v > 0xffff_ffff) outOfRange(field, "u32");
    return v;
  }

  /** Reads an unsigned integer in u64 normal form. */
  u64(field: string): U64 {
    const buf = this.buf;
    const ib = buf[this.pos];
    const major = ib >> 5;
    if (major !== 0) {
      if (major === 1) outOfRange(field, "u64");
      return schemaMismatch(`${field}: expected an unsigned integer`);
    }
    this.pos++;
    const ai = ib & 31;
    if (ai !== 27) return this.arg(ai);
    const p = this.pos;
    const hi = ((buf[p] << 24) >>> 0) +
      ((buf[p + 1] << 16) | (buf[p + 2] << 8) | buf[p + 3]);
    const lo = ((buf[p + 4] << 24) >>> 0) +
      ((buf[p + 5] << 16) | (buf[p + 6] << 8) | buf[p + 7]);
    this.pos = p + 8;
    if (hi < 0x20_0000) return hi * TWO_32 + lo;
    return (BigInt(hi) << 32n) | BigInt(lo);
  }

  /** Reads `true` or `false`. */
  bool(field: string): boolean {
    const ib = this.buf[this.pos];
    if (ib === 0xf5 || ib === 0xf4) {
      this.pos++;
      return ib === 0xf5;
    }
    return schemaMismatch(`${field}: expected a boolean`);
  }

  /** Reads a definite text string. */
  text(field: string): string {
    const start = this.textStart(field);
    return decodeUtf8(this.buf, start, this.pos);
  }

  /**
   * Skips a definite text string without decoding it and returns the
   * offset of its first byte (its end is `pos` afterwards).
   */
  textStart(field: string): number {
    const ib = this.buf[this.pos];
    if ((ib >> 5) !== 3 || (ib & 31) === 31) {
      return schemaMismatch(`${field}: expected a definite text string`);
    }
    this.pos++;
    const len = this.arg(ib & 31);
    const start = this.pos;
    this.pos = start + len;
    return start;
  }

  /** Reads `null` (as `null`) or a definite text string. */
  optText(field: string): string | null {
    if (this.buf[this.pos] === 0xf6) {
      this.pos++;
      return null;
    }
    return this.text(field);
  }

  /**
   * Reads a definite byte string as a view of the input (no copy: a copy
   * costs an allocation per packet and a memcpy of up to 64 MiB).
   */
  bytes(field: string): Uint8Array {
    const ib = this.buf[this.pos];
    if ((ib >> 5) !== 2 || (ib & 31) === 31) {
      return schemaMismatch(`${field}: expected a definite byte string`);
    }
    this.pos++;
    const len = this.arg(ib & 31);
    const start = this.pos;
    this.pos = start + len;
    return this.buf.subarray(start, start + len);
  }

  /** True (and consumed) when the next item is `null`. */
  nullNext(): boolean {
    if (this.buf[this.pos] === 0xf6) {
      this.pos++;
      return true;
    }
    return false;
  }

  /**
   * Reads a map key and returns its index in `keys` (pre-encoded key bytes
   * without head), or -1 for an unknown key. `hint` is tried first.
   */
  key(keys: readonly Uint8Array[], hint: number): number {
    const buf = this.buf;
    const ib = buf[this.pos++];
    const len = this.arg(ib & 31);
    const start = this.pos;
    this.pos = start + len;
    if (hint < keys.length && matches(buf, start, len, keys[hint])) {
      return hint;
    }
    for (let k = 0; k < keys.length; k++) {
      if (k !== hint && matches(buf, start, len, keys[k])) return k;
    }
    return -1;
  }

  /**
   * Skips one item of any type (an ignored value). Rejects what serde_cbor
   * rejects even in ignored values: invalid UTF-8 text and unassigned
   * simple values.
   */
  skip(): void {
    const buf = this.buf;
    const ib = buf[this.pos++];
    const major = ib >> 5;
    const ai = ib & 31;
    switch (major) {
      case 0:
      case 1:
        this.arg(ai);
        return;
      case 2:
      case 3:
        if (ai === 31) {
          while (buf[this.pos] !== 0xff) this.skip();
          this.pos++;
          return;
        } else {
          const len = this.arg(ai);
          const start = this.pos;
          this.pos = start + len;
          if (major === 3 && !isValidUtf8(buf, start, start + len)) {
            cborInvalid("invalid UTF-8 in text string");
          }
          return;
        }
      case 4:
        if (ai === 31) {
          while (buf[this.pos] !== 0xff) this.skip();
          this.pos++;
        } else {
          const n = this.arg(ai);
          for (let i = 0; i < n; i++) this.skip();
        }
        return;
      case 5:
        if (ai === 31) {
          while (buf[this.pos] !== 0xff) {
            this.skip();
            this.skip();
          }
          this.pos++;
        } else {
          const n = this.arg(ai);
          for (let i = 0; i < n; i++) {
            this.skip();
            this.skip();
          }
        }
        return;
      case 6:
        this.arg(ai);
        this.skip();
        return;
      default:
        if (ai >= 20 && ai <= 23) return; // false, true, null, undefined
        if (ai >= 25 && ai <= 27) {
          this.pos += 1 << (ai - 24); // half, single, double float
          return;
        }
        cborInvalid(`unassigned CBOR simple value (initial byte ${ib})`);
    }
  }
}

function matches(
  buf: Uint8Array,
  start: number,
  len: number,
  key: Uint8Array,
): boolean {
  if (key.length !== len) return false;
  for (let i = 0; i < len; i++) {
    if (buf[start + i] !== key[i]) return false;
  }
  return true;
}

/**
 * ASCII bytes of a key (no CBOR head), for {@link CborReader.key}.
 *
 * @example
 * ```ts
 * import { keyBytes } from "./_cbor_read.ts";
 * console.assert(keyBytes("id").join() === "105,100");
 * ```
 */
export function keyBytes(key: string): Uint8Array {
  const out = new Uint8Array(key.length);
  for (let i = 0; i < key.length; i++) out[i] = key.charCodeAt(i);
  return out;
}
