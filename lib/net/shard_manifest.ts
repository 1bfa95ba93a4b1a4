/**
 * The router's record of what each cached shard index was built from, kept
 * beside the worker's cache as `<cache-dir>/shard_<id>.files.json`, and the
 * warm-start check that uses it.
 *
 * A worker's cache holds symbols, not the text they came from. Deciding that
 * a cache is current by modification times alone serves old symbols after a
 * file is replaced by an older copy (`cp -p`), and a cache directory reused
 * for another root would serve that root's symbols. The manifest binds the
 * cache to:
 *
 * - the root's identity: its canonical path (symlinks resolved) and the
 *   canonical paths of the whole layout, in shard order;
 * - the cached index's identity (revision, generation, symbol count), so a
 *   worker cache written by another run or left behind by a failed write is
 *   not taken for this one;
 * - every file sent: its path, size, modification time, inode and the
 *   SHA-256 of the text sent; and every skipped file by its stat.
 *
 * The check ({@link checkShardManifest}) stats first: a file whose size,
 * mtime and inode match is taken as unchanged unless it was marked racy
 * (modified within {@link RACY_WINDOW_MS} of the snapshot, where a later edit
 * could keep the same stat). Anything else that differs, or looks
 * suspicious, is confirmed by hashing the bytes on disk; a different hash, a
 * new, missing or unreadable file, or any identity mismatch makes the shard
 * stale.
 *
 * @module
 */

import { createHash } from "node:crypto";
import { realpath } from "node:fs/promises";
import type { CachedIndexInfo, FileText } from "../wire/types.ts";
import { boundsOfFiles, type FileBounds } from "../router/symbol_guard.ts";
import type { SkippedFile } from "./workspace_fs.ts";
import { listJavaFiles } from "./workspace_fs.ts";

/** The manifest format written and read. */
export const SHARD_MANIFEST_FORMAT = 1;

/**
 * Files modified this close (ms) to the start of a snapshot, or later, are
 * recorded as racy: their stat proves nothing and the check hashes them.
 */
export const RACY_WINDOW_MS = 2000;

/** One file of a {@link ShardManifest}. */
export interface ManifestFile {
  /** The path as sent to the worker. */
  path: string;
  /** Size in bytes when recorded. */
  size: number;
  /** Modification time in ms, or null when unknown. */
  mtime: number | null;
  /** Inode number, or null when unknown. */
  ino: number | null;
  /** SHA-256 (hex) of the UTF-8 text sent; null for skipped files. */
  sha256: string | null;
  /** The stat cannot be trusted alone (modified close to the snapshot). */
  racy: boolean;
}

/** What the router records per shard; see the module documentation. */
export interface ShardManifest {
  /** {@link SHARD_MANIFEST_FORMAT}. */
  format: number;
  /** The shard id. */
  shard: number;
  /** The shard root's canonical path. */
  root: string;
  /** Canonical paths of every shard root, in shard order. */
  layout: string[];
  /** The cached index built from these files. */
  index: { revision: string; index_generation: string; symbol_count: number };
  /** Files sent, sorted by path. */
  files: ManifestFile[];
  /** Files skipped (not sent), sorted by path. */
  skipped: ManifestFile[];
}

/** The verdict of {@link checkShardManifest}. */
export type ManifestCheck =
  | { fresh: true; hashed: number }
  | { fresh: false; reason: string };

/**
 * The manifest's file name for a shard.
 *
 * @example
 * ```ts
 * import { shardManifestFileName } from "./shard_manifest.ts";
 * console.assert(shardManifestFileName(2) === "shard_2.files.json");
 * ```
 */
export function shardManifestFileName(shard: number): string {
  return `shard_${shard}.files.json`;
}

function sha256Hex(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex");
}

async function canonical(path: string): Promise<string> {
  try {
    return await realpath(path);
  } catch {
    return path;
  }
}

/**
 * The canonical identity of a layout: every root with symlinks resolved.
 *
 * @example
 * ```ts
 * import { canonicalLayout } from "./shard_manifest.ts";
 * console.assert((await canonicalLayout(["/definitely/not/here"]))[0] === "/definitely/not/here");
 * ```
 */
export function canonicalLayout(roots: readonly string[]): Promise<string[]> {
  return Promise.all(roots.map(canonical));
}

async function statOf(
  path: string,
  racyAfter: number,
  sha256: string | null,
): Promise<ManifestFile> {
  try {
    const info = await Deno.lstat(path);
    const mtime = info.mtime?.getTime() ?? null;
    const ctime = info.ctime?.getTime() ?? null;
    const racy = mtime === null || mtime >= racyAfter ||
      (ctime !== null && ctime >= racyAfter);
    return { path, size: info.size, mtime, ino: info.ino, sha256, racy };
  } catch {
    return { path, size: -1, mtime: null, ino: null, sha256, racy: true };
  }
}

/**
 * What the router keeps of each file it sent to a worker: enough to check
 * the worker's symbols (bounds) and to record the file in the manifest
 * (content hash), without holding the text of a large shard.
 */
