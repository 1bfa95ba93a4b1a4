/**
 * A self-contained single-page HTML report (inline CSS and a few lines of
 * inline script for filtering; no external assets). Each case is a
 * `<details>` row: status, id, severity, rule and duration in the summary;
 * expected versus observed, notes, the decoded transcript and the worker's
 * stderr tail inside.
 *
 * @module
 */

import { type CaseResult, countResults, type RunReport } from "./types.ts";

/**
 * Escapes text for HTML content and attribute values.
 *
 * @param text Any text.
 * @returns Escaped text.
 *
 * @example
 * ```ts
 * import { escapeHtml } from "./report_html.ts";
 * console.assert(escapeHtml(`<b>"x" & 'y'</b>`) === "&lt;b&gt;&quot;x&quot; &amp; &#39;y&#39;&lt;/b&gt;");
 * ```
 */
export function escapeHtml(text: string): string {
  return text
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;")
    .replace(/"/g, "&quot;")
    .replace(/'/g, "&#39;");
}

const STYLE = `
body{font:14px/1.4 system-ui,sans-serif;margin:24px;color:#1d1d1f;background:#fafafa}
h1{font-size:20px;margin:0 0 4px}
.meta{color:#555;margin-bottom:12px;word-break:break-all}
.totals span{display:inline-block;margin-right:12px;padding:4px 10px;border-radius:12px;font-weight:600}
.bar{display:flex;height:10px;border-radius:5px;overflow:hidden;margin:10px 0 16px;background:#ddd}
.bar div{height:100%}
.passed{background:#d8f5dd;color:#13621f}.failed{background:#fde0e0;color:#9b1c1c}.skipped{background:#eee;color:#555}
.b-passed{background:#2e9d47}.b-failed{background:#d33}.b-skipped{background:#aaa}
.filters label{margin-right:14px;cursor:pointer}
table.fam{border-collapse:collapse;margin:0 0 14px;font-size:13px}
table.fam td,table.fam th{border:1px solid #ddd;padding:2px 10px;text-align:right;background:#fff}
table.fam td:first-child,table.fam th:first-child{text-align:left;font-family:ui-monospace,monospace}
details{background:#fff;border:1px solid #ddd;border-radius:6px;margin:4px 0}
details[data-status=failed]{border-color:#e99}
summary{cursor:pointer;padding:6px 10px;display:flex;gap:10px;align-items:baseline}
summary .st{width:52px;text-align:center;border-radius:4px;font-weight:700;font-size:12px;padding:1px 0}
summary .id{font-family:ui-monospace,monospace;font-weight:600}
summary .sev{font-size:12px;color:#555;border:1px solid #ccc;border-radius:4px;padding:0 4px}
summary .rule{color:#555;flex:1}
summary .dur{color:#888;font-size:12px}
.body{padding:4px 14px 12px}
.ev{display:grid;grid-template-columns:90px 1fr;gap:2px 10px;margin:6px 0}
.ev b{color:#444}
pre{background:#f4f4f6;padding:8px;border-radius:4px;overflow:auto;max-height:420px;font-size:12px;white-space:pre-wrap;word-break:break-all}
table.tr{border-collapse:collapse;font-size:12px;width:100%}
table.tr td{border-top:1px solid #eee;padding:3px 6px;vertical-align:top}
table.tr td.j{font-family:ui-monospace,monospace;white-space:pre-wrap;word-break:break-all}
.dir-rw{color:#1a56b8}.dir-wr{color:#8a3fb0}
`;

const SCRIPT = `
function applyFilters(){
  var boxes=document.querySelectorAll('.filters input');
  var on={};boxes.forEach(function(b){on[b.value]=b.checked;});
  var q=document.getElementById('q').value.toLowerCase();
  document.querySelectorAll('details[data-status]').forEach(function(d){
    var show=on[d.dataset.status]&&d.dataset.id.indexOf(q)>=0;
    d.style.display=show?'':'none';
  });
}
document.querySelectorAll('.filters input').forEach(function(b){b.addEventListener('change',applyFilters);});
document.getElementById('q').addEventListener('input',applyFilters);
`;

function caseHtml(r: CaseResult): string {
  const parts: string[] = [];
  parts.push(
    `<details data-status="${r.status}" data-id="${
      escapeHtml(r.id.toLowerCase())
    }"${r.status === "failed" ? " open" : ""}>`,
  );
  parts.push(
    `<summary><span class="st ${r.status}">${r.status.toUpperCase()}</span>` +
      `<span class="id">${escapeHtml(r.id)}</span>` +
      `<span class="sev">${escapeHtml(r.severity)}</span>` +
      `<span class="rule">${escapeHtml(r.title)} &mdash; ${
        escapeHtml(r.rule)
      }</span>` +
      `<span class="dur">${Math.round(r.durationMs)} ms</span></summary>`,
  );
  parts.push(`<div class="body">`);
  const ev: string[] = [];
  if (r.skipReason) {
    ev.push(`<b>skipped</b><span>${escapeHtml(r.skipReason)}</span>`);
  }
  if (r.evidence) {
    ev.push(`<b>expected</b><span>${escapeHtml(r.evidence.expected)}</span>`);
    ev.push(`<b>observed</b><span>${escapeHtml(r.evidence.observed)}</span>`);
  }
  for (const n of r.notes) ev.push(`<b>note</b><span>${escapeHtml(n)}</span>`);
  if (r.exitCode !== undefined) {
    ev.push(`<b>exit code</b><span>${escapeHtml(String(r.exitCode))}</span>`);
  }
  if (ev.length) parts.push(`<div class="ev">${ev.join("")}</div>`);
  if (r.transcript.length) {
    parts.push(
      `<div><b>Transcript</b> (last ${r.transcript.length} frames, decoded)</div>`,
    );
    parts.push(`<table class="tr">`);
    for (const e of r.transcript) {
      const cls = e.dir === "r->w" ? "dir-rw" : "dir-wr";
      const label = e.dir === "r->w"
        ? "runner &rarr; worker"
        : "worker &rarr; runner";
      parts.push(
        `<tr><td>${
          e.t.toFixed(0)
        } ms</td><td class="${cls}">${label}</td><td>${e.size} B</td>` +
          `<td class="j">${
            escapeHtml(JSON.stringify(e.frame, null, 1))
          }</td></tr>`,
      );
    }
    parts.push(`</table>`);
  }
  if (r.stderrTail.trim()) {
    parts.push(
      `<div><b>Worker stderr (tail)</b></div><pre>${
        escapeHtml(r.stderrTail)
      }</pre>`,
    );
  }
  parts.push(`</div></details>`);
  return parts.join("\n");
}

function familyTable(results: readonly CaseResult[]): string {
  const fams = new Map<string, CaseResult[]>();
  for (const r of results) {
    const f = r.id.split(".")[0];
    if (!fams.has(f)) fams.set(f, []);
    fams.get(f)!.push(r);
  }
  const rows = [...fams].map(([f, rs]) => {
    const t = countResults(rs);
    return `<tr><td>${
      escapeHtml(f)
    }</td><td>${rs.length}</td><td class="passed">${t.passed}</td>` +
      `<td class="${
        t.failed ? "failed" : ""
      }">${t.failed}</td><td>${t.skipped}</td></tr>`;
  });
  return `<table class="fam"><tr><th>family</th><th>cases</th><th>passed</th><th>failed</th><th>skipped</th></tr>${
    rows.join("")
  }</table>`;
}

/**
 * Formats a run as one self-contained HTML page.
 *
 * @param report The run.
 * @returns The HTML document.
 *
 * @example
 * ```ts
 * import { formatHtmlReport } from "./report_html.ts";
 * const html = formatHtmlReport({ worker: "w", transport: "unix", startedAt: "", durationMs: 0, results: [] });
 * console.assert(html.startsWith("<!DOCTYPE html>") && !html.includes("http"));
 * ```
 */
export function formatHtmlReport(report: RunReport): string {
  const t = countResults(report.results);
  const n = report.results.length || 1;
  const pct = (k: number): string => ((100 * k) / n).toFixed(2);
  const order = { failed: 0, passed: 1, skipped: 2 } as const;
  const sorted = [...report.results].sort((a, b) =>
    order[a.status] - order[b.status] || a.id.localeCompare(b.id)
  );
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Worker conformance report</title>
<style>${STYLE}</style></head>
<body>
<h1>Worker conformance report</h1>
<div class="meta">worker: <code>${escapeHtml(report.worker)}</code><br>
transport: ${escapeHtml(report.transport)} &middot; started ${
    escapeHtml(report.startedAt)
  } &middot; ${(report.durationMs / 1000).toFixed(1)} s</div>
<div class="totals"><span class="passed">${t.passed} passed</span><span class="failed">${t.failed} failed (${t.mustFailed} MUST)</span><span class="skipped">${t.skipped} skipped</span></div>
<div class="bar"><div class="b-passed" style="width:${
    pct(t.passed)
  }%"></div><div class="b-failed" style="width:${
    pct(t.failed)
  }%"></div><div class="b-skipped" style="width:${pct(t.skipped)}%"></div></div>
${familyTable(report.results)}
<div class="filters"><label><input type="checkbox" value="failed" checked> failed</label><label><input type="checkbox" value="passed" checked> passed</label><label><input type="checkbox" value="skipped" checked> skipped</label>
<input id="q" placeholder="filter by id" style="margin-left:10px"></div>
${sorted.map(caseHtml).join("\n")}
<script>${SCRIPT}</script>
</body></html>
`;
}
