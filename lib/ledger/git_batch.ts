/**
 * An incremental decoder of `git cat-file --batch` output, pure: feed
 * stdout chunks of any size, get one event per object. An object whose
 * declared size is over the limit is skipped without allocating (its bytes
 * are discarded as they arrive).
 *
 * Format per object: `<oid> SP <type> SP <size> LF <size bytes> LF`, or
 * `<name> SP missing LF`.
 *
 * @module
 */

import { LedgerError, LedgerLimitError } from "./errors.ts";

/** One decoded object. */
export type CatFileEvent =
  | {
    readonly kind: "object";
    readonly oid: string;
    readonly type: string;
    readonly bytes: Uint8Array;
  }
  | { readonly kind: "missing"; readonly name: string }
  | {
    readonly kind: "too_large";
    readonly oid: string;
    readonly type: string;
    readonly size: number;
  };

/** Limits of {@link CatFileBatchDecoder}. */
export interface CatFileLimits {
  /** Largest object kept, bytes. @default {67108864} */
  readonly maxObjectBytes: number;
  /** Longest header line, bytes. @default {4096} */
  readonly maxHeaderBytes: number;
}

/**
 * Default {@link CatFileLimits}.
 *
 * @example
 * ```ts
 * import { DEFAULT_CAT_FILE_LIMITS } from "./git_batch.ts";
 * console.assert(DEFAULT_CAT_FILE_LIMITS.maxHeaderBytes === 4096);
 * ```
 */
export const DEFAULT_CAT_FILE_LIMITS: CatFileLimits = Object.freeze({
  maxObjectBytes: 64 * 1024 * 1024,
  maxHeaderBytes: 4096,
});

const decoder = new TextDecoder();

/**
 * The decoder.
 *
 * @example
 * ```ts
 * import { CatFileBatchDecoder } from "./git_batch.ts";
 * const d = new CatFileBatchDecoder();
 * const events = d.push(new TextEncoder().encode("abc blob 2\nhi\nzzz missing\n"));
 * d.finish();
 * console.assert(events.length === 2 && events[0].kind === "object" && events[1].kind === "missing");
 * ```
 */
export class CatFileBatchDecoder {
  readonly #limits: CatFileLimits;
  #header: number[] = [];
  #body: Uint8Array | null = null;
  #bodyAt = 0;
  #skipLeft = 0;
  #pending: { oid: string; type: string; size: number } | null = null;
  #needLf = false;

  /**
   * Creates a decoder.
   *
   * @param limits The limits.
   */
  constructor(limits: CatFileLimits = DEFAULT_CAT_FILE_LIMITS) {
    this.#limits = limits;
  }

  /**
   * Feeds a chunk.
   *
   * @param chunk Bytes from stdout.
   * @returns The objects completed by this chunk.
   * @throws {LedgerError} `source_failed` on a malformed header;
   *   `limit_exceeded` on an over-long header line.
   */
  push(chunk: Uint8Array): CatFileEvent[] {
    const out: CatFileEvent[] = [];
    let i = 0;
    while (i < chunk.length) {
      if (this.#needLf) {
        if (chunk[i] !== 0x0a) {
          throw new LedgerError(
            "source_failed",
            "git cat-file: missing newline after object",
          );
        }
        this.#needLf = false;
        i++;
        continue;
      }
      if (this.#pending !== null) {
        const p = this.#pending;
        if (this.#body !== null) {
          const n = Math.min(chunk.length - i, p.size - this.#bodyAt);
          this.#body.set(chunk.subarray(i, i + n), this.#bodyAt);
          this.#bodyAt += n;
          i += n;
          if (this.#bodyAt === p.size) {
            out.push({
              kind: "object",
              oid: p.oid,
              type: p.type,
              bytes: this.#body,
            });
            this.#body = null;
            this.#pending = null;
            this.#needLf = true;
          }
        } else {
          const n = Math.min(chunk.length - i, this.#skipLeft);
          this.#skipLeft -= n;
          i += n;
          if (this.#skipLeft === 0) {
            out.push({ kind: "too_large", ...p });
            this.#pending = null;
            this.#needLf = true;
          }
        }
        continue;
      }
      const nl = chunk.indexOf(0x0a, i);
      const end = nl < 0 ? chunk.length : nl;
      if (this.#header.length + (end - i) > this.#limits.maxHeaderBytes) {
        throw new LedgerLimitError(
          "maxHeaderBytes",
          this.#limits.maxHeaderBytes,
          this.#header.length + (end - i),
          "git cat-file header",
        );
      }
      for (let k = i; k < end; k++) this.#header.push(chunk[k]);
      i = end;
      if (nl < 0) break;
      i++;
      const line = decoder.decode(new Uint8Array(this.#header));
      this.#header = [];
      const parts = line.split(" ");
      if (parts.length === 2 && parts[1] === "missing") {
        out.push({ kind: "missing", name: parts[0] });
        continue;
      }
      if (parts.length !== 3 || !/^[0-9]+$/.test(parts[2])) {
        throw new LedgerError(
          "source_failed",
          "git cat-file: malformed header line",
        );
      }
      const size = Number(parts[2]);
      const p = { oid: parts[0], type: parts[1], size };
      if (size > this.#limits.maxObjectBytes) {
        this.#skipLeft = size;
        this.#body = null;
      } else {
        this.#body = new Uint8Array(size);
        this.#bodyAt = 0;
      }
      this.#pending = p;
      if (size === 0) {
        // Complete immediately.
        if (this.#body !== null) {
          out.push({ kind: "object", ...p, bytes: this.#body });
        } else {
          out.push({ kind: "too_large", ...p });
        }
        this.#body = null;
        this.#pending = null;
        this.#needLf = true;
      }
    }
    return out;
  }

  /**
   * Checks that the stream ended between objects.
   *
   * @throws {LedgerError} `source_failed` when it ended inside one.
   */
  finish(): void {
    if (this.#pending !== null || this.#header.length > 0 || this.#needLf) {
      throw new LedgerError(
        "source_failed",
        "git cat-file: output ended inside an object",
      );
    }
  }
}