export interface SentFile {
  /** The file's path. */
  path: string;
  /** SHA-256 of its UTF-8 text, hex. */
  sha256: string;
  /** Its line count and column bound. */
  bounds: FileBounds;
}

/**
 * Describes a file that is being sent (hash and bounds of its text).
 *
 * @param file The file as sent.
 * @returns Its record.
 *
 * @example
 * ```ts
 * import { describeSentFile } from "./shard_manifest.ts";
 * const f = describeSentFile({ path: "/w/A.java", text: "class A {}\n" });
 * console.assert(f.bounds.lines === 2 && f.sha256.length === 64);
 * ```
 */
export function describeSentFile(file: FileText): SentFile {
  return {
    path: file.path,
    sha256: sha256Hex(new TextEncoder().encode(file.text)),
    bounds: boundsOfFiles([file]).get(file.path)!,
  };
}

/** Inputs of {@link buildShardManifest}. */
export interface BuildShardManifestOptions {
  /** The shard id. */
  shard: number;
  /** The shard's root as configured. */
  root: string;
  /** Every shard root, in shard order, as configured. */
  layout: readonly string[];
  /** The files sent: their text (hashed here) or their records. */
  files: readonly (FileText | SentFile)[];
  /** The files skipped. */
  skipped: readonly SkippedFile[];
  /** The index built from them. */
  index: CachedIndexInfo;
  /** When the snapshot started (ms since the epoch). */
  snapshotStartedAt: number;
}

/**
 * Builds a shard's manifest right after it was indexed.
 *
 * @param options What was sent and what came back.
 * @returns The manifest (files sorted by path).
 *
 * @example
 * ```ts
 * import { buildShardManifest } from "./shard_manifest.ts";
 * const m = await buildShardManifest({
 *   shard: 0, root: "/nowhere", layout: ["/nowhere"], skipped: [],
 *   files: [{ path: "/nowhere/A.java", text: "class A {}" }],
 *   index: { revision: 1, index_generation: 1, symbol_count: 1 },
 *   snapshotStartedAt: Date.now(),
 * });
 * console.assert(m.files[0].racy && m.files[0].sha256!.length === 64);
 * ```
 */
export async function buildShardManifest(
  options: BuildShardManifestOptions,
): Promise<ShardManifest> {
  const enc = new TextEncoder();
  const racyAfter = options.snapshotStartedAt - RACY_WINDOW_MS;
  const files: ManifestFile[] = [];
  for (const f of options.files) {
    const sha256 = "sha256" in f ? f.sha256 : sha256Hex(enc.encode(f.text));
    files.push(await statOf(f.path, racyAfter, sha256));
  }
  const skipped: ManifestFile[] = [];
  for (const f of options.skipped) {
    skipped.push(await statOf(f.path, racyAfter, null));
  }
  const byPath = (a: ManifestFile, b: ManifestFile): number =>
    a.path < b.path ? -1 : a.path > b.path ? 1 : 0;
  return {
    format: SHARD_MANIFEST_FORMAT,
    shard: options.shard,
    root: await canonical(options.root),
    layout: await canonicalLayout(options.layout),
    index: {
      revision: String(options.index.revision),
      index_generation: String(options.index.index_generation),
      symbol_count: options.index.symbol_count,
    },
    files: files.sort(byPath),
    skipped: skipped.sort(byPath),
  };
}

/**
 * Writes a manifest atomically (temp file 0600, rename).
 *
 * @param dir The cache directory (it must exist).
 * @param manifest The manifest.
 * @returns The path written.
 *
 * @example
 * ```ts ignore
 * await writeShardManifest(cacheDir, manifest);
 * ```
 */
export async function writeShardManifest(
  dir: string,
  manifest: ShardManifest,
): Promise<string> {
  const path = `${dir}/${shardManifestFileName(manifest.shard)}`;
  const temp = `${path}.tmp.${Deno.pid}.${crypto.randomUUID()}`;
  try {
    await Deno.writeTextFile(temp, JSON.stringify(manifest), {
      mode: 0o600,
      createNew: true,
    });
    await Deno.rename(temp, path);
  } catch (err) {
    await Deno.remove(temp).catch(() => {});
    throw err;
  }
  return path;
}

/**
 * Removes a shard's manifest (its cache can then never be taken as fresh).
 *
 * @example
 * ```ts ignore
 * await removeShardManifest(cacheDir, 0);
 * ```
 */
export async function removeShardManifest(
  dir: string,
  shard: number,
): Promise<void> {
  await Deno.remove(`${dir}/${shardManifestFileName(shard)}`).catch(() => {});
}

function isFileEntry(v: unknown): v is ManifestFile {
  const f = v as ManifestFile;
  return typeof f === "object" && f !== null && typeof f.path === "string" &&
    typeof f.size === "number" && typeof f.racy === "boolean" &&
    (f.mtime === null || typeof f.mtime === "number") &&
    (f.ino === null || typeof f.ino === "number") &&
    (f.sha256 === null || typeof f.sha256 === "string");
}

/**
 * Reads a manifest; undefined when missing or malformed.
 *
 * @example
 * ```ts
 * import { readShardManifest } from "./shard_manifest.ts";
 * console.assert(await readShardManifest("/definitely/not/here", 0) === undefined);
 * ```
 */
