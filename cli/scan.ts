/**
 * The `scan` command: a secret scan of a directory (`fs`) or of every blob
 * of a git repository (`git`), configured by the gossip-worker surface
 * (`GOSSIP_*` variables and `--name=value` flags; see `SCAN_USAGE`).
 *
 * `--mode=direct` scans locally with the embedded SQLite done-ledger under
 * `--state-dir`; `--mode=connector` (the default, as in the reference) is
 * validated here and handed to the {@link ConnectorRunner} given to
 * {@link runScan} (the distributed runtime).
 *
 * Exit status: 0 on success (findings or not), 1 on a run-time failure
 * (`worker scan failed`), 2 on a configuration error (`invalid worker
 * configuration`). `--help` prints the usage and exits 0.
 *
 * @module
 */

import {
  type DistributedScanConfig,
  type LocalScanConfig,
  type PathKind,
  resolveScanConfig,
  SCAN_USAGE,
} from "../lib/ledger/config.ts";
import { defaultRuleSet } from "../lib/ledger/default_rules.ts";
import { LedgerError } from "../lib/ledger/errors.ts";
import {
  CoordinationRecorder,
  createLogSink,
  type TelemetryLog,
} from "../lib/ledger/recorder.ts";
import { formatHuman, formatJson, formatSarif } from "../lib/ledger/report.ts";
import { parseRulesToml, type RuleSet } from "../lib/ledger/rules.ts";
import { openSqliteLedger } from "../lib/ledger/runtime/sqlite_store.ts";
import { runLocalScan } from "../lib/ledger/runtime/scan_runner.ts";
import { runConnectorCommand } from "../lib/ledger/runtime/connector.ts";
import type { LedgerBackend } from "../lib/ledger/store.ts";
import {
  createLogger,
  LOG_LEVELS,
  type Logger,
  type LogLevel,
} from "../lib/net/log.ts";

/** Exit status: success. */
export const EXIT_OK = 0;
/** Exit status: a run-time failure. */
export const EXIT_RUNTIME_FAILURE = 1;
/** Exit status: a configuration error. */
export const EXIT_CONFIG_ERROR = 2;

/** The I/O of {@link runScan} (injected for tests). */
export interface ScanIo {
  /** Reads an environment variable. */
  env(key: string): string | undefined;
  /** Writes to stdout. */
  stdout(text: string): void;
  /** Writes to stderr. */
  stderr(text: string): void;
}

/**
 * Runs a validated connector launch; returns the exit status. The
 * distributed runtime supplies it.
 */
export type ConnectorRunner = (
  config: DistributedScanConfig,
  io: ScanIo,
  log: Logger,
) => Promise<number>;

/** Options of {@link runScan}. */
export interface RunScanOptions {
  /** The connector-mode runtime (absent: connector launches fail with exit 1 after validation). */
  connector?: ConnectorRunner;
}

const encoder = new TextEncoder();

/** The process's real I/O. */
export const PROCESS_IO: ScanIo = {
  env: (key) => {
    try {
      return Deno.env.get(key);
    } catch {
      return undefined;
    }
  },
  stdout: (text) => {
    const data = encoder.encode(text);
    let at = 0;
    while (at < data.length) at += Deno.stdout.writeSync(data.subarray(at));
  },
  stderr: (text) => {
    try {
      Deno.stderr.writeSync(encoder.encode(text));
    } catch {
      // Nothing to do.
    }
  },
};

function statPath(path: string): PathKind {
  try {
    const info = Deno.statSync(path);
    return info.isDirectory ? "directory" : info.isFile ? "file" : "other";
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return "missing";
    return "other";
  }
}

function logLevel(io: ScanIo): LogLevel {
  const value = io.env("LOOM_LOG")?.trim().toLowerCase();
  return value !== undefined &&
      (LOG_LEVELS as readonly string[]).includes(value)
    ? value as LogLevel
    : "info";
}

/**
 * The default state directory: `$XDG_CACHE_HOME/loom/scan`, else
 * `~/Library/Caches/loom/scan` on macOS, else `~/.cache/loom/scan`.
 *
 * @param io The environment.
 * @returns The directory, or null when no home is known.
 *
 * @example
 * ```ts ignore
 * import { defaultStateDir, PROCESS_IO } from "./scan.ts";
 * console.log(defaultStateDir(PROCESS_IO));
 * ```
 */
export function defaultStateDir(io: ScanIo): string | null {
  const xdg = io.env("XDG_CACHE_HOME");
  if (xdg !== undefined && xdg.startsWith("/")) return `${xdg}/loom/scan`;
  const home = io.env("HOME");
  if (home === undefined || home === "") return null;
  return Deno.build.os === "darwin"
    ? `${home}/Library/Caches/loom/scan`
    : `${home}/.cache/loom/scan`;
}

async function loadSecretKey(dir: string): Promise<Uint8Array> {
  const path = `${dir}/secret_hash.key`;
  try {
    const key = await Deno.readFile(path);
    if (key.length !== 32) {
      throw new LedgerError(
        "store_failed",
        `${path} is not a 32-byte key; remove it to start a new ledger`,
      );
    }
    return key;
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  }
  const key = crypto.getRandomValues(new Uint8Array(32));
  await Deno.writeFile(path, key, { mode: 0o600, createNew: true });
  return key;
}

