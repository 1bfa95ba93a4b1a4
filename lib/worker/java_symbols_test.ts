import assert from "node:assert/strict";
import fc from "fast-check";
import type { Symbol } from "../wire/types.ts";
import {
  extractJavaSymbols,
  javaDiagnostics,
  MAX_DIAGNOSTICS,
  sortSymbols,
} from "./java_symbols.ts";
import { compareSymbols } from "./symbol_order.ts";

/** The worked example of the router/worker digest (a conformance fixture). */
const OUTER_JAVA = Deno.readTextFileSync(
  new URL("../../conformance/java/worked_example.java", import.meta.url),
);

/** Names in source order. */
function names(text: string): string[] {
  return extractJavaSymbols("F.java", text).map((s) => s.name);
}

/** Sorted, de-duplicated `name@line:column` list. */
function index(text: string): string[] {
  return sortSymbols(extractJavaSymbols("F.java", text)).map((s) =>
    `${s.name}@${s.line}:${s.column}`
  );
}

Deno.test("extractJavaSymbols() reproduces the digest's worked example", () => {
  assert.deepEqual(index(OUTER_JAVA), [
    "Ann@11:15",
    "Api@12:14",
    "Color@9:9",
    "GREEN@9:22",
    "Outer@2:13",
    "Point@10:11",
    "RED@9:17",
    "a@3:16",
    "b@3:19",
    "call@12:25",
    "paint@9:34",
    "run@6:9",
    "value@11:28",
    "x@10:21",
    "y@10:28",
  ]);
});

Deno.test("extractJavaSymbols() matches the reference's LSP position vector", () => {
  const text =
    "package com.example;\n\n/* 🦀 */ public class Foo {\n    public void bar() {}\n}\n";
  assert.deepEqual(extractJavaSymbols("Foo.java", text)[0], {
    name: "Foo",
    path: "Foo.java",
    line: 2,
    column: 22,
  });
});

Deno.test("extractJavaSymbols() gives the digest's one-line example", () => {
  assert.deepEqual(index("package a; public class Alpha {}"), ["Alpha@0:24"]);
});

Deno.test("extractJavaSymbols() emits every type kind and recurses into member types", () => {
  assert.deepEqual(
    names(
      "class C { interface I { enum E { X; record R(int r) { @interface A {} } } } }",
    ),
    ["C", "I", "E", "X", "R", "r", "A"],
  );
});

Deno.test("extractJavaSymbols() emits each field declarator", () => {
  assert.deepEqual(
    names(
      "class C { int a, b[], c = 3; static final int[] T = {1, 2}, U = {}; }",
    ),
    ["C", "a", "b", "c", "T", "U"],
  );
});

Deno.test("extractJavaSymbols() keeps commas inside generic initializers", () => {
  assert.deepEqual(
    names(
      "class C { Map<String, List<int[]>> m = new HashMap<String, List<int[]>>(), n; " +
        "Comparator<A> c = Comparator.<A, B>comparing(f), d; int x = i < j, y = k > l; }",
    ),
    ["C", "m", "n", "c", "d", "x", "y"],
  );
});

Deno.test("extractJavaSymbols() emits enum constants but not their bodies or arguments", () => {
  assert.deepEqual(
    names(
      "enum E { @Deprecated A(1, () -> { int h; }), B { int inBody; void f() {} }, C, ; " +
        "int after; E() {} }",
    ),
    ["E", "A", "B", "C", "after", "E"],
  );
});

Deno.test("extractJavaSymbols() emits record components and compact constructors", () => {
  assert.deepEqual(
    names(
      "record P<T>(@A(x = 1) T first, Map<K, V> second, String... rest) implements I { P { } P(int z) { this(null, null); } }",
    ),
    ["P", "first", "second", "rest", "P", "P"],
  );
});

Deno.test("extractJavaSymbols() emits interface methods and annotation elements", () => {
  assert.deepEqual(
    names(
      "interface I { int K = 1; void a(); default void b() {} static I c() { return null; } private void d() {} }" +
        '@interface A { String value() default ""; int[] n() default {1, 2}; B b() default @B(x = {"y"}); }',
    ),
    ["I", "K", "a", "b", "c", "d", "A", "value", "n", "b"],
  );
});

Deno.test("extractJavaSymbols() keeps only constructors named like their type", () => {
  assert.deepEqual(
    names("class Bar { foo() {} Bar() {} <T> Bar(T t) throws E {} }"),
    ["Bar", "Bar", "Bar"],
  );
});

