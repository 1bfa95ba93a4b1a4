/**
 * The scan worker's launch configuration, pure: every `GOSSIP_*` variable
 * and `--name=value` flag of the reference worker, resolved into one typed
 * launch path (`local` for `--mode=direct`, `distributed` for
 * `--mode=connector`). The environment and path checks are injected.
 *
 * Resolution order (it decides which error is reported first):
 * 1. read every variable; 2. apply the command line, whose values replace
 * the raw variables before any parsing (usage errors); 3. mode, backend,
 * source, path; 4. rules file, decode depth, scan binary, skip archives
 * (only for `fs`), anchor mode, max items, max bytes, then loom's output
 * flags; 5. warnings for secrets given on the command line; 6. the mode's
 * branch (see {@link resolveScanConfig}).
 *
 * @module
 */

import { LedgerError } from "./errors.ts";
import { SecretBytes, SecretText } from "./secret.ts";
import type { StartupSchemaMode } from "./migrations.ts";

/** Execution modes. */
export type ExecutionMode = "direct" | "connector";
/** Backend families. */
export type BackendSelection = "local" | "production";
/** Source families. */
export type SourceKind = "fs" | "git";
/** How rule anchors are chosen for the prefilter. */
export type AnchorMode = "manual" | "derived";
/** Output formats of the scan command. */
export type OutputFormat = "human" | "json" | "sarif";

/** The largest `max_items`. */
export const MAX_ITEMS_CEILING = 10_000_000;
/** The largest `max_bytes` (64 GiB). */
export const MAX_BYTES_CEILING = 68_719_476_736;
/** The largest `commit_queue_capacity`. */
export const COMMIT_QUEUE_CAPACITY_CEILING = 65_536;

/**
 * Budget defaults.
 *
 * @example
 * ```ts
 * import { DEFAULT_BUDGETS } from "./config.ts";
 * console.assert(DEFAULT_BUDGETS.maxBytes === 64 * 1024 * 1024);
 * ```
 */
export const DEFAULT_BUDGETS: ScanBudgets = Object.freeze({
  /** 4096 items. */
  maxItems: 4096,
  /** 64 MiB. */
  maxBytes: 67_108_864,
});

/** The default commit queue capacity of the distributed runtime. */
export const DEFAULT_COMMIT_QUEUE_CAPACITY = 64;

/** Scan budgets: the scan stops cleanly when one is reached. */
export interface ScanBudgets {
  /** Items (files, archive members, blobs), 1..10,000,000. */
  readonly maxItems: number;
  /** Bytes, 1..64 GiB. */
  readonly maxBytes: number;
}

/** Scanner settings shared by both launch paths. */
export interface ScanSettings {
  /** Rules file (gitleaks TOML), or null for the built-in rules. */
  readonly rulesFile: string | null;
  /** Decode depth for base64/hex/percent spans; null means the default (2). */
  readonly decodeDepth: number | null;
  /** Scan files that look binary. */
  readonly scanBinary: boolean;
  /** Do not look inside zip / tar / tar.gz archives (fs only). */
  readonly skipArchives: boolean;
  /** Prefilter anchors: rule keywords (`manual`) or literals derived from regexes. */
  readonly anchorMode: AnchorMode;
}

/** loom's output flags (not part of the reference surface). */
export interface OutputSettings {
  /** `--format`: `human` (default), `json` or `sarif`. */
  readonly format: OutputFormat;
  /** `--reveal`: print raw secrets (never in logs). */
  readonly reveal: boolean;
  /** `--state-dir`: where the done-ledger lives; null for the default. */
  readonly stateDir: string | null;
}

/** A resolved direct (local) launch. */
export interface LocalScanConfig {
  /** Discriminant. */
  readonly kind: "local";
  /** Always `direct`. */
  readonly mode: "direct";
  /** Source family. */
  readonly source: SourceKind;
  /** Path to scan (absolute when a `cwd` was given). */
  readonly path: string;
  /** Budgets. */
  readonly budgets: ScanBudgets;
  /** Scanner settings. */
  readonly scan: ScanSettings;
  /** Output settings. */
  readonly output: OutputSettings;
}

/** The etcd coordination settings. */
export interface EtcdSettings {
  /** Endpoints (`http://` or `https://`). */
  readonly endpoints: readonly string[];
  /** Key namespace prefix. */
  readonly namespace: string;
}

