/**
 * The coordination telemetry recorder: raw scan events (which hold paths,
 * rule names, git identities, diagnostic text, tenant ids) are turned into
 * one of eight sanitised records, where every such field is a
 * {@link RedactedDigest}, and handed to a sink. Recording never fails: the
 * first sink failure of each category (`core`, `git`, `progress`) logs one
 * warning, later failures of that category are silent for the recorder's
 * whole life.
 *
 * | Record | `event_name` | level | category |
 * |---|---|---|---|
 * | core finding | `coordination_core_finding` | debug | core |
 * | core progress | `coordination_core_progress` | debug | core |
 * | core summary | `coordination_core_summary` | info | core |
 * | core diagnostic | `coordination_core_diagnostic` | the diagnostic's | core |
 * | git commit meta | `coordination_git_commit_meta` | trace | git |
 * | git identity dictionary | `coordination_git_identity_dictionary` | trace | git |
 * | commit begin | `coordination_commit_begin` | trace | progress |
 * | commit finish | `coordination_commit_finish` | trace | progress |
 *
 * @module
 */

import { RedactedDigest } from "./digest.ts";

/** The log target of every recorder line. */
export const COORDINATION_TARGET = "gossip_worker::coordination";

/** Telemetry levels, most severe first. */
export type TelemetryLevel = "error" | "warn" | "info" | "debug" | "trace";

/** Recorder categories; each has its own failure flag. */
export type TelemetryCategory = "core" | "git" | "progress";

/** Field values of a sanitised line: scalars and digests, never raw text. */
export type TelemetryValue = string | number | bigint | boolean;

/** Where sanitised lines go (bind it to a logger). */
export type TelemetryLog = (
  level: TelemetryLevel,
  message: string,
  fields: Readonly<Record<string, TelemetryValue>>,
) => void;

// ---------------------------------------------------------------------------
// Raw events (hold toxic data).

/** A raw core event from the scanner. */
export type CoreEvent =
  | {
    readonly kind: "finding";
    /** Numeric rule id. */
    readonly ruleId: number;
    /** Rule name (toxic: rule sets can be private). */
    readonly ruleName: string;
    /** Object path bytes (toxic). */
    readonly objectPath: Uint8Array;
    /** Git change kind, if any (toxic). */
    readonly changeKind: string | null;
    /** Commit id of the finding, if any (passes through as a digest). */
    readonly commitId: string | null;
    /** Item size, if known. */
    readonly sizeHint: number | null;
    /** Confidence 0..1. */
    readonly confidenceScore: number;
    /** Normalised secret hash: dropped, never recorded. */
    readonly normHash?: Uint8Array;
  }
  | {
    readonly kind: "progress";
    /** Static stage label. */
    readonly stage: string;
    /** Items so far. */
    readonly itemsScanned: number;
    /** Bytes so far. */
    readonly bytesScanned: number;
    /** MiB/s. */
    readonly throughputMibS: number;
  }
  | {
    readonly kind: "summary";
    /** Static status label. */
    readonly status: string;
    /** Items. */
    readonly itemsScanned: number;
    /** Bytes. */
    readonly bytesScanned: number;
    /** Findings. */
    readonly findingsEmitted: number;
  }
  | {
    readonly kind: "diagnostic";
    /** `error`/`fatal`, `warn`/`warning`, `info`, `debug`, `trace`. */
    readonly level: string;
    /** Text (toxic). */
    readonly message: string;
  };

/** A raw git event. */
export type GitEvent =
  | {
    readonly kind: "commit_meta";
    /** Commit oid hex (toxic per reference: hashed). */
    readonly commitOid: string;
    /** Author identity id, if known. */
    readonly authorId: number | null;
    /** Committer identity id, if known. */
    readonly committerId: number | null;
    /** Commit time (s). */
    readonly timestamp: number;
  }
  | {
    readonly kind: "identity_dictionary";
    /** Identity id. */
    readonly identityId: number;
    /** Name and e-mail bytes (toxic). */
    readonly value: Uint8Array;
  };

