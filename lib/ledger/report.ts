/**
 * Scan results and their three output forms, pure: a human summary, JSON,
 * and SARIF 2.1.0. The secret appears only as a {@link RedactedDigest}
 * unless `reveal` is set.
 *
 * @module
 */

import type * as Sarif from "npm:@types/sarif@2.1.7/index.d.ts";
import { RedactedDigest } from "./digest.ts";
import type { SpanEncoding } from "./engine.ts";
import type { RuleSet } from "./rules.ts";

/** Where a git finding was first seen. */
export interface GitProvenance {
  /** The first commit (oldest) that added the blob. */
  readonly commit: string;
  /** Its author name. */
  readonly author: string;
  /** Its author e-mail. */
  readonly email: string;
  /** Its author time, seconds since the epoch. */
  readonly time: number;
  /** The blob. */
  readonly blob: string;
}

/** One finding, located. */
export interface ScanFinding {
  /** Rule id. */
  readonly ruleId: string;
  /** Rule description. */
  readonly description: string;
  /** Path relative to the scan root (for git: the first path of the blob). */
  readonly path: string;
  /** Archive member path, or null. */
  readonly member: string | null;
  /** 1-based line. */
  readonly line: number;
  /** 1-based byte column. */
  readonly column: number;
  /** Byte offset of the span in the file (or member). */
  readonly start: number;
  /** End offset (exclusive). */
  readonly end: number;
  /** Decodings that revealed it. */
  readonly encodings: readonly SpanEncoding[];
  /** The secret's digest (label `secret`). */
  readonly secretDigest: RedactedDigest;
  /** The raw secret: in memory only, printed only with `reveal`. */
  readonly secret: Uint8Array;
  /** Git provenance, for git scans. */
  readonly git: GitProvenance | null;
}

/** Why a scan stopped early. */
export type BudgetStop = "max_items" | "max_bytes";

/** The counts of a scan. */
export interface ScanSummary {
  /** `fs` or `git`. */
  readonly source: "fs" | "git";
  /** The root scanned. */
  readonly root: string;
  /** Items scanned now (files / blobs). */
  readonly itemsScanned: number;
  /** Bytes scanned now. */
  readonly bytesScanned: number;
  /** Findings emitted now. */
  readonly findingsEmitted: number;
  /** Items skipped because the ledger has them under this policy. */
  readonly itemsUnchanged: number;
  /** Findings recorded earlier in those unchanged items. */
  readonly findingsPreviouslyRecorded: number;
  /** Items skipped as binary. */
  readonly itemsBinary: number;
  /** Archive members scanned. */
  readonly archiveMembers: number;
  /** Items that could not be read (reasons in the log). */
  readonly itemsFailed: number;
  /** The budget that stopped the scan, or null. */
  readonly stoppedBy: BudgetStop | null;
  /** The policy hash (hex). */
  readonly policyHash: string;
  /** Wall time, ms. */
  readonly elapsedMs: number;
}

/**
 * A finding recorded by an earlier scan in an item this scan skipped as
 * unchanged (the ledger keeps its location and rule, not the secret).
 */
export interface RecordedFinding {
  /** Rule id (from the rule fingerprint). */
  readonly ruleId: string;
  /** Rule description. */
  readonly description: string;
  /** `path[!member]:line:column` as recorded. */
  readonly location: string;
  /** The item's path. */
  readonly path: string;
  /** 1-based line. */
  readonly line: number;
  /** 1-based byte column. */
  readonly column: number;
  /** The finding id (hex), stable across scans. */
  readonly findingId: string;
  /** Git provenance of the item, for git scans. */
  readonly git: GitProvenance | null;
}

/** A scan's output. */
export interface ScanReport {
  /** Counts. */
  readonly summary: ScanSummary;
  /** Findings, in discovery order. */
  readonly findings: readonly ScanFinding[];
  /** Findings of unchanged items, recorded by earlier scans. */
  readonly recorded?: readonly RecordedFinding[];
}

const utf8 = new TextDecoder();

function secretText(f: ScanFinding, reveal: boolean): string {
  return reveal ? utf8.decode(f.secret) : f.secretDigest.toString();
}

function location(f: ScanFinding): string {
  const where = f.member === null ? f.path : `${f.path}!${f.member}`;
  return `${where}:${f.line}:${f.column}`;
}

