/**
 * Declaration-level Java parser: walks top-level and member type
 * declarations and records the name token of every type, field declarator,
 * enum constant, record component, method and constructor (constructors
 * only when named like the enclosing type). Bodies of methods, constructors,
 * initializers and enum constants are skipped by a fast brace matcher, so
 * nothing inside them (local or anonymous classes, lambdas) is seen.
 *
 * The parser never throws. Malformed input produces {@link JavaProblem}s and
 * a best-effort symbol list: recovery skips to the next `;`, block or closing
 * `}` of the current body.
 *
 * Deliberate difference from the reference parser: it does not treat a
 * modifier-led member indented no deeper than its class header as the start
 * of a new top-level declaration, so such members are indexed (the reference
 * drops fields, methods and constructors written that way). Types without a
 * name are parsed (their members are indexed) but produce no symbol.
 *
 * @module
 */

import {
  isIdentifierLike,
  type JavaProblem,
  JavaScanner,
  KW,
  TOKEN,
} from "./java_lexer.ts";

const EOF: number = TOKEN.EOF;
const IDENT: number = TOKEN.IDENT;
const LPAREN: number = 40;
const RPAREN: number = 41;
const COMMA: number = 44;
const DOT: number = 46;
const SEMI: number = 59;
const LT: number = 60;
const EQ: number = 61;
const GT: number = 62;
const QUESTION: number = 63;
const AT: number = 64;
const LBRACKET: number = 91;
const RBRACKET: number = 93;
const LBRACE: number = 123;
const RBRACE: number = 125;
const AMP: number = 38;

/** Nesting depth of member types beyond which bodies are skipped unparsed. */
const MAX_TYPE_DEPTH: number = 200;

/** Type declaration kinds. */
const T_CLASS: number = 0;
const T_INTERFACE: number = 1;
const T_ENUM: number = 2;
const T_RECORD: number = 3;
const T_ANNOTATION: number = 4;

/** Declarations found in one file, as offsets into the parsed text. */
export interface JavaDeclarations {
  /** Start offset of each name token, in source order. */
  starts: number[];
  /** End offset (exclusive) of each name token. */
  ends: number[];
  /** Problems, in the order found (may contain repeats). */
  problems: JavaProblem[];
}

/**
 * Parses declarations out of Java text whose unicode escapes are already
 * translated (see `translateUnicodeEscapes`).
 *
 * @param text Java source.
 * @returns Name-token offsets and problems.
 *
 * @example
 * ```ts
 * import { parseJavaDeclarations } from "./java_parser.ts";
 * const text = "class A { int x; void f() { int local; } }";
 * const d = parseJavaDeclarations(text);
 * const names = d.starts.map((s, i) => text.slice(s, d.ends[i]));
 * console.assert(names.join() === "A,x,f");
 * ```
 */
export function parseJavaDeclarations(text: string): JavaDeclarations {
  const p = new DeclarationParser(text);
  p.parseCompilationUnit();
  return { starts: p.starts, ends: p.ends, problems: p.s.problems };
}

class DeclarationParser {
  readonly s: JavaScanner;
  readonly text: string;
  readonly starts: number[] = [];
  readonly ends: number[] = [];
  tok = 0;
  depth = 0;
  /** Kind of the buffered lookahead token, or -1. */
  peeked = -1;
  peekStart = 0;
  peekEnd = 0;

  constructor(text: string) {
    this.text = text;
    this.s = new JavaScanner(text);
    this.tok = this.s.next();
  }

  advance(): void {
    const s = this.s;
    if (this.peeked >= 0) {
      // Take the token `peek()` already scanned.
      s.kind = this.tok = this.peeked;
      s.start = this.peekStart;
      s.end = s.pos = this.peekEnd;
      s.kw = -2;
      this.peeked = -1;
    } else this.tok = s.next();
  }

  /** Drops a buffered `peek()` before moving the scanner directly. */
  unpeek(): void {
    this.peeked = -1;
  }

  emit(start: number, end: number): void {
    this.starts.push(start);
    this.ends.push(end);
  }

  problem(message: string, offset = this.s.start): void {
    this.s.problem(offset, message);
  }

  /** Kind of the token after the current one (scanned once, buffered). */
  peek(): number {
    if (this.peeked >= 0) return this.peeked;
    const s = this.s;
    const pos = s.pos;
    const start = s.start;
    const end = s.end;
    const kind = s.kind;
    const kw = s.kw;
    this.peeked = s.next();
    this.peekStart = s.start;
    this.peekEnd = s.end;
    s.pos = pos;
    s.start = start;
    s.end = end;
    s.kind = kind;
    s.kw = kw;
    return this.peeked;
  }

