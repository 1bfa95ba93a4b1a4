/**
 * Archive expansion for the file-system source, pure: zip (via `fflate`),
 * gzip (streaming `fflate` inflate, stopped at the member limit), tar
 * (ustar / GNU long names, parsed here) and tar.gz. Declared sizes are
 * checked against the limits before anything is inflated or copied; a
 * member over a limit is reported, not expanded.
 *
 * @module
 */

import { Gunzip, unzipSync } from "fflate";
import { LedgerError } from "./errors.ts";

/** Archive kinds recognised by their magic bytes. */
export type ArchiveKind = "zip" | "gzip" | "tar";

/** Limits of archive expansion. */
export interface ArchiveLimits {
  /** Largest member, bytes. @default {67108864} */
  readonly maxMemberBytes: number;
  /** Most members per archive. @default {100000} */
  readonly maxMembers: number;
  /** Total expanded bytes per archive. @default {268435456} */
  readonly maxTotalBytes: number;
  /** Nesting depth (an archive inside an archive is depth 2). @default {3} */
  readonly maxDepth: number;
}

/**
 * Default {@link ArchiveLimits}.
 *
 * @example
 * ```ts
 * import { DEFAULT_ARCHIVE_LIMITS } from "./archive.ts";
 * console.assert(DEFAULT_ARCHIVE_LIMITS.maxDepth === 3);
 * ```
 */
export const DEFAULT_ARCHIVE_LIMITS: ArchiveLimits = Object.freeze({
  maxMemberBytes: 64 * 1024 * 1024,
  maxMembers: 100_000,
  maxTotalBytes: 256 * 1024 * 1024,
  maxDepth: 3,
});

/** One expanded member. */
export interface ArchiveMember {
  /** Its name inside the archive. */
  readonly name: string;
  /** Its bytes (null when it was over a limit and not expanded). */
  readonly bytes: Uint8Array | null;
  /** Why it was not expanded. */
  readonly skipped: string | null;
}

/**
 * The archive kind of some bytes, by magic number, or null.
 *
 * @param bytes The item.
 * @returns The kind.
 *
 * @example
 * ```ts
 * import { archiveKind } from "./archive.ts";
 * console.assert(archiveKind(new Uint8Array([0x50, 0x4b, 3, 4])) === "zip");
 * ```
 */
export function archiveKind(bytes: Uint8Array): ArchiveKind | null {
  if (
    bytes.length >= 4 && bytes[0] === 0x50 && bytes[1] === 0x4b &&
    ((bytes[2] === 3 && bytes[3] === 4) || (bytes[2] === 5 && bytes[3] === 6))
  ) return "zip";
  if (
    bytes.length >= 3 && bytes[0] === 0x1f && bytes[1] === 0x8b &&
    bytes[2] === 8
  ) {
    return "gzip";
  }
  if (
    bytes.length >= 512 && bytes[257] === 0x75 && bytes[258] === 0x73 &&
    bytes[259] === 0x74 && bytes[260] === 0x61 && bytes[261] === 0x72
  ) return "tar";
  return null;
}

function fail(message: string): LedgerError {
  return new LedgerError("source_failed", message);
}

/**
 * Inflates a gzip stream, stopping with `null` once the output would exceed
 * `max` bytes (so a bomb never allocates more than `max`).
 *
 * @param bytes The gzip bytes.
 * @param max The output limit.
 * @returns The inflated bytes, or null when over the limit.
 * @throws {LedgerError} `source_failed` on corrupt data.
 *
 * @example
 * ```ts
 * import { gunzipBounded } from "./archive.ts";
 * import { gzipSync } from "fflate";
 * const out = gunzipBounded(gzipSync(new Uint8Array(10)), 100);
 * console.assert(out !== null && out.length === 10);
 * console.assert(gunzipBounded(gzipSync(new Uint8Array(10)), 5) === null);
 * ```
 */
