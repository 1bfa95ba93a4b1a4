/**
 * The router's check of the symbols a worker sends back: a worker (or
 * whoever speaks for it) may only report symbols of files the router gave
 * that shard, with plausible names and positions. Everything else is
 * dropped and counted, never stored or returned by a search.
 *
 * @module
 */

import type { FileText, Symbol } from "../wire/types.ts";
import { MAX_FILE_TEXT_BYTES } from "../wire/limits.ts";
import { isJavaPath, normalizePath } from "./layout.ts";

/** Where a file's symbols may lie: line count and a column bound. */
export interface FileBounds {
  /** Lines in the file (a symbol's 0-based line must be below it). */
  lines: number;
  /** No column may exceed this (any unit: UTF-8 bytes or UTF-16 units). */
  maxColumn: number;
}

/**
 * Bounds for files whose text the router does not hold (a cached index, an
 * update reply covering files sent earlier): no file may exceed the file
 * text cap, so neither may its line count or any column.
 */
export const UNKNOWN_FILE_BOUNDS: FileBounds = Object.freeze({
  lines: MAX_FILE_TEXT_BYTES + 1,
  maxColumn: MAX_FILE_TEXT_BYTES,
});

/** Why a symbol was dropped. */
export type SymbolRejection =
  | "path_not_sent"
  | "bad_name"
  | "line_out_of_range"
  | "column_out_of_range";

/** The outcome of {@link guardShardSymbols}. */
export interface GuardedSymbols {
  /** The symbols kept, in their order (the input array when none dropped). */
  symbols: Symbol[];
  /** How many were dropped. */
  rejected: number;
  /** Up to three dropped symbols with their reason, for the log. */
  examples: { symbol: Symbol; reason: SymbolRejection }[];
}

// Java identifiers never contain controls, separators or bidi overrides.
// deno-lint-ignore no-control-regex -- matching controls is the point
const BAD_NAME = new RegExp(
  "[\\u0000-\\u001f\\u007f-\\u009f\\u2028\\u2029\\u202a-\\u202e\\u2066-\\u2069]",
  "",
);

/**
 * Bounds of each file sent: its line count and a column bound (three times
 * its UTF-16 length covers UTF-8 byte columns too).
 *
 * @param files The files sent to the shard.
 * @returns The bounds, by path.
 *
 * @example
 * ```ts
 * import { boundsOfFiles } from "./symbol_guard.ts";
 * const b = boundsOfFiles([{ path: "/w/A.java", text: "class A {}\nclass B {}\n" }]);
 * console.assert(b.get("/w/A.java")!.lines === 3);
 * ```
 */
export function boundsOfFiles(
  files: readonly FileText[],
): Map<string, FileBounds> {
  const out = new Map<string, FileBounds>();
  for (const f of files) {
    let lines = 1;
    for (
      let at = f.text.indexOf("\n");
      at >= 0;
      at = f.text.indexOf("\n", at + 1)
    ) {
      lines++;
    }
    out.set(f.path, { lines, maxColumn: f.text.length * 3 });
  }
  return out;
}

/**
 * Keeps the symbols whose path `boundsFor` accepts, whose name is a
 * non-empty string without control characters, and whose line and column
 * lie within the file's bounds.
 *
 * @param symbols What the worker sent.
 * @param boundsFor The bounds of a path the shard may report, or undefined
 *   for a path it may not.
 * @returns The kept symbols and what was dropped.
 *
 * @example
 * ```ts
 * import { boundsOfFiles, guardShardSymbols } from "./symbol_guard.ts";
 * const sent = boundsOfFiles([{ path: "/w/A.java", text: "class A {}\n" }]);
 * const out = guardShardSymbols([
 *   { name: "A", path: "/w/A.java", line: 0, column: 6 },
 *   { name: "root", path: "/etc/shadow", line: 0, column: 0 },
 *   { name: "A", path: "/w/A.java", line: 4294967295, column: 0 },
 * ], (p) => sent.get(p));
 * console.assert(out.symbols.length === 1 && out.rejected === 2);
 * ```
 */
export function guardShardSymbols(
  symbols: readonly Symbol[],
  boundsFor: (path: string) => FileBounds | undefined,
): GuardedSymbols {
  let kept: Symbol[] | undefined;
  let rejected = 0;
  const examples: GuardedSymbols["examples"] = [];
  let lastPath: string | undefined;
  let lastBounds: FileBounds | undefined;
  for (let i = 0; i < symbols.length; i++) {
    const s = symbols[i];
    if (s.path !== lastPath) {
      lastPath = s.path;
      lastBounds = boundsFor(s.path);
    }
    const reason: SymbolRejection | undefined = lastBounds === undefined
      ? "path_not_sent"
      : typeof s.name !== "string" || s.name.length === 0 ||
          BAD_NAME.test(s.name)
      ? "bad_name"
      : !(s.line < lastBounds.lines)
      ? "line_out_of_range"
      : !(s.column <= lastBounds.maxColumn)
      ? "column_out_of_range"
      : undefined;
    if (reason === undefined) {
      kept?.push(s);
      continue;
    }
    kept ??= symbols.slice(0, i);
    rejected++;
    if (examples.length < 3) examples.push({ symbol: s, reason });
  }
  return { symbols: kept ?? (symbols as Symbol[]), rejected, examples };
}

/**
 * A `boundsFor` for when the router holds no text: the path must be a
 * normalized `.java` path that `owns` accepts (the shard's root, outside
 * nested roots), with {@link UNKNOWN_FILE_BOUNDS}.
 *
 * @param owns Whether the shard owns a normalized path.
 * @returns The bounds function.
 *
 * @example
 * ```ts
 * import { ownedPathBounds } from "./symbol_guard.ts";
 * const f = ownedPathBounds((p) => p.startsWith("/w/"));
 * console.assert(f("/w/A.java") !== undefined);
 * console.assert(f("/w/../../etc/passwd") === undefined && f("/etc/shadow") === undefined);
 * ```
 */
export function ownedPathBounds(
  owns: (path: string) => boolean,
): (path: string) => FileBounds | undefined {
  return (path) => {
    if (typeof path !== "string" || path.length === 0 || path.includes("\0")) {
      return undefined;
    }
    if (normalizePath(path) !== path || !isJavaPath(path)) return undefined;
    return owns(path) ? UNKNOWN_FILE_BOUNDS : undefined;
  };
}