  /** Keyword id of the next token (-1 if it is not a word). */
  peekKeyword(): number {
    if (this.peek() !== IDENT) return -1;
    const s = this.s;
    const start = s.start;
    const end = s.end;
    const kw = s.kw;
    s.start = this.peekStart;
    s.end = this.peekEnd;
    s.kw = -2;
    const k = s.keyword();
    s.start = start;
    s.end = end;
    s.kw = kw;
    return k;
  }

  /** Keyword id of the current token (0 for identifiers, -1 if not a word). */
  kw(): number {
    return this.tok === IDENT ? this.s.keyword() : -1;
  }

  parseCompilationUnit(): void {
    while (this.tok !== EOF) {
      const before = this.s.start;
      if (this.tok === SEMI) this.advance();
      else if (this.tok === RBRACE) {
        this.problem("unexpected `}`");
        this.advance();
      } else {
        const k = this.kw();
        if (k === KW.PACKAGE || k === KW.IMPORT) {
          this.unpeek();
          this.s.skipToSemicolon();
          this.advance();
          this.skipStatement();
        } else this.parseMember(undefined);
      }
      if (this.s.start === before && this.tok !== EOF) this.advance();
    }
  }

  /** Skips to and past the next `;` (stopping before braces). */
  skipStatement(): void {
    for (;;) {
      const t = this.tok;
      if (t === SEMI) {
        this.advance();
        return;
      }
      if (t === EOF || t === LBRACE || t === RBRACE) {
        this.problem("expected `;`");
        return;
      }
      this.advance();
    }
  }

  /** Skips the `{...}` block whose `{` is the current token. */
  skipBlock(): void {
    const open = this.s.start;
    this.unpeek();
    if (!this.s.skipBlock()) this.problem("unclosed `{`", open);
    this.advance();
  }

  /** Skips a `(...)` group; `strict` stops at braces/`;` (parameter lists). */
  skipParens(strict: boolean): void {
    const open = this.s.start;
    this.unpeek();
    if (!this.s.skipParens(strict)) {
      this.problem("expected `)`", open);
    }
    this.advance();
  }

  /** Skips `@Name(args)` (current token `@`). */
  skipAnnotation(): void {
    this.advance();
    if (this.tok === IDENT) {
      this.advance();
      while (this.tok === DOT) {
        this.advance();
        if (this.tok === IDENT) this.advance();
      }
    } else this.problem("expected annotation name");
    if (this.tok === LPAREN) {
      const open = this.s.start;
      this.unpeek();
      // Annotation arguments are short: the character loop is cheaper.
      if (!this.s.skipGroup(LPAREN, RPAREN, false)) {
        this.problem("expected `)`", open);
      }
      this.advance();
    }
  }

  /**
   * Skips `<...>` (current token `<`). With `speculative`, gives up (and
   * returns false) on anything that cannot appear in type arguments, without
   * reporting; the caller restores the scanner.
   */
  skipTypeArgs(speculative: boolean): boolean {
    let depth = 0;
    let prev = 0;
    for (;;) {
      const t = this.tok;
      if (t === LT) depth++;
      else if (t === GT) {
        if (--depth === 0) {
          this.advance();
          return true;
        }
      } else if (t === AT) {
        this.skipAnnotation();
        prev = AT;
        continue;
      } else if (t === QUESTION) {
        if (speculative && prev !== LT && prev !== COMMA) return false;
      } else if (
        t !== IDENT && t !== COMMA && t !== DOT && t !== AMP &&
        t !== LBRACKET && t !== RBRACKET
      ) {
        if (!speculative) this.problem("unbalanced `<`");
        return false;
      }
      prev = t;
      this.advance();
    }
  }

  /** Modifiers and annotations; stops before `@interface`. */
  skipModifiers(): void {
    for (;;) {
      const t = this.tok;
      if (t === AT) {
        // `@interface` starts an annotation type declaration.
        if (this.peekKeyword() === KW.INTERFACE) return;
        this.skipAnnotation();
        continue;
      }
      if (t !== IDENT) return;
      const k = this.s.keyword();
      if (k >= KW.PUBLIC && k <= KW.DEFAULT) {
        this.advance();
        continue;
      }
      if (k === KW.SEALED) {
        const next = this.peek();
        if (next === IDENT || next === AT) {
          this.advance();
          continue;
        }
        return;
      }
      if (k === KW.NON && this.text.startsWith("-sealed", this.s.end)) {
        const after = this.text.charCodeAt(this.s.end + 7);
        if (!(after >= 0 && isWordChar(after))) {
          this.advance(); // non
          this.advance(); // -
          this.advance(); // sealed
          continue;
        }
      }
      return;
    }
  }