/** A raw commit-progress event. */
export interface CommitProgressEvent {
  /** `begin` or `finish`. */
  readonly kind: "begin" | "finish";
  /** 32 bytes (toxic). */
  readonly tenantId: Uint8Array;
  /** 32 bytes (toxic). */
  readonly policyHash: Uint8Array;
  /** Item key bytes (toxic). */
  readonly itemKey: Uint8Array;
  /** Run id. */
  readonly runId: bigint;
  /** Lease shard id. */
  readonly leaseShardId: bigint;
  /** Fencing epoch. */
  readonly fenceEpoch: bigint;
  /** Static status label (finish only). */
  readonly status?: string;
}

// ---------------------------------------------------------------------------
// Sanitised records.

/** One sanitised record: every toxic field is a digest. */
export type SanitizedRecord =
  | {
    readonly variant: "CoreFinding";
    readonly shardId: RedactedDigest;
    readonly ruleId: number;
    readonly ruleName: RedactedDigest;
    readonly objectPath: RedactedDigest;
    readonly changeKind: RedactedDigest | null;
    readonly commitId: RedactedDigest | null;
    readonly sizeHint: number | null;
    readonly confidenceScore: number;
  }
  | {
    readonly variant: "CoreProgress";
    readonly shardId: RedactedDigest;
    readonly stage: string;
    readonly itemsScanned: number;
    readonly bytesScanned: number;
    readonly throughputMibS: number;
  }
  | {
    readonly variant: "CoreSummary";
    readonly shardId: RedactedDigest;
    readonly status: string;
    readonly itemsScanned: number;
    readonly bytesScanned: number;
    readonly findingsEmitted: number;
  }
  | {
    readonly variant: "CoreDiagnostic";
    readonly shardId: RedactedDigest;
    readonly level: TelemetryLevel;
    readonly message: RedactedDigest;
  }
  | {
    readonly variant: "GitCommitMeta";
    readonly shardId: RedactedDigest;
    readonly commitOid: RedactedDigest;
    readonly authorId: number | null;
    readonly committerId: number | null;
    readonly timestamp: number;
  }
  | {
    readonly variant: "GitIdentityDictionary";
    readonly shardId: RedactedDigest;
    readonly identityId: number;
    readonly value: RedactedDigest;
  }
  | {
    readonly variant: "CommitBegin" | "CommitFinish";
    readonly shardId: RedactedDigest;
    readonly tenantId: RedactedDigest;
    readonly policyHash: RedactedDigest;
    readonly itemKey: RedactedDigest;
    readonly runId: bigint;
    readonly leaseShardId: bigint;
    readonly fenceEpoch: bigint;
    readonly status: string | null;
  };

/** The name of each variant's event, its level (when fixed) and category. */
export const RECORD_TABLE: Readonly<
  Record<
    SanitizedRecord["variant"],
    {
      readonly eventName: string;
      readonly level: TelemetryLevel | null;
      readonly category: TelemetryCategory;
    }
  >
> = {
  CoreFinding: {
    eventName: "coordination_core_finding",
    level: "debug",
    category: "core",
  },
  CoreProgress: {
    eventName: "coordination_core_progress",
    level: "debug",
    category: "core",
  },
  CoreSummary: {
    eventName: "coordination_core_summary",
    level: "info",
    category: "core",
  },
  CoreDiagnostic: {
    eventName: "coordination_core_diagnostic",
    level: null,
    category: "core",
  },
  GitCommitMeta: {
    eventName: "coordination_git_commit_meta",
    level: "trace",
    category: "git",
  },
  GitIdentityDictionary: {
    eventName: "coordination_git_identity_dictionary",
    level: "trace",
    category: "git",
  },
  CommitBegin: {
    eventName: "coordination_commit_begin",
    level: "trace",
    category: "progress",
  },
  CommitFinish: {
    eventName: "coordination_commit_finish",
    level: "trace",
    category: "progress",
  },
};