Deno.test("extractJavaSymbols() ignores bodies, initializers, local and anonymous classes", () => {
  assert.deepEqual(
    names(
      "class C { static { int s; } { int i; } " +
        "Runnable r = new Runnable() { int anon; public void run() {} }; " +
        "Runnable l = () -> { class L { int x; } }; " +
        "void m() { class Local { int y; } new Object() { int z; }; } }",
    ),
    ["C", "r", "l", "m"],
  );
});

Deno.test("extractJavaSymbols() skips package, imports and module declarations", () => {
  assert.deepEqual(
    names(
      "package a.b; import static java.util.Map.*; import java.util.List; class A {}",
    ),
    ["A"],
  );
  assert.deepEqual(
    names("open module m { requires transitive x; exports a to b; }"),
    [],
  );
});

Deno.test("extractJavaSymbols() uses the type name, not type parameters or clauses", () => {
  assert.deepEqual(
    names(
      "public sealed class Outer<T extends Comparable<T>> extends Base<T> implements Runnable, Cloneable permits Sub {}",
    ),
    ["Outer"],
  );
  assert.deepEqual(names("non-sealed class N extends Outer {}"), ["N"]);
});

Deno.test("extractJavaSymbols() skips clauses holding comments, annotations and literals", () => {
  assert.deepEqual(
    names(
      'class A extends B /* { */ implements C { int a; } class D implements @E({"{"}) F<G> { int d; }' +
        " class H extends I // {\n { int h; }",
    ),
    ["A", "a", "D", "d", "H", "h"],
  );
});

Deno.test("extractJavaSymbols() accepts contextual keywords as member names", () => {
  assert.deepEqual(
    names(
      "class C { int var, yield, record, sealed, permits, module, open, when, with, to; void record() {} }",
    ),
    [
      "C",
      "var",
      "yield",
      "record",
      "sealed",
      "permits",
      "module",
      "open",
      "when",
      "with",
      "to",
      "record",
    ],
  );
});

Deno.test("extractJavaSymbols() is not fooled by braces in comments and literals", () => {
  assert.deepEqual(
    names(
      'class C { // {\n /* } */ String a = "}"; char b = \'{\'; String c = """\n  } class X {\n  """; ' +
        "void m() { String s = \"}\"; char q = '}'; /* } */ // }\n } int d; }",
    ),
    ["C", "a", "b", "c", "m", "d"],
  );
});

Deno.test("extractJavaSymbols() translates unicode escapes but keeps raw names", () => {
  const text =
    "\\u0063lass A { int \\u0062; void m() \\u007B int h; \\u007D int c; }";
  assert.deepEqual(
    extractJavaSymbols("F.java", text).map((s) => [s.name, s.column]),
    [["A", 11], ["\\u0062", 19], ["m", 32], ["c", 61]],
  );
  // An escaped backslash does not start an escape.
  assert.deepEqual(names('class A { String s = "\\\\u0041"; int b; }'), [
    "A",
    "s",
    "b",
  ]);
});

Deno.test("extractJavaSymbols() counts LF, CRLF and lone CR as line breaks", () => {
  assert.deepEqual(index("class A {\r\n int b;\r int c;\n\r int d; }"), [
    "A@0:6",
    "b@1:5",
    "c@2:5",
    "d@4:5",
  ]);
  // A line comment ends at a lone CR.
  assert.deepEqual(names("class A { // x\r int b; }"), ["A", "b"]);
});

Deno.test("extractJavaSymbols() counts columns in UTF-16 code units", () => {
  assert.deepEqual(index("/*🦀é*/class 𝑥 { int é𝑥; }"), [
    "é𝑥@0:22",
    "𝑥@0:13",
  ]);
});

Deno.test("extractJavaSymbols() indexes members written at the header's indentation", () => {
  // Deliberate difference: the reference drops these.
  assert.deepEqual(
    names("public class F {\npublic int a;\nprivate void m() {}\n}\n"),
    ["F", "a", "m"],
  );
});

Deno.test("extractJavaSymbols() recovers from malformed members", () => {
  assert.deepEqual(
    names(
      "class A {\n int x\n void m() {}\n ) junk;\n int y;\n}\n}\nclass B { int z; }",
    ),
    ["A", "x", "m", "y", "B", "z"],
  );
  // A nameless type still indexes its members; no empty names.
  assert.deepEqual(names("class { int inner; }"), ["inner"]);
  assert.deepEqual(names("class A { void m( { } int after; }"), [
    "A",
    "m",
    "after",
  ]);
  assert.deepEqual(names(""), []);
  assert.deepEqual(names("}}}{{{"), []);
});

