/**
 * The shard-wide symbol order (name, path, line, column; strings compared
 * byte-wise as UTF-8) and the merge helpers the worker state uses to patch a
 * sorted index in place of a full re-sort.
 *
 * @module
 */

import type { Symbol } from "../wire/types.ts";

/**
 * Compares two strings by their UTF-8 bytes (the reference's order) without
 * encoding them: UTF-16 order only differs for surrogates versus
 * U+E000..U+FFFF, which is corrected at the first differing unit.
 *
 * @param a First string.
 * @param b Second string.
 * @returns Negative, zero or positive.
 *
 * @example
 * ```ts
 * import { compareUtf8 } from "./symbol_order.ts";
 * console.assert(compareUtf8("B", "a") < 0);
 * console.assert(compareUtf8("\u{10000}", "\uffff") > 0); // 4-byte UTF-8 sorts last
 * ```
 */
export function compareUtf8(a: string, b: string): number {
  if (a === b) return 0;
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    let x = a.charCodeAt(i);
    let y = b.charCodeAt(i);
    if (x !== y) {
      if (x >= 0xd800 && y >= 0xd800) {
        // Surrogates (UTF-8 4-byte sequences) sort after U+E000..U+FFFF.
        x = x < 0xe000 ? x + 0x2000 : x - 0x800;
        y = y < 0xe000 ? y + 0x2000 : y - 0x800;
      }
      return x - y;
    }
  }
  return a.length - b.length;
}

/**
 * Compares symbols by (name, path, line, column).
 *
 * @param a First symbol.
 * @param b Second symbol.
 * @returns Negative, zero or positive.
 *
 * @example
 * ```ts
 * import { compareSymbols } from "./symbol_order.ts";
 * const s = (name: string, line: number) => ({ name, path: "p", line, column: 0 });
 * console.assert(compareSymbols(s("a", 9), s("b", 1)) < 0);
 * console.assert(compareSymbols(s("a", 1), s("a", 2)) < 0);
 * ```
 */
export function compareSymbols(a: Symbol, b: Symbol): number {
  return compareUtf8(a.name, b.name) || compareUtf8(a.path, b.path) ||
    a.line - b.line || a.column - b.column;
}

function compareKey(a: Symbol, b: Symbol): number {
  return compareUtf8(a.name, b.name) || compareUtf8(a.path, b.path);
}

/** First index in `sorted` whose symbol is not below `probe` by `compare`. */
function lowerBound(
  sorted: readonly Symbol[],
  probe: Symbol,
  compare: (a: Symbol, b: Symbol) => number,
): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (compare(sorted[mid], probe) < 0) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * Returns a new sorted, de-duplicated index where one file's symbols are
 * replaced: `removed` (that file's symbols currently in `index`) go away and
 * `added` (its new symbols, sorted and de-duplicated) come in. Costs
 * O((|removed| + |added|) log n) comparisons plus one native copy of the
 * array; `index` itself is not modified.
 *
 * @param index A sorted index with at most one symbol per (name, path).
 * @param removed Symbols of `index` to drop (all from one path).
 * @param added Sorted, de-duplicated symbols to insert (same path).
 * @returns The patched index.
 *
 * @example
 * ```ts
 * import { replaceFileSymbols } from "./symbol_order.ts";
 * const s = (name: string, path: string) => ({ name, path, line: 0, column: 0 });
 * const index = [s("A", "x"), s("B", "y"), s("C", "x")];
 * const next = replaceFileSymbols(index, [index[1]], [s("D", "y")]);
 * console.assert(next.map((v) => v.name).join() === "A,C,D");
 * ```
 */
export function replaceFileSymbols(
  index: readonly Symbol[],
  removed: readonly Symbol[],
  added: readonly Symbol[],
): Symbol[] {
  // Each edit is a position in `index`: drop the element there, or insert
  // before it. Inserts at a position come before a drop at it.
  const drops: number[] = [];
  for (const symbol of removed) {
    const at = lowerBound(index, symbol, compareKey);
    if (at < index.length && compareKey(index[at], symbol) === 0) {
      drops.push(at);
    }
  }
  drops.sort((a, b) => a - b);
  const inserts: number[] = added.map((symbol) =>
    lowerBound(index, symbol, compareSymbols)
  );
  const parts: Symbol[][] = [];
  let cursor = 0;
  let d = 0;
  let i = 0;
  while (d < drops.length || i < inserts.length) {
    const nextInsert = i < inserts.length ? inserts[i] : Infinity;
    const nextDrop = d < drops.length ? drops[d] : Infinity;
    if (nextInsert <= nextDrop) {
      parts.push(index.slice(cursor, nextInsert));
      cursor = nextInsert;
      const run: Symbol[] = [];
      while (i < inserts.length && inserts[i] === nextInsert) {
        run.push(added[i++]);
      }
      parts.push(run);
    } else {
      parts.push(index.slice(cursor, nextDrop));
      cursor = nextDrop + 1;
      d++;
    }
  }
  parts.push(index.slice(cursor));
  return ([] as Symbol[]).concat(...parts);
}
