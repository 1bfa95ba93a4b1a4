import assert from "node:assert/strict";
import {
  extractJavaSymbols,
  javaDiagnostics,
  sortSymbols,
} from "./java_symbols.ts";

const DIR = new URL("../../conformance/java/", import.meta.url);

interface Expected {
  source: string;
  implementation_defined: boolean;
  note: string;
  reference_names?: string[];
  symbols: { name: string; line: number; column: number }[];
}

const fixtures = [...Deno.readDirSync(DIR)]
  .filter((e) => e.isFile && e.name.endsWith(".java"))
  .map((e) => e.name)
  .sort();

Deno.test("conformance/java has a fixture per rule and an expected file for each", () => {
  assert.ok(fixtures.length >= 15, `only ${fixtures.length} fixtures`);
  for (const name of fixtures) {
    const expected: Expected = JSON.parse(
      Deno.readTextFileSync(new URL(`expected/${name}.json`, DIR)),
    );
    assert.equal(expected.source, name);
  }
});

for (const name of fixtures) {
  Deno.test(`extractJavaSymbols() matches conformance/java/expected/${name}.json`, () => {
    const text = Deno.readTextFileSync(new URL(name, DIR));
    const expected: Expected = JSON.parse(
      Deno.readTextFileSync(new URL(`expected/${name}.json`, DIR)),
    );
    const actual = sortSymbols(extractJavaSymbols(name, text));
    assert.deepEqual(
      actual,
      expected.symbols.map((s) => ({
        name: s.name,
        path: name,
        line: s.line,
        column: s.column,
      })),
    );
    // Fixtures that are well-formed Java parse without errors.
    if (name !== "malformed.java") assert.deepEqual(javaDiagnostics(text), []);
  });
}

Deno.test("conformance: only the indentation and malformed fixtures are implementation-defined", () => {
  const marked = fixtures.filter((name) =>
    (JSON.parse(
      Deno.readTextFileSync(new URL(`expected/${name}.json`, DIR)),
    ) as Expected).implementation_defined
  );
  assert.deepEqual(marked, ["indentation_quirk.java", "malformed.java"]);
});
