/**
 * The PostgreSQL schema of the done-ledger and findings stores: the embedded
 * migrations (their checksums are BLAKE3-256 of these exact SQL texts), the
 * advisory-lock keys of the apply transaction, the write and read statements
 * (kept in step with the pure merges of `store.ts` by a property test), and
 * the DSN helpers of the production bootstrap. Pure: no connection here.
 *
 * @module
 */

import { embedMigration, type MigrationSet } from "./migrations.ts";

/** The done-ledger migration `0001_done_ledger_entries`. */
export const DONE_LEDGER_POSTGRES_SQL_0001 =
  `CREATE TABLE IF NOT EXISTS done_ledger_entries (
    tenant_id      BYTEA    NOT NULL,
    policy_hash    BYTEA    NOT NULL,
    ovid_hash      BYTEA    NOT NULL,
    status         SMALLINT NOT NULL,
    bytes_scanned  BIGINT   NOT NULL,
    findings_count INTEGER  NOT NULL,
    fence_epoch    BIGINT   NOT NULL,
    started_at     BIGINT   NOT NULL,
    finished_at    BIGINT   NOT NULL,
    run_id         BIGINT   NOT NULL,
    shard_id       BIGINT   NOT NULL,
    error_code     TEXT     NULL,
    CONSTRAINT done_ledger_entries_pk PRIMARY KEY (tenant_id, policy_hash, ovid_hash),
    CONSTRAINT done_ledger_entries_tenant_id_len_ck CHECK (octet_length(tenant_id) = 32),
    CONSTRAINT done_ledger_entries_policy_hash_len_ck CHECK (octet_length(policy_hash) = 32),
    CONSTRAINT done_ledger_entries_ovid_hash_len_ck CHECK (octet_length(ovid_hash) = 32),
    CONSTRAINT done_ledger_entries_status_ck CHECK (status IN (1, 2, 3, 10, 11)),
    CONSTRAINT done_ledger_entries_bytes_scanned_ck CHECK (bytes_scanned >= 0),
    CONSTRAINT done_ledger_entries_findings_count_ck CHECK (findings_count >= 0),
    CONSTRAINT done_ledger_entries_fence_epoch_ck CHECK (fence_epoch >= 0),
    CONSTRAINT done_ledger_entries_started_at_ck CHECK (started_at >= 0),
    CONSTRAINT done_ledger_entries_finished_at_ck CHECK (finished_at >= started_at),
    CONSTRAINT done_ledger_entries_error_code_size_ck CHECK (
        error_code IS NULL OR octet_length(error_code) BETWEEN 1 AND 128
    ),
    CONSTRAINT done_ledger_entries_status_shape_ck CHECK (
        (status = 10 AND findings_count = 0 AND error_code IS NULL)
        OR (status = 11 AND findings_count > 0 AND error_code IS NULL)
        OR (status IN (1, 2, 3) AND error_code IS NOT NULL)
    )
);

CREATE INDEX IF NOT EXISTS done_ledger_entries_tenant_policy_finished_at_idx
    ON done_ledger_entries (tenant_id, policy_hash, finished_at DESC, ovid_hash);

CREATE INDEX IF NOT EXISTS done_ledger_entries_run_shard_idx
    ON done_ledger_entries (run_id, shard_id, tenant_id, policy_hash, ovid_hash);
`;

