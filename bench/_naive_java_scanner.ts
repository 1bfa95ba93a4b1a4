/**
 * Benchmark baselines: naive regex declaration scanners, the kind of quick
 * extractor one writes before a real parser. They match type headers and
 * member headers (optional modifiers, a type, a name followed by `(`, `=`,
 * `;` or `,`); they know nothing of comments, literals or nesting, so they
 * both miss and over-report symbols. Only their speed matters.
 *
 * - {@link naiveScanJavaLines}: the naive form, line by line (split into
 *   lines, test each line against the two patterns).
 * - {@link naiveScanJava}: a tuned form, two global multiline regexes over
 *   the whole text.
 *
 * @module
 */

import type { Symbol } from "../lib/wire/types.ts";

const TYPE_LINE_RE = /\b(?:class|interface|enum|record)\s+([A-Za-z_$][\w$]*)/;
const MEMBER_LINE_RE =
  /^\s*(?:(?:public|protected|private|static|final|abstract|synchronized|native|transient|volatile|default)\s+)*(?:<[^>]*>\s*)?[\w$.]+(?:<[^;{()]*?>)?(?:\[\])*\s+([A-Za-z_$][\w$]*)\s*(?:\(|=|;|,)/;

/**
 * Scans one file line by line with regular expressions.
 *
 * @param path File path.
 * @param text File text.
 * @returns Approximate symbols (line and column of each match).
 *
 * @example
 * ```ts
 * import { naiveScanJavaLines } from "./_naive_java_scanner.ts";
 * const names = naiveScanJavaLines("A.java", "class A {\n  int x;\n}\n").map((s) => s.name);
 * console.assert(names.includes("A") && names.includes("x"));
 * ```
 */
export function naiveScanJavaLines(path: string, text: string): Symbol[] {
  const out: Symbol[] = [];
  const lines = text.split(/\r\n|\r|\n/);
  for (let line = 0; line < lines.length; line++) {
    const s = lines[line];
    const t = TYPE_LINE_RE.exec(s);
    if (t !== null) {
      out.push({
        name: t[1],
        path,
        line,
        column: t.index + t[0].lastIndexOf(t[1]),
      });
    }
    const m = MEMBER_LINE_RE.exec(s);
    if (m !== null) {
      out.push({
        name: m[1],
        path,
        line,
        column: m.index + m[0].lastIndexOf(m[1]),
      });
    }
  }
  return out;
}

const TYPE_RE = /\b(?:class|interface|enum|record)\s+([A-Za-z_$][\w$]*)/g;
const MEMBER_RE =
  /^\s*(?:(?:public|protected|private|static|final|abstract|synchronized|native|transient|volatile|default)\s+)*(?:<[^>]*>\s*)?[\w$.]+(?:<[^;{()]*?>)?(?:\[\])*\s+([A-Za-z_$][\w$]*)\s*(?:\(|=|;|,)/gm;

/**
 * Scans one file with two global multiline regular expressions.
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
