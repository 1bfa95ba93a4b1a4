/**
 * Java syntax diagnostics: a light, token-level checker run only when a
 * client asks for a file's diagnostics (symbol extraction never uses it).
 *
 * It reports, as `error` diagnostics with 0-based line and UTF-16 column:
 * - lexical errors (unterminated string, character, text-block and comment
 *   literals, illegal characters, malformed unicode escapes);
 * - unbalanced or mismatched `()`, `[]` and `{}` (the unclosed opener and
 *   the stray closer are both reported; when braces are left open at the
 *   end, the block whose `}` sits left of its opening line is blamed);
 * - a missing expression (`x = ;`, `f(, 1)`, `a + )`, `a = * b`);
 * - a missing `;` where it is unambiguous: after a field declarator, at
 *   the end of a block (`{ return x }`), between a finished expression and
 *   a token that can only start a statement (`x = 1 return`, `f() g()`),
 *   or between two operands after `=` or `return` (`x = y z = 1`);
 * - class-level tokens that cannot start a member, declarations without a
 *   name (`int = 1;`, `class {`), and type headers without a body.
 *
 * The checker favours silence over guessing: every rule only fires on token
 * patterns that no valid Java program contains, so well-formed files give an
 * empty list (it reports nothing on the JDK's own sources). Statements
 * inside method bodies are checked by token rules only, not parsed. All
 * passes are iterative and linear or close to it on any input.
 *
 * Deliberate differences from the reference: positions count `\r\n` and a
 * lone `\r` as line breaks like symbol positions do, unless `lfLineBreaks`
 * is set (the reference counts `\n` only); and nesting deeper than
 * {@link MAX_NESTING} levels is reported once instead of being parsed.
 *
 * @module
 */

import type { RemoteDiagnostic } from "../wire/types.ts";
import { JavaScanner, TOKEN, translateUnicodeEscapes } from "./java_lexer.ts";

/**
 * At most this many diagnostics per file (the wire's per-message limit);
 * the default cap of {@link javaDiagnostics}.
 *
 * @example
 * ```ts
 * import { MAX_DIAGNOSTICS } from "./java_diagnostics.ts";
 * console.assert(MAX_DIAGNOSTICS === 100_000);
 * ```
 */
export const MAX_DIAGNOSTICS = 100_000;

/**
 * Bracket nesting depth beyond which a file is reported as too deeply
 * nested (once) and deeper structure is not checked.
 *
 * @example
 * ```ts
 * import { MAX_NESTING } from "./java_diagnostics.ts";
 * console.assert(MAX_NESTING === 1000);
 * ```
 */
export const MAX_NESTING = 1000;

/** Options for {@link javaDiagnostics}. */
export interface JavaDiagnosticsOptions {
  /**
   * Count only `\n` as a line break, as the reference worker does for
   * diagnostics (symbol positions always also honour `\r\n` and `\r`).
   * @default {false}
   */
  lfLineBreaks?: boolean;
  /**
   * Most diagnostics returned.
   * @default {100000}
   */
  maxDiagnostics?: number;
}

interface Problem {
  offset: number;
  message: string;
}

const RESERVED = new Set([
  "abstract",
  "assert",
  "boolean",
  "break",
  "byte",
  "case",
  "catch",
  "char",
  "class",
  "const",
  "continue",
  "default",
  "do",
  "double",
  "else",
  "enum",
  "extends",
  "final",
  "finally",
  "float",
  "for",
  "goto",
  "if",
  "implements",
  "import",
  "instanceof",
  "int",
  "interface",
  "long",
  "native",
  "new",
  "package",
  "private",
  "protected",
  "public",
  "return",
  "short",
  "static",
  "strictfp",
  "super",
  "switch",
  "synchronized",
  "this",
  "throw",
  "throws",
  "transient",
  "try",
  "void",
  "volatile",
  "while",
  "true",
  "false",
  "null",
]);
const MODIFIERS = new Set([
  "public",
  "protected",
  "private",
  "static",
  "abstract",
  "final",
  "native",
  "synchronized",
  "transient",
  "volatile",
  "strictfp",
  "default",
]);
const PRIMITIVES = new Set([
  "boolean",
  "byte",
  "char",
  "short",
  "int",
  "long",
  "float",
  "double",
]);
/** Words that can only start a statement, never continue an expression. */
const STATEMENT_WORDS = new Set([
  ...PRIMITIVES,
  "void",
  "if",
  "else",
  "while",
  "for",
  "do",
  "try",
  "switch",
  "return",
  "throw",
  "break",
  "continue",
  "assert",
]);
/** More words that cannot follow a call's `)`. */
const AFTER_CALL_WORDS = new Set(["this", "super", "new", "final"]);
/** Reserved words that cannot end a block's last statement. */
const BLOCK_END_WORDS = new Set([
  "this",
  "super",
  "null",
  "true",
  "false",
  "return",
  "break",
  "continue",
]);
/** Words that start a member when they open a line. */
const MEMBER_WORDS = new Set([
  ...MODIFIERS,
  ...PRIMITIVES,
  "void",
  "class",
  "interface",
  "enum",
]);
/** Reserved words that may appear inside an expression. */
const EXPRESSION_WORDS = new Set([
  ...PRIMITIVES,
  "void",
  "class",
  "new",
  "switch",
  "this",
  "super",
  "null",
  "true",
  "false",
]);
/** Reserved words that may appear inside type arguments. */
const TYPE_ARGUMENT_WORDS = new Set([...PRIMITIVES, "extends", "super"]);
/** Punctuation that may appear inside type arguments. */
const TYPE_ARGUMENT_PUNCTUATION = new Set([
  "<",
  ">",
  ".",
  ",",
  "?",
  "&",
  "[",
  "]",
  "@",
  "(",
]);
/** Value words that can end an expression. */
const VALUE_WORDS = new Set(["this", "super", "null", "true", "false"]);