/**
 * The human form: one line per finding, then a summary.
 *
 * @param report The report.
 * @param reveal Print raw secrets.
 * @returns Text (ends with a newline).
 *
 * @example
 * ```ts
 * import { formatHuman } from "./report.ts";
 * const summary = { source: "fs", root: "/r", itemsScanned: 1, bytesScanned: 2, findingsEmitted: 0, itemsUnchanged: 0,
 *   findingsPreviouslyRecorded: 0, itemsBinary: 0, archiveMembers: 0, itemsFailed: 0, stoppedBy: null, policyHash: "00", elapsedMs: 1 } as const;
 * console.assert(formatHuman({ summary, findings: [] }, false).includes("0 findings"));
 * ```
 */
export function formatHuman(report: ScanReport, reveal: boolean): string {
  const lines = report.findings.map((f) => {
    const via = f.encodings.length === 0 ? "" : ` (${f.encodings.join(" > ")})`;
    const git = f.git === null
      ? ""
      : ` commit ${f.git.commit.slice(0, 12)} by ${f.git.author}`;
    return `${location(f)}  ${f.ruleId}  secret ${
      secretText(f, reveal)
    }${via}${git}`;
  });
  for (const r of report.recorded ?? []) {
    lines.push(`${r.location}  ${r.ruleId}  recorded by an earlier scan`);
  }
  const s = report.summary;
  const extra: string[] = [];
  if (s.itemsUnchanged > 0) {
    extra.push(
      `${s.itemsUnchanged} unchanged items skipped (${s.findingsPreviouslyRecorded} findings recorded earlier)`,
    );
  }
  if (s.itemsBinary > 0) extra.push(`${s.itemsBinary} binary items skipped`);
  if (s.archiveMembers > 0) extra.push(`${s.archiveMembers} archive members`);
  if (s.itemsFailed > 0) extra.push(`${s.itemsFailed} items unreadable`);
  if (s.stoppedBy !== null) {
    extra.push(`stopped by --${s.stoppedBy.replace("_", "-")}`);
  }
  lines.push(
    `${s.findingsEmitted} findings in ${s.itemsScanned} items (${s.bytesScanned} bytes) of ${s.source} ${s.root} in ${s.elapsedMs} ms${
      extra.length === 0 ? "" : "; " + extra.join("; ")
    }`,
  );
  return lines.join("\n") + "\n";
}

/**
 * The JSON form.
 *
 * @param report The report.
 * @param reveal Include raw secrets.
 * @returns A JSON document (ends with a newline).
 *
 * @example
 * ```ts
 * import { formatJson } from "./report.ts";
 * const summary = { source: "fs", root: "/r", itemsScanned: 1, bytesScanned: 2, findingsEmitted: 0, itemsUnchanged: 0,
 *   findingsPreviouslyRecorded: 0, itemsBinary: 0, archiveMembers: 0, itemsFailed: 0, stoppedBy: null, policyHash: "00", elapsedMs: 1 } as const;
 * console.assert(JSON.parse(formatJson({ summary, findings: [] }, false)).summary.items_scanned === 1);
 * ```
 */
export function formatJson(report: ScanReport, reveal: boolean): string {
  const s = report.summary;
  const doc = {
    summary: {
      source: s.source,
      root: s.root,
      items_scanned: s.itemsScanned,
      bytes_scanned: s.bytesScanned,
      findings_emitted: s.findingsEmitted,
      items_unchanged: s.itemsUnchanged,
      findings_previously_recorded: s.findingsPreviouslyRecorded,
      items_binary: s.itemsBinary,
      archive_members: s.archiveMembers,
      items_failed: s.itemsFailed,
      stopped_by: s.stoppedBy,
      policy_hash: s.policyHash,
      elapsed_ms: s.elapsedMs,
    },
    findings: report.findings.map((f) => ({
      rule_id: f.ruleId,
      description: f.description,
      path: f.path,
      member: f.member,
      line: f.line,
      column: f.column,
      byte_start: f.start,
      byte_end: f.end,
      encodings: f.encodings,
      secret: secretText(f, reveal),
      secret_digest: f.secretDigest.toString(),
      git: f.git,
    })),
    recorded_findings: (report.recorded ?? []).map((r) => ({
      rule_id: r.ruleId,
      description: r.description,
      location: r.location,
      path: r.path,
      line: r.line,
      column: r.column,
      finding_id: r.findingId,
      git: r.git,
    })),
  };
  return JSON.stringify(doc, null, 2) + "\n";
}

/** The SARIF `tool.driver` name and information URI. */
export const SARIF_TOOL_NAME = "loom-scan";

