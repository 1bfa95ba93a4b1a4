/**
 * The shard-wide symbol order (name, path, line, column; strings compared
 * byte-wise as UTF-8) and the merge helpers the worker state uses to patch a
 * sorted index in place of a full re-sort.
 *
 * @module
 */

import type { Symbol } from "../wire/types.ts";
import { compareSymbols, compareUtf8 } from "../router/ranking.ts";

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
