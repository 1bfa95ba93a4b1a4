/**
 * The embedded ledger backend: `node:sqlite` (WAL) implementing the
 * {@link LedgerBackend} contract of `store.ts`, with the schema of
 * `sqlite_schema.ts` applied through the shared migrations mechanism.
 *
 * @module
 */

import { DatabaseSync, type StatementSync } from "node:sqlite";
import type {
  FileStamp,
  FileVersionCache,
  FileVersionEntry,
  FileVersionHit,
  GitListingCache,
} from "./scan_runner.ts";
import type { GitBlob } from "./git_source.ts";
import { LedgerError } from "../errors.ts";
import {
  type AppliedMigrationRow,
  bigintToOrdered,
  bitPatternToU64,
  type DoneLedgerRecord,
  type DoneStatus,
  type FindingRecord,
  type FindingsBatch,
  type LedgerBackend,
  type MigrationSet,
  type ObservationRecord,
  type OccurrenceRecord,
  prepareSchema,
  type SchemaDriver,
  type StartupSchemaMode,
  type StoredObservation,
  u64ToBitPattern,
  validateDoneLedgerRecord,
  validateFindingRecord,
  validateObservationRecord,
  validateOccurrenceRecord,
} from "../store.ts";
import {
  DONE_LEDGER_SQLITE_MIGRATIONS,
  DONE_LEDGER_SQLITE_UPSERT,
  FINDING_SQLITE_INSERT,
  FINDINGS_SQLITE_MIGRATIONS,
  LOCAL_CACHE_SQLITE_MIGRATIONS,
  OBSERVATION_SQLITE_UPSERT,
  OCCURRENCE_SQLITE_INSERT,
  sqliteHistoryTableSql,
} from "../sqlite_schema.ts";

/** Options for {@link openSqliteLedger}. */
export interface SqliteLedgerOptions {
  /** Schema policy. The local default is `dev-auto-migrate`: the file is ours. */
  readonly schemaMode?: StartupSchemaMode;
}

/** One result row of {@link SqliteLedger.rawQuery}. */
export type SqliteRow = Record<string, unknown>;
type Row = SqliteRow;

function storeFailed(what: string, error: unknown): LedgerError {
  if (error instanceof LedgerError) return error;
  return new LedgerError(
    "store_failed",
    `${what}: ${(error as Error)?.message ?? String(error)}`,
    { cause: error },
  );
}

function u8(value: unknown): Uint8Array {
  return value instanceof Uint8Array
    ? value
    : new Uint8Array(value as ArrayBuffer);
}

function driverFor(db: DatabaseSync, set: MigrationSet): SchemaDriver {
  const readHistory = (versions: readonly string[]): AppliedMigrationRow[] => {
    if (versions.length === 0) return [];
    const rows = db.prepare(
      `SELECT version, checksum FROM ${set.historyTable} WHERE version IN (${
        versions.map(() => "?").join(", ")
      })`,
    ).all(...versions) as Row[];
    return rows.map((r) => ({
      version: String(r.version),
      checksum: u8(r.checksum),
    }));
  };
  return {
    inApplyTransaction: async (body) => {
      db.exec("BEGIN IMMEDIATE");
      try {
        await body({
          ensureHistoryTable: () => {
            db.exec(sqliteHistoryTableSql(set.historyTable));
            return Promise.resolve();
          },
          readHistory: (v) => Promise.resolve(readHistory(v)),
          execute: (sql) => {
            db.exec(sql);
            return Promise.resolve();
          },
          recordApplied: (version, checksum) => {
            db.prepare(
              `INSERT INTO ${set.historyTable} (version, checksum) VALUES (?, ?)`,
            ).run(version, checksum);
            return Promise.resolve();
          },
        });
        db.exec("COMMIT");
      } catch (error) {
        db.exec("ROLLBACK");
        throw error;
      }
    },
    listTables: (tables) => {
      const rows = db.prepare(
        `SELECT name FROM sqlite_schema WHERE type = 'table' AND name IN (${
          tables.map(() => "?").join(", ")
        })`,
      ).all(...tables) as Row[];
      return Promise.resolve(rows.map((r) => String(r.name)));
    },
    readHistory: (v) => Promise.resolve(readHistory(v)),
  };
}

