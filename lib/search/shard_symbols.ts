/**
 * The immutable search structures of one shard's symbol list: symbols in
 * index order, their names as one UTF-8 buffer, trigram postings, and
 * prefix-range lookup (which also yields the reference's first-byte buckets,
 * because names in index order that share a byte prefix are contiguous).
 *
 * A {@link ShardSymbols} is built once per arriving shard index and never
 * changes, so it can be swapped into a `SymbolIndex` atomically.
 *
 * @example
 * ```ts
 * import { ShardSymbols } from "./shard_symbols.ts";
 * const shard = new ShardSymbols(0, [
 *   { name: "foo", path: "B.java", line: 0, column: 0 },
 *   { name: "Foo", path: "A.java", line: 0, column: 0 },
 * ]);
 * console.assert(shard.size === 2 && shard.symbolAt(0).name === "Foo");
 * ```
 *
 * @module
 */

import type { Symbol } from "../wire/types.ts";
import { foldByte, TrigramIndex } from "./fuzzy.ts";
import { compareUtf8 } from "./ranking.ts";

const ENCODER = new TextEncoder();
/** JavaScript's `<` agrees with byte order for strings without these units. */
const HIGH_UNITS = /[\ud800-\uffff]/;
/** Name bytes packed into the numeric sort key (257^6 < 2^53). */
const KEY_BYTES = 6;

/** UTF-8 encodes every name back to back; returns the buffer and offsets. */
function encodeNames(symbols: readonly Symbol[]): [Uint8Array, Uint32Array] {
  const n = symbols.length;
  let cap = 16;
  for (let i = 0; i < n; i++) cap += symbols[i].name.length;
  let buf = new Uint8Array(cap);
  const off = new Uint32Array(n + 1);
  let pos = 0;
  for (let i = 0; i < n; i++) {
    const name = symbols[i].name;
    if (buf.length - pos < name.length * 3) {
      const grown = new Uint8Array(
        Math.max(buf.length * 2, pos + name.length * 3),
      );
      grown.set(buf.subarray(0, pos));
      buf = grown;
    }
    let ascii = true;
    for (let k = 0; k < name.length; k++) {
      const c = name.charCodeAt(k);
      if (c >= 0x80) {
        ascii = false;
        break;
      }
      buf[pos + k] = c;
    }
    if (ascii) pos += name.length;
    else pos += ENCODER.encodeInto(name, buf.subarray(pos)).written;
    off[i + 1] = pos;
  }
  return [buf, off];
}

/** Options for {@link ShardSymbols}. */
export interface ShardSymbolsOptions {
  /**
   * Keep only the first symbol of each `(name, path)` in index order (the
   * reference router's rebuild). `false` keeps every symbol, like the
   * reference's raw search structure that its unit tests build directly.
   * @default {true}
   */
  dedupe?: boolean;
}

/** A half-open id range `[lo, hi)`. */
export type IdRange = [lo: number, hi: number];

/**
 * One shard's symbols prepared for search. Construction sorts the symbols in
 * index order `(name, path, line, column)` and keeps only the first symbol of
 * each `(name, path)` (reference incremental rebuild).
 *
 * @example Prefix ranges are case-insensitive
 * ```ts
 * import { ShardSymbols } from "./shard_symbols.ts";
 * const s = (name: string) => ({ name, path: "A.java", line: 0, column: 0 });
 * const shard = new ShardSymbols(3, [s("HashMap"), s("hash"), s("Vector")]);
 * const ranges = shard.prefixRanges(new TextEncoder().encode("ha"));
 * console.assert(ranges.reduce((n, [lo, hi]) => n + hi - lo, 0) === 2);
 * ```
 */
export class ShardSymbols {
  /** The shard id. */
  readonly shardId: number;
  #symbols: Symbol[];
  #nameBuf: Uint8Array;
  #nameOff: Uint32Array;
  #trigrams: TrigramIndex;
  #paths: string[] | undefined;
  #byPath: Map<string, number[]> | undefined;

