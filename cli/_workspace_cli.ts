/**
 * Pieces of the `search` and `router` commands for real workspaces: the
 * `--workers` and `--protocol` flags, and the skipped-file report (kept
 * beside the worker caches, so a warm run reports what the cold run
 * skipped).
 *
 * @module
 */

import { escapeControlChars } from "../lib/worker/sanitize.ts";
import { availableParallelism } from "node:os";
import { describeSkip, type SkippedFile } from "../lib/net/workspace_fs.ts";
import { intFlag, type ParsedFlags } from "./router_flags.ts";
import { UsageError } from "./_roots.ts";

/** How many skipped paths a report names. */
export const SKIP_REPORT_PATHS = 5;

/**
 * The most worker processes worth starting: two per CPU core (more only
 * compete for the cores and wait for the handshake).
 *
 * @example
 * ```ts
 * import { maxWorkers } from "./_workspace_cli.ts";
 * console.assert(maxWorkers() >= 2);
 * ```
 */
export function maxWorkers(): number {
  return 2 * Math.max(1, availableParallelism());
}

/**
 * `--workers N`, capped at {@link maxWorkers} with a notice.
 *
 * @param flags Parsed flags.
 * @param notice Receives one line when the value is capped.
 * @returns The wanted shard count, or undefined when the flag is absent.
 * @throws {UsageError} `bad_flag` when N is not a positive integer.
 *
 * @example
 * ```ts
 * import { workersFlag } from "./_workspace_cli.ts";
 * import { parseFlags } from "./router_flags.ts";
 * const f = parseFlags(["--workers", "2"], { values: ["workers"], bools: [] });
 * console.assert(workersFlag(f, () => {}) === 2);
 * ```
 */
export function workersFlag(
  flags: ParsedFlags,
  notice: (line: string) => void,
): number | undefined {
  if (!flags.values.has("workers")) return undefined;
  let n: number;
  try {
    n = intFlag(flags, "workers", 1);
  } catch (e) {
    throw new UsageError("bad_flag", (e as Error).message);
  }
  const max = maxWorkers();
  if (n > max) {
    notice(
      `--workers ${n}: using ${max} (2 per CPU core; more processes only ` +
        `compete for the cores)`,
    );
    return max;
  }
  return n;
}

/**
 * `--protocol 3.0|3.1`: the highest minor version offered to workers.
 *
 * @throws {UsageError} `bad_flag` for anything else.
 *
 * @example
 * ```ts
 * import { protocolFlag } from "./_workspace_cli.ts";
 * console.assert(protocolFlag(undefined) === 1 && protocolFlag("3.0") === 0);
 * ```
 */
export function protocolFlag(value: string | undefined): 0 | 1 {
  if (value === undefined || value === "3.1") return 1;
  if (value === "3.0") return 0;
  throw new UsageError(
    "bad_flag",
    `--protocol must be 3.0 or 3.1, got ${JSON.stringify(value)}`,
  );
}

function skipFile(cacheDir: string, shard: number): string {
  return `${cacheDir}/skipped-${shard}.json`;
}

/**
 * Remembers a shard's skipped files beside its cache.
 *
 * @example
 * ```ts
 * import { loadSkipped, saveSkipped } from "./_workspace_cli.ts";
 * const dir = Deno.makeTempDirSync();
 * await saveSkipped(dir, 0, [{ path: "A.java", reason: "not_utf8" }]);
 * console.assert((await loadSkipped(dir, 0))[0].path === "A.java");
 * Deno.removeSync(dir, { recursive: true });
 * ```
 */
export async function saveSkipped(
  cacheDir: string,
  shard: number,
  skipped: readonly SkippedFile[],
): Promise<void> {
  const path = skipFile(cacheDir, shard);
  if (skipped.length === 0) {
    await Deno.remove(path).catch(() => {});
    return;
  }
  await Deno.writeTextFile(path, JSON.stringify(skipped), { mode: 0o600 });
}

/**
 * A shard's skipped files as last saved (none when nothing was saved or the
 * file is unreadable).
 *
 * @example
 * ```ts
 * import { loadSkipped } from "./_workspace_cli.ts";
 * console.assert((await loadSkipped("/definitely/not/here", 0)).length === 0);
 * ```
 */
export async function loadSkipped(
  cacheDir: string,
  shard: number,
): Promise<SkippedFile[]> {
  try {
    const value = JSON.parse(
      await Deno.readTextFile(skipFile(cacheDir, shard)),
    );
    return Array.isArray(value)
      ? value.filter((s) =>
        typeof s?.path === "string" && typeof s?.reason === "string"
      )
      : [];
  } catch {
    return [];
  }
}

/**
 * Prints the skip report: a count by reason and the first
 * {@link SKIP_REPORT_PATHS} paths (nothing when no file was skipped).
 *
 * @example
 * ```ts
 * import { reportSkipped } from "./_workspace_cli.ts";
 * const lines: string[] = [];
 * reportSkipped([{ path: "A.java", reason: "not_utf8" }], (l) => lines.push(l));
 * console.assert(lines[0] === "skipped 1 file(s): 1 not UTF-8");
 * ```
 */
export function reportSkipped(
  skipped: readonly SkippedFile[],
  write: (line: string) => void,
): void {
  if (skipped.length === 0) return;
  const counts = new Map<string, number>();
  for (const s of skipped) {
    counts.set(s.reason, (counts.get(s.reason) ?? 0) + 1);
  }
  const label: Record<string, string> = {
    not_utf8: "not UTF-8",
    too_large: "too large",
    unreadable: "unreadable",
  };
  write(
    `skipped ${skipped.length} file(s): ${
      [...counts].map(([r, n]) => `${n} ${label[r] ?? r}`).join(", ")
    }`,
  );
  const sorted = [...skipped].sort((a, b) => a.path < b.path ? -1 : 1);
  for (const s of sorted.slice(0, SKIP_REPORT_PATHS)) {
    write(`  ${escapeControlChars(describeSkip(s))}`);
  }
  if (skipped.length > SKIP_REPORT_PATHS) {
    write(`  ... and ${skipped.length - SKIP_REPORT_PATHS} more`);
  }
}