/** Multi-character operators, longest first (`>>` stays two `>`). */
const OPERATORS = [
  ">>>=",
  "<<=",
  ">>=",
  "...",
  "->",
  "::",
  "++",
  "--",
  "&&",
  "||",
  "==",
  "!=",
  "<=",
  ">=",
  "+=",
  "-=",
  "*=",
  "/=",
  "%=",
  "&=",
  "|=",
  "^=",
  "<<",
];
const ASSIGN = [
  "=",
  "+=",
  "-=",
  "*=",
  "/=",
  "%=",
  "&=",
  "|=",
  "^=",
  "<<=",
  ">>=",
  ">>>=",
];
const BINARY = [
  "+",
  "-",
  "*",
  "/",
  "%",
  "==",
  "!=",
  "<=",
  ">=",
  "&&",
  "||",
  "&",
  "|",
  "^",
  "<<",
];
/** Operators that must be followed by an operand. */
const ASSIGN_SET = new Set(ASSIGN);
const NEEDS_OPERAND = new Set([...ASSIGN, ...BINARY, "!", "~", "->"]);
/** Tokens that cannot start an expression. */
const BINARY_ONLY = new Set([
  ...ASSIGN,
  ...BINARY.filter((op) => op !== "+" && op !== "-"), // unary too
  "->",
  "::",
]);
/** Tokens where an expression would have to end. */
const TERMINATORS = new Set([";", ")", "]", "}", ",", "eof"]);
const OPENER_OF: Record<string, string> = { ")": "(", "]": "[", "}": "{" };

const BODY_CLASS = 0;
const BODY_ENUM = 1;

/** Tokens of the (escape-translated) text. */
class Tokens {
  readonly kinds: string[] = [];
  readonly words: string[] = [];
  readonly starts: number[] = [];
  readonly ends: number[] = [];
  /** Whether a line break precedes the token. */
  readonly newline: boolean[] = [];
  /** Whether an illegal character was dropped just before the token. */
  readonly afterIllegal: boolean[] = [];
  readonly problems: Problem[];
  readonly length: number;
  readonly textLength: number;
  readonly text: string;

  constructor(text: string) {
    this.text = text;
    const s = new JavaScanner(text);
    let last = 0;
    let illegal = false;
    for (let k = s.next(); k !== TOKEN.EOF; k = s.next()) {
      if (k === TOKEN.ILLEGAL) {
        illegal = true; // reported by the scanner
        continue;
      }
      let kind: string;
      let word = "";
      if (k === TOKEN.IDENT) {
        kind = "id";
        word = text.slice(s.start, s.end);
      } else if (k === TOKEN.NUMBER) kind = "num";
      else if (k === TOKEN.STRING) kind = "str";
      else if (k === TOKEN.CHAR) kind = "chr";
      else if (k === TOKEN.TEXT_BLOCK) kind = "tb";
      else {
        kind = String.fromCharCode(k);
        for (const op of OPERATORS) {
          if (op.charCodeAt(0) === k && text.startsWith(op, s.start)) {
            kind = op;
            s.end = s.pos = s.start + op.length;
            break;
          }
        }
      }
      this.kinds.push(kind);
      this.words.push(word);
      this.starts.push(s.start);
      this.ends.push(s.end);
      this.newline.push(hasLineBreak(text, last, s.start));
      this.afterIllegal.push(illegal);
      illegal = false;
      last = s.end;
    }
    this.problems = s.problems;
    this.length = this.kinds.length;
    this.textLength = text.length;
  }
}

function hasLineBreak(text: string, from: number, to: number): boolean {
  for (let i = from; i < to; i++) {
    const c = text.charCodeAt(i);
    if (c === 10 || c === 13) return true;
  }
  return false;
}

/** The checker over one file's tokens. */
class Checker {
  readonly t: Tokens;
  readonly n: number;
  readonly problems: Problem[];
  /** For an opener: the index after its group (after the closer if any). */
  readonly after: Int32Array;
  /** For a matched closer: its opener's index. */
  readonly opener: Int32Array;
  /** Whether an opener has its matching closer. */
  readonly closed: Uint8Array;
  /** Whether a token ends an annotation. */
  readonly annotationEnd: Uint8Array;
  /** Whether a `{` has been queued as a class or enum body. */
  readonly queued: Uint8Array;
  readonly work: [number, number][] = [];
  /** Offsets of lexical problems, ascending. */
  readonly lexical: number[];
  /** First token of the member being parsed. */
  memberStart = 0;
  /** Start offsets of unterminated literals. */
  readonly unterminated: Set<number>;