  /**
   * Builds the structures for one shard.
   *
   * @param shardId The shard id (a u32).
   * @param symbols The shard's symbols in any order; not mutated.
   * @param options Deduplication switch.
   * @throws {RangeError} When `shardId` is not a u32.
   */
  constructor(
    shardId: number,
    symbols: readonly Symbol[],
    options?: ShardSymbolsOptions,
  ) {
    const dedupe = options?.dedupe ?? true;
    if (!Number.isInteger(shardId) || shardId < 0 || shardId > 0xffffffff) {
      throw new RangeError(`shard id must be a u32, got ${shardId}`);
    }
    this.shardId = shardId;
    const n = symbols.length;
    const [buf0, off0] = encodeNames(symbols);
    // Sort ids by a numeric key holding the first 6 name bytes (exact order
    // for those bytes, shorter names first), then the rest of the name bytes,
    // the path (byte-wise), line and column.
    const keys = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      const s0 = off0[i];
      const e0 = off0[i + 1];
      let k = 0;
      for (let d = 0; d < KEY_BYTES; d++) {
        k = k * 257 + (s0 + d < e0 ? buf0[s0 + d] + 1 : 0);
      }
      keys[i] = k;
    }
    const nativePaths = symbols.every((s) => !HIGH_UNITS.test(s.path));
    const order: number[] = new Array(n);
    for (let i = 0; i < n; i++) order[i] = i;
    order.sort((x, y) => {
      const kd = keys[x] - keys[y];
      if (kd !== 0) return kd;
      let i = off0[x] + KEY_BYTES;
      let j = off0[y] + KEY_BYTES;
      const ie = off0[x + 1];
      const je = off0[y + 1];
      while (i < ie && j < je) {
        const d = buf0[i++] - buf0[j++];
        if (d !== 0) return d;
      }
      if (ie - i !== je - j) return (ie - i) - (je - j);
      const a = symbols[x];
      const b = symbols[y];
      if (a.path !== b.path) {
        if (!nativePaths) return compareUtf8(a.path, b.path);
        return a.path < b.path ? -1 : 1;
      }
      return a.line - b.line || a.column - b.column;
    });
    const sorted: Symbol[] = [];
    for (let r = 0; r < n; r++) {
      const s = symbols[order[r]];
      if (dedupe && sorted.length > 0) {
        const p = sorted[sorted.length - 1];
        if (p.name === s.name && p.path === s.path) continue;
      }
      order[sorted.length] = order[r];
      sorted.push(s);
    }
    const w = sorted.length;
    this.#symbols = sorted;
    // Names as UTF-8, back to back, in index order.
    const buf = new Uint8Array(buf0.length);
    const off = new Uint32Array(w + 1);
    let pos = 0;
    for (let i = 0; i < w; i++) {
      const id = order[i];
      buf.set(buf0.subarray(off0[id], off0[id + 1]), pos);
      pos += off0[id + 1] - off0[id];
      off[i + 1] = pos;
    }
    this.#nameBuf = buf.subarray(0, pos);
    this.#nameOff = off;
    this.#trigrams = new TrigramIndex(this.#nameBuf, off);
  }

  /** Number of symbols after dedup. */
  get size(): number {
    return this.#symbols.length;
  }

  /** The symbols in index order (do not mutate). */
  get symbols(): readonly Symbol[] {
    return this.#symbols;
  }

  /**
   * The symbol with a given id (its position in index order).
   *
   * @param id A symbol id.
   * @returns The symbol.
   */
  symbolAt(id: number): Symbol {
    return this.#symbols[id];
  }

  /** All names as UTF-8, back to back (do not mutate). */
  get nameBuffer(): Uint8Array {
    return this.#nameBuf;
  }

  /** `size + 1` offsets of the names in {@link nameBuffer}. */
  get nameOffsets(): Uint32Array {
    return this.#nameOff;
  }

  /**
   * UTF-8 byte length of a symbol's name.
   *
   * @param id A symbol id.
   * @returns The byte length.
   */
  nameLength(id: number): number {
    return this.#nameOff[id + 1] - this.#nameOff[id];
  }

  /** Trigram postings over the names. */
  get trigrams(): TrigramIndex {
    return this.#trigrams;
  }

  /** Distinct paths of the shard's symbols, in first-seen order. */
  get paths(): readonly string[] {
    if (this.#paths === undefined) {
      const set = new Set<string>();
      for (const s of this.#symbols) set.add(s.path);
      this.#paths = [...set];
    }
    return this.#paths;
  }

  /**
   * Ids of the symbols with a given path, ascending.
   *
   * @param path A path.
   * @returns The ids (empty when the path is absent).
   */
  idsWithPath(path: string): readonly number[] {
    if (this.#byPath === undefined) {
      const map = new Map<string, number[]>();
      this.#symbols.forEach((s, id) => {
        const list = map.get(s.path);
        if (list === undefined) map.set(s.path, [id]);
        else list.push(id);
      });
      this.#byPath = map;
    }
    return this.#byPath.get(path) ?? [];
  }

  /**
   * Compares the names of two symbols byte-wise (possibly across shards).
   *
   * @param id A symbol id in this shard.
   * @param other Another shard.
   * @param otherId A symbol id in `other`.
   * @returns Negative, zero or positive.
   */
  compareNames(id: number, other: ShardSymbols, otherId: number): number {
    const a = this.#nameBuf;
    const b = other.#nameBuf;
    let i = this.#nameOff[id];
    const ie = this.#nameOff[id + 1];
    let j = other.#nameOff[otherId];
    const je = other.#nameOff[otherId + 1];
    while (i < ie && j < je) {
      const d = a[i++] - b[j++];
      if (d !== 0) return d;
    }
    return (ie - i) - (je - j);
  }

  /**
   * Compares two symbols' paths byte-wise (possibly across shards).
   *
   * @param id A symbol id in this shard.
   * @param other Another shard.
   * @param otherId A symbol id in `other`.
   * @returns Negative, zero or positive.
   */
  comparePaths(id: number, other: ShardSymbols, otherId: number): number {
    return compareUtf8(this.#symbols[id].path, other.#symbols[otherId].path);
  }

  /**
   * The id ranges of names whose first `folded.length` bytes equal `folded`
   * after ASCII case folding (at most one range per case variant present).
   *
   * @param folded ASCII-folded UTF-8 prefix bytes.
   * @returns Disjoint ranges; `[[0, size]]` for an empty prefix.
   */
  prefixRanges(folded: Uint8Array): IdRange[] {
    let ranges: IdRange[] = [[0, this.#symbols.length]];
    for (let d = 0; d < folded.length && ranges.length > 0; d++) {
      const f = folded[d];
      const next: IdRange[] = [];
      for (const [lo, hi] of ranges) {
        if (f >= 0x61 && f <= 0x7a) this.#narrow(lo, hi, d, f - 0x20, next);
        this.#narrow(lo, hi, d, f, next);
      }
      ranges = next;
    }
    return ranges;
  }

  /** Number of names with the case-insensitive byte prefix `folded`. */
  prefixCount(folded: Uint8Array): number {
    let n = 0;
    for (const [lo, hi] of this.prefixRanges(folded)) n += hi - lo;
    return n;
  }

  /**
   * Whether the first-byte bucket of the ASCII-folded byte is non-empty.
   *
   * @param foldedFirst The folded first byte of a query.
   * @returns True when some name starts with that byte, case-insensitively.
   */
  hasBucket(foldedFirst: number): boolean {
    return this.prefixRanges(Uint8Array.of(foldByte(foldedFirst))).length > 0;
  }

  /** Within [lo, hi) whose names share `d` bytes, the sub-range with byte `b` at `d`. */
  #narrow(lo: number, hi: number, d: number, b: number, out: IdRange[]): void {
    const buf = this.#nameBuf;
    const off = this.#nameOff;
    const at = (id: number) => {
      const p = off[id] + d;
      return p < off[id + 1] ? buf[p] : -1;
    };
    let a = lo;
    let z = hi;
    while (a < z) {
      const mid = (a + z) >>> 1;
      if (at(mid) < b) a = mid + 1;
      else z = mid;
    }
    const start = a;
    z = hi;
    while (a < z) {
      const mid = (a + z) >>> 1;
      if (at(mid) <= b) a = mid + 1;
      else z = mid;
    }
    if (a > start) out.push([start, a]);
  }
}
