/**
 * The PostgreSQL backends of the done-ledger and findings stores (npm
 * `postgres`), their schema driver for the migrations mechanism, and the
 * production bootstrap of both connections: opened in parallel, each DSN
 * given `connect_timeout=5` when it has none, connect failures reported by
 * category only (never the DSN), then the schema policy applied to the
 * done-ledger and then to the findings database.
 *
 * @module
 */

import postgres from "postgres";
import { LedgerError } from "../errors.ts";
import {
  type MigrationSet,
  prepareSchema,
  type SchemaDriver,
  type StartupSchemaMode,
} from "../migrations.ts";
import {
  advisoryLockKeyFor,
  categorizePgConnectError,
  DONE_LEDGER_BATCH_GET_SQL,
  DONE_LEDGER_POSTGRES_MIGRATIONS,
  DONE_LEDGER_UPSERT_SQL,
  dsnToUri,
  extractPgHost,
  FINDINGS_INSERT_SQL,
  FINDINGS_POSTGRES_MIGRATIONS,
  historyTableDdl,
  isLocalPgHost,
  OBSERVATIONS_BATCH_GET_SQL,
  OBSERVATIONS_UPSERT_SQL,
  OCCURRENCES_INSERT_SQL,
  READINESS_TABLES_SQL,
  readinessHistorySql,
  withDefaultConnectTimeout,
} from "../postgres_schema.ts";
import {
  bigintToOrdered,
  bitPatternToU64,
  type DoneLedgerRecord,
  type DoneLedgerStore,
  type DoneStatus,
  type FindingRecord,
  type FindingsBatch,
  type FindingsStore,
  type LedgerBackend,
  mergeDoneLedgerRecords,
  mergeObservationRecords,
  type ObservationRecord,
  type OccurrenceRecord,
  sameId,
  type StoredObservation,
  u64ToBitPattern,
  validateDoneLedgerRecord,
  validateFindingRecord,
  validateObservationRecord,
  validateOccurrenceRecord,
} from "../store.ts";

/** A connection pool of the `postgres` driver. */
export type PgSql = postgres.Sql<{ bigint: bigint }>;

type Row = Record<string, unknown>;

/** Which database a connection serves (named in errors). */
export type PgBackendName = "done-ledger" | "findings";

/** Options of {@link connectPostgres}. */
export interface PgConnectOptions {
  /** Pool size. Default 4. */
  readonly maxConnections?: number;
  /** Called once with a warning when the host is not local (plaintext connection). */
  readonly warn?: (message: string, fields: Record<string, string>) => void;
}

const RETRYABLE = new Set(["40001", "40P01"]);

function hex(bytes: Uint8Array): string {
  let out = "";
  for (const b of bytes) out += b.toString(16).padStart(2, "0");
  return out;
}

function bytesOf(value: unknown): Uint8Array {
  const b = value as Uint8Array;
  return new Uint8Array(b.buffer, b.byteOffset, b.byteLength).slice();
}

/**
 * Opens a pool to one database and proves it with `SELECT 1`. The DSN gets
 * `connect_timeout=5` when it has none; a failure is `startup_failed` with
 * the message `failed to connect {backend} PostgreSQL backend ({category})`
 * and no cause (so the DSN cannot leak through it).
 *
 * @param dsn The DSN (URI or keyword form).
 * @param backend Which database, for the message.
 * @param options Pool size and the non-local warning hook.
 * @returns The pool.
 * @throws {LedgerError} `startup_failed`.
 *
 * @example
 * ```ts ignore
 * import { connectPostgres } from "./postgres_store.ts";
 * const sql = await connectPostgres("postgres://postgres@127.0.0.1:5432/ledger", "done-ledger");
 * await sql.end();
 * ```
 */
