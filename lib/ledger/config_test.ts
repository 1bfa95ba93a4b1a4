import assert from "node:assert/strict";
import {
  type DistributedScanConfig,
  type LocalScanConfig,
  parseBool,
  parseHex32,
  type PathKind,
  resolveScanConfig,
} from "./config.ts";
import { LedgerError } from "./errors.ts";

const HEX_A = "aa".repeat(32);
const HEX_B = "bb".repeat(32);
const SECRET = "5e".repeat(32);

/** A complete production environment. */
const PROD: Record<string, string> = {
  GOSSIP_ETCD_ENDPOINTS: "http://127.0.0.1:2379",
  GOSSIP_ETCD_NAMESPACE: "/gossip",
  GOSSIP_DONE_LEDGER_POSTGRES_DSN: "postgres://u:pw-done@localhost/done",
  GOSSIP_FINDINGS_POSTGRES_DSN: "postgres://u:pw-find@localhost/find",
  GOSSIP_TENANT_ID: HEX_A,
  GOSSIP_RUN_ID: "7",
  GOSSIP_WORKER_ID: "9",
  GOSSIP_POLICY_HASH: HEX_B,
  GOSSIP_TENANT_SECRET_KEY: SECRET,
};

const PATHS: Record<string, PathKind> = {
  "/repo": "directory",
  "/mirrors": "directory",
  "/file.txt": "file",
};

function resolve(
  args: string[],
  env: Record<string, string> = {},
  warnings: string[] = [],
): LocalScanConfig | DistributedScanConfig {
  return resolveScanConfig(args, {
    env: (k) => env[k],
    statPath: (p) => PATHS[p] ?? "missing",
    onWarning: (m) => warnings.push(m),
  });
}

function dist(
  c: LocalScanConfig | DistributedScanConfig,
): DistributedScanConfig {
  assert.ok(c.kind === "distributed");
  return c;
}

function errorOf(
  args: string[],
  env: Record<string, string> = {},
): LedgerError {
  try {
    resolve(args, env);
  } catch (error) {
    assert.ok(error instanceof LedgerError, String(error));
    return error;
  }
  throw new Error(`resolved: ${args.join(" ")}`);
}

function errorFrom(body: () => unknown): LedgerError {
  try {
    body();
  } catch (error) {
    assert.ok(error instanceof LedgerError);
    return error;
  }
  throw new Error("no error");
}

