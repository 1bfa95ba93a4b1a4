/**
 * The embedded SQLite schema of the local ledger: the done-ledger and the
 * three findings tables with the same columns, keys and checks as the
 * PostgreSQL schema (BYTEA → BLOB, BIGINT → INTEGER, STRICT tables), the
 * upsert and insert-or-verify statements (which must agree with the pure
 * merges in `store.ts`), and the embedded migrations.
 *
 * @module
 */

import { embedMigration, type MigrationSet } from "./migrations.ts";

const ID = (name: string): string =>
  `${name} BLOB NOT NULL CHECK (length(${name}) = 32)`;

const TEXT_4096 = (name: string): string =>
  `${name} TEXT CHECK (${name} IS NULL OR length(CAST(${name} AS BLOB)) BETWEEN 1 AND 4096)`;

/** The done-ledger's first migration. */
export const DONE_LEDGER_SQLITE_0001 = `CREATE TABLE done_ledger_entries (
  ${ID("tenant_id")},
  ${ID("policy_hash")},
  ${ID("ovid_hash")},
  status INTEGER NOT NULL CHECK (status IN (1, 2, 3, 10, 11)),
  bytes_scanned INTEGER NOT NULL CHECK (bytes_scanned >= 0),
  findings_count INTEGER NOT NULL CHECK (findings_count BETWEEN 0 AND 2147483647),
  fence_epoch INTEGER NOT NULL CHECK (fence_epoch >= 0),
  started_at INTEGER NOT NULL CHECK (started_at >= 0),
  finished_at INTEGER NOT NULL CHECK (finished_at >= started_at),
  run_id INTEGER NOT NULL,
  shard_id INTEGER NOT NULL,
  error_code TEXT CONSTRAINT done_ledger_entries_error_code_size_ck
    CHECK (error_code IS NULL OR length(CAST(error_code AS BLOB)) BETWEEN 1 AND 128),
  CONSTRAINT done_ledger_entries_status_shape_ck CHECK (
    (status = 10 AND findings_count = 0 AND error_code IS NULL) OR
    (status = 11 AND findings_count > 0 AND error_code IS NULL) OR
    (status IN (1, 2, 3) AND error_code IS NOT NULL)),
  CONSTRAINT done_ledger_entries_pk PRIMARY KEY (tenant_id, policy_hash, ovid_hash)
) STRICT;
CREATE INDEX done_ledger_entries_tenant_policy_finished_at_idx
  ON done_ledger_entries (tenant_id, policy_hash, finished_at DESC, ovid_hash);
CREATE INDEX done_ledger_entries_run_shard_idx
  ON done_ledger_entries (run_id, shard_id, tenant_id, policy_hash, ovid_hash);
`;

/** The findings tables' first migration. */
export const FINDINGS_SQLITE_0001 = `CREATE TABLE findings (
  ${ID("tenant_id")},
  ${ID("finding_id")},
  ${ID("stable_item_id")},
  ${ID("rule_fingerprint")},
  ${ID("secret_hash")},
  PRIMARY KEY (tenant_id, finding_id),
  CONSTRAINT findings_natural_unique UNIQUE (tenant_id, stable_item_id, rule_fingerprint, secret_hash)
) STRICT;
CREATE INDEX findings_tenant_secret_hash_idx ON findings (tenant_id, secret_hash);
CREATE INDEX findings_tenant_stable_item_id_idx ON findings (tenant_id, stable_item_id);
CREATE TABLE occurrences (
  ${ID("tenant_id")},
  ${ID("occurrence_id")},
  ${ID("finding_id")},
  ${ID("object_version_id")},
  byte_offset INTEGER NOT NULL CHECK (byte_offset >= 0),
  byte_length INTEGER NOT NULL CHECK (byte_length > 0),
  CHECK (byte_offset <= 9223372036854775806 - byte_length),
  PRIMARY KEY (tenant_id, occurrence_id),
  FOREIGN KEY (tenant_id, finding_id) REFERENCES findings (tenant_id, finding_id) ON DELETE CASCADE,
  UNIQUE (tenant_id, finding_id, object_version_id, byte_offset, byte_length)
) STRICT;
CREATE INDEX occurrences_tenant_finding_id_idx ON occurrences (tenant_id, finding_id);
CREATE INDEX occurrences_tenant_object_version_id_idx ON occurrences (tenant_id, object_version_id);
CREATE TABLE observations (
  ${ID("tenant_id")},
  ${ID("observation_id")},
  ${ID("occurrence_id")},
  ${ID("policy_hash")},
  ${ID("ovid_hash")},
  run_id INTEGER NOT NULL,
  shard_id INTEGER NOT NULL,
  fence_epoch INTEGER NOT NULL CHECK (fence_epoch >= 0),
  seen_at INTEGER NOT NULL CHECK (seen_at >= 0),
  ${TEXT_4096("location_display")},
  ${TEXT_4096("location_url")},
  PRIMARY KEY (tenant_id, observation_id),
  FOREIGN KEY (tenant_id, occurrence_id) REFERENCES occurrences (tenant_id, occurrence_id) ON DELETE CASCADE,
  UNIQUE (tenant_id, policy_hash, occurrence_id)
) STRICT;
CREATE INDEX observations_tenant_seen_at_idx ON observations (tenant_id, seen_at DESC, observation_id);
CREATE INDEX observations_tenant_policy_seen_at_idx ON observations (tenant_id, policy_hash, seen_at DESC);
CREATE INDEX observations_tenant_occurrence_id_idx ON observations (tenant_id, occurrence_id);
CREATE INDEX observations_tenant_ovid_hash_idx ON observations (tenant_id, ovid_hash);
CREATE INDEX observations_tenant_run_shard_idx ON observations (tenant_id, run_id, shard_id);
`;

