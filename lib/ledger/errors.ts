/**
 * The one error taxonomy of `lib/ledger`: every failure of configuration,
 * rules, scanning, stores and migrations is a {@link LedgerError} with a
 * stable `code`. Limit failures are {@link LedgerLimitError}s and carry
 * `limit`, `max` and `actual`. Tests and callers branch on `code`, never on
 * message text. Messages never contain secret values.
 *
 * @module
 */

/**
 * Every stable error code of the ledger area.
 *
 * @example
 * ```ts
 * import { LEDGER_ERROR_CODES } from "./errors.ts";
 * console.assert(LEDGER_ERROR_CODES.USAGE === "usage");
 * ```
 */
export const LEDGER_ERROR_CODES = {
  // Launch configuration (exit code 2).
  /** Bad command-line shape: flag without `=`, unknown flag, positionals. */
  USAGE: "usage",
  /** A field needed by the selected launch path has no value. */
  MISSING_REQUIRED_VALUE: "missing_required_value",
  /** A field has a value that does not parse or is out of range. */
  INVALID_VALUE: "invalid_value",
  /** The etcd endpoints or namespace are unusable. */
  INVALID_ETCD_CONFIG: "invalid_etcd_config",
  /** A production backend setting (a DSN) is unusable. */
  INVALID_BACKEND_CONFIG: "invalid_backend_config",
  /** Mode, backend and source do not combine. */
  UNSUPPORTED_COMBINATION: "unsupported_combination",
  // Rules.
  /** A rules file is not valid TOML or breaks the rules schema. */
  INVALID_RULES: "invalid_rules",
  // Limits.
  /** A declared or actual size is over a limit (see {@link LedgerLimitError}). */
  LIMIT_EXCEEDED: "limit_exceeded",
  // Stores.
  /** A row breaks the schema's checks (lengths, status shape, ranges). */
  INVALID_RECORD: "invalid_record",
  /** A finding id already maps to different content. */
  FINDING_CONFLICT: "finding_conflict",
  /** An occurrence id already maps to different content. */
  OCCURRENCE_CONFLICT: "occurrence_conflict",
  /** An observation id already maps to a different occurrence or policy. */
  OBSERVATION_CONFLICT: "observation_conflict",
  /** The store failed (I/O, driver, closed handle). */
  STORE_FAILED: "store_failed",
  // Migrations and schema readiness.
  /** A stored migration checksum differs from the embedded one. */
  MIGRATION_CHECKSUM_MISMATCH: "migration_checksum_mismatch",
  /** A stored migration checksum is not 32 bytes. */
  CORRUPTED_MIGRATION_HISTORY: "corrupted_migration_history",
  /** An embedded migration has no history row (validate mode). */
  MISSING_APPLIED_MIGRATION: "missing_applied_migration",
  /** A table the schema needs is missing (validate mode). */
  MISSING_TABLE: "missing_table",
  // Coordination (etcd) and production backends.
  /** An etcd value is not a valid `v1` record (bad tag, kind, flag, trailing bytes). */
  COORDINATION_CODEC_INVALID: "coordination_codec_invalid",
  /** etcd could not be reached or answered with an error. */
  COORDINATION_UNAVAILABLE: "coordination_unavailable",
  /** The run does not exist in the coordination store. */
  RUN_NOT_FOUND: "run_not_found",
  /** The run exists with a different shard plan or settings. */
  RUN_CONFLICT: "run_conflict",
  /** The shard does not exist in the coordination store. */
  SHARD_NOT_FOUND: "shard_not_found",
  /** The shard belongs to another tenant. */
  TENANT_MISMATCH: "tenant_mismatch",
  /** The shard is no longer active (done, parked or split). */
  SHARD_TERMINAL: "shard_terminal",
  /** Another worker holds a live lease on the shard. */
  ALREADY_LEASED: "already_leased",
  /** The presented lease's fence is not the shard's current one (a zombie). */
  STALE_FENCE: "stale_fence",
  /** An op id was replayed with a different payload. */
  OP_ID_CONFLICT: "op_id_conflict",
  /** Compare-and-swap retries ran out while other writers kept winning. */
  CONTENTION: "contention",
  /** A production backend could not be connected or prepared at startup. */
  STARTUP_FAILED: "startup_failed",
  // Scanning.
  /** A source could not be read (file system, git, archive). */
  SOURCE_FAILED: "source_failed",
  /** The scan failed at run time. */
  SCAN_FAILED: "scan_failed",
} as const;

/** A stable ledger error code. */
export type LedgerErrorCode =
  typeof LEDGER_ERROR_CODES[keyof typeof LEDGER_ERROR_CODES];

/** Options for {@link LedgerError}. */
export interface LedgerErrorOptions {
  /** The underlying error, when it is safe to keep (never one holding a secret). */
  cause?: unknown;
  /** Structured, secret-free details (field names, file:line, versions). */
  details?: Readonly<Record<string, string | number | bigint | boolean>>;
}

/**
 * A ledger failure with a stable `code`.
 *
 * @example
 * ```ts
 * import { LedgerError } from "./errors.ts";
 * const error = new LedgerError("usage", "too many positional arguments");
 * console.assert(error.code === "usage");
 * ```
 */
export class LedgerError extends Error {
  /** The stable code. */
  readonly code: LedgerErrorCode;
  /** Structured, secret-free details. */
  readonly details: Readonly<
    Record<string, string | number | bigint | boolean>
  >;

  /**
   * Creates the error.
   *
   * @param code The stable code.
   * @param message A one-line, secret-free message.
   * @param options Cause and details.
   */
  constructor(
    code: LedgerErrorCode,
    message: string,
    options: LedgerErrorOptions = {},
  ) {
    super(
      message,
      options.cause === undefined ? undefined : { cause: options.cause },
    );
    this.name = "LedgerError";
    this.code = code;
    this.details = options.details ?? {};
  }
}

/**
 * A size or count over a documented limit.
 *
 * @example
 * ```ts
 * import { LedgerLimitError } from "./errors.ts";
 * const error = new LedgerLimitError("max_rules", 2, 3);
 * console.assert(error.code === "limit_exceeded" && error.actual === 3);
 * ```
 */
export class LedgerLimitError extends LedgerError {
  /** Which limit. */
  readonly limit: string;
  /** The limit's value. */
  readonly max: number;
  /** The offending value. */
  readonly actual: number;

  /**
   * Creates the error.
   *
   * @param limit Which limit (a field name of the limits object).
   * @param max The limit's value.
   * @param actual The offending value.
   * @param where Optional context (a file name, an archive member).
   */
  constructor(limit: string, max: number, actual: number, where?: string) {
    super(
      "limit_exceeded",
      `${limit} exceeded: ${actual} > ${max}${
        where === undefined ? "" : ` (${where})`
      }`,
      { details: { limit, max, actual } },
    );
    this.name = "LedgerLimitError";
    this.limit = limit;
    this.max = max;
    this.actual = actual;
  }
}