/** [name, args, env, code, message] */
const ERROR_TABLE: [
  string,
  string[],
  Record<string, string>,
  string,
  string,
][] = [
  [
    "flag without =",
    ["--mode", "direct"],
    {},
    "usage",
    "invalid flag '--mode'",
  ],
  [
    "help is a flag without =",
    ["--help"],
    {},
    "usage",
    "invalid flag '--help'",
  ],
  [
    "empty flag value",
    ["--path="],
    {},
    "usage",
    "flag '--path' requires a non-empty value",
  ],
  [
    "blank flag value",
    ["--path=  "],
    {},
    "usage",
    "flag '--path' requires a non-empty value",
  ],
  ["unknown flag", ["--banana=1"], {}, "usage", "unknown flag '--banana'"],
  [
    "too many positionals",
    ["fs", "/repo", "x"],
    {},
    "usage",
    "too many positional arguments",
  ],
  [
    "positional path conflicts",
    ["--path=/repo", "/repo"],
    {},
    "usage",
    "path specified both as --path flag and as positional argument",
  ],
  [
    "positional source conflicts",
    ["--source=fs", "git", "/repo"],
    {},
    "usage",
    "source specified both as --source flag and as positional argument",
  ],
  [
    "single git positional conflicts with --source",
    ["--source=fs", "git"],
    {},
    "usage",
    "source specified both as --source flag and as positional argument",
  ],
  [
    "bad mode",
    ["--mode=turbo"],
    {},
    "invalid_value",
    "invalid value for mode: turbo (expected direct or connector)",
  ],
  [
    "bad backend",
    ["--backend=banana"],
    {},
    "invalid_value",
    "invalid value for backend: banana (expected local or production)",
  ],
  [
    "bad source",
    ["--source=svn"],
    {},
    "invalid_value",
    "invalid value for source: svn (expected fs or git)",
  ],
  [
    "whitespace path (env)",
    [],
    { GOSSIP_WORKER_PATH: "   " },
    "invalid_value",
    "invalid value for path:     (must not be empty)",
  ],
  [
    "bad bool",
    ["--mode=direct", "--scan-binary=maybe", "/repo"],
    {},
    "invalid_value",
    "invalid value for scan_binary: maybe (expected a boolean (true/false, yes/no, on/off, 1/0))",
  ],
  [
    "bad anchor mode",
    ["--mode=direct", "--anchor-mode=auto", "/repo"],
    {},
    "invalid_value",
    "invalid value for anchor_mode: auto (expected manual or derived)",
  ],
  [
    "negative decode depth",
    ["--mode=direct", "--decode-depth=-1", "/repo"],
    {},
    "invalid_value",
    "invalid value for decode_depth: -1 (invalid digit found in string)",
  ],
  [
    "non-numeric max items",
    ["--mode=direct", "--max-items=lots", "/repo"],
    {},
    "invalid_value",
    "invalid value for max_items: lots (invalid digit found in string)",
  ],
  [
    "non-numeric max bytes",
    ["--mode=direct", "--max-bytes=1k", "/repo"],
    {},
    "invalid_value",
    "invalid value for max_bytes: 1k (invalid digit found in string)",
  ],
  [
    "zero max items",
    ["--mode=direct", "--max-items=0", "/repo"],
    {},
    "invalid_value",
    "invalid value for max_items: 0 (must be > 0)",
  ],
  [
    "zero max bytes",
    ["--mode=direct", "--max-bytes=0", "/repo"],
    {},
    "invalid_value",
    "invalid value for max_bytes: 0 (must be > 0)",
  ],
  [
    "max items over ceiling",
    ["--mode=direct", "--max-items=10000001", "/repo"],
    {},
    "invalid_value",
    "invalid value for max_items: 10000001 (exceeds maximum of 10000000)",
  ],
  [
    "max bytes over ceiling",
    ["--mode=direct", "--max-bytes=68719476737", "/repo"],
    {},
    "invalid_value",
    "invalid value for max_bytes: 68719476737 (exceeds maximum of 68719476736)",
  ],
  [
    "direct rejects production",
    ["--mode=direct", "--backend=production", "/repo"],
    {},
    "unsupported_combination",
    "backend=production requires connector mode; direct mode cannot use real distributed backends",
  ],
  [
    "direct path missing",
    ["--mode=direct", "/nope"],
    {},
    "invalid_value",
    "invalid value for path: /nope (path does not exist)",
  ],
  [
    "connector rejects local",
    ["--backend=local", "/repo"],
    {},
    "unsupported_combination",
    "connector mode runs the distributed worker loop against the real production backends; switch to --mode=direct for local scans",
  ],
  [
    "default launch fails closed",
    ["/repo"],
    {},
    "missing_required_value",
    "missing required value for etcd_endpoints (set --etcd-endpoints=... or GOSSIP_ETCD_ENDPOINTS=...)",
  ],
  [
    "bad schema mode",
    ["/repo"],
    { ...PROD, GOSSIP_STARTUP_SCHEMA_MODE: "auto" },
    "invalid_value",
    "invalid value for startup_schema_mode: auto (expected validate or dev-auto-migrate)",
  ],
  [
    "zero run id",
    ["--run-id=0", "/repo"],
    PROD,
    "invalid_value",
    "invalid value for run_id: 0 (must be > 0 (0 is the unassigned sentinel))",
  ],
  [
    "overflowing run id",
    ["--run-id=18446744073709551616", "/repo"],
    PROD,
    "invalid_value",
    "invalid value for run_id: 18446744073709551616 (number too large to fit in target type)",
  ],
  [
    "negative worker id",
    ["--worker-id=-1", "/repo"],
    PROD,
    "invalid_value",
    "invalid value for worker_id: -1 (invalid digit found in string)",
  ],
  [
    "zero worker id",
    ["--worker-id=0", "/repo"],
    PROD,
    "invalid_value",
    "invalid value for worker_id: 0 (must be > 0 (0 is the unassigned sentinel))",
  ],
  [
    "short tenant id is redacted",
    ["--tenant-id=abc", "/repo"],
    PROD,
    "invalid_value",
    "invalid value for tenant_id: [redacted] (expected exactly 64 hex characters)",
  ],
  [
    "non-hex policy hash is redacted",
    ["--policy-hash=" + "zz".repeat(32), "/repo"],
    PROD,
    "invalid_value",
    "invalid value for policy_hash: [redacted] (contains a non-hex character)",
  ],
  [
    "all-zero secret key",
    ["/repo"],
    { ...PROD, GOSSIP_TENANT_SECRET_KEY: "00".repeat(32) },
    "invalid_value",
    "invalid value for tenant_secret_key: [redacted] (must not be all zeros)",
  ],
  [
    "endpoints only delimiters",
    ["/repo"],
    { ...PROD, GOSSIP_ETCD_ENDPOINTS: ",," },
    "invalid_etcd_config",
    "invalid etcd worker configuration: no etcd endpoints configured",
  ],
  [
    "endpoint without scheme",
    ["/repo"],
    { ...PROD, GOSSIP_ETCD_ENDPOINTS: "127.0.0.1:2379" },
    "invalid_etcd_config",
    "invalid etcd worker configuration: every endpoint must start with http:// or https://",
  ],
  [
    "namespace without leading slash",
    ["/repo"],
    { ...PROD, GOSSIP_ETCD_NAMESPACE: "gossip" },
    "invalid_etcd_config",
    "invalid etcd worker configuration: namespace must start with '/'",
  ],
  [
    "blank done-ledger dsn",
    ["/repo"],
    { ...PROD, GOSSIP_DONE_LEDGER_POSTGRES_DSN: "  " },
    "invalid_backend_config",
    "invalid production backend configuration: done-ledger PostgreSQL DSN must not be empty",
  ],
  [
    "blank findings dsn",
    ["/repo"],
    { ...PROD, GOSSIP_FINDINGS_POSTGRES_DSN: " " },
    "invalid_backend_config",
    "invalid production backend configuration: findings PostgreSQL DSN must not be empty",
  ],
  [
    "connector fs path missing",
    ["/nope"],
    PROD,
    "invalid_value",
    "invalid value for path: /nope (path does not exist)",
  ],
  [
    "git connector needs mirror root",
    ["git", "/repo"],
    PROD,
    "missing_required_value",
    "missing required value for mirror_root (set --mirror-root=... or GOSSIP_MIRROR_ROOT=...)",
  ],
  [
    "git connector mirror root missing",
    ["--mirror-root=/gone", "git", "/repo"],
    PROD,
    "invalid_value",
    "invalid value for mirror_root: /gone (path does not exist)",
  ],
  [
    "git connector mirror root is a file",
    ["--mirror-root=/file.txt", "git", "/repo"],
    PROD,
    "invalid_value",
    "invalid value for mirror_root: /file.txt (path exists but is not a directory)",
  ],
  [
    "blank git-kv dsn",
    ["--mirror-root=/mirrors", "git", "/repo"],
    { ...PROD, GOSSIP_GIT_KV_POSTGRES_DSN: " " },
    "invalid_backend_config",
    "invalid production backend configuration: git-kv PostgreSQL DSN must not be empty",
  ],
  [
    "queue over ceiling",
    ["--commit-queue-capacity=65537", "/repo"],
    PROD,
    "invalid_value",
    "invalid value for commit_queue_capacity: 65537 (exceeds maximum of 65536)",
  ],
  [
    "zero queue",
    ["--commit-queue-capacity=0", "/repo"],
    PROD,
    "invalid_value",
    "invalid value for commit_queue_capacity: 0 (must be > 0)",
  ],
  [
    "bad output format",
    ["--mode=direct", "--format=xml", "/repo"],
    {},
    "invalid_value",
    "invalid value for format: xml (expected human, json or sarif)",
  ],
];

