/**
 * The benchmark baseline: a naive regex declaration scanner, the kind of
 * quick line-by-line extractor one writes before a real parser. It matches
 * type headers, member headers with a modifier or a type, and enum-style
 * constant lines; it knows nothing of comments, literals or nesting, so it
 * both misses and over-reports symbols. Only its speed matters.
 *
 * @module
 */

import type { Symbol } from "../lib/wire/types.ts";

const TYPE_RE = /\b(?:class|interface|enum|record)\s+([A-Za-z_$][\w$]*)/g;
const MEMBER_RE =
  /^\s*(?:(?:public|protected|private|static|final|abstract|synchronized|native|transient|volatile|default)\s+)*(?:<[^>]*>\s*)?[\w$.]+(?:<[^;{()]*?>)?(?:\[\])*\s+([A-Za-z_$][\w$]*)\s*(?:\(|=|;|,)/gm;

/**
 * Scans one file with regular expressions.
 *
 * @param path File path.
 * @param text File text.
 * @returns Approximate symbols (line and column of each match).
 *
 * @example
 * ```ts
 * import { naiveScanJava } from "./_naive_java_scanner.ts";
 * const names = naiveScanJava("A.java", "class A {\n  int x;\n}\n").map((s) => s.name);
 * console.assert(names.includes("A") && names.includes("x"));
 * ```
 */
export function naiveScanJava(path: string, text: string): Symbol[] {
  const out: Symbol[] = [];
  const lineStarts = [0];
  for (let i = text.indexOf("\n"); i >= 0; i = text.indexOf("\n", i + 1)) {
    lineStarts.push(i + 1);
  }
  const position = (offset: number): [number, number] => {
    let lo = 0;
    let hi = lineStarts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >>> 1;
      if (lineStarts[mid] <= offset) lo = mid;
      else hi = mid - 1;
    }
    return [lo, offset - lineStarts[lo]];
  };
  for (const re of [TYPE_RE, MEMBER_RE]) {
    re.lastIndex = 0;
    for (let m = re.exec(text); m !== null; m = re.exec(text)) {
      const offset = m.index + m[0].lastIndexOf(m[1]);
      const [line, column] = position(offset);
      out.push({ name: m[1], path, line, column });
    }
  }
  return out;
}
