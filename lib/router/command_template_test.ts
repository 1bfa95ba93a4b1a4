import assert from "node:assert/strict";
import { splitCommandLine, tokenizeCommandLine } from "./command_template.ts";

Deno.test("tokenizeCommandLine() splits on blanks and removes quotes", () => {
  assert.deepEqual(tokenizeCommandLine("  a   b\tc\r\nd "), [
    "a",
    "b",
    "c",
    "d",
  ]);
  assert.deepEqual(tokenizeCommandLine(`a''b "" '' "x\\"y" 'it'\\''s'`), [
    "ab",
    "",
    "",
    'x"y',
    "it's",
  ]);
  assert.deepEqual(tokenizeCommandLine(`"$HOME \\$ \\n" a\\ b`), [
    "$HOME $ \\n",
    "a b",
  ]);
  assert.deepEqual(tokenizeCommandLine("a\\\nb"), ["ab"]);
  assert.deepEqual(tokenizeCommandLine(""), []);
});

Deno.test("tokenizeCommandLine() rejects unterminated quotes and a trailing backslash", () => {
  for (const bad of [`a 'b`, `a "b`, `a "b\\"`, `a \\`]) {
    assert.throws(() => tokenizeCommandLine(bad), TypeError, bad);
  }
});

Deno.test("splitCommandLine() requires a program", () => {
  assert.deepEqual(splitCommandLine("w x"), ["w", "x"]);
  assert.throws(() => splitCommandLine(" \t"), TypeError);
});