export async function readShardManifest(
  dir: string,
  shard: number,
): Promise<ShardManifest | undefined> {
  let value: ShardManifest;
  try {
    const text = await Deno.readTextFile(
      `${dir}/${shardManifestFileName(shard)}`,
    );
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (
    typeof value !== "object" || value === null ||
    value.format !== SHARD_MANIFEST_FORMAT || value.shard !== shard ||
    typeof value.root !== "string" || !Array.isArray(value.layout) ||
    typeof value.index !== "object" || value.index === null ||
    !Array.isArray(value.files) || !value.files.every(isFileEntry) ||
    !Array.isArray(value.skipped) || !value.skipped.every(isFileEntry)
  ) return undefined;
  return value;
}

/** Inputs of {@link checkShardManifest}. */
export interface CheckShardManifestOptions {
  /** The shard id. */
  shard: number;
  /** The shard's root as configured now. */
  root: string;
  /** Every shard root now, in shard order. */
  layout: readonly string[];
  /** Roots of other shards nested in this one (pruned from the walk). */
  exclude?: ReadonlySet<string>;
  /** The identity of the cached index the worker loaded. */
  cachedIndex: CachedIndexInfo;
}

/**
 * Decides whether a shard's cached index is current: see the module
 * documentation. Never throws; any doubt is `fresh: false` with a reason.
 *
 * @param dir The cache directory.
 * @param options The shard as configured now and the loaded cache.
 * @returns The verdict (with how many files had to be hashed).
 *
 * @example
 * ```ts
 * import { checkShardManifest } from "./shard_manifest.ts";
 * const verdict = await checkShardManifest("/definitely/not/here", {
 *   shard: 0, root: "/r", layout: ["/r"],
 *   cachedIndex: { revision: 1, index_generation: 1, symbol_count: 0 },
 * });
 * console.assert(!verdict.fresh);
 * ```
 */
export async function checkShardManifest(
  dir: string,
  options: CheckShardManifestOptions,
): Promise<ManifestCheck> {
  try {
    return await check(dir, options);
  } catch (err) {
    return {
      fresh: false,
      reason: `check failed: ${err instanceof Error ? err.message : err}`,
    };
  }
}

async function check(
  dir: string,
  options: CheckShardManifestOptions,
): Promise<ManifestCheck> {
  const stale = (reason: string): ManifestCheck => ({ fresh: false, reason });
  const m = await readShardManifest(dir, options.shard);
  if (m === undefined) return stale("no manifest");
  if (m.root !== await canonical(options.root)) {
    return stale("the cache was built for another root");
  }
  const layout = await canonicalLayout(options.layout);
  if (
    layout.length !== m.layout.length ||
    layout.some((r, i) => r !== m.layout[i])
  ) return stale("the cache was built for another layout");
  const c = options.cachedIndex;
  if (
    m.index.revision !== String(c.revision) ||
    m.index.index_generation !== String(c.index_generation) ||
    m.index.symbol_count !== c.symbol_count
  ) return stale("the cached index is not the one recorded");
  // Unreadable entries were skipped (and recorded) when indexing too.
  const listed = await listJavaFiles(options.root, {
    exclude: options.exclude,
    onSkip: () => {},
  });
  const known = new Map<string, ManifestFile>();
  for (const f of m.files) known.set(f.path, f);
  for (const f of m.skipped) known.set(f.path, f);
  // Every file sent must still be listed; a skipped entry may be a
  // directory that cannot be listed (it is not in `listed`).
  const listedSet = new Set(listed);
  for (const f of m.files) {
    if (!listedSet.has(f.path)) return stale(`${f.path} was removed`);
  }
  let hashed = 0;
  for (const path of listed) {
    const entry = known.get(path);
    if (entry === undefined) return stale(`new file ${path}`);
    let info: Deno.FileInfo | undefined;
    try {
      info = await Deno.lstat(path);
    } catch {
      info = undefined;
    }
    if (entry.sha256 === null) {
      // A skipped file: unchanged while its stat is (or while it still
      // cannot be stat'ed, as when it was recorded).
      const unchanged = info === undefined
        ? entry.size === -1
        : info.size === entry.size && entry.mtime !== null &&
          info.mtime?.getTime() === entry.mtime && info.ino === entry.ino;
      if (!unchanged) return stale(`skipped file ${path} changed`);
      continue;
    }
    if (info === undefined) return stale(`cannot stat ${path}`);
    const same = !entry.racy && info.size === entry.size &&
      entry.mtime !== null && info.mtime?.getTime() === entry.mtime &&
      entry.ino !== null && info.ino === entry.ino;
    if (same) continue;
    if (info.size !== entry.size && !entry.racy) {
      return stale(`${path} changed size`);
    }
    let bytes: Uint8Array;
    try {
      bytes = await Deno.readFile(path);
    } catch {
      return stale(`cannot read ${path}`);
    }
    hashed++;
    if (sha256Hex(bytes) !== entry.sha256) return stale(`${path} changed`);
  }
  return { fresh: true, hashed };
}
