import assert from "node:assert/strict";
import fc from "fast-check";
import type { Symbol } from "../wire/types.ts";
import { generateJavaCorpus } from "./java_corpus.ts";
import {
  extractJavaSymbols,
  javaDiagnostics,
  sortSymbols,
} from "./java_symbols.ts";
import { compareSymbols } from "./symbol_order.ts";

/** Line start offsets, with LF, CRLF and lone CR as breaks (test oracle). */
function lineStarts(text: string): number[] {
  const starts = [0];
  const re = /\r\n|\r|\n/g;
  for (let m = re.exec(text); m !== null; m = re.exec(text)) {
    starts.push(m.index + m[0].length);
  }
  return starts;
}

/** Every symbol's position points at its name, in source order. */
function checkSymbols(text: string, symbols: Symbol[]): void {
  const starts = lineStarts(text);
  let last = -1;
  for (const s of symbols) {
    assert.ok(s.name.length > 0);
    assert.ok(s.line >= 0 && s.line < starts.length, `line ${s.line}`);
    const offset = starts[s.line] + s.column;
    const lineEnd = s.line + 1 < starts.length
      ? starts[s.line + 1]
      : text.length;
    assert.ok(s.column >= 0 && offset < lineEnd, `column ${s.column}`);
    assert.equal(text.slice(offset, offset + s.name.length), s.name);
    assert.ok(offset > last, "source order");
    last = offset;
  }
}

function checkDiagnostics(text: string): void {
  const starts = lineStarts(text);
  for (const d of javaDiagnostics(text)) {
    assert.equal(d.severity, "error");
    assert.ok(d.line >= 0 && d.line < starts.length);
    assert.ok(d.column >= 0 && starts[d.line] + d.column <= text.length);
  }
}

const JAVA_PIECES = [
  "class ",
  "interface ",
  "enum ",
  "record ",
  "@interface ",
  "@A ",
  "@A(x = {1}) ",
  "public ",
  "static ",
  "sealed ",
  "non-sealed ",
  "permits ",
  "extends ",
  "default ",
  "int ",
  "void ",
  "var ",
  "x",
  "Y",
  "z1",
  "é",
  "𝑥",
  "🦀",
  "$",
  "_",
  "{",
  "}",
  "(",
  ")",
  "[",
  "]",
  "<",
  ">",
  ">>",
  ",",
  ";",
  "=",
  ".",
  "...",
  "?",
  "&",
  "->",
  "::",
  '"',
  "'",
  '"""',
  "\\",
  "\\u0041",
  "\\u007B",
  "\\u007D",
  "\\uZZ",
  "/*",
  "*/",
  "//",
  "/**",
  "\n",
  "\r",
  "\r\n",
  " ",
  "\t",
  "1",
  "0x1p+3",
  "1e-5",
  "'{'",
  '"}"',
  "new ",
  "() -> {",
  "throws E ",
  "\uD800",
  "\uDC00",
  "\u0000",
  "#",
];

const javaish = fc.array(fc.constantFrom(...JAVA_PIECES), { maxLength: 120 })
  .map((parts) => parts.join(""));
const anyUnits = fc.string({
  unit: fc.integer({ min: 0, max: 0xffff }).map((u) => String.fromCharCode(u)),
  maxLength: 200,
});

Deno.test("extractJavaSymbols() never throws and positions point at names (Java-like text)", () => {
  fc.assert(
    fc.property(javaish, (text) => {
      checkSymbols(text, extractJavaSymbols("F.java", text));
      checkDiagnostics(text);
    }),
    { numRuns: 1500 },
  );
});

Deno.test("extractJavaSymbols() never throws on arbitrary UTF-16 text", () => {
  fc.assert(
    fc.property(anyUnits, (text) => {
      checkSymbols(text, extractJavaSymbols("F.java", text));
      checkDiagnostics(text);
    }),
    { numRuns: 1000 },
  );
});

