import assert from "node:assert/strict";
import fc from "fast-check";
import { generateJavaCorpus } from "./java_corpus.ts";
import {
  javaDiagnostics,
  MAX_DIAGNOSTICS,
  MAX_NESTING,
} from "./java_diagnostics.ts";
import { javaDiagnostics as reExported } from "./java_symbols.ts";

/** `message@line:column` of every diagnostic. */
function found(text: string): string[] {
  return javaDiagnostics(text).map((d) => `${d.message}@${d.line}:${d.column}`);
}

/** Asserts that `text` has exactly these diagnostics. */
function expectExactly(text: string, expected: string[]): void {
  assert.deepEqual(found(text), expected, text);
}

Deno.test("javaDiagnostics(): the reference case `int x = ;` in a class", () => {
  const d = javaDiagnostics("class A { int x = ; }");
  assert.ok(d.length > 0);
  assert.deepEqual(d, [{
    severity: "error",
    line: 0,
    column: 18,
    message: "expected expression",
  }]);
  assert.equal(reExported, javaDiagnostics);
  expectExactly("class A {\n    int x = ;\n}\n", ["expected expression@1:12"]);
});

Deno.test("javaDiagnostics(): expected expression", () => {
  expectExactly("class A { void f() { g(, 1); } }", [
    "expected expression@0:23",
  ]);
  expectExactly("class A { void f() { g(1, ); } }", [
    "expected expression@0:26",
  ]);
  expectExactly("class A { void f() { a = b + ; } }", [
    "expected expression@0:29",
  ]);
  expectExactly("class A { void f() { c = (d * ); } }", [
    "expected expression@0:30",
  ]);
  expectExactly("class A { void f() { x = ) ; } }", [
    "expected expression@0:25",
    "unexpected `)`@0:25",
  ]);
  expectExactly("class A { int y = a * / b; }", ["expected expression@0:22"]);
  expectExactly("class A { void f() { throw ; } }", [
    "expected expression@0:27",
  ]);
  expectExactly("class A { boolean b = !; }", ["expected expression@0:23"]);
});

Deno.test("javaDiagnostics(): unbalanced and mismatched delimiters", () => {
  expectExactly("class A {", ["unclosed `{`@0:8"]);
  expectExactly("class A { } }", ["unexpected `}`@0:12"]);
  expectExactly("class A { void f() { g(1]; } }", [
    "unclosed `(`@0:22",
    "unexpected `]`@0:24",
  ]);
  expectExactly("class A { void f() { int[] a = new int[3; } }", [
    "unclosed `[`@0:38",
  ]);
  // A missing `}`: blamed on the block whose `}` is left of its line.
  expectExactly(
    "class A {\n  void f() {\n    if (x) {\n      g();\n  }\n  void h() {}\n}\n",
    ["unclosed `{`@2:11"],
  );
  expectExactly("class A {\n  void f() {\n    g();\n\n  void h() {}\n}", [
    "unclosed `{`@1:11",
  ]);
  expectExactly("class A {\n  void f() {\n    g();\n  }\n", [
    "unclosed `{`@0:8",
  ]);
  // A missing `)`: reported at its opener; the rest of the file parses.
  expectExactly("class A {\n  void f() { if (x { y(); } }\n  int z;\n}\n", [
    "unclosed `(`@1:16",
  ]);
});

Deno.test("javaDiagnostics(): unterminated literals and comments", () => {
  expectExactly('class A { String s = "abc; }', [
    "unclosed `{`@0:8",
    "unterminated string literal@0:21",
  ]);
  expectExactly("class A { char c = 'x; }", [
    "unclosed `{`@0:8",
    "unterminated character literal@0:19",
  ]);
  expectExactly('class A { String s = """\n  abc; }', [
    "unclosed `{`@0:8",
    "unterminated text block@0:21",
  ]);
  expectExactly("class A { /* never closed }", [
    "unclosed `{`@0:8",
    "unterminated comment@0:10",
  ]);
});