/** The findings migration `0001_findings_schema`. */
export const FINDINGS_POSTGRES_SQL_0001 = `CREATE TABLE IF NOT EXISTS findings (
    tenant_id        BYTEA NOT NULL,
    finding_id       BYTEA NOT NULL,
    stable_item_id   BYTEA NOT NULL,
    rule_fingerprint BYTEA NOT NULL,
    secret_hash      BYTEA NOT NULL,
    CONSTRAINT findings_pk PRIMARY KEY (tenant_id, finding_id),
    CONSTRAINT findings_natural_unique UNIQUE (tenant_id, stable_item_id, rule_fingerprint, secret_hash),
    CONSTRAINT findings_tenant_id_len_ck CHECK (octet_length(tenant_id) = 32),
    CONSTRAINT findings_finding_id_len_ck CHECK (octet_length(finding_id) = 32),
    CONSTRAINT findings_stable_item_id_len_ck CHECK (octet_length(stable_item_id) = 32),
    CONSTRAINT findings_rule_fingerprint_len_ck CHECK (octet_length(rule_fingerprint) = 32),
    CONSTRAINT findings_secret_hash_len_ck CHECK (octet_length(secret_hash) = 32)
);

CREATE INDEX IF NOT EXISTS findings_tenant_secret_hash_idx ON findings (tenant_id, secret_hash);
CREATE INDEX IF NOT EXISTS findings_tenant_stable_item_id_idx ON findings (tenant_id, stable_item_id);

CREATE TABLE IF NOT EXISTS occurrences (
    tenant_id         BYTEA  NOT NULL,
    occurrence_id     BYTEA  NOT NULL,
    finding_id        BYTEA  NOT NULL,
    object_version_id BYTEA  NOT NULL,
    byte_offset       BIGINT NOT NULL,
    byte_length       BIGINT NOT NULL,
    CONSTRAINT occurrences_pk PRIMARY KEY (tenant_id, occurrence_id),
    CONSTRAINT occurrences_finding_fk FOREIGN KEY (tenant_id, finding_id)
        REFERENCES findings (tenant_id, finding_id) ON DELETE CASCADE,
    CONSTRAINT occurrences_natural_unique
        UNIQUE (tenant_id, finding_id, object_version_id, byte_offset, byte_length),
    CONSTRAINT occurrences_tenant_id_len_ck CHECK (octet_length(tenant_id) = 32),
    CONSTRAINT occurrences_occurrence_id_len_ck CHECK (octet_length(occurrence_id) = 32),
    CONSTRAINT occurrences_finding_id_len_ck CHECK (octet_length(finding_id) = 32),
    CONSTRAINT occurrences_object_version_id_len_ck CHECK (octet_length(object_version_id) = 32),
    CONSTRAINT occurrences_byte_offset_ck CHECK (byte_offset >= 0),
    CONSTRAINT occurrences_byte_length_ck CHECK (byte_length > 0),
    CONSTRAINT occurrences_span_ck CHECK (byte_offset <= 9223372036854775806 - byte_length)
);

CREATE INDEX IF NOT EXISTS occurrences_tenant_finding_id_idx ON occurrences (tenant_id, finding_id);
CREATE INDEX IF NOT EXISTS occurrences_tenant_object_version_id_idx ON occurrences (tenant_id, object_version_id);

CREATE TABLE IF NOT EXISTS observations (
    tenant_id        BYTEA  NOT NULL,
    observation_id   BYTEA  NOT NULL,
    occurrence_id    BYTEA  NOT NULL,
    policy_hash      BYTEA  NOT NULL,
    ovid_hash        BYTEA  NOT NULL,
    run_id           BIGINT NOT NULL,
    shard_id         BIGINT NOT NULL,
    fence_epoch      BIGINT NOT NULL,
    seen_at          BIGINT NOT NULL,
    location_display TEXT   NULL,
    location_url     TEXT   NULL,
    CONSTRAINT observations_pk PRIMARY KEY (tenant_id, observation_id),
    CONSTRAINT observations_occurrence_fk FOREIGN KEY (tenant_id, occurrence_id)
        REFERENCES occurrences (tenant_id, occurrence_id) ON DELETE CASCADE,
    CONSTRAINT observations_policy_occurrence_unique UNIQUE (tenant_id, policy_hash, occurrence_id),
    CONSTRAINT observations_tenant_id_len_ck CHECK (octet_length(tenant_id) = 32),
    CONSTRAINT observations_observation_id_len_ck CHECK (octet_length(observation_id) = 32),
    CONSTRAINT observations_occurrence_id_len_ck CHECK (octet_length(occurrence_id) = 32),
    CONSTRAINT observations_policy_hash_len_ck CHECK (octet_length(policy_hash) = 32),
    CONSTRAINT observations_ovid_hash_len_ck CHECK (octet_length(ovid_hash) = 32),
    CONSTRAINT observations_fence_epoch_ck CHECK (fence_epoch >= 0),
    CONSTRAINT observations_seen_at_ck CHECK (seen_at >= 0),
    CONSTRAINT observations_location_display_size_ck CHECK (
        location_display IS NULL OR octet_length(location_display) BETWEEN 1 AND 4096
    ),
    CONSTRAINT observations_location_url_size_ck CHECK (
        location_url IS NULL OR octet_length(location_url) BETWEEN 1 AND 4096
    )
);

CREATE INDEX IF NOT EXISTS observations_tenant_seen_at_idx
    ON observations (tenant_id, seen_at DESC, observation_id);
CREATE INDEX IF NOT EXISTS observations_tenant_policy_seen_at_idx
    ON observations (tenant_id, policy_hash, seen_at DESC, observation_id);
CREATE INDEX IF NOT EXISTS observations_tenant_occurrence_id_idx ON observations (tenant_id, occurrence_id);
CREATE INDEX IF NOT EXISTS observations_tenant_ovid_hash_idx ON observations (tenant_id, ovid_hash);
CREATE INDEX IF NOT EXISTS observations_tenant_run_shard_idx ON observations (tenant_id, run_id, shard_id);
`;

