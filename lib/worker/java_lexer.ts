/**
 * A fast, allocation-free Java scanner for the declaration-level symbol
 * parser: it skips whitespace and comments, recognises identifiers (including
 * non-ASCII ones), numbers, string, character and text-block literals, and
 * returns every other character as a one-character token. It never throws:
 * lexical problems (unterminated literals or comments, illegal characters)
 * are recorded as diagnostics and scanning goes on.
 *
 * Token kinds are numbers: the {@link TOKEN} constants below 32, and for
 * punctuation the character code itself (`123` is `{`). `>>` is two `>`
 * tokens, which keeps generic type arguments simple to balance.
 *
 * Unicode escapes (`\uXXXX`) are translated before lexing by
 * {@link translateUnicodeEscapes}; the scanner itself works on translated
 * text.
 *
 * @module
 */

/**
 * Token kinds below 32; punctuation tokens use their character code.
 *
 * @example
 * ```ts
 * import { JavaScanner, TOKEN } from "./java_lexer.ts";
 * const s = new JavaScanner("x");
 * console.assert(s.next() === TOKEN.IDENT);
 * console.assert(s.next() === TOKEN.EOF);
 * ```
 */
export const TOKEN = {
  /** End of input. */
  EOF: 0,
  /** An identifier or any keyword (see {@link JavaScanner.keyword}). */
  IDENT: 1,
  /** A numeric literal. */
  NUMBER: 2,
  /** A string literal. */
  STRING: 3,
  /** A character literal. */
  CHAR: 4,
  /** A text block (`"""..."""`). */
  TEXT_BLOCK: 5,
  /** A character that cannot start any Java token. */
  ILLEGAL: 6,
} as const;

/**
 * Keyword ids returned by {@link JavaScanner.keyword} (0 is a plain
 * identifier). Ids from {@link KW.RECORD} on are contextual keywords, which
 * stay identifier-like (they can name fields and methods).
 *
 * @example
 * ```ts
 * import { JavaScanner, KW } from "./java_lexer.ts";
 * const s = new JavaScanner("class Foo");
 * s.next();
 * console.assert(s.keyword() === KW.CLASS);
 * s.next();
 * console.assert(s.keyword() === KW.NONE);
 * ```
 */
export const KW = {
  NONE: 0,
  // Modifiers.
  PUBLIC: 1,
  PROTECTED: 2,
  PRIVATE: 3,
  STATIC: 4,
  ABSTRACT: 5,
  FINAL: 6,
  NATIVE: 7,
  SYNCHRONIZED: 8,
  TRANSIENT: 9,
  VOLATILE: 10,
  STRICTFP: 11,
  DEFAULT: 12,
  // Primitive types and void.
  BOOLEAN: 13,
  BYTE: 14,
  CHAR: 15,
  SHORT: 16,
  INT: 17,
  LONG: 18,
  FLOAT: 19,
  DOUBLE: 20,
  VOID: 21,
  // Declarations.
  CLASS: 22,
  INTERFACE: 23,
  ENUM: 24,
  EXTENDS: 25,
  IMPLEMENTS: 26,
  THROWS: 27,
  PACKAGE: 28,
  IMPORT: 29,
  // Other reserved words.
  ASSERT: 30,
  BREAK: 31,
  CASE: 32,
  CATCH: 33,
  CONST: 34,
  CONTINUE: 35,
  DO: 36,
  ELSE: 37,
  FINALLY: 38,
  FOR: 39,
  GOTO: 40,
  IF: 41,
  INSTANCE_OF: 42,
  NEW: 43,
  RETURN: 44,
  SUPER: 45,
  SWITCH: 46,
  THIS: 47,
  THROW: 48,
  TRY: 49,
  WHILE: 50,
  TRUE: 51,
  FALSE: 52,
  NULL: 53,
  // Contextual keywords (identifier-like).
  RECORD: 64,
  SEALED: 65,
  PERMITS: 66,
  MODULE: 67,
  OPEN: 68,
  NON: 69,
} as const;

