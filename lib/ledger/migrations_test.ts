import assert from "node:assert/strict";
import { bytesToHex } from "@noble/hashes/utils.js";
import { LedgerError } from "./errors.ts";
import {
  checkSchemaReadiness,
  embedMigration,
  migrationChecksum,
  type MigrationSet,
  planMigrationApply,
  verifyAppliedChecksum,
} from "./migrations.ts";

const A = embedMigration("0001_a", "CREATE TABLE a (x INTEGER);");
const B = embedMigration("0002_b", "CREATE TABLE b (x INTEGER);");
const SET: MigrationSet = {
  component: "demo",
  historyTable: "demo_migrations",
  requiredTables: ["a", "demo_migrations"],
  migrations: [A, B],
};

function code(body: () => unknown): string {
  try {
    body();
  } catch (e) {
    assert.ok(e instanceof LedgerError);
    return e.code;
  }
  return "none";
}

Deno.test("checksum: plain BLAKE3 of the SQL bytes", () => {
  assert.equal(
    bytesToHex(migrationChecksum("SELECT 1;")),
    "00d653e7f95cdb9241068520e713ea5035142cb8ae90aa91b96315d544cee034",
  );
  assert.deepEqual(migrationChecksum("x"), migrationChecksum("x"));
});

Deno.test("verify: matching, mismatch with both hex values, corrupted lengths", () => {
  verifyAppliedChecksum(SET, A, A.checksum);
  try {
    verifyAppliedChecksum(SET, A, new Uint8Array(32));
    assert.fail("no error");
  } catch (e) {
    assert.ok(
      e instanceof LedgerError && e.code === "migration_checksum_mismatch",
    );
    assert.equal(String(e.details.expected_hex).length, 64);
    assert.equal(String(e.details.found_hex).length, 64);
    assert.notEqual(e.details.expected_hex, e.details.found_hex);
  }
  for (const n of [31, 33, 0, 16]) {
    assert.equal(
      code(() => verifyAppliedChecksum(SET, A, new Uint8Array(n))),
      "corrupted_migration_history",
    );
  }
});

Deno.test("plan: applies only missing versions, in order", () => {
  assert.deepEqual(planMigrationApply(SET, []).map((m) => m.version), [
    "0001_a",
    "0002_b",
  ]);
  assert.deepEqual(
    planMigrationApply(SET, [{ version: "0001_a", checksum: A.checksum }]).map((
      m,
    ) => m.version),
    ["0002_b"],
  );
  assert.equal(
    code(() =>
      planMigrationApply(SET, [{ version: "0002_b", checksum: A.checksum }])
    ),
    "migration_checksum_mismatch",
  );
});

Deno.test("readiness: tables, missing rows, extra rows ignored", () => {
  const rows = [{ version: "0001_a", checksum: A.checksum }, {
    version: "0002_b",
    checksum: B.checksum,
  }];
  checkSchemaReadiness(SET, ["a", "demo_migrations"], [...rows, {
    version: "0099_future",
    checksum: new Uint8Array(3),
  }]);
  assert.equal(
    code(() => checkSchemaReadiness(SET, ["demo_migrations"], rows)),
    "missing_table",
  );
  assert.equal(
    code(() =>
      checkSchemaReadiness(SET, ["a", "demo_migrations"], rows.slice(0, 1))
    ),
    "missing_applied_migration",
  );
  assert.equal(
    code(() =>
      checkSchemaReadiness(SET, ["a", "demo_migrations"], [rows[0], {
        version: "0002_b",
        checksum: new Uint8Array(0),
      }])
    ),
    "corrupted_migration_history",
  );
});
