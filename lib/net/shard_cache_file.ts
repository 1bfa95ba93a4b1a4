/**
 * The file side of the shard index cache: load `<dir>/shard_<id>.bin`
 * defensively (every problem is a cache miss with a reason, never a throw)
 * and save it atomically (unique temp file, fsync, rename, fsync of the
 * directory). Files are written in the verified format (SHA-256 trailer,
 * computed natively here). The cache directory is created 0700 and refused
 * when group or others may write to it: whoever can write there chooses the
 * symbols every search returns.
 *
 * @module
 */

import {
  decodeShardCache,
  DEFAULT_SHARD_CACHE_LIMITS,
  encodeShardCache,
  ShardCacheError,
  shardCacheFileName,
  type ShardCacheLimits,
  type ShardCacheMissReason,
} from "../worker/shard_cache.ts";
import { createHash } from "node:crypto";
import type { ShardIndex } from "../wire/types.ts";

/** SHA-256 by the runtime's native implementation (same output as pure). */
function nativeSha256(bytes: Uint8Array): Uint8Array {
  return createHash("sha256").update(bytes).digest();
}

/**
 * Mode bits a cache directory must not have: write access for the group or
 * for others.
 */
export const UNSAFE_CACHE_DIR_MODE_BITS = 0o022;

/**
 * Creates `dir` (and missing parents) with mode 0700 whatever the umask,
 * then checks it: it must be a directory, not a symbolic link, and not
 * writable by group or others.
 *
 * @param dir The cache directory.
 * @returns Nothing; throws when the directory cannot be used.
 * @throws {ShardCacheError} reason `unsafe_directory` when group or others
 *   may write to it (or it is a symlink or not a directory).
 * @throws {Deno.errors.PermissionDenied} Or another error when it cannot be
 *   created.
 *
 * @example
 * ```ts
 * import { prepareCacheDirectory } from "./shard_cache_file.ts";
 * const base = await Deno.makeTempDir();
 * await prepareCacheDirectory(`${base}/cache`);
 * console.assert(((await Deno.stat(`${base}/cache`)).mode! & 0o777) === 0o700);
 * await Deno.remove(base, { recursive: true });
 * ```
 */
export async function prepareCacheDirectory(dir: string): Promise<void> {
  let created = false;
  try {
    await Deno.lstat(dir);
  } catch (err) {
    if (!(err instanceof Deno.errors.NotFound)) throw err;
    await Deno.mkdir(dir, { recursive: true, mode: 0o700 });
    created = true;
  }
  if (created && Deno.build.os !== "windows") {
    // mkdir's mode is masked by the umask; make it exactly 0700.
    await Deno.chmod(dir, 0o700);
  }
  const problem = await cacheDirectoryProblem(dir);
  if (problem !== undefined) {
    throw new ShardCacheError("unsafe_directory", problem);
  }
}

/** Why `dir` is not a safe cache directory, or undefined when it is. */
async function cacheDirectoryProblem(
  dir: string,
): Promise<string | undefined> {
  const info = await Deno.lstat(dir);
  if (info.isSymlink) {
    return `cache directory ${dir} is a symbolic link; refusing to use it`;
  }
  if (!info.isDirectory) return `cache directory ${dir} is not a directory`;
  const mode = info.mode;
  if (mode !== null && (mode & UNSAFE_CACHE_DIR_MODE_BITS) !== 0) {
    return `cache directory ${dir} is writable by ${
      (mode & 0o002) !== 0 ? "others" : "its group"
    } (mode ${
      (mode & 0o777).toString(8).padStart(3, "0")
    }); refusing to use it (chmod 700 it)`;
  }
  return undefined;
}

/** The outcome of {@link loadShardCache}. */
export type ShardCacheLoad =
  | { ok: true; path: string; index: ShardIndex }
  | {
    ok: false;
    path: string;
    reason: ShardCacheMissReason;
    /** A human-readable explanation (no file content). */
    message: string;
  };

/** Options for {@link loadShardCache}. */
export interface LoadShardCacheOptions {
  /** Decode limits; defaults to the reference's. */
  limits?: Partial<ShardCacheLimits>;
  /**
   * Also load the reference's layouts, which carry no digest.
   * @default {false}
   */
  acceptReferenceLayout?: boolean;
}

/** Options for {@link saveShardCache}. */
export interface SaveShardCacheOptions {
  /** Encode limits; defaults to the reference's. */
  limits?: Partial<ShardCacheLimits>;
  /**
   * Called after the temp file is written and synced, before the rename.
   * Exists for fault-injection tests; a throw aborts the save.
   */
  beforeRename?: (tempPath: string) => void | Promise<void>;
}

function joinPath(dir: string, name: string): string {
  return dir.endsWith("/") || dir.endsWith("\\")
    ? dir + name
    : `${dir}/${name}`;
}

