/**
 * Worker command templates: how the router (and the conformance runner)
 * starts a worker process of any v3 implementation.
 *
 * A template is a command line split into words shell-style (whitespace
 * separates words; `'single'` and `"double"` quotes and backslash escapes
 * group them; nothing is expanded by a shell). Each word may contain the
 * placeholders `{connect}`, `{shard}`, `{cache_dir}`, `{token_env}` and
 * `{ca_cert}` (the same set as the conformance runner's)
 * (`{{` and `}}` stand for literal braces). A template without any
 * placeholder gets the reference's argument list appended:
 * `--connect <addr> --shard-id <id> --cache-dir <dir>` plus
 * `--auth-token-env <NAME>` when a token is in use. The token itself only
 * ever travels in the environment variable named by `{token_env}`.
 *
 * @module
 */

import {
  COMMAND_PLACEHOLDERS,
  splitCommandLine,
} from "../router/command_template.ts";

/** The values substituted into a template. */
export interface WorkerCommandVars {
  /** The address the worker connects to (`unix:...`, `tcp:...`, `tcp+tls:...`). */
  connect: string;
  /** The shard id. */
  shard: number;
  /** The worker's cache directory. */
  cacheDir: string;
  /** The name of the environment variable holding the token, if any. */
  tokenEnv?: string;
  /** The CA certificate workers trust (TLS), for `{ca_cert}`. */
  caCert?: string;
}

/**
 * The placeholder names a template may use.
 *
 * @example
 * ```ts
 * import { TEMPLATE_PLACEHOLDERS } from "./worker_command.ts";
 * console.assert(TEMPLATE_PLACEHOLDERS.includes("cache_dir"));
 * ```
 */
export const TEMPLATE_PLACEHOLDERS: typeof COMMAND_PLACEHOLDERS =
  COMMAND_PLACEHOLDERS;

/**
 * Default name of the environment variable carrying the worker token.
 *
 * @example
 * ```ts
 * import { DEFAULT_TOKEN_ENV } from "./worker_command.ts";
 * console.assert(DEFAULT_TOKEN_ENV === "LOOM_WORKER_AUTH_TOKEN");
 * ```
 */
export const DEFAULT_TOKEN_ENV = "LOOM_WORKER_AUTH_TOKEN";

/**
 * Splits a command line into words (quotes and backslashes as in a POSIX
 * shell, without any expansion); the one implementation shared with the
 * conformance runner, re-exported here.
 *
 * @example
 * ```ts
 * import { splitCommandLine } from "./worker_command.ts";
 * const words = splitCommandLine(`nova-worker --cache-dir "/tmp/a b" x\\ y`);
 * console.assert(words.length === 4 && words[2] === "/tmp/a b" && words[3] === "x y");
 * ```
 */
export { splitCommandLine };

const PLACEHOLDER = /\{\{|\}\}|\{([a-z_]+)\}/g;

function hasPlaceholder(words: readonly string[]): boolean {
  return words.some((w) =>
    [...w.matchAll(PLACEHOLDER)].some((m) => m[1] !== undefined)
  );
}

/**
 * Expands a template into an argv for one worker process.
 *
 * @param template A command line or pre-split words.
 * @param vars The values for the placeholders.
 * @returns `[program, ...args]`.
 * @throws {TypeError} On an unknown placeholder, or `{token_env}` used
 *   without a token variable.
 *
 * @example Placeholders
 * ```ts
 * import { expandWorkerCommand } from "./worker_command.ts";
 * const argv = expandWorkerCommand(
 *   "w --connect {connect} --shard-id {shard} --cache-dir {cache_dir}",
 *   { connect: "unix:/r.sock", shard: 2, cacheDir: "/c" },
 * );
 * console.assert(argv.join(" ") === "w --connect unix:/r.sock --shard-id 2 --cache-dir /c");
 * ```
 *
 * @example No placeholders: the reference's arguments are appended
 * ```ts
 * import { expandWorkerCommand } from "./worker_command.ts";
 * const argv = expandWorkerCommand("nova-worker", {
 *   connect: "unix:/r.sock", shard: 0, cacheDir: "/c", tokenEnv: "T",
 * });
 * console.assert(argv.join(" ") ===
 *   "nova-worker --connect unix:/r.sock --shard-id 0 --cache-dir /c --auth-token-env T");
 * ```
 */