  /**
   * One member of a type body (or, with no owner, one top-level item). The
   * current token is neither `}` nor EOF.
   */
  parseMember(owner: string | undefined): void {
    const t0 = this.tok;
    if (t0 === SEMI) {
      this.advance();
      return;
    }
    if (t0 === LBRACE) {
      if (owner === undefined) this.problem("unexpected `{`");
      this.skipBlock(); // initializer
      return;
    }
    this.skipModifiers();
    const t = this.tok;
    if (t === LBRACE) {
      this.skipBlock(); // static initializer
      return;
    }
    if (t === AT) {
      this.parseTypeDeclaration(T_ANNOTATION);
      return;
    }
    let k = -1;
    if (t === IDENT) {
      k = this.s.keyword();
      if (k === KW.CLASS) return this.parseTypeDeclaration(T_CLASS);
      if (k === KW.INTERFACE) return this.parseTypeDeclaration(T_INTERFACE);
      if (k === KW.ENUM) return this.parseTypeDeclaration(T_ENUM);
      if (k === KW.RECORD && this.peek() === IDENT) {
        return this.parseTypeDeclaration(T_RECORD);
      }
    }
    if (owner === undefined) {
      if (k === KW.MODULE || k === KW.OPEN) {
        this.skipModuleDeclaration();
        return;
      }
      if (t !== RBRACE && t !== EOF) {
        this.problem("expected class, interface, enum, or record");
        this.skipMemberRest();
      }
      return;
    }
    if (t === LT) {
      this.skipTypeArgs(false); // type parameters of a method or constructor
      if (this.tok === IDENT) k = this.s.keyword();
    }
    let isType = false;
    if (this.tok === IDENT && isIdentifierLike(k)) {
      const start = this.s.start;
      const end = this.s.end;
      this.advance();
      const t = this.tok;
      if (t === LPAREN || t === LBRACE) {
        // Constructor, or compact record constructor.
        if (
          end - start === owner.length && this.text.startsWith(owner, start)
        ) {
          this.emit(start, end);
        }
        if (t === LPAREN) {
          this.skipParens(true);
          this.skipMethodRest();
        } else this.skipBlock();
        return;
      }
      isType = true;
      this.parseTypeRest();
    } else if (this.tok === IDENT && k >= KW.BOOLEAN && k <= KW.VOID) {
      isType = true;
      this.advance();
      this.parseTypeRest();
    }
    if (!isType) {
      if (this.tok !== RBRACE && this.tok !== EOF) {
        this.problem("expected a member declaration");
        this.skipMemberRest();
      }
      return;
    }
    if (this.tok !== IDENT || !isIdentifierLike(this.s.keyword())) {
      this.problem("expected identifier");
      if (this.tok !== RBRACE && this.tok !== EOF) this.skipMemberRest();
      return;
    }
    this.emit(this.s.start, this.s.end);
    this.advance();
    if (this.tok === LPAREN) {
      this.skipParens(true);
      this.skipMethodRest();
      return;
    }
    this.parseDeclaratorsRest();
  }

  /** The rest of a type after its first word: qualifiers, arguments, dims. */
  parseTypeRest(): void {
    for (;;) {
      const t = this.tok;
      if (t === DOT) {
        this.advance();
        while (this.tok === AT) this.skipAnnotation(); // `java.lang.@A String`
        if (this.tok === IDENT) this.advance();
        else return;
      } else if (t === LT) {
        if (!this.skipTypeArgs(false)) return;
      } else if (t === LBRACKET) {
        this.advance();
        if (this.tok === RBRACKET) this.advance();
      } else if (t === AT) {
        this.skipAnnotation();
      } else return;
    }
  }

