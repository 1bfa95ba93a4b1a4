/**
 * Regenerates `conformance/java/expected/<file>.json` from the current
 * extractor. The expected files are reviewed by hand against the symbol
 * rules; run this only after a deliberate change, then review the diff.
 *
 * Run: `deno run --allow-read --allow-write _tools/update_java_expected.ts`,
 * then `deno fmt conformance/java/expected/`.
 *
 * @module
 */

import { extractJavaSymbols, sortSymbols } from "../lib/worker/java_symbols.ts";

const DIR = new URL("../conformance/java/", import.meta.url);

/** Fixtures whose result is not fixed by the reference's behaviour. */
const IMPLEMENTATION_DEFINED: Record<
  string,
  { note: string; reference_names?: string[] }
> = {
  "indentation_quirk.java": {
    note:
      "Members at the class header's indentation that start with a modifier: the reference ends the class body there and drops such fields, methods and constructors (nested types stay indexed, as if top-level; later members are then top-level errors). We index every member. reference_names is derived from the digest, not executed.",
    reference_names: ["Flat", "FlatNested"],
  },
  "malformed.java": {
    note:
      "Error recovery on malformed input is implementation-defined; this records our recovery (resume at the next member, skip a stray token to the next `;`, block or closing brace).",
  },
};

const NOTES: Record<string, string> = {
  "worked_example.java": "The digest's worked example (section 4.6), verbatim.",
  "unicode.java":
    "Columns count UTF-16 units (emoji and supplementary letters are 2). Unicode escapes are translated for lexing (\\u007B opens a body, \\u0063lass is class) but names keep the raw source text.",
  "line_endings_crlf.java": "CRLF line breaks count once.",
  "line_endings_cr.java":
    "A lone CR is a line break (also ending a line comment).",
  "line_endings_mixed.java":
    "LF, CR and CRLF mixed; LF followed by CR is two breaks.",
  "module-info.java": "Module declarations produce no symbols.",
};

const names = [...Deno.readDirSync(DIR)]
  .filter((e) => e.isFile && e.name.endsWith(".java"))
  .map((e) => e.name)
  .sort();
for (const name of names) {
  const text = Deno.readTextFileSync(new URL(name, DIR));
  const symbols = sortSymbols(extractJavaSymbols(name, text)).map((s) => ({
    name: s.name,
    line: s.line,
    column: s.column,
  }));
  const special = IMPLEMENTATION_DEFINED[name];
  const doc = {
    source: name,
    implementation_defined: special !== undefined,
    note: special?.note ?? NOTES[name] ?? "",
    ...(special?.reference_names
      ? { reference_names: special.reference_names }
      : {}),
    symbols,
  };
  const lines = [
    "{",
    `  "source": ${JSON.stringify(doc.source)},`,
    `  "implementation_defined": ${doc.implementation_defined},`,
    `  "note": ${JSON.stringify(doc.note)},`,
    ...(doc.reference_names
      ? [`  "reference_names": ${JSON.stringify(doc.reference_names)},`]
      : []),
    `  "symbols": [`,
    symbols.map((s) => `    ${JSON.stringify(s)}`).join(",\n"),
    "  ]",
    "}",
    "",
  ];
  Deno.writeTextFileSync(
    new URL(`expected/${name}.json`, DIR),
    lines.join("\n").replace("[\n\n  ]", "[]"),
  );
}
console.log(`wrote ${names.length} expected files`);