/**
 * The done-ledger migrations and readiness expectations on PostgreSQL.
 *
 * @example
 * ```ts
 * import { DONE_LEDGER_POSTGRES_MIGRATIONS } from "./postgres_schema.ts";
 * console.assert(DONE_LEDGER_POSTGRES_MIGRATIONS.migrations[0].version === "0001_done_ledger_entries");
 * ```
 */
export const DONE_LEDGER_POSTGRES_MIGRATIONS: MigrationSet = Object.freeze({
  component: "done-ledger PostgreSQL",
  historyTable: "done_ledger_schema_migrations",
  requiredTables: ["done_ledger_entries", "done_ledger_schema_migrations"],
  migrations: [
    embedMigration("0001_done_ledger_entries", DONE_LEDGER_POSTGRES_SQL_0001),
  ],
});

/**
 * The findings migrations and readiness expectations on PostgreSQL.
 *
 * @example
 * ```ts
 * import { FINDINGS_POSTGRES_MIGRATIONS } from "./postgres_schema.ts";
 * console.assert(FINDINGS_POSTGRES_MIGRATIONS.requiredTables.length === 4);
 * ```
 */
export const FINDINGS_POSTGRES_MIGRATIONS: MigrationSet = Object.freeze({
  component: "findings PostgreSQL",
  historyTable: "findings_schema_migrations",
  requiredTables: [
    "findings",
    "occurrences",
    "observations",
    "findings_schema_migrations",
  ],
  migrations: [
    embedMigration("0001_findings_schema", FINDINGS_POSTGRES_SQL_0001),
  ],
});

/**
 * The advisory-lock key of the done-ledger apply transaction: ASCII
 * `GSDLPGM1` as a big-endian i64.
 */
export const DONE_LEDGER_ADVISORY_LOCK_KEY = 0x4753444c50474d31n;

/** The advisory-lock key of the findings apply transaction: ASCII `GFPGMIG1`. */
export const FINDINGS_ADVISORY_LOCK_KEY = 0x474650474d494731n;

/**
 * The advisory-lock key of a migration set.
 *
 * @param set The component.
 * @returns The i64 key.
 *
 * @example
 * ```ts
 * import { advisoryLockKeyFor, DONE_LEDGER_POSTGRES_MIGRATIONS } from "./postgres_schema.ts";
 * console.assert(advisoryLockKeyFor(DONE_LEDGER_POSTGRES_MIGRATIONS) === 5139526694314921265n);
 * ```
 */
