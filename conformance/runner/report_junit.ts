/**
 * JUnit XML for CI systems: one `<testcase>` per case, grouped in one
 * `<testsuite>` per case family (the id before the first dot). Failures carry
 * the evidence; the transcript and stderr tail go to `<system-out>`.
 *
 * @module
 */

import { type CaseResult, countResults, type RunReport } from "./types.ts";

/**
 * Escapes text for XML content and attributes, dropping characters XML 1.0
 * cannot carry.
 *
 * @param text Any text.
 * @returns Escaped text.
 *
 * @example
 * ```ts
 * import { escapeXml } from "./report_junit.ts";
 * console.assert(escapeXml(`<a b="c">&`) === "&lt;a b=&quot;c&quot;&gt;&amp;");
 * ```
 */
export function escapeXml(text: string): string {
  return text
    // deno-lint-ignore no-control-regex
    .replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]/g, "")
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;")
    .replace(/"/g, "&quot;")
    .replace(/'/g, "&apos;");
}

function caseXml(r: CaseResult): string {
  const name = escapeXml(`${r.id} [${r.severity}]`);
  const cls = escapeXml(`conformance.${r.id.split(".")[0]}`);
  const time = (r.durationMs / 1000).toFixed(3);
  const parts = [
    `    <testcase name="${name}" classname="${cls}" time="${time}">`,
  ];
  if (r.status === "skipped") {
    parts.push(`      <skipped message="${escapeXml(r.skipReason ?? "")}"/>`);
  } else if (r.status === "failed") {
    const ev = r.evidence ?? { expected: "", observed: "" };
    const msg = escapeXml(`expected ${ev.expected}; observed ${ev.observed}`);
    const body = escapeXml(
      `rule: ${r.rule}\nseverity: ${r.severity}\nexpected: ${ev.expected}\nobserved: ${ev.observed}\n`,
    );
    parts.push(
      `      <failure message="${msg}" type="${
        escapeXml(r.severity)
      }">${body}</failure>`,
    );
  }
  const out = [
    `rule: ${r.rule}`,
    ...r.notes.map((n) => `note: ${n}`),
    ...r.transcript.map((e) => `${e.dir} ${JSON.stringify(e.frame)}`),
  ].join("\n");
  parts.push(`      <system-out>${escapeXml(out)}</system-out>`);
  if (r.stderrTail) {
    parts.push(`      <system-err>${escapeXml(r.stderrTail)}</system-err>`);
  }
  parts.push("    </testcase>");
  return parts.join("\n");
}

/**
 * Formats a run as JUnit XML.
 *
 * @param report The run.
 * @returns The XML document.
 *
 * @example
 * ```ts
 * import { formatJunitReport } from "./report_junit.ts";
 * const xml = formatJunitReport({ worker: "w", transport: "unix", startedAt: "", durationMs: 0, results: [] });
 * console.assert(xml.includes('<testsuites name="conformance" tests="0"'));
 * ```
 */
export function formatJunitReport(report: RunReport): string {
  const groups = new Map<string, CaseResult[]>();
  for (const r of report.results) {
    const g = r.id.split(".")[0];
    if (!groups.has(g)) groups.set(g, []);
    groups.get(g)!.push(r);
  }
  const all = countResults(report.results);
  const lines = [
    `<?xml version="1.0" encoding="UTF-8"?>`,
    `<testsuites name="conformance" tests="${report.results.length}" failures="${all.failed}" skipped="${all.skipped}" time="${
      (report.durationMs / 1000).toFixed(3)
    }">`,
  ];
  for (const [name, rs] of groups) {
    const t = countResults(rs);
    const time = rs.reduce((s, r) => s + r.durationMs, 0) / 1000;
    lines.push(
      `  <testsuite name="${
        escapeXml(name)
      }" tests="${rs.length}" failures="${t.failed}" skipped="${t.skipped}" time="${
        time.toFixed(3)
      }">`,
    );
    for (const r of rs) lines.push(caseXml(r));
    lines.push("  </testsuite>");
  }
  lines.push("</testsuites>");
  return lines.join("\n") + "\n";
}