  /** After a field's first name: dims, initializers, more declarators. */
  parseDeclaratorsRest(): void {
    for (;;) {
      const t = this.tok;
      if (t === LBRACKET || t === RBRACKET) this.advance();
      else if (t === EQ) {
        this.advance();
        this.skipInitializer();
      } else if (t === COMMA) {
        this.advance();
        if (this.tok === IDENT && isIdentifierLike(this.s.keyword())) {
          this.emit(this.s.start, this.s.end);
          this.advance();
        } else {
          this.problem("expected identifier");
          if (this.tok !== RBRACE && this.tok !== EOF) this.skipMemberRest();
          return;
        }
      } else if (t === SEMI) {
        this.advance();
        return;
      } else {
        this.problem("expected `;`");
        // A word or annotation probably starts the next member: resume
        // there instead of skipping it.
        if (t !== RBRACE && t !== EOF && t !== IDENT && t !== AT) {
          this.skipMemberRest();
        }
        return;
      }
    }
  }

  /** Skips an initializer expression up to `,` or `;` at depth 0. */
  skipInitializer(): void {
    let prevIdent = false;
    for (;;) {
      const t = this.tok;
      if (t === COMMA || t === SEMI || t === RBRACE || t === EOF) return;
      if (t === LBRACE) {
        this.skipBlock();
        prevIdent = false;
        continue;
      }
      if (t === LPAREN) {
        this.skipParens(false);
        prevIdent = false;
        continue;
      }
      if (t === LBRACKET) {
        const open = this.s.start;
        this.unpeek();
        if (!this.s.skipGroup(LBRACKET, RBRACKET, true)) {
          this.problem("expected `]`", open);
        }
        this.advance();
        prevIdent = false;
        continue;
      }
      if (t === LT && prevIdent) {
        // `new HashMap<K, V>()` or `List.<A, B>of()`: skip balanced type
        // arguments so their commas do not split declarators.
        const s = this.s;
        const pos = s.pos;
        const problems = s.problems.length;
        if (!this.skipTypeArgs(true)) {
          s.pos = pos; // just after the `<`
          this.unpeek();
          s.problems.length = problems;
          this.advance();
        }
        prevIdent = false;
        continue;
      }
      prevIdent = t === IDENT || t === DOT;
      this.advance();
    }
  }

  /** After a method's parameter list: dims, throws, default value, body. */
  skipMethodRest(): void {
    let throwsClause = false;
    for (;;) {
      const t = this.tok;
      if (t === LBRACE) {
        this.skipBlock();
        return;
      }
      if (t === SEMI) {
        this.advance();
        return;
      }
      if (t === LBRACKET || t === RBRACKET) this.advance();
      else if (t === AT) this.skipAnnotation();
      else if (t === IDENT) {
        const k = this.s.keyword();
        if (k === KW.THROWS) {
          throwsClause = true;
          this.advance();
        } else if (k === KW.DEFAULT) {
          this.advance();
          this.skipElementValue();
        } else if (throwsClause) this.advance();
        else {
          this.problem("expected `;` or method body");
          return;
        }
      } else if (throwsClause && (t === DOT || t === COMMA)) this.advance();
      else if (throwsClause && t === LT) this.skipTypeArgs(false);
      else {
        this.problem("expected `;` or method body");
        if (t !== RBRACE && t !== EOF) this.skipMemberRest();
        return;
      }
    }
  }

  /** Skips an annotation element default value, up to `;`. */
  skipElementValue(): void {
    for (;;) {
      const t = this.tok;
      if (t === SEMI || t === RBRACE || t === EOF) return;
      if (t === LBRACE) this.skipBlock();
      else if (t === LPAREN) this.skipParens(false);
      else this.advance();
    }
  }

  /** Error recovery: skip to after `;`, after a block, or before `}`. */
  skipMemberRest(): void {
    for (;;) {
      const t = this.tok;
      if (t === RBRACE || t === EOF) return;
      if (t === SEMI) {
        this.advance();
        return;
      }
      if (t === LBRACE) {
        this.skipBlock();
        return;
      }
      if (t === LPAREN) this.skipParens(true);
      else this.advance();
    }
  }

  skipModuleDeclaration(): void {
    while (this.tok !== LBRACE && this.tok !== EOF && this.tok !== SEMI) {
      this.advance();
    }
    if (this.tok === LBRACE) this.skipBlock();
    else this.problem("expected `{`");
  }

  /** Skips an `extends`/`implements`/`permits` clause. */
  skipClause(): void {
    this.unpeek();
    const brace = this.s.plainBraceAhead();
    if (brace >= 0) {
      // Only names and punctuation up to the body: jump straight there.
      this.s.pos = brace;
      this.advance();
      return;
    }
    this.advance();
    for (;;) {
      const t = this.tok;
      if (t === IDENT) {
        const k = this.s.keyword();
        if (
          k === KW.EXTENDS || k === KW.IMPLEMENTS || k === KW.PERMITS
        ) return;
        this.advance();
      } else if (t === DOT || t === COMMA || t === AMP) this.advance();
      else if (t === LT) {
        if (!this.skipTypeArgs(false)) return;
      } else if (t === AT) this.skipAnnotation();
      else return;
    }
  }

