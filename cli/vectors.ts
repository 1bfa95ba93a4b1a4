/**
 * `deno task vectors <file.jsonl>...`: checks conformance vector files
 * against the codec. Prints one line per failure (name and reason) and a
 * final `vectors: N passed, M failed` line; exits 1 if anything failed (an
 * unreadable file counts as a failure).
 *
 * @module
 */

import { checkVectorsText } from "../lib/wire/golden_vectors.ts";
import { resolveUserPath } from "./_roots.ts";

/**
 * Runs the checker over files and returns the exit code.
 *
 * @param paths Vector files (JSONL).
 * @returns 0 when every vector passed, 1 otherwise, 2 on usage errors.
 *
 * @example
 * ```ts ignore
 * import { main } from "./vectors.ts";
 * Deno.exit(await main(["conformance/vectors/v3_reference.jsonl"]));
 * ```
 */
export async function main(paths: string[]): Promise<number> {
  if (paths.length === 0) {
    console.error("usage: deno task vectors <file.jsonl>...");
    return 2;
  }
  let passed = 0;
  let failed = 0;
  for (const path of paths) {
    let text: string;
    try {
      // Relative to where the command was typed (`deno task` runs here).
      text = await Deno.readTextFile(resolveUserPath(path));
    } catch (err) {
      console.error(`${path}: cannot read file: ${(err as Error).message}`);
      failed++;
      continue;
    }
    const report = checkVectorsText(text);
    passed += report.passed;
    failed += report.failures.length;
    const prefix = paths.length > 1 ? `${path}: ` : "";
    for (const failure of report.failures) {
      console.log(`${prefix}${failure.name}: ${failure.reason}`);
    }
  }
  console.log(`vectors: ${passed} passed, ${failed} failed`);
  return failed === 0 ? 0 : 1;
}

if (import.meta.main) {
  Deno.exit(await main(Deno.args));
}
