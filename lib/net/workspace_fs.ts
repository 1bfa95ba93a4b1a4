/**
 * File-system side of the router: the `.java` snapshot of one shard.
 *
 * The walk follows the reference rules (regular files whose extension is
 * exactly `java`, directory entries stat'ed without following symlinks, files
 * that vanish mid-walk skipped) with two deliberate differences:
 *
 * - a file that is not valid UTF-8, larger than the per-file wire limit or
 *   unreadable (and a directory that cannot be listed) is reported in
 *   `skipped` and left out instead of failing the whole shard;
 * - paths are sorted, so snapshots are deterministic, and directories listed
 *   in `exclude` (roots of other, nested shards) are not entered.
 *
 * @module
 */

import { join } from "node:path";
import { setImmediate } from "node:timers";
import type { FileText } from "../wire/types.ts";

/** Longest stretch of synchronous file-system work between yields, in ms. */
const SLICE_MS = 8;
/** Longest stretch without a full (timer) turn of the event loop, in ms. */
const FULL_TURN_MS = 40;

/**
 * Paces long synchronous loops: every {@link SLICE_MS} it yields with
 * `setImmediate` (cheap; timers and abort handlers run), and at least every
 * {@link FULL_TURN_MS} with a `setTimeout` turn, which also lets pending
 * socket I/O in. A `setTimeout(0)` turn costs about 2 ms of idle time, so
 * taking one every slice would add a quarter to a large read.
 */
class Pacer {
  #slice = performance.now();
  #full = this.#slice;