  constructor(tokens: Tokens) {
    this.t = tokens;
    this.n = tokens.length;
    this.problems = tokens.problems.slice();
    this.after = new Int32Array(this.n);
    this.closed = new Uint8Array(this.n);
    this.opener = new Int32Array(this.n).fill(-1);
    this.annotationEnd = new Uint8Array(this.n);
    this.queued = new Uint8Array(this.n);
    this.lexical = tokens.problems.map((p) => p.offset).sort((a, b) => a - b);
    this.unterminated = new Set(
      tokens.problems.filter((p) => p.message.startsWith("unterminated")).map((
        p,
      ) => p.offset),
    );
  }

  kind(i: number): string {
    return i < this.n ? this.t.kinds[i] : "eof";
  }

  isWord(i: number, word: string): boolean {
    return i < this.n && this.t.kinds[i] === "id" && this.t.words[i] === word;
  }

  /** An identifier usable as a name (not a reserved word). */
  isName(i: number): boolean {
    return i < this.n && this.t.kinds[i] === "id" &&
      !RESERVED.has(this.t.words[i]);
  }

  /** Start offset of token `i` (the text's end for the end of input). */
  pos(i: number): number {
    return i < this.n ? this.t.starts[i] : this.t.textLength;
  }

  /** End offset of token `i - 1` (where a missing `;` belongs). */
  endBefore(i: number): number {
    return i > 0 ? this.t.ends[Math.min(i, this.n) - 1] : 0;
  }

  report(offset: number, message: string): void {
    this.problems.push({ offset, message });
  }

  /**
   * Reports a missing `;` after token `i - 1`, unless that token is an
   * unterminated literal (already reported; the `;` is probably inside it).
   */
  missingSemicolon(i: number, message = "expected `;`", member = false): void {
    const prev = Math.min(i, this.n) - 1;
    if (prev >= 0 && this.unterminated.has(this.t.starts[prev])) return;
    if (member) this.memberReport(this.endBefore(i), message);
    else this.report(this.endBefore(i), message);
  }

