/**
 * The unsaved-text overlay: editor buffers the router has forwarded with
 * `updateFile` but that may not be on disk yet. When a worker restarts, its
 * file map is rehydrated from the disk snapshot **plus** this overlay, so
 * unsaved text survives worker crashes (the reference rehydrates from disk
 * only and loses it).
 *
 * Keys are lexically normalized paths (`normalizePath`), so `/w/./A.java`
 * and `/w/A.java` are one entry.
 *
 * @example
 * ```ts
 * import { UnsavedOverlay } from "./overlay.ts";
 * const overlay = new UnsavedOverlay();
 * overlay.set("/w/A.java", "class A { int unsaved; }");
 * const files = overlay.rehydrate([{ path: "/w/A.java", text: "class A {}" }]);
 * console.assert(files[0].text === "class A { int unsaved; }");
 * ```
 *
 * @module
 */

import type { FileText } from "../wire/types.ts";
import { normalizePath } from "./layout.ts";
import { utf8Length } from "../search/ranking.ts";

/** Limits of an {@link UnsavedOverlay}. */
export interface UnsavedOverlayOptions {
  /**
   * Maximum number of overlaid files.
   * @default {100000}
   */
  maxFiles?: number;
  /**
   * Maximum total UTF-8 bytes of overlaid text.
   * @default {536870912}
   */
  maxBytes?: number;
}

/** Options for {@link UnsavedOverlay.rehydrate}. */
export interface RehydrateOptions {
  /**
   * Which overlay-only paths (absent from the snapshot) to add, e.g.
   * `(p) => layout.ownsPath(shardId, p)`. Snapshot files are always kept.
   * @default {() => true}
   */
  include?: (path: string) => boolean;
}

function limit(
  value: number | undefined,
  fallback: number,
  what: string,
): number {
  const v = value ?? fallback;
  if (!Number.isInteger(v) || v < 0) {
    throw new RangeError(`${what} must be a non-negative integer, got ${v}`);
  }
  return v;
}

/**
 * Path to unsaved text, kept router-side.
 *
 * @example Overlay-only files are added when included
 * ```ts
 * import { UnsavedOverlay } from "./overlay.ts";
 * const overlay = new UnsavedOverlay();
 * overlay.set("/w/New.java", "class New {}");
 * overlay.set("/x/Other.java", "class Other {}");
 * const files = overlay.rehydrate([], { include: (p) => p.startsWith("/w/") });
 * console.assert(files.length === 1 && files[0].path === "/w/New.java");
 * ```
 */
export class UnsavedOverlay {
  #texts = new Map<string, { text: string; bytes: number }>();
  #bytes = 0;
  #maxFiles: number;
  #maxBytes: number;

  /**
   * Creates an empty overlay.
   *
   * @param options Limits.
   * @throws {RangeError} On a bad limit.
   */
  constructor(options?: UnsavedOverlayOptions) {
    this.#maxFiles = limit(options?.maxFiles, 100_000, "maxFiles");
    this.#maxBytes = limit(options?.maxBytes, 512 * 1024 * 1024, "maxBytes");
  }

  /** Number of overlaid files. */
  get size(): number {
    return this.#texts.size;
  }

  /** Total UTF-8 bytes of overlaid text. */
  get totalBytes(): number {
    return this.#bytes;
  }

  /**
   * Records a file's unsaved text (replacing any previous text).
   *
   * @param path The file path.
   * @param text The full text.
   * @throws {RangeError} When a limit would be exceeded (nothing changes).
   * @throws {TypeError} When `text` is not a string.
   */
  set(path: string, text: string): void {
    if (typeof text !== "string") throw new TypeError("text must be a string");
    const key = normalizePath(path);
    const old = this.#texts.get(key);
    const bytes = utf8Length(text);
    if (old === undefined && this.#texts.size >= this.#maxFiles) {
      throw new RangeError(
        `overlay holds the maximum of ${this.#maxFiles} files`,
      );
    }
    const total = this.#bytes - (old?.bytes ?? 0) + bytes;
    if (total > this.#maxBytes) {
      throw new RangeError(`overlay text would exceed ${this.#maxBytes} bytes`);
    }
    this.#texts.set(key, { text, bytes });
    this.#bytes = total;
  }

  /**
   * The unsaved text of a file.
   *
   * @param path The file path.
   * @returns The text, or `undefined` when not overlaid.
   */
  get(path: string): string | undefined {
    return this.#texts.get(normalizePath(path))?.text;
  }

  /**
   * Whether a file is overlaid.
   *
   * @param path The file path.
   * @returns True when overlaid.
   */
  has(path: string): boolean {
    return this.#texts.has(normalizePath(path));
  }

  /**
   * Drops a file's entry (saved to disk, or closed without saving).
   *
   * @param path The file path.
   * @returns True when an entry was removed.
   */
  delete(path: string): boolean {
    const key = normalizePath(path);
    const old = this.#texts.get(key);
    if (old === undefined) return false;
    this.#texts.delete(key);
    this.#bytes -= old.bytes;
    return true;
  }

  /** Drops every entry. */
  clear(): void {
    this.#texts.clear();
    this.#bytes = 0;
  }

  /** The overlaid paths (normalized), sorted. */
  paths(): string[] {
    return [...this.#texts.keys()].sort();
  }

  /**
   * Rehydration input for a restarted worker: the disk snapshot with
   * overlaid texts substituted (snapshot order kept), followed by included
   * overlay-only files in path order.
   *
   * @param disk The shard's snapshot read from disk (not mutated).
   * @param options Which overlay-only files to add.
   * @returns New file list.
   */
  rehydrate(disk: readonly FileText[], options?: RehydrateOptions): FileText[] {
    const include = options?.include ?? (() => true);
    const seen = new Set<string>();
    const out = disk.map((file) => {
      const key = normalizePath(file.path);
      seen.add(key);
      const over = this.#texts.get(key);
      return over === undefined ? file : { path: file.path, text: over.text };
    });
    for (const path of this.paths()) {
      if (seen.has(path) || !include(path)) continue;
      out.push({ path, text: this.#texts.get(path)!.text });
    }
    return out;
  }
}