function doneFromRow(r: Row): DoneLedgerRecord {
  return {
    tenantId: u8(r.tenant_id),
    policyHash: u8(r.policy_hash),
    ovidHash: u8(r.ovid_hash),
    status: Number(r.status) as DoneStatus,
    bytesScanned: bigintToOrdered(
      BigInt(r.bytes_scanned as bigint),
      "bytes_scanned",
    ),
    findingsCount: Number(r.findings_count),
    fenceEpoch: bigintToOrdered(BigInt(r.fence_epoch as bigint), "fence_epoch"),
    startedAt: bigintToOrdered(BigInt(r.started_at as bigint), "started_at"),
    finishedAt: bigintToOrdered(BigInt(r.finished_at as bigint), "finished_at"),
    runId: bitPatternToU64(BigInt(r.run_id as bigint)),
    shardId: bitPatternToU64(BigInt(r.shard_id as bigint)),
    errorCode: r.error_code === null ? null : String(r.error_code),
  };
}

function hex(bytes: Uint8Array): string {
  let s = "";
  for (const b of bytes) s += b.toString(16).padStart(2, "0");
  return s;
}

/**
 * The SQLite ledger.
 *
 * @example
 * ```ts
 * import { openSqliteLedger } from "./sqlite_store.ts";
 * const ledger = await openSqliteLedger(":memory:");
 * const id = new Uint8Array(32);
 * console.assert((await ledger.done.batchGetDone(id, id, [id]))[0] === undefined);
 * await ledger.close();
 * ```
 */
export class SqliteLedger implements LedgerBackend {
  /** The done-ledger store. */
  readonly done: LedgerBackend["done"];
  /** The findings store. */
  readonly findings: LedgerBackend["findings"];
  /** `sqlite:<path>`. */
  readonly describe: string;
  readonly #db: DatabaseSync;
  #closed = false;
  readonly #upsert: StatementSync;
  readonly #findingInsert: StatementSync;
  readonly #occurrenceInsert: StatementSync;
  readonly #observationUpsert: StatementSync;

  /**
   * Use {@link openSqliteLedger}, which applies the schema first.
   *
   * @param db An open database with the schema applied.
   * @param path Its path (for `describe`).
   */
  constructor(db: DatabaseSync, path: string) {
    this.#db = db;
    this.describe = `sqlite:${path}`;
    this.#upsert = db.prepare(DONE_LEDGER_SQLITE_UPSERT);
    this.#findingInsert = db.prepare(FINDING_SQLITE_INSERT);
    this.#occurrenceInsert = db.prepare(OCCURRENCE_SQLITE_INSERT);
    this.#observationUpsert = db.prepare(OBSERVATION_SQLITE_UPSERT);
    this.done = {
      // deno-lint-ignore require-await
      upsertDone: async (records) => this.#upsertDone(records),
      // deno-lint-ignore require-await
      batchGetDone: async (t, p, o) => this.#batchGetDone(t, p, o),
    };
    this.findings = {
      // deno-lint-ignore require-await
      writeFindings: async (batch) => this.#writeFindings(batch),
      // deno-lint-ignore require-await
      batchGetObservations: async (t, p, o) =>
        this.#batchGetObservations(t, p, o),
    };
  }