  /**
   * Reports a malformed member unless a lexical error lies between the
   * member's start and `offset` (the member is then likely a cascade).
   */
  memberReport(offset: number, message: string): void {
    if (this.t.afterIllegal[this.memberStart]) return;
    const from = this.pos(this.memberStart);
    const lexical = this.lexical;
    let lo = 0;
    let hi = lexical.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (lexical[mid] < from) lo = mid + 1;
      else hi = mid;
    }
    if (lo < lexical.length && lexical[lo] <= offset) return;
    this.report(offset, message);
  }

  /** The index after token `i`, or after its whole group for an opener. */
  skip(i: number): number {
    const k = this.kind(i);
    return k === "(" || k === "[" || k === "{" ? this.after[i] : i + 1;
  }

  run(): Problem[] {
    this.matchDelimiters();
    this.markAnnotations();
    this.tokenRules();
    this.expressionRules();
    this.parseTopLevel();
    this.drain();
    this.findOtherBodies();
    this.blockRules();
    return this.problems;
  }

  matchDelimiters(): void {
    const { kinds, starts } = this.t;
    const stack: number[] = [];
    let deepReported = false;
    for (let i = 0; i < this.n; i++) {
      const k = kinds[i];
      if (k === "(" || k === "[" || k === "{") {
        if (stack.length >= MAX_NESTING && !deepReported) {
          deepReported = true;
          this.report(starts[i], "nesting too deep");
        }
        stack.push(i);
      } else if (k === ")" || k === "]" || k === "}") {
        const opener = OPENER_OF[k];
        let j = stack.length - 1;
        const lowest = Math.max(0, stack.length - 64);
        while (j >= lowest && kinds[stack[j]] !== opener) j--;
        if (j < lowest) {
          this.report(starts[i], `unexpected \`${k}\``);
          continue;
        }
        while (stack.length - 1 > j) {
          const o = stack.pop()!;
          this.report(starts[o], `unclosed \`${kinds[o]}\``);
          this.after[o] = i;
        }
        const o = stack.pop()!;
        this.after[o] = i + 1;
        this.closed[o] = 1;
        this.opener[i] = o;
      }
    }
    // Braces still open at the end: blame the blocks whose `}` sits left
    // of their opening line (it most likely belongs to an outer brace)
    // instead of the outermost open braces, one for one.
    const open = stack.filter((o) => kinds[o] === "{");
    const blamed = this.misindentedBlocks(open.length);
    const excused = new Set(open.slice(0, blamed.length));
    for (const o of blamed) this.report(starts[o], "unclosed `{`");
    for (const o of stack) {
      if (!excused.has(o)) this.report(starts[o], `unclosed \`${kinds[o]}\``);
      this.after[o] = this.n;
    }
  }

  /** Indentation (UTF-16 units) of the line holding each token. */
  indentations(): Int32Array {
    const out = new Int32Array(this.n);
    const { text, starts, newline } = this.t;
    let indent = 0;
    for (let i = 0; i < this.n; i++) {
      if (i === 0 || newline[i]) {
        let p = starts[i];
        while (p > 0) {
          const c = text.charCodeAt(p - 1);
          if (c === 10 || c === 13) break;
          p--;
        }
        indent = starts[i] - p;
      }
      out[i] = indent;
    }
    return out;
  }

  /**
   * Up to `max` matched `{` whose `}` starts a line indented less than the
   * `{`'s own line, earliest `}` first.
   */
  misindentedBlocks(max: number): number[] {
    if (max === 0) return [];
    const out: number[] = [];
    const indent = this.indentations();
    for (let o = 0; o < this.n; o++) {
      if (this.t.kinds[o] !== "{" || !this.closed[o]) continue;
      const c = this.after[o] - 1;
      if (this.t.newline[c] && indent[c] < indent[o]) out.push(o);
    }
    // The first misplaced `}` shows where the missing one belongs.
    out.sort((a, b) => this.after[a] - this.after[b]);
    return out.slice(0, max);
  }

  /** Index after the annotation starting with the `@` at `i`. */
  skipAnnotation(i: number): number {
    let j = i + 1;
    if (!this.isName(j)) return j;
    while (this.kind(j + 1) === "." && this.kind(j + 2) === "id") j += 2;
    j++;
    if (this.kind(j) === "(") j = this.after[j];
    return j;
  }

  markAnnotations(): void {
    for (let i = 0; i < this.n; i++) {
      if (this.t.kinds[i] !== "@" || this.isWord(i + 1, "interface")) continue;
      const j = this.skipAnnotation(i);
      if (j > i + 1 && this.kind(j - 1) !== "(") this.annotationEnd[j - 1] = 1;
    }
  }

  /** Whether token `i` can end an expression (literals excluded). */
  endsExpression(i: number): boolean {
    const k = this.t.kinds[i];
    if (k === "id") {
      const w = this.t.words[i];
      return w !== "yield" && (!RESERVED.has(w) || VALUE_WORDS.has(w));
    }
    return k === "]" || k === "++" || k === "--";
  }

  /**
   * Whether the `)` at `i` closes a call's (or a declaration's) argument
   * list: its `(` follows a plain name, `this` or `super`. Excludes annotations and the
   * contextual `yield` and `when`, which may be followed by a parenthesized
   * expression.
   */
  endsCall(i: number): boolean {
    const o = this.opener[i];
    if (o <= 0 || this.annotationEnd[i] || this.kind(o - 1) !== "id") {
      return false;
    }
    const w = this.t.words[o - 1];
    if (w === "this" || w === "super") return true;
    return !RESERVED.has(w) && w !== "yield" && w !== "when";
  }

  isLiteral(i: number): boolean {
    const k = this.kind(i);
    return k === "num" || k === "str" || k === "chr" || k === "tb";
  }

  /** Local token-pair rules, valid in every context. */
  tokenRules(): void {
    const { kinds, words } = this.t;
    for (let i = 0; i < this.n; i++) {
      if (this.t.afterIllegal[i + 1]) continue; // not really adjacent
      const k = kinds[i];
      const next = this.kind(i + 1);
      const at = this.pos(i + 1);
      if (NEEDS_OPERAND.has(k)) {
        if (k === "*" && this.kind(i - 1) === ".") continue; // import a.*;
        if (TERMINATORS.has(next) || BINARY_ONLY.has(next)) {
          this.report(at, "expected expression");
        }
      } else if (k === "(" || k === "," || k === "[") {
        if (
          BINARY_ONLY.has(next) || next === "," ||
          (k === "," && (next === ")" || next === "]"))
        ) this.report(at, "expected expression");
      } else if (k === ".") {
        if (next !== "id" && next !== "<" && next !== "*" && next !== "@") {
          this.report(at, "expected identifier after `.`");
        }
      } else if (k === "::") {
        if (next !== "id" && next !== "<") {
          this.report(at, "expected identifier after `::`");
        }
      } else if (k === "@") {
        if (!this.isName(i + 1) && !this.isWord(i + 1, "interface")) {
          this.report(at, "expected annotation name");
        }
      } else if (k === "id") {
        const w = words[i];
        if (w === "throw" && TERMINATORS.has(next)) {
          this.report(at, "expected expression");
        } else if (
          w === "new" && next !== "id" && next !== "<" && next !== "@" &&
          this.kind(i - 1) !== "::"
        ) this.report(at, "expected a type after `new`");
        else if (
          PRIMITIVES.has(w) && (next === "=" || next === ";" || next === ",")
        ) this.report(at, "expected a name");
        else if (
          next === "id" && this.endsExpression(i) && !this.annotationEnd[i] &&
          STATEMENT_WORDS.has(words[i + 1])
        ) this.report(this.t.ends[i], "expected `;`");
      } else if (this.isLiteral(i)) {
        if (
          (next === "id" && words[i + 1] !== "instanceof") ||
          this.isLiteral(i + 1)
        ) this.missingSemicolon(i + 1);
      } else if (k === ")") {
        if (next === "id" && this.endsCall(i)) {
          const w = words[i + 1];
          if (
            STATEMENT_WORDS.has(w) || AFTER_CALL_WORDS.has(w) ||
            (!RESERVED.has(w) && w !== "when" && w !== "yield")
          ) this.report(this.t.ends[i], "expected `;`");
        }
      } else if (k === "]" || k === "++" || k === "--") {
        if (next === "id" && STATEMENT_WORDS.has(words[i + 1])) {
          this.report(this.t.ends[i], "expected `;`");
        }
      }
    }
  }

  /**
   * Two adjacent operands (names, value words, literals) inside the
   * expression after an assignment operator or `return` cannot be valid
   * (`instanceof` patterns and type annotations are left out): the
   * statement lacks its `;`.
   */
  expressionRules(): void {
    const { kinds } = this.t;
    for (let i = 0; i < this.n; i++) {
      if (!ASSIGN_SET.has(kinds[i]) && !this.isWord(i, "return")) continue;
      let j = i + 1;
      while (j < this.n) {
        const k = kinds[j];
        if (
          k === ";" || k === "," || k === ")" || k === "]" || k === "}" ||
          k === ":" || ASSIGN_SET.has(k) ||
          (k === "id" && RESERVED.has(this.t.words[j]) &&
            !EXPRESSION_WORDS.has(this.t.words[j]))
        ) break;
        if (
          k === "(" && this.closed[j] && this.endsCall(this.after[j] - 1) &&
          this.isOperand(this.after[j]) && !this.t.afterIllegal[this.after[j]]
        ) {
          this.report(this.t.ends[this.after[j] - 1], "expected `;`");
          break;
        }
        if (
          this.isOperand(j) && this.isOperand(j + 1) &&
          !this.t.afterIllegal[j + 1]
        ) {
          this.report(this.t.ends[j], "expected `;`");
          break;
        }
        j = this.skip(j);
      }
    }
  }

  /**
   * Whether the `{` at `o` opens a block of statements (run after parsing,
   * when every class and enum body is known). Array initializers, switch
   * bodies, module bodies and bodies after a `throws` clause are left out.
   */
  isBlock(o: number): boolean {
    if (this.queued[o] || o === 0) return false;
    const p = o - 1;
    const k = this.t.kinds[p];
    if (k === ")") {
      const q = this.opener[p];
      return q > 0 && !this.isWord(q - 1, "switch");
    }
    if (k === "->" || k === ";" || k === "}" || k === ":") return true;
    if (this.isName(p)) {
      // A body after a `throws` clause.
      for (let j = p; j > 0 && j > p - 64; j--) {
        const kj = this.t.kinds[j];
        if (this.isWord(j, "throws")) return true;
        if (kj !== "id" && kj !== "." && kj !== "," && kj !== ">") break;
        if (kj === "id" && RESERVED.has(this.t.words[j])) break;
      }
      return false;
    }
    return this.isWord(p, "else") || this.isWord(p, "try") ||
      this.isWord(p, "finally") || this.isWord(p, "do") ||
      this.isWord(p, "static");
  }

  /** A block's last statement must end with `;` (or a block). */
  blockRules(): void {
    for (let o = 0; o < this.n; o++) {
      if (this.t.kinds[o] !== "{" || !this.closed[o] || !this.isBlock(o)) {
        continue;
      }
      const last = this.after[o] - 2;
      if (last <= o || this.unterminated.has(this.t.starts[last])) continue;
      const k = this.t.kinds[last];
      if (
        (k === ")" && this.endsCall(last)) || this.isLiteral(last) ||
        k === "]" || k === "++" || k === "--" ||
        (k === "id" && !this.annotationEnd[last] &&
          (!RESERVED.has(this.t.words[last]) ||
            BLOCK_END_WORDS.has(this.t.words[last])))
      ) this.report(this.t.ends[last], "expected `;`");
    }
  }

  /** A name, value word (`this`, `null`, ...) or literal, not annotation. */
  isOperand(i: number): boolean {
    if (i >= this.n || this.annotationEnd[i]) return false;
    // `super` is left out: `? super T` in type arguments.
    return this.isName(i) || this.isLiteral(i) ||
      (this.t.kinds[i] === "id" && VALUE_WORDS.has(this.t.words[i]) &&
        this.t.words[i] !== "super");
  }

  /** Queues the `{` at `i` as a class or enum body (once). */
  queue(i: number, kind: number): void {
    if (this.kind(i) !== "{" || this.queued[i]) return;
    this.queued[i] = 1;
    this.work.push([i, kind]);
  }

  drain(): void {
    for (let item = this.work.pop(); item; item = this.work.pop()) {
      const [open, kind] = item;
      const to = this.closed[open] ? this.after[open] - 1 : this.after[open];
      let i = open + 1;
      if (kind === BODY_ENUM) i = this.parseEnumConstants(i, to);
      while (i < to) i = this.parseMember(i, to, false);
    }
  }

  parseTopLevel(): void {
    let i = 0;
    while (i < this.n) {
      let j = i;
      while (this.kind(j) === "@" && this.isName(j + 1)) {
        j = this.skipAnnotation(j);
      }
      if (this.isWord(j, "package") || this.isWord(j, "import")) {
        i = j + 1;
        while (
          this.isWord(i, "static") || this.isName(i) || this.kind(i) === "." ||
          this.kind(i) === "*"
        ) i++;
        if (this.kind(i) === ";") i++;
        else this.missingSemicolon(i);
      } else i = this.parseMember(i, this.n, true);
    }
  }

  /** Whether a type declaration starts at `i` (after modifiers). */
  startsType(i: number): boolean {
    if (
      this.isWord(i, "class") || this.isWord(i, "interface") ||
      this.isWord(i, "enum")
    ) return true;
    if (this.kind(i) === "@" && this.isWord(i + 1, "interface")) return true;
    return this.isWord(i, "record") && this.isName(i + 1) &&
      (this.kind(i + 2) === "(" || this.kind(i + 2) === "<");
  }

  /** Skips modifiers and annotations. */
  skipModifiers(i: number, to: number): number {
    while (i < to) {
      if (this.kind(i) === "@" && !this.isWord(i + 1, "interface")) {
        i = this.skipAnnotation(i);
      } else if (this.kind(i) === "id" && MODIFIERS.has(this.t.words[i])) i++;
      else if (
        this.isWord(i, "sealed") && this.kind(i + 1) === "id" &&
        (RESERVED.has(this.t.words[i + 1]) || this.isWord(i + 1, "non"))
      ) i++;
      else if (
        this.isWord(i, "non") && this.kind(i + 1) === "-" &&
        this.isWord(i + 2, "sealed")
      ) i += 3;
      else break;
    }
    return i;
  }

  /** Parses one member of a body ending before `to`; returns where it ends. */
  parseMember(start: number, to: number, topLevel: boolean): number {
    this.memberStart = start;
    const k = this.kind(start);
    if (k === ";") return start + 1;
    if (k === ")" || k === "]" || k === "}") return start + 1; // reported
    let i = this.skipModifiers(start, to);
    if (
      topLevel &&
      (this.isWord(i, "module") ||
        (this.isWord(i, "open") && this.isWord(i + 1, "module")))
    ) {
      while (i < to && this.kind(i) !== "{" && this.kind(i) !== ";") i++;
      return i < to ? this.skip(i) : i;
    }
    if (this.kind(i) === "{") {
      if (topLevel) {
        this.memberReport(
          this.pos(i),
          "expected class, interface, enum, or record",
        );
      }
      return this.skip(i);
    }
    if (this.startsType(i)) return this.parseTypeDeclaration(i, to);
    if (this.kind(i) === "<") {
      const j = this.skipAngles(i, to);
      if (j < 0) return this.recover(start, i, to, "expected `>`");
      i = j;
    }
    if (
      this.isName(i) && (this.kind(i + 1) === "(" || this.kind(i + 1) === "{")
    ) {
      // A constructor (or a record's compact constructor).
      if (this.kind(i + 1) === "{") return this.skip(i + 1);
      return this.finishMethod(this.skip(i + 1), to, true);
    }
    if (
      this.isName(i) ||
      (this.kind(i) === "id" &&
        (PRIMITIVES.has(this.t.words[i]) || this.t.words[i] === "void"))
    ) {
      i = this.parseType(i, to);
      if (!this.isName(i)) {
        return this.recover(start, i, to, "expected a name");
      }
      i++;
      if (this.kind(i) === "(") {
        return this.finishMethod(this.skip(i), to, false);
      }
      return this.finishField(i, to);
    }
    if (i > start && i >= to) {
      this.memberReport(this.endBefore(i), "expected a declaration");
      return i;
    }
    return this.recover(
      start,
      i,
      to,
      topLevel
        ? "expected class, interface, enum, or record"
        : "expected a member declaration",
    );
  }

  /**
   * Reports `message` at token `i` and skips past the next `;` or block of
   * the body (always making progress past `start`).
   */
  recover(start: number, i: number, to: number, message: string): number {
    this.memberReport(this.pos(i), message);
    while (i < to) {
      const k = this.kind(i);
      if (k === ";") return i + 1;
      if (k === "{") return this.skip(i);
      if (k === "}") break;
      i = this.skip(i);
    }
    return Math.max(Math.min(i, to), start + 1);
  }

  /**
   * Skips type arguments or parameters `<...>`; returns the index after
   * them, or -1 if they are not closed or hold a token that cannot appear
   * there.
   */
  skipAngles(i: number, to: number): number {
    let depth = 0;
    while (i < to) {
      const k = this.kind(i);
      if (k === "<") depth++;
      else if (k === ">") depth--;
      else if (k === "id") {
        const w = this.t.words[i];
        if (RESERVED.has(w) && !TYPE_ARGUMENT_WORDS.has(w)) return -1;
      } else if (!TYPE_ARGUMENT_PUNCTUATION.has(k)) return -1;
      if (depth <= 0) return i + 1;
      i = this.skip(i);
    }
    return -1;
  }

  /** Skips a type (qualified, generic, annotated, array). */
  parseType(i: number, to: number): number {
    const w = this.t.words[i];
    i++;
    if (!PRIMITIVES.has(w) && w !== "void") {
      for (;;) {
        if (this.kind(i) === "<") {
          const j = this.skipAngles(i, to);
          if (j < 0) return i;
          i = j;
        }
        if (this.kind(i) !== ".") break;
        let j = i + 1;
        while (this.kind(j) === "@") j = this.skipAnnotation(j);
        if (!this.isName(j)) break;
        i = j + 1;
      }
    }
    for (;;) {
      if (this.kind(i) === "@" && !this.isWord(i + 1, "interface")) {
        i = this.skipAnnotation(i);
      } else if (this.kind(i) === "[" && this.kind(i + 1) === "]") i += 2;
      else return i;
    }
  }

  /** After a method's or constructor's parameters. */
  finishMethod(i: number, to: number, constructor: boolean): number {
    while (this.kind(i) === "[" && this.kind(i + 1) === "]") i += 2;
    if (this.isWord(i, "throws")) {
      i++;
      for (;;) {
        if (this.kind(i) === "@") i = this.skipAnnotation(i);
        else if (
          this.isName(i) || this.kind(i) === "." || this.kind(i) === ","
        ) {
          i++;
        } else if (this.kind(i) === "<") {
          const j = this.skipAngles(i, to);
          if (j < 0) break;
          i = j;
        } else break;
      }
    }
    const k = this.kind(i);
    if (k === "{") return this.skip(i);
    if (k === ";" && !constructor) return i + 1;
    if (this.isWord(i, "default") && !constructor) {
      while (i < to && this.kind(i) !== ";") i = this.skip(i);
      if (i < to) return i + 1;
      this.missingSemicolon(i, "expected `;`", true);
      return i;
    }
    this.missingSemicolon(
      i,
      constructor ? "expected constructor body" : "expected `{` or `;`",
      true,
    );
    return i;
  }

  /** After a field's first declarator name. */
  finishField(i: number, to: number): number {
    for (;;) {
      while (this.kind(i) === "[" && this.kind(i + 1) === "]") i += 2;
      if (this.kind(i) === "=") i = this.skipInitializer(i + 1, to);
      const k = this.kind(i);
      if (k === "," && i < to) {
        if (!this.isName(i + 1)) {
          return this.recover(i, i + 1, to, "expected a name");
        }
        i += 2;
        continue;
      }
      if (k === ";" && i < to) return i + 1;
      this.missingSemicolon(i, "expected `;`", true);
      return i;
    }
  }

  /** Skips an initializer up to its `,` or `;` (or where one is missing). */
  skipInitializer(i: number, to: number): number {
    const first = i;
    while (i < to) {
      const k = this.kind(i);
      if (k === ";") return i;
      if (k === ",") {
        const after = this.kind(i + 2);
        if (
          this.isName(i + 1) &&
          (after === "=" || after === "," || after === ";" || after === "[")
        ) return i;
      } else if (
        i > first && this.t.newline[i] &&
        (this.endsExpression(i - 1) || this.isLiteral(i - 1) ||
          this.kind(i - 1) === ")" || this.kind(i - 1) === "}") &&
        ((k === "id" && MEMBER_WORDS.has(this.t.words[i])) || k === "@")
      ) return i;
      if (k === "}") return i;
      i = this.skip(i);
    }
    return i;
  }

  /** Parses a type declaration starting at its keyword. */
  parseTypeDeclaration(i: number, to: number): number {
    const kind = this.isWord(i, "enum") ? BODY_ENUM : BODY_CLASS;
    i += this.kind(i) === "@" ? 2 : 1;
    if (this.isName(i)) i++;
    else this.memberReport(this.pos(i), "expected a name");
    while (i < to) {
      const k = this.kind(i);
      if (k === "{") {
        this.queue(i, kind);
        return this.skip(i);
      }
      if (
        k === ";" || k === "}" || k === "=" ||
        (this.startsType(i) && this.kind(i - 1) !== ".")
      ) break;
      i = this.skip(i);
    }
    this.memberReport(this.endBefore(i), "expected `{`");
    return i;
  }

  /** Parses an enum's constants; returns where its other members start. */
  parseEnumConstants(i: number, to: number): number {
    while (i < to) {
      this.memberStart = i;
      while (this.kind(i) === "@") i = this.skipAnnotation(i);
      if (this.kind(i) === ";") return i + 1;
      if (!this.isName(i)) return i;
      i++;
      if (this.kind(i) === "(") i = this.skip(i);
      if (this.kind(i) === "{") {
        this.queue(i, BODY_CLASS);
        i = this.skip(i);
      }
      const k = this.kind(i);
      if (k === "," && i < to) i++;
      else if (k === ";" && i < to) return i + 1;
      else if (i < to) {
        this.memberReport(this.endBefore(i), "expected `,`, `;` or `}`");
        // Another constant (a missing comma) or the members.
        if (!this.isName(i) || this.kind(i + 1) === "id") return i;
      }
    }
    return i;
  }

  /** Anonymous class bodies and local type declarations anywhere. */
  findOtherBodies(): void {
    for (let i = 0; i < this.n; i++) {
      if (this.kind(i) !== "id") continue;
      const w = this.t.words[i];
      if (w === "new") {
        let j = i + 1;
        while (j < this.n) {
          const k = this.kind(j);
          if (k === "@") j = this.skipAnnotation(j);
          else if (k === "id" || k === ".") j++;
          else if (k === "<") {
            j = this.skipAngles(j, this.n);
            if (j < 0) break;
          } else break;
        }
        if (j > 0 && this.kind(j) === "(" && this.closed[j]) {
          this.queue(this.after[j], BODY_CLASS);
        }
      } else if (
        (w === "class" || w === "interface" || w === "enum" ||
          w === "record") && this.kind(i - 1) !== "." && this.startsType(i)
      ) {
        this.memberStart = this.kind(i - 1) === "@" ? i - 1 : i;
        this.parseTypeDeclaration(this.memberStart, this.n);
      }
      this.drain();
    }
  }
}

