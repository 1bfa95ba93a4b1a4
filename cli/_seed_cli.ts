/**
 * Shared pieces of the `seed` and `join` commands: exit codes, user path
 * resolution against `INIT_CWD`, and one-line error text.
 *
 * @module
 */

import { isAbsolute, resolve } from "node:path";
import { isSeedError } from "../lib/seed/errors.ts";
import { flagValue, type ParsedFlags } from "./router_flags.ts";

/** Success. */
export const SEED_EXIT_OK = 0;
/** Bad arguments or a start-up failure (bind, token file...). */
export const SEED_EXIT_USAGE = 1;
/** The cluster failed: formation timed out, the join was rejected, the seed was lost. */
export const SEED_EXIT_FAILED = 2;

/**
 * Resolves a user-given path against the user's directory (`INIT_CWD`
 * under `deno task`, else the current directory).
 *
 * @param path The path as typed.
 * @returns An absolute path.
 *
 * @example
 * ```ts
 * import { userPath } from "./_seed_cli.ts";
 * console.assert(userPath("/etc/x") === "/etc/x");
 * ```
 */
export function userPath(path: string): string {
  if (isAbsolute(path)) return path;
  let base: string | undefined;
  try {
    base = Deno.env.get("INIT_CWD");
  } catch {
    base = undefined;
  }
  return resolve(base ?? Deno.cwd(), path);
}

/**
 * One line describing an error (no stack trace, never a secret).
 *
 * @param err Anything thrown.
 * @returns `error: ...` text.
 *
 * @example
 * ```ts
 * import { errorLine } from "./_seed_cli.ts";
 * console.assert(errorLine(new TypeError("bad")) === "error: bad");
 * ```
 */
export function errorLine(err: unknown): string {
  if (isSeedError(err)) {
    const cause = err.cause instanceof Error ? `: ${err.cause.message}` : "";
    return `error: ${err.message}${cause} [${err.code}]`;
  }
  return `error: ${err instanceof Error ? err.message : String(err)}`;
}

/**
 * Parses a non-negative millisecond flag value.
 *
 * @param name Flag name (for the message).
 * @param text The value, if given.
 * @param fallback Default.
 * @returns Milliseconds.
 *
 * @example
 * ```ts
 * import { msFlag } from "./_seed_cli.ts";
 * console.assert(msFlag("x", "250", 1) === 250 && msFlag("x", undefined, 7) === 7);
 * ```
 */
export function msFlag(
  name: string,
  text: string | undefined,
  fallback: number,
): number {
  if (text === undefined) return fallback;
  if (!/^[0-9]{1,9}$/.test(text) || Number(text) < 1) {
    throw new TypeError(`--${name} must be a positive number of milliseconds`);
  }
  return Number(text);
}

/**
 * Writes one line to stdout.
 *
 * @param text The line.
 *
 * @example
 * ```ts ignore
 * say("rank 0 world 4 generation 1");
 * ```
 */
export function say(text: string): void {
  Deno.stdout.writeSync(new TextEncoder().encode(text + "\n"));
}

/**
 * Writes one line to stderr.
 *
 * @param text The line.
 *
 * @example
 * ```ts ignore
 * complain("error: bad flag");
 * ```
 */
export function complain(text: string): void {
  Deno.stderr.writeSync(new TextEncoder().encode(text + "\n"));
}

/** The listen address and token choice shared by `seed` and `join`. */
export interface ListenAndTokenFlags {
  /** `--listen` (required). */
  listen: string;
  /** `--insecure-no-token`. */
  insecure: boolean;
  /** `--token-file`, resolved against the user's directory. */
  tokenFile?: string;
}

/**
 * Reads `--listen`, `--insecure-no-token` and `--token-file`, refusing a
 * missing address and the two token flags together.
 *
 * @param f The parsed flags.
 * @returns The values.
 *
 * @example
 * ```ts
 * import { listenAndTokenFlags } from "./_seed_cli.ts";
 * import { parseFlags } from "./router_flags.ts";
 * const f = parseFlags(["--listen", "127.0.0.1:0"], {
 *   values: ["listen", "token-file"],
 *   bools: ["insecure-no-token"],
 * });
 * console.assert(listenAndTokenFlags(f).listen === "127.0.0.1:0");
 * ```
 */
export function listenAndTokenFlags(f: ParsedFlags): ListenAndTokenFlags {
  const listen = flagValue(f, "listen");
  if (listen === undefined) throw new TypeError("--listen is required");
  const insecure = f.bools.has("insecure-no-token");
  const tokenFile = flagValue(f, "token-file");
  if (insecure && tokenFile !== undefined) {
    throw new TypeError(
      "--insecure-no-token and --token-file exclude each other",
    );
  }
  return {
    listen,
    insecure,
    tokenFile: tokenFile === undefined ? undefined : userPath(tokenFile),
  };
}