export async function connectPostgres(
  dsn: string,
  backend: PgBackendName,
  options: PgConnectOptions = {},
): Promise<PgSql> {
  let sql: PgSql;
  try {
    const uri = dsnToUri(withDefaultConnectTimeout(dsn));
    if (!isLocalPgHost(extractPgHost(uri))) {
      options.warn?.(
        "PostgreSQL connection is not encrypted and the host is not local",
        { backend },
      );
    }
    sql = postgres(uri, {
      max: options.maxConnections ?? 4,
      onnotice: () => undefined,
      types: { bigint: postgres.BigInt },
      connection: { application_name: "loom-scan" },
    }) as unknown as PgSql;
  } catch (error) {
    throw new LedgerError(
      "startup_failed",
      `failed to connect ${backend} PostgreSQL backend (${
        categorizePgConnectError(error)
      })`,
      { details: { backend } },
    );
  }
  try {
    await sql`SELECT 1`;
  } catch (error) {
    await sql.end({ timeout: 0 }).catch(() => undefined);
    throw new LedgerError(
      "startup_failed",
      `failed to connect ${backend} PostgreSQL backend (${
        categorizePgConnectError(error)
      })`,
      { details: { backend, category: categorizePgConnectError(error) } },
    );
  }
  return sql;
}

async function withRetry<T>(body: () => Promise<T>, attempts = 8): Promise<T> {
  for (let attempt = 0;; attempt++) {
    try {
      return await body();
    } catch (error) {
      const code = (error as { code?: string }).code ?? "";
      if (!RETRYABLE.has(code) || attempt + 1 >= attempts) throw error;
      await new Promise((r) =>
        setTimeout(r, 5 * 2 ** Math.min(attempt, 5) * (0.5 + Math.random()))
      );
    }
  }
}

function storeFailed(what: string, error: unknown): LedgerError {
  if (error instanceof LedgerError) return error;
  const code = (error as { code?: string }).code ?? "unknown";
  return new LedgerError(
    "store_failed",
    `PostgreSQL ${what} failed (SQLSTATE ${code})`,
    {
      details: { sqlstate: code },
    },
  );
}

/**
 * The schema driver of one component on PostgreSQL: the apply transaction
 * takes `pg_advisory_xact_lock(key)` (unbounded wait) and then
 * `SET LOCAL lock_timeout = '5s'`.
 *
 * @param sql The pool.
 * @param set The component.
 * @returns The driver for `prepareSchema`.
 *
 * @example
 * ```ts ignore
 * import { postgresSchemaDriver } from "./postgres_store.ts";
 * import { DONE_LEDGER_POSTGRES_MIGRATIONS } from "../postgres_schema.ts";
 * const driver = postgresSchemaDriver(sql, DONE_LEDGER_POSTGRES_MIGRATIONS);
 * ```
 */
export function postgresSchemaDriver(
  sql: PgSql,
  set: MigrationSet,
): SchemaDriver {
  const readHistory = async (
    q: PgSql | postgres.TransactionSql,
    versions: readonly string[],
  ) => {
    const rows = await q.unsafe(readinessHistorySql(set.historyTable), [
      versions as string[],
    ]);
    return rows.map((r: Row) => ({
      version: String(r.version),
      checksum: bytesOf(r.checksum),
    }));
  };
  return {
    async inApplyTransaction(body): Promise<void> {
      await sql.begin(async (tx) => {
        await tx.unsafe("SELECT pg_advisory_xact_lock($1)", [
          advisoryLockKeyFor(set),
        ]);
        await tx.unsafe("SET LOCAL lock_timeout = '5s'");
        await body({
          ensureHistoryTable: async () => {
            await tx.unsafe(historyTableDdl(set.historyTable));
          },
          readHistory: (versions) =>
            readHistory(tx as unknown as PgSql, versions),
          execute: async (text) => {
            await tx.unsafe(text);
          },
          recordApplied: async (version, checksum) => {
            await tx.unsafe(
              `INSERT INTO ${set.historyTable} (version, checksum) VALUES ($1, $2)`,
              [version, checksum],
            );
          },
        });
      });
    },
    async listTables(tables): Promise<string[]> {
      const rows = await sql.unsafe(READINESS_TABLES_SQL, [tables as string[]]);
      return rows.map((r: Row) => String(r.tablename));
    },
    readHistory: (versions) => readHistory(sql, versions),
  };
}