function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/**
 * Loads and validates a shard's cache. Never throws: a missing file, a
 * symlink (which is deleted, as the reference does), a non-regular file, an
 * oversize file, a read error, a directory writable by others, a digest
 * mismatch or any decode failure is a miss with a reason.
 *
 * @param dir The cache directory.
 * @param shardId The shard whose cache to load.
 * @param options Decode limits.
 * @returns The index, or a miss with its reason.
 *
 * @example A missing cache is a miss
 * ```ts
 * import { loadShardCache } from "./shard_cache_file.ts";
 * const dir = await Deno.makeTempDir();
 * const result = await loadShardCache(dir, 0);
 * console.assert(!result.ok && result.reason === "missing");
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function loadShardCache(
  dir: string,
  shardId: number,
  options?: LoadShardCacheOptions,
): Promise<ShardCacheLoad> {
  let path = dir;
  const miss = (
    reason: ShardCacheMissReason,
    message: string,
  ): ShardCacheLoad => ({ ok: false, path, reason, message });
  try {
    path = joinPath(dir, shardCacheFileName(shardId));
    let problem: string | undefined;
    try {
      problem = await cacheDirectoryProblem(dir);
    } catch (err) {
      if (err instanceof Deno.errors.NotFound) {
        return miss("missing", "no cache directory");
      }
      return miss("io_error", `stat cache directory: ${describe(err)}`);
    }
    if (problem !== undefined) return miss("unsafe_directory", problem);
    const maxBytes = options?.limits?.maxBytes ??
      DEFAULT_SHARD_CACHE_LIMITS.maxBytes;
    let info: Deno.FileInfo;
    try {
      info = await Deno.lstat(path);
    } catch (err) {
      if (err instanceof Deno.errors.NotFound) {
        return miss("missing", "no shard cache file");
      }
      return miss("io_error", `stat shard cache: ${describe(err)}`);
    }
    if (info.isSymlink) {
      let removed = "it was removed";
      try {
        await Deno.remove(path);
      } catch (err) {
        removed = `removing it failed: ${describe(err)}`;
      }
      return miss("symlink", `shard cache is a symlink; ${removed}`);
    }
    if (!info.isFile) {
      return miss("not_regular_file", "shard cache is not a regular file");
    }
    if (info.size > maxBytes) {
      return miss(
        "oversize",
        `shard cache is ${info.size} bytes, over the ${maxBytes} byte limit`,
      );
    }
    let bytes: Uint8Array;
    try {
      bytes = await Deno.readFile(path);
    } catch (err) {
      return miss("io_error", `read shard cache: ${describe(err)}`);
    }
    const index = decodeShardCache(bytes, {
      shardId,
      limits: options?.limits,
      acceptReferenceLayout: options?.acceptReferenceLayout,
      digest: nativeSha256,
    });
    return { ok: true, path, index };
  } catch (err) {
    if (err instanceof ShardCacheError) return miss(err.reason, err.message);
    return miss("io_error", describe(err));
  }
}

let tempCounter = 0;

/**
 * Writes a shard's cache atomically: a reader sees either the old file or
 * the complete new one, even if the process dies mid-write. Creates the
 * directory (0700) if needed.
 *
 * @param dir The cache directory.
 * @param index The index to store (`index.shard_id` names the file).
 * @param options Limits and a fault-injection hook.
 * @returns The path written.
 * @throws {ProtocolError} `encode_failed` when the index breaks a limit;
 *   a `ShardCacheError` (`unsafe_directory`) when the directory is writable
 *   by group or others.
 * @throws {Deno.errors.PermissionDenied} Or any other I/O error; the temp
 *   file is removed and the old cache is left untouched.
 *
 * @example Save, then load
 * ```ts
 * import { loadShardCache, saveShardCache } from "./shard_cache_file.ts";
 * const dir = await Deno.makeTempDir();
 * await saveShardCache(dir, { shard_id: 1, revision: 1, index_generation: 1, symbols: [] });
 * const result = await loadShardCache(dir, 1);
 * console.assert(result.ok && result.index.revision === 1);
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function saveShardCache(
  dir: string,
  index: ShardIndex,
  options?: SaveShardCacheOptions,
): Promise<string> {
  const bytes = encodeShardCache(index, {
    limits: options?.limits,
    digest: nativeSha256,
  });
  const name = shardCacheFileName(index.shard_id);
  const path = joinPath(dir, name);
  await prepareCacheDirectory(dir);
  let file: Deno.FsFile | undefined;
  let tempPath = "";
  for (let attempt = 0; file === undefined; attempt++) {
    tempPath = joinPath(dir, `${name}.tmp.${Deno.pid}.${tempCounter++}`);
    try {
      file = await Deno.open(tempPath, {
        write: true,
        createNew: true,
        mode: 0o600,
      });
    } catch (err) {
      if (!(err instanceof Deno.errors.AlreadyExists) || attempt >= 1000) {
        throw err;
      }
    }
  }
  try {
    try {
      let written = 0;
      while (written < bytes.length) {
        written += await file.write(bytes.subarray(written));
      }
      await file.sync();
    } finally {
      file.close();
    }
    await options?.beforeRename?.(tempPath);
    await Deno.rename(tempPath, path);
  } catch (err) {
    await Deno.remove(tempPath).catch(() => {});
    throw err;
  }
  await syncDirectory(dir);
  return path;
}

async function syncDirectory(dir: string): Promise<void> {
  // Makes the rename durable. Best effort: some platforms and file systems
  // cannot open or fsync a directory, and the rename already happened.
  if (Deno.build.os === "windows") return;
  try {
    using handle = await Deno.open(dir, { read: true });
    await handle.sync();
  } catch {
    // ignored on purpose, see above
  }
}
