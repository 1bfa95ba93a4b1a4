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
import { compareSymbols, compareUtf8 } from "./ranking.ts";

const ENCODER = new TextEncoder();
const HIGH_UNITS = /[\ud800-\uffff]/;

function compareSymbolsNative(a: Symbol, b: Symbol): number {
  const an = a.name;
  const bn = b.name;
  if (an !== bn) return an < bn ? -1 : 1;
  const ap = a.path;
  const bp = b.path;
  if (ap !== bp) return ap < bp ? -1 : 1;
  return a.line - b.line || a.column - b.column;
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
    const sorted = symbols.slice();
    // JavaScript's `<` agrees with byte order unless a string holds a code
    // unit >= 0xD800; use the native comparison when none does.
    const native = sorted.every((s) =>
      !HIGH_UNITS.test(s.name) && !HIGH_UNITS.test(s.path)
    );
    sorted.sort(native ? compareSymbolsNative : compareSymbols);
    let w = 0;
    for (let r = 0; r < sorted.length; r++) {
      const s = sorted[r];
      if (dedupe && w > 0) {
        const p = sorted[w - 1];
        if (p.name === s.name && p.path === s.path) continue;
      }
      sorted[w++] = s;
    }
    sorted.length = w;
    this.#symbols = sorted;
    // Names as UTF-8, back to back.
    let cap = 0;
    for (const s of sorted) cap += s.name.length;
    let buf = new Uint8Array(cap + 16);
    const off = new Uint32Array(w + 1);
    let pos = 0;
    for (let i = 0; i < w; i++) {
      const name = sorted[i].name;
      if (buf.length - pos < name.length * 3) {
        const grown = new Uint8Array(Math.max(buf.length * 2, pos + name.length * 3));
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
