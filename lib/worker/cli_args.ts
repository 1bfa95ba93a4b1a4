/**
 * Command-line parsing for the `worker` subcommand, pure: file reads,
 * environment lookups and permission checks are injected.
 *
 * Flags, semantics, validation order and error texts follow the reference
 * worker (missing values, unknown arguments, required flags in the order
 * connect, shard id, cache dir; exclusive token sources; TLS flag pairing;
 * then the address). Deliberate additions:
 * - `--flag=value` as well as `--flag value`; `--help`; `--linger`;
 * - host names in `tcp:`/`tcp+tls:` addresses (the reference takes IP
 *   literals only);
 * - a token over plaintext `tcp:` needs `--allow-insecure` (as in the
 *   reference), and `tcp+tls:` without `--tls-ca-cert` fails at parse time
 *   instead of after connecting;
 * - an empty `--auth-token` is refused like an empty file or variable;
 * - token and private-key files readable by group or others are refused;
 * - `--tls-domain` is validated at parse time.
 *
 * @module
 */

/** 64 MiB: the default and the largest `--max-rpc-bytes`. */
export const MAX_RPC_BYTES = 64 * 1024 * 1024;

/** The TLS server name used when `--tls-domain` is absent. */
export const DEFAULT_TLS_DOMAIN = "localhost";

/** Where the auth token came from (never the token itself). */
export type AuthTokenSource = "none" | "argv" | "file" | "env";

/** The validated worker configuration. */
export interface WorkerArgs {
  /** The router address as given (`unix:`, `tcp:` or `tcp+tls:`). */
  connect: string;
  /** The address's transport. */
  transport: "unix" | "tcp" | "tcp+tls";
  /** `--shard-id`. */
  shardId: number;
  /** `--cache-dir`. */
  cacheDir: string;
  /** `--max-rpc-bytes`, clamped to [1, 64 MiB]. */
  maxRpcBytes: number;
  /** The resolved token (trimmed for file/env sources); never log it. */
  authToken: string | null;
  /** Where the token came from. */
  authTokenSource: AuthTokenSource;
  /** `--allow-insecure`. */
  allowInsecure: boolean;
  /** `--tls-ca-cert`. */
  tlsCaCert: string | null;
  /** `--tls-domain`, default `localhost`. */
  tlsDomain: string;
  /** `--tls-client-cert`. */
  tlsClientCert: string | null;
  /** `--tls-client-key`. */
  tlsClientKey: string | null;
  /** `--linger`: keep running after the router connection is lost. */
  linger: boolean;
  /**
   * `--read-reference-cache`: also load a cache in the reference's layout,
   * which has no integrity digest.
   */
  readReferenceCache: boolean;
  /**
   * `--connect-retries`: how many times to retry connecting when the router
   * closes the connection before the handshake ends (refused for
   * capacity), with exponential backoff. Default 8 for `tcp:` and
   * `tcp+tls:`, 0 for `unix:`. A `Reject` is never retried.
   */
  connectRetries: number;
  /** Non-fatal remarks to log at startup (never contain secrets). */
  warnings: string[];
}

/** The outcome of {@link parseWorkerArgs}. */
export type ParsedWorkerArgs =
  | { help: true }
  | { help: false; args: WorkerArgs };

/** Injected side effects for {@link parseWorkerArgs}. */
export interface ParseWorkerArgsOptions {
  /** Reads a whole text file; throws on error. */
  readTextFile?: (path: string) => string;
  /** Reads an environment variable. */
  getEnv?: (name: string) => string | undefined;
  /**
   * Permission bits of a file (e.g. `0o600`), or null when the platform
   * has none; throws when the file cannot be stat'ed.
   */
  fileMode?: (path: string) => number | null;
  /** The operating system (`Deno.build.os`). @default {"linux"} */
  os?: string;
}

const VALUE_FLAGS = [
  "--connect",
  "--shard-id",
  "--cache-dir",
  "--max-rpc-bytes",
  "--auth-token",
  "--auth-token-file",
  "--auth-token-env",
  "--tls-ca-cert",
  "--tls-domain",
  "--tls-client-cert",
  "--tls-client-key",
  "--connect-retries",
] as const;
const BOOLEAN_FLAGS = [
  "--allow-insecure",
  "--linger",
  "--read-reference-cache",
] as const;