const KEYWORD_TEXT: readonly (readonly [string, number])[] = [
  ["public", KW.PUBLIC],
  ["protected", KW.PROTECTED],
  ["private", KW.PRIVATE],
  ["static", KW.STATIC],
  ["abstract", KW.ABSTRACT],
  ["final", KW.FINAL],
  ["native", KW.NATIVE],
  ["synchronized", KW.SYNCHRONIZED],
  ["transient", KW.TRANSIENT],
  ["volatile", KW.VOLATILE],
  ["strictfp", KW.STRICTFP],
  ["default", KW.DEFAULT],
  ["boolean", KW.BOOLEAN],
  ["byte", KW.BYTE],
  ["char", KW.CHAR],
  ["short", KW.SHORT],
  ["int", KW.INT],
  ["long", KW.LONG],
  ["float", KW.FLOAT],
  ["double", KW.DOUBLE],
  ["void", KW.VOID],
  ["class", KW.CLASS],
  ["interface", KW.INTERFACE],
  ["enum", KW.ENUM],
  ["extends", KW.EXTENDS],
  ["implements", KW.IMPLEMENTS],
  ["throws", KW.THROWS],
  ["package", KW.PACKAGE],
  ["import", KW.IMPORT],
  ["assert", KW.ASSERT],
  ["break", KW.BREAK],
  ["case", KW.CASE],
  ["catch", KW.CATCH],
  ["const", KW.CONST],
  ["continue", KW.CONTINUE],
  ["do", KW.DO],
  ["else", KW.ELSE],
  ["finally", KW.FINALLY],
  ["for", KW.FOR],
  ["goto", KW.GOTO],
  ["if", KW.IF],
  ["instanceof", KW.INSTANCE_OF],
  ["new", KW.NEW],
  ["return", KW.RETURN],
  ["super", KW.SUPER],
  ["switch", KW.SWITCH],
  ["this", KW.THIS],
  ["throw", KW.THROW],
  ["try", KW.TRY],
  ["while", KW.WHILE],
  ["true", KW.TRUE],
  ["false", KW.FALSE],
  ["null", KW.NULL],
  ["record", KW.RECORD],
  ["sealed", KW.SEALED],
  ["permits", KW.PERMITS],
  ["module", KW.MODULE],
  ["open", KW.OPEN],
  ["non", KW.NON],
];

/** Keyword lookup key: length, first, second and last character. */
function keywordKey(len: number, c0: number, c1: number, cl: number): number {
  return ((len * 31 + c0) * 31 + c1) * 31 + cl;
}

/** Smallest power-of-two table where every keyword key has its own slot. */
const KW_TABLE: { mask: number; ids: Uint8Array } = (() => {
  for (let size = 64;; size *= 2) {
    const ids = new Uint8Array(size);
    let ok = true;
    for (const [w, id] of KEYWORD_TEXT) {
      const key = keywordKey(
        w.length,
        w.charCodeAt(0),
        w.charCodeAt(1),
        w.charCodeAt(w.length - 1),
      );
      const slot = key & (size - 1);
      if (ids[slot] !== 0) {
        ok = false;
        break;
      }
      ids[slot] = id;
    }
    if (ok) return { mask: size - 1, ids };
  }
})();
const KW_IDS = KW_TABLE.ids;
const KW_MASK = KW_TABLE.mask;
const KW_WORDS: string[] = [];
for (const [word, id] of KEYWORD_TEXT) KW_WORDS[id] = word;

/**
 * Whether a keyword id names something usable as a declaration name: a plain
 * identifier or a contextual keyword.
 *
 * @param kw A keyword id from {@link JavaScanner.keyword}.
 * @returns `true` for identifier-like tokens.
 *
 * @example
 * ```ts
 * import { isIdentifierLike, KW } from "./java_lexer.ts";
 * console.assert(isIdentifierLike(KW.RECORD) && !isIdentifierLike(KW.CLASS));
 * ```
 */
export function isIdentifierLike(kw: number): boolean {
  return kw === 0 || kw >= KW.RECORD;
}

// ASCII character classes.
const C_OTHER = 0;
const C_SPACE = 1;
const C_IDENT = 2;
const C_DIGIT = 3;
const C_SLASH = 4;
const C_QUOTE = 5;
const C_APOS = 6;
const C_DOT = 7;
const C_ILLEGAL = 8;