export function advisoryLockKeyFor(set: MigrationSet): bigint {
  return set.historyTable === DONE_LEDGER_POSTGRES_MIGRATIONS.historyTable
    ? DONE_LEDGER_ADVISORY_LOCK_KEY
    : FINDINGS_ADVISORY_LOCK_KEY;
}

/**
 * The history-table DDL of a component.
 *
 * @param historyTable The table name (from a {@link MigrationSet}).
 * @returns The `CREATE TABLE IF NOT EXISTS` statement.
 *
 * @example
 * ```ts
 * import { historyTableDdl } from "./postgres_schema.ts";
 * console.assert(historyTableDdl("h").includes("octet_length(checksum) = 32"));
 * ```
 */
export function historyTableDdl(historyTable: string): string {
  return `CREATE TABLE IF NOT EXISTS ${historyTable} (
    version    TEXT PRIMARY KEY,
    checksum   BYTEA NOT NULL CHECK (octet_length(checksum) = 32),
    applied_at TIMESTAMPTZ NOT NULL DEFAULT NOW()
)`;
}

/** The readiness query listing which required tables exist (`$1` = text[]). */
export const READINESS_TABLES_SQL =
  "SELECT tablename::text AS tablename FROM pg_catalog.pg_tables WHERE schemaname = current_schema() AND tablename = ANY($1::text[])";

/**
 * The readiness query reading the history rows of some versions (`$1` = text[]).
 *
 * @param historyTable The table name.
 * @returns The statement.
 *
 * @example
 * ```ts
 * import { readinessHistorySql } from "./postgres_schema.ts";
 * console.assert(readinessHistorySql("h").includes("ANY($1::text[])"));
 * ```
 */
export function readinessHistorySql(historyTable: string): string {
  return `SELECT version, checksum FROM ${historyTable} WHERE version = ANY($1::text[])`;
}

const DONE_WINNER = `(EXCLUDED.status > d.status
      OR (EXCLUDED.status = d.status AND EXCLUDED.finished_at > d.finished_at)
      OR (EXCLUDED.status = d.status AND EXCLUDED.finished_at = d.finished_at AND EXCLUDED.started_at > d.started_at))`;

/**
 * The monotonic done-ledger upsert: rows come as 12 parallel arrays (one
 * element per row, keys unique within the call). On a key conflict the SQL
 * computes exactly `mergeDoneLedgerRecords` (status and bytes take the
 * maximum, the findings count follows the merged status, the provenance
 * winner supplies run, shard, fence and times together, the error code is
 * null for scanned statuses else the winner's falling back to the loser's).
 */
export const DONE_LEDGER_UPSERT_SQL = `INSERT INTO done_ledger_entries AS d (
    tenant_id, policy_hash, ovid_hash, status, bytes_scanned, findings_count,
    fence_epoch, started_at, finished_at, run_id, shard_id, error_code)
SELECT * FROM unnest($1::bytea[], $2::bytea[], $3::bytea[], $4::smallint[], $5::bigint[], $6::integer[],
                     $7::bigint[], $8::bigint[], $9::bigint[], $10::bigint[], $11::bigint[], $12::text[])
ON CONFLICT ON CONSTRAINT done_ledger_entries_pk DO UPDATE SET
    status = GREATEST(d.status, EXCLUDED.status),
    bytes_scanned = GREATEST(d.bytes_scanned, EXCLUDED.bytes_scanned),
    findings_count = CASE GREATEST(d.status, EXCLUDED.status)
        WHEN 10 THEN 0
        WHEN 11 THEN GREATEST(d.findings_count, EXCLUDED.findings_count, 1)
        ELSE GREATEST(d.findings_count, EXCLUDED.findings_count) END,
    run_id = CASE WHEN ${DONE_WINNER} THEN EXCLUDED.run_id ELSE d.run_id END,
    shard_id = CASE WHEN ${DONE_WINNER} THEN EXCLUDED.shard_id ELSE d.shard_id END,
    fence_epoch = CASE WHEN ${DONE_WINNER} THEN EXCLUDED.fence_epoch ELSE d.fence_epoch END,
    started_at = CASE WHEN ${DONE_WINNER} THEN EXCLUDED.started_at ELSE d.started_at END,
    finished_at = CASE WHEN ${DONE_WINNER} THEN EXCLUDED.finished_at ELSE d.finished_at END,
    error_code = CASE
        WHEN GREATEST(d.status, EXCLUDED.status) IN (10, 11) THEN NULL
        WHEN ${DONE_WINNER} THEN COALESCE(EXCLUDED.error_code, d.error_code)
        ELSE COALESCE(d.error_code, EXCLUDED.error_code) END`;

