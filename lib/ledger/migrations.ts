/**
 * The migrations mechanism shared by every ledger backend (the embedded
 * SQLite one and the PostgreSQL one): migrations are embedded in the code as
 * `(version, sql)` pairs whose checksum is the plain (unkeyed) BLAKE3-256 of
 * the SQL text's exact UTF-8 bytes; a history table per component records
 * `(version, checksum, applied_at)`. Two startup policies:
 *
 * - `validate` (the default) fails closed when a required table is missing,
 *   an embedded migration has no history row, or a stored checksum is
 *   corrupted or differs. History rows of unknown (newer) versions are
 *   ignored, so rolling deploys work.
 * - `dev-auto-migrate` applies the missing migrations forward-only in one
 *   locked transaction, then validates like `validate`.
 *
 * This module is pure: a backend supplies a {@link SchemaDriver} that runs the
 * statements.
 *
 * @module
 */

import { blake3 } from "@noble/hashes/blake3.js";
import { bytesToHex } from "@noble/hashes/utils.js";
import { LedgerError } from "./errors.ts";

/** The startup schema policies, as displayed and logged. */
export const STARTUP_SCHEMA_MODES = ["validate", "dev-auto-migrate"] as const;

/** One of {@link STARTUP_SCHEMA_MODES}. */
export type StartupSchemaMode = typeof STARTUP_SCHEMA_MODES[number];

/** One embedded migration. */
export interface EmbeddedMigration {
  /** The version string, e.g. `0001_done_ledger_entries`. */
  readonly version: string;
  /** The SQL text, run as one script. */
  readonly sql: string;
  /** BLAKE3-256 of the SQL's UTF-8 bytes (32 bytes). */
  readonly checksum: Uint8Array;
}

/** The migrations and readiness expectations of one schema component. */
export interface MigrationSet {
  /** Shown in errors, e.g. `done-ledger SQLite` or `done-ledger PostgreSQL`. */
  readonly component: string;
  /** The history table, e.g. `done_ledger_schema_migrations`. */
  readonly historyTable: string;
  /** Every table that must exist for startup (history table included). */
  readonly requiredTables: readonly string[];
  /** The migrations, in apply order. */
  readonly migrations: readonly EmbeddedMigration[];
}

/** One stored history row. */
export interface AppliedMigrationRow {
  /** The version string. */
  readonly version: string;
  /** The stored checksum (should be 32 bytes). */
  readonly checksum: Uint8Array;
}

const utf8 = new TextEncoder();

/**
 * The checksum of a migration: plain BLAKE3-256 of the SQL text's bytes.
 *
 * @param sql The SQL text.
 * @returns 32 bytes.
 *
 * @example
 * ```ts
 * import { migrationChecksum } from "./migrations.ts";
 * import { bytesToHex } from "@noble/hashes/utils.js";
 * console.assert(bytesToHex(migrationChecksum("SELECT 1;")) ===
 *   "00d653e7f95cdb9241068520e713ea5035142cb8ae90aa91b96315d544cee034");
 * ```
 */
export function migrationChecksum(sql: string): Uint8Array {
  return blake3(utf8.encode(sql));
}

/**
 * Embeds one migration, computing its checksum.
 *
 * @param version The version string.
 * @param sql The SQL text.
 * @returns The embedded migration.
 *
 * @example
 * ```ts
 * import { embedMigration } from "./migrations.ts";
 * const m = embedMigration("0001_init", "CREATE TABLE t (a INTEGER);");
 * console.assert(m.checksum.length === 32);
 * ```
 */