/**
 * Applies the startup schema policy to one PostgreSQL component. A failing
 * readiness query becomes `schema readiness query failed: …` (with the
 * SQLSTATE only); readiness errors pass through with their codes.
 *
 * @param sql The pool.
 * @param set The component.
 * @param mode `validate` or `dev-auto-migrate`.
 * @returns The versions applied.
 * @throws {LedgerError} Readiness errors (`missing_table`, ...) or `store_failed`.
 *
 * @example
 * ```ts ignore
 * import { preparePostgresSchema } from "./postgres_store.ts";
 * import { DONE_LEDGER_POSTGRES_MIGRATIONS } from "../postgres_schema.ts";
 * await preparePostgresSchema(sql, DONE_LEDGER_POSTGRES_MIGRATIONS, "validate");
 * ```
 */
export async function preparePostgresSchema(
  sql: PgSql,
  set: MigrationSet,
  mode: StartupSchemaMode,
): Promise<readonly string[]> {
  try {
    return (await prepareSchema(set, mode, postgresSchemaDriver(sql, set)))
      .applied;
  } catch (error) {
    if (error instanceof LedgerError) throw error;
    const code = (error as { code?: string }).code ?? "unknown";
    throw new LedgerError(
      "store_failed",
      `${set.component} schema is not ready for worker startup: schema readiness query failed: SQLSTATE ${code}`,
      { details: { sqlstate: code } },
    );
  }
}

function doneFromRow(r: Row): DoneLedgerRecord {
  return {
    tenantId: bytesOf(r.tenant_id),
    policyHash: bytesOf(r.policy_hash),
    ovidHash: bytesOf(r.ovid_hash),
    status: Number(r.status) as DoneStatus,
    bytesScanned: bigintToOrdered(r.bytes_scanned as bigint, "bytes_scanned"),
    findingsCount: Number(r.findings_count),
    fenceEpoch: bigintToOrdered(r.fence_epoch as bigint, "fence_epoch"),
    startedAt: bigintToOrdered(r.started_at as bigint, "started_at"),
    finishedAt: bigintToOrdered(r.finished_at as bigint, "finished_at"),
    runId: bitPatternToU64(r.run_id as bigint),
    shardId: bitPatternToU64(r.shard_id as bigint),
    errorCode: r.error_code === null ? null : String(r.error_code),
  };
}

function keyOf(...parts: Uint8Array[]): string {
  return parts.map(hex).join(":");
}

/** The done-ledger on PostgreSQL. */
export class PostgresDoneLedgerStore implements DoneLedgerStore {
  readonly #sql: PgSql;

  /**
   * Wraps a pool.
   *
   * @param sql A pool whose database passed the schema policy.
   */
  constructor(sql: PgSql) {
    this.#sql = sql;
  }

