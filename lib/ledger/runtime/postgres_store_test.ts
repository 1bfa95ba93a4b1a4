import assert from "node:assert/strict";
import fc from "fast-check";
import postgres from "postgres";
import { LedgerError } from "../errors.ts";
import {
  DONE_LEDGER_POSTGRES_MIGRATIONS,
  DONE_LEDGER_UPSERT_SQL,
  FINDINGS_POSTGRES_MIGRATIONS,
} from "../postgres_schema.ts";
import {
  type DoneLedgerRecord,
  type DoneStatus,
  type FindingsBatch,
  type LedgerBackend,
  mergeDoneLedgerRecords,
  mergeObservationRecords,
  type ObservationRecord,
} from "../store.ts";
import { startPostgres } from "../../testing/runtime/postgres_server.ts";
import { postgresSkipReason } from "../../testing/runtime/postgres_server.ts";
import { openSqliteLedger } from "./sqlite_store.ts";
import {
  connectPostgres,
  openPostgresLedger,
  type PgSql,
  preparePostgresSchema,
} from "./postgres_store.ts";

const skip = postgresSkipReason();
const id = (n: number): Uint8Array => new Uint8Array(32).fill(n);

async function codeOf(p: Promise<unknown>): Promise<LedgerError> {
  try {
    await p;
  } catch (error) {
    if (error instanceof LedgerError) return error;
    throw error;
  }
  throw new Error("expected a LedgerError");
}

function done(
  ovid: number,
  over: Partial<DoneLedgerRecord> = {},
): DoneLedgerRecord {
  return {
    tenantId: id(1),
    policyHash: id(2),
    ovidHash: id(ovid),
    status: 10,
    bytesScanned: 10n,
    findingsCount: 0,
    fenceEpoch: 1n,
    startedAt: 5n,
    finishedAt: 6n,
    runId: 1n,
    shardId: 0n,
    errorCode: null,
    ...over,
  };
}

const doneArb: fc.Arbitrary<DoneLedgerRecord> = fc.record({
  ovid: fc.integer({ min: 1, max: 3 }),
  status: fc.constantFrom<DoneStatus>(1, 2, 3, 10, 11),
  bytes: fc.bigInt({ min: 0n, max: 1000n }),
  findings: fc.integer({ min: 1, max: 5 }),
  fence: fc.bigInt({ min: 0n, max: 5n }),
  started: fc.bigInt({ min: 0n, max: 5n }),
  span: fc.bigInt({ min: 0n, max: 3n }),
  run: fc.constantFrom(1n, 2n, (1n << 64n) - 1n, 1n << 63n),
  shard: fc.bigInt({ min: 0n, max: 3n }),
  error: fc.constantFrom("io", "timeout", "x".repeat(128)),
}).map((g) =>
  done(g.ovid, {
    status: g.status,
    bytesScanned: g.bytes,
    findingsCount: g.status === 10
      ? 0
      : g.status === 11
      ? g.findings
      : g.findings - 1,
    fenceEpoch: g.fence,
    startedAt: g.started,
    finishedAt: g.started + g.span,
    runId: g.run,
    shardId: g.shard,
    errorCode: g.status >= 10 ? null : g.error,
  })
);

function findingsBatch(
  n: number,
  seenAt: bigint,
  display: string | null,
): FindingsBatch {
  return {
    findings: [{
      tenantId: id(1),
      findingId: id(40 + n),
      stableItemId: id(50 + n),
      ruleFingerprint: id(3),
      secretHash: id(60 + n),
    }],
    occurrences: [{
      tenantId: id(1),
      occurrenceId: id(70 + n),
      findingId: id(40 + n),
      objectVersionId: id(9),
      byteOffset: BigInt(n),
      byteLength: 4n,
    }],
    observations: [{
      tenantId: id(1),
      observationId: id(80 + n),
      occurrenceId: id(70 + n),
      policyHash: id(2),
      ovidHash: id(9),
      runId: 1n,
      shardId: 2n,
      fenceEpoch: 1n,
      seenAt,
      locationDisplay: display,
      locationUrl: display === null ? null : `file:///${display}`,
    }],
  };
}

