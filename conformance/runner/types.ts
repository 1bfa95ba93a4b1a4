/**
 * Shared shapes of the conformance runner: case definitions, results and
 * the evidence attached to a failure. Pure types and tiny pure helpers only.
 *
 * @module
 */

/**
 * How binding a rule is. A failed `MUST` case makes the run fail (exit 1);
 * `SHOULD` and `implementation-defined` failures are reported only.
 *
 * @example
 * ```ts
 * import { SEVERITIES } from "./types.ts";
 * console.assert(SEVERITIES.MUST === "MUST");
 * ```
 */
export const SEVERITIES = {
  MUST: "MUST",
  SHOULD: "SHOULD",
  IMPLEMENTATION_DEFINED: "implementation-defined",
} as const;

/** A rule's severity. */
export type Severity = typeof SEVERITIES[keyof typeof SEVERITIES];

/** The outcome of one case. */
export type CaseStatus = "passed" | "failed" | "skipped";

/** One decoded frame of a case's transcript. */
export interface TranscriptEntry {
  /** Milliseconds since the case started. */
  t: number;
  /** `r->w` for frames the runner (router) sent, `w->r` for the worker's. */
  dir: "r->w" | "w->r";
  /** Encoded size of the frame including its 4-byte length prefix. */
  size: number;
  /** The frame in wire JSON form (packet data decoded when possible). */
  frame: unknown;
}

/** What a failing case saw. */
export interface Evidence {
  /** What the rule requires. */
  expected: string;
  /** What happened instead. */
  observed: string;
}

/** The result of running one case. */
export interface CaseResult {
  id: string;
  title: string;
  rule: string;
  severity: Severity;
  status: CaseStatus;
  /** Wall time of the case in milliseconds. */
  durationMs: number;
  /** Why the case was skipped (e.g. the worker does not offer zstd). */
  skipReason?: string;
  /** Present when the case failed. */
  evidence?: Evidence;
  /** Informational notes (observed implementation-defined behaviour...). */
  notes: string[];
  /** The last frames exchanged (decoded). */
  transcript: TranscriptEntry[];
  /** The last lines the worker wrote to stderr. */
  stderrTail: string;
  /** Exit code of the worker process, when it exited during the case. */
  exitCode?: number | null;
}

/** A whole run. */
export interface RunReport {
  /** The worker command template that was tested. */
  worker: string;
  transport: string;
  startedAt: string;
  durationMs: number;
  results: CaseResult[];
}

/** Totals of a run. */
export interface RunTotals {
  passed: number;
  failed: number;
  skipped: number;
  /** Failed cases whose severity is MUST. */
  mustFailed: number;
}

/**
 * Counts the results of a run.
 *
 * @param results The case results.
 * @returns Passed, failed, skipped and MUST-failed counts.
 *
 * @example
 * ```ts
 * import { countResults } from "./types.ts";
 * const t = countResults([]);
 * console.assert(t.passed === 0 && t.mustFailed === 0);
 * ```
 */
export function countResults(results: readonly CaseResult[]): RunTotals {
  const totals: RunTotals = { passed: 0, failed: 0, skipped: 0, mustFailed: 0 };
  for (const r of results) {
    totals[r.status]++;
    if (r.status === "failed" && r.severity === SEVERITIES.MUST) {
      totals.mustFailed++;
    }
  }
  return totals;
}

/**
 * Thrown by a case body to mark the case failed with evidence.
 *
 * @example
 * ```ts
 * import { CaseFailure } from "./types.ts";
 * const f = new CaseFailure("exit 0", "exit 1");
 * console.assert(f.evidence.expected === "exit 0");
 * ```
 */
export class CaseFailure extends Error {
  /** Expected versus observed. */
  readonly evidence: Evidence;

  /**
   * Creates a failure.
   *
   * @param expected What the rule requires.
   * @param observed What happened.
   */
  constructor(expected: string, observed: string) {
    super(`expected ${expected}; observed ${observed}`);
    this.name = "CaseFailure";
    this.evidence = { expected, observed };
  }
}

/**
 * Thrown by a case body to skip the case (a precondition does not hold).
 *
 * @example
 * ```ts
 * import { CaseSkip } from "./types.ts";
 * console.assert(new CaseSkip("no zstd").message === "no zstd");
 * ```
 */
export class CaseSkip extends Error {
  /**
   * Creates a skip.
   *
   * @param reason Why the case does not apply.
   */
  constructor(reason: string) {
    super(reason);
    this.name = "CaseSkip";
  }
}
