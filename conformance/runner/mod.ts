/**
 * The worker conformance runner as a library: the case catalogue, the
 * scheduler, the reports and the command template helpers. The command
 * line lives in `cli/conformance.ts`.
 *
 * @example List the MUST cases
 * ```ts
 * import { ALL_CASES } from "./mod.ts";
 * const must = ALL_CASES.filter((c) => c.severity === "MUST");
 * console.assert(must.length > 60);
 * ```
 *
 * @module
 */

export { ALL_CASES } from "./cases/mod.ts";
export { type CaseDef, defineCase, selectCases } from "./case.ts";
export {
  CaseContext,
  type ClientIdentityFiles,
  type HarnessSettings,
  killAllWorkers,
  type TlsMaterial,
  type Transport,
  WorkerProcess,
} from "./harness.ts";
export { prepareTlsMaterial, type RunTlsMaterial } from "./tls_material.ts";
export { Conn, type HandshakeOptions } from "./conn.ts";
export { SessionDriver } from "./session_driver.ts";
export { type RunOptions, runSuite } from "./run.ts";
export { expandTemplate, PLACEHOLDERS, tokenizeCommand } from "./template.ts";
export { defaultWorkerTemplate, parseConformanceArgs } from "./options.ts";
export { formatHtmlReport } from "./report_html.ts";
export { formatJunitReport } from "./report_junit.ts";
export { formatJsonReport } from "./report_json.ts";
export { formatSummaryLine, formatTextReport } from "./report_text.ts";
export { WireMonitor } from "./wire_monitor.ts";
export {
  CaseFailure,
  type CaseResult,
  CaseSkip,
  countResults,
  type RunReport,
  SEVERITIES,
  type Severity,
} from "./types.ts";
