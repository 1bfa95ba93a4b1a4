/**
 * The fuzzy matcher used by workspace symbol search (default ASCII build of
 * the reference): a match decision (prefix or fuzzy subsequence), a scoring
 * dynamic program over UTF-8 bytes, the ranking key, and the trigram
 * candidate filter.
 *
 * Everything works on raw UTF-8 bytes. Case folding is ASCII-only, so
 * non-ASCII bytes must match exactly.
 *
 * @example Rank two candidates
 * ```ts
 * import { compareFuzzyMatches, fuzzyMatch } from "./fuzzy.ts";
 * const a = fuzzyMatch("fb", "FooBar")!;
 * const b = fuzzyMatch("fb", "foobar")!;
 * console.assert(compareFuzzyMatches(a, b) < 0); // FooBar ranks first
 * ```
 *
 * @module
 */

/** The two kinds of match; a prefix match outranks every fuzzy match. */
export const MATCH_KIND = {
  /** The query is a case-insensitive prefix of the candidate. */
  prefix: "prefix",
  /** The query is a case-insensitive subsequence of the candidate. */
  fuzzy: "fuzzy",
} as const;

/** A match kind. */
export type MatchKind = typeof MATCH_KIND[keyof typeof MATCH_KIND];

/** The result of a successful match. */
export interface FuzzyMatch {
  /** Prefix or fuzzy. */
  kind: MatchKind;
  /** The score; higher is better (compare only within the same kind). */
  score: number;
}

/** Prefix matches score `PREFIX_SCORE_BASE - candidate byte length`. */
export const PREFIX_SCORE_BASE = 1_000_000;

/** Internal rank of "no match" returned by {@link FuzzyMatcher.rankBytes}. */
const NO_MATCH = 0;
/** Internal rank of a fuzzy match. */
const RANK_FUZZY = 1;
/** Internal rank of a prefix match. */
const RANK_PREFIX = 2;

/** "Undefined" DP cell: far below any reachable score. */
const NEG = -0x3fffffff;

const ENCODER = new TextEncoder();

/**
 * Returns the rank of a match kind: prefix = 2, fuzzy = 1.
 *
 * @param kind The match kind.
 * @returns 2 for prefix, 1 for fuzzy.
 *
 * @example
 * ```ts
 * import { kindRank } from "./fuzzy.ts";
 * console.assert(kindRank("prefix") === 2 && kindRank("fuzzy") === 1);
 * ```
 */
export function kindRank(kind: MatchKind): 1 | 2 {
  return kind === MATCH_KIND.prefix ? RANK_PREFIX : RANK_FUZZY;
}

/**
 * Orders two matches best first by the reference `rank_key`
 * `(kind rank, score)`, both descending.
 *
 * @param a A match.
 * @param b Another match.
 * @returns Negative when `a` ranks better than `b`, positive when worse, 0 on a tie.
 *
 * @example
 * ```ts
 * import { compareFuzzyMatches } from "./fuzzy.ts";
 * console.assert(compareFuzzyMatches({ kind: "prefix", score: 1 }, { kind: "fuzzy", score: 99 }) < 0);
 * ```
 */
export function compareFuzzyMatches(a: FuzzyMatch, b: FuzzyMatch): number {
  const ra = kindRank(a.kind);
  const rb = kindRank(b.kind);
  if (ra !== rb) return rb - ra;
  return b.score - a.score;
}

/**
 * ASCII case fold of one byte (`A`-`Z` to `a`-`z`; every other byte unchanged).
 *
 * @param byte A byte value.
 * @returns The folded byte.
 *
 * @example
 * ```ts
 * import { foldByte } from "./fuzzy.ts";
 * console.assert(foldByte(0x41) === 0x61 && foldByte(0xc3) === 0xc3);
 * ```
 */
export function foldByte(byte: number): number {
  return byte >= 0x41 && byte <= 0x5a ? byte | 0x20 : byte;
}