const ASCII_CLASS = new Uint8Array(128);
const ASCII_IDENT_PART = new Uint8Array(128);
for (let c = 0; c < 128; c++) {
  let k = C_OTHER;
  if (c === 32 || c === 9 || c === 10 || c === 13 || c === 12 || c === 26) {
    k = C_SPACE;
  } else if (
    (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95 || c === 36
  ) k = C_IDENT;
  else if (c >= 48 && c <= 57) k = C_DIGIT;
  else if (c === 47) k = C_SLASH;
  else if (c === 34) k = C_QUOTE;
  else if (c === 39) k = C_APOS;
  else if (c === 46) k = C_DOT;
  else if (c < 32 || c === 127 || c === 35 || c === 92 || c === 96) {
    k = C_ILLEGAL;
  }
  ASCII_CLASS[c] = k;
  ASCII_IDENT_PART[c] = k === C_IDENT || k === C_DIGIT ? 1 : 0;
}

// Non-ASCII identifier classes, computed lazily per BMP code unit:
// 0 unknown, 1 start (and part), 2 part only, 3 neither.
const ID_START_RE = /^[\p{L}\p{Nl}\p{Sc}\p{Pc}]$/u;
const ID_PART_RE = /^[\p{L}\p{Nl}\p{Sc}\p{Pc}\p{Nd}\p{Mn}\p{Mc}\p{Cf}]$/u;
const BMP_ID_CLASS = new Uint8Array(0x10000);

function classifyCodePoint(cp: number): number {
  const s = String.fromCodePoint(cp);
  return ID_START_RE.test(s) ? 1 : ID_PART_RE.test(s) ? 2 : 3;
}

function idClass(cp: number): number {
  if (cp < 0x10000) {
    let k = BMP_ID_CLASS[cp];
    if (k === 0) BMP_ID_CLASS[cp] = k = classifyCodePoint(cp);
    return k;
  }
  return classifyCodePoint(cp);
}

/**
 * Whether a code point may start a Java identifier (letters, currency
 * symbols, connector punctuation, letter numbers).
 *
 * @param cp A Unicode code point.
 * @returns `true` if it can start an identifier.
 *
 * @example
 * ```ts
 * import { isJavaIdentifierStart } from "./java_lexer.ts";
 * console.assert(isJavaIdentifierStart(0x00e9)); // é
 * console.assert(!isJavaIdentifierStart(0x0031)); // 1
 * ```
 */
export function isJavaIdentifierStart(cp: number): boolean {
  if (cp < 128) return ASCII_CLASS[cp] === C_IDENT;
  return idClass(cp) === 1;
}

/**
 * Whether a code point may continue a Java identifier.
 *
 * @param cp A Unicode code point.
 * @returns `true` if it can be part of an identifier.
 *
 * @example
 * ```ts
 * import { isJavaIdentifierPart } from "./java_lexer.ts";
 * console.assert(isJavaIdentifierPart(0x0031) && !isJavaIdentifierPart(0x2d));
 * ```
 */
export function isJavaIdentifierPart(cp: number): boolean {
  if (cp < 128) return ASCII_IDENT_PART[cp] === 1;
  const k = idClass(cp);
  return k === 1 || k === 2;
}

/** A lexical or parse problem at a UTF-16 offset of the scanned text. */
export interface JavaProblem {
  /** Offset (UTF-16 code units) into the scanned text. */
  offset: number;
  /** Human-readable message. */
  message: string;
}

// Characters searched with `indexOf` while skipping blocks and groups.
const SEARCH = ["{", "}", "(", ")", '"', "'", "/", ";", "@"];
const S_LBRACE = 0;
const S_RBRACE = 1;
const S_LPAREN = 2;
const S_RPAREN = 3;
const S_QUOTE = 4;
const S_APOS = 5;
const S_SLASH = 6;
const S_SEMI = 7;
const S_AT = 8;
const MAX = 0x7fffffff;

// Characters that matter while skipping a bracketed group.
const G_OPEN = 1;
const G_CLOSE = 2;
const G_SLASH = 3;
const G_QUOTE = 4;
const G_APOS = 5;
const G_STOP = 6;

/**
 * The scanner. Call {@link JavaScanner.next} to move to the next token; the
 * current token's kind, start and end are plain fields, so scanning
 * allocates nothing.
 *
 * @example Tokens of a declaration
 * ```ts
 * import { JavaScanner, TOKEN } from "./java_lexer.ts";
 * const s = new JavaScanner("int a = 1; // done");
 * const kinds: number[] = [];
 * while (s.next() !== TOKEN.EOF) kinds.push(s.kind);
 * console.assert(kinds.join() === [TOKEN.IDENT, TOKEN.IDENT, 61, TOKEN.NUMBER, 59].join());
 * ```
 */
export class JavaScanner {
  /** The scanned text. */
  readonly text: string;
  /** Offset where scanning resumes (end of the current token). */
  pos = 0;
  /** Kind of the current token. */
  kind = -1;
  /** Start offset of the current token. */
  start = 0;
  /** End offset (exclusive) of the current token. */
  end = 0;
  /** Cached keyword id of the current token (-2: not computed yet). */
  kw = -2;
  /** Problems found so far (may repeat after backtracking). */
  readonly problems: JavaProblem[] = [];
  readonly #length: number;
  // Per searched character: the offset the cached answer was searched from
  // and the answer. Plain arrays: typed arrays cost far more to allocate
  // than a small file takes to scan.
  readonly #from: number[] = [MAX, MAX, MAX, MAX, MAX, MAX, MAX, MAX, MAX];
  readonly #at: number[] = [0, 0, 0, 0, 0, 0, 0, 0, 0];

  /**
   * @param text Java source (with unicode escapes already translated).
   */
  constructor(text: string) {
    this.text = text;
    this.#length = text.length;
  }

  /**
   * Records a problem.
   *
   * @param offset Where.
   * @param message What.
   */
  problem(offset: number, message: string): void {
    this.problems.push({ offset, message });
  }

  /**
   * Scans the next token.
   *
   * @returns Its kind (also stored in {@link JavaScanner.kind}).
   */
  next(): number {
    const t = this.text;
    const n = this.#length;
    let p = this.pos;
    let c = 0;
    this.kw = -2;
    // Whitespace and comments.
    for (;;) {
      // Never read past the end: `charCodeAt` would return NaN and turn
      // `c` into a float, slowing every comparison in this function.
      if (p >= n) {
        this.start = this.end = this.pos = n;
        return this.kind = TOKEN.EOF;
      }
      c = t.charCodeAt(p);
      if (c === 32) {
        p++;
        continue;
      }
      if (c < 128) {
        const k = ASCII_CLASS[c];
        if (k === C_SPACE) {
          p++;
          continue;
        }
        if (k === C_SLASH) {
          const d = t.charCodeAt(p + 1);
          if (d === 47) {
            p = this.#lineEnd(p + 2);
            continue;
          }
          if (d === 42) {
            const e = t.indexOf("*/", p + 2);
            if (e < 0) {
              this.problem(p, "unterminated comment");
              p = n;
            } else p = e + 2;
            continue;
          }
        }
      } else if (c === 0xfeff) {
        p++;
        continue;
      }
      break;
    }
    this.start = p;
    if (c < 128) {
      switch (ASCII_CLASS[c]) {
        case C_IDENT: {
          // Keywords are lowercase ASCII: other identifiers skip the lookup.
          if (c < 97) this.kw = 0;
          p++;
          while (p < n) {
            const d = t.charCodeAt(p);
            if (d < 128) {
              if (ASCII_IDENT_PART[d] === 0) break;
              p++;
            } else {
              const q = this.#nonAsciiIdentPart(p);
              if (q === p) break;
              p = q;
            }
          }
          this.end = this.pos = p;
          return this.kind = TOKEN.IDENT;
        }
        case C_DIGIT:
          this.end = this.pos = this.#number(p);
          return this.kind = TOKEN.NUMBER;
        case C_DOT: {
          const d = t.charCodeAt(p + 1);
          if (d >= 48 && d <= 57) {
            this.end = this.pos = this.#number(p + 1);
            return this.kind = TOKEN.NUMBER;
          }
          this.end = this.pos = p + 1;
          return this.kind = 46;
        }
        case C_QUOTE:
          if (t.charCodeAt(p + 1) === 34 && t.charCodeAt(p + 2) === 34) {
            this.end = this.pos = this.#textBlock(p);
            return this.kind = TOKEN.TEXT_BLOCK;
          }
          this.end = this.pos = this.#quoted(p, 34);
          return this.kind = TOKEN.STRING;
        case C_APOS:
          this.end = this.pos = this.#quoted(p, 39);
          return this.kind = TOKEN.CHAR;
        case C_ILLEGAL:
          this.problem(p, "illegal character");
          this.end = this.pos = p + 1;
          return this.kind = TOKEN.ILLEGAL;
        default:
          this.end = this.pos = p + 1;
          return this.kind = c;
      }
    }
    const q = this.#nonAsciiIdentStart(p);
    if (q !== p) {
      p = q;
      while (p < n) {
        const d = t.charCodeAt(p);
        let r = p;
        if (d < 128) {
          if (ASCII_IDENT_PART[d] === 1) r = p + 1;
        } else r = this.#nonAsciiIdentPart(p);
        if (r === p) break;
        p = r;
      }
      this.end = this.pos = p;
      return this.kind = TOKEN.IDENT;
    }
    this.problem(p, "illegal character");
    const step = c >= 0xd800 && c < 0xdc00 && p + 1 < n ? 2 : 1;
    this.end = this.pos = p + step;
    return this.kind = TOKEN.ILLEGAL;
  }

  /**
   * Classifies the current identifier token.
   *
   * @returns A {@link KW} id, 0 for a plain identifier.
   */
  keyword(): number {
    let k = this.kw;
    if (k === -2) this.kw = k = this.#keyword();
    return k;
  }

  #keyword(): number {
    return this.keywordAt(this.start, this.end);
  }

  /**
   * Classifies the word at `[s, end)` of the text (not necessarily the
   * current token).
   *
   * @param s Start offset.
   * @param end End offset (exclusive).
   * @returns A {@link KW} id, 0 for a plain identifier.
   */
  keywordAt(s: number, end: number): number {
    const len = end - s;
    if (len < 2 || len > 12) return 0;
    const t = this.text;
    const c0 = t.charCodeAt(s);
    if (c0 < 97 || c0 > 122) return 0; // keywords are lowercase ASCII
    const id = KW_IDS[
      keywordKey(len, c0, t.charCodeAt(s + 1), t.charCodeAt(s + len - 1)) &
      KW_MASK
    ];
    if (id === 0) return 0;
    const word = KW_WORDS[id];
    if (len !== word.length) return 0;
    for (let i = 1; i < len; i++) {
      if (t.charCodeAt(s + i) !== word.charCodeAt(i)) return 0;
    }
    return id;
  }

  /**
   * Skips a bracketed group whose opening character was the current token,
   * one character at a time (cheapest for short groups such as parameter
   * lists and annotation arguments): scanning starts at
   * {@link JavaScanner.pos} with depth 1 and stops after the matching
   * `close`. Only `open`/`close` are counted; comments and literals are
   * skipped. With `strict`, a `{`, `}` or `;` at depth 1 stops the skip
   * early (recovery for a missing `)`).
   *
   * @param open Opening character code.
   * @param close Closing character code.
   * @param strict Stop at `{`, `}` or `;` at depth 1.
   * @returns `true` if the group was closed; otherwise `pos` is left at the
   *   stopping character (or EOF).
   */
  skipGroup(open: number, close: number, strict: boolean): boolean {
    const t = this.text;
    const n = this.#length;
    let p = this.pos;
    let depth = 1;
    while (p < n) {
      const c = t.charCodeAt(p);
      if (c >= 128) {
        p++;
        continue;
      }
      const g = c === open ? G_OPEN : c === close ? G_CLOSE : GROUP_CLASS[c];
      if (g === 0) {
        p++;
        continue;
      }
      switch (g) {
        case G_OPEN:
          depth++;
          p++;
          break;
        case G_CLOSE:
          p++;
          if (--depth === 0) {
            this.pos = p;
            return true;
          }
          break;
        case G_SLASH: {
          const d = t.charCodeAt(p + 1);
          if (d === 47) p = this.#lineEnd(p + 2);
          else if (d === 42) {
            const e = t.indexOf("*/", p + 2);
            if (e < 0) {
              this.problem(p, "unterminated comment");
              p = n;
            } else p = e + 2;
          } else p++;
          break;
        }
        case G_QUOTE:
          p = t.charCodeAt(p + 1) === 34 && t.charCodeAt(p + 2) === 34
            ? this.#textBlock(p)
            : this.#quoted(p, 34);
          break;
        case G_APOS:
          p = this.#quoted(p, 39);
          break;
        default: // G_STOP
          if (strict && depth === 1) {
            this.pos = p;
            return false;
          }
          p++;
      }
    }
    this.pos = n;
    return false;
  }

  /**
   * Skips a `{...}` block whose `{` was the current token (scanning starts at
   * {@link JavaScanner.pos} with depth 1), stopping after the matching `}`.
   * Comments and literals are skipped. Method bodies are most of a Java file,
   * so this is the hot path: instead of visiting every character it jumps
   * between the next occurrences of the characters that matter, found with
   * native `indexOf` and cached per character (see `#find`), which keeps the
   * whole file's scanning linear.
   *
   * @returns `true` if the block was closed; `false` at EOF.
   */
  skipBlock(): boolean {
    return this.#skipNested(S_LBRACE, S_RBRACE);
  }

  /**
   * Skips a `(...)` group whose `(` was the current token. With `strict`
   * (parameter lists, which are short) it is {@link JavaScanner.skipGroup}:
   * a `{`, `}` or `;` at depth 1 ends the skip early, leaving `pos` at it
   * (recovery for a missing `)`). Otherwise (arguments, which may hold
   * lambdas and anonymous classes) it searches like
   * {@link JavaScanner.skipBlock}.
   *
   * @param strict Stop at `{`, `}` or `;` at depth 1.
   * @returns `true` if the group was closed.
   */
  skipParens(strict: boolean): boolean {
    return strict
      ? this.skipGroup(40, 41, true)
      : this.#skipNested(S_LPAREN, S_RPAREN);
  }

  /**
   * Moves {@link JavaScanner.pos} to the next `;` (or the end) without
   * tokenizing, for statements whose content does not matter (`import`).
   * Like Java itself, it does not look inside comments for the `;`.
   */
  skipToSemicolon(): void {
    this.pos = this.#find(S_SEMI, this.pos);
  }

  /**
   * Offset of the next `{` from {@link JavaScanner.pos} if nothing that
   * could hide or replace it comes first (a comment, literal, annotation,
   * `;`, `}` or `(`), else -1. Lets the parser jump over an `extends` /
   * `implements` / `permits` clause without tokenizing it.
   *
   * @returns The `{` offset, or -1.
   */
  plainBraceAhead(): number {
    const p = this.pos;
    const brace = this.#find(S_LBRACE, p);
    if (brace >= this.#length) return -1;
    if (
      this.#find(S_SLASH, p) < brace || this.#find(S_QUOTE, p) < brace ||
      this.#find(S_APOS, p) < brace || this.#find(S_AT, p) < brace ||
      this.#find(S_SEMI, p) < brace || this.#find(S_RBRACE, p) < brace ||
      this.#find(S_LPAREN, p) < brace
    ) return -1;
    return brace;
  }

  #skipNested(openId: number, closeId: number): boolean {
    const t = this.text;
    const n = this.#length;
    let p = this.pos;
    let depth = 1;
    let close = this.#find(closeId, p);
    let open = this.#find(openId, p);
    let quote = this.#find(S_QUOTE, p);
    let slash = this.#find(S_SLASH, p);
    for (;;) {
      // The earliest interesting character. Apostrophes are not searched
      // for: a character literal can only hide one of these characters as
      // `'x'`, which is recognised around it below.
      let m = close < open ? close : open;
      if (quote < m) m = quote;
      if (slash < m) m = slash;
      if (m >= n) break;
      const before = t.charCodeAt(m - 1);
      if (
        t.charCodeAt(m + 1) === 39 &&
        (before === 39 || (before === 92 && t.charCodeAt(m - 2) === 39))
      ) {
        p = m + 2; // '{', '}', '"', '\"', '/', '(' or ')'
      } else if (m === close) {
        p = m + 1;
        if (--depth === 0) {
          this.pos = p;
          return true;
        }
      } else if (m === open) {
        depth++;
        p = m + 1;
      } else if (m === quote) {
        p = t.charCodeAt(m + 1) === 34 && t.charCodeAt(m + 2) === 34
          ? this.#textBlock(m)
          : this.#quoted(m, 34);
      } else {
        const d = t.charCodeAt(m + 1);
        if (d === 47) p = this.#lineEnd(m + 2);
        else if (d === 42) {
          const e = t.indexOf("*/", m + 2);
          if (e < 0) {
            this.problem(m, "unterminated comment");
            p = n;
          } else p = e + 2;
        } else p = m + 1;
      }
      if (close < p) close = this.#find(closeId, p);
      if (open < p) open = this.#find(openId, p);
      if (quote < p) quote = this.#find(S_QUOTE, p);
      if (slash < p) slash = this.#find(S_SLASH, p);
    }
    this.pos = n;
    return false;
  }

  /**
   * Offset of the next `SEARCH[id]` character at or after `q` (or the text
   * length). Each answer is cached with the offset it was searched from and
   * reused for any later query between the two, so forward scanning never
   * searches the same stretch twice.
   */
  #find(id: number, q: number): number {
    const at = this.#at[id];
    if (this.#from[id] <= q && q <= at) return at;
    const i = this.text.indexOf(SEARCH[id], q);
    const r = i < 0 ? this.#length : i;
    this.#from[id] = q;
    this.#at[id] = r;
    return r;
  }

  #lineEnd(p: number): number {
    const t = this.text;
    const n = this.#length;
    while (p < n) {
      const c = t.charCodeAt(p);
      if (c === 10 || c === 13) return p;
      p++;
    }
    return n;
  }

  #number(p: number): number {
    const t = this.text;
    const n = this.#length;
    while (p < n) {
      const c = t.charCodeAt(p);
      if (c < 128 && (ASCII_IDENT_PART[c] === 1 || c === 46)) {
        p++;
        // Exponent sign: 1e-5, 0x1p+3.
        if (
          (c === 101 || c === 69 || c === 112 || c === 80) &&
          (t.charCodeAt(p) === 43 || t.charCodeAt(p) === 45)
        ) {
          const first = t.charCodeAt(this.start);
          const hex = first === 48 &&
            (t.charCodeAt(this.start + 1) | 32) === 120;
          if ((c | 32) === (hex ? 112 : 101)) p++;
        }
      } else break;
    }
    return p;
  }

  /** Scans a string or char literal starting at the quote; returns its end. */
  #quoted(p: number, quote: number): number {
    const t = this.text;
    const n = this.#length;
    const start = p;
    p++;
    while (p < n) {
      const c = t.charCodeAt(p);
      if (c === quote) return p + 1;
      if (c === 92) {
        const d = t.charCodeAt(p + 1);
        if (d === 10 || d === 13) break;
        p += 2;
        continue;
      }
      if (c === 10 || c === 13) break;
      p++;
    }
    if (p > n) p = n;
    this.problem(
      start,
      quote === 34
        ? "unterminated string literal"
        : "unterminated character literal",
    );
    return p;
  }

  /** Scans a text block starting at its first quote; returns its end. */
  #textBlock(p: number): number {
    const t = this.text;
    const n = this.#length;
    const start = p;
    p += 3;
    while (p < n) {
      const c = t.charCodeAt(p);
      if (c === 92) {
        p += 2;
        continue;
      }
      if (
        c === 34 && t.charCodeAt(p + 1) === 34 && t.charCodeAt(p + 2) === 34
      ) {
        return p + 3;
      }
      p++;
    }
    this.problem(start, "unterminated text block");
    return n;
  }

  /** End of a non-ASCII identifier-start character at `p`, or `p`. */
  #nonAsciiIdentStart(p: number): number {
    const c = this.text.charCodeAt(p);
    if (c >= 0xd800 && c < 0xdc00) {
      const cp = this.text.codePointAt(p)!;
      return cp > 0xffff && idClass(cp) === 1 ? p + 2 : p;
    }
    return idClass(c) === 1 ? p + 1 : p;
  }

  /** End of a non-ASCII identifier-part character at `p`, or `p`. */
  #nonAsciiIdentPart(p: number): number {
    const c = this.text.charCodeAt(p);
    if (c >= 0xd800 && c < 0xdc00) {
      const cp = this.text.codePointAt(p)!;
      if (cp <= 0xffff) return p;
      const k = idClass(cp);
      return k === 1 || k === 2 ? p + 2 : p;
    }
    if (c === 0xfeff) return p; // handled as whitespace
    const k = idClass(c);
    return k === 1 || k === 2 ? p + 1 : p;
  }
}