export function gunzipBounded(
  bytes: Uint8Array,
  max: number,
): Uint8Array | null {
  const chunks: Uint8Array[] = [];
  let total = 0;
  let over = false;
  let ended = false;
  const stream = new Gunzip((chunk, final) => {
    if (final) ended = true;
    if (over) return;
    total += chunk.length;
    if (total > max) {
      over = true;
      chunks.length = 0;
      return;
    }
    chunks.push(chunk);
  });
  try {
    const step = 64 * 1024;
    for (let i = 0; i < bytes.length && !over; i += step) {
      stream.push(bytes.subarray(i, i + step), i + step >= bytes.length);
    }
  } catch (error) {
    throw fail(`corrupt gzip data: ${(error as Error).message}`);
  }
  if (over) return null;
  // fflate's streaming inflate does not notice a cut stream: check the
  // trailer's ISIZE (the length mod 2^32) against what came out.
  const isize = bytes.length >= 18
    ? new DataView(bytes.buffer, bytes.byteOffset + bytes.length - 4, 4)
      .getUint32(0, true)
    : -1;
  if (!ended || isize !== total % 0x1_0000_0000) {
    throw fail("corrupt gzip data: truncated stream");
  }
  const out = new Uint8Array(total);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

function cString(bytes: Uint8Array, start: number, length: number): string {
  let end = start;
  while (end < start + length && bytes[end] !== 0) end++;
  return new TextDecoder().decode(bytes.subarray(start, end));
}

function octal(bytes: Uint8Array, start: number, length: number): number {
  if (bytes[start] & 0x80) {
    // GNU base-256 size.
    let v = 0;
    for (let i = start + 1; i < start + length; i++) v = v * 256 + bytes[i];
    return v;
  }
  const text = cString(bytes, start, length).trim();
  if (text === "") return 0;
  if (!/^[0-7]+$/.test(text)) throw fail("corrupt tar header (size field)");
  return parseInt(text, 8);
}

/**
 * The regular-file members of a tar archive. Sizes are checked before
 * slicing; members stay views into `bytes`.
 *
 * @param bytes The tar bytes.
 * @param limits The limits.
 * @returns The members.
 * @throws {LedgerError} `source_failed` on a corrupt header or truncation.
 *
 * @example
 * ```ts
 * import { parseTar } from "./archive.ts";
 * console.assert(parseTar(new Uint8Array(1024)).length === 0);
 * ```
 */
export function parseTar(
  bytes: Uint8Array,
  limits: ArchiveLimits = DEFAULT_ARCHIVE_LIMITS,
): ArchiveMember[] {
  const out: ArchiveMember[] = [];
  let offset = 0;
  let longName: string | null = null;
  let total = 0;
  while (offset < bytes.length) {
    if (offset + 512 > bytes.length) {
      if (bytes.subarray(offset).every((b) => b === 0)) break;
      throw fail("truncated tar archive");
    }
    const header = bytes.subarray(offset, offset + 512);
    if (header.every((b) => b === 0)) break;
    const size = octal(header, 124, 12);
    const type = String.fromCharCode(header[156] || 0x30);
    const dataStart = offset + 512;
    if (size > bytes.length - dataStart) {
      throw fail("truncated tar archive");
    }
    const prefix = cString(header, 345, 155);
    const base = cString(header, 0, 100);
    const name = longName ?? (prefix === "" ? base : `${prefix}/${base}`);
    longName = null;
    if (type === "L") {
      longName = cString(bytes, dataStart, size);
    } else if (type === "0" || type === "\0" || type === "7") {
      if (out.length >= limits.maxMembers) {
        out.push({ name, bytes: null, skipped: "maxMembers" });
        break;
      }
      if (size > limits.maxMemberBytes) {
        out.push({ name, bytes: null, skipped: "maxMemberBytes" });
      } else if (total + size > limits.maxTotalBytes) {
        out.push({ name, bytes: null, skipped: "maxTotalBytes" });
      } else {
        total += size;
        out.push({
          name,
          bytes: bytes.subarray(dataStart, dataStart + size),
          skipped: null,
        });
      }
    }
    offset = dataStart + Math.ceil(size / 512) * 512;
  }
  return out;
}

/**
 * The members of a zip archive; declared sizes are checked before any
 * member is inflated.
 *
 * @param bytes The zip bytes.
 * @param limits The limits.
 * @returns The members.
 * @throws {LedgerError} `source_failed` on corrupt data.
 *
 * @example
 * ```ts
 * import { parseZip } from "./archive.ts";
 * import { zipSync } from "fflate";
 * const zip = zipSync({ "a.txt": new TextEncoder().encode("hi") });
 * console.assert(parseZip(zip)[0].name === "a.txt");
 * ```
 */
export function parseZip(
  bytes: Uint8Array,
  limits: ArchiveLimits = DEFAULT_ARCHIVE_LIMITS,
): ArchiveMember[] {
  const skipped: ArchiveMember[] = [];
  let count = 0;
  let total = 0;
  let files: Record<string, Uint8Array>;
  try {
    files = unzipSync(bytes, {
      filter: (file) => {
        if (file.name.endsWith("/")) return false;
        if (count >= limits.maxMembers) {
          skipped.push({ name: file.name, bytes: null, skipped: "maxMembers" });
          return false;
        }
        count++;
        if (file.originalSize > limits.maxMemberBytes) {
          skipped.push({
            name: file.name,
            bytes: null,
            skipped: "maxMemberBytes",
          });
          return false;
        }
        if (total + file.originalSize > limits.maxTotalBytes) {
          skipped.push({
            name: file.name,
            bytes: null,
            skipped: "maxTotalBytes",
          });
          return false;
        }
        total += file.originalSize;
        return true;
      },
    });
  } catch (error) {
    throw fail(`corrupt zip archive: ${(error as Error).message}`);
  }
  const out: ArchiveMember[] = Object.entries(files).map(([name, data]) => ({
    name,
    bytes: data,
    skipped: null,
  }));
  return [...out, ...skipped];
}

/**
 * Expands one archive level: zip and tar members, or a gzip's content (a
 * `.tar.gz` yields the tar's members).
 *
 * @param bytes The archive.
 * @param kind Its kind.
 * @param name Its name (for a gzip member's name).
 * @param limits The limits.
 * @returns The members.
 * @throws {LedgerError} `source_failed` on corrupt data.
 *
 * @example
 * ```ts
 * import { expandArchive } from "./archive.ts";
 * import { gzipSync } from "fflate";
 * const members = expandArchive(gzipSync(new TextEncoder().encode("hello")), "gzip", "a.txt.gz");
 * console.assert(members[0].name === "a.txt");
 * ```
 */
export function expandArchive(
  bytes: Uint8Array,
  kind: ArchiveKind,
  name: string,
  limits: ArchiveLimits = DEFAULT_ARCHIVE_LIMITS,
): ArchiveMember[] {
  if (kind === "zip") return parseZip(bytes, limits);
  if (kind === "tar") return parseTar(bytes, limits);
  const inner = gunzipBounded(bytes, limits.maxMemberBytes);
  const base = name.replace(/\.(tgz)$/i, ".tar").replace(/\.gz$/i, "") ||
    "content";
  if (inner === null) {
    return [{ name: base, bytes: null, skipped: "maxMemberBytes" }];
  }
  if (archiveKind(inner) === "tar") return parseTar(inner, limits);
  return [{ name: base, bytes: inner, skipped: null }];
}
