/**
 * Runs, for every injected fault, the cases meant to catch it against the
 * fault proxy, and reports which faults were caught (the catch rate).
 *
 * `deno run -A conformance/faults/catch.ts [--inner '<template>'] [--only FAULT,...]`
 *
 * @module
 */

import { ALL_CASES } from "../runner/cases/mod.ts";
import type { HarnessSettings } from "../runner/harness.ts";
import { runSuite } from "../runner/run.ts";
import type { CaseResult } from "../runner/types.ts";
import { type FaultDef, FAULTS } from "./faults.ts";
import {
  faultProxyTemplate,
  miniWorkerTemplate,
  testWorkerTemplate,
} from "./templates.ts";

/** The verdict for one fault. */
export interface FaultVerdict {
  fault: FaultDef;
  /** True when every case in `caughtBy` failed. */
  caught: boolean;
  results: CaseResult[];
}

/** Options for {@link runFaultMatrix}. */
export interface FaultMatrixOptions {
  /** The real worker behind the proxy. @default our worker, else the mini worker */
  inner?: string;
  /** Faults to run. @default all */
  faults?: readonly FaultDef[];
  /** Faults run at the same time. @default 4 */
  jobs?: number;
  /** Per-case timeout. @default 30000 */
  caseTimeoutMs?: number;
}

/**
 * Runs every fault's catching cases.
 *
 * @param options Inner worker, faults and parallelism.
 * @returns One verdict per fault, in order.
 *
 * @example
 * ```ts ignore
 * import { formatCatchReport, runFaultMatrix } from "./catch.ts";
 * console.log(formatCatchReport(await runFaultMatrix({ jobs: 4 })));
 * ```
 */
export async function runFaultMatrix(
  options: FaultMatrixOptions = {},
): Promise<FaultVerdict[]> {
  const inner = options.inner ?? testWorkerTemplate();
  const faults = options.faults ?? FAULTS;
  const verdicts: FaultVerdict[] = new Array(faults.length);
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < faults.length) {
      const i = next++;
      const fault = faults[i];
      const runDir = await Deno.makeTempDir({ prefix: "loom-fault-run-" });
      try {
        const settings: HarnessSettings = {
          template: fault.via === "fixture"
            ? miniWorkerTemplate(fault.name)
            : faultProxyTemplate(fault.name, inner),
          transport: "unix",
          runDir,
          tokenEnv: "LOOM_CONFORMANCE_TOKEN",
        };
        const cases = ALL_CASES.filter((c) => fault.caughtBy.includes(c.id));
        const report = await runSuite(cases, settings, {
          jobs: cases.length,
          caseTimeoutMs: options.caseTimeoutMs ?? 30_000,
        });
        verdicts[i] = {
          fault,
          caught: cases.length === fault.caughtBy.length &&
            report.results.every((r) => r.status === "failed"),
          results: report.results,
        };
      } finally {
        await Deno.remove(runDir, { recursive: true }).catch(() => {});
      }
    }
  };
  await Promise.all(
    Array.from({ length: Math.min(options.jobs ?? 4, faults.length) }, lane),
  );
  return verdicts;
}

/**
 * Formats verdicts with the catch rate on the last line.
 *
 * @param verdicts The verdicts.
 * @returns Text.
 *
 * @example
 * ```ts
 * import { formatCatchReport } from "./catch.ts";
 * console.assert(formatCatchReport([]).endsWith("fault catch rate: 0/0"));
 * ```
 */
export function formatCatchReport(verdicts: readonly FaultVerdict[]): string {
  const lines = verdicts.map((v) => {
    const by = v.results.map((r) => `${r.id}=${r.status}`).join(", ");
    const why = v.results.find((r) => r.evidence)?.evidence;
    return `${v.caught ? "CAUGHT " : "MISSED "} ${
      v.fault.name.padEnd(26)
    } ${by}${why ? `\n         observed: ${why.observed.slice(0, 160)}` : ""}`;
  });
  const caught = verdicts.filter((v) => v.caught).length;
  lines.push(`fault catch rate: ${caught}/${verdicts.length}`);
  return lines.join("\n");
}

if (import.meta.main) {
  const args = Deno.args;
  const get = (name: string): string | undefined => {
    const i = args.indexOf(name);
    return i >= 0 ? args[i + 1] : undefined;
  };
  const only = get("--only")?.split(",");
  const verdicts = await runFaultMatrix({
    inner: get("--inner"),
    faults: only ? FAULTS.filter((f) => only.includes(f.name)) : FAULTS,
  });
  console.log(formatCatchReport(verdicts));
  Deno.exit(verdicts.every((v) => v.caught) ? 0 : 1);
}