  /** A type declaration; the current token is its keyword (or `@`). */
  parseTypeDeclaration(kind: number): void {
    if (kind === T_ANNOTATION) this.advance(); // `@`
    this.advance(); // keyword
    let nameStart = -1;
    let nameEnd = -1;
    let emitted = false;
    for (;;) {
      const t = this.tok;
      if (t === IDENT) {
        const k = this.s.keyword();
        if (k === KW.EXTENDS || k === KW.IMPLEMENTS) {
          this.skipClause();
          continue;
        }
        if (k === KW.PERMITS && nameStart >= 0) {
          this.skipClause();
          continue;
        }
        if (!isIdentifierLike(k)) break;
        nameStart = this.s.start;
        nameEnd = this.s.end;
        this.advance();
        continue;
      }
      if (t === LT) {
        if (!this.skipTypeArgs(false)) break;
        continue;
      }
      if (t === LPAREN && kind === T_RECORD) {
        if (!emitted && nameStart >= 0) this.emit(nameStart, nameEnd);
        emitted = true;
        this.parseRecordComponents();
        continue;
      }
      break;
    }
    if (!emitted && nameStart >= 0) this.emit(nameStart, nameEnd);
    const name = nameStart >= 0 ? this.text.slice(nameStart, nameEnd) : "";
    if (this.tok !== LBRACE) {
      this.problem("expected `{`");
      if (this.tok !== RBRACE && this.tok !== EOF) this.skipMemberRest();
      return;
    }
    if (this.depth >= MAX_TYPE_DEPTH) {
      this.problem("type declarations nested too deeply");
      this.skipBlock();
      return;
    }
    this.depth++;
    const open = this.s.start;
    this.advance();
    if (kind === T_ENUM) this.parseEnumConstants();
    while (this.tok !== RBRACE && this.tok !== EOF) {
      const before = this.s.start;
      this.parseMember(name);
      if (this.s.start === before && this.tok !== RBRACE && this.tok !== EOF) {
        this.advance();
      }
    }
    if (this.tok === RBRACE) this.advance();
    else this.problem("expected `}`", open);
    this.depth--;
  }

  /** Record header `(Type a, @A List<B> b, String... c)`. */
  parseRecordComponents(): void {
    this.advance();
    let start = -1;
    let end = -1;
    for (;;) {
      const t = this.tok;
      if (t === RPAREN || t === COMMA) {
        if (start >= 0) this.emit(start, end);
        start = -1;
        this.advance();
        if (t === RPAREN) return;
      } else if (t === IDENT) {
        if (isIdentifierLike(this.s.keyword())) {
          start = this.s.start;
          end = this.s.end;
        }
        this.advance();
      } else if (t === AT) this.skipAnnotation();
      else if (t === LT) {
        if (!this.skipTypeArgs(false)) {
          if (start >= 0) this.emit(start, end);
          return;
        }
      } else if (
        t === LBRACE || t === RBRACE || t === SEMI || t === EOF || t === LPAREN
      ) {
        this.problem("expected `)`");
        if (start >= 0) this.emit(start, end);
        return;
      } else this.advance();
    }
  }

  /** Enum constants up to the `;` (or the closing `}`). */
  parseEnumConstants(): void {
    for (;;) {
      while (this.tok === AT) this.skipAnnotation();
      const t = this.tok;
      if (t === IDENT && isIdentifierLike(this.s.keyword())) {
        this.emit(this.s.start, this.s.end);
        this.advance();
        if (this.tok === LPAREN) this.skipParens(false);
        if (this.tok === LBRACE) this.skipBlock(); // constant body
        if (this.tok === COMMA) {
          this.advance();
          continue;
        }
        if (this.tok === SEMI) {
          this.advance();
          return;
        }
        if (this.tok !== RBRACE && this.tok !== EOF) {
          this.problem("expected `,`, `;` or `}`");
        }
        return;
      }
      if (t === COMMA) {
        this.advance();
        continue;
      }
      if (t === SEMI) {
        this.advance();
        return;
      }
      return;
    }
  }
}

function isWordChar(c: number): boolean {
  return (c >= 48 && c <= 57) || (c >= 65 && c <= 90) ||
    (c >= 97 && c <= 122) || c === 95 || c === 36 || c >= 128;
}