/**
 * Maps a diagnostic's level text: `error`/`fatal` → error, `warn`/`warning`
 * → warn, `debug`, `trace`, anything else → info.
 *
 * @param level The raw level text.
 * @returns The telemetry level.
 *
 * @example
 * ```ts
 * import { diagnosticLevel } from "./recorder.ts";
 * console.assert(diagnosticLevel("fatal") === "error" && diagnosticLevel("odd") === "info");
 * ```
 */
export function diagnosticLevel(level: string): TelemetryLevel {
  switch (level.trim().toLowerCase()) {
    case "error":
    case "fatal":
      return "error";
    case "warn":
    case "warning":
      return "warn";
    case "debug":
      return "debug";
    case "trace":
      return "trace";
    default:
      return "info";
  }
}

/**
 * Sanitises a core event.
 *
 * @param shardId The raw shard id.
 * @param event The raw event.
 * @returns The sanitised record.
 *
 * @example
 * ```ts
 * import { sanitizeCoreEvent } from "./recorder.ts";
 * const r = sanitizeCoreEvent("s", { kind: "diagnostic", level: "warn", message: "secret path" });
 * console.assert(!JSON.stringify(r).includes("secret path"));
 * ```
 */
export function sanitizeCoreEvent(
  shardId: string,
  event: CoreEvent,
): SanitizedRecord {
  const shard = RedactedDigest.text("shard_id", shardId);
  switch (event.kind) {
    case "finding":
      return {
        variant: "CoreFinding",
        shardId: shard,
        ruleId: event.ruleId,
        ruleName: RedactedDigest.text("rule_name", event.ruleName),
        objectPath: RedactedDigest.bytes("object_path", event.objectPath),
        changeKind: event.changeKind === null
          ? null
          : RedactedDigest.text("change_kind", event.changeKind),
        commitId: event.commitId === null
          ? null
          : RedactedDigest.text("git_commit_oid", event.commitId),
        sizeHint: event.sizeHint,
        confidenceScore: event.confidenceScore,
      };
    case "progress":
      return {
        variant: "CoreProgress",
        shardId: shard,
        stage: event.stage,
        itemsScanned: event.itemsScanned,
        bytesScanned: event.bytesScanned,
        throughputMibS: event.throughputMibS,
      };
    case "summary":
      return {
        variant: "CoreSummary",
        shardId: shard,
        status: event.status,
        itemsScanned: event.itemsScanned,
        bytesScanned: event.bytesScanned,
        findingsEmitted: event.findingsEmitted,
      };
    case "diagnostic":
      return {
        variant: "CoreDiagnostic",
        shardId: shard,
        level: diagnosticLevel(event.level),
        message: RedactedDigest.text("diagnostic_message", event.message),
      };
  }
}

/**
 * Sanitises a git event.
 *
 * @param shardId The raw shard id.
 * @param event The raw event.
 * @returns The sanitised record.
 *
 * @example
 * ```ts
 * import { sanitizeGitEvent } from "./recorder.ts";
 * const r = sanitizeGitEvent("s", { kind: "identity_dictionary", identityId: 1, value: new TextEncoder().encode("Ann <a@x>") });
 * console.assert(r.variant === "GitIdentityDictionary");
 * ```
 */
export function sanitizeGitEvent(
  shardId: string,
  event: GitEvent,
): SanitizedRecord {
  const shard = RedactedDigest.text("shard_id", shardId);
  if (event.kind === "commit_meta") {
    return {
      variant: "GitCommitMeta",
      shardId: shard,
      commitOid: RedactedDigest.text("git_commit_oid", event.commitOid),
      authorId: event.authorId,
      committerId: event.committerId,
      timestamp: event.timestamp,
    };
  }
  return {
    variant: "GitIdentityDictionary",
    shardId: shard,
    identityId: event.identityId,
    value: RedactedDigest.bytes("git_identity_value", event.value),
  };
}