/**
 * The done-ledger migrations (SQLite).
 *
 * @example
 * ```ts
 * import { DONE_LEDGER_SQLITE_MIGRATIONS } from "./sqlite_schema.ts";
 * console.assert(DONE_LEDGER_SQLITE_MIGRATIONS.migrations[0].version === "0001_done_ledger_entries");
 * ```
 */
export const DONE_LEDGER_SQLITE_MIGRATIONS: MigrationSet = {
  component: "done-ledger SQLite",
  historyTable: "done_ledger_schema_migrations",
  requiredTables: ["done_ledger_entries", "done_ledger_schema_migrations"],
  migrations: [
    embedMigration("0001_done_ledger_entries", DONE_LEDGER_SQLITE_0001),
  ],
};

/**
 * The findings migrations (SQLite).
 *
 * @example
 * ```ts
 * import { FINDINGS_SQLITE_MIGRATIONS } from "./sqlite_schema.ts";
 * console.assert(FINDINGS_SQLITE_MIGRATIONS.requiredTables.includes("observations"));
 * ```
 */
export const FINDINGS_SQLITE_MIGRATIONS: MigrationSet = {
  component: "findings SQLite",
  historyTable: "findings_schema_migrations",
  requiredTables: [
    "findings",
    "occurrences",
    "observations",
    "findings_schema_migrations",
  ],
  migrations: [embedMigration("0001_findings_schema", FINDINGS_SQLITE_0001)],
};

/**
 * The history table's DDL.
 *
 * @param table The history table.
 * @returns The statement.
 *
 * @example
 * ```ts
 * import { sqliteHistoryTableSql } from "./sqlite_schema.ts";
 * console.assert(sqliteHistoryTableSql("h").startsWith("CREATE TABLE IF NOT EXISTS h"));
 * ```
 */
export function sqliteHistoryTableSql(table: string): string {
  return `CREATE TABLE IF NOT EXISTS ${table} (
  version TEXT PRIMARY KEY,
  checksum BLOB NOT NULL CHECK (length(checksum) = 32),
  applied_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
) STRICT`;
}

const DONE_WIN = `(excluded.status > done_ledger_entries.status OR
  (excluded.status = done_ledger_entries.status AND
    (excluded.finished_at > done_ledger_entries.finished_at OR
      (excluded.finished_at = done_ledger_entries.finished_at AND
        excluded.started_at > done_ledger_entries.started_at))))`;

const pick = (column: string): string =>
  `${column} = CASE WHEN ${DONE_WIN} THEN excluded.${column} ELSE done_ledger_entries.${column} END`;

/** The done-ledger monotonic upsert (12 parameters in column order). */
export const DONE_LEDGER_SQLITE_UPSERT = `INSERT INTO done_ledger_entries (
  tenant_id, policy_hash, ovid_hash, status, bytes_scanned, findings_count,
  fence_epoch, started_at, finished_at, run_id, shard_id, error_code)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (tenant_id, policy_hash, ovid_hash) DO UPDATE SET
  status = max(done_ledger_entries.status, excluded.status),
  bytes_scanned = max(done_ledger_entries.bytes_scanned, excluded.bytes_scanned),
  findings_count = CASE max(done_ledger_entries.status, excluded.status)
    WHEN 10 THEN 0
    WHEN 11 THEN max(done_ledger_entries.findings_count, excluded.findings_count, 1)
    ELSE max(done_ledger_entries.findings_count, excluded.findings_count) END,
  ${pick("run_id")},
  ${pick("shard_id")},
  ${pick("fence_epoch")},
  ${pick("started_at")},
  ${pick("finished_at")},
  error_code = CASE
    WHEN max(done_ledger_entries.status, excluded.status) IN (10, 11) THEN NULL
    WHEN ${DONE_WIN} THEN coalesce(excluded.error_code, done_ledger_entries.error_code)
    ELSE coalesce(done_ledger_entries.error_code, excluded.error_code) END`;