/** The PostgreSQL backends (DSNs redacted in every string form). */
export interface ProductionBackendSettings {
  /** Done-ledger DSN. */
  readonly doneLedgerDsn: SecretText;
  /** Findings DSN. */
  readonly findingsDsn: SecretText;
  /** Git key-value DSN (optional; checked non-empty when set). */
  readonly gitKvDsn: SecretText | null;
}

/** Worker identity. */
export interface WorkerIdentitySettings {
  /** 32 bytes. */
  readonly tenantId: Uint8Array;
  /** ≥ 1. */
  readonly runId: bigint;
  /** ≥ 1. */
  readonly workerId: bigint;
  /** 32 bytes. */
  readonly policyHash: Uint8Array;
  /** 32 bytes, not all zero. */
  readonly tenantSecretKey: SecretBytes;
}

/** A resolved connector (distributed) launch. */
export interface DistributedScanConfig {
  /** Discriminant. */
  readonly kind: "distributed";
  /** Always `connector`. */
  readonly mode: "connector";
  /** Always `production`. */
  readonly backend: "production";
  /** Source family. */
  readonly source: SourceKind;
  /** Path (fs: must exist; git: not checked). */
  readonly path: string;
  /** Git mirrors between lease cycles (git only). */
  readonly mirrorRoot: string | null;
  /** etcd. */
  readonly etcd: EtcdSettings;
  /** PostgreSQL. */
  readonly backends: ProductionBackendSettings;
  /** Startup schema policy. */
  readonly schemaMode: StartupSchemaMode;
  /** Identity. */
  readonly identity: WorkerIdentitySettings;
  /** Budgets. */
  readonly budgets: ScanBudgets;
  /** Commit queue capacity, 1..65,536. */
  readonly commitQueueCapacity: number;
  /** Scanner settings. */
  readonly scan: ScanSettings;
  /** Output settings. */
  readonly output: OutputSettings;
}

/** The result of {@link resolveScanConfig}. */
export type ResolvedScanConfig = LocalScanConfig | DistributedScanConfig;

/** What a path is, as the injected stat reports it. */
export type PathKind = "directory" | "file" | "other" | "missing";

/** Options for {@link resolveScanConfig}. */
export interface ResolveScanConfigOptions {
  /** Reads one variable: a string, raw bytes (checked for UTF-8), or undefined. */
  env: (key: string) => string | Uint8Array | undefined;
  /** What a path is. */
  statPath: (path: string) => PathKind;
  /** Base for relative paths (the user's directory); none keeps them as given. */
  cwd?: string;
  /** Receives warnings (never contain secrets). */
  onWarning?: (message: string) => void;
}

/** One configuration field: its name in errors, its variable and flag. */
export interface ConfigFieldSpec {
  /** The field's name in errors, e.g. `run_id`. */
  readonly field: string;
  /** Its variable, or null for loom's output flags. */
  readonly env: string | null;
  /** Its flag without the dashes, e.g. `run-id`. */
  readonly flag: string;
}

const F = (
  field: string,
  env: string | null,
  flag: string,
): ConfigFieldSpec => ({
  field,
  env,
  flag,
});

/**
 * Every configuration field: its name in errors, its variable and its flag.
 *
 * @example
 * ```ts
 * import { CONFIG_FIELDS } from "./config.ts";
 * console.assert(CONFIG_FIELDS.tenant_secret_key.env === "GOSSIP_TENANT_SECRET_KEY");
 * ```
 */
