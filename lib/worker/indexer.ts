/**
 * The Java {@link SymbolIndexer} the worker runs with: the declaration-level
 * Java parser's symbol extraction, shard sort order and diagnostics.
 *
 * Deliberate difference: diagnostic positions count `\r\n` and a lone `\r`
 * as line breaks, like symbol positions (the reference counts `\n` only for
 * diagnostics).
 *
 * @module
 */

import type { SymbolIndexer } from "./state.ts";
import {
  extractJavaSymbols,
  javaDiagnostics,
  sortSymbols,
} from "./java_symbols.ts";

/**
 * Symbol extraction, sorting and diagnostics for Java files.
 *
 * @example
 * ```ts
 * import { JAVA_INDEXER } from "./indexer.ts";
 * const symbols = JAVA_INDEXER.sortSymbols(
 *   JAVA_INDEXER.extractSymbols("A.java", "package a; public class Alpha {}"),
 * );
 * console.assert(symbols[0].name === "Alpha" && symbols[0].column === 24);
 * console.assert(JAVA_INDEXER.diagnostics("A.java", 'class A { String s = "oops; }').length > 0);
 * ```
 */
export const JAVA_INDEXER: SymbolIndexer = Object.freeze({
  extractSymbols: extractJavaSymbols,
  sortSymbols,
  diagnostics: (_path: string, text: string) => javaDiagnostics(text),
});