/** The done-ledger batch read (`$3` = bytea[]); rows in any order. */
export const DONE_LEDGER_BATCH_GET_SQL =
  `SELECT tenant_id, policy_hash, ovid_hash, status, bytes_scanned, findings_count,
       fence_epoch, started_at, finished_at, run_id, shard_id, error_code
FROM done_ledger_entries
WHERE tenant_id = $1 AND policy_hash = $2 AND ovid_hash = ANY($3::bytea[])`;

/**
 * Insert-or-verify of findings: a replay does a no-op update guarded by
 * "every natural-key column is equal" and returns its id; no returned row for
 * an input id means the id maps to other content.
 */
export const FINDINGS_INSERT_SQL =
  `INSERT INTO findings AS f (tenant_id, finding_id, stable_item_id, rule_fingerprint, secret_hash)
SELECT * FROM unnest($1::bytea[], $2::bytea[], $3::bytea[], $4::bytea[], $5::bytea[])
ON CONFLICT ON CONSTRAINT findings_pk DO UPDATE SET stable_item_id = f.stable_item_id
WHERE f.stable_item_id = EXCLUDED.stable_item_id
  AND f.rule_fingerprint = EXCLUDED.rule_fingerprint
  AND f.secret_hash = EXCLUDED.secret_hash
RETURNING f.finding_id`;

/** Insert-or-verify of occurrences (as {@link FINDINGS_INSERT_SQL}). */
export const OCCURRENCES_INSERT_SQL =
  `INSERT INTO occurrences AS o (tenant_id, occurrence_id, finding_id, object_version_id, byte_offset, byte_length)
SELECT * FROM unnest($1::bytea[], $2::bytea[], $3::bytea[], $4::bytea[], $5::bigint[], $6::bigint[])
ON CONFLICT ON CONSTRAINT occurrences_pk DO UPDATE SET finding_id = o.finding_id
WHERE o.finding_id = EXCLUDED.finding_id
  AND o.object_version_id = EXCLUDED.object_version_id
  AND o.byte_offset = EXCLUDED.byte_offset
  AND o.byte_length = EXCLUDED.byte_length
RETURNING o.occurrence_id`;

const OBS_WINNER = `(EXCLUDED.seen_at > b.seen_at
      OR (EXCLUDED.seen_at = b.seen_at AND b.location_display IS NULL AND EXCLUDED.location_display IS NOT NULL))`;
const OBS_DISPLAY_FROM_INCOMING = `(CASE WHEN ${OBS_WINNER}
      THEN (EXCLUDED.location_display IS NOT NULL OR b.location_display IS NULL)
      ELSE NOT (b.location_display IS NOT NULL OR EXCLUDED.location_display IS NULL) END)`;

/**
 * The observation merge (`mergeObservationRecords` in SQL). The update only
 * happens when the stored observation id equals the incoming one; no
 * returned row means the id maps to another occurrence or policy.
 */