/**
 * UTF-8 encodes a string, with a fast path for ASCII.
 *
 * @param text The string.
 * @returns Its UTF-8 bytes.
 *
 * @example
 * ```ts
 * import { utf8Bytes } from "./fuzzy.ts";
 * console.assert(utf8Bytes("é").length === 2);
 * ```
 */
export function utf8Bytes(text: string): Uint8Array {
  const n = text.length;
  for (let i = 0; i < n; i++) {
    if (text.charCodeAt(i) >= 0x80) return ENCODER.encode(text);
  }
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = text.charCodeAt(i);
  return out;
}

function isSeparator(b: number): boolean {
  switch (b) {
    case 0x5f: // _
    case 0x2d: // -
    case 0x20: // space
    case 0x2f: // /
    case 0x5c: // \
    case 0x2e: // .
    case 0x3a: // :
    case 0x3c: // <
    case 0x3e: // >
    case 0x28: // (
    case 0x29: // )
    case 0x5b: // [
    case 0x5d: // ]
      return true;
    default:
      return false;
  }
}

function isLower(b: number): boolean {
  return b >= 0x61 && b <= 0x7a;
}
function isUpper(b: number): boolean {
  return b >= 0x41 && b <= 0x5a;
}
function isDigit(b: number): boolean {
  return b >= 0x30 && b <= 0x39;
}
function isAlpha(b: number): boolean {
  return isLower(b) || isUpper(b);
}

/** Whether candidate byte `cur` (preceded by `prev`) starts a word. */
function isWordStart(prev: number, cur: number): boolean {
  return isSeparator(prev) ||
    (isLower(prev) && isUpper(cur)) ||
    (isAlpha(prev) && isDigit(cur)) ||
    (isDigit(prev) && isAlpha(cur));
}

/**
 * A matcher for one query, reusable across many candidates (it keeps its DP
 * scratch rows). Not safe to share between interleaved calls.
 *
 * @example
 * ```ts
 * import { FuzzyMatcher } from "./fuzzy.ts";
 * const m = new FuzzyMatcher("hm");
 * console.assert(m.match("HashMap")?.score === 45);
 * console.assert(m.match("zz") === undefined);
 * ```
 */
export class FuzzyMatcher {
  #query: string;
  #raw: Uint8Array;
  #fold: Uint8Array;
  #prev: Int32Array = new Int32Array(64);
  #cur: Int32Array = new Int32Array(64);
  #score = 0;

  /**
   * Prepares a query.
   *
   * @param query The query text (any string; empty matches everything).
   */
  constructor(query: string) {
    if (typeof query !== "string") {
      throw new TypeError("query must be a string");
    }
    this.#query = query;
    this.#raw = utf8Bytes(query);
    this.#fold = this.#raw.map(foldByte);
  }

  /** The query text. */
  get query(): string {
    return this.#query;
  }

  /** The query's UTF-8 bytes (do not mutate). */
  get queryBytes(): Uint8Array {
    return this.#raw;
  }

  /** The query's ASCII-folded UTF-8 bytes (do not mutate). */
  get foldedQueryBytes(): Uint8Array {
    return this.#fold;
  }

  /**
   * Matches a candidate string.
   *
   * @param candidate The candidate text.
   * @returns The match, or `undefined` when it does not match.
   */
  match(candidate: string): FuzzyMatch | undefined {
    const bytes = utf8Bytes(candidate);
    return this.matchBytes(bytes, 0, bytes.length);
  }

  /**
   * Matches the candidate held in `bytes[start..end)` (UTF-8).
   *
   * @param bytes A buffer holding the candidate.
   * @param start Start offset (default 0).
   * @param end End offset (default `bytes.length`).
   * @returns The match, or `undefined`.
   */
  matchBytes(
    bytes: Uint8Array,
    start = 0,
    end: number = bytes.length,
  ): FuzzyMatch | undefined {
    const rank = this.rankBytes(bytes, start, end);
    if (rank === NO_MATCH) return undefined;
    return {
      kind: rank === RANK_PREFIX ? MATCH_KIND.prefix : MATCH_KIND.fuzzy,
      score: this.#score,
    };
  }

