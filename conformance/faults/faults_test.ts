/**
 * The runner must prove it can fail: every injected fault is caught by the
 * case meant for it, and the transparent proxy breaks nothing.
 */
import assert from "node:assert/strict";
import { formatCatchReport, runFaultMatrix } from "./catch.ts";
import { FAULTS } from "./faults.ts";
import { ALL_CASES } from "../runner/cases/mod.ts";
import { runSuite } from "../runner/run.ts";
import {
  faultProxyTemplate,
  hasOurWorker,
  miniWorkerTemplate,
  ourWorkerTemplate,
} from "./templates.ts";

Deno.test("every injected fault is caught by its case", async () => {
  const verdicts = await runFaultMatrix({ jobs: 6 });
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
    }, { jobs: 6 });
    const failed = report.results.filter((r) => r.status === "failed");
    assert.deepEqual(failed.map((r) => `${r.id}: ${r.evidence?.observed}`), []);
  } finally {
    await Deno.remove(runDir, { recursive: true });
  }
});