export function embedMigration(
  version: string,
  sql: string,
): EmbeddedMigration {
  return { version, sql, checksum: migrationChecksum(sql) };
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * Checks one stored history row against its embedded migration, as the
 * apply path does: a stored checksum that is not 32 bytes is
 * `corrupted_migration_history`; different bytes are
 * `migration_checksum_mismatch` (with both checksums as hex in `details`).
 *
 * @param set The component (for the history table's name).
 * @param migration The embedded migration.
 * @param stored The stored checksum.
 * @throws {LedgerError} On a corrupted or different checksum.
 *
 * @example
 * ```ts
 * import { embedMigration, verifyAppliedChecksum } from "./migrations.ts";
 * const m = embedMigration("0001", "SELECT 1;");
 * const set = { component: "demo", historyTable: "h", requiredTables: [], migrations: [m] };
 * verifyAppliedChecksum(set, m, m.checksum); // no throw
 * ```
 */
export function verifyAppliedChecksum(
  set: MigrationSet,
  migration: EmbeddedMigration,
  stored: Uint8Array,
): void {
  if (stored.length !== 32) {
    throw new LedgerError(
      "corrupted_migration_history",
      `migration history table '${set.historyTable}' stores a corrupted checksum for version '${migration.version}' (${stored.length} bytes)`,
      {
        details: {
          version: migration.version,
          found_len: stored.length,
        },
      },
    );
  }
  if (!sameBytes(stored, migration.checksum)) {
    throw new LedgerError(
      "migration_checksum_mismatch",
      `migration history table '${set.historyTable}' does not match the embedded checksum for version '${migration.version}'`,
      {
        details: {
          version: migration.version,
          expected_hex: bytesToHex(migration.checksum),
          found_hex: bytesToHex(stored),
        },
      },
    );
  }
}

/**
 * The migrations still to apply, after verifying every applied one.
 *
 * @param set The component.
 * @param applied The history rows (any order; unknown versions ignored).
 * @returns The embedded migrations without a history row, in apply order.
 * @throws {LedgerError} When an applied checksum is corrupted or differs.
 *
 * @example
 * ```ts
 * import { embedMigration, planMigrationApply } from "./migrations.ts";
 * const a = embedMigration("0001", "SELECT 1;");
 * const b = embedMigration("0002", "SELECT 2;");
 * const set = { component: "demo", historyTable: "h", requiredTables: [], migrations: [a, b] };
 * const todo = planMigrationApply(set, [{ version: "0001", checksum: a.checksum }]);
 * console.assert(todo.length === 1 && todo[0].version === "0002");
 * ```
 */
export function planMigrationApply(
  set: MigrationSet,
  applied: readonly AppliedMigrationRow[],
): EmbeddedMigration[] {
  const byVersion = new Map(applied.map((row) => [row.version, row.checksum]));
  const todo: EmbeddedMigration[] = [];
  for (const migration of set.migrations) {
    const stored = byVersion.get(migration.version);
    if (stored === undefined) todo.push(migration);
    else verifyAppliedChecksum(set, migration, stored);
  }
  return todo;
}

/**
 * The startup readiness check: every required table is present, every
 * embedded migration has a history row with the same 32-byte checksum.
 * Extra rows are ignored.
 *
 * @param set The component.
 * @param presentTables The required tables that exist.
 * @param applied The history rows for the embedded versions.
 * @throws {LedgerError} `missing_table`, `missing_applied_migration`,
 *   `corrupted_migration_history` or `migration_checksum_mismatch`, with the
 *   message prefixed `{component} schema is not ready for worker startup: `.
 *
 * @example
 * ```ts
 * import { checkSchemaReadiness, embedMigration } from "./migrations.ts";
 * const m = embedMigration("0001", "SELECT 1;");
 * const set = { component: "demo", historyTable: "h", requiredTables: ["t", "h"], migrations: [m] };
 * checkSchemaReadiness(set, ["t", "h"], [{ version: "0001", checksum: m.checksum }]);
 * ```
 */
export function checkSchemaReadiness(
  set: MigrationSet,
  presentTables: readonly string[],
  applied: readonly AppliedMigrationRow[],
): void {
  const prefix = `${set.component} schema is not ready for worker startup: `;
  const present = new Set(presentTables);
  for (const table of set.requiredTables) {
    if (!present.has(table)) {
      throw new LedgerError(
        "missing_table",
        `${prefix}required table '${table}' is missing from the current schema`,
        { details: { table } },
      );
    }
  }
  const byVersion = new Map(applied.map((row) => [row.version, row.checksum]));
  for (const migration of set.migrations) {
    const stored = byVersion.get(migration.version);
    if (stored === undefined) {
      throw new LedgerError(
        "missing_applied_migration",
        `${prefix}migration history table '${set.historyTable}' is missing required version '${migration.version}'`,
        { details: { version: migration.version } },
      );
    }
    try {
      verifyAppliedChecksum(set, migration, stored);
    } catch (error) {
      const e = error as LedgerError;
      throw new LedgerError(e.code, prefix + e.message, {
        details: e.details,
      });
    }
  }
}

/** The statements a backend runs inside the locked apply transaction. */
export interface SchemaTransaction {
  /** Creates the history table if it does not exist. */
  ensureHistoryTable(): Promise<void>;
  /** Reads the history rows of the given versions. */
  readHistory(versions: readonly string[]): Promise<AppliedMigrationRow[]>;
  /** Runs one migration's SQL. */
  execute(sql: string): Promise<void>;
  /** Records a migration as applied. */
  recordApplied(version: string, checksum: Uint8Array): Promise<void>;
}

/**
 * What a backend provides to {@link prepareSchema}. PostgreSQL takes
 * `pg_advisory_xact_lock(key)` and `SET LOCAL lock_timeout = '5s'` at the
 * start of {@link SchemaDriver.inApplyTransaction}; SQLite takes
 * `BEGIN IMMEDIATE`.
 */
export interface SchemaDriver {
  /** Runs `body` in one transaction holding the component's exclusive lock; commits on success, rolls back on a throw. */
  inApplyTransaction(
    body: (tx: SchemaTransaction) => Promise<void>,
  ): Promise<void>;
  /** Which of `tables` exist in the current schema. */
  listTables(tables: readonly string[]): Promise<string[]>;
  /** The history rows of the given versions (the history table exists). */
  readHistory(versions: readonly string[]): Promise<AppliedMigrationRow[]>;
}

/** What {@link prepareSchema} did. */
export interface SchemaPreparation {
  /** The versions applied by this call (always empty under `validate`). */
  readonly applied: readonly string[];
}

/**
 * Applies the startup schema policy for one component: under
 * `dev-auto-migrate` the missing migrations are applied (forward-only, one
 * locked transaction, verifying applied checksums first); then, in both
 * modes, {@link checkSchemaReadiness} runs.
 *
 * @param set The component.
 * @param mode The policy.
 * @param driver The backend's statements.
 * @returns The versions applied.
 * @throws {LedgerError} As {@link checkSchemaReadiness} and {@link planMigrationApply}.
 *
 * @example
 * ```ts ignore
 * import { prepareSchema } from "./migrations.ts";
 * await prepareSchema(DONE_LEDGER_SQLITE_MIGRATIONS, "dev-auto-migrate", driver);
 * ```
 */
export async function prepareSchema(
  set: MigrationSet,
  mode: StartupSchemaMode,
  driver: SchemaDriver,
): Promise<SchemaPreparation> {
  const versions = set.migrations.map((m) => m.version);
  const applied: string[] = [];
  if (mode === "dev-auto-migrate") {
    await driver.inApplyTransaction(async (tx) => {
      await tx.ensureHistoryTable();
      const todo = planMigrationApply(set, await tx.readHistory(versions));
      for (const migration of todo) {
        await tx.execute(migration.sql);
        await tx.recordApplied(migration.version, migration.checksum);
        applied.push(migration.version);
      }
    });
  }
  const present = await driver.listTables(set.requiredTables);
  const history = present.includes(set.historyTable)
    ? await driver.readHistory(versions)
    : [];
  checkSchemaReadiness(set, present, history);
  return { applied };
}