export const OBSERVATIONS_UPSERT_SQL = `INSERT INTO observations AS b (
    tenant_id, observation_id, occurrence_id, policy_hash, ovid_hash, run_id, shard_id,
    fence_epoch, seen_at, location_display, location_url)
SELECT * FROM unnest($1::bytea[], $2::bytea[], $3::bytea[], $4::bytea[], $5::bytea[], $6::bigint[], $7::bigint[],
                     $8::bigint[], $9::bigint[], $10::text[], $11::text[])
ON CONFLICT ON CONSTRAINT observations_policy_occurrence_unique DO UPDATE SET
    seen_at = GREATEST(b.seen_at, EXCLUDED.seen_at),
    run_id = CASE WHEN ${OBS_WINNER} THEN EXCLUDED.run_id ELSE b.run_id END,
    shard_id = CASE WHEN ${OBS_WINNER} THEN EXCLUDED.shard_id ELSE b.shard_id END,
    fence_epoch = CASE WHEN ${OBS_WINNER} THEN EXCLUDED.fence_epoch ELSE b.fence_epoch END,
    location_display = CASE WHEN ${OBS_DISPLAY_FROM_INCOMING} THEN EXCLUDED.location_display ELSE b.location_display END,
    location_url = CASE WHEN ${OBS_DISPLAY_FROM_INCOMING} THEN EXCLUDED.location_url ELSE b.location_url END
WHERE b.observation_id = EXCLUDED.observation_id AND b.ovid_hash = EXCLUDED.ovid_hash
RETURNING b.observation_id`;

/** The observations of some ovids under one policy (`$3` = bytea[]), with their finding and occurrence. */
export const OBSERVATIONS_BATCH_GET_SQL =
  `SELECT b.tenant_id, b.observation_id, b.occurrence_id, b.policy_hash, b.ovid_hash, b.run_id, b.shard_id,
       b.fence_epoch, b.seen_at, b.location_display, b.location_url,
       o.finding_id, o.object_version_id, o.byte_offset, o.byte_length,
       f.stable_item_id, f.rule_fingerprint, f.secret_hash
FROM observations b
JOIN occurrences o ON o.tenant_id = b.tenant_id AND o.occurrence_id = b.occurrence_id
JOIN findings f ON f.tenant_id = o.tenant_id AND f.finding_id = o.finding_id
WHERE b.tenant_id = $1 AND b.policy_hash = $2 AND b.ovid_hash = ANY($3::bytea[])
ORDER BY o.byte_offset, b.observation_id`;

// ---------------------------------------------------------------------------
// DSN helpers of the production bootstrap.

/**
 * Whether a DSN already sets `connect_timeout`: a query parameter of a URI
 * DSN, or a whole whitespace-separated `key=value` token of a keyword DSN (so
 * a password containing the text does not count).
 *
 * @param dsn The DSN.
 * @returns True when present.
 *
 * @example
 * ```ts
 * import { hasConnectTimeout } from "./postgres_schema.ts";
 * console.assert(hasConnectTimeout("postgres://h/db?connect_timeout=3"));
 * console.assert(!hasConnectTimeout("postgres://u:connect_timeout=1@h/db"));
 * console.assert(hasConnectTimeout("host=h connect_timeout=3"));
 * ```
 */
export function hasConnectTimeout(dsn: string): boolean {
  const trimmed = dsn.trim();
  if (isUriDsn(trimmed)) {
    const q = trimmed.indexOf("?");
    if (q < 0) return false;
    return trimmed.slice(q + 1).split("&").some((kv) =>
      kv.split("=")[0] === "connect_timeout"
    );
  }
  return trimmed.split(/\s+/).some((token) =>
    token.startsWith("connect_timeout=")
  );
}

/**
 * Adds `connect_timeout=5` when the DSN has none: with `?` or `&` for URI
 * DSNs, as a space-separated key for keyword DSNs.
 *
 * @param dsn The DSN.
 * @returns The DSN with a connect timeout.
 *
 * @example
 * ```ts
 * import { withDefaultConnectTimeout } from "./postgres_schema.ts";
 * console.assert(withDefaultConnectTimeout("postgres://h/db") === "postgres://h/db?connect_timeout=5");
 * console.assert(withDefaultConnectTimeout("postgres://h/db?a=b") === "postgres://h/db?a=b&connect_timeout=5");
 * console.assert(withDefaultConnectTimeout("host=h") === "host=h connect_timeout=5");
 * ```
 */