export const CONFIG_FIELDS: Readonly<Record<string, ConfigFieldSpec>> = {
  mode: F("mode", "GOSSIP_WORKER_MODE", "mode"),
  backend: F("backend", "GOSSIP_WORKER_BACKEND", "backend"),
  source: F("source", "GOSSIP_WORKER_SOURCE", "source"),
  path: F("path", "GOSSIP_WORKER_PATH", "path"),
  mirror_root: F("mirror_root", "GOSSIP_MIRROR_ROOT", "mirror-root"),
  etcd_endpoints: F(
    "etcd_endpoints",
    "GOSSIP_ETCD_ENDPOINTS",
    "etcd-endpoints",
  ),
  etcd_namespace: F(
    "etcd_namespace",
    "GOSSIP_ETCD_NAMESPACE",
    "etcd-namespace",
  ),
  done_ledger_postgres_dsn: F(
    "done_ledger_postgres_dsn",
    "GOSSIP_DONE_LEDGER_POSTGRES_DSN",
    "done-ledger-postgres-dsn",
  ),
  findings_postgres_dsn: F(
    "findings_postgres_dsn",
    "GOSSIP_FINDINGS_POSTGRES_DSN",
    "findings-postgres-dsn",
  ),
  git_kv_postgres_dsn: F(
    "git_kv_postgres_dsn",
    "GOSSIP_GIT_KV_POSTGRES_DSN",
    "git-kv-postgres-dsn",
  ),
  startup_schema_mode: F(
    "startup_schema_mode",
    "GOSSIP_STARTUP_SCHEMA_MODE",
    "startup-schema-mode",
  ),
  tenant_id: F("tenant_id", "GOSSIP_TENANT_ID", "tenant-id"),
  run_id: F("run_id", "GOSSIP_RUN_ID", "run-id"),
  worker_id: F("worker_id", "GOSSIP_WORKER_ID", "worker-id"),
  policy_hash: F("policy_hash", "GOSSIP_POLICY_HASH", "policy-hash"),
  tenant_secret_key: F(
    "tenant_secret_key",
    "GOSSIP_TENANT_SECRET_KEY",
    "tenant-secret-key",
  ),
  max_items: F("max_items", "GOSSIP_MAX_ITEMS", "max-items"),
  max_bytes: F("max_bytes", "GOSSIP_MAX_BYTES", "max-bytes"),
  commit_queue_capacity: F(
    "commit_queue_capacity",
    "GOSSIP_COMMIT_QUEUE_CAPACITY",
    "commit-queue-capacity",
  ),
  rules_file: F("rules_file", "GOSSIP_WORKER_RULES_FILE", "rules-file"),
  decode_depth: F("decode_depth", "GOSSIP_WORKER_DECODE_DEPTH", "decode-depth"),
  scan_binary: F("scan_binary", "GOSSIP_WORKER_SCAN_BINARY", "scan-binary"),
  skip_archives: F("skip_archives", "GOSSIP_FS_SKIP_ARCHIVES", "skip-archives"),
  anchor_mode: F("anchor_mode", "GOSSIP_WORKER_ANCHOR_MODE", "anchor-mode"),
  // loom's own output flags (no variable).
  format: F("format", null, "format"),
  reveal: F("reveal", null, "reveal"),
  state_dir: F("state_dir", null, "state-dir"),
};

/** Flags whose values are secrets: given on the command line they warn. */
const CLI_SECRET_FIELDS = [
  "tenant_secret_key",
  "done_ledger_postgres_dsn",
  "findings_postgres_dsn",
  "git_kv_postgres_dsn",
  "etcd_endpoints",
] as const;

/** Fields whose invalid values are shown as `[redacted]`. */
const REDACTED_FIELDS = new Set([
  "tenant_id",
  "policy_hash",
  "tenant_secret_key",
  "done_ledger_postgres_dsn",
  "findings_postgres_dsn",
  "git_kv_postgres_dsn",
]);

/**
 * The usage text (printed after a usage error and by `--help`).
 *
 * @example
 * ```ts
 * import { SCAN_USAGE } from "./config.ts";
 * console.assert(SCAN_USAGE.includes("--mode=direct|connector"));
 * ```
 */
export const SCAN_USAGE: string =
  `usage: scan [--mode=direct|connector] [--backend=local|production] [--name=value ...] [fs|git] [path]

Flags (each also read from its variable; a flag replaces the variable):
  --mode=direct|connector            GOSSIP_WORKER_MODE (default connector)
  --backend=local|production         GOSSIP_WORKER_BACKEND
  --source=fs|git                    GOSSIP_WORKER_SOURCE (default fs)
  --path=PATH                        GOSSIP_WORKER_PATH (default .)
  --rules-file=PATH                  GOSSIP_WORKER_RULES_FILE (gitleaks TOML; default: built-in rules)
  --decode-depth=N                   GOSSIP_WORKER_DECODE_DEPTH (default 2)
  --scan-binary=BOOL                 GOSSIP_WORKER_SCAN_BINARY (default false)
  --skip-archives=BOOL               GOSSIP_FS_SKIP_ARCHIVES (default false)
  --anchor-mode=manual|derived       GOSSIP_WORKER_ANCHOR_MODE (default manual)
  --max-items=N                      GOSSIP_MAX_ITEMS (1..10000000, default 4096)
  --max-bytes=N                      GOSSIP_MAX_BYTES (1..68719476736, default 67108864)
  --format=human|json|sarif          output format (default human)
  --reveal=BOOL                      print raw secrets in the output (default false)
  --state-dir=DIR                    done-ledger directory (default: the user's cache directory)
Connector mode (distributed; secrets belong in variables, not flags):
  --mirror-root --etcd-endpoints --etcd-namespace --done-ledger-postgres-dsn
  --findings-postgres-dsn --git-kv-postgres-dsn --startup-schema-mode=validate|dev-auto-migrate
  --tenant-id --run-id --worker-id --policy-hash --tenant-secret-key --commit-queue-capacity
Booleans: true/false, yes/no, on/off, 1/0.`;

