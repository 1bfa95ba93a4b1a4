import assert from "node:assert/strict";
import { formatHtmlReport } from "./report_html.ts";
import { formatJsonReport } from "./report_json.ts";
import { formatJunitReport } from "./report_junit.ts";
import { formatSummaryLine, formatTextReport } from "./report_text.ts";
import type { CaseResult, RunReport } from "./types.ts";

function result(over: Partial<CaseResult>): CaseResult {
  return {
    id: "hs.x",
    title: "title",
    rule: "nova-wire §7.2",
    severity: "MUST",
    status: "passed",
    durationMs: 12,
    notes: [],
    transcript: [],
    stderrTail: "",
    ...over,
  };
}

const REPORT: RunReport = {
  worker: "my-worker --connect {connect}",
  transport: "unix",
  startedAt: "2026-01-01T00:00:00.000Z",
  durationMs: 1234,
  results: [
    result({ id: "hs.ok" }),
    result({
      id: "ids.bad",
      status: "failed",
      evidence: {
        expected: "a <Welcome> & more",
        observed: `"</script><script>alert(1)</script>`,
      },
      transcript: [
        {
          t: 1,
          dir: "w->r",
          size: 40,
          frame: { type: "hello", body: { shard_id: 7 } },
        },
        { t: 2, dir: "r->w", size: 50, frame: { type: "welcome" } },
      ],
      stderrTail: "worker log line <b>\u0001",
    }),
    result({
      id: "zstd.skip",
      status: "skipped",
      skipReason: "no zstd",
      severity: "SHOULD",
    }),
    result({
      id: "life.should",
      status: "failed",
      severity: "SHOULD",
      evidence: { expected: "e", observed: "o" },
    }),
  ],
};

Deno.test("text report ends with the summary line", () => {
  const text = formatTextReport(REPORT);
  const lines = text.trimEnd().split("\n");
  assert.equal(lines.at(-1), "conformance: 1 passed, 2 failed, 1 skipped");
  assert.ok(text.includes("FAIL  ids.bad  [MUST]"));
  assert.ok(text.includes("expected: a <Welcome> & more"));
  assert.ok(text.includes("MUST failures: 1"));
  assert.equal(
    formatSummaryLine([]),
    "conformance: 0 passed, 0 failed, 0 skipped",
  );
});

Deno.test("JUnit report counts, groups and escapes", () => {
  const xml = formatJunitReport(REPORT);
  assert.ok(xml.startsWith('<?xml version="1.0" encoding="UTF-8"?>'));
  assert.ok(
    xml.includes(
      '<testsuites name="conformance" tests="4" failures="2" skipped="1"',
    ),
  );
  assert.equal(xml.match(/<testcase /g)?.length, 4);
  assert.equal(xml.match(/<failure /g)?.length, 2);
  assert.equal(xml.match(/<skipped /g)?.length, 1);
  assert.ok(xml.includes('<testsuite name="ids"'));
  assert.ok(!xml.includes("<script>"));
  assert.ok(!xml.includes("\u0001"));
  assert.ok(xml.includes("a &lt;Welcome&gt; &amp; more"));
  // Balanced elements.
  assert.equal(
    xml.match(/<testsuite /g)?.length,
    xml.match(/<\/testsuite>/g)?.length,
  );
});

Deno.test("HTML report is self-contained and escapes evidence", () => {
  const html = formatHtmlReport(REPORT);
  assert.ok(html.startsWith("<!DOCTYPE html>"));
  assert.ok(!/\b(src|href)=/.test(html), "no external assets");
  assert.ok(!html.includes("http://") && !html.includes("https://"));
  assert.ok(!html.includes("<script>alert"));
  for (const r of REPORT.results) assert.ok(html.includes(r.id));
  assert.ok(html.includes("worker &rarr; runner"));
  assert.ok(
    html.includes("1 failed (1 MUST)") || html.includes("2 failed (1 MUST)"),
  );
  // Failed cases come first and are expanded.
  assert.ok(html.indexOf("ids.bad") < html.indexOf("hs.ok"));
  assert.ok(/<details data-status="failed"[^>]*open>/.test(html));
});

Deno.test("JSON report round-trips with totals", () => {
  const doc = JSON.parse(formatJsonReport(REPORT));
  assert.deepEqual(doc.totals, {
    passed: 1,
    failed: 2,
    skipped: 1,
    mustFailed: 1,
  });
  assert.equal(
    doc.results[1].evidence.observed,
    REPORT.results[1].evidence!.observed,
  );
});
