/**
 * The runner must prove it can fail: every injected fault is caught by the
 * case meant for it, and the transparent proxy breaks nothing.
 */
import assert from "node:assert/strict";
import { formatCatchReport, runFaultMatrix } from "./catch.ts";
import { FAULTS } from "./faults.ts";
import { ALL_CASES } from "../runner/cases/mod.ts";
import { runSuite } from "../runner/run.ts";
import { selectCases } from "../runner/case.ts";
import {
  faultProxyTemplate,
  hasOurWorker,
  miniWorkerTemplate,
  ourWorkerTemplate,
} from "./templates.ts";

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
  const inner = hasOurWorker() ? ourWorkerTemplate() : miniWorkerTemplate();
  const ids = new Set(FAULTS.flatMap((f) => f.caughtBy));
  const cases = ALL_CASES.filter((c) =>
    ids.has(c.id) && c.id !== "cancel.slow_index_shard_answered"
  );
  const runDir = await Deno.makeTempDir({ prefix: "loom-proxy-none-" });
  try {
    const report = await runSuite(cases, {
      template: faultProxyTemplate("none", inner),
      transport: "unix",
      runDir,
      tokenEnv: "LOOM_CONFORMANCE_TOKEN",
    }, { jobs: 4 });
    const failed = report.results.filter((r) => r.status === "failed");
    assert.deepEqual(failed.map((r) => `${r.id}: ${r.evidence?.observed}`), []);
  } finally {
    await Deno.remove(runDir, { recursive: true });
  }
});

Deno.test("a worker with a minimal offer (no zstd, cancel, chunking) passes every MUST case it can", async () => {
  const inner = hasOurWorker() ? ourWorkerTemplate() : miniWorkerTemplate();
  const cases = selectCases(
    ALL_CASES,
    "hs.*,chunk.*,zstd.*,cancel.*,session.*",
  );
  const runDir = await Deno.makeTempDir({ prefix: "loom-proxy-minimal-" });
  try {
    const report = await runSuite(cases, {
      template: faultProxyTemplate("minimal_offer", inner),
      transport: "unix",
      runDir,
      tokenEnv: "LOOM_CONFORMANCE_TOKEN",
    }, { jobs: 4 });
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
  } finally {
    await Deno.remove(runDir, { recursive: true });
  }
});
