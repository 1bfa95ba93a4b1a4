/**
 * The whole suite against this repository's worker: every MUST case passes,
 * and the reports are written.
 */
import assert from "node:assert/strict";
import { runConformance } from "../../cli/conformance.ts";
import { hasOurWorker, miniWorkerTemplate } from "../faults/templates.ts";
import { countResults } from "./types.ts";

Deno.test({
  name: "our worker passes every MUST case (unix) and the reports are written",
  sanitizeResources: true,
  sanitizeOps: true,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "loom-conf-test-" });
    try {
      const args = [
        "--jobs",
        "4",
        "--junit",
        `${dir}/r.xml`,
        "--html",
        `${dir}/r.html`,
        "--json",
        `${dir}/r.json`,
      ];
      if (!hasOurWorker()) args.push("--worker", miniWorkerTemplate());
      const lines: string[] = [];
      const { code, report } = await runConformance(args, {
        print: (l) => lines.push(l),
      });
      const totals = countResults(report!.results);
      const mustFailures = report!.results.filter((r) =>
        r.status === "failed" && r.severity === "MUST"
      );
      assert.deepEqual(
        mustFailures.map((r) => `${r.id}: ${r.evidence?.observed}`),
        [],
      );
      assert.equal(code, 0);
      assert.ok(totals.passed >= 60);
      assert.match(
        lines.at(-1)!,
        /^conformance: \d+ passed, \d+ failed, \d+ skipped$/m,
      );
      const xml = await Deno.readTextFile(`${dir}/r.xml`);
      assert.ok(xml.includes(`tests="${report!.results.length}"`));
      const html = await Deno.readTextFile(`${dir}/r.html`);
      assert.ok(html.includes("sem.symbols_worked_example"));
      const json = JSON.parse(await Deno.readTextFile(`${dir}/r.json`));
      assert.equal(json.totals.mustFailed, 0);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