/**
 * The SARIF 2.1.0 form: one run, one reporting descriptor per rule, one
 * result per finding (level `error`), with region (line, column, byte
 * offset and length) and partial fingerprints built from the secret digest.
 *
 * @param report The report.
 * @param rules The rule set (for the descriptors).
 * @param reveal Put raw secrets into the result properties.
 * @returns A SARIF document (ends with a newline).
 *
 * @example
 * ```ts
 * import { formatSarif } from "./report.ts";
 * import { defaultRuleSet } from "./default_rules.ts";
 * const summary = { source: "fs", root: "/r", itemsScanned: 1, bytesScanned: 2, findingsEmitted: 0, itemsUnchanged: 0,
 *   findingsPreviouslyRecorded: 0, itemsBinary: 0, archiveMembers: 0, itemsFailed: 0, stoppedBy: null, policyHash: "00", elapsedMs: 1 } as const;
 * const log = JSON.parse(formatSarif({ summary, findings: [] }, defaultRuleSet(), false));
 * console.assert(log.version === "2.1.0");
 * ```
 */
export function formatSarif(
  report: ScanReport,
  rules: RuleSet,
  reveal: boolean,
): string {
  const index = new Map(rules.rules.map((r, i) => [r.id, i]));
  const results: Sarif.Result[] = report.findings.map((f) => {
    const props: Record<string, unknown> = {
      secretDigest: f.secretDigest.toString(),
      encodings: f.encodings,
    };
    if (f.member !== null) props.archiveMember = f.member;
    if (f.git !== null) {
      props.commit = f.git.commit;
      props.author = f.git.author;
      props.email = f.git.email;
      props.commitTime = new Date(f.git.time * 1000).toISOString();
      props.blob = f.git.blob;
    }
    if (reveal) props.secret = utf8.decode(f.secret);
    return {
      ruleId: f.ruleId,
      ruleIndex: index.get(f.ruleId),
      level: "error",
      message: {
        text: `${f.description} (${f.ruleId}); secret ${f.secretDigest}`,
      },
      locations: [{
        physicalLocation: {
          artifactLocation: {
            uri: f.path.split("/").map(encodeURIComponent).join("/"),
            uriBaseId: "SRCROOT",
          },
          region: {
            startLine: f.line,
            startColumn: f.column,
            byteOffset: f.start,
            byteLength: Math.max(0, f.end - f.start),
          },
        },
      }],
      partialFingerprints: {
        "secretDigest/v1": `${f.ruleId}:${f.secretDigest.hashHex}`,
      },
      properties: props,
    };
  });
  for (const r of report.recorded ?? []) {
    results.push({
      ruleId: r.ruleId,
      ruleIndex: index.get(r.ruleId),
      level: "error",
      baselineState: "unchanged",
      message: {
        text: `${r.description} (${r.ruleId}); recorded by an earlier scan`,
      },
      locations: [{
        physicalLocation: {
          artifactLocation: {
            uri: r.path.split("/").map(encodeURIComponent).join("/"),
            uriBaseId: "SRCROOT",
          },
          region: { startLine: r.line, startColumn: r.column },
        },
      }],
      partialFingerprints: { "findingId/v1": r.findingId },
      properties: r.git === null
        ? {}
        : { commit: r.git.commit, blob: r.git.blob },
    });
  }
  const log: Sarif.Log = {
    $schema: "https://json.schemastore.org/sarif-2.1.0.json",
    version: "2.1.0",
    runs: [{
      tool: {
        driver: {
          name: SARIF_TOOL_NAME,
          rules: rules.rules.map((r) => ({
            id: r.id,
            shortDescription: { text: r.description || r.id },
            properties: { tags: [...r.tags, "security", "secret"] },
          })),
        },
      },
      originalUriBaseIds: {
        SRCROOT: { uri: `file://${report.summary.root.replace(/\/?$/, "/")}` },
      },
      results,
      properties: {
        itemsScanned: report.summary.itemsScanned,
        bytesScanned: report.summary.bytesScanned,
        policyHash: report.summary.policyHash,
      },
    }],
  };
  return JSON.stringify(log, null, 2) + "\n";
}

/**
 * The digest of a secret as it appears in output.
 *
 * @param secret The raw secret bytes.
 * @returns The digest (label `secret`).
 *
 * @example
 * ```ts
 * import { secretDigest } from "./report.ts";
 * console.assert(secretDigest(new Uint8Array(3)).len === 3);
 * ```
 */
export function secretDigest(secret: Uint8Array): RedactedDigest {
  return RedactedDigest.bytes("secret", secret);
}