  /**
   * Monotonic upsert in one statement; duplicates within the call are merged
   * first by the pure merge, rows are sent in key order (no deadlocks between
   * concurrent writers), and serialization failures are retried.
   *
   * @param records The rows.
   */
  async upsertDone(records: readonly DoneLedgerRecord[]): Promise<void> {
    if (records.length === 0) return;
    for (const r of records) validateDoneLedgerRecord(r);
    const merged = new Map<string, DoneLedgerRecord>();
    for (const r of records) {
      const key = keyOf(r.tenantId, r.policyHash, r.ovidHash);
      const prev = merged.get(key);
      merged.set(key, prev === undefined ? r : mergeDoneLedgerRecords(prev, r));
    }
    const rows = [...merged.entries()].sort((
      [a],
      [b],
    ) => (a < b ? -1 : a > b ? 1 : 0)).map(([, r]) => r);
    try {
      await withRetry(() =>
        this.#sql.unsafe(DONE_LEDGER_UPSERT_SQL, [
          rows.map((r) => r.tenantId),
          rows.map((r) => r.policyHash),
          rows.map((r) => r.ovidHash),
          rows.map((r) => r.status),
          rows.map((r) => r.bytesScanned),
          rows.map((r) => r.findingsCount),
          rows.map((r) => r.fenceEpoch),
          rows.map((r) => r.startedAt),
          rows.map((r) => r.finishedAt),
          rows.map((r) => u64ToBitPattern(r.runId)),
          rows.map((r) => u64ToBitPattern(r.shardId)),
          rows.map((r) => r.errorCode),
        ] as never[])
      );
    } catch (error) {
      throw storeFailed("done-ledger upsert", error);
    }
  }

  /**
   * Reads rows by ovid, answered in input order.
   *
   * @param tenantId Tenant.
   * @param policyHash Policy.
   * @param ovidHashes The ovids.
   * @returns One entry per input (`undefined` when absent).
   */
  async batchGetDone(
    tenantId: Uint8Array,
    policyHash: Uint8Array,
    ovidHashes: readonly Uint8Array[],
  ): Promise<(DoneLedgerRecord | undefined)[]> {
    if (ovidHashes.length === 0) return [];
    let rows: Row[];
    try {
      rows = await this.#sql.unsafe(
        DONE_LEDGER_BATCH_GET_SQL,
        [tenantId, policyHash, ovidHashes] as never[],
      );
    } catch (error) {
      throw storeFailed("done-ledger batch get", error);
    }
    const byOvid = new Map(
      rows.map((r) => [hex(bytesOf(r.ovid_hash)), doneFromRow(r)]),
    );
    return ovidHashes.map((o) => byOvid.get(hex(o)));
  }
}

function dedupe<T>(
  items: readonly T[],
  key: (t: T) => string,
  same: (a: T, b: T) => boolean,
  conflict: () => never,
): T[] {
  const out = new Map<string, T>();
  for (const item of items) {
    const k = key(item);
    const prev = out.get(k);
    if (prev === undefined) out.set(k, item);
    else if (!same(prev, item)) conflict();
  }
  return [...out.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([, v]) => v);
}

/** The findings tables on PostgreSQL. */
export class PostgresFindingsStore implements FindingsStore {
  readonly #sql: PgSql;

  /**
   * Wraps a pool.
   *
   * @param sql A pool whose database passed the schema policy.
   */
  constructor(sql: PgSql) {
    this.#sql = sql;
  }

