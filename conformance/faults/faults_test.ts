/**
 * The runner must prove it can fail: every injected fault is caught by the
 * case meant for it, and the transparent proxy breaks nothing.
 */
import assert from "node:assert/strict";
import { formatCatchReport, runFaultMatrix } from "./catch.ts";
import { FAULTS } from "./faults.ts";
import { ALL_CASES } from "../runner/cases/mod.ts";
import { runSuite } from "../runner/run.ts";
import { type CaseDef, selectCases } from "../runner/case.ts";
import type { RunReport } from "../runner/types.ts";
import { faultProxyTemplate, testWorkerTemplate } from "./templates.ts";

/** Runs `cases` against the test worker behind the proxy with `fault`. */
async function runBehindProxy(
  fault: string,
  cases: readonly CaseDef[],
): Promise<RunReport> {
  const runDir = await Deno.makeTempDir({ prefix: `loom-proxy-${fault}-` });
  try {
    return await runSuite(cases, {
      template: faultProxyTemplate(fault, testWorkerTemplate()),
      transport: "unix",
      runDir,
      tokenEnv: "LOOM_CONFORMANCE_TOKEN",
    }, { jobs: 4 });
  } finally {
    await Deno.remove(runDir, { recursive: true });
  }
}

Deno.test("every injected fault is caught by its case", async () => {
  const verdicts = await runFaultMatrix({ jobs: 4 });
  const report = formatCatchReport(verdicts);
  assert.equal(verdicts.length, FAULTS.length);
  assert.deepEqual(
    verdicts.filter((v) => !v.caught).map((v) => v.fault.name),
    [],
    report,
  );
});

Deno.test("the fault proxy with no fault is transparent", async () => {
  const ids = new Set(FAULTS.flatMap((f) => f.caughtBy));
  const cases = ALL_CASES.filter((c) =>
    ids.has(c.id) && c.id !== "cancel.slow_index_shard_answered"
  );
  const report = await runBehindProxy("none", cases);
  const failed = report.results.filter((r) => r.status === "failed");
  assert.deepEqual(failed.map((r) => `${r.id}: ${r.evidence?.observed}`), []);
});

Deno.test("a worker with a minimal offer (no zstd, cancel, chunking) passes every MUST case it can", async () => {
  const cases = selectCases(
    ALL_CASES,
    "hs.*,chunk.*,zstd.*,cancel.*,session.*",
  );
  const report = await runBehindProxy("minimal_offer", cases);
  const mustFailed = report.results.filter((r) =>
    r.status === "failed" && r.severity === "MUST"
  );
  assert.deepEqual(
    mustFailed.map((r) => `${r.id}: ${r.evidence?.observed}`),
    [],
  );
  const skipped = report.results.filter((r) => r.status === "skipped").map((
    r,
  ) => r.id);
  assert.ok(
    skipped.includes("chunk.interleaved_streams") &&
      skipped.includes("zstd.bomb_rejected"),
  );
  const offered = report.results.find((r) => r.id === "chunk.offered");
  assert.equal(offered?.status, "failed");
});

Deno.test("implementation-defined leniency cases pass for a strict and for a lenient worker", async () => {
  const cases = ALL_CASES.filter((c) => c.id.startsWith("lim.lenient_"));
  assert.ok(cases.length >= 2);
  const runDir = await Deno.makeTempDir({ prefix: "loom-strict-" });
  let strict: RunReport;
  try {
    strict = await runSuite(cases, {
      template: testWorkerTemplate(),
      transport: "unix",
      runDir,
      tokenEnv: "LOOM_CONFORMANCE_TOKEN",
    }, { jobs: 2 });
  } finally {
    await Deno.remove(runDir, { recursive: true });
  }
  const lenient = await runBehindProxy("lenient_decoder", cases);
  for (const report of [strict, lenient]) {
    assert.deepEqual(
      report.results.filter((r) => r.status !== "passed").map((r) =>
        `${r.id}: ${r.evidence?.observed}`
      ),
      [],
    );
  }
  // The two workers really behave differently on the indefinite map.
  const note = (report: RunReport): string =>
    JSON.stringify(
      report.results.find((r) => r.id === "lim.lenient_indefinite_map"),
    );
  assert.match(note(lenient), /accepted/);
  assert.doesNotMatch(note(strict), /accepted/);
});