  #open(): DatabaseSync {
    if (this.#closed) {
      throw new LedgerError("store_failed", "the ledger is closed");
    }
    return this.#db;
  }

  #transaction<T>(what: string, body: () => T): T {
    const db = this.#open();
    db.exec("BEGIN IMMEDIATE");
    try {
      const result = body();
      db.exec("COMMIT");
      return result;
    } catch (error) {
      db.exec("ROLLBACK");
      throw storeFailed(what, error);
    }
  }

  #upsertDone(records: readonly DoneLedgerRecord[]): void {
    for (const r of records) validateDoneLedgerRecord(r);
    this.#transaction("done-ledger upsert failed", () => {
      for (const r of records) {
        this.#upsert.run(
          r.tenantId,
          r.policyHash,
          r.ovidHash,
          r.status,
          r.bytesScanned,
          r.findingsCount,
          r.fenceEpoch,
          r.startedAt,
          r.finishedAt,
          u64ToBitPattern(r.runId),
          u64ToBitPattern(r.shardId),
          r.errorCode,
        );
      }
    });
  }

  #batchGetDone(
    tenantId: Uint8Array,
    policyHash: Uint8Array,
    ovids: readonly Uint8Array[],
  ): (DoneLedgerRecord | undefined)[] {
    const db = this.#open();
    const byOvid = new Map<string, DoneLedgerRecord>();
    const CHUNK = 500;
    try {
      for (let i = 0; i < ovids.length; i += CHUNK) {
        const part = ovids.slice(i, i + CHUNK);
        const stmt = db.prepare(
          `SELECT tenant_id, policy_hash, ovid_hash, status, bytes_scanned,
             findings_count, fence_epoch, started_at, finished_at, run_id,
             shard_id, error_code
           FROM done_ledger_entries
           WHERE tenant_id = ? AND policy_hash = ? AND ovid_hash IN (${
            part.map(() => "?").join(", ")
          })`,
        );
        stmt.setReadBigInts(true);
        for (const row of stmt.all(tenantId, policyHash, ...part) as Row[]) {
          const rec = doneFromRow(row);
          byOvid.set(hex(rec.ovidHash), rec);
        }
      }
    } catch (error) {
      throw storeFailed("done-ledger read failed", error);
    }
    return ovids.map((o) => byOvid.get(hex(o)));
  }

  #writeFindings(batch: FindingsBatch): void {
    batch.findings.forEach(validateFindingRecord);
    batch.occurrences.forEach(validateOccurrenceRecord);
    batch.observations.forEach(validateObservationRecord);
    this.#transaction("findings write failed", () => {
      for (const f of batch.findings) this.#insertFinding(f);
      for (const o of batch.occurrences) this.#insertOccurrence(o);
      for (const o of batch.observations) this.#upsertObservation(o);
    });
  }

  #insertFinding(f: FindingRecord): void {
    let ok: unknown;
    try {
      ok = this.#findingInsert.get(
        f.tenantId,
        f.findingId,
        f.stableItemId,
        f.ruleFingerprint,
        f.secretHash,
      );
    } catch (error) {
      if (/UNIQUE|constraint/i.test((error as Error).message)) ok = undefined;
      else throw error;
    }
    if (ok === undefined) {
      throw new LedgerError(
        "finding_conflict",
        "a finding id already maps to different content",
      );
    }
  }

  #insertOccurrence(o: OccurrenceRecord): void {
    let ok: unknown;
    try {
      ok = this.#occurrenceInsert.get(
        o.tenantId,
        o.occurrenceId,
        o.findingId,
        o.objectVersionId,
        o.byteOffset,
        o.byteLength,
      );
    } catch (error) {
      if (/UNIQUE|constraint/i.test((error as Error).message)) ok = undefined;
      else throw error;
    }
    if (ok === undefined) {
      throw new LedgerError(
        "occurrence_conflict",
        "an occurrence id already maps to different content",
      );
    }
  }

  #upsertObservation(o: ObservationRecord): void {
    let ok: unknown;
    try {
      ok = this.#observationUpsert.get(
        o.tenantId,
        o.observationId,
        o.occurrenceId,
        o.policyHash,
        o.ovidHash,
        u64ToBitPattern(o.runId),
        u64ToBitPattern(o.shardId),
        o.fenceEpoch,
        o.seenAt,
        o.locationDisplay,
        o.locationUrl,
      );
    } catch (error) {
      if (/UNIQUE|constraint/i.test((error as Error).message)) ok = undefined;
      else throw error;
    }
    if (ok === undefined) {
      throw new LedgerError(
        "observation_conflict",
        "an observation id already maps to a different occurrence or policy",
      );
    }
  }

  #batchGetObservations(
    tenantId: Uint8Array,
    policyHash: Uint8Array,
    ovids: readonly Uint8Array[],
  ): StoredObservation[][] {
    const db = this.#open();
    const stmt = db.prepare(
      `SELECT f.finding_id, f.stable_item_id, f.rule_fingerprint, f.secret_hash,
         o.occurrence_id, o.object_version_id, o.byte_offset, o.byte_length,
         b.observation_id, b.ovid_hash, b.run_id, b.shard_id, b.fence_epoch,
         b.seen_at, b.location_display, b.location_url
       FROM observations b
       JOIN occurrences o ON o.tenant_id = b.tenant_id AND o.occurrence_id = b.occurrence_id
       JOIN findings f ON f.tenant_id = o.tenant_id AND f.finding_id = o.finding_id
       WHERE b.tenant_id = ? AND b.policy_hash = ? AND b.ovid_hash = ?
       ORDER BY o.byte_offset, b.observation_id`,
    );
    stmt.setReadBigInts(true);
    try {
      return ovids.map((ovid) =>
        (stmt.all(tenantId, policyHash, ovid) as Row[]).map((r) => ({
          finding: {
            tenantId,
            findingId: u8(r.finding_id),
            stableItemId: u8(r.stable_item_id),
            ruleFingerprint: u8(r.rule_fingerprint),
            secretHash: u8(r.secret_hash),
          },
          occurrence: {
            tenantId,
            occurrenceId: u8(r.occurrence_id),
            findingId: u8(r.finding_id),
            objectVersionId: u8(r.object_version_id),
            byteOffset: BigInt(r.byte_offset as bigint),
            byteLength: BigInt(r.byte_length as bigint),
          },
          observation: {
            tenantId,
            observationId: u8(r.observation_id),
            occurrenceId: u8(r.occurrence_id),
            policyHash,
            ovidHash: u8(r.ovid_hash),
            runId: bitPatternToU64(BigInt(r.run_id as bigint)),
            shardId: bitPatternToU64(BigInt(r.shard_id as bigint)),
            fenceEpoch: BigInt(r.fence_epoch as bigint),
            seenAt: BigInt(r.seen_at as bigint),
            locationDisplay: r.location_display === null
              ? null
              : String(r.location_display),
            locationUrl: r.location_url === null
              ? null
              : String(r.location_url),
          },
        }))
      );
    } catch (error) {
      throw storeFailed("findings read failed", error);
    }
  }

  /** The git listing cache (one listing per repository). */
  readonly gitListingCache: GitListingCache = {
    // deno-lint-ignore require-await
    lookup: async (root, refs) => {
      const row = this.#open().prepare(
        "SELECT refs_hash, listing FROM git_listing_cache WHERE root = ?",
      ).get(root) as Row | undefined;
      if (row === undefined) return undefined;
      const stored = u8(row.refs_hash);
      if (
        stored.length !== refs.length || stored.some((b, i) => b !== refs[i])
      ) {
        return undefined;
      }
      return JSON.parse(String(row.listing)) as GitBlob[];
    },
    // deno-lint-ignore require-await
    store: async (root, refs, blobs) => {
      this.#open().prepare(
        `INSERT OR REPLACE INTO git_listing_cache (root, refs_hash, listing, recorded_at)
         VALUES (?, ?, ?, ?)`,
      ).run(root, refs, JSON.stringify(blobs), Date.now());
    },
  };

  /**
   * The local file-version cache of the file-system source: the
   * object-version id of each file by its stat stamp. An entry is
   * trusted only when size, mtime and inode match and the mtime is at least
   * 2 s older than when the entry was recorded (a file changed within the
   * same clock tick as the recording is read again).
   */
  readonly fileVersionCache: FileVersionCache = {
    // deno-lint-ignore require-await
    lookup: async (root, files) => this.#lookupHashes(root, files),
    // deno-lint-ignore require-await
    store: async (root, entries, recordedAt) =>
      this.#storeHashes(root, entries, recordedAt),
  };

  #lookupStatement: StatementSync | undefined;

  #lookupHashes(
    root: string,
    files: readonly (FileStamp & { readonly path: string })[],
  ): (FileVersionHit | undefined)[] {
    if (files.length === 0) return [];
    const db = this.#open();
    // Rows as arrays (cheaper than objects): path, size, mtime_ms, ino,
    // ovid_hash, done_policy, done_findings, recorded_at.
    const found = new Map<string, unknown[]>();
    // The paths go in as one JSON array (binding hundreds of parameters
    // costs more than SQLite's JSON parse); one statement, prepared once.
    let stmt = this.#lookupStatement;
    if (stmt === undefined) {
      stmt = db.prepare(
        `SELECT path, size, mtime_ms, ino, ovid_hash, done_policy,
           done_findings, recorded_at
         FROM fs_version_cache
         WHERE root = ? AND path IN (SELECT value FROM json_each(?))`,
      );
      // In the runtime's node:sqlite, not yet in its type declarations.
      (stmt as StatementSync & { setReturnArrays(on: boolean): void })
        .setReturnArrays(true);
      this.#lookupStatement = stmt;
    }
    const CHUNK = 4096;
    for (let i = 0; i < files.length; i += CHUNK) {
      const part = files.slice(i, i + CHUNK).map((f) => f.path);
      const rows = stmt.all(root, JSON.stringify(part)) as unknown[];
      for (const row of rows) {
        const r = row as unknown[];
        found.set(String(r[0]), r);
      }
    }
    return files.map((f) => {
      const r = found.get(f.path);
      if (
        r === undefined || Number(r[1]) !== f.size ||
        Number(r[2]) !== f.mtimeMs || Number(r[3]) !== f.ino ||
        f.mtimeMs >= Number(r[7]) - 2000
      ) return undefined;
      return {
        ovid: u8(r[4]),
        donePolicy: r[5] === null ? null : u8(r[5]),
        doneFindings: Number(r[6]),
      };
    });
  }

  #storeHashes(
    root: string,
    entries: readonly FileVersionEntry[],
    recordedAt: number,
  ): void {
    this.#transaction("file-version cache write failed", () => {
      const stmt = this.#db.prepare(
        `INSERT OR REPLACE INTO fs_version_cache
           (root, path, size, mtime_ms, ino, ovid_hash, done_policy,
            done_findings, recorded_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      );
      for (const e of entries) {
        stmt.run(
          root,
          e.path,
          e.size,
          e.mtimeMs,
          e.ino,
          e.ovid,
          e.donePolicy,
          e.doneFindings,
          recordedAt,
        );
      }
    });
  }

  /** Runs one SQL query (tests and tools only). */
  rawQuery(
    sql: string,
    ...params: (string | number | bigint | Uint8Array | null)[]
  ): SqliteRow[] {
    const stmt = this.#open().prepare(sql);
    stmt.setReadBigInts(true);
    return stmt.all(...params) as Row[];
  }

  /** Closes the database. Idempotent. */
  close(): Promise<void> {
    if (!this.#closed) {
      this.#closed = true;
      this.#db.close();
    }
    return Promise.resolve();
  }
}

/**
 * Opens (creating if needed) the ledger database at `path` (`:memory:` for
 * a throwaway one), in WAL mode with foreign keys on, and applies the
 * schema policy to both components.
 *
 * @param path The database file.
 * @param options Schema policy.
 * @returns The ledger.
 * @throws {LedgerError} A schema readiness code, or `store_failed`.
 *
 * @example
 * ```ts
 * import { openSqliteLedger } from "./sqlite_store.ts";
 * const ledger = await openSqliteLedger(":memory:");
 * console.assert(ledger.describe === "sqlite::memory:");
 * await ledger.close();
 * ```
 */
export async function openSqliteLedger(
  path: string,
  options: SqliteLedgerOptions = {},
): Promise<SqliteLedger> {
  let db: DatabaseSync;
  try {
    db = new DatabaseSync(path);
    db.exec("PRAGMA journal_mode = WAL");
    db.exec("PRAGMA synchronous = NORMAL");
    db.exec("PRAGMA foreign_keys = ON");
    db.exec("PRAGMA busy_timeout = 5000");
  } catch (error) {
    throw storeFailed("cannot open the ledger database", error);
  }
  const mode = options.schemaMode ?? "dev-auto-migrate";
  try {
    for (
      const set of [
        DONE_LEDGER_SQLITE_MIGRATIONS,
        FINDINGS_SQLITE_MIGRATIONS,
        LOCAL_CACHE_SQLITE_MIGRATIONS,
      ]
    ) {
      await prepareSchema(set, mode, driverFor(db, set));
    }
  } catch (error) {
    db.close();
    throw storeFailed("ledger schema preparation failed", error);
  }
  return new SqliteLedger(db, path);
}