  /**
   * Allocation-free form of {@link matchBytes} for hot loops: returns 0 (no
   * match), 1 (fuzzy) or 2 (prefix) and leaves the score in {@link lastScore}.
   *
   * @param bytes A buffer holding the candidate.
   * @param start Start offset.
   * @param end End offset.
   * @returns The kind rank, or 0 for no match.
   */
  rankBytes(bytes: Uint8Array, start: number, end: number): 0 | 1 | 2 {
    const q = this.#fold;
    const m = q.length;
    const n = end - start;
    if (m === 0) {
      this.#score = 0;
      return RANK_PREFIX;
    }
    if (m <= n) {
      let i = 0;
      while (i < m && foldByte(bytes[start + i]) === q[i]) i++;
      if (i === m) {
        this.#score = PREFIX_SCORE_BASE - n;
        return RANK_PREFIX;
      }
    } else {
      return NO_MATCH;
    }
    // Cheap greedy subsequence test before the DP.
    let qi = 0;
    for (let j = start; j < end && qi < m; j++) {
      if (foldByte(bytes[j]) === q[qi]) qi++;
    }
    if (qi < m) return NO_MATCH;
    this.#score = this.#dp(bytes, start, n);
    return RANK_FUZZY;
  }

  /** The score of the last successful {@link rankBytes} call. */
  get lastScore(): number {
    return this.#score;
  }

  #dp(c: Uint8Array, base: number, n: number): number {
    const q = this.#fold;
    const raw = this.#raw;
    const m = q.length;
    if (this.#prev.length < n) {
      this.#prev = new Int32Array(n * 2);
      this.#cur = new Int32Array(n * 2);
    }
    let prev = this.#prev;
    let cur = this.#cur;
    // Row 0: bonus minus the leading penalty.
    const q0 = q[0];
    const r0 = raw[0];
    for (let j = 0; j < n; j++) {
      const b = c[base + j];
      if (foldByte(b) !== q0) {
        prev[j] = NEG;
        continue;
      }
      let bonus = 10;
      if (j === 0 || isWordStart(c[base + j - 1], b)) bonus += 15;
      if (b === r0) bonus += 2;
      prev[j] = bonus - j;
    }
    for (let i = 1; i < m; i++) {
      const qi = q[i];
      const ri = raw[i];
      // best = max over k < j of prev[k] + k (gap value is best - j + 1).
      let best = NEG;
      for (let j = 0; j < n; j++) {
        const b = c[base + j];
        let value = NEG;
        if (foldByte(b) === qi && best > NEG) {
          let bonus = 10;
          if (j === 0 || isWordStart(c[base + j - 1], b)) bonus += 15;
          if (b === ri) bonus += 2;
          let from = best - j + 1;
          const p = prev[j - 1];
          if (j > 0 && p > NEG && p + 5 > from) from = p + 5;
          value = bonus + from;
        }
        const pj = prev[j];
        if (pj > NEG && pj + j > best) best = pj + j;
        cur[j] = value;
      }
      const t = prev;
      prev = cur;
      cur = t;
    }
    let result = NEG;
    for (let j = 0; j < n; j++) {
      const v = prev[j];
      if (v > NEG) {
        const s = v - (n - 1 - j);
        if (s > result) result = s;
      }
    }
    return result;
  }
}

/**
 * Matches one query against one candidate (reference `fuzzy_match`).
 *
 * @param query The query.
 * @param candidate The candidate.
 * @returns The match, or `undefined` when the candidate does not match.
 *
 * @example Golden vectors
 * ```ts
 * import { fuzzyMatch } from "./fuzzy.ts";
 * console.assert(fuzzyMatch("foo", "foobar")?.score === 999994);
 * console.assert(fuzzyMatch("fb", "fooBar")?.kind === "fuzzy");
 * console.assert(fuzzyMatch("ba", "ab") === undefined);
 * ```
 */
export function fuzzyMatch(
  query: string,
  candidate: string,
): FuzzyMatch | undefined {
  return new FuzzyMatcher(query).match(candidate);
}