Deno.test("extractJavaSymbols() survives deep nesting without recursion overflow", () => {
  const deep = "class A { ".repeat(5000) + "int x;" + " }".repeat(5000);
  const symbols = extractJavaSymbols("F.java", deep);
  assert.ok(symbols.length > 100 && symbols.length <= 5001);
  assert.ok(javaDiagnostics(deep).length > 0);
});

Deno.test("extractJavaSymbols() is linear on a large file", () => {
  const member = '  int f%; void m%() { if (a) { b(); } String s = "}"; }\n';
  let text = "class Big {\n";
  for (let i = 0; i < 20000; i++) text += member.replaceAll("%", String(i));
  text += "}\n";
  const t0 = performance.now();
  const symbols = extractJavaSymbols("Big.java", text);
  const ms = performance.now() - t0;
  assert.equal(symbols.length, 1 + 2 * 20000);
  assert.equal(symbols[symbols.length - 1].line, 20000);
  assert.ok(ms < 5000, `took ${ms} ms`);
});

Deno.test("sortSymbols() orders by UTF-8 bytes and keeps the first per (name, path)", () => {
  const s = (name: string, path: string, line: number, column = 0): Symbol => ({
    name,
    path,
    line,
    column,
  });
  const input = [
    s("b", "A.java", 3),
    s("a", "B.java", 1),
    s("B", "A.java", 9),
    s("a", "A.java", 2, 5),
    s("a", "A.java", 2, 1),
    s("\u{10000}", "A.java", 0),
    s("\uffff", "A.java", 0),
  ];
  const copy = input.slice();
  assert.deepEqual(sortSymbols(input), [
    s("B", "A.java", 9),
    s("a", "A.java", 2, 1),
    s("a", "B.java", 1),
    s("b", "A.java", 3),
    s("\uffff", "A.java", 0),
    s("\u{10000}", "A.java", 0),
  ]);
  assert.deepEqual(input, copy);
  assert.deepEqual(sortSymbols([]), []);
});

Deno.test("sortSymbols() over many files equals one comparison sort (property)", () => {
  const symbol = fc.record({
    name: fc.constantFrom("a", "B", "run", "\u00e9", "\u{1F600}", "\uffff"),
    path: fc.constantFrom("/A.java", "/B.java", "/\uffff.java", "/\u{1F600}"),
    line: fc.nat({ max: 4 }),
    column: fc.nat({ max: 4 }),
  }, { noNullPrototype: true });
  fc.assert(
    fc.property(fc.array(symbol, { maxLength: 40 }), (symbols) => {
      const sorted = [...symbols].sort(compareSymbols);
      const expected = sorted.filter((s, i) =>
        i === 0 || s.name !== sorted[i - 1].name ||
        s.path !== sorted[i - 1].path
      );
      assert.deepEqual(sortSymbols(symbols), expected);
    }),
    { numRuns: 1000 },
  );
});

Deno.test("javaDiagnostics() reports lexical and structural errors with positions", () => {
  assert.deepEqual(javaDiagnostics("class A { int x; }"), []);
  const d = javaDiagnostics(
    "class A {\n  String s = \"open;\n  char c = 'x;\n  /* never closed\n",
  );
  assert.ok(d.every((x) => x.severity === "error"));
  const at = d.map((x) => `${x.line}:${x.column}`);
  assert.ok(at.includes("1:13"), at.join());
  assert.ok(at.includes("2:11"), at.join());
  assert.ok(at.includes("3:2"), at.join());
  assert.ok(
    javaDiagnostics("class A { \\u00zz }").some((x) => x.column === 10),
  );
  assert.ok(javaDiagnostics("class A {} }").length === 1);
  assert.ok(javaDiagnostics("class A { int # ; }").length >= 1);
});

Deno.test("javaDiagnostics() counts lines like symbols unless lfLineBreaks is set", () => {
  const text = 'class A {\r\r  String s = "x;\n}';
  assert.equal(javaDiagnostics(text)[0].line, 2);
  assert.equal(javaDiagnostics(text, { lfLineBreaks: true })[0].line, 0);
  assert.equal(
    javaDiagnostics(text, { lfLineBreaks: true })[0].column,
    text.indexOf('"'),
  );
});

Deno.test("javaDiagnostics() caps the count and validates the cap", () => {
  const text = "class A {" + " #".repeat(50) + " }";
  assert.equal(javaDiagnostics(text, { maxDiagnostics: 3 }).length, 3);
  assert.ok(MAX_DIAGNOSTICS === 100_000);
  assert.throws(() => javaDiagnostics("", { maxDiagnostics: -1 }), RangeError);
});
