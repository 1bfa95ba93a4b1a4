/**
 * The plain-text report: one line per case, evidence under failures, and a
 * final summary line `conformance: N passed, M failed, K skipped`.
 *
 * @module
 */

import { type CaseResult, countResults, type RunReport } from "./types.ts";

const STATUS_LABEL = {
  passed: "PASS",
  failed: "FAIL",
  skipped: "SKIP",
} as const;

/** Options for {@link formatTextReport}. */
export interface TextReportOptions {
  /** Include the transcript and stderr tail of failed cases. @default false */
  verbose?: boolean;
}

/**
 * Formats the final summary line.
 *
 * @param results The case results.
 * @returns `conformance: N passed, M failed, K skipped`.
 *
 * @example
 * ```ts
 * import { formatSummaryLine } from "./report_text.ts";
 * console.assert(formatSummaryLine([]) === "conformance: 0 passed, 0 failed, 0 skipped");
 * ```
 */
export function formatSummaryLine(results: readonly CaseResult[]): string {
  const t = countResults(results);
  return `conformance: ${t.passed} passed, ${t.failed} failed, ${t.skipped} skipped`;
}

/**
 * Formats one case as a line (plus evidence lines when it failed).
 *
 * @param r The result.
 * @param options Verbosity.
 * @returns The text, without a trailing newline.
 *
 * @example
 * ```ts
 * import { formatCaseLine } from "./report_text.ts";
 * const line = formatCaseLine({
 *   id: "x.y", title: "t", rule: "wire §1", severity: "MUST", status: "passed",
 *   durationMs: 3, notes: [], transcript: [], stderrTail: "",
 * });
 * console.assert(line.startsWith("PASS  x.y"));
 * ```
 */
export function formatCaseLine(
  r: CaseResult,
  options: TextReportOptions = {},
): string {
  const lines = [
    `${STATUS_LABEL[r.status]}  ${r.id}  [${r.severity}] ${r.rule}  (${
      Math.round(r.durationMs)
    } ms)`,
  ];
  if (r.status === "skipped" && r.skipReason) {
    lines.push(`      skipped: ${r.skipReason}`);
  }
  if (r.status === "failed" && r.evidence) {
    lines.push(`      expected: ${r.evidence.expected}`);
    lines.push(`      observed: ${r.evidence.observed}`);
    if (options.verbose) {
      for (const e of r.transcript.slice(-8)) {
        lines.push(`      ${e.dir} ${JSON.stringify(e.frame).slice(0, 300)}`);
      }
      const tail = r.stderrTail.trim().split("\n").slice(-5);
      for (const l of tail) if (l) lines.push(`      stderr| ${l}`);
    }
  }
  for (const n of r.notes) lines.push(`      note: ${n}`);
  return lines.join("\n");
}

/**
 * Formats a whole run; the last line is the summary line.
 *
 * @param report The run.
 * @param options Verbosity.
 * @returns The report text, ending with a newline.
 *
 * @example
 * ```ts
 * import { formatTextReport } from "./report_text.ts";
 * const text = formatTextReport({ worker: "w", transport: "unix", startedAt: "", durationMs: 0, results: [] });
 * console.assert(text.trimEnd().endsWith("conformance: 0 passed, 0 failed, 0 skipped"));
 * ```
 */
export function formatTextReport(
  report: RunReport,
  options: TextReportOptions = {},
): string {
  const out = report.results.map((r) => formatCaseLine(r, options));
  const t = countResults(report.results);
  out.push("");
  out.push(
    `worker: ${report.worker}`,
    `transport: ${report.transport}; ${report.results.length} cases in ${
      (report.durationMs / 1000).toFixed(1)
    } s; MUST failures: ${t.mustFailed}`,
  );
  out.push(formatSummaryLine(report.results));
  return out.join("\n") + "\n";
}
