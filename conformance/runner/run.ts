/**
 * Runs cases: one fresh {@link CaseContext} each, a per-case timeout, a pool
 * of `jobs` cases at a time, and cleanup whatever happens.
 *
 * @module
 */

import type { CaseDef } from "./case.ts";
import { CaseContext, type HarnessSettings } from "./harness.ts";
import {
  CaseFailure,
  type CaseResult,
  CaseSkip,
  type RunReport,
} from "./types.ts";

/** Options for {@link runSuite}. */
export interface RunOptions {
  /** Cases run at the same time. @default 4 */
  jobs?: number;
  /** Called after each case. */
  onResult?: (result: CaseResult) => void;
  /** Default per-case timeout. @default 30000 */
  caseTimeoutMs?: number;
}

async function runOne(
  def: CaseDef,
  index: number,
  settings: HarnessSettings,
  defaultTimeout: number,
): Promise<CaseResult> {
  const dir = `${settings.runDir}/c${index}`;
  await Deno.mkdir(dir, { recursive: true, mode: 0o700 });
  const ctx = new CaseContext(settings, { dir, shard: def.shard ?? 7 });
  const timeoutMs = def.timeoutMs ?? defaultTimeout;
  const result: CaseResult = {
    id: def.id,
    title: def.title,
    rule: def.rule,
    severity: def.severity,
    status: "passed",
    durationMs: 0,
    notes: ctx.notes,
    transcript: [],
    stderrTail: "",
  };
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    const body = def.run(ctx);
    body.catch(() => {});
    const timeout = new Promise<"timeout">((r) => {
      timer = setTimeout(() => r("timeout"), timeoutMs);
    });
    const outcome = await Promise.race([
      body.then(() => "done" as const),
      timeout,
    ]);
    if (outcome === "timeout") {
      throw new CaseFailure(
        `the scenario completes within ${timeoutMs} ms`,
        "the case timed out",
      );
    }
    const violations = ctx.checkTraffic ? ctx.violations() : [];
    if (violations.length) {
      throw new CaseFailure(
        "the worker's traffic follows the wire rules",
        violations.slice(0, 5).join("; "),
      );
    }
  } catch (err) {
    if (err instanceof CaseSkip) {
      result.status = "skipped";
      result.skipReason = err.message;
    } else if (err instanceof CaseFailure) {
      result.status = "failed";
      result.evidence = err.evidence;
    } else {
      result.status = "failed";
      result.evidence = {
        expected: "the scenario runs",
        observed: `runner error: ${(err as Error)?.stack ?? String(err)}`,
      };
    }
  } finally {
    clearTimeout(timer);
  }
  result.durationMs = ctx.now();
  // Keep reports light: the full tail for failures, a short one otherwise.
  result.transcript = ctx.transcript(result.status === "failed" ? 40 : 12);
  const last = ctx.workers.at(-1);
  if (last?.exit) result.exitCode = last.exit.code;
  await ctx.cleanup();
  result.stderrTail = ctx.stderrTail();
  return result;
}

/**
 * Runs cases and returns the report.
 *
 * @param cases The cases to run.
 * @param settings Template, transport and run directory.
 * @param options Parallelism, timeout and progress callback.
 * @returns The run report (results in case order).
 *
 * @example
 * ```ts ignore
 * import { runSuite } from "./run.ts";
 * import { ALL_CASES } from "./cases/mod.ts";
 * const report = await runSuite(ALL_CASES, {
 *   template: "my-worker --connect {connect} --shard-id {shard} --cache-dir {cache_dir} --auth-token-env {token_env}",
 *   transport: "unix", runDir: await Deno.makeTempDir(), tokenEnv: "TOKEN",
 * }, { jobs: 4 });
 * ```
 */
export async function runSuite(
  cases: readonly CaseDef[],
  settings: HarnessSettings,
  options: RunOptions = {},
): Promise<RunReport> {
  const startedAt = new Date().toISOString();
  const t0 = performance.now();
  const results: CaseResult[] = new Array(cases.length);
  const jobs = Math.max(1, options.jobs ?? 4);
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < cases.length) {
      const i = next++;
      results[i] = await runOne(
        cases[i],
        i,
        settings,
        options.caseTimeoutMs ?? 30_000,
      );
      options.onResult?.(results[i]);
    }
  };
  await Promise.all(Array.from({ length: Math.min(jobs, cases.length) }, lane));
  return {
    worker: settings.template,
    transport: settings.transport,
    startedAt,
    durationMs: performance.now() - t0,
    results,
  };
}