function usageError(message: string): LedgerError {
  return new LedgerError("usage", message);
}

function shownValue(field: string, value: string): string {
  return REDACTED_FIELDS.has(field) ? "[redacted]" : value;
}

/**
 * `invalid value for {field}: {value} ({reason})`, secrets redacted.
 *
 * @param field The field name.
 * @param value The raw value.
 * @param reason Why it is invalid.
 * @returns The error (`invalid_value`).
 *
 * @example
 * ```ts
 * import { invalidValue } from "./config.ts";
 * console.assert(invalidValue("run_id", "x", "bad").message === "invalid value for run_id: x (bad)");
 * ```
 */
export function invalidValue(
  field: string,
  value: string,
  reason: string,
): LedgerError {
  return new LedgerError(
    "invalid_value",
    `invalid value for ${field}: ${shownValue(field, value)} (${reason})`,
    { details: { field, reason } },
  );
}

function missing(key: string): LedgerError {
  const spec = CONFIG_FIELDS[key];
  return new LedgerError(
    "missing_required_value",
    `missing required value for ${spec.field} (set --${spec.flag}=... or ${spec.env}=...)`,
    { details: { field: spec.field } },
  );
}

function unsupported(message: string): LedgerError {
  return new LedgerError("unsupported_combination", message);
}

const RUST_INVALID_DIGIT = "invalid digit found in string";
const RUST_EMPTY = "cannot parse integer from empty string";
const RUST_TOO_LARGE = "number too large to fit in target type";

/**
 * Parses an unsigned integer the way the reference does: trimmed, one
 * optional leading `+`, decimal digits, at most `bits` wide; the reasons are
 * the reference parser's.
 *
 * @param field The field name (for the error).
 * @param raw The raw value.
 * @param bits 64 for u64 / usize.
 * @returns The value.
 * @throws {LedgerError} `invalid_value`.
 *
 * @example
 * ```ts
 * import { parseUnsigned } from "./config.ts";
 * console.assert(parseUnsigned("run_id", " +42 ", 64) === 42n);
 * ```
 */
export function parseUnsigned(field: string, raw: string, bits = 64): bigint {
  const text = raw.trim();
  if (text === "") throw invalidValue(field, raw, RUST_EMPTY);
  const digits = text.startsWith("+") ? text.slice(1) : text;
  if (digits === "" || !/^[0-9]+$/.test(digits)) {
    throw invalidValue(field, raw, RUST_INVALID_DIGIT);
  }
  const value = BigInt(digits);
  if (value >= 1n << BigInt(bits)) {
    throw invalidValue(field, raw, RUST_TOO_LARGE);
  }
  return value;
}

const TRUE_TOKENS = new Set(["1", "true", "yes", "on"]);
const FALSE_TOKENS = new Set(["0", "false", "no", "off"]);

/**
 * Parses a boolean token (trimmed, case-insensitive): `1/true/yes/on`,
 * `0/false/no/off`.
 *
 * @param field The field name.
 * @param raw The raw value.
 * @returns The boolean.
 * @throws {LedgerError} `invalid_value`.
 *
 * @example
 * ```ts
 * import { parseBool } from "./config.ts";
 * console.assert(parseBool("scan_binary", " ON ") === true);
 * ```
 */
export function parseBool(field: string, raw: string): boolean {
  const token = raw.trim().toLowerCase();
  if (TRUE_TOKENS.has(token)) return true;
  if (FALSE_TOKENS.has(token)) return false;
  throw invalidValue(
    field,
    raw,
    "expected a boolean (true/false, yes/no, on/off, 1/0)",
  );
}

