/**
 * Enforces "pure core, thin I/O": outside `lib/net/` and `cli/`, library
 * modules may not touch `Deno.*`, timers, WebCrypto or `node:` I/O modules.
 * Tests (`*_test.ts`) may, since they load fixtures and run sockets.
 *
 * Usage: `deno run --allow-read _tools/check_purity.ts` (exit 1 on a finding).
 *
 * @module
 */

const PURE_ROOTS = [
  "lib/wire",
  "lib/worker",
  "lib/router",
  "lib/testing",
  "lib/seed",
];
/** Binding folders inside a pure root (`lib/<area>/runtime/`) are not pure. */
const BINDING_DIRS = new Set(["runtime"]);
const FORBIDDEN: ReadonlyArray<readonly [RegExp, string]> = [
  [/\bDeno\./, "Deno namespace"],
  [/\bset(Timeout|Interval)\s*\(/, "timer"],
  [/\bcrypto\.subtle\b/, "WebCrypto (async)"],
  [/from\s+["']node:(?!assert)[^"']+["']/, "node: module import"],
];

/** A forbidden use found in a pure module. */
export interface PurityFinding {
  /** Path relative to the project root. */
  file: string;
  /** 1-based line number. */
  line: number;
  /** What was found. */
  what: string;
}

/**
 * Lists forbidden uses in one module's text, skipping comment lines.
 *
 * @param file The module's path (for the report).
 * @param text The module's source text.
 * @returns The findings, in line order.
 *
 * @example
 * ```ts
 * import { findImpurities } from "./check_purity.ts";
 * console.assert(findImpurities("a.ts", "Deno.exit(1);").length === 1);
 * console.assert(findImpurities("a.ts", "// Deno.exit(1);").length === 0);
 * ```
 */
export function findImpurities(file: string, text: string): PurityFinding[] {
  const findings: PurityFinding[] = [];
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i].trim();
    if (/^(\/\/|\/\*|\*)/.test(line)) continue;
    for (const [pattern, what] of FORBIDDEN) {
      if (pattern.test(line)) findings.push({ file, line: i + 1, what });
    }
  }
  return findings;
}

async function* modules(dir: string): AsyncGenerator<string> {
  for await (const entry of Deno.readDir(dir)) {
    const path = `${dir}/${entry.name}`;
    if (entry.isDirectory) {
      if (!BINDING_DIRS.has(entry.name)) yield* modules(path);
    } else if (entry.name.endsWith(".ts") && !entry.name.endsWith("_test.ts")) {
      yield path;
    }
  }
}

if (import.meta.main) {
  const findings: PurityFinding[] = [];
  for (const root of PURE_ROOTS) {
    for await (const file of modules(root)) {
      findings.push(...findImpurities(file, await Deno.readTextFile(file)));
    }
  }
  for (const f of findings) {
    console.error(`${f.file}:${f.line}: ${f.what} in a pure module`);
  }
  console.log(`purity: ${findings.length} finding(s)`);
  if (findings.length > 0) Deno.exit(1);
}