/**
 * Packs the ASCII-folded trigram starting at `bytes[i]` into a 24-bit number.
 */
function packTrigram(bytes: Uint8Array, i: number): number {
  return (foldByte(bytes[i]) << 16) | (foldByte(bytes[i + 1]) << 8) |
    foldByte(bytes[i + 2]);
}

/**
 * The unique trigrams of a string: every window of 3 consecutive UTF-8 bytes
 * after ASCII folding, packed as `b0 << 16 | b1 << 8 | b2`, sorted ascending.
 * Strings shorter than 3 bytes have none.
 *
 * @param text The string.
 * @returns Sorted, duplicate-free packed trigrams.
 *
 * @example
 * ```ts
 * import { trigramsOf } from "./fuzzy.ts";
 * console.assert(trigramsOf("ABab").length === 2); // "aba", "bab"
 * console.assert(trigramsOf("ab").length === 0);
 * ```
 */
export function trigramsOf(text: string): number[] {
  return trigramsOfBytes(utf8Bytes(text));
}

/**
 * {@link trigramsOf} over UTF-8 bytes.
 *
 * @param bytes UTF-8 bytes.
 * @returns Sorted, duplicate-free packed trigrams.
 *
 * @example
 * ```ts
 * import { trigramsOfBytes } from "./fuzzy.ts";
 * console.assert(trigramsOfBytes(new Uint8Array([0x61, 0x62, 0x63]))[0] === 0x616263);
 * ```
 */
export function trigramsOfBytes(bytes: Uint8Array): number[] {
  const out: number[] = [];
  for (let i = 0; i + 3 <= bytes.length; i++) out.push(packTrigram(bytes, i));
  out.sort((a, b) => a - b);
  let w = 0;
  for (let r = 0; r < out.length; r++) {
    if (r === 0 || out[r] !== out[r - 1]) out[w++] = out[r];
  }
  out.length = w;
  return out;
}

const EMPTY_IDS = new Uint32Array(0);

/**
 * Trigram postings over a list of names, where a name's id is its position.
 * Posting lists are sorted ascending and duplicate-free.
 *
 * @example Reference candidate semantics
 * ```ts
 * import { TrigramIndex, trigramsOf } from "./fuzzy.ts";
 * const index = TrigramIndex.fromNames(["FooBar", "xfbr"]);
 * console.assert(index.candidates(trigramsOf("fbr")).join() === "1");
 * console.assert(index.candidates(trigramsOf("zzzfoo")).join() === "0"); // absent trigrams ignored
 * ```
 */
export class TrigramIndex {
  #dense: Map<number, number>;
  #offsets: Uint32Array;
  #postings: Uint32Array;

  /**
   * Builds postings for the names stored back to back in `buffer`; name `i`
   * spans `buffer[offsets[i]..offsets[i + 1])`.
   *
   * @param buffer Concatenated UTF-8 names.
   * @param offsets `count + 1` offsets into `buffer`.
   */
  constructor(buffer: Uint8Array, offsets: Uint32Array) {
    const count = offsets.length - 1;
    const dense = new Map<number, number>();
    let counts = new Uint32Array(1024);
    let pairs = new Uint32Array(Math.max(16, buffer.length));
    let npairs = 0;
    const starts = new Uint32Array(count + 1);
    const local: number[] = [];
    for (let id = 0; id < count; id++) {
      starts[id] = npairs;
      const s = offsets[id];
      const e = offsets[id + 1];
      local.length = 0;
      for (let i = s; i + 3 <= e; i++) {
        const t = packTrigram(buffer, i);
        let d = dense.get(t);
        if (d === undefined) {
          d = dense.size;
          dense.set(t, d);
          if (d >= counts.length) {
            const grown = new Uint32Array(counts.length * 2);
            grown.set(counts);
            counts = grown;
          }
        }
        if (local.indexOf(d) >= 0) continue;
        local.push(d);
        counts[d]++;
        if (npairs >= pairs.length) {
          const grown = new Uint32Array(pairs.length * 2);
          grown.set(pairs);
          pairs = grown;
        }
        pairs[npairs++] = d;
      }
    }
    starts[count] = npairs;
    const k = dense.size;
    const off = new Uint32Array(k + 1);
    for (let d = 0; d < k; d++) off[d + 1] = off[d] + counts[d];
    const cursor = off.slice(0, k);
    const postings = new Uint32Array(npairs);
    for (let id = 0; id < count; id++) {
      for (let p = starts[id]; p < starts[id + 1]; p++) {
        postings[cursor[pairs[p]]++] = id;
      }
    }
    this.#dense = dense;
    this.#offsets = off;
    this.#postings = postings;
  }

