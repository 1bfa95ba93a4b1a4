/**
 * This package's worker program, for routers that spawn loom workers: the
 * CLI entry point and the `deno.json` beside it.
 *
 * @module
 */

import type { LoomWorkerProgram } from "../lib/net/worker_command.ts";

/**
 * The loom worker program of this checkout (or package).
 *
 * @example
 * ```ts
 * import { LOOM_WORKER_PROGRAM } from "./worker_program.ts";
 * console.assert(String(LOOM_WORKER_PROGRAM.main).endsWith("cli/main.ts"));
 * ```
 */
export const LOOM_WORKER_PROGRAM: LoomWorkerProgram = {
  main: new URL("./main.ts", import.meta.url),
  config: new URL("../deno.json", import.meta.url),
};