  /** A promise to await when the current slice is used up, else undefined. */
  pace(): Promise<void> | undefined {
    const now = performance.now();
    if (now - this.#slice < SLICE_MS) return undefined;
    const full = now - this.#full >= FULL_TURN_MS;
    return new Promise<void>((resolve) => {
      const done = (): void => {
        this.#slice = performance.now();
        if (full) this.#full = this.#slice;
        resolve();
      };
      if (full) setTimeout(done, 0);
      else setImmediate(done);
    });
  }
}

/**
 * Largest file text the router ships (the reference's `MAX_FILE_TEXT_BYTES`).
 *
 * @example
 * ```ts
 * import { MAX_SNAPSHOT_FILE_BYTES } from "./workspace_fs.ts";
 * console.assert(MAX_SNAPSHOT_FILE_BYTES === 8 * 1024 * 1024);
 * ```
 */
export const MAX_SNAPSHOT_FILE_BYTES = 8 * 1024 * 1024;

/**
 * Why a file (or directory) was left out of a snapshot: not valid UTF-8,
 * larger than the per-file limit, or not readable (permissions, I/O error;
 * for a directory, nothing under it was read).
 */
export type SkipReason = "not_utf8" | "too_large" | "unreadable";

/** A file (or directory, for `unreadable`) left out of a snapshot. */
export interface SkippedFile {
  /** The file's path. */
  path: string;
  /** Why it was skipped. */
  reason: SkipReason;
  /** `too_large`: the per-file limit in bytes. */
  limit?: number;
  /** `unreadable`: the error message. */
  error?: string;
}

/**
 * One line for a skipped file: `path (not UTF-8)`, `path (larger than the
 * 8388608-byte file limit)`, `path (unreadable: ...)`.
 *
 * @example
 * ```ts
 * import { describeSkip } from "./workspace_fs.ts";
 * console.assert(describeSkip({ path: "A.java", reason: "not_utf8" }) === "A.java (not UTF-8)");
 * ```
 */
export function describeSkip(skip: SkippedFile): string {
  switch (skip.reason) {
    case "not_utf8":
      return `${skip.path} (not UTF-8)`;
    case "too_large":
      return `${skip.path} (larger than the ${
        skip.limit ?? MAX_SNAPSHOT_FILE_BYTES
      }-byte file limit)`;
    default:
      return `${skip.path} (unreadable${skip.error ? `: ${skip.error}` : ""})`;
  }
}

/** The `.java` files of one shard. */
export interface ShardSnapshot {
  /** Sorted by path. */
  files: FileText[];
  /** Total UTF-8 bytes of `files`. */
  bytes: number;
  /** Files that were found but not included. */
  skipped: SkippedFile[];
}

/** Options for {@link collectJavaFiles}. */
export interface CollectOptions {
  /** Directories (absolute, normalized) that belong to another shard. */
  exclude?: ReadonlySet<string>;
  /** Aborts the walk with the signal's reason. */
  signal?: AbortSignal;
  /** Called once the walk is done, with the number of files to read. */
  onListed?: (count: number) => void;
  /**
   * Receives directories below the root that could not be listed (they are
   * skipped; without this option the walk throws instead).
   */
  onSkip?: (skip: SkippedFile) => void;
  /** Called after each file is read, with its size in bytes. */
  onFile?: (path: string, bytes: number) => void;
  /**
   * Files larger than this are skipped with reason `too_large`.
   * @default {8388608}
   */
  maxFileBytes?: number;
}

/**
 * Lists the `.java` regular files under `root` (sorted, symlinks not
 * followed, `exclude`d directories pruned). A missing root yields `[]`.
 *
 * @example
 * ```ts
 * import { listJavaFiles } from "./workspace_fs.ts";
 * const files = await listJavaFiles("/definitely/not/here");
 * console.assert(files.length === 0);
 * ```
 */
export async function listJavaFiles(
  root: string,
  options: {
    exclude?: ReadonlySet<string>;
    signal?: AbortSignal;
    onSkip?: (skip: SkippedFile) => void;
  } = {},
): Promise<string[]> {
  const out: string[] = [];
  const stack = [root];
  const pacer = new Pacer();
  while (stack.length > 0) {
    const pause = pacer.pace();
    if (pause) await pause;
    options.signal?.throwIfAborted();
    const dir = stack.pop()!;
    let entries: Deno.DirEntry[];
    try {
      entries = [...Deno.readDirSync(dir)];
    } catch (err) {
      if (err instanceof Deno.errors.NotFound) continue;
      if (err instanceof Deno.errors.NotADirectory && dir === root) continue;
      if (options.onSkip === undefined) throw err;
      options.onSkip({
        path: dir,
        reason: "unreadable",
        error: (err as Error).message,
      });
      continue;
    }
    const subdirs: string[] = [];
    for (const entry of entries) {
      // readDir reports the entry itself (lstat semantics): symlinks are
      // neither files nor directories here, so they are skipped.
      const full = dir.endsWith("/")
        ? dir + entry.name
        : `${dir}/${entry.name}`;
      if (entry.isDirectory) {
        if (!options.exclude?.has(full)) subdirs.push(full);
      } else if (entry.isFile && entry.name.endsWith(".java")) {
        out.push(full);
      }
    }
    subdirs.sort().reverse();
    stack.push(...subdirs);
  }
  return out.sort();
}

/** Options for {@link readJavaFiles}. */
export type ReadOptions = Omit<
  CollectOptions,
  "exclude" | "onListed" | "onSkip"
>;

/**
 * Reads the `.java` snapshot of a shard: every file of
 * {@link listJavaFiles}, decoded as strict UTF-8 (a byte-order mark is kept
 * as text, like the reference).
 *
 * @example
 * ```ts
 * import { collectJavaFiles } from "./workspace_fs.ts";
 * const snap = await collectJavaFiles("/definitely/not/here");
 * console.assert(snap.files.length === 0 && snap.bytes === 0);
 * ```
 */
export async function collectJavaFiles(
  root: string,
  options: CollectOptions = {},
): Promise<ShardSnapshot> {
  const unlisted: SkippedFile[] = [];
  const paths = await listJavaFiles(root, {
    ...options,
    onSkip: (s) => {
      unlisted.push(s);
      options.onSkip?.(s);
    },
  });
  options.onListed?.(paths.length);
  const snap = await readJavaFiles(paths, options);
  if (unlisted.length > 0) snap.skipped.unshift(...unlisted);
  return snap;
}

/**
 * Reads listed files (see {@link listJavaFiles}) as a snapshot: strict UTF-8
 * (a byte-order mark is kept as text), files that vanished left out, files
 * that are too large or not UTF-8 reported in `skipped`.
 *
 * @example
 * ```ts
 * import { readJavaFiles } from "./workspace_fs.ts";
 * const snap = await readJavaFiles(["/definitely/not/here/A.java"]);
 * console.assert(snap.files.length === 0 && snap.skipped.length === 0);
 * ```
 */
export async function readJavaFiles(
  paths: readonly string[],
  options: ReadOptions = {},
): Promise<ShardSnapshot> {
  const maxBytes = options.maxFileBytes ?? MAX_SNAPSHOT_FILE_BYTES;
  const decoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
  const slots: (FileText | SkippedFile | undefined)[] = new Array(
    paths.length,
  );
  let bytes = 0;
  // Synchronous reads are several times faster than async ones for many
  // small files; the loop yields to the event loop every few milliseconds.
  const pacer = new Pacer();
  for (let i = 0; i < paths.length; i++) {
    const pause = pacer.pace();
    if (pause) await pause;
    options.signal?.throwIfAborted();
    const path = paths[i];
    let data: Uint8Array;
    try {
      // The walk already saw a regular file (no extra stat per file: on
      // slow file systems it costs as much as the read).
      data = Deno.readFileSync(path);
    } catch (err) {
      if (err instanceof Deno.errors.NotFound) continue;
      // One unreadable file does not sink the shard: it is reported.
      slots[i] = {
        path,
        reason: "unreadable",
        error: (err as Error).message,
      };
      continue;
    }
    if (data.byteLength > maxBytes) {
      slots[i] = { path, reason: "too_large", limit: maxBytes };
      continue;
    }
    let text: string;
    try {
      text = decoder.decode(data);
    } catch {
      slots[i] = { path, reason: "not_utf8" };
      continue;
    }
    bytes += data.byteLength;
    slots[i] = { path, text };
    options.onFile?.(path, data.byteLength);
  }
  options.signal?.throwIfAborted();
  const files: FileText[] = [];
  const skipped: SkippedFile[] = [];
  for (const slot of slots) {
    if (slot === undefined) continue;
    if ("text" in slot) files.push(slot);
    else skipped.push(slot);
  }
  return { files, bytes, skipped };
}

/** A permission error (the OS's, or Deno's `--deny-read`). */
function unreadable(err: unknown): boolean {
  return err instanceof Deno.errors.PermissionDenied ||
    err instanceof Deno.errors.NotCapable;
}

/**
 * The newest modification time (ms since the epoch) of any directory or
 * `.java` file under `root` (symlinks not followed, `exclude`d directories
 * pruned); 0 when the root does not exist. Adding or removing a file changes
 * its directory's time, so this detects edits, additions and deletions.
 *
 * @example
 * ```ts
 * import { newestModification } from "./workspace_fs.ts";
 * console.assert(await newestModification("/definitely/not/here") === 0);
 * ```
 */
export async function newestModification(
  root: string,
  options: { exclude?: ReadonlySet<string> } = {},
): Promise<number> {
  let newest = 0;
  const stack = [root];
  while (stack.length > 0) {
    const dir = stack.pop()!;
    try {
      const info = await Deno.lstat(dir);
      newest = Math.max(newest, info.mtime?.getTime() ?? 0);
      for await (const entry of Deno.readDir(dir)) {
        const full = join(dir, entry.name);
        if (entry.isDirectory) {
          if (!options.exclude?.has(full)) stack.push(full);
        } else if (entry.isFile && entry.name.endsWith(".java")) {
          try {
            const f = await Deno.lstat(full);
            newest = Math.max(newest, f.mtime?.getTime() ?? 0);
          } catch (err) {
            if (!unreadable(err)) throw err;
          }
        }
      }
    } catch (err) {
      if (err instanceof Deno.errors.NotFound) continue;
      if (err instanceof Deno.errors.NotADirectory) continue;
      // Unreadable entries are skipped by the snapshot too (and reported
      // there): they never abort the check.
      if (unreadable(err)) continue;
      throw err;
    }
  }
  return newest;
}