  /**
   * Writes a batch in one transaction (findings, then occurrences, then
   * observations); a conflict rolls back the whole batch.
   *
   * @param batch The rows.
   */
  async writeFindings(batch: FindingsBatch): Promise<void> {
    if (
      batch.findings.length + batch.occurrences.length +
          batch.observations.length === 0
    ) return;
    batch.findings.forEach(validateFindingRecord);
    batch.occurrences.forEach(validateOccurrenceRecord);
    batch.observations.forEach(validateObservationRecord);
    const findingConflict = (): never => {
      throw new LedgerError(
        "finding_conflict",
        "a finding id already maps to different content",
      );
    };
    const occurrenceConflict = (): never => {
      throw new LedgerError(
        "occurrence_conflict",
        "an occurrence id already maps to different content",
      );
    };
    const observationConflict = (): never => {
      throw new LedgerError(
        "observation_conflict",
        "an observation id already maps to a different occurrence or policy",
      );
    };
    const findings = dedupe(
      batch.findings,
      (f) => keyOf(f.tenantId, f.findingId),
      (a, b) =>
        sameId(a.stableItemId, b.stableItemId) &&
        sameId(a.ruleFingerprint, b.ruleFingerprint) &&
        sameId(a.secretHash, b.secretHash),
      findingConflict,
    );
    const occurrences = dedupe(
      batch.occurrences,
      (o) => keyOf(o.tenantId, o.occurrenceId),
      (a, b) =>
        sameId(a.findingId, b.findingId) &&
        sameId(a.objectVersionId, b.objectVersionId) &&
        a.byteOffset === b.byteOffset && a.byteLength === b.byteLength,
      occurrenceConflict,
    );
    const obsMap = new Map<string, ObservationRecord>();
    for (const o of batch.observations) {
      const k = keyOf(o.tenantId, o.policyHash, o.occurrenceId);
      const prev = obsMap.get(k);
      if (prev !== undefined && !sameId(prev.observationId, o.observationId)) {
        observationConflict();
      }
      obsMap.set(k, prev === undefined ? o : mergeObservationRecords(prev, o));
    }
    const observations = [...obsMap.entries()].sort((
      [a],
      [b],
    ) => (a < b ? -1 : a > b ? 1 : 0)).map(([, v]) => v);
    try {
      await withRetry(() =>
        this.#sql.begin(async (tx) => {
          if (findings.length > 0) {
            const got = await tx.unsafe(FINDINGS_INSERT_SQL, [
              findings.map((f) => f.tenantId),
              findings.map((f) => f.findingId),
              findings.map((f) => f.stableItemId),
              findings.map((f) => f.ruleFingerprint),
              findings.map((f) => f.secretHash),
            ] as never[]);
            if (got.length !== findings.length) findingConflict();
          }
          if (occurrences.length > 0) {
            const got = await tx.unsafe(OCCURRENCES_INSERT_SQL, [
              occurrences.map((o) => o.tenantId),
              occurrences.map((o) => o.occurrenceId),
              occurrences.map((o) => o.findingId),
              occurrences.map((o) => o.objectVersionId),
              occurrences.map((o) => o.byteOffset),
              occurrences.map((o) => o.byteLength),
            ] as never[]);
            if (got.length !== occurrences.length) occurrenceConflict();
          }
          if (observations.length > 0) {
            const got = await tx.unsafe(OBSERVATIONS_UPSERT_SQL, [
              observations.map((o) => o.tenantId),
              observations.map((o) => o.observationId),
              observations.map((o) => o.occurrenceId),
              observations.map((o) => o.policyHash),
              observations.map((o) => o.ovidHash),
              observations.map((o) => u64ToBitPattern(o.runId)),
              observations.map((o) => u64ToBitPattern(o.shardId)),
              observations.map((o) => o.fenceEpoch),
              observations.map((o) => o.seenAt),
              observations.map((o) => o.locationDisplay),
              observations.map((o) => o.locationUrl),
            ] as never[]);
            if (got.length !== observations.length) observationConflict();
          }
        })
      );
    } catch (error) {
      const constraint =
        (error as { constraint_name?: string }).constraint_name ?? "";
      const sqlstate = (error as { code?: string }).code ?? "";
      if (sqlstate === "23505" && constraint.startsWith("findings")) {
        findingConflict();
      }
      if (sqlstate === "23505" && constraint.startsWith("occurrences")) {
        occurrenceConflict();
      }
      if (sqlstate === "23505" && constraint.startsWith("observations")) {
        observationConflict();
      }
      if (sqlstate === "23503") {
        throw new LedgerError(
          "invalid_record",
          `a findings row refers to a missing parent (${constraint})`,
        );
      }
      throw storeFailed("findings write", error);
    }
  }

  /**
   * Reads the observations of some ovids, in input order.
   *
   * @param tenantId Tenant.
   * @param policyHash Policy.
   * @param ovidHashes The ovids.
   * @returns One list per input ovid.
   */
  async batchGetObservations(
    tenantId: Uint8Array,
    policyHash: Uint8Array,
    ovidHashes: readonly Uint8Array[],
  ): Promise<StoredObservation[][]> {
    if (ovidHashes.length === 0) return [];
    let rows: Row[];
    try {
      rows = await this.#sql.unsafe(
        OBSERVATIONS_BATCH_GET_SQL,
        [tenantId, policyHash, ovidHashes] as never[],
      );
    } catch (error) {
      throw storeFailed("findings batch get", error);
    }
    const byOvid = new Map<string, StoredObservation[]>();
    for (const r of rows) {
      const tenant = bytesOf(r.tenant_id);
      const finding: FindingRecord = {
        tenantId: tenant,
        findingId: bytesOf(r.finding_id),
        stableItemId: bytesOf(r.stable_item_id),
        ruleFingerprint: bytesOf(r.rule_fingerprint),
        secretHash: bytesOf(r.secret_hash),
      };
      const occurrence: OccurrenceRecord = {
        tenantId: tenant,
        occurrenceId: bytesOf(r.occurrence_id),
        findingId: finding.findingId,
        objectVersionId: bytesOf(r.object_version_id),
        byteOffset: bigintToOrdered(r.byte_offset as bigint, "byte_offset"),
        byteLength: bigintToOrdered(r.byte_length as bigint, "byte_length"),
      };
      const observation: ObservationRecord = {
        tenantId: tenant,
        observationId: bytesOf(r.observation_id),
        occurrenceId: occurrence.occurrenceId,
        policyHash: bytesOf(r.policy_hash),
        ovidHash: bytesOf(r.ovid_hash),
        runId: bitPatternToU64(r.run_id as bigint),
        shardId: bitPatternToU64(r.shard_id as bigint),
        fenceEpoch: bigintToOrdered(r.fence_epoch as bigint, "fence_epoch"),
        seenAt: bigintToOrdered(r.seen_at as bigint, "seen_at"),
        locationDisplay: r.location_display === null
          ? null
          : String(r.location_display),
        locationUrl: r.location_url === null ? null : String(r.location_url),
      };
      const k = hex(observation.ovidHash);
      const list = byOvid.get(k) ?? [];
      list.push({ finding, occurrence, observation });
      byOvid.set(k, list);
    }
    return ovidHashes.map((o) => [...(byOvid.get(hex(o)) ?? [])]);
  }
}