for (const [name, args, env, code, message] of ERROR_TABLE) {
  Deno.test(`config error: ${name}`, () => {
    const error = errorOf(args, env);
    assert.deepEqual([error.code, error.message], [code, message]);
  });
}

Deno.test("production fields are required in the reference's order", () => {
  const order = [
    ["GOSSIP_ETCD_ENDPOINTS", "etcd_endpoints"],
    ["GOSSIP_ETCD_NAMESPACE", "etcd_namespace"],
    ["GOSSIP_DONE_LEDGER_POSTGRES_DSN", "done_ledger_postgres_dsn"],
    ["GOSSIP_FINDINGS_POSTGRES_DSN", "findings_postgres_dsn"],
    ["GOSSIP_TENANT_ID", "tenant_id"],
    ["GOSSIP_RUN_ID", "run_id"],
    ["GOSSIP_WORKER_ID", "worker_id"],
    ["GOSSIP_POLICY_HASH", "policy_hash"],
    ["GOSSIP_TENANT_SECRET_KEY", "tenant_secret_key"],
  ];
  for (let i = 0; i < order.length; i++) {
    const env: Record<string, string> = {};
    for (const [key] of order.slice(0, i)) env[key] = PROD[key];
    const error = errorOf(["/repo"], env);
    assert.deepEqual(error.code, "missing_required_value");
    assert.deepEqual(error.details.field, order[i][1]);
  }
});