function parseToken<T extends string>(
  field: string,
  raw: string,
  tokens: Readonly<Record<string, T>>,
  expected: string,
): T {
  const value = tokens[raw.trim().toLowerCase()];
  if (value === undefined) throw invalidValue(field, raw, expected);
  return value;
}

/**
 * Parses 32 bytes of hex: trimmed, one optional `0x`/`0X`, exactly 64 hex
 * digits of either case. Tenant id, policy hash and secret key show their
 * value as `[redacted]` in errors.
 *
 * @param field The field name.
 * @param raw The raw value.
 * @returns 32 bytes.
 * @throws {LedgerError} `invalid_value`.
 *
 * @example
 * ```ts
 * import { parseHex32 } from "./config.ts";
 * console.assert(parseHex32("policy_hash", "0x" + "ab".repeat(32))[31] === 0xab);
 * ```
 */
export function parseHex32(field: string, raw: string): Uint8Array {
  let text = raw.trim();
  if (text.startsWith("0x") || text.startsWith("0X")) text = text.slice(2);
  if (text.length !== 64) {
    throw invalidValue(field, raw, "expected exactly 64 hex characters");
  }
  if (!/^[0-9a-fA-F]{64}$/.test(text)) {
    throw invalidValue(field, raw, "contains a non-hex character");
  }
  const out = new Uint8Array(32);
  for (let i = 0; i < 32; i++) {
    out[i] = parseInt(text.slice(2 * i, 2 * i + 2), 16);
  }
  return out;
}

function parseEtcdEndpoints(raw: string): string[] {
  const endpoints = raw.split(",").map((s) => s.trim()).filter((s) => s !== "");
  if (endpoints.length === 0) {
    throw new LedgerError(
      "invalid_etcd_config",
      "invalid etcd worker configuration: no etcd endpoints configured",
    );
  }
  for (const endpoint of endpoints) {
    if (!endpoint.startsWith("http://") && !endpoint.startsWith("https://")) {
      throw new LedgerError(
        "invalid_etcd_config",
        "invalid etcd worker configuration: every endpoint must start with http:// or https://",
      );
    }
  }
  return endpoints;
}

function parseEtcdNamespace(raw: string): string {
  const ns = raw.trim();
  const problem = !ns.startsWith("/")
    ? "must start with '/'"
    : ns !== "/" && ns.endsWith("/")
    ? "must not end with '/' unless it is exactly '/'"
    : ns.includes("//")
    ? "must not contain '//'"
    : null;
  if (problem !== null) {
    throw new LedgerError(
      "invalid_etcd_config",
      `invalid etcd worker configuration: namespace ${problem}`,
    );
  }
  return ns;
}

function dsn(raw: string, label: string): SecretText {
  const text = raw.trim();
  if (text === "") {
    throw new LedgerError(
      "invalid_backend_config",
      `invalid production backend configuration: ${label} PostgreSQL DSN must not be empty`,
    );
  }
  return new SecretText(text);
}

/**
 * Splits argv into flag values and positionals (the CLI rules): every
 * `--name=value` (the value is everything after the first `=`); an argument
 * starting `--` without `=` is `invalid flag '{arg}'`; an empty value is
 * `flag '--{name}' requires a non-empty value`; an unknown name is
 * `unknown flag '--{name}'`. Positionals: one (`fs`/`git` → source, else
 * path), two (source, path) or more (`too many positional arguments`).
 *
 * @param args The arguments.
 * @returns Raw values by field name (`source`/`path` from positionals too).
 * @throws {LedgerError} `usage`.
 *
 * @example
 * ```ts
 * import { applyCommandLine } from "./config.ts";
 * const raw = applyCommandLine(["--mode=direct", "git", "repo"]);
 * console.assert(raw.get("source") === "git" && raw.get("path") === "repo");
 * ```
 */