/** Line and UTF-16 column of increasing offsets, in one pass. */
function positions(
  text: string,
  offsets: readonly number[],
  lfOnly: boolean,
): [number, number][] {
  const out: [number, number][] = [];
  let line = 0;
  let lineStart = 0;
  let p = 0;
  for (let offset of offsets) {
    if (offset > text.length) offset = text.length;
    // Clamp into a surrogate pair's start.
    if (
      offset > 0 && offset < text.length &&
      (text.charCodeAt(offset) & 0xfc00) === 0xdc00 &&
      (text.charCodeAt(offset - 1) & 0xfc00) === 0xd800
    ) offset--;
    for (; p < offset; p++) {
      const c = text.charCodeAt(p);
      if (c === 10) {
        line++;
        lineStart = p + 1;
      } else if (c === 13 && !lfOnly) {
        if (text.charCodeAt(p + 1) === 10) {
          if (p + 1 >= offset) break; // between CR and LF: the CR's line
          p++;
        }
        line++;
        lineStart = p + 1;
      }
    }
    out.push([line, offset - lineStart]);
  }
  return out;
}

/**
 * Syntax errors of one Java file as `error` diagnostics, ordered by
 * position, one per (position, message): lexical errors, unbalanced or
 * mismatched brackets, missing expressions, missing `;`, tokens that cannot
 * start a member and declarations without a name. Well-formed Java gives an
 * empty list. Never throws on any text.
 *
 * @param text The file's text.
 * @param options Line-break convention and a cap.
 * @returns Diagnostics (empty for well-formed files).
 *
 * @example
 * ```ts
 * import { javaDiagnostics } from "./java_diagnostics.ts";
 * console.assert(javaDiagnostics("class A { int x = 1; }").length === 0);
 * const [d] = javaDiagnostics("class A {\n  int x = ;\n}\n");
 * console.assert(d.severity === "error" && d.line === 1 && d.column === 10);
 * console.assert(d.message === "expected expression");
 * ```
 */
