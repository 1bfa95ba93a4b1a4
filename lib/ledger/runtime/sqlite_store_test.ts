import assert from "node:assert/strict";
import fc from "fast-check";
import { DatabaseSync } from "node:sqlite";
import { LedgerError } from "../errors.ts";
import {
  DONE_STATUS,
  type DoneLedgerRecord,
  type DoneStatus,
  mergeDoneLedgerRecords,
  mergeObservationRecords,
  type ObservationRecord,
} from "../store.ts";
import { DONE_LEDGER_SQLITE_MIGRATIONS } from "../sqlite_schema.ts";
import { openSqliteLedger } from "./sqlite_store.ts";

const T = new Uint8Array(32).fill(1);
const P = new Uint8Array(32).fill(2);
const O = new Uint8Array(32).fill(3);

const statusArb = fc.constantFrom<DoneStatus>(1, 2, 3, 10, 11);
const u63 = fc.bigInt({ min: 0n, max: 2n ** 63n - 1n });
const small = fc.bigInt({ min: 0n, max: 5n });

/** A valid done-ledger record for key (T, P, O) with small colliding times. */
const doneArb = fc.record({
  status: statusArb,
  bytesScanned: fc.oneof(small, u63),
  findings: fc.integer({ min: 1, max: 2 ** 31 - 1 }),
  fenceEpoch: fc.oneof(small, u63),
  startedAt: small,
  extra: small,
  runId: fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }),
  shardId: fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }),
  error: fc.constantFrom("io", "timeout", "binary", "x".repeat(128)),
}).map((r): DoneLedgerRecord => ({
  tenantId: T,
  policyHash: P,
  ovidHash: O,
  status: r.status,
  bytesScanned: r.bytesScanned,
  findingsCount: r.status === 10
    ? 0
    : r.status === 11
    ? r.findings
    : r.findings % 3,
  fenceEpoch: r.fenceEpoch,
  startedAt: r.startedAt,
  finishedAt: r.startedAt + r.extra,
  runId: r.runId,
  shardId: r.shardId,
  errorCode: r.status >= 10 ? null : r.error,
}));

function plain(r: DoneLedgerRecord): unknown {
  return {
    ...r,
    tenantId: [...r.tenantId],
    policyHash: [...r.policyHash],
    ovidHash: [...r.ovidHash],
  };
}

Deno.test("SQL upsert and the pure merge agree on random histories", async () => {
  const ledger = await openSqliteLedger(":memory:");
  try {
    await fc.assert(
      fc.asyncProperty(
        fc.array(doneArb, { minLength: 1, maxLength: 8 }),
        async (history) => {
          ledger.rawQuery("DELETE FROM done_ledger_entries");
          let expected: DoneLedgerRecord | undefined;
          for (const r of history) {
            await ledger.done.upsertDone([r]);
            expected = expected === undefined
              ? r
              : mergeDoneLedgerRecords(expected, r);
            const [got] = await ledger.done.batchGetDone(T, P, [O]);
            assert.deepEqual(plain(got!), plain(expected));
          }
        },
      ),
      { numRuns: 300 },
    );
  } finally {
    await ledger.close();
  }
});

Deno.test("pure merge: idempotent replay and success never downgraded", () => {
  fc.assert(fc.property(doneArb, doneArb, (a, b) => {
    const m = mergeDoneLedgerRecords(a, b);
    assert.deepEqual(plain(mergeDoneLedgerRecords(m, b)), plain(m));
    assert.ok(m.status >= a.status && m.status >= b.status);
    if (a.status >= DONE_STATUS.SCANNED_CLEAN) {
      assert.ok(m.status >= DONE_STATUS.SCANNED_CLEAN);
    }
    assert.ok(
      m.bytesScanned >= a.bytesScanned && m.bytesScanned >= b.bytesScanned,
    );
  }));
});