const GROUP_CLASS = new Uint8Array(128);
GROUP_CLASS[47] = G_SLASH;
GROUP_CLASS[34] = G_QUOTE;
GROUP_CLASS[39] = G_APOS;
GROUP_CLASS[123] = G_STOP;
GROUP_CLASS[125] = G_STOP;
GROUP_CLASS[59] = G_STOP;

/** Result of {@link translateUnicodeEscapes}. */
export interface TranslatedText {
  /** The text with every eligible `\uXXXX` escape replaced. */
  text: string;
  /**
   * For each UTF-16 index of `text` (and its length), the index in the
   * original text where that character's source starts.
   */
  map: Int32Array;
  /** Offsets (original text) of malformed escapes (`\u` without 4 hex digits). */
  invalid: number[];
}

function hexValue(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  const l = c | 32;
  if (l >= 97 && l <= 102) return l - 87;
  return -1;
}

/**
 * Applies JLS 3.3 unicode-escape translation: a backslash preceded by an
 * even number of contiguous backslashes, followed by one or more `u` and four
 * hex digits, stands for that UTF-16 code unit. Returns `undefined` when the
 * text has no eligible escape (the common case, at the cost of one
 * `indexOf`).
 *
 * @param text Raw source.
 * @returns The translated text with an offset map, or `undefined`.
 *
 * @example
 * ```ts
 * import { translateUnicodeEscapes } from "./java_lexer.ts";
 * const t = translateUnicodeEscapes("\\u0063lass A")!;
 * console.assert(t.text === "class A" && t.map[1] === 6);
 * console.assert(translateUnicodeEscapes("class A") === undefined);
 * ```
 */
