import assert from "node:assert/strict";
import {
  isIdentifierLike,
  isJavaIdentifierPart,
  isJavaIdentifierStart,
  JavaScanner,
  KW,
  TOKEN,
  translateUnicodeEscapes,
} from "./java_lexer.ts";

/** All tokens as `kind:text`, punctuation as its character. */
function tokens(text: string): string[] {
  const s = new JavaScanner(text);
  const out: string[] = [];
  while (s.next() !== TOKEN.EOF) {
    const body = text.slice(s.start, s.end);
    out.push(s.kind >= 32 ? body : `${s.kind}:${body}`);
  }
  return out;
}

const I = TOKEN.IDENT;
const N = TOKEN.NUMBER;

Deno.test("JavaScanner skips whitespace and every comment form", () => {
  assert.deepEqual(
    tokens("a /* b { */ c // d }\n e /** f */ g // h\r i\f\u001a j"),
    [`${I}:a`, `${I}:c`, `${I}:e`, `${I}:g`, `${I}:i`, `${I}:j`],
  );
});

Deno.test("JavaScanner scans identifiers, including non-ASCII and supplementary ones", () => {
  assert.deepEqual(tokens("$a _b c1 café 変数 𝑥y"), [
    `${I}:$a`,
    `${I}:_b`,
    `${I}:c1`,
    `${I}:café`,
    `${I}:変数`,
    `${I}:𝑥y`,
  ]);
  assert.ok(isJavaIdentifierStart(0x1d465) && isJavaIdentifierPart(0x0301));
  assert.ok(!isJavaIdentifierStart(0x0301) && !isJavaIdentifierPart(0x1f980));
});

Deno.test("JavaScanner scans numbers with exponents, suffixes and underscores", () => {
  assert.deepEqual(tokens("1 1_000L 0x1F .5 1.5e-3f 0x1p+3 1e+5d 0b1010 a-1"), [
    `${N}:1`,
    `${N}:1_000L`,
    `${N}:0x1F`,
    `${N}:.5`,
    `${N}:1.5e-3f`,
    `${N}:0x1p+3`,
    `${N}:1e+5d`,
    `${N}:0b1010`,
    `${I}:a`,
    "-",
    `${N}:1`,
  ]);
  // `0xE+1` is a hex number plus one, not an exponent.
  assert.deepEqual(tokens("0xE+1"), [`${N}:0xE`, "+", `${N}:1`]);
});

Deno.test("JavaScanner scans string, char and text-block literals with escapes", () => {
  assert.deepEqual(
    tokens('"a\\"}" \'\\\'\' \'{\' """\n  x " "" \\""" y\n  """ z'),
    [
      `${TOKEN.STRING}:"a\\"}"`,
      `${TOKEN.CHAR}:'\\''`,
      `${TOKEN.CHAR}:'{'`,
      `${TOKEN.TEXT_BLOCK}:"""\n  x " "" \\""" y\n  """`,
      `${I}:z`,
    ],
  );
});

Deno.test("JavaScanner reports unterminated literals and comments and keeps going", () => {
  const s = new JavaScanner("\"open\nx 'c\ny /* never");
  const kinds: number[] = [];
  while (s.next() !== TOKEN.EOF) kinds.push(s.kind);
  assert.deepEqual(kinds, [TOKEN.STRING, I, TOKEN.CHAR, I]);
  assert.deepEqual(s.problems.map((p) => [p.offset, p.message]), [
    [0, "unterminated string literal"],
    [8, "unterminated character literal"],
    [13, "unterminated comment"],
  ]);
  const t = new JavaScanner('"""\nabc');
  assert.equal(t.next(), TOKEN.TEXT_BLOCK);
  assert.equal(t.problems[0].message, "unterminated text block");
});