const corpus = generateJavaCorpus({ files: 20, seed: 11 });
const fixtureDir = new URL("../../conformance/java/", import.meta.url);
const fixtures = [...Deno.readDirSync(fixtureDir)]
  .filter((e) => e.isFile && e.name.endsWith(".java"))
  .map((e) => Deno.readTextFileSync(new URL(e.name, fixtureDir)));
const realJava = [...corpus.map((f) => f.text), ...fixtures];

const mutation = fc.oneof(
  fc.record({
    kind: fc.constant("delete" as const),
    at: fc.nat(),
    length: fc.nat({ max: 40 }),
  }),
  fc.record({
    kind: fc.constant("insert" as const),
    at: fc.nat(),
    piece: fc.constantFrom(...JAVA_PIECES),
  }),
  fc.record({ kind: fc.constant("truncate" as const), at: fc.nat() }),
);

function mutate(
  text: string,
  m: { kind: string; at: number; length?: number; piece?: string },
): string {
  const at = text.length === 0 ? 0 : m.at % (text.length + 1);
  if (m.kind === "delete") {
    return text.slice(0, at) + text.slice(at + (m.length ?? 0));
  }
  if (m.kind === "insert") return text.slice(0, at) + m.piece + text.slice(at);
  return text.slice(0, at);
}

Deno.test("extractJavaSymbols() never throws on mutated real Java", () => {
  fc.assert(
    fc.property(
      fc.nat({ max: realJava.length - 1 }),
      fc.array(mutation, { minLength: 1, maxLength: 8 }),
      (which, mutations) => {
        let text = realJava[which];
        for (const m of mutations) text = mutate(text, m);
        checkSymbols(text, extractJavaSymbols("F.java", text));
        checkDiagnostics(text);
      },
    ),
    { numRuns: 400 },
  );
});

Deno.test("extractJavaSymbols() finds no parse errors in the generated corpus", () => {
  for (const f of corpus) {
    assert.deepEqual(javaDiagnostics(f.text), [], f.path);
    checkSymbols(f.text, extractJavaSymbols(f.path, f.text));
  }
});

Deno.test("sortSymbols() is sorted, de-duplicated, complete and idempotent", () => {
  const symbol = fc.record({
    name: fc.constantFrom(
      "a",
      "B",
      "é",
      "\uffff",
      "\u{10000}",
      "ab",
      "a\u{10000}",
    ),
    path: fc.constantFrom("x.java", "y.java", "X.java"),
    line: fc.nat({ max: 5 }),
    column: fc.nat({ max: 5 }),
  });
  fc.assert(
    fc.property(fc.array(symbol, { maxLength: 60 }), (symbols) => {
      const sorted = sortSymbols(symbols);
      for (let i = 1; i < sorted.length; i++) {
        assert.ok(compareSymbols(sorted[i - 1], sorted[i]) < 0);
        assert.ok(
          sorted[i - 1].name !== sorted[i].name ||
            sorted[i - 1].path !== sorted[i].path,
        );
      }
      const keys = (xs: Symbol[]) =>
        new Set(xs.map((s) => `${s.name}\0${s.path}`));
      assert.deepEqual(keys(sorted), keys(symbols));
      for (const s of sorted) {
        // The survivor is the lowest (line, column) for its (name, path).
        for (const o of symbols) {
          if (o.name === s.name && o.path === s.path) {
            assert.ok(
              s.line < o.line || (s.line === o.line && s.column <= o.column),
            );
          }
        }
      }
      assert.deepEqual(sortSymbols(sorted), sorted);
      // Without surrogates or units >= U+E000 the native-order path runs.
      const low = sortSymbols(
        symbols.filter((s) => !/[\ud800-\uffff]/.test(s.name)),
      );
      for (let i = 1; i < low.length; i++) {
        assert.ok(compareSymbols(low[i - 1], low[i]) < 0);
      }
    }),
    { numRuns: 300 },
  );
});