/**
 * Sanitises a commit-progress event.
 *
 * @param shardId The raw shard id.
 * @param event The raw event.
 * @returns The sanitised record.
 *
 * @example
 * ```ts
 * import { sanitizeCommitProgress } from "./recorder.ts";
 * const id = new Uint8Array(32);
 * const r = sanitizeCommitProgress("s", { kind: "begin", tenantId: id, policyHash: id, itemKey: id, runId: 1n, leaseShardId: 2n, fenceEpoch: 3n });
 * console.assert(r.variant === "CommitBegin");
 * ```
 */
export function sanitizeCommitProgress(
  shardId: string,
  event: CommitProgressEvent,
): SanitizedRecord {
  return {
    variant: event.kind === "begin" ? "CommitBegin" : "CommitFinish",
    shardId: RedactedDigest.text("shard_id", shardId),
    tenantId: RedactedDigest.bytes("tenant_id", event.tenantId),
    policyHash: RedactedDigest.bytes("policy_hash", event.policyHash),
    itemKey: RedactedDigest.bytes("item_key", event.itemKey),
    runId: event.runId,
    leaseShardId: event.leaseShardId,
    fenceEpoch: event.fenceEpoch,
    status: event.status ?? null,
  };
}

function optional(value: RedactedDigest | number | null): TelemetryValue {
  if (value === null) return "none";
  return typeof value === "number" ? value : value.toString();
}

/**
 * The structured fields of a record, as the default sink writes them:
 * `event_name`, `category`, `target`, digests in their string form, and
 * `none` for a missing optional.
 *
 * @param record The record.
 * @returns Level and fields.
 *
 * @example
 * ```ts
 * import { recordFields, sanitizeCoreEvent } from "./recorder.ts";
 * const { level, fields } = recordFields(sanitizeCoreEvent("s", { kind: "summary", status: "ok", itemsScanned: 1, bytesScanned: 2, findingsEmitted: 0 }));
 * console.assert(level === "info" && fields.event_name === "coordination_core_summary");
 * ```
 */
export function recordFields(
  record: SanitizedRecord,
): {
  level: TelemetryLevel;
  fields: Record<string, TelemetryValue>;
} {
  const row = RECORD_TABLE[record.variant];
  const fields: Record<string, TelemetryValue> = {
    target: COORDINATION_TARGET,
    event_name: row.eventName,
    category: row.category,
    shard_id: record.shardId.toString(),
  };
  let level = row.level ?? "info";
  switch (record.variant) {
    case "CoreFinding":
      Object.assign(fields, {
        rule_id: record.ruleId,
        rule_name: record.ruleName.toString(),
        object_path: record.objectPath.toString(),
        change_kind: optional(record.changeKind),
        commit_id: optional(record.commitId),
        size_hint: optional(record.sizeHint),
        confidence_score: record.confidenceScore,
      });
      break;
    case "CoreProgress":
      Object.assign(fields, {
        stage: record.stage,
        items_scanned: record.itemsScanned,
        bytes_scanned: record.bytesScanned,
        throughput_mib_s: record.throughputMibS,
      });
      break;
    case "CoreSummary":
      Object.assign(fields, {
        status: record.status,
        items_scanned: record.itemsScanned,
        bytes_scanned: record.bytesScanned,
        findings_emitted: record.findingsEmitted,
      });
      break;
    case "CoreDiagnostic":
      level = record.level;
      fields.diagnostic_level = record.level;
      fields.message = record.message.toString();
      break;
    case "GitCommitMeta":
      Object.assign(fields, {
        commit_oid: record.commitOid.toString(),
        author_id: optional(record.authorId),
        committer_id: optional(record.committerId),
        timestamp: record.timestamp,
      });
      break;
    case "GitIdentityDictionary":
      fields.identity_id = record.identityId;
      fields.value = record.value.toString();
      break;
    case "CommitBegin":
    case "CommitFinish":
      Object.assign(fields, {
        tenant_id: record.tenantId.toString(),
        policy_hash: record.policyHash.toString(),
        item_key: record.itemKey.toString(),
        run_id: record.runId,
        lease_shard_id: record.leaseShardId,
        fence_epoch: record.fenceEpoch,
        status: record.status ?? "none",
      });
      break;
  }
  return { level, fields };
}