const obsArb = fc.record({
  seenAt: small,
  runId: small,
  fence: small,
  display: fc.option(fc.constantFrom("a.txt:1:1", "b.txt:2:2"), { nil: null }),
  url: fc.option(fc.constantFrom("u1", "u2"), { nil: null }),
}).map((r): ObservationRecord => ({
  tenantId: T,
  observationId: new Uint8Array(32).fill(9),
  occurrenceId: new Uint8Array(32).fill(8),
  policyHash: P,
  ovidHash: O,
  runId: r.runId,
  shardId: 0n,
  fenceEpoch: r.fence,
  seenAt: r.seenAt,
  locationDisplay: r.display,
  locationUrl: r.url,
}));

Deno.test("SQL observation merge and the pure merge agree", async () => {
  const ledger = await openSqliteLedger(":memory:");
  const finding = {
    tenantId: T,
    findingId: new Uint8Array(32).fill(7),
    stableItemId: new Uint8Array(32).fill(6),
    ruleFingerprint: new Uint8Array(32).fill(5),
    secretHash: new Uint8Array(32).fill(4),
  };
  const occurrence = {
    tenantId: T,
    occurrenceId: new Uint8Array(32).fill(8),
    findingId: finding.findingId,
    objectVersionId: O,
    byteOffset: 3n,
    byteLength: 4n,
  };
  try {
    await fc.assert(
      fc.asyncProperty(
        fc.array(obsArb, { minLength: 1, maxLength: 6 }),
        async (history) => {
          ledger.rawQuery("DELETE FROM observations");
          let expected: ObservationRecord | undefined;
          for (const o of history) {
            await ledger.findings.writeFindings({
              findings: [finding],
              occurrences: [occurrence],
              observations: [o],
            });
            expected = expected === undefined
              ? o
              : mergeObservationRecords(expected, o);
            const [[got]] = await ledger.findings.batchGetObservations(T, P, [
              O,
            ]);
            const pick = (
              x: ObservationRecord,
            ) => [
              x.seenAt,
              x.runId,
              x.fenceEpoch,
              x.locationDisplay,
              x.locationUrl,
            ];
            assert.deepEqual(pick(got.observation), pick(expected));
          }
        },
      ),
      { numRuns: 200 },
    );
  } finally {
    await ledger.close();
  }
});

Deno.test("batchGetDone answers in input order with gaps and duplicates", async () => {
  const ledger = await openSqliteLedger(":memory:");
  const ovid = (n: number) => new Uint8Array(32).fill(n);
  const row = (n: number): DoneLedgerRecord => ({
    tenantId: T,
    policyHash: P,
    ovidHash: ovid(n),
    status: 10,
    bytesScanned: BigInt(n),
    findingsCount: 0,
    fenceEpoch: 0n,
    startedAt: 1n,
    finishedAt: 2n,
    runId: 1n,
    shardId: 0n,
    errorCode: null,
  });
  await ledger.done.upsertDone([row(1), row(2), row(3)]);
  const got = await ledger.done.batchGetDone(T, P, [
    ovid(3),
    ovid(9),
    ovid(1),
    ovid(3),
  ]);
  assert.deepEqual(got.map((r) => r?.bytesScanned), [3n, undefined, 1n, 3n]);
  await ledger.close();
});

Deno.test("invalid rows are rejected before writing", async () => {
  const ledger = await openSqliteLedger(":memory:");
  const bad: DoneLedgerRecord = {
    tenantId: T,
    policyHash: P,
    ovidHash: O,
    status: 11,
    bytesScanned: 1n,
    findingsCount: 0,
    fenceEpoch: 0n,
    startedAt: 1n,
    finishedAt: 2n,
    runId: 1n,
    shardId: 0n,
    errorCode: null,
  };
  await assert.rejects(
    ledger.done.upsertDone([bad]),
    (e: unknown) => e instanceof LedgerError && e.code === "invalid_record",
  );
  await assert.rejects(
    ledger.done.upsertDone([{ ...bad, status: 10, finishedAt: 0n }]),
    (e: unknown) =>
      e instanceof LedgerError && e.details.field === "finished_at",
  );
  await assert.rejects(
    ledger.done.upsertDone([{ ...bad, status: 1, errorCode: "x".repeat(129) }]),
    (e: unknown) =>
      e instanceof LedgerError && e.details.field === "error_code",
  );
  await assert.rejects(
    ledger.done.upsertDone([{ ...bad, status: 10, bytesScanned: 2n ** 63n }]),
    (e: unknown) => e instanceof LedgerError && e.code === "invalid_record",
  );
  await ledger.close();
});