Deno.test("first error: scanner options are parsed before the mode's checks", () => {
  // A bad anchor mode is reported before the missing production fields.
  assert.deepEqual(
    errorOf(["--anchor-mode=x", "/repo"]).details.field,
    "anchor_mode",
  );
  // A bad max-items is reported before direct mode's path check.
  assert.deepEqual(
    errorOf(["--mode=direct", "--max-items=x", "/nope"]).details.field,
    "max_items",
  );
  // Usage errors come before everything.
  assert.deepEqual(errorOf(["--mode=bad", "--x"]).code, "usage");
  // The path exists check precedes the budget range checks in direct mode.
  assert.deepEqual(
    errorOf(["--mode=direct", "--max-items=0", "/nope"]).details.field,
    "path",
  );
});

Deno.test("cli value replaces an invalid env value for the same field", () => {
  const config = dist(resolve(["--run-id=5", "/repo"], {
    ...PROD,
    GOSSIP_RUN_ID: "not-a-number",
  }));
  assert.ok(config.kind === "distributed");
  assert.deepEqual(config.identity.runId, 5n);
});

Deno.test("an invalid env value for a field the cli does not override still fails", () => {
  const error = errorOf(["--run-id=5", "/repo"], {
    ...PROD,
    GOSSIP_WORKER_ID: "x",
  });
  assert.deepEqual(error.details.field, "worker_id");
});

Deno.test("skip_archives is parsed only for fs sources", () => {
  const env = { GOSSIP_FS_SKIP_ARCHIVES: "maybe" };
  assert.deepEqual(
    resolve(["--mode=direct", "git", "/repo"], env).kind,
    "local",
  );
  assert.deepEqual(
    errorOf(["--mode=direct", "fs", "/repo"], env).details.field,
    "skip_archives",
  );
});

Deno.test("direct mode defaults: local, fs, budgets, manual anchors", () => {
  const warnings: string[] = [];
  const config = resolve(["--mode=direct", "/repo"], {}, warnings);
  assert.ok(config.kind === "local");
  assert.deepEqual(config.source, "fs");
  assert.deepEqual(config.budgets, { maxItems: 4096, maxBytes: 67_108_864 });
  assert.deepEqual(config.scan.anchorMode, "manual");
  assert.deepEqual(config.scan.decodeDepth, null);
  assert.deepEqual(warnings, []);
});

Deno.test("no path: warns and defaults to the current directory", () => {
  const warnings: string[] = [];
  const config = resolveScanConfig(["--mode=direct"], {
    env: () => undefined,
    statPath: () => "directory",
    cwd: "/home/u",
    onWarning: (m) => warnings.push(m),
  });
  assert.deepEqual(config.path, "/home/u");
  assert.deepEqual(warnings, [
    "no scan path configured; defaulting to current directory",
  ]);
});

Deno.test("relative paths resolve against the given cwd", () => {
  const config = resolveScanConfig(["--mode=direct", "git", "sub/repo"], {
    env: () => undefined,
    statPath: (p) => (p === "/srv/sub/repo" ? "directory" : "missing"),
    cwd: "/srv",
  });
  assert.deepEqual(config.path, "/srv/sub/repo");
});

Deno.test("single positional git selects the source, not the path", () => {
  const config = resolveScanConfig(["--mode=direct", "git"], {
    env: () => undefined,
    statPath: () => "directory",
  });
  assert.deepEqual([config.source, config.path], ["git", "."]);
});

Deno.test("flag value keeps everything after the first '='", () => {
  const config = dist(resolve([
    "--done-ledger-postgres-dsn=postgres://u:a=b@localhost/db?x=1",
    "/repo",
  ], PROD));
  assert.ok(config.kind === "distributed");
  assert.deepEqual(
    config.backends.doneLedgerDsn.reveal(),
    "postgres://u:a=b@localhost/db?x=1",
  );
});

Deno.test("connector: full production config from env alone", () => {
  const config = dist(resolve(["/repo"], PROD));
  assert.ok(config.kind === "distributed");
  assert.deepEqual(config.backend, "production");
  assert.deepEqual(config.schemaMode, "validate");
  assert.deepEqual(config.commitQueueCapacity, 64);
  assert.deepEqual(config.etcd.endpoints, ["http://127.0.0.1:2379"]);
  assert.deepEqual(config.identity.runId, 7n);
  assert.ok(
    config.identity.tenantSecretKey.equals(config.identity.tenantSecretKey),
  );
});