/** Insert-or-verify of a finding (returns a row unless the id maps to other content). */
export const FINDING_SQLITE_INSERT = `INSERT INTO findings (
  tenant_id, finding_id, stable_item_id, rule_fingerprint, secret_hash)
VALUES (?, ?, ?, ?, ?)
ON CONFLICT (tenant_id, finding_id) DO UPDATE SET stable_item_id = findings.stable_item_id
WHERE findings.stable_item_id = excluded.stable_item_id
  AND findings.rule_fingerprint = excluded.rule_fingerprint
  AND findings.secret_hash = excluded.secret_hash
RETURNING 1 AS ok`;

/** Insert-or-verify of an occurrence. */
export const OCCURRENCE_SQLITE_INSERT = `INSERT INTO occurrences (
  tenant_id, occurrence_id, finding_id, object_version_id, byte_offset, byte_length)
VALUES (?, ?, ?, ?, ?, ?)
ON CONFLICT (tenant_id, occurrence_id) DO UPDATE SET finding_id = occurrences.finding_id
WHERE occurrences.finding_id = excluded.finding_id
  AND occurrences.object_version_id = excluded.object_version_id
  AND occurrences.byte_offset = excluded.byte_offset
  AND occurrences.byte_length = excluded.byte_length
RETURNING 1 AS ok`;

const OBS_WIN = `(excluded.seen_at > observations.seen_at OR
  (excluded.seen_at = observations.seen_at AND observations.location_display IS NULL
    AND excluded.location_display IS NOT NULL))`;

const obsPick = (column: string): string =>
  `${column} = CASE WHEN ${OBS_WIN} THEN excluded.${column} ELSE observations.${column} END`;

/** The observation merge upsert. */
export const OBSERVATION_SQLITE_UPSERT = `INSERT INTO observations (
  tenant_id, observation_id, occurrence_id, policy_hash, ovid_hash, run_id,
  shard_id, fence_epoch, seen_at, location_display, location_url)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (tenant_id, policy_hash, occurrence_id) DO UPDATE SET
  seen_at = max(observations.seen_at, excluded.seen_at),
  ${obsPick("run_id")},
  ${obsPick("shard_id")},
  ${obsPick("fence_epoch")},
  location_display = CASE WHEN ${OBS_WIN}
    THEN coalesce(excluded.location_display, observations.location_display)
    ELSE coalesce(observations.location_display, excluded.location_display) END,
  location_url = CASE WHEN ${OBS_WIN}
    THEN (CASE WHEN excluded.location_display IS NOT NULL OR observations.location_display IS NULL
      THEN excluded.location_url ELSE observations.location_url END)
    ELSE (CASE WHEN observations.location_display IS NOT NULL OR excluded.location_display IS NULL
      THEN observations.location_url ELSE excluded.location_url END) END
WHERE observations.ovid_hash = excluded.ovid_hash
RETURNING 1 AS ok`;

/** The local content-hash cache (SQLite only; not part of the shared schema). */
export const LOCAL_CACHE_SQLITE_0001 = `CREATE TABLE fs_version_cache (
  root TEXT NOT NULL,
  path TEXT NOT NULL,
  size INTEGER NOT NULL CHECK (size >= 0),
  mtime_ms INTEGER NOT NULL,
  ino INTEGER NOT NULL,
  ovid_hash BLOB NOT NULL CHECK (length(ovid_hash) = 32),
  done_policy BLOB CHECK (done_policy IS NULL OR length(done_policy) = 32),
  done_findings INTEGER NOT NULL DEFAULT 0 CHECK (done_findings >= 0),
  recorded_at INTEGER NOT NULL,
  PRIMARY KEY (root, path)
) STRICT, WITHOUT ROWID;
`;

/** The git listing cache (SQLite only). */
export const LOCAL_CACHE_SQLITE_0002 = `CREATE TABLE git_listing_cache (
  root TEXT PRIMARY KEY,
  refs_hash BLOB NOT NULL CHECK (length(refs_hash) = 32),
  listing TEXT NOT NULL,
  recorded_at INTEGER NOT NULL
) STRICT;
`;

/**
 * The local cache migrations (SQLite).
 *
 * @example
 * ```ts
 * import { LOCAL_CACHE_SQLITE_MIGRATIONS } from "./sqlite_schema.ts";
 * console.assert(LOCAL_CACHE_SQLITE_MIGRATIONS.requiredTables[0] === "fs_version_cache");
 * ```
 */
export const LOCAL_CACHE_SQLITE_MIGRATIONS: MigrationSet = {
  component: "local cache SQLite",
  historyTable: "local_cache_schema_migrations",
  requiredTables: [
    "fs_version_cache",
    "git_listing_cache",
    "local_cache_schema_migrations",
  ],
  migrations: [
    embedMigration("0001_fs_version_cache", LOCAL_CACHE_SQLITE_0001),
    embedMigration("0002_git_listing_cache", LOCAL_CACHE_SQLITE_0002),
  ],
};