Deno.test("javaDiagnostics(): missing `;`", () => {
  expectExactly("class A {\n  int x\n  void f() {}\n}", ["expected `;`@1:7"]);
  expectExactly("class A {\n  int x = 1\n  int y;\n}", ["expected `;`@1:11"]);
  expectExactly("class A { int x }", ["expected `;`@0:15"]);
  expectExactly("class A {\n  String s = name\n  private int y;\n}", [
    "expected `;`@1:17",
  ]);
  expectExactly("class A { void f() {\n  int x = 1\n  return;\n} }", [
    "expected `;`@1:11",
  ]);
  expectExactly("class A { void f() {\n  x = y\n  if (x) g();\n} }", [
    "expected `;`@1:7",
  ]);
  expectExactly('class A { void f() {\n  s = "a"\n  t = 2;\n} }', [
    "expected `;`@1:9",
  ]);
  expectExactly("import java.util.List\nclass A {}", ["expected `;`@0:21"]);
  // A call, then a new statement.
  expectExactly("class A { void f() {\n  g(1)\n  x = 2;\n} }", [
    "expected `;`@1:6",
  ]);
  // Two operands in a row after `=` or `return`.
  expectExactly("class A { void f() {\n  x = y\n  z = 1;\n} }", [
    "expected `;`@1:7",
  ]);
  expectExactly("class A { void f() {\n  this.a = a\n  this.b = b;\n} }", [
    "expected `;`@1:12",
  ]);
  expectExactly("class A { A(int r) {\n  super(r)\n  this.r = r;\n} }", [
    "expected `;`@1:10",
  ]);
  expectExactly("class A { void f() {\n  x = g(1)\n  y = 2;\n} }", [
    "expected `;`@1:10",
  ]);
  expectExactly("class A { void f() {\n  int x = g()\n  assert x > 0;\n} }", [
    "expected `;`@1:13",
  ]);
  expectExactly(
    "class A {\n  Runnable r = new Runnable() { public void run() {} }\n  int y;\n}",
    ["expected `;`@1:54"],
  );
  expectExactly(
    "class A {\n  abstract void f() throws E\n  void g() {}\n}",
    ["expected `;`@1:28"],
  );
  // The last statement of a block.
  expectExactly("class A { boolean f() { return true } }", [
    "expected `;`@0:35",
  ]);
  expectExactly("class A { void f() throws E { g() } }", ["expected `;`@0:33"]);
  expectExactly("class A { void f() { while (x) { break } } }", [
    "expected `;`@0:38",
  ]);
  expectExactly("class A { A(int s) { super(s) } }", ["expected `;`@0:29"]);
  expectExactly("class A { int f() { return 1 } }", ["expected `;`@0:28"]);
  expectExactly("class A { Runnable r = () -> { i++ }; }", [
    "expected `;`@0:34",
  ]);
});

Deno.test("javaDiagnostics(): tokens that cannot start a member", () => {
  expectExactly("class A { 42; int x; }", [
    "expected a member declaration@0:10",
  ]);
  expectExactly("class A { * int y; }", [
    "expected a member declaration@0:10",
  ]);
  expectExactly("42;", ["expected class, interface, enum, or record@0:0"]);
});

Deno.test("javaDiagnostics(): declarations missing their name", () => {
  expectExactly("class { }", ["expected a name@0:6"]);
  expectExactly("class A { int = 5; }", ["expected a name@0:14"]);
  expectExactly("class A { String ; }", ["expected a name@0:17"]);
  expectExactly("class A { int x, ; }", ["expected a name@0:17"]);
  expectExactly("class A { void f() { int = 3; } }", ["expected a name@0:25"]);
  expectExactly("interface { }", ["expected a name@0:10"]);
});

Deno.test("javaDiagnostics(): other rules", () => {
  expectExactly("class A { int x = a.; }", [
    "expected identifier after `.`@0:20",
  ]);
  expectExactly("class A { @ int x; }", ["expected annotation name@0:12"]);
  expectExactly("class A { Object o = new ; }", [
    "expected a type after `new`@0:25",
  ]);
  expectExactly("class A { void f() }", ["expected `{` or `;`@0:18"]);
  expectExactly("class A { A() ; }", ["expected constructor body@0:13"]);
  expectExactly("enum E { A B }", ["expected `,`, `;` or `}`@0:10"]);
  expectExactly("class A { int # ; }", [
    "illegal character@0:14",
  ]);
  expectExactly("class A { int x # }", [
    "expected `;`@0:15",
    "illegal character@0:16",
  ]);
  expectExactly("class A { int x = 1 # 2; }", ["illegal character@0:20"]);
  expectExactly("class A { \\u00zz }", [
    "illegal character@0:10",
    "invalid unicode escape@0:10",
  ]);
});

Deno.test("javaDiagnostics(): positions count UTF-16 units and line breaks", () => {
  expectExactly("/* 🦀é */ class A { int x = ; }", [
    "expected expression@0:28",
  ]);
  const crlf = "class A {\r\n  int x = ;\r\n}\r\n";
  assert.deepEqual(found(crlf), ["expected expression@1:10"]);
  assert.deepEqual(
    javaDiagnostics(crlf, { lfLineBreaks: true }).map((d) => d.line),
    [1],
  );
  const cr = "class A {\r  int x = ;\r}\r";
  assert.deepEqual(found(cr), ["expected expression@1:10"]);
  assert.deepEqual(javaDiagnostics(cr, { lfLineBreaks: true })[0], {
    severity: "error",
    line: 0,
    column: cr.indexOf(";"),
    message: "expected expression",
  });
  // Escapes map back to raw offsets.
  expectExactly("class A { \\u0069nt x = \\u003B }", [
    "expected expression@0:23",
  ]);
});