async function loadRules(
  config: LocalScanConfig | DistributedScanConfig,
): Promise<RuleSet> {
  const file = config.scan.rulesFile;
  if (file === null) return defaultRuleSet();
  let text: string;
  try {
    text = await Deno.readTextFile(file);
  } catch (error) {
    throw new LedgerError(
      "invalid_value",
      `invalid value for rules_file: ${file} (${
        error instanceof Deno.errors.NotFound
          ? "path does not exist"
          : (error as Error).name
      })`,
    );
  }
  return parseRulesToml(file, text);
}

const CONFIG_CODES = new Set([
  "usage",
  "missing_required_value",
  "invalid_value",
  "invalid_etcd_config",
  "invalid_backend_config",
  "unsupported_combination",
  "invalid_rules",
  "limit_exceeded",
]);

function telemetryLog(log: Logger): TelemetryLog {
  return (level, message, fields) => {
    const at = level === "trace" ? "debug" : level;
    log[at](message, fields);
  };
}

/**
 * Runs the scan command.
 *
 * @param args The arguments after `scan`.
 * @param io Environment and output.
 * @param options The connector runtime.
 * @returns The exit status.
 *
 * @example
 * ```ts ignore
 * import { PROCESS_IO, runScan } from "./scan.ts";
 * Deno.exit(await runScan(["--mode=direct", "fs", "."], PROCESS_IO));
 * ```
 */
export async function runScan(
  args: readonly string[],
  io: ScanIo,
  options: RunScanOptions = {},
): Promise<number> {
  const log = createLogger({
    level: logLevel(io),
    component: "scan",
    write: (line) => io.stderr(line + "\n"),
  });
  if (args.includes("--help") || args.includes("-h")) {
    io.stdout(SCAN_USAGE + "\n");
    return EXIT_OK;
  }
  const configError = (error: LedgerError): number => {
    log.error("invalid worker configuration", { code: error.code });
    io.stderr(
      `scan: ${error.message}\n${
        error.code === "usage" ? `\n${SCAN_USAGE}\n` : ""
      }`,
    );
    return EXIT_CONFIG_ERROR;
  };
  const runtimeError = (
    stage: "startup" | "runtime",
    error: unknown,
  ): number => {
    const message = error instanceof Error ? error.message : String(error);
    const code = error instanceof LedgerError ? error.code : "scan_failed";
    log.error("worker scan failed", { code });
    io.stderr(`scan: scan failed: worker ${stage} failed: ${message}\n`);
    return EXIT_RUNTIME_FAILURE;
  };

  let config: LocalScanConfig | DistributedScanConfig;
  let rules: RuleSet;
  try {
    config = resolveScanConfig(args, {
      env: (key) => io.env(key),
      statPath,
      cwd: io.env("INIT_CWD") ?? Deno.cwd(),
      onWarning: (message) => log.warn(message),
    });
    rules = await loadRules(config);
  } catch (error) {
    if (error instanceof LedgerError && CONFIG_CODES.has(error.code)) {
      return configError(error);
    }
    return runtimeError("startup", error);
  }

  if (config.kind === "distributed") {
    if (options.connector === undefined) {
      return runtimeError(
        "startup",
        new LedgerError(
          "scan_failed",
          "connector mode is not available in this build; use --mode=direct for local scans",
        ),
      );
    }
    return await options.connector(config, io, log);
  }

  const recorder = new CoordinationRecorder(
    createLogSink(telemetryLog(log)),
    telemetryLog(log),
  );
  let ledger: LedgerBackend | null = null;
  let report;
  try {
    const dir = config.output.stateDir ?? defaultStateDir(io);
    if (dir === null) {
      throw new LedgerError(
        "store_failed",
        "no state directory: set --state-dir, XDG_CACHE_HOME or HOME",
      );
    }
    await Deno.mkdir(dir, { recursive: true, mode: 0o700 });
    const secretKey = await loadSecretKey(dir);
    const sqlite = await openSqliteLedger(`${dir}/ledger.sqlite3`);
    ledger = sqlite;
    report = await runLocalScan(config, {
      rules,
      ledger,
      secretKey,
      recorder,
      fileVersionCache: sqlite.fileVersionCache,
      gitListingCache: sqlite.gitListingCache,
      exclude: [dir],
    });
  } catch (error) {
    return runtimeError("runtime", error);
  } finally {
    await ledger?.close();
  }
  const out = config.output.format === "json"
    ? formatJson(report, config.output.reveal)
    : config.output.format === "sarif"
    ? formatSarif(report, rules, config.output.reveal)
    : formatHuman(report, config.output.reveal);
  io.stdout(out);
  log.info("scan completed", {
    items_scanned: report.summary.itemsScanned,
    bytes_scanned: report.summary.bytesScanned,
    findings_emitted: report.summary.findingsEmitted,
  });
  return EXIT_OK;
}

if (import.meta.main) {
  Deno.exit(
    await runScan(Deno.args, PROCESS_IO, { connector: runConnectorCommand }),
  );
}