/** Options of {@link openPostgresLedger}. */
export interface PostgresLedgerOptions extends PgConnectOptions {
  /** The done-ledger database DSN. */
  readonly doneLedgerDsn: string;
  /** The findings database DSN (may be the same database). */
  readonly findingsDsn: string;
  /** The startup schema policy. */
  readonly schemaMode: StartupSchemaMode;
}

/**
 * The production bootstrap of the PostgreSQL side: both connections opened
 * in parallel (both settled before any error is returned), then the schema
 * policy on the done-ledger, then on the findings database.
 *
 * @param options DSNs, policy and pool options.
 * @returns A backend whose `describe` holds no DSN.
 * @throws {LedgerError} `startup_failed` or a readiness error.
 *
 * @example
 * ```ts ignore
 * import { openPostgresLedger } from "./postgres_store.ts";
 * const ledger = await openPostgresLedger({ doneLedgerDsn: dsn, findingsDsn: dsn, schemaMode: "validate" });
 * await ledger.close();
 * ```
 */
export async function openPostgresLedger(
  options: PostgresLedgerOptions,
): Promise<LedgerBackend> {
  const [done, findings] = await Promise.allSettled([
    connectPostgres(options.doneLedgerDsn, "done-ledger", options),
    connectPostgres(options.findingsDsn, "findings", options),
  ]);
  const closeAll = async (): Promise<void> => {
    for (const r of [done, findings]) {
      if (r.status === "fulfilled") await r.value.end({ timeout: 1 });
    }
  };
  if (done.status === "rejected" || findings.status === "rejected") {
    await closeAll();
    throw (done.status === "rejected"
      ? done.reason
      : (findings as PromiseRejectedResult).reason);
  }
  try {
    await preparePostgresSchema(
      done.value,
      DONE_LEDGER_POSTGRES_MIGRATIONS,
      options.schemaMode,
    );
    await preparePostgresSchema(
      findings.value,
      FINDINGS_POSTGRES_MIGRATIONS,
      options.schemaMode,
    );
  } catch (error) {
    await closeAll();
    throw error;
  }
  let closed = false;
  return {
    done: new PostgresDoneLedgerStore(done.value),
    findings: new PostgresFindingsStore(findings.value),
    describe: "postgresql",
    async close(): Promise<void> {
      if (closed) return;
      closed = true;
      await closeAll();
    },
  };
}