export function expandWorkerCommand(
  template: string | readonly string[],
  vars: WorkerCommandVars,
): string[] {
  const words = typeof template === "string"
    ? splitCommandLine(template)
    : [...template];
  if (words.length === 0) throw new TypeError("worker command is empty");
  if (!hasPlaceholder(words)) {
    const args = [
      "--connect",
      vars.connect,
      "--shard-id",
      String(vars.shard),
      "--cache-dir",
      vars.cacheDir,
    ];
    if (vars.tokenEnv !== undefined) {
      args.push("--auth-token-env", vars.tokenEnv);
    }
    return [...words, ...args];
  }
  const out: string[] = [];
  for (const word of words) {
    // A word that is exactly `{token_env}` preceded by `--auth-token-env`
    // is dropped together with its flag when no token is in use.
    if (word === "{token_env}" && vars.tokenEnv === undefined) {
      if (out.at(-1) === "--auth-token-env") out.pop();
      continue;
    }
    out.push(word.replace(PLACEHOLDER, (m, name: string | undefined) => {
      if (m === "{{") return "{";
      if (m === "}}") return "}";
      switch (name) {
        case "connect":
          return vars.connect;
        case "shard":
          return String(vars.shard);
        case "cache_dir":
          return vars.cacheDir;
        case "ca_cert":
          if (vars.caCert === undefined) {
            throw new TypeError(
              "worker command uses {ca_cert} but no CA certificate is configured",
            );
          }
          return vars.caCert;
        case "token_env":
          if (vars.tokenEnv === undefined) {
            throw new TypeError(
              "worker command uses {token_env} but no token is in use",
            );
          }
          return vars.tokenEnv;
        default:
          throw new TypeError(
            `worker command: unknown placeholder {${name}} (known: ${
              TEMPLATE_PLACEHOLDERS.map((p) => `{${p}}`).join(", ")
            })`,
          );
      }
    }));
  }
  return out;
}

/**
 * Where the loom worker program is: the CLI entry point (run with its
 * `worker` subcommand) and the `deno.json` it needs. The library does not
 * locate the CLI itself: the CLI passes its own location as
 * `SpawnWorkersOptions.program`.
 */
export interface LoomWorkerProgram {
  /** The CLI entry module (`cli/main.ts`), as a URL or a path. */
  main: URL | string;
  /** The `deno.json` to run it with (its import map). */
  config?: URL | string;
}

/**
 * The command template that runs the loom worker of `program` with the
 * current Deno executable. The token travels in an environment variable
 * (`{token_env}`), never in argv.
 *
 * @param program Where the worker's entry point and config are.
 * @returns Words for {@link expandWorkerCommand}.
 *
 * @example
 * ```ts
 * import { loomWorkerCommand } from "./worker_command.ts";
 * const words = loomWorkerCommand({ main: "/opt/loom/cli/main.ts" });
 * console.assert(words.includes("/opt/loom/cli/main.ts") && words.includes("{connect}"));
 * ```
 */
export function loomWorkerCommand(program: LoomWorkerProgram): string[] {
  const toArg = (u: URL | string): string =>
    typeof u === "string"
      ? u
      : u.protocol === "file:"
      ? decodeURIComponent(u.pathname)
      : u.href;
  return [
    Deno.execPath(),
    "run",
    "--quiet",
    "--no-prompt",
    ...(program.config === undefined
      ? []
      : ["--config", toArg(program.config)]),
    "--allow-read",
    "--allow-write",
    "--allow-net",
    "--allow-env",
    "--allow-sys",
    toArg(program.main),
    "worker",
    "--connect",
    "{connect}",
    "--shard-id",
    "{shard}",
    "--cache-dir",
    "{cache_dir}",
    "--auth-token-env",
    "{token_env}",
  ];
}