type ValueFlag = typeof VALUE_FLAGS[number];

/**
 * The `worker --help` text; documents every flag.
 *
 * @example
 * ```ts
 * import { WORKER_USAGE } from "./cli_args.ts";
 * console.assert(WORKER_USAGE.includes("--auth-token-env"));
 * ```
 */
export const WORKER_USAGE: string = `\
Usage: loom worker --connect <addr> --shard-id <id> --cache-dir <dir> [options]

Runs one indexing worker: connects to the router, indexes the shard's Java
files on request, and keeps its index cached in <dir>/shard_<id>.bin.
Both "--flag value" and "--flag=value" are accepted.

Required:
  --connect <addr>          Router address: unix:<path>, tcp:<host>:<port> or
                            tcp+tls:<host>:<port> (host: DNS name, IPv4, or
                            [IPv6]). pipe:<name> is not supported.
  --shard-id <id>           The shard this worker serves (u32).
  --cache-dir <dir>         Cache directory (created on the first save).

Options:
  --max-rpc-bytes <n>       Largest frame/packet offered in the handshake;
                            clamped to [1, 67108864] (default 67108864). Also
                            lowers the pre-handshake frame limit (1 MiB).
  --auth-token-file <path>  Read the auth token from a file (trimmed). The file
                            must not be readable by group or others.
  --auth-token-env <VAR>    Read the auth token from an environment variable
                            (trimmed).
  --auth-token <token>      The auth token itself (discouraged: visible in
                            process listings). The three token flags are
                            mutually exclusive.
  --allow-insecure          Allow sending a token over plaintext tcp:.
  --tls-ca-cert <path>      PEM CA bundle that verifies the router (required
                            for tcp+tls:). Pinned: only these CAs are
                            trusted, not the system or built-in roots.
  --tls-domain <name>       Server name for SNI and verification
                            (default localhost).
  --tls-client-cert <path>  PEM client certificate chain for mutual TLS.
  --tls-client-key <path>   PEM private key for --tls-client-cert (must not be
                            readable by group or others).
  --linger                  Keep running when the router connection is lost
                            (default: exit with status 2).
  --connect-retries <n>     Retry connecting up to n times, with exponential
                            backoff (0.1 s doubling, at most 5 s, jittered),
                            when the router closes the connection before the
                            handshake ends (it is at capacity); a Reject or an
                            unreachable router is final. Default 8 for tcp:
                            and tcp+tls:, 0 for unix:.
  --read-reference-cache    Also load a shard cache written in the reference
                            layout, which has no integrity digest (default:
                            such a cache is a miss). Caches are written with a
                            SHA-256 trailer; a mismatch is a miss.
  -h, --help                Show this help.

Environment:
  LOOM_LOG                  Log level on stderr: error, warn (default), info,
                            debug. Logs are one JSON object per line.

Exit status: 0 after a Shutdown request or SIGTERM/SIGINT, 1 on startup
errors, 2 when the router connection is lost.
`;

function parseRustUint(text: string, max: bigint, context: string): bigint {
  // Mirrors Rust's integer FromStr: optional '+', ASCII digits only.
  const digits = text.startsWith("+") ? text.slice(1) : text;
  if (text === "") {
    throw new TypeError(`${context}: cannot parse integer from empty string`);
  }
  if (!/^[0-9]+$/.test(digits)) {
    throw new TypeError(`${context}: invalid digit found in string`);
  }
  const value = BigInt(digits);
  if (value > max) {
    throw new TypeError(`${context}: number too large to fit in target type`);
  }
  return value;
}

const IPV4 =
  /^(?:(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])\.){3}(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])$/;