export function withDefaultConnectTimeout(dsn: string): string {
  const trimmed = dsn.trim();
  if (hasConnectTimeout(trimmed)) return trimmed;
  if (isUriDsn(trimmed)) {
    return `${trimmed}${trimmed.includes("?") ? "&" : "?"}connect_timeout=5`;
  }
  return `${trimmed} connect_timeout=5`;
}

function isUriDsn(dsn: string): boolean {
  return dsn.startsWith("postgresql://") || dsn.startsWith("postgres://");
}

/**
 * The host of a DSN: for URIs the text after the last `@` (bracketed IPv6
 * kept whole) up to the port, path or query; for keyword DSNs the `host=`
 * value. Null when there is none.
 *
 * @param dsn The DSN.
 * @returns The host, or null.
 *
 * @example
 * ```ts
 * import { extractPgHost } from "./postgres_schema.ts";
 * console.assert(extractPgHost("postgres://u:p@ss@db.example.com:5432/x") === "db.example.com");
 * console.assert(extractPgHost("postgres://[::1]:5432/x") === "[::1]");
 * console.assert(extractPgHost("postgresql:///mydb") === null);
 * ```
 */
export function extractPgHost(dsn: string): string | null {
  const trimmed = dsn.trim();
  if (isUriDsn(trimmed)) {
    let rest = trimmed.slice(trimmed.indexOf("://") + 3);
    const at = rest.lastIndexOf("@");
    if (at >= 0) rest = rest.slice(at + 1);
    if (rest.startsWith("[")) {
      const close = rest.indexOf("]");
      if (close <= 1) return null;
      return rest.slice(0, close + 1);
    }
    const end = rest.search(/[:/?]/);
    const host = end < 0 ? rest : rest.slice(0, end);
    return host === "" ? null : host;
  }
  for (const token of trimmed.split(/\s+/)) {
    if (token.startsWith("host=")) {
      const host = token.slice(5);
      return host === "" ? null : host;
    }
  }
  return null;
}

/**
 * Whether a host counts as local for the plaintext-connection warning:
 * `localhost`, `127.0.0.1`, `::1`, `[::1]`, a Unix socket directory, or no
 * parsable host at all.
 *
 * @param host The host from {@link extractPgHost}.
 * @returns True when local.
 *
 * @example
 * ```ts
 * import { isLocalPgHost } from "./postgres_schema.ts";
 * console.assert(isLocalPgHost("127.0.0.1") && isLocalPgHost(null) && !isLocalPgHost("db.example.com"));
 * ```
 */
export function isLocalPgHost(host: string | null): boolean {
  if (host === null) return true;
  return host === "localhost" || host === "127.0.0.1" || host === "::1" ||
    host === "[::1]" ||
    host.startsWith("/");
}

/** The connect-error categories of the production bootstrap. */
export const PG_CONNECT_ERROR_CATEGORIES = [
  "timeout",
  "authentication failed",
  "connection refused",
  "DNS resolution failed",
  "TLS error",
  "connection failed",
] as const;

/** One of {@link PG_CONNECT_ERROR_CATEGORIES}. */
export type PgConnectErrorCategory = typeof PG_CONNECT_ERROR_CATEGORIES[number];

/**
 * Sorts a driver connect error into a category (never looking at or keeping
 * the DSN).
 *
 * @param error The error thrown by the driver.
 * @returns The category.
 *
 * @example
 * ```ts
 * import { categorizePgConnectError } from "./postgres_schema.ts";
 * console.assert(categorizePgConnectError({ code: "ECONNREFUSED" }) === "connection refused");
 * console.assert(categorizePgConnectError({ code: "28P01" }) === "authentication failed");
 * ```
 */