Deno.test({
  name: "PostgreSQL ledger stores (real server)",
  ignore: skip !== null,
  sanitizeOps: false,
  sanitizeResources: false,
  async fn(t) {
    const pg = await startPostgres();
    let dbCounter = 0;
    const freshDb = () => pg.createDatabase(`ledger_${++dbCounter}`);
    const pools: PgSql[] = [];
    const raw = (dsn: string): PgSql => {
      const sql = postgres(dsn, {
        onnotice: () => undefined,
        types: { bigint: postgres.BigInt },
      }) as unknown as PgSql;
      pools.push(sql);
      return sql;
    };
    try {
      await t.step(
        "dev-auto-migrate bootstraps, is idempotent, and validate then succeeds",
        async () => {
          const dsn = await freshDb();
          const sql = raw(dsn);
          assert.deepEqual(
            await preparePostgresSchema(
              sql,
              DONE_LEDGER_POSTGRES_MIGRATIONS,
              "dev-auto-migrate",
            ),
            [
              "0001_done_ledger_entries",
            ],
          );
          assert.deepEqual(
            await preparePostgresSchema(
              sql,
              DONE_LEDGER_POSTGRES_MIGRATIONS,
              "dev-auto-migrate",
            ),
            [],
          );
          assert.deepEqual(
            await preparePostgresSchema(
              sql,
              DONE_LEDGER_POSTGRES_MIGRATIONS,
              "validate",
            ),
            [],
          );
          const ledger = await openPostgresLedger({
            doneLedgerDsn: dsn,
            findingsDsn: dsn,
            schemaMode: "dev-auto-migrate",
          });
          await ledger.close();
          const again = await openPostgresLedger({
            doneLedgerDsn: dsn,
            findingsDsn: dsn,
            schemaMode: "validate",
          });
          await again.close();
          const constraints =
            await sql`SELECT conname FROM pg_constraint WHERE conname LIKE 'done_ledger_entries_%' ORDER BY 1`;
          const names = constraints.map((r) => r.conname);
          for (
            const n of [
              "done_ledger_entries_pk",
              "done_ledger_entries_status_shape_ck",
              "done_ledger_entries_error_code_size_ck",
            ]
          ) {
            assert.ok(names.includes(n), n);
          }
          const indexes =
            await sql`SELECT indexname FROM pg_indexes WHERE tablename = 'done_ledger_entries'`;
          assert.ok(
            indexes.some((r) =>
              r.indexname === "done_ledger_entries_run_shard_idx"
            ),
          );
          const other = await freshDb();
          const locks = await Promise.all(
            [1, 2, 3].map(() =>
              preparePostgresSchema(
                raw(other),
                FINDINGS_POSTGRES_MIGRATIONS,
                "dev-auto-migrate",
              )
            ),
          );
          assert.equal(
            locks.flat().length,
            1,
            "concurrent migrators apply once (advisory lock)",
          );
        },
      );

      await t.step(
        "validate: every readiness error, word for word",
        async () => {
          const empty = await freshDb();
          const e1 = await codeOf(
            openPostgresLedger({
              doneLedgerDsn: empty,
              findingsDsn: empty,
              schemaMode: "validate",
            }),
          );
          assert.equal(e1.code, "missing_table");
          assert.equal(
            e1.message,
            "done-ledger PostgreSQL schema is not ready for worker startup: required table 'done_ledger_entries' is missing from the current schema",
          );
          const sql = raw(empty);
          await preparePostgresSchema(
            sql,
            DONE_LEDGER_POSTGRES_MIGRATIONS,
            "dev-auto-migrate",
          );
          const e2 = await codeOf(
            openPostgresLedger({
              doneLedgerDsn: empty,
              findingsDsn: empty,
              schemaMode: "validate",
            }),
          );
          assert.equal(e2.code, "missing_table");
          assert.equal(
            e2.message,
            "findings PostgreSQL schema is not ready for worker startup: required table 'findings' is missing from the current schema",
          );
          await preparePostgresSchema(
            sql,
            FINDINGS_POSTGRES_MIGRATIONS,
            "dev-auto-migrate",
          );
          const prefix =
            "done-ledger PostgreSQL schema is not ready for worker startup: ";
          const cases: [string, () => Promise<unknown>, string, string][] = [
            [
              "mismatched checksum (32 zero bytes)",
              () =>
                sql`UPDATE done_ledger_schema_migrations SET checksum = ${new Uint8Array(
                  32,
                )}`,
              "migration_checksum_mismatch",
              "migration history table 'done_ledger_schema_migrations' does not match the embedded checksum for version '0001_done_ledger_entries'",
            ],
            [
              "corrupted checksum (16 bytes, CHECK dropped)",
              async () => {
                await sql.unsafe(
                  "ALTER TABLE done_ledger_schema_migrations DROP CONSTRAINT done_ledger_schema_migrations_checksum_check",
                );
                await sql`UPDATE done_ledger_schema_migrations SET checksum = ${new Uint8Array(
                  16,
                )}`;
              },
              "corrupted_migration_history",
              "migration history table 'done_ledger_schema_migrations' stores a corrupted checksum for version '0001_done_ledger_entries' (16 bytes)",
            ],
            [
              "truncated checksum (0 bytes)",
              () =>
                sql`UPDATE done_ledger_schema_migrations SET checksum = ${new Uint8Array(
                  0,
                )}`,
              "corrupted_migration_history",
              "migration history table 'done_ledger_schema_migrations' stores a corrupted checksum for version '0001_done_ledger_entries' (0 bytes)",
            ],
            [
              "missing history row",
              () => sql`DELETE FROM done_ledger_schema_migrations`,
              "missing_applied_migration",
              "migration history table 'done_ledger_schema_migrations' is missing required version '0001_done_ledger_entries'",
            ],
          ];
          for (const [label, damage, code, message] of cases) {
            await damage();
            const e = await codeOf(
              openPostgresLedger({
                doneLedgerDsn: empty,
                findingsDsn: empty,
                schemaMode: "validate",
              }),
            );
            assert.equal(e.code, code, label);
            assert.equal(e.message, prefix + message, label);
          }
          assert.deepEqual(
            await preparePostgresSchema(
              sql,
              DONE_LEDGER_POSTGRES_MIGRATIONS,
              "dev-auto-migrate",
            ),
            ["0001_done_ledger_entries"],
            "dev-auto-migrate re-applies a migration whose history row is missing (its DDL is idempotent)",
          );
        },
      );

      await t.step(
        "findings checksum mismatch and extra (newer) history rows",
        async () => {
          const dsn = await freshDb();
          const sql = raw(dsn);
          await preparePostgresSchema(
            sql,
            DONE_LEDGER_POSTGRES_MIGRATIONS,
            "dev-auto-migrate",
          );
          await preparePostgresSchema(
            sql,
            FINDINGS_POSTGRES_MIGRATIONS,
            "dev-auto-migrate",
          );
          await sql`INSERT INTO findings_schema_migrations (version, checksum) VALUES ('9999_future', ${new Uint8Array(
            32,
          )})`;
          await (await openPostgresLedger({
            doneLedgerDsn: dsn,
            findingsDsn: dsn,
            schemaMode: "validate",
          })).close();
          await sql`UPDATE findings_schema_migrations SET checksum = ${new Uint8Array(
            32,
          )} WHERE version = '0001_findings_schema'`;
          const e = await codeOf(
            openPostgresLedger({
              doneLedgerDsn: dsn,
              findingsDsn: dsn,
              schemaMode: "validate",
            }),
          );
          assert.equal(e.code, "migration_checksum_mismatch");
          assert.ok(
            e.message.startsWith(
              "findings PostgreSQL schema is not ready for worker startup: ",
            ),
          );
          const applyErr = await codeOf(
            preparePostgresSchema(
              sql,
              FINDINGS_POSTGRES_MIGRATIONS,
              "dev-auto-migrate",
            ),
          );
          assert.equal(applyErr.code, "migration_checksum_mismatch");
          assert.equal(String(applyErr.details.expected_hex).length, 64);
          assert.equal(String(applyErr.details.found_hex), "0".repeat(64));
        },
      );

      const dsn = await freshDb();
      const ledger = await openPostgresLedger({
        doneLedgerDsn: dsn,
        findingsDsn: dsn,
        schemaMode: "dev-auto-migrate",
      });
      const sql = raw(dsn);
      try {
        await storeSuite(t, "PostgreSQL", ledger, async () => {
          const stored =
            await sql`SELECT run_id, shard_id FROM done_ledger_entries WHERE ovid_hash = ${
              id(10)
            }`;
          assert.equal(stored[0].run_id, -1n, "u64 max is stored as -1");
          assert.equal(stored[0].shard_id, -(1n << 63n));
        });
      } finally {
        await ledger.close();
      }
      const sqliteDir = await Deno.makeTempDir({
        prefix: "loom-sqlite-suite-",
      });
      const sqlite = await openSqliteLedger(`${sqliteDir}/ledger.sqlite3`);
      try {
        await storeSuite(t, "SQLite", sqlite);
      } finally {
        await sqlite.close();
        await Deno.remove(sqliteDir, { recursive: true });
      }

      await t.step(
        "bootstrap: unreachable server is a categorised startup error without the DSN",
        async () => {
          const secret = "canary-pw-7f9b2c4d";
          const dsn = `postgres://postgres:${secret}@127.0.0.1:1/x`;
          const e = await codeOf(connectPostgres(dsn, "done-ledger"));
          assert.equal(e.code, "startup_failed");
          assert.equal(
            e.message,
            "failed to connect done-ledger PostgreSQL backend (connection refused)",
          );
          assert.equal(e.cause, undefined);
          assert.ok(
            !JSON.stringify({ m: e.message, d: e.details, s: e.stack })
              .includes(secret),
          );
          const both = await codeOf(
            openPostgresLedger({
              doneLedgerDsn: pg.dsn(),
              findingsDsn: dsn,
              schemaMode: "validate",
            }),
          );
          assert.equal(
            both.message,
            "failed to connect findings PostgreSQL backend (connection refused)",
          );
        },
      );
    } finally {
      for (const p of pools) await p.end({ timeout: 1 }).catch(() => undefined);
      await pg.stop();
    }
  },
});