Deno.test("connector: schema mode tokens and cli override", () => {
  for (
    const token of [
      "DEV-AUTO-MIGRATE",
      "dev_auto_migrate",
      " dev-auto-migrate ",
    ]
  ) {
    const c = dist(resolve(["/repo"], {
      ...PROD,
      GOSSIP_STARTUP_SCHEMA_MODE: token,
    }));
    assert.ok(c.kind === "distributed" && c.schemaMode === "dev-auto-migrate");
  }
  const c = dist(resolve(["--startup-schema-mode=validate", "/repo"], {
    ...PROD,
    GOSSIP_STARTUP_SCHEMA_MODE: "dev-auto-migrate",
  }));
  assert.ok(c.kind === "distributed" && c.schemaMode === "validate");
});

Deno.test("connector: git with mirror root and git-kv resolves", () => {
  const c = dist(resolve(["--mirror-root=/mirrors", "git", "/not-checked"], {
    ...PROD,
    GOSSIP_GIT_KV_POSTGRES_DSN: "postgres://u:p@localhost/kv",
  }));
  assert.ok(c.kind === "distributed");
  assert.deepEqual([c.source, c.mirrorRoot], ["git", "/mirrors"]);
});

Deno.test("ids: u64 max, whitespace and plus accepted", () => {
  const c = dist(resolve([
    "--run-id=18446744073709551615",
    "--worker-id= +12 ",
    "/repo",
  ], PROD));
  assert.ok(c.kind === "distributed");
  assert.deepEqual([c.identity.runId, c.identity.workerId], [
    18446744073709551615n,
    12n,
  ]);
});

Deno.test("ceilings are accepted", () => {
  const c = dist(resolve([
    "--max-items=10000000",
    "--max-bytes=68719476736",
    "--commit-queue-capacity=65536",
    "/repo",
  ], PROD));
  assert.ok(c.kind === "distributed");
  assert.deepEqual(c.budgets, {
    maxItems: 10_000_000,
    maxBytes: 68_719_476_736,
  });
});

Deno.test("secrets given as flags warn about process-table exposure", () => {
  for (
    const flag of [
      "--tenant-secret-key=" + SECRET,
      "--done-ledger-postgres-dsn=postgres://x",
      "--findings-postgres-dsn=postgres://y",
      "--etcd-endpoints=http://127.0.0.1:2379",
    ]
  ) {
    const warnings: string[] = [];
    resolve([flag, "/repo"], PROD, warnings);
    assert.deepEqual(warnings.length, 1, flag);
    assert.ok(warnings[0].includes("process-table exposure"));
    assert.ok(
      !warnings[0].includes(SECRET) && !warnings[0].includes("postgres://"),
    );
  }
});

Deno.test("secrets are redacted in every string form", () => {
  const c = dist(resolve(["/repo"], PROD));
  assert.ok(c.kind === "distributed");
  const forms = [
    JSON.stringify(c, (_k, v) => typeof v === "bigint" ? v.toString() : v),
    Deno.inspect(c, { depth: 10 }),
    String(c.backends.doneLedgerDsn),
    `${c.identity.tenantSecretKey}`,
  ];
  for (const text of forms) {
    assert.ok(!text.includes("pw-done") && !text.includes("pw-find"), text);
    assert.ok(!text.includes(SECRET), text);
  }
  assert.ok(forms[0].includes("[redacted]"));
});

Deno.test("invalid UTF-8 in a variable is reported by name", () => {
  const error = errorFrom(() =>
    resolveScanConfig(["--mode=direct", "/repo"], {
      env: (
        k,
      ) => (k === "GOSSIP_WORKER_MODE" ? new Uint8Array([0xff]) : undefined),
      statPath: () => "directory",
    })
  );
  assert.deepEqual(
    error.message,
    "environment variable GOSSIP_WORKER_MODE is set but contains invalid UTF-8",
  );
});

Deno.test("bool tokens", () => {
  for (const t of ["1", "true", "yes", "on", " True ", " ON "]) {
    assert.deepEqual(parseBool("f", t), true);
  }
  for (const t of ["0", "false", "no", "off", "OFF"]) {
    assert.deepEqual(parseBool("f", t), false);
  }
  for (const t of ["2", "maybe", ""]) assert.throws(() => parseBool("f", t));
});

Deno.test("hex32 parsing", () => {
  assert.deepEqual(parseHex32("x", HEX_A)[0], 0xaa);
  assert.deepEqual(parseHex32("x", "0X" + HEX_A.toUpperCase())[31], 0xaa);
  assert.throws(() => parseHex32("x", "aa".repeat(31)));
  assert.throws(() => parseHex32("x", "g" + "a".repeat(63)));
});