export function categorizePgConnectError(
  error: unknown,
): PgConnectErrorCategory {
  const e = (error ?? {}) as {
    code?: unknown;
    name?: unknown;
    message?: unknown;
  };
  const code = typeof e.code === "string" ? e.code : "";
  const text = `${typeof e.name === "string" ? e.name : ""} ${
    typeof e.message === "string" ? e.message : ""
  }`
    .toLowerCase();
  if (
    code === "CONNECT_TIMEOUT" || code === "ETIMEDOUT" ||
    text.includes("timed out") || text.includes("timeout")
  ) {
    return "timeout";
  }
  if (
    code === "28P01" || code === "28000" || text.includes("password") ||
    text.includes("authentication")
  ) {
    return "authentication failed";
  }
  if (code === "ECONNREFUSED" || text.includes("connection refused")) {
    return "connection refused";
  }
  if (
    code === "ENOTFOUND" || code === "EAI_AGAIN" || text.includes("dns") ||
    text.includes("lookup")
  ) {
    return "DNS resolution failed";
  }
  if (
    text.includes("tls") || text.includes("ssl") || text.includes("certificate")
  ) return "TLS error";
  return "connection failed";
}

/**
 * Turns a keyword DSN (`host=h port=5432 dbname=d user=u password=p`) into
 * the URI form the driver reads; URI DSNs are returned trimmed. Values may
 * be single-quoted (`password='a b'`, `\'` and `\\` escapes).
 *
 * @param dsn The DSN.
 * @returns A `postgres://` URI.
 * @throws {RangeError} On a token without `=` (the message never holds the DSN).
 *
 * @example
 * ```ts
 * import { dsnToUri } from "./postgres_schema.ts";
 * console.assert(dsnToUri("host=h port=1 dbname=d user=u password='p w'") === "postgres://u:p%20w@h:1/d");
 * ```
 */
export function dsnToUri(dsn: string): string {
  const trimmed = dsn.trim();
  if (isUriDsn(trimmed)) return trimmed;
  const values = new Map<string, string>();
  let i = 0;
  while (i < trimmed.length) {
    while (i < trimmed.length && /\s/.test(trimmed[i])) i++;
    if (i >= trimmed.length) break;
    const eq = trimmed.indexOf("=", i);
    if (eq < 0) throw new RangeError("keyword DSN has a token without '='");
    const key = trimmed.slice(i, eq).trim();
    i = eq + 1;
    let value = "";
    if (trimmed[i] === "'") {
      i++;
      while (i < trimmed.length && trimmed[i] !== "'") {
        if (trimmed[i] === "\\" && i + 1 < trimmed.length) i++;
        value += trimmed[i++];
      }
      i++;
    } else {
      while (i < trimmed.length && !/\s/.test(trimmed[i])) {
        value += trimmed[i++];
      }
    }
    values.set(key, value);
  }
  const enc = encodeURIComponent;
  const user = values.get("user");
  const password = values.get("password");
  const auth = user === undefined && password === undefined
    ? ""
    : `${enc(user ?? "")}${password === undefined ? "" : `:${enc(password)}`}@`;
  const hostValue = values.get("host") ?? values.get("hostaddr") ?? "";
  const host = hostValue.includes(":") && !hostValue.startsWith("[")
    ? `[${hostValue}]`
    : hostValue;
  const port = values.get("port");
  const db = values.get("dbname") ?? "";
  const params: string[] = [];
  for (const [key, value] of values) {
    if (
      ["user", "password", "host", "hostaddr", "port", "dbname"].includes(key)
    ) continue;
    params.push(`${enc(key)}=${enc(value)}`);
  }
  const hostPart = host.startsWith("/") ? "" : host;
  if (host.startsWith("/")) params.push(`host=${enc(host)}`);
  return `postgres://${auth}${hostPart}${
    port === undefined ? "" : `:${port}`
  }/${enc(db)}${params.length === 0 ? "" : `?${params.join("&")}`}`;
}