export function applyCommandLine(args: readonly string[]): Map<string, string> {
  const byFlag = new Map(
    Object.entries(CONFIG_FIELDS).map(([key, spec]) => [spec.flag, key]),
  );
  const values = new Map<string, string>();
  const positionals: string[] = [];
  for (const arg of args) {
    if (!arg.startsWith("--")) {
      positionals.push(arg);
      continue;
    }
    const eq = arg.indexOf("=");
    if (eq < 0) throw usageError(`invalid flag '${arg}'`);
    const name = arg.slice(2, eq);
    const value = arg.slice(eq + 1);
    const key = byFlag.get(name);
    if (key === undefined) throw usageError(`unknown flag '--${name}'`);
    if (value.trim() === "") {
      throw usageError(`flag '--${name}' requires a non-empty value`);
    }
    values.set(key, value);
  }
  if (positionals.length > 2) throw usageError("too many positional arguments");
  let sourcePos: string | undefined;
  let pathPos: string | undefined;
  if (positionals.length === 1) {
    const token = positionals[0].trim().toLowerCase();
    if (token === "fs" || token === "git") sourcePos = positionals[0];
    else pathPos = positionals[0];
  } else if (positionals.length === 2) {
    [sourcePos, pathPos] = positionals;
  }
  if (sourcePos !== undefined) {
    if (values.has("source")) {
      throw usageError(
        "source specified both as --source flag and as positional argument",
      );
    }
    values.set("source", sourcePos);
  }
  if (pathPos !== undefined) {
    if (values.has("path")) {
      throw usageError(
        "path specified both as --path flag and as positional argument",
      );
    }
    values.set("path", pathPos);
  }
  return values;
}

function joinPath(cwd: string | undefined, path: string): string {
  if (cwd === undefined || path.startsWith("/")) return path;
  if (path === ".") return cwd;
  return `${cwd.replace(/\/+$/, "")}/${path.replace(/^\.\//, "")}`;
}

const utf8Fatal = new TextDecoder("utf-8", { fatal: true });

/**
 * Resolves the environment plus the command line into one typed launch.
 *
 * Direct mode: `backend=production` is an unsupported combination; the path
 * must exist; then the budgets are checked (zero, ceilings). Connector mode:
 * `backend=local` is unsupported; the production fields are required in
 * the order etcd endpoints, etcd namespace, done-ledger DSN, findings DSN,
 * (startup schema mode), tenant id, run id, worker id, policy hash, tenant
 * secret key; then the etcd settings, the DSNs, the source (fs: the path
 * exists; git: the mirror root is an existing directory), the commit queue
 * capacity, the identity (secret key not all
 * zeros) and the budgets.
 *
 * @param args The command-line arguments after the subcommand.
 * @param options Injected environment, stat, cwd and warning sink.
 * @returns The resolved launch.
 * @throws {LedgerError} With a configuration code (exit 2).
 *
 * @example
 * ```ts
 * import { resolveScanConfig } from "./config.ts";
 * const config = resolveScanConfig(["--mode=direct", "fs", "/src"], {
 *   env: () => undefined,
 *   statPath: () => "directory",
 * });
 * console.assert(config.kind === "local" && config.path === "/src");
 * ```
 */
