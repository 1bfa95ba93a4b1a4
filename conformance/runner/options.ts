/**
 * Command-line options of `deno task conformance` (pure parsing).
 *
 * @module
 */

import type { Transport } from "./harness.ts";

/** Parsed options. */
export interface ConformanceOptions {
  /** Worker command template; undefined means our own worker. */
  worker?: string;
  /** Listener transport. @default "unix" */
  transport: Transport;
  /** Case filter (comma-separated globs or substrings). */
  only?: string;
  /** Cases run in parallel. @default 4 */
  jobs: number;
  /** Write JUnit XML here. */
  junit?: string;
  /** Write the HTML report here. */
  html?: string;
  /** Write the JSON report here. */
  json?: string;
  /** Per-case timeout in ms. @default 30000 */
  timeoutMs: number;
  /** Print transcripts and stderr of failed cases. */
  verbose: boolean;
  /** Only list the cases. */
  list: boolean;
  /** Print help. */
  help: boolean;
}

/**
 * The usage text.
 *
 * @example
 * ```ts
 * import { USAGE } from "./options.ts";
 * console.assert(USAGE.includes("--worker"));
 * ```
 */
export const USAGE = `Usage: deno task conformance [options]

Runs the v3 worker conformance suite against a worker command.

Options:
  --worker '<template>'   worker command template (default: this repository's worker)
                          placeholders: {connect} {shard} {cache_dir} {token_env} {ca_cert}
                          {client_cert} {client_key}
  --transport unix|tcp|tls|mtls
                          listener transport (default unix); tls: server
                          certificate only; mtls: the runner also requires a
                          client certificate, given as {client_cert}/{client_key}
  --only PATTERN          run only cases whose id matches (globs, comma-separated)
  --jobs N                cases run in parallel (default 4)
  --timeout MS            per-case timeout (default 30000)
  --junit FILE            write JUnit XML
  --html FILE             write a self-contained HTML report
  --json FILE             write the full report as JSON
  --verbose               print transcripts and stderr tails of failed cases
  --list                  list the cases and exit
  --help                  this text

The token is never put on the command line: the runner sets it in the
environment variable whose NAME replaces {token_env}.
Exit code: 1 when any MUST case fails, 2 on a usage error, 0 otherwise.
`;

/**
 * Parses the arguments (`--flag value` and `--flag=value`).
 *
 * @param args The arguments after the command.
 * @returns The options.
 * @throws {TypeError} On an unknown flag, a missing or invalid value.
 *
 * @example
 * ```ts
 * import { parseConformanceArgs } from "./options.ts";
 * const o = parseConformanceArgs(["--worker", "w {connect}", "--jobs=2", "--transport", "tcp"]);
 * console.assert(o.worker === "w {connect}" && o.jobs === 2 && o.transport === "tcp");
 * ```
 */
export function parseConformanceArgs(
  args: readonly string[],
): ConformanceOptions {
  const o: ConformanceOptions = {
    transport: "unix",
    jobs: 4,
    timeoutMs: 30_000,
    verbose: false,
    list: false,
    help: false,
  };
  for (let i = 0; i < args.length; i++) {
    let flag = args[i];
    let value: string | undefined;
    const eq = flag.indexOf("=");
    if (flag.startsWith("--") && eq > 0) {
      value = flag.slice(eq + 1);
      flag = flag.slice(0, eq);
    }
    const take = (): string => {
      if (value !== undefined) return value;
      if (i + 1 >= args.length) throw new TypeError(`${flag} requires a value`);
      return args[++i];
    };
    const int = (min: number): number => {
      const v = take();
      const n = Number(v);
      if (!Number.isInteger(n) || n < min) {
        throw new TypeError(`${flag}: invalid value "${v}"`);
      }
      return n;
    };
    switch (flag) {
      case "--worker":
        o.worker = take();
        break;
      case "--transport": {
        const t = take();
        if (t !== "unix" && t !== "tcp" && t !== "tls" && t !== "mtls") {
          throw new TypeError(
            `--transport must be unix, tcp, tls or mtls (got "${t}")`,
          );
        }
        o.transport = t;
        break;
      }
      case "--only":
        o.only = take();
        break;
      case "--jobs":
        o.jobs = int(1);
        break;
      case "--timeout":
        o.timeoutMs = int(100);
        break;
      case "--junit":
        o.junit = take();
        break;
      case "--html":
        o.html = take();
        break;
      case "--json":
        o.json = take();
        break;
      case "--verbose":
        o.verbose = true;
        break;
      case "--list":
        o.list = true;
        break;
      case "--help":
      case "-h":
        o.help = true;
        break;
      default:
        throw new TypeError(`unknown argument: ${args[i]}`);
    }
  }
  return o;
}

/**
 * Quotes a word for a template (single quotes when needed).
 *
 * @param word Any word.
 * @returns The word, safe to paste into a template.
 *
 * @example
 * ```ts
 * import { quoteWord } from "./options.ts";
 * console.assert(quoteWord("/a b/c") === "'/a b/c'" && quoteWord("/x") === "/x");
 * ```
 */
export function quoteWord(word: string): string {
  if (/^[A-Za-z0-9_\-./:=+@%,]+$/.test(word)) return word;
  return `'${word.replace(/'/g, `'\\''`)}'`;
}

/**
 * The default template: this repository's worker run by the given Deno.
 *
 * @param denoPath The Deno executable.
 * @param repoRoot Absolute path of the repository root.
 * @param transport The transport (adds `--allow-insecure` for tcp, the CA for
 *   tls, the CA and the client identity for mtls).
 * @returns The template.
 *
 * @example
 * ```ts
 * import { defaultWorkerTemplate } from "./options.ts";
 * const t = defaultWorkerTemplate("/usr/bin/deno", "/repo", "unix");
 * console.assert(t.includes("/repo/cli/main.ts worker --connect {connect}"));
 * ```
 */
export function defaultWorkerTemplate(
  denoPath: string,
  repoRoot: string,
  transport: Transport,
): string {
  const words = [
    quoteWord(denoPath),
    "run",
    "--quiet",
    "--no-prompt",
    "--config",
    quoteWord(`${repoRoot}/deno.json`),
    "--allow-read",
    "--allow-write",
    "--allow-net",
    "--allow-env",
    "--allow-sys",
    quoteWord(`${repoRoot}/cli/main.ts`),
    "worker",
    "--connect {connect}",
    "--shard-id {shard}",
    "--cache-dir {cache_dir}",
    "--auth-token-env {token_env}",
  ];
  if (transport === "tcp") words.push("--allow-insecure");
  if (transport === "tls" || transport === "mtls") {
    words.push("--tls-ca-cert {ca_cert}", "--tls-domain localhost");
  }
  if (transport === "mtls") {
    words.push(
      "--tls-client-cert {client_cert}",
      "--tls-client-key {client_key}",
    );
  }
  return words.join(" ");
}