const DNS_NAME =
  /^(?=.{1,253}$)(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*\.?$/;

function isIpv6(text: string): boolean {
  if (!/^[0-9A-Fa-f:.]+$/.test(text) || !text.includes(":")) return false;
  const halves = text.split("::");
  if (halves.length > 2) return false;
  const groups = halves.flatMap((h) => h === "" ? [] : h.split(":"));
  let count = 0;
  for (const [i, group] of groups.entries()) {
    if (i === groups.length - 1 && group.includes(".")) {
      if (!IPV4.test(group)) return false;
      count += 2;
    } else if (/^[0-9A-Fa-f]{1,4}$/.test(group)) {
      count += 1;
    } else {
      return false;
    }
  }
  return halves.length === 2 ? count < 8 : count === 8;
}

function isHost(text: string): boolean {
  return IPV4.test(text) || (DNS_NAME.test(text) && !/^[0-9.]+$/.test(text));
}

function checkHostPort(rest: string): void {
  const bad = (): never => {
    throw new TypeError("parse tcp addr: invalid socket address syntax");
  };
  let host: string;
  let port: string;
  if (rest.startsWith("[")) {
    const end = rest.indexOf("]");
    if (end < 0 || rest[end + 1] !== ":") bad();
    host = rest.slice(1, end);
    port = rest.slice(end + 2);
    if (!isIpv6(host)) bad();
  } else {
    const colon = rest.lastIndexOf(":");
    if (colon < 0) bad();
    host = rest.slice(0, colon);
    port = rest.slice(colon + 1);
    if (!isHost(host)) bad();
  }
  if (!/^[0-9]{1,5}$/.test(port) || Number(port) > 65535) bad();
}

function parseConnect(raw: string, os: string): WorkerArgs["transport"] {
  const colon = raw.indexOf(":");
  if (colon < 0) throw new TypeError(`invalid connect addr ${quote(raw)}`);
  const scheme = raw.slice(0, colon);
  const rest = raw.slice(colon + 1);
  switch (scheme) {
    case "unix":
      if (os === "windows") {
        throw new TypeError("unix sockets are not supported on this platform");
      }
      if (rest === "") {
        throw new TypeError(`invalid connect addr ${quote(raw)}`);
      }
      return "unix";
    case "pipe":
      throw new TypeError(
        os === "windows"
          ? "named pipes are not supported by this worker; use tcp+tls:"
          : "named pipes are only supported on Windows",
      );
    case "tcp":
    case "tcp+tls":
      checkHostPort(rest);
      return scheme;
    default:
      throw new TypeError(`unsupported connect scheme ${quote(scheme)}`);
  }
}

/** Rust `{:?}` of a string, close enough for error messages. */
function quote(text: string): string {
  return JSON.stringify(text);
}

/**
 * True for a valid TLS server name: a DNS name or an IP literal.
 *
 * @param name The name.
 * @returns Whether it is usable for SNI/verification.
 *
 * @example
 * ```ts
 * import { isValidTlsDomain } from "./cli_args.ts";
 * console.assert(isValidTlsDomain("router.example.com") && !isValidTlsDomain("bad name"));
 * ```
 */
export function isValidTlsDomain(name: string): boolean {
  return isHost(name) || isIpv6(name);
}

function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function checkPrivate(
  flag: string,
  path: string,
  fileMode: ((path: string) => number | null) | undefined,
): void {
  if (fileMode === undefined) return;
  let mode: number | null;
  try {
    mode = fileMode(path);
  } catch (err) {
    throw new TypeError(`read ${flag} ${path}: ${describe(err)}`);
  }
  if (mode !== null && (mode & 0o044) !== 0) {
    throw new TypeError(
      `${flag} ${path} is readable by group or others (mode ${
        (mode & 0o777).toString(8).padStart(4, "0")
      }); restrict it with: chmod 600 ${path}`,
    );
  }
}

/**
 * Parses and validates `worker` arguments.
 *
 * @param argv The arguments after the subcommand.
 * @param options Injected file, environment and permission access.
 * @returns `{help: true}` for `--help`, else the validated arguments.
 * @throws {TypeError} With the reference's message for the first problem
 *   (e.g. `--connect is required`, `unknown argument: --x`,
 *   `parse --shard-id: invalid digit found in string`).
 *
 * @example
 * ```ts
 * import { parseWorkerArgs } from "./cli_args.ts";
 * const parsed = parseWorkerArgs([
 *   "--connect", "unix:/run/router.sock", "--shard-id=3", "--cache-dir", "/tmp/c",
 * ]);
 * console.assert(!parsed.help && parsed.args.shardId === 3 && parsed.args.transport === "unix");
 * ```
 */
export function parseWorkerArgs(
  argv: readonly string[],
  options?: ParseWorkerArgsOptions,
): ParsedWorkerArgs {
  const values = new Map<ValueFlag, string>();
  let shardId: number | undefined;
  let maxRpcBytes = MAX_RPC_BYTES;
  let allowInsecure = false;
  let linger = false;
  let readReferenceCache = false;
  for (let i = 0; i < argv.length; i++) {
    const token = argv[i];
    if (token === "--help" || token === "-h") return { help: true };
    const eq = token.startsWith("--") ? token.indexOf("=") : -1;
    const flag = eq < 0 ? token : token.slice(0, eq);
    if ((BOOLEAN_FLAGS as readonly string[]).includes(flag)) {
      if (eq >= 0) throw new TypeError(`${flag} does not take a value`);
      if (flag === "--allow-insecure") allowInsecure = true;
      else if (flag === "--linger") linger = true;
      else readReferenceCache = true;
      continue;
    }
    if (!(VALUE_FLAGS as readonly string[]).includes(flag)) {
      throw new TypeError(`unknown argument: ${token}`);
    }
    let value: string;
    if (eq >= 0) {
      value = token.slice(eq + 1);
    } else {
      if (i + 1 >= argv.length) throw new TypeError(`${flag} requires value`);
      value = argv[++i];
    }
    if (flag === "--shard-id") {
      shardId = Number(parseRustUint(value, 0xffff_ffffn, "parse --shard-id"));
    } else if (flag === "--max-rpc-bytes") {
      const parsed = parseRustUint(
        value,
        0xffff_ffff_ffff_ffffn,
        "parse --max-rpc-bytes",
      );
      maxRpcBytes = parsed < 1n
        ? 1
        : parsed > BigInt(MAX_RPC_BYTES)
        ? MAX_RPC_BYTES
        : Number(parsed);
    }
    values.set(flag as ValueFlag, value); // the last one wins
  }

  const connect = values.get("--connect");
  if (connect === undefined) throw new TypeError("--connect is required");
  if (shardId === undefined) throw new TypeError("--shard-id is required");
  const cacheDir = values.get("--cache-dir");
  if (cacheDir === undefined) throw new TypeError("--cache-dir is required");

  const tokenFlags = ["--auth-token", "--auth-token-file", "--auth-token-env"]
    .filter((f) => values.has(f as ValueFlag));
  if (tokenFlags.length > 1) {
    throw new TypeError(
      "--auth-token, --auth-token-file, and --auth-token-env are mutually exclusive",
    );
  }

  const tlsCaCert = values.get("--tls-ca-cert") ?? null;
  const tlsDomain = values.get("--tls-domain");
  const tlsClientCert = values.get("--tls-client-cert") ?? null;
  const tlsClientKey = values.get("--tls-client-key") ?? null;
  if ((tlsClientCert !== null || tlsClientKey !== null) && tlsCaCert === null) {
    throw new TypeError(
      "--tls-client-cert/--tls-client-key cannot be used without --tls-ca-cert",
    );
  }
  if (tlsClientCert !== null && tlsClientKey === null) {
    throw new TypeError("--tls-client-key is required with --tls-client-cert");
  }
  if (tlsClientKey !== null && tlsClientCert === null) {
    throw new TypeError("--tls-client-cert is required with --tls-client-key");
  }
  if (tlsDomain !== undefined && tlsCaCert === null) {
    throw new TypeError("--tls-domain cannot be used without --tls-ca-cert");
  }

  const os = options?.os ?? "linux";
  const transport = parseConnect(connect, os);
  const retriesText = values.get("--connect-retries");
  let connectRetries = transport === "unix" ? 0 : 8;
  if (retriesText !== undefined) {
    if (!/^[0-9]{1,4}$/.test(retriesText)) {
      throw new TypeError(
        `--connect-retries must be an integer in 0..9999, got ${retriesText}`,
      );
    }
    connectRetries = Number(retriesText);
  }
  const warnings: string[] = [];
  if (transport === "tcp+tls") {
    if (tlsCaCert === null) {
      throw new TypeError("--tls-ca-cert is required for tcp+tls");
    }
    if (tlsDomain !== undefined && !isValidTlsDomain(tlsDomain)) {
      throw new TypeError(`invalid tls domain ${quote(tlsDomain)}`);
    }
    if (tlsClientKey !== null) {
      checkPrivate("--tls-client-key", tlsClientKey, options?.fileMode);
    }
  } else if (tlsCaCert !== null) {
    warnings.push(`TLS flags are ignored for ${transport}: addresses`);
  }

  let authToken: string | null = null;
  let authTokenSource: AuthTokenSource = "none";
  const tokenValue = values.get("--auth-token");
  const tokenFile = values.get("--auth-token-file");
  const tokenEnv = values.get("--auth-token-env");
  if (tokenValue !== undefined) {
    if (tokenValue === "") throw new TypeError("--auth-token was empty");
    authToken = tokenValue;
    authTokenSource = "argv";
  } else if (tokenFile !== undefined) {
    checkPrivate("--auth-token-file", tokenFile, options?.fileMode);
    const read = options?.readTextFile;
    if (read === undefined) {
      throw new TypeError(
        `read --auth-token-file ${tokenFile}: file reading is not available`,
      );
    }
    let text: string;
    try {
      text = read(tokenFile);
    } catch (err) {
      throw new TypeError(
        `read --auth-token-file ${tokenFile}: ${describe(err)}`,
      );
    }
    authToken = text.trim();
    if (authToken === "") {
      throw new TypeError(`--auth-token-file ${tokenFile} was empty`);
    }
    authTokenSource = "file";
  } else if (tokenEnv !== undefined) {
    const raw = options?.getEnv?.(tokenEnv);
    if (raw === undefined) {
      throw new TypeError(
        `read --auth-token-env ${tokenEnv}: environment variable not found`,
      );
    }
    authToken = raw.trim();
    if (authToken === "") {
      throw new TypeError(`--auth-token-env ${tokenEnv} was empty`);
    }
    authTokenSource = "env";
  }

  if (transport === "tcp") {
    if (authToken !== null && !allowInsecure) {
      throw new TypeError(
        `refusing to connect to ${connect} via plaintext TCP (\`tcp:\`) while an auth token is set. ` +
          "Use `tcp+tls:` (recommended) or pass --allow-insecure for isolated local testing",
      );
    }
    warnings.push(
      authToken === null
        ? "connecting via plaintext TCP (`tcp:`); traffic is not encrypted"
        : "sending the auth token via plaintext TCP (`tcp:`) because of --allow-insecure",
    );
  }

  return {
    help: false,
    args: {
      connect,
      transport,
      shardId,
      cacheDir,
      maxRpcBytes,
      authToken,
      authTokenSource,
      allowInsecure,
      tlsCaCert,
      tlsDomain: tlsDomain ?? DEFAULT_TLS_DOMAIN,
      tlsClientCert,
      tlsClientKey,
      linger,
      readReferenceCache,
      connectRetries,
      warnings,
    },
  };
}

/**
 * A loggable copy of the arguments: the token is replaced by whether one is
 * present.
 *
 * @param args Parsed arguments.
 * @returns Fields safe to log.
 *
 * @example
 * ```ts
 * import { parseWorkerArgs, redactWorkerArgs } from "./cli_args.ts";
 * const parsed = parseWorkerArgs(["--connect=unix:/s", "--shard-id=0", "--cache-dir=/c", "--auth-token=xyz"]);
 * if (!parsed.help) console.assert(!JSON.stringify(redactWorkerArgs(parsed.args)).includes("xyz"));
 * ```
 */
export function redactWorkerArgs(args: WorkerArgs): Record<string, unknown> {
  const { authToken, warnings: _warnings, ...rest } = args;
  return { ...rest, authPresent: authToken !== null };
}