Deno.test("JavaScanner returns punctuation one character at a time", () => {
  assert.deepEqual(tokens("a>>=b->c::d...@e"), [
    `${I}:a`,
    ">",
    ">",
    "=",
    `${I}:b`,
    "-",
    ">",
    `${I}:c`,
    ":",
    ":",
    `${I}:d`,
    ".",
    ".",
    ".",
    "@",
    `${I}:e`,
  ]);
  const s = new JavaScanner("# ` \\");
  while (s.next() !== TOKEN.EOF) assert.equal(s.kind, TOKEN.ILLEGAL);
  assert.equal(s.problems.length, 3);
});

Deno.test("JavaScanner.keyword() classifies reserved and contextual keywords", () => {
  const kw = (word: string) => {
    const s = new JavaScanner(word);
    s.next();
    return s.keyword();
  };
  assert.equal(kw("class"), KW.CLASS);
  assert.equal(kw("synchronized"), KW.SYNCHRONIZED);
  assert.equal(kw("do"), KW.DO);
  assert.equal(kw("record"), KW.RECORD);
  assert.equal(kw("return"), KW.RETURN);
  assert.equal(kw("permits"), KW.PERMITS);
  for (
    const word of [
      "Class",
      "classy",
      "clas",
      "x",
      "var",
      "_",
      "yield",
      "recorx",
    ]
  ) {
    assert.equal(kw(word), KW.NONE, word);
  }
  assert.ok(isIdentifierLike(kw("record")) && isIdentifierLike(kw("var")));
  assert.ok(!isIdentifierLike(kw("int")) && !isIdentifierLike(kw("public")));
});

Deno.test("JavaScanner.skipBlock() matches braces across literals and comments", () => {
  const text = '{ a { "}" \'}\' /* } */ // }\n """\n}\n""" } } tail';
  const s = new JavaScanner(text);
  assert.equal(s.next(), 123);
  assert.ok(s.skipBlock());
  assert.equal(text.slice(s.pos), " tail");
  // Character literals holding the characters the skipper searches for.
  const chars = "{ '{' '}' '\"' '\\\"' '/' '\\'' } tail";
  const c = new JavaScanner(chars);
  c.next();
  assert.ok(c.skipBlock());
  assert.equal(chars.slice(c.pos), " tail");
  assert.deepEqual(c.problems, []);
  const open = new JavaScanner("{ { }");
  open.next();
  assert.ok(!open.skipBlock());
  assert.equal(open.pos, 5);
});

Deno.test("JavaScanner.skipParens() stops at braces or `;` at depth 1 when strict", () => {
  const text = "(int a, @A({1, 2}) String b) {";
  const s = new JavaScanner(text);
  s.next();
  assert.ok(s.skipParens(true));
  assert.equal(s.pos, text.lastIndexOf(")") + 1);
  const broken = new JavaScanner("(int a { }");
  broken.next();
  assert.ok(!broken.skipParens(true));
  assert.equal(broken.pos, 7);
  const loose = new JavaScanner("(() -> { f(); }) x");
  loose.next();
  assert.ok(loose.skipParens(false));
  assert.equal(loose.pos, 16);
});

Deno.test("translateUnicodeEscapes() follows the JLS eligibility rules", () => {
  assert.equal(translateUnicodeEscapes("plain"), undefined);
  assert.equal(translateUnicodeEscapes("\\\\u0041"), undefined); // escaped backslash
  const t = translateUnicodeEscapes("a\\uuu0042\\\\\\u0043\\u005cu0044")!;
  assert.equal(t.text, "aB\\\\C\\u0044");
  // Every translated index maps back to where its source starts.
  assert.deepEqual(Array.from(t.map), [
    0,
    1,
    9,
    10,
    11,
    17,
    23,
    24,
    25,
    26,
    27,
    28,
  ]);
  const bad = translateUnicodeEscapes("x \\u12 y")!;
  assert.equal(bad.text, "x \\u12 y");
  assert.deepEqual(bad.invalid, [2]);
  // Surrogate pairs written as two escapes form one character.
  assert.equal(translateUnicodeEscapes("\\uD835\\uDC65")!.text, "𝑥");
});
