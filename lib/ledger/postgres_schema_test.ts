import assert from "node:assert/strict";
import {
  advisoryLockKeyFor,
  categorizePgConnectError,
  DONE_LEDGER_ADVISORY_LOCK_KEY,
  DONE_LEDGER_BATCH_GET_SQL,
  DONE_LEDGER_POSTGRES_MIGRATIONS,
  dsnToUri,
  extractPgHost,
  FINDINGS_ADVISORY_LOCK_KEY,
  FINDINGS_POSTGRES_MIGRATIONS,
  hasConnectTimeout,
  isLocalPgHost,
  withDefaultConnectTimeout,
} from "./postgres_schema.ts";

Deno.test("advisory lock keys are the ASCII mnemonics", () => {
  const ascii = (k: bigint): string => {
    let s = "";
    for (let i = 7n; i >= 0n; i--) {
      s += String.fromCharCode(Number((k >> (8n * i)) & 0xffn));
    }
    return s;
  };
  assert.equal(ascii(DONE_LEDGER_ADVISORY_LOCK_KEY), "GSDLPGM1");
  assert.equal(ascii(FINDINGS_ADVISORY_LOCK_KEY), "GFPGMIG1");
  assert.equal(DONE_LEDGER_ADVISORY_LOCK_KEY, 5139526694314921265n);
  assert.equal(FINDINGS_ADVISORY_LOCK_KEY, 5135880692232177457n);
  assert.equal(
    advisoryLockKeyFor(FINDINGS_POSTGRES_MIGRATIONS),
    FINDINGS_ADVISORY_LOCK_KEY,
  );
});

Deno.test("schema: named primary key column order, canonical table names, bytea array lookup", () => {
  const sql = DONE_LEDGER_POSTGRES_MIGRATIONS.migrations[0].sql;
  assert.ok(
    sql.includes(
      "CONSTRAINT done_ledger_entries_pk PRIMARY KEY (tenant_id, policy_hash, ovid_hash)",
    ),
  );
  assert.ok(DONE_LEDGER_BATCH_GET_SQL.includes("ovid_hash = ANY($3::bytea[])"));
  assert.deepEqual(FINDINGS_POSTGRES_MIGRATIONS.requiredTables, [
    "findings",
    "occurrences",
    "observations",
    "findings_schema_migrations",
  ]);
  assert.equal(
    DONE_LEDGER_POSTGRES_MIGRATIONS.migrations[0].checksum.length,
    32,
  );
});

Deno.test("connect_timeout detection and default", () => {
  const table: [string, boolean][] = [
    ["postgres://h/db?connect_timeout=3", true],
    ["postgres://h/db?sslmode=disable&connect_timeout=3", true],
    ["postgres://h/db", false],
    ["host=h connect_timeout=3", true],
    ["connect_timeout=3", true],
    ["postgres://u:connect_timeout=9@h/db", false],
    ["host=h password=connect_timeout=9", false],
    ["postgres://h/db?application_name=connect_timeout", false],
  ];
  for (const [dsn, expected] of table) {
    assert.equal(hasConnectTimeout(dsn), expected, dsn);
  }
  assert.equal(
    withDefaultConnectTimeout("postgresql://h/db"),
    "postgresql://h/db?connect_timeout=5",
  );
  assert.equal(
    withDefaultConnectTimeout("host=h dbname=d"),
    "host=h dbname=d connect_timeout=5",
  );
  assert.equal(
    withDefaultConnectTimeout("host=h connect_timeout=2"),
    "host=h connect_timeout=2",
  );
});

Deno.test("host extraction and locality", () => {
  const table: [string, string | null][] = [
    ["postgres://u:p@[::1]:5432/db", "[::1]"],
    ["postgres://u:p@127.0.0.1:5432/db", "127.0.0.1"],
    ["postgres://u:p@db.example.com/db", "db.example.com"],
    ["host=::1 dbname=x", "::1"],
    ["postgres://db.example.com/db", "db.example.com"],
    ["postgres://db.example.com", "db.example.com"],
    ["postgres://u@[]/db", null],
    ["postgresql:///mydb", null],
    ["postgres://u:p@ss@db.example.com:5432/db", "db.example.com"],
  ];
  for (const [dsn, host] of table) assert.equal(extractPgHost(dsn), host, dsn);
  for (
    const h of [
      "localhost",
      "127.0.0.1",
      "::1",
      "[::1]",
      "/var/run/postgresql",
      null,
    ]
  ) assert.ok(isLocalPgHost(h));
  assert.ok(!isLocalPgHost("10.0.0.1"));
});

Deno.test("keyword DSNs become URIs", () => {
  assert.equal(
    dsnToUri("host=127.0.0.1 port=5433 dbname=d user=u"),
    "postgres://u@127.0.0.1:5433/d",
  );
  assert.equal(dsnToUri("host=::1 dbname=d"), "postgres://[::1]/d");
  assert.equal(dsnToUri("host=/tmp dbname=d"), "postgres:///d?host=%2Ftmp");
  assert.equal(dsnToUri("host=h password='a\\'b c'"), "postgres://:a'b%20c@h/");
});

Deno.test("connect errors are categorised", () => {
  assert.equal(
    categorizePgConnectError({ code: "CONNECT_TIMEOUT" }),
    "timeout",
  );
  assert.equal(
    categorizePgConnectError({ code: "28P01" }),
    "authentication failed",
  );
  assert.equal(
    categorizePgConnectError({ code: "ECONNREFUSED" }),
    "connection refused",
  );
  assert.equal(
    categorizePgConnectError({ code: "ENOTFOUND" }),
    "DNS resolution failed",
  );
  assert.equal(
    categorizePgConnectError({ message: "SSL handshake" }),
    "TLS error",
  );
  assert.equal(
    categorizePgConnectError(new Error("other")),
    "connection failed",
  );
});
