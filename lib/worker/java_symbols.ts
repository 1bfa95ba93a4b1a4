/**
 * Java symbol extraction for shard indexes: which declarations become
 * symbols, where they are, and how a shard's symbols are ordered.
 *
 * - {@link extractJavaSymbols} returns one file's declaration names (types,
 *   fields, enum constants, record components, methods, constructors named
 *   like their type) in source order, with 0-based LSP positions: `\n`,
 *   `\r\n` and a lone `\r` each end a line, columns count UTF-16 code units.
 * - {@link sortSymbols} sorts by (name, path, line, column), comparing
 *   strings by UTF-8 bytes, and keeps only the first symbol per (name, path).
 * - `javaDiagnostics` (re-exported from `./java_diagnostics.ts`) reports
 *   syntax errors.
 *
 * Deliberate differences from the reference (all only visible on unusual
 * input):
 * - Members written at or left of their class header's indentation and
 *   starting with a modifier are indexed; the reference drops them.
 * - Declarations without a name produce no symbol (the reference can emit
 *   empty names), and a name whose UTF-8 form is over 16 KiB (the wire's
 *   small-string limit) is dropped so the shard index stays encodable.
 * - Diagnostic positions use the same line breaks as symbol positions unless
 *   `lfLineBreaks` is set (the reference counts `\n` only there).
 *
 * @module
 */

import type { Symbol } from "../wire/types.ts";
import { translateUnicodeEscapes } from "./java_lexer.ts";
import { parseJavaDeclarations } from "./java_parser.ts";
import {
  compareSymbols,
  concatByName,
  hasHighUnits,
  sortUtf8,
} from "./symbol_order.ts";

export {
  javaDiagnostics,
  type JavaDiagnosticsOptions,
  MAX_DIAGNOSTICS,
} from "./java_diagnostics.ts";

/** Longest name kept, in UTF-8 bytes (the wire's small-string limit). */
const MAX_NAME_BYTES = 16 * 1024;

/**
 * Maps increasing offsets to (line, column) in one pass over the text;
 * a smaller offset restarts from the top.
 */
class LineCursor {
  readonly #text: string;
  readonly #crAware: boolean;
  #offset = 0;
  #line = 0;
  #lineStart = 0;
  #nextLf = -1;
  line = 0;
  column = 0;

  constructor(text: string, lfOnly: boolean) {
    this.#text = text;
    this.#crAware = !lfOnly && text.indexOf("\r") >= 0;
  }

  /** Moves to `offset` (clamped to the text) and sets `line`/`column`. */
  seek(offset: number): void {
    const t = this.#text;
    if (offset > t.length) offset = t.length;
    if (offset < this.#offset) {
      this.#offset = this.#line = this.#lineStart = 0;
      this.#nextLf = -1;
    }
    let p = this.#offset;
    let line = this.#line;
    let lineStart = this.#lineStart;
    if (this.#crAware) {
      for (; p < offset; p++) {
        const c = t.charCodeAt(p);
        if (c === 10) {
          line++;
          lineStart = p + 1;
        } else if (c === 13) {
          if (t.charCodeAt(p + 1) === 10) {
            // A CRLF counts once; an offset between CR and LF stays on
            // the CR's line.
            if (p + 1 >= offset) break;
            p++;
          }
          line++;
          lineStart = p + 1;
        }
      }
    } else {
      // `#nextLf` caches the first LF at or after `p`.
      let nl = this.#nextLf;
      if (nl < p) nl = t.indexOf("\n", p);
      while (nl >= 0 && nl < offset) {
        line++;
        lineStart = nl + 1;
        nl = t.indexOf("\n", lineStart);
      }
      this.#nextLf = nl < 0 ? t.length : nl;
      p = offset;
    }
    this.#offset = p;
    this.#line = line;
    this.#lineStart = lineStart;
    this.line = line;
    this.column = offset - lineStart;
  }
}

function utf8Length(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    n += c < 0x80 ? 1 : c < 0x800 ? 2 : c >= 0xd800 && c < 0xdc00 ? 2 : 3;
  }
  return n;
}

/**
 * Extracts the declared symbols of one Java file, in source order (not
 * sorted or de-duplicated; see {@link sortSymbols}). Never throws: malformed
 * text yields whatever declarations can be recovered.
 *
 * Names are the raw source text of the name token, so a name written with
 * unicode escapes keeps them.
 *
 * @param path The file's path, copied into every symbol.
 * @param text The file's text.
 * @returns The file's symbols.
 *
 * @example
 * ```ts
 * import { extractJavaSymbols } from "./java_symbols.ts";
 * const text = "package a;\n\npublic class Alpha {\n  int x, y;\n  Alpha() {}\n}\n";
 * const symbols = extractJavaSymbols("A.java", text);
 * console.assert(
 *   symbols.map((s) => `${s.name}@${s.line}:${s.column}`).join() ===
 *     "Alpha@2:13,x@3:6,y@3:9,Alpha@4:2",
 * );
 * ```
 */
