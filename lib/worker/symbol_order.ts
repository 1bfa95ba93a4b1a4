/**
 * The shard-wide symbol order (name, path, line, column; strings compared
 * byte-wise as UTF-8) and the merge helpers the worker state uses to patch a
 * sorted index in place of a full re-sort.
 *
 * @module
 */

import type { Symbol } from "../wire/types.ts";
import { compareSymbols, compareUtf8 } from "../search/ranking.ts";

// The byte-wise string order and the symbol order have one implementation,
// shared with the router's ranking; re-exported here for the worker.
export { compareSymbols, compareUtf8 };

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

/** Code units where UTF-16 order differs from UTF-8 byte order. */
const HIGH_UNITS = /[\ud800-\uffff]/;

/**
 * Whether native `<` may disagree with UTF-8 byte order for `text`: only a
 * surrogate or a unit at or above U+E000 can make it disagree.
 *
 * @param text A string.
 * @returns True when `text` has such a unit.
 *
 * @example
 * ```ts
 * import { hasHighUnits } from "./symbol_order.ts";
 * console.assert(!hasHighUnits("Café") && hasHighUnits("\u{1F980}"));
 * ```
 */
export function hasHighUnits(text: string): boolean {
  return HIGH_UNITS.test(text);
}

/**
 * Sorts strings in place by their UTF-8 bytes, with the native comparison
 * (several times faster) when no string has a unit where the two orders
 * differ.
 *
 * @param strings Strings to sort (modified).
 * @returns `strings`, sorted.
 *
 * @example
 * ```ts
 * import { sortUtf8 } from "./symbol_order.ts";
 * console.assert(sortUtf8(["b", "B", "a"]).join() === "B,a,b");
 * console.assert(sortUtf8(["\u{10000}", "\uffff"]).join() === "\uffff,\u{10000}");
 * ```
 */
export function sortUtf8(strings: string[]): string[] {
  return strings.some(hasHighUnits)
    ? strings.sort(compareUtf8)
    : strings.sort();
}

/**
 * Concatenates symbol lists and orders the result by name (UTF-8 bytes),
 * keeping the symbols of one name in the order the lists give them: a
 * stable counting sort on name ranks, linear apart from sorting the
 * distinct names. Given one list per file, visited in path order, each
 * sorted and with at most one symbol per name, the result is a whole
 * index in the symbol order ({@link compareSymbols}).
 *
 * @param lists The lists, in the order to keep within a name.
 * @returns A new array; the lists are not modified.
 *
 * @example
 * ```ts
 * import { concatByName } from "./symbol_order.ts";
 * const s = (name: string, path: string) => ({ name, path, line: 0, column: 0 });
 * const merged = concatByName([[s("b", "A"), s("c", "A")], [s("a", "B"), s("b", "B")]]);
 * console.assert(merged.map((v) => v.name + v.path).join() === "aB,bA,bB,cA");
 * ```
 */
export function concatByName(lists: Iterable<readonly Symbol[]>): Symbol[] {
  const all: Symbol[] = [];
  for (const list of lists) {
    for (let i = 0; i < list.length; i++) all.push(list[i]);
  }
  // Rank every symbol's name by first appearance, then order the ranks.
  const rankOf = new Map<string, number>();
  const ranks = new Int32Array(all.length);
  for (let i = 0; i < all.length; i++) {
    const name = all[i].name;
    let rank = rankOf.get(name);
    if (rank === undefined) {
      rank = rankOf.size;
      rankOf.set(name, rank);
    }
    ranks[i] = rank;
  }
  const counts = new Int32Array(rankOf.size);
  for (let i = 0; i < ranks.length; i++) counts[ranks[i]]++;
  // counts[rank] becomes the first output slot of that name.
  let next = 0;
  for (const name of sortUtf8([...rankOf.keys()])) {
    const rank = rankOf.get(name)!;
    const count = counts[rank];
    counts[rank] = next;
    next += count;
  }
  const out = new Array<Symbol>(all.length);
  for (let i = 0; i < all.length; i++) out[counts[ranks[i]]++] = all[i];
  return out;
}