export function resolveScanConfig(
  args: readonly string[],
  options: ResolveScanConfigOptions,
): ResolvedScanConfig {
  const warn = options.onWarning ?? (() => {});
  // 1. Read every variable.
  const raw = new Map<string, string>();
  for (const [key, spec] of Object.entries(CONFIG_FIELDS)) {
    if (spec.env === null) continue;
    const value = options.env(spec.env);
    if (value === undefined) continue;
    if (typeof value === "string") {
      raw.set(key, value);
      continue;
    }
    try {
      raw.set(key, utf8Fatal.decode(value));
    } catch {
      throw new LedgerError(
        "invalid_value",
        `environment variable ${spec.env} is set but contains invalid UTF-8`,
        { details: { field: spec.field } },
      );
    }
  }
  // 2. The command line replaces raw values.
  const cli = applyCommandLine(args);
  for (const [key, value] of cli) raw.set(key, value);
  const get = (key: string): string | undefined => raw.get(key);

  // 3. Mode, backend, source, path.
  const modeRaw = get("mode");
  const mode: ExecutionMode = modeRaw === undefined
    ? "connector"
    : parseToken<ExecutionMode>("mode", modeRaw, {
      direct: "direct",
      connector: "connector",
    }, "expected direct or connector");
  const backendRaw = get("backend");
  const backend: BackendSelection | null = backendRaw === undefined
    ? null
    : parseToken<BackendSelection>("backend", backendRaw, {
      local: "local",
      production: "production",
    }, "expected local or production");
  const sourceRaw = get("source");
  const source: SourceKind = sourceRaw === undefined ? "fs" : parseToken(
    "source",
    sourceRaw,
    { fs: "fs", git: "git" },
    "expected fs or git",
  );
  const pathRaw = get("path");
  let path: string;
  if (pathRaw === undefined) {
    warn("no scan path configured; defaulting to current directory");
    path = ".";
  } else {
    path = pathRaw.trim();
    if (path === "") throw invalidValue("path", pathRaw, "must not be empty");
  }
  path = joinPath(options.cwd, path);

  // 4. Scanner settings and budgets (every mode).
  const rulesRaw = get("rules_file");
  let rulesFile: string | null = null;
  if (rulesRaw !== undefined) {
    if (rulesRaw.trim() === "") {
      throw invalidValue("rules_file", rulesRaw, "must not be empty");
    }
    rulesFile = joinPath(options.cwd, rulesRaw.trim());
  }
  const depthRaw = get("decode_depth");
  const decodeDepth = depthRaw === undefined
    ? null
    : Number(parseUnsigned("decode_depth", depthRaw));
  const binaryRaw = get("scan_binary");
  const scanBinary = binaryRaw === undefined
    ? false
    : parseBool("scan_binary", binaryRaw);
  const archivesRaw = source === "fs" ? get("skip_archives") : undefined;
  const skipArchives = archivesRaw === undefined
    ? false
    : parseBool("skip_archives", archivesRaw);
  const anchorRaw = get("anchor_mode");
  const anchorMode: AnchorMode = anchorRaw === undefined
    ? "manual"
    : parseToken("anchor_mode", anchorRaw, {
      manual: "manual",
      derived: "derived",
    }, "expected manual or derived");
  const itemsRaw = get("max_items");
  const maxItems = itemsRaw === undefined
    ? BigInt(DEFAULT_BUDGETS.maxItems)
    : parseUnsigned("max_items", itemsRaw);
  const bytesRaw = get("max_bytes");
  const maxBytes = bytesRaw === undefined
    ? BigInt(DEFAULT_BUDGETS.maxBytes)
    : parseUnsigned("max_bytes", bytesRaw);
  const formatRaw = get("format");
  const format: OutputFormat = formatRaw === undefined
    ? "human"
    : parseToken("format", formatRaw, {
      human: "human",
      json: "json",
      sarif: "sarif",
    }, "expected human, json or sarif");
  const revealRaw = get("reveal");
  const reveal = revealRaw === undefined
    ? false
    : parseBool("reveal", revealRaw);
  const stateRaw = get("state_dir");
  const stateDir = stateRaw === undefined
    ? null
    : joinPath(options.cwd, stateRaw.trim());
  const scan: ScanSettings = {
    rulesFile,
    decodeDepth,
    scanBinary,
    skipArchives,
    anchorMode,
  };
  const output: OutputSettings = { format, reveal, stateDir };

  // 5. Secrets on the command line.
  for (const key of CLI_SECRET_FIELDS) {
    if (cli.has(key)) {
      const spec = CONFIG_FIELDS[key];
      warn(
        `--${spec.flag} was given on the command line, where other local users can read it (process-table exposure); set ${spec.env} instead`,
      );
    }
  }

  const checkBudgets = (): ScanBudgets => {
    if (maxItems === 0n) {
      throw invalidValue("max_items", itemsRaw ?? "0", "must be > 0");
    }
    if (maxItems > BigInt(MAX_ITEMS_CEILING)) {
      throw invalidValue(
        "max_items",
        itemsRaw ?? "",
        `exceeds maximum of ${MAX_ITEMS_CEILING}`,
      );
    }
    if (maxBytes === 0n) {
      throw invalidValue("max_bytes", bytesRaw ?? "0", "must be > 0");
    }
    if (maxBytes > BigInt(MAX_BYTES_CEILING)) {
      throw invalidValue(
        "max_bytes",
        bytesRaw ?? "",
        `exceeds maximum of ${MAX_BYTES_CEILING}`,
      );
    }
    return { maxItems: Number(maxItems), maxBytes: Number(maxBytes) };
  };
  const checkExists = (field: string, p: string, shown: string): void => {
    if (options.statPath(p) === "missing") {
      throw invalidValue(field, shown, "path does not exist");
    }
  };

  // 6. Branch on mode.
  if (mode === "direct") {
    if (backend === "production") {
      throw unsupported(
        "backend=production requires connector mode; direct mode cannot use real distributed backends",
      );
    }
    checkExists("path", path, pathRaw?.trim() ?? ".");
    const budgets = checkBudgets();
    return {
      kind: "local",
      mode: "direct",
      source,
      path,
      budgets,
      scan,
      output,
    };
  }

  if (backend === "local") {
    throw unsupported(
      "connector mode runs the distributed worker loop against the real production backends; switch to --mode=direct for local scans",
    );
  }
  const required = (key: string): string => {
    const value = get(key);
    if (value === undefined) throw missing(key);
    return value;
  };
  const endpointsRaw = required("etcd_endpoints");
  const namespaceRaw = required("etcd_namespace");
  const doneRaw = required("done_ledger_postgres_dsn");
  const findingsRaw = required("findings_postgres_dsn");
  const schemaRaw = get("startup_schema_mode");
  const schemaMode: StartupSchemaMode = schemaRaw === undefined
    ? "validate"
    : parseToken("startup_schema_mode", schemaRaw, {
      "validate": "validate",
      "dev-auto-migrate": "dev-auto-migrate",
      "dev_auto_migrate": "dev-auto-migrate",
    }, "expected validate or dev-auto-migrate");
  const tenantId = parseHex32("tenant_id", required("tenant_id"));
  const runId = parseId("run_id", required("run_id"));
  const workerId = parseId("worker_id", required("worker_id"));
  const policyHash = parseHex32("policy_hash", required("policy_hash"));
  const secretRaw = required("tenant_secret_key");
  const tenantSecretKey = new SecretBytes(
    parseHex32("tenant_secret_key", secretRaw),
  );
  const etcd: EtcdSettings = {
    endpoints: parseEtcdEndpoints(endpointsRaw),
    namespace: parseEtcdNamespace(namespaceRaw),
  };
  const doneLedgerDsn = dsn(doneRaw, "done-ledger");
  const findingsDsn = dsn(findingsRaw, "findings");
  const gitKvRaw = get("git_kv_postgres_dsn");
  const gitKvDsn = gitKvRaw === undefined ? null : dsn(gitKvRaw, "git-kv");
  let mirrorRoot: string | null = null;
  if (source === "fs") {
    checkExists("path", path, pathRaw?.trim() ?? ".");
  } else {
    const mirrorRaw = required("mirror_root");
    const mirror = mirrorRaw.trim();
    if (mirror === "") {
      throw invalidValue("mirror_root", mirrorRaw, "must not be empty");
    }
    mirrorRoot = joinPath(options.cwd, mirror);
    const kind = options.statPath(mirrorRoot);
    if (kind === "missing") {
      throw invalidValue("mirror_root", mirror, "path does not exist");
    }
    if (kind !== "directory") {
      throw invalidValue(
        "mirror_root",
        mirror,
        "path exists but is not a directory",
      );
    }
  }
  const queueRaw = get("commit_queue_capacity");
  const queue = queueRaw === undefined
    ? BigInt(DEFAULT_COMMIT_QUEUE_CAPACITY)
    : parseUnsigned("commit_queue_capacity", queueRaw);
  if (queue === 0n) {
    throw invalidValue("commit_queue_capacity", queueRaw ?? "0", "must be > 0");
  }
  if (tenantSecretKey.isAllZero()) {
    throw invalidValue("tenant_secret_key", secretRaw, "must not be all zeros");
  }
  const budgets = checkBudgets();
  if (queue > BigInt(COMMIT_QUEUE_CAPACITY_CEILING)) {
    throw invalidValue(
      "commit_queue_capacity",
      queueRaw ?? "",
      `exceeds maximum of ${COMMIT_QUEUE_CAPACITY_CEILING}`,
    );
  }
  return {
    kind: "distributed",
    mode: "connector",
    backend: "production",
    source,
    path,
    mirrorRoot,
    etcd,
    backends: { doneLedgerDsn, findingsDsn, gitKvDsn },
    schemaMode,
    identity: { tenantId, runId, workerId, policyHash, tenantSecretKey },
    budgets,
    commitQueueCapacity: Number(queue),
    scan,
    output,
  };
}

function parseId(field: string, raw: string): bigint {
  const value = parseUnsigned(field, raw);
  if (value === 0n) {
    throw invalidValue(
      field,
      raw,
      "must be > 0 (0 is the unassigned sentinel)",
    );
  }
  return value;
}