  /**
   * Builds an index over plain strings (ids are array positions).
   *
   * @param names The names.
   * @returns The index.
   */
  static fromNames(names: readonly string[]): TrigramIndex {
    const encoded = names.map(utf8Bytes);
    const offsets = new Uint32Array(names.length + 1);
    for (let i = 0; i < encoded.length; i++) {
      offsets[i + 1] = offsets[i] + encoded[i].length;
    }
    const buffer = new Uint8Array(offsets[names.length]);
    for (let i = 0; i < encoded.length; i++) buffer.set(encoded[i], offsets[i]);
    return new TrigramIndex(buffer, offsets);
  }

  /** Number of distinct trigrams. */
  get size(): number {
    return this.#dense.size;
  }

  /**
   * The posting list of one packed trigram (empty when absent).
   *
   * @param trigram A packed trigram.
   * @returns Sorted ids (a view; do not mutate).
   */
  postings(trigram: number): Uint32Array {
    const d = this.#dense.get(trigram);
    if (d === undefined) return EMPTY_IDS;
    return this.#postings.subarray(this.#offsets[d], this.#offsets[d + 1]);
  }

  /**
   * Whether any name contains the trigram.
   *
   * @param trigram A packed trigram.
   * @returns True when the posting list exists.
   */
  has(trigram: number): boolean {
    return this.#dense.has(trigram);
  }

  /**
   * Reference candidates: intersect the postings of the query trigrams that
   * exist in this index, ignoring absent ones; empty when none exists.
   *
   * @param trigrams Unique packed query trigrams.
   * @returns Sorted, duplicate-free ids.
   */
  candidates(trigrams: readonly number[]): Uint32Array {
    return this.intersect(trigrams.filter((t) => this.has(t)));
  }

  /**
   * Ids whose names contain **every** given trigram (empty when any is
   * absent or the list is empty).
   *
   * @param trigrams Packed trigrams.
   * @returns Sorted, duplicate-free ids.
   */
  intersect(trigrams: readonly number[]): Uint32Array {
    if (trigrams.length === 0) return EMPTY_IDS;
    const lists = trigrams.map((t) => this.postings(t));
    lists.sort((a, b) => a.length - b.length);
    return intersectSorted(lists);
  }
}

/** Intersects ascending id lists (shortest first) by galloping search. */
function intersectSorted(lists: Uint32Array[]): Uint32Array {
  const base = lists[0];
  if (base.length === 0 || lists.length === 1) return base;
  const out = new Uint32Array(base.length);
  const pos = new Array<number>(lists.length).fill(0);
  let w = 0;
  outer: for (let b = 0; b < base.length; b++) {
    const id = base[b];
    for (let l = 1; l < lists.length; l++) {
      const list = lists[l];
      let lo = pos[l];
      // Gallop then binary search for the first element >= id.
      let step = 1;
      let hi = lo;
      while (hi < list.length && list[hi] < id) {
        lo = hi + 1;
        hi += step;
        step *= 2;
      }
      if (hi > list.length) hi = list.length;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if (list[mid] < id) lo = mid + 1;
        else hi = mid;
      }
      pos[l] = lo;
      if (lo >= list.length) break outer;
      if (list[lo] !== id) continue outer;
    }
    out[w++] = id;
  }
  return out.subarray(0, w);
}