export function javaDiagnostics(
  text: string,
  options: JavaDiagnosticsOptions = {},
): RemoteDiagnostic[] {
  const max = options.maxDiagnostics ?? MAX_DIAGNOSTICS;
  if (!Number.isInteger(max) || max < 0) {
    throw new RangeError("maxDiagnostics must be a non-negative integer");
  }
  const translated = translateUnicodeEscapes(text);
  const problems = new Checker(
    new Tokens(translated ? translated.text : text),
  ).run();
  if (translated) {
    for (const p of problems) p.offset = translated.map[p.offset];
    for (const offset of translated.invalid) {
      problems.push({ offset, message: "invalid unicode escape" });
    }
  }
  problems.sort((a, b) =>
    a.offset - b.offset ||
    (a.message < b.message ? -1 : +(a.message > b.message))
  );
  const unique: Problem[] = [];
  for (const p of problems) {
    if (unique.length >= max) break;
    const prev = unique[unique.length - 1];
    if (
      prev && prev.offset === p.offset &&
      (prev.message === p.message ||
        (prev.message.startsWith("expected") &&
          p.message.startsWith("expected")))
    ) continue; // one "expected ..." per position
    unique.push(p);
  }
  const at = positions(
    text,
    unique.map((p) => p.offset),
    options.lfLineBreaks ?? false,
  );
  return unique.map((p, i) => ({
    severity: "error",
    line: at[i][0],
    column: at[i][1],
    message: p.message,
  }));
}