Deno.test("findings are insert-or-verify; a conflicting id fails the whole batch", async () => {
  const ledger = await openSqliteLedger(":memory:");
  const f = {
    tenantId: T,
    findingId: new Uint8Array(32).fill(7),
    stableItemId: new Uint8Array(32).fill(6),
    ruleFingerprint: new Uint8Array(32).fill(5),
    secretHash: new Uint8Array(32).fill(4),
  };
  await ledger.findings.writeFindings({
    findings: [f],
    occurrences: [],
    observations: [],
  });
  await ledger.findings.writeFindings({
    findings: [f],
    occurrences: [],
    observations: [],
  });
  await assert.rejects(
    ledger.findings.writeFindings({
      findings: [{ ...f, secretHash: new Uint8Array(32).fill(1) }],
      occurrences: [],
      observations: [],
    }),
    (e: unknown) => e instanceof LedgerError && e.code === "finding_conflict",
  );
  const occ = {
    tenantId: T,
    occurrenceId: new Uint8Array(32).fill(8),
    findingId: f.findingId,
    objectVersionId: O,
    byteOffset: 0n,
    byteLength: 1n,
  };
  await ledger.findings.writeFindings({
    findings: [],
    occurrences: [occ],
    observations: [],
  });
  await assert.rejects(
    ledger.findings.writeFindings({
      findings: [],
      occurrences: [{ ...occ, byteOffset: 5n }],
      observations: [],
    }),
    (e: unknown) =>
      e instanceof LedgerError && e.code === "occurrence_conflict",
  );
  assert.equal(ledger.rawQuery("SELECT count(*) AS n FROM findings")[0].n, 1n);
  await ledger.close();
});

Deno.test("migrations: history rows, idempotent reopen, validate catches drift", async () => {
  const dir = await Deno.makeTempDir();
  const path = `${dir}/l.db`;
  try {
    await (await openSqliteLedger(path)).close();
    await (await openSqliteLedger(path, { schemaMode: "validate" })).close();
    const db = new DatabaseSync(path);
    const rows = db.prepare(
      "SELECT version, length(checksum) AS n FROM done_ledger_schema_migrations",
    ).all();
    assert.deepEqual(rows.map((r) => [r.version, r.n]), [[
      "0001_done_ledger_entries",
      32,
    ]]);
    assert.deepEqual(
      [
        ...(db.prepare("SELECT checksum FROM done_ledger_schema_migrations")
          .get()!.checksum as Uint8Array),
      ],
      [...DONE_LEDGER_SQLITE_MIGRATIONS.migrations[0].checksum],
    );
    db.exec("UPDATE done_ledger_schema_migrations SET checksum = zeroblob(32)");
    db.close();
    for (const mode of ["validate", "dev-auto-migrate"] as const) {
      await assert.rejects(
        openSqliteLedger(path, { schemaMode: mode }),
        (e: unknown) =>
          e instanceof LedgerError && e.code === "migration_checksum_mismatch",
      );
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("migrations: validate on an empty database fails closed", async () => {
  await assert.rejects(
    openSqliteLedger(":memory:", { schemaMode: "validate" }),
    (e: unknown) =>
      e instanceof LedgerError && e.code === "missing_table" &&
      e.message ===
        "done-ledger SQLite schema is not ready for worker startup: required table 'done_ledger_entries' is missing from the current schema",
  );
});