export function extractJavaSymbols(path: string, text: string): Symbol[] {
  const translated = translateUnicodeEscapes(text);
  const decl = parseJavaDeclarations(translated ? translated.text : text);
  const { starts, ends } = decl;
  const map = translated?.map;
  const out: Symbol[] = [];
  if (map === undefined && text.indexOf("\r") < 0) {
    // Common case (no escapes, LF line breaks): names are in source order,
    // so one forward walk over the line feeds places them all.
    let line = 0;
    let lineStart = 0;
    let nl = text.indexOf("\n");
    let last = 0;
    for (let i = 0; i < starts.length; i++) {
      const start = starts[i];
      const end = ends[i];
      if (start < last) return extractSlow(path, text, starts, ends, map);
      last = start;
      while (nl >= 0 && nl < start) {
        line++;
        lineStart = nl + 1;
        nl = text.indexOf("\n", lineStart);
      }
      const name = text.slice(start, end);
      if (
        name.length * 3 > MAX_NAME_BYTES && utf8Length(name) > MAX_NAME_BYTES
      ) {
        continue;
      }
      out.push({ name, path, line, column: start - lineStart });
    }
    return out;
  }
  return extractSlow(path, text, starts, ends, map);
}

/** Any text: escapes mapped back to raw offsets, every line-break form. */
function extractSlow(
  path: string,
  text: string,
  starts: readonly number[],
  ends: readonly number[],
  map: Int32Array | undefined,
): Symbol[] {
  const cursor = new LineCursor(text, false);
  const out: Symbol[] = [];
  for (let i = 0; i < starts.length; i++) {
    let start = starts[i];
    let end = ends[i];
    if (map) {
      start = map[start];
      end = map[end];
    }
    if (end <= start) continue;
    const name = text.slice(start, end);
    if (name.length * 3 > MAX_NAME_BYTES && utf8Length(name) > MAX_NAME_BYTES) {
      continue;
    }
    cursor.seek(start);
    out.push({ name, path, line: cursor.line, column: cursor.column });
  }
  return out;
}

/**
 * Whether any name or path has a surrogate or a unit at or above U+E000,
 * the only case where comparing UTF-16 units (native `<`) disagrees with
 * comparing UTF-8 bytes.
 */
function needsUtf8Order(symbols: readonly Symbol[]): boolean {
  let lastPath: string | undefined;
  for (const s of symbols) {
    if (hasHighUnits(s.name)) return true;
    if (s.path !== lastPath) {
      if (hasHighUnits(s.path)) return true;
      lastPath = s.path;
    }
  }
  return false;
}

/** {@link compareSymbols} for strings where UTF-16 order is byte order. */
function compareSymbolsNative(a: Symbol, b: Symbol): number {
  if (a.name !== b.name) return a.name < b.name ? -1 : 1;
  if (a.path !== b.path) return a.path < b.path ? -1 : 1;
  return a.line - b.line || a.column - b.column;
}

/**
 * Sorts symbols by (name, path, line, column), with strings compared by
 * their UTF-8 bytes, then drops every symbol whose (name, path) equals the
 * previous one's: only the first occurrence of a name per file survives
 * (overloads, a constructor and its class, a field and a method of the same
 * name collapse). Returns a new array; the input is not modified.
 *
 * @param symbols Symbols of any number of files.
 * @returns Sorted, de-duplicated symbols.
 *
 * @example
 * ```ts
 * import { sortSymbols } from "./java_symbols.ts";
 * const s = (name: string, line: number) => ({ name, path: "A.java", line, column: 0 });
 * const sorted = sortSymbols([s("run", 7), s("Outer", 2), s("run", 6), s("a", 3)]);
 * console.assert(sorted.map((v) => `${v.name}${v.line}`).join() === "Outer2,a3,run6");
 * ```
 */
export function sortSymbols(symbols: readonly Symbol[]): Symbol[] {
  // Several files: sort each file's symbols, then merge them by name in
  // linear time. One comparison sort of everything would compare long
  // paths with shared prefixes, several times slower for a whole shard.
  let byPath: Map<string, Symbol[]> | undefined;
  for (let i = 1; i < symbols.length; i++) {
    if (symbols[i].path !== symbols[0].path) {
      byPath = new Map();
      break;
    }
  }
  if (byPath === undefined) return sortFileSymbols(symbols);
  for (const symbol of symbols) {
    const list = byPath.get(symbol.path);
    if (list === undefined) byPath.set(symbol.path, [symbol]);
    else list.push(symbol);
  }
  return concatByName(
    sortUtf8([...byPath.keys()]).map((p) => sortFileSymbols(byPath.get(p)!)),
  );
}

/** {@link sortSymbols} by one comparison sort (best for one file). */
function sortFileSymbols(symbols: readonly Symbol[]): Symbol[] {
  const sorted = symbols.slice().sort(
    needsUtf8Order(symbols) ? compareSymbols : compareSymbolsNative,
  );
  const out: Symbol[] = [];
  let prev: Symbol | undefined;
  for (const s of sorted) {
    if (prev !== undefined && prev.name === s.name && prev.path === s.path) {
      continue;
    }
    out.push(s);
    prev = s;
  }
  return out;
}