/** Receives sanitised records; may throw (the recorder absorbs it). */
export interface TelemetrySink {
  /** Emits one record. */
  emit(record: SanitizedRecord): void;
}

/**
 * The default sink: one log line per record at the table's level, message
 * = the event name.
 *
 * @param log Where lines go.
 * @returns The sink.
 *
 * @example
 * ```ts
 * import { createLogSink, sanitizeCoreEvent } from "./recorder.ts";
 * const lines: string[] = [];
 * createLogSink((_l, m) => lines.push(m)).emit(sanitizeCoreEvent("s", { kind: "diagnostic", level: "info", message: "x" }));
 * console.assert(lines[0] === "coordination_core_diagnostic");
 * ```
 */
export function createLogSink(log: TelemetryLog): TelemetrySink {
  return {
    emit(record: SanitizedRecord): void {
      const { level, fields } = recordFields(record);
      log(level, String(fields.event_name), fields);
    },
  };
}

/**
 * Sanitises events and forwards them to a sink; never throws.
 *
 * @example
 * ```ts
 * import { CoordinationRecorder } from "./recorder.ts";
 * const lines: string[] = [];
 * const recorder = new CoordinationRecorder({ emit() { throw new Error("down"); } }, (_l, m) => lines.push(m));
 * for (let i = 0; i < 3; i++) recorder.recordCore("s", { kind: "diagnostic", level: "info", message: "m" });
 * console.assert(lines.length === 1);
 * ```
 */
export class CoordinationRecorder {
  readonly #sink: TelemetrySink;
  readonly #log: TelemetryLog;
  readonly #failed: Record<TelemetryCategory, boolean> = {
    core: false,
    git: false,
    progress: false,
  };

  /**
   * Creates a recorder.
   *
   * @param sink Where sanitised records go.
   * @param log Where the once-per-category failure warning goes.
   */
  constructor(sink: TelemetrySink, log: TelemetryLog) {
    this.#sink = sink;
    this.#log = log;
  }

  /** Records a core event. */
  recordCore(shardId: string, event: CoreEvent): void {
    this.#forward("core", shardId, () => sanitizeCoreEvent(shardId, event));
  }

  /** Records a git event. */
  recordGit(shardId: string, event: GitEvent): void {
    this.#forward("git", shardId, () => sanitizeGitEvent(shardId, event));
  }

  /** Records a commit-progress event. */
  recordCommitProgress(shardId: string, event: CommitProgressEvent): void {
    this.#forward(
      "progress",
      shardId,
      () => sanitizeCommitProgress(shardId, event),
    );
  }

  #forward(
    category: TelemetryCategory,
    shardId: string,
    build: () => SanitizedRecord,
  ): void {
    try {
      this.#sink.emit(build());
    } catch (error) {
      if (this.#failed[category]) return;
      this.#failed[category] = true;
      try {
        this.#log(
          "warn",
          "coordination telemetry sink failed; subsequent failures suppressed",
          {
            target: COORDINATION_TARGET,
            event_name: "coordination_recorder_sink_failure",
            category,
            shard_id: RedactedDigest.text("shard_id", shardId).toString(),
            error: error instanceof Error ? error.name : "unknown",
          },
        );
      } catch {
        // Telemetry never fails the scan.
      }
    }
  }
}
