/**
 * Source roots as the user typed them: resolved against the user's working
 * directory (`INIT_CWD`, which `deno task` sets, else the process's), checked
 * to exist and be directories, and refused when two name the same directory
 * (`a` and `a/`, `./a`, or a symlink to `a`). Failures are {@link UsageError}s:
 * the commands print their one-line message and exit 2.
 *
 * @module
 */

import { isAbsolute, resolve } from "node:path";

/**
 * A bad command line or bad input named on it: the command prints
 * `<command>: <message>` (one line, no stack trace) and exits with `exitCode`.
 *
 * @example
 * ```ts
 * import { UsageError } from "./_roots.ts";
 * const e = new UsageError("root_not_found", "no such directory: x");
 * console.assert(e.exitCode === 2 && e.code === "root_not_found");
 * ```
 */
export class UsageError extends Error {
  /** Stable code: `root_not_found`, `root_not_directory`, `root_unreadable`, `duplicate_root`, `bad_flag`, `skipped_files`. */
  readonly code: string;
  /** The exit status the command returns. */
  readonly exitCode: number;
  /**
   * Creates the error.
   *
   * @param code Stable code.
   * @param message One line.
   * @param exitCode Exit status (default 2).
   */
  constructor(code: string, message: string, exitCode = 2) {
    super(message);
    this.name = "UsageError";
    this.code = code;
    this.exitCode = exitCode;
  }
}

/**
 * The directory relative paths on the command line are relative to:
 * `INIT_CWD` (set by `deno task` and npm to where the user typed the
 * command) when set and absolute, else the current directory.
 *
 * @returns An absolute directory.
 *
 * @example
 * ```ts
 * import { userCwd } from "./_roots.ts";
 * console.assert(userCwd().startsWith("/"));
 * ```
 */
export function userCwd(): string {
  let init: string | undefined;
  try {
    init = Deno.env.get("INIT_CWD");
  } catch {
    init = undefined;
  }
  return init !== undefined && init !== "" && isAbsolute(init)
    ? init
    : Deno.cwd();
}

/**
 * Resolves a user-given path against {@link userCwd}.
 *
 * @example
 * ```ts
 * import { resolveUserPath } from "./_roots.ts";
 * console.assert(resolveUserPath("/abs/x/") === "/abs/x");
 * ```
 */
export function resolveUserPath(path: string): string {
  return resolve(userCwd(), path);
}

/**
 * Resolves and checks source roots: each must be an existing, readable
 * directory, and no two may be the same directory. Nested roots (`a` and
 * `a/sub`) are fine: files route to the longest matching root.
 *
 * @param roots The roots as typed.
 * @returns Absolute, normalized roots, in the given order.
 * @throws {UsageError} `root_not_found`, `root_not_directory`,
 *   `root_unreadable` or `duplicate_root`.
 *
 * @example
 * ```ts
 * import { checkRoots, UsageError } from "./_roots.ts";
 * const dir = Deno.makeTempDirSync();
 * console.assert((await checkRoots([dir]))[0] === dir);
 * try {
 *   await checkRoots([dir, dir + "/"]);
 * } catch (e) {
 *   console.assert(e instanceof UsageError && e.code === "duplicate_root");
 * }
 * Deno.removeSync(dir);
 * ```
 */
export async function checkRoots(
  roots: readonly string[],
): Promise<string[]> {
  const out: string[] = [];
  const seen = new Map<string, string>();
  for (const typed of roots) {
    if (typed === "") throw new UsageError("root_not_found", "empty --root");
    const abs = resolveUserPath(typed);
    let info: Deno.FileInfo;
    try {
      info = await Deno.stat(abs);
    } catch (err) {
      if (err instanceof Deno.errors.NotFound) {
        throw new UsageError(
          "root_not_found",
          `root ${typed}: no such directory (${abs})`,
        );
      }
      throw new UsageError(
        "root_unreadable",
        `root ${typed}: cannot stat (${(err as Error).message})`,
      );
    }
    if (!info.isDirectory) {
      throw new UsageError(
        "root_not_directory",
        `root ${typed}: not a directory (${abs})`,
      );
    }
    let real: string;
    try {
      real = await Deno.realPath(abs);
      // Reading the directory proves it can be walked.
      for await (const _ of Deno.readDir(abs)) break;
    } catch (err) {
      throw new UsageError(
        "root_unreadable",
        `root ${typed}: cannot read (${(err as Error).message})`,
      );
    }
    const earlier = seen.get(real);
    if (earlier !== undefined) {
      throw new UsageError(
        "duplicate_root",
        `root ${typed} is the same directory as root ${earlier}`,
      );
    }
    seen.set(real, typed);
    out.push(abs);
  }
  return out;
}
