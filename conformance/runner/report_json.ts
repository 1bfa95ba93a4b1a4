/**
 * The machine-readable report: the whole run as JSON (transcripts already
 * hold wire JSON, so the document is plain JSON).
 *
 * @module
 */

import { countResults, type RunReport } from "./types.ts";

/**
 * Formats a run as a JSON document with totals.
 *
 * @param report The run.
 * @returns Pretty-printed JSON.
 *
 * @example
 * ```ts
 * import { formatJsonReport } from "./report_json.ts";
 * const doc = JSON.parse(formatJsonReport({ worker: "w", transport: "unix", startedAt: "", durationMs: 0, results: [] }));
 * console.assert(doc.totals.passed === 0);
 * ```
 */
export function formatJsonReport(report: RunReport): string {
  return JSON.stringify(
    { ...report, totals: countResults(report.results) },
    null,
    2,
  ) + "\n";
}
