/**
 * Cases generated from the Java fixture corpus (`conformance/java/*.java`
 * with `expected/<file>.json`): one IndexShard per fixture, plus the whole
 * corpus as one shard. Fixtures marked implementation-defined only report
 * whether the worker matched our expectations.
 *
 * @module
 */

import type { FileText, Symbol } from "../../../lib/wire/types.ts";
import { type CaseDef, defineCase } from "../case.ts";
import type { CaseContext } from "../harness.ts";
import { CaseFailure } from "../types.ts";
import { expectSymbols, indexShard, open, RW, sortedSymbols } from "./_util.ts";

interface Expected {
  source: string;
  implementation_defined: boolean;
  note: string;
  symbols: { name: string; line: number; column: number }[];
}

interface Fixture {
  name: string;
  file: FileText;
  expected: Symbol[];
  implementationDefined: boolean;
  note: string;
}

const DIR = new URL("../../java/", import.meta.url);

function loadFixtures(): Fixture[] {
  const out: Fixture[] = [];
  let entries: string[];
  try {
    entries = [...Deno.readDirSync(DIR)].filter((e) =>
      e.isFile && e.name.endsWith(".java")
    )
      .map((e) => e.name).sort();
  } catch {
    return out;
  }
  for (const name of entries) {
    try {
      const text = Deno.readTextFileSync(new URL(name, DIR));
      const exp = JSON.parse(
        Deno.readTextFileSync(new URL(`expected/${name}.json`, DIR)),
      ) as Expected;
      const path = `src/corpus/${name}`;
      out.push({
        name,
        file: { path, text },
        expected: sortedSymbols(exp.symbols.map((s) => ({ ...s, path }))),
        implementationDefined: exp.implementation_defined,
        note: exp.note,
      });
    } catch { /* a fixture without expectations is not a case */ }
  }
  return out;
}

function caseId(name: string): string {
  return `sem.corpus_${
    name.replace(/\.java$/, "").replace(/[^a-z0-9]+/gi, "_").toLowerCase()
  }`;
}

const FIXTURES = loadFixtures();

/**
 * One case per corpus fixture, plus the whole corpus in one shard.
 *
 * @example
 * ```ts
 * import { CORPUS_CASES } from "./corpus.ts";
 * console.assert(CORPUS_CASES.every((c) => c.id.startsWith("sem.corpus_")));
 * ```
 */
export const CORPUS_CASES: CaseDef[] = [
  ...FIXTURES.map((f) =>
    defineCase({
      id: caseId(f.name),
      title: `Symbols of the corpus fixture ${f.name}${
        f.note ? ` (${f.note.split(".")[0]})` : ""
      }`,
      rule: `${RW} §4.2-§4.5; conformance/java/${f.name}`,
      severity: f.implementationDefined ? "implementation-defined" : "MUST",
      async run(ctx: CaseContext) {
        const index = await indexShard(await open(ctx), [f.file]);
        try {
          expectSymbols(index.symbols, f.expected);
          if (f.implementationDefined) {
            ctx.note("matches this repository's choice");
          }
        } catch (err) {
          if (
            !f.implementationDefined || !(err instanceof CaseFailure)
          ) throw err;
          ctx.note(
            `differs from this repository's choice: ${err.evidence.observed}`,
          );
        }
      },
    })
  ),
  ...(FIXTURES.length
    ? [defineCase({
      id: "sem.corpus_whole_shard",
      title: "The whole well-formed fixture corpus indexed as one shard",
      rule: `${RW} §4.5 (sort and dedup across files)`,
      severity: "MUST",
      async run(ctx: CaseContext) {
        const fs = FIXTURES.filter((f) => !f.implementationDefined);
        const index = await indexShard(await open(ctx), fs.map((f) => f.file));
        expectSymbols(
          index.symbols,
          sortedSymbols(fs.flatMap((f) => f.expected)),
        );
      },
    })]
    : []),
];
