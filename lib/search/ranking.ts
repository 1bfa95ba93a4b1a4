/**
 * The orders used by workspace symbol search: byte-wise string order, the
 * index order of symbols, and the total order of search results (shared by
 * the router-local index and the merge of per-shard top-k lists).
 *
 * @example Best result first
 * ```ts
 * import { compareSymbolMatches, type SymbolMatch } from "./ranking.ts";
 * const sym = (name: string) => ({ name, path: "A.java", line: 0, column: 0 });
 * const a: SymbolMatch = { symbol: sym("foobar"), shardId: 0, stale: false, kind: "prefix", score: 999994 };
 * const b: SymbolMatch = { symbol: sym("barfoo"), shardId: 0, stale: false, kind: "fuzzy", score: 43 };
 * console.assert(compareSymbolMatches(a, b) < 0);
 * ```
 *
 * @module
 */

import type { Symbol } from "../wire/types.ts";
import { kindRank, type MatchKind } from "./fuzzy.ts";

/**
 * One workspace symbol search result.
 *
 * The `symbol` object is shared with the index that produced it: treat it as
 * read-only.
 */
export interface SymbolMatch {
  /** The symbol (name, path, 0-based line, UTF-16 column). */
  symbol: Symbol;
  /** The shard whose index holds the symbol. */
  shardId: number;
  /** True when the shard's worker is disconnected (the data may be old). */
  stale: boolean;
  /** Prefix or fuzzy match. */
  kind: MatchKind;
  /** The fuzzy score (see `fuzzy.ts`). */
  score: number;
}

/**
 * Compares two well-formed strings (no lone surrogates) by their UTF-8 bytes
 * (equivalently, by code point),
 * without encoding them. JavaScript's `<` compares UTF-16 code units, which
 * disagrees with byte order for characters above U+FFFF versus U+E000-U+FFFF.
 *
 * @param a A string.
 * @param b Another string.
 * @returns Negative, zero or positive.
 *
 * @example
 * ```ts
 * import { compareUtf8 } from "./ranking.ts";
 * console.assert(compareUtf8("B", "a") < 0); // uppercase ASCII sorts first
 * console.assert(compareUtf8("\uffff", "\u{10000}") < 0); // unlike "<" on UTF-16
 * ```
 */
export function compareUtf8(a: string, b: string): number {
  if (a === b) return 0;
  const n = a.length < b.length ? a.length : b.length;
  for (let i = 0; i < n; i++) {
    let x = a.charCodeAt(i);
    let y = b.charCodeAt(i);
    if (x === y) continue;
    if (x >= 0xd800 && y >= 0xd800) {
      // Surrogates encode code points above U+FFFF: move them past U+FFFF.
      x = x < 0xe000 ? x + 0x2000 : x - 0x800;
      y = y < 0xe000 ? y + 0x2000 : y - 0x800;
    }
    return x - y;
  }
  return a.length - b.length;
}

/**
 * The index order of symbols: `(name, path, line, column)`, strings compared
 * byte-wise. The reference assigns symbol ids in this order.
 *
 * @param a A symbol.
 * @param b Another symbol.
 * @returns Negative, zero or positive.
 *
 * @example
 * ```ts
 * import { compareSymbols } from "./ranking.ts";
 * const s = (name: string, line: number) => ({ name, path: "A.java", line, column: 0 });
 * console.assert(compareSymbols(s("Foo", 9), s("foo", 1)) < 0);
 * console.assert(compareSymbols(s("foo", 1), s("foo", 2)) < 0);
 * ```
 */
export function compareSymbols(a: Symbol, b: Symbol): number {
  return compareUtf8(a.name, b.name) || compareUtf8(a.path, b.path) ||
    a.line - b.line || a.column - b.column;
}

/**
 * UTF-8 byte length of a string.
 *
 * @param text The string.
 * @returns The number of UTF-8 bytes.
 *
 * @example
 * ```ts
 * import { utf8Length } from "./ranking.ts";
 * console.assert(utf8Length("café") === 5 && utf8Length("🦀") === 4);
 * ```
 */
export function utf8Length(text: string): number {
  let n = text.length;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x80) continue;
    if (c < 0x800) n += 1;
    else if (c >= 0xd800 && c < 0xdc00 && i + 1 < text.length) {
      const d = text.charCodeAt(i + 1);
      if (d >= 0xdc00 && d < 0xe000) {
        n += 2; // 4 bytes for 2 code units
        i++;
      } else n += 2; // lone surrogate -> U+FFFD (3 bytes)
    } else n += 2;
  }
  return n;
}

/**
 * The total order of search results, best first:
 * 1. kind rank descending (prefix before fuzzy), then score descending
 *    (the reference `rank_key`);
 * 2. name UTF-8 byte length ascending;
 * 3. name ascending (byte-wise);
 * 4. path ascending (byte-wise);
 * 5. line, then column ascending (the reference breaks the last tie by symbol
 *    id, which is assigned in `(name, path, line, column)` order);
 * 6. shard id ascending (only reachable when two shards hold an identical
 *    symbol; the router-local index keeps one of them).
 *
 * @param a A result.
 * @param b Another result.
 * @returns Negative when `a` ranks before `b`.
 *
 * @example
 * ```ts
 * import { compareSymbolMatches } from "./ranking.ts";
 * const m = (name: string) => ({
 *   symbol: { name, path: "A.java", line: 0, column: 0 }, shardId: 0, stale: false,
 *   kind: "fuzzy" as const, score: 10,
 * });
 * console.assert(compareSymbolMatches(m("ab"), m("abc")) < 0); // shorter first on equal score
 * ```
 */
export function compareSymbolMatches(a: SymbolMatch, b: SymbolMatch): number {
  const ra = kindRank(a.kind);
  const rb = kindRank(b.kind);
  if (ra !== rb) return rb - ra;
  if (a.score !== b.score) return b.score - a.score;
  const la = utf8Length(a.symbol.name);
  const lb = utf8Length(b.symbol.name);
  if (la !== lb) return la - lb;
  return compareSymbols(a.symbol, b.symbol) || a.shardId - b.shardId;
}
