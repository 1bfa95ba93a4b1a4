/**
 * The shape of a conformance case and a helper to declare them.
 *
 * @module
 */

import type { CaseContext } from "./harness.ts";
import type { Severity } from "./types.ts";

/** One conformance case. */
export interface CaseDef {
  /** Stable id: `<family>.<name>`. */
  id: string;
  /** One-line description of the rule being checked. */
  title: string;
  /** Where the rule comes from, e.g. `nova-wire §7.5`. */
  rule: string;
  /** How binding the rule is. */
  severity: Severity;
  /** Per-case timeout. @default 30000 */
  timeoutMs?: number;
  /** Shard id given to the worker. @default 7 */
  shard?: number;
  /** The scenario; throws `CaseFailure`/`CaseSkip` or returns (pass). */
  run(ctx: CaseContext): Promise<void>;
}

/**
 * Declares a case (identity function that keeps literal types tidy).
 *
 * @param def The case.
 * @returns The same case.
 *
 * @example
 * ```ts
 * import { defineCase } from "./case.ts";
 * const c = defineCase({ id: "x.y", title: "t", rule: "r", severity: "MUST", run: async () => {} });
 * console.assert(c.id === "x.y");
 * ```
 */
export function defineCase(def: CaseDef): CaseDef {
  return def;
}

/**
 * Selects cases whose id matches a pattern: a comma-separated list of
 * globs (`*` matches anything) or plain substrings.
 *
 * @param cases All cases.
 * @param pattern The `--only` pattern.
 * @returns The matching cases, in order.
 *
 * @example
 * ```ts
 * import { selectCases } from "./case.ts";
 * const all = [{ id: "hs.a" }, { id: "ids.b" }, { id: "hs.c" }];
 * console.assert(selectCases(all, "hs.*").length === 2);
 * console.assert(selectCases(all, "ids,hs.c").length === 2);
 * ```
 */
export function selectCases<T extends { id: string }>(
  cases: readonly T[],
  pattern: string | undefined,
): T[] {
  if (!pattern) return [...cases];
  const parts = pattern.split(",").map((p) => p.trim()).filter(Boolean);
  const tests = parts.map((p) => {
    if (!p.includes("*")) return (id: string) => id.includes(p);
    const re = new RegExp(
      "^" + p.split("*").map((s) =>
        s.replace(/[.+?^${}()|[\]\\]/g, "\\$&")
      ).join(".*") + "$",
    );
    return (id: string) =>
      re.test(id);
  });
  return cases.filter((c) => tests.some((t) => t(c.id)));
}