export function translateUnicodeEscapes(
  text: string,
): TranslatedText | undefined {
  // Backslashes are rare outside string escapes: find one followed by `u`
  // with single-character searches (much faster than a two-character one).
  let first = text.indexOf("\\");
  while (first >= 0 && text.charCodeAt(first + 1) !== 117) {
    first = text.indexOf("\\", first + 2);
  }
  if (first < 0) return undefined;
  // Back up to the start of the backslash run so parity is counted right.
  while (first > 0 && text.charCodeAt(first - 1) === 92) first--;
  const n = text.length;
  const out: string[] = [];
  const map: number[] = [];
  const invalid: number[] = [];
  let copiedTo = 0;
  let run = 0; // contiguous raw backslashes before the current character
  let changed = false;
  for (let i = first; i < n;) {
    const c = text.charCodeAt(i);
    if (c !== 92) {
      run = 0;
      i++;
      continue;
    }
    if (run % 2 === 1 || text.charCodeAt(i + 1) !== 117) {
      run++;
      i++;
      continue;
    }
    let j = i + 1;
    while (j < n && text.charCodeAt(j) === 117) j++;
    let value = 0;
    let ok = j + 4 <= n;
    for (let k = 0; ok && k < 4; k++) {
      const h = hexValue(text.charCodeAt(j + k));
      if (h < 0) ok = false;
      else value = value * 16 + h;
    }
    if (!ok) {
      invalid.push(i);
      run = 0;
      i = j;
      continue;
    }
    for (let k = copiedTo; k < i; k++) map.push(k);
    out.push(text.slice(copiedTo, i), String.fromCharCode(value));
    map.push(i);
    copiedTo = i = j + 4;
    run = 0; // a translated backslash never starts another escape
    changed = true;
  }
  if (!changed && invalid.length === 0) return undefined;
  for (let k = copiedTo; k < n; k++) map.push(k);
  map.push(n);
  out.push(text.slice(copiedTo));
  return { text: out.join(""), map: Int32Array.from(map), invalid };
}