Deno.test("javaDiagnostics(): stays fast on adversarial input", () => {
  const cases = [
    "class A ".repeat(20000),
    "new A<".repeat(20000),
    "class A { void f() { " + "return a ".repeat(20000),
    "x = ".repeat(20000),
    "( ".repeat(20000) + "] ".repeat(20000),
    "{ (".repeat(10000) + "} ".repeat(20000),
    "enum E { " + "A ".repeat(20000),
    "class A { " + "List<".repeat(20000),
    "{ ".repeat(20000) + "\n}".repeat(19999),
  ];
  for (const text of cases) {
    const t0 = performance.now();
    const d = javaDiagnostics(text);
    const ms = performance.now() - t0;
    assert.ok(d.length > 0 && ms < 5000, `${text.slice(0, 20)}: ${ms} ms`);
  }
});

Deno.test("javaDiagnostics(): validates and applies the cap; bounded nesting", () => {
  const text = "class A {" + " #".repeat(50) + " }";
  assert.equal(javaDiagnostics(text).length, 50);
  assert.equal(javaDiagnostics(text, { maxDiagnostics: 3 }).length, 3);
  assert.equal(javaDiagnostics(text, { maxDiagnostics: 0 }).length, 0);
  assert.equal(MAX_DIAGNOSTICS, 100_000);
  assert.throws(() => javaDiagnostics("", { maxDiagnostics: -1 }), RangeError);
  assert.throws(() => javaDiagnostics("", { maxDiagnostics: 1.5 }), RangeError);
  const deep = "class A { ".repeat(MAX_NESTING + 10) + "int x;" +
    " }".repeat(MAX_NESTING + 10);
  assert.deepEqual(
    javaDiagnostics(deep).map((d) => d.message),
    ["nesting too deep"],
  );
  const ok = "class A { ".repeat(100) + "int x;" + " }".repeat(100);
  assert.deepEqual(javaDiagnostics(ok), []);
});

Deno.test("javaDiagnostics(): valid constructs give no diagnostics", () => {
  const valid = [
    "",
    "package a.b;\nimport static java.util.Map.*;\nimport java.util.*;\n",
    "class A { int[] a = {,}, b = {1, 2,}; }",
    "enum E { A, B, ; int x; }",
    "enum E { A { void f() {} }, B(1) {}; E() {} E(int x) {} }",
    "class A { void f() { for (;;) { if (a) return; else break; } } }",
    "class A { void f() { label: for (int i = 0; i < n; i++) continue label; } }",
    "class A { void f() { do x++; while (x < 3); } }",
    "class A { int f(int x) { return switch (x) { case 1, 2 -> 3; default -> { yield switch (x) { default -> 4; }; } }; } }",
    "class A { void f() { try (var r = open()) { } catch (A | B e) { } finally { } } }",
    "class A { Runnable r = () -> {}; java.util.function.Function<int[], int[]> g = int[]::clone; }",
    "class A { <T extends Comparable<? super T> & java.io.Serializable> T max(T... xs) { return xs[0]; } }",
    "class A { Object o = (Runnable & java.io.Serializable) () -> {}; }",
    "class A { int x = a >> 2 >>> 1, y = b >>= 1, z = c >= d ? -e : +f; }",
    "class A { boolean b = o instanceof String s && !s.isEmpty(); }",
    "class A { Object o = new int[][] { {1}, {} }; Object p = new java.util.ArrayList<>() { int n; }; }",
    '@interface Ann { String value() default ""; int[] n() default {}; }',
    "record R<T>(T a, int... rest) implements java.io.Serializable { R { } static int x; }",
    "sealed interface S permits S.A, S.B { record A() implements S {} final class B implements S {} }",
    "non-sealed class C extends D {}",
    "class A { void f() { class Local { int hidden; } record P(int x) {} enum K { ONE } } }",
    'class A { String t = """\n  text\n  """.strip(); char c = \'\\\'\'; }',
    "class A { void f() { if (x) int.class.getName(); } }",
    'class A { @SuppressWarnings("x") int a; @Deprecated\nvoid g() {} @A(b = @B(1)) A() {} }',
    'class A { void f() { @SuppressWarnings("u") final int x = 1; final var y = 2; } }',
    "open module m.n { requires transitive java.sql; exports a.b to c.d; }",
    "class A { int var, record, yield, sealed, permits, module, open, when, non; void record() {} }",
    "class A { Object o = switch (k) { case A -> 1; case B -> { yield 2; } default -> throw new E(); }; }",
    "class A { static { x = 1; } { y = 2; } A() { this(1); } A(int x) { super(); } }",
    "class A { int[] arr()[] { return null; } native void n(); abstract void m() throws E, F; }",
    "class A { java.lang.@NonNull String s; String @NonNull [] t; }",
    "class A { void f() { x = a ? b : c; y = (T) z; w = -1e-5 + 0x1p+3 + .5 + 1.; } }",
    "class A { Map<String, List<int[]>> m = new HashMap<String, List<int[]>>(), n = null; }",
    "class A { void f() { foo(() -> 1, x -> { return; }, (a, b) -> a + b); } }",
    "class A { Object o = x instanceof Foo f ? f : null; int[] a = new int[] {f(1)}; }",
    "class A { Object f(Object o) { return switch (o) { case P(int x, int y) when x > 0 -> x; default -> 0; }; } }",
    "class A { void f() { int y = switch (x) { case 1 -> g(1); default -> { yield (int) h(); } }; } }",
    "enum E { A(1), B(f(2)) } class B { String[] s = list.toArray(String[]::new); }",
    "class A { java.util.List<? super Integer> l = new java.util.ArrayList<java.util.List<? super Integer>>(); }",
    "@Deprecated package p;\nimport java.util.*;\nclass A {}",
  ];
  for (const text of valid) assert.deepEqual(found(text), [], text);
});