/** The shared store suite: the same steps against any ledger backend. */
async function storeSuite(
  t: Deno.TestContext,
  name: string,
  ledger: LedgerBackend,
  rawCheck?: () => Promise<void>,
): Promise<void> {
  const step = (label: string, fn: () => Promise<void>) =>
    t.step(`${name}: ${label}`, fn);
  await step(
    "done-ledger: upsert, batch_get in input order, u64 bit patterns",
    async () => {
      const rows = [
        done(10, { runId: (1n << 64n) - 1n, shardId: 1n << 63n }),
        done(11),
      ];
      await ledger.done.upsertDone(rows);
      await ledger.done.upsertDone(rows);
      const got = await ledger.done.batchGetDone(id(1), id(2), [
        id(11),
        id(99),
        id(10),
        id(11),
      ]);
      assert.deepEqual(got, [rows[1], undefined, rows[0], rows[1]]);
      await rawCheck?.();
      const downgrade = done(10, {
        status: 1,
        errorCode: "io",
        finishedAt: 99n,
        runId: 5n,
      });
      await ledger.done.upsertDone([downgrade]);
      assert.equal(
        (await ledger.done.batchGetDone(id(1), id(2), [id(10)]))[0]
          ?.status,
        10,
      );
      const bad = await codeOf(
        ledger.done.upsertDone([
          done(12, { status: 10, findingsCount: 3 }),
        ]),
      );
      assert.equal(bad.code, "invalid_record");
    },
  );

  await step(
    "property: the SQL upsert equals the pure merge",
    async () => {
      let round = 0;
      await fc.assert(
        fc.asyncProperty(
          fc.array(doneArb, { minLength: 1, maxLength: 8 }),
          async (writes) => {
            const policy = new Uint8Array(32).fill(0xa0);
            policy[0] = round & 0xff;
            policy[1] = round++ >> 8;
            const tagged = writes.map((w) => ({
              ...w,
              policyHash: policy,
            }));
            const expected = new Map<number, DoneLedgerRecord>();
            for (const w of tagged) {
              const prev = expected.get(w.ovidHash[0]);
              expected.set(
                w.ovidHash[0],
                prev === undefined ? w : mergeDoneLedgerRecords(prev, w),
              );
              await ledger.done.upsertDone([w]);
            }
            const got = await ledger.done.batchGetDone(id(1), policy, [
              id(1),
              id(2),
              id(3),
            ]);
            for (const [i, g] of got.entries()) {
              assert.deepEqual(g, expected.get(i + 1));
            }
          },
        ),
        { numRuns: 40 },
      );
      assert.ok(
        DONE_LEDGER_UPSERT_SQL.includes(
          "GREATEST(d.findings_count, EXCLUDED.findings_count, 1)",
        ),
      );
    },
  );

  await step(
    "findings: insert-or-verify, conflicts roll the batch back, observations merge",
    async () => {
      await ledger.findings.writeFindings(findingsBatch(1, 5n, null));
      await ledger.findings.writeFindings(findingsBatch(1, 5n, null));
      await ledger.findings.writeFindings(
        findingsBatch(1, 5n, "a.txt:1:1"),
      );
      await ledger.findings.writeFindings(
        findingsBatch(1, 4n, "b.txt:1:1"),
      );
      const [list] = await ledger.findings.batchGetObservations(
        id(1),
        id(2),
        [id(9)],
      );
      assert.equal(list.length, 1);
      assert.equal(list[0].observation.locationDisplay, "a.txt:1:1");
      assert.equal(list[0].observation.locationUrl, "file:///a.txt:1:1");
      const conflicting = findingsBatch(2, 5n, null);
      const clash: FindingsBatch = {
        ...conflicting,
        findings: [...conflicting.findings, {
          ...findingsBatch(1, 5n, null).findings[0],
          secretHash: id(99),
        }],
      };
      const e = await codeOf(ledger.findings.writeFindings(clash));
      assert.equal(e.code, "finding_conflict");
      const [none] = await ledger.findings.batchGetObservations(
        id(1),
        id(2),
        [id(9)],
      );
      assert.equal(
        none.length,
        1,
        "nothing of the conflicting batch was written",
      );
      const occ = findingsBatch(1, 5n, null);
      const e2 = await codeOf(ledger.findings.writeFindings({
        ...occ,
        occurrences: [{ ...occ.occurrences[0], byteLength: 5n }],
      }));
      assert.equal(e2.code, "occurrence_conflict");
    },
  );

  await step(
    "property: the SQL observation merge equals the pure merge",
    async () => {
      let round = 0;
      await fc.assert(
        fc.asyncProperty(
          fc.array(
            fc.record({
              seenAt: fc.bigInt({ min: 0n, max: 3n }),
              display: fc.option(fc.constantFrom("a:1", "b:2"), {
                nil: null,
              }),
              run: fc.bigInt({ min: 1n, max: 3n }),
            }),
            { minLength: 1, maxLength: 6 },
          ),
          async (writes) => {
            const n = 100 + round++;
            let expected: ObservationRecord | undefined;
            for (const w of writes) {
              const b = findingsBatch(n, w.seenAt, w.display);
              const obs = {
                ...b.observations[0],
                runId: w.run,
                ovidHash: id(n),
              };
              expected = expected === undefined
                ? obs
                : mergeObservationRecords(expected, obs);
              await ledger.findings.writeFindings({
                ...b,
                observations: [obs],
              });
            }
            const [list] = await ledger.findings.batchGetObservations(
              id(1),
              id(2),
              [id(n)],
            );
            assert.deepEqual(list[0].observation, expected);
          },
        ),
        { numRuns: 30, endOnFailure: true },
      );
    },
  );
}