const fixtureDir = new URL("../../conformance/java/", import.meta.url);
const fixtures = [...Deno.readDirSync(fixtureDir)]
  .filter((e) => e.isFile && e.name.endsWith(".java"))
  .map((e) => e.name)
  .sort();

Deno.test("javaDiagnostics(): every well-formed conformance fixture is clean", () => {
  assert.ok(fixtures.length >= 10);
  for (const name of fixtures) {
    const text = Deno.readTextFileSync(new URL(name, fixtureDir));
    const d = javaDiagnostics(text);
    if (name === "malformed.java") {
      const at = d.map((x) => `${x.line}:${x.message}`);
      assert.ok(at.includes("4:expected `;`"), at.join());
      assert.ok(at.includes("6:unterminated string literal"), at.join());
      assert.ok(at.includes("11:expected a name"), at.join());
      assert.ok(at.includes("18:unexpected `}`"), at.join());
      assert.ok(at.includes("22:unclosed `{`"), at.join());
    } else assert.deepEqual(d, [], name);
  }
});

function lineStarts(text: string): number[] {
  const starts = [0];
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 13 && text.charCodeAt(i + 1) === 10) continue;
    if (c === 10 || c === 13) starts.push(i + 1);
  }
  return starts;
}

function checkInside(text: string): void {
  const starts = lineStarts(text);
  let last = -1;
  for (const d of javaDiagnostics(text)) {
    assert.equal(d.severity, "error");
    assert.ok(d.line >= 0 && d.line < starts.length);
    const offset = starts[d.line] + d.column;
    assert.ok(d.column >= 0 && offset <= text.length);
    const lineEnd = d.line + 1 < starts.length
      ? starts[d.line + 1]
      : text.length;
    assert.ok(offset <= lineEnd);
    assert.ok(offset >= last, "ordered by position");
    last = offset;
  }
}

Deno.test("javaDiagnostics(): generated corpora are clean (property)", () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 1_000_000 }),
      fc.constantFrom("typical" as const, "dense" as const),
      (seed, style) => {
        for (const f of generateJavaCorpus({ files: 3, seed, style })) {
          assert.deepEqual(javaDiagnostics(f.text), [], f.path);
        }
      },
    ),
    { numRuns: 60 },
  );
});

const PIECES = [
  "class ",
  "A ",
  "{ ",
  "} ",
  "( ",
  ") ",
  "[",
  "]",
  "; ",
  ", ",
  "= ",
  "+ ",
  "int ",
  "x ",
  "\n",
  "\r",
  '"',
  "'",
  '"""',
  "/*",
  "*/",
  "//",
  "\\u0041",
  "\\u00",
  "@",
  ".",
  "<",
  ">",
  "🦀",
  "\ud800",
  "new ",
  "record R(",
  "enum E { ",
  "->",
  "::",
];

Deno.test("javaDiagnostics(): never throws and positions lie inside the text (property)", () => {
  const javaish = fc.array(fc.constantFrom(...PIECES), { maxLength: 80 })
    .map((parts) => parts.join(""));
  const anyText = fc.string({
    unit: fc.integer({ min: 0, max: 0xffff }).map((u) =>
      String.fromCharCode(u)
    ),
    maxLength: 200,
  });
  fc.assert(fc.property(fc.oneof(javaish, anyText), checkInside), {
    numRuns: 1500,
  });
});
