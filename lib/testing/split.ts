/**
 * Helpers to feed incremental decoders every way a stream can arrive:
 * whole, byte by byte, and split in two at every offset.
 *
 * @module
 */

import { concatBytes } from "../wire/bytes.ts";

/** One way of cutting a byte stream into chunks. */
export interface Chunking {
  /** A short description, e.g. `whole`, `byte-by-byte`, `split@17`. */
  label: string;
  /** The chunks, in order; concatenated they give the input. */
  chunks: Uint8Array[];
}

/**
 * The input as one chunk.
 *
 * @param bytes The stream.
 * @returns A single chunk (a copy).
 *
 * @example
 * ```ts
 * import { whole } from "./split.ts";
 * console.assert(whole(new Uint8Array([1, 2])).length === 1);
 * ```
 */
export function whole(bytes: Uint8Array): Uint8Array[] {
  return [bytes.slice()];
}

/**
 * The input as one-byte chunks.
 *
 * @param bytes The stream.
 * @returns One chunk per byte.
 *
 * @example
 * ```ts
 * import { byteByByte } from "./split.ts";
 * console.assert(byteByByte(new Uint8Array([1, 2, 3])).length === 3);
 * ```
 */
export function byteByByte(bytes: Uint8Array): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let i = 0; i < bytes.length; i++) out.push(bytes.slice(i, i + 1));
  return out;
}

/**
 * The input split in two at `offset` (either part may be empty).
 *
 * @param bytes The stream.
 * @param offset Where to cut, 0..length.
 * @returns Two chunks.
 * @throws {RangeError} When `offset` is outside 0..length.
 *
 * @example
 * ```ts
 * import { splitAt } from "./split.ts";
 * const [a, b] = splitAt(new Uint8Array([1, 2, 3]), 1);
 * console.assert(a.length === 1 && b.length === 2);
 * ```
 */
export function splitAt(bytes: Uint8Array, offset: number): Uint8Array[] {
  if (!Number.isInteger(offset) || offset < 0 || offset > bytes.length) {
    throw new RangeError("offset out of range");
  }
  return [bytes.slice(0, offset), bytes.slice(offset)];
}

/**
 * Every two-part split of the input, offsets 0..length.
 *
 * @param bytes The stream.
 * @returns One chunking per offset, labelled `split@N`.
 *
 * @example
 * ```ts
 * import { splitEverywhere } from "./split.ts";
 * console.assert([...splitEverywhere(new Uint8Array(3))].length === 4);
 * ```
 */
export function* splitEverywhere(bytes: Uint8Array): Generator<Chunking> {
  for (let i = 0; i <= bytes.length; i++) {
    yield { label: `split@${i}`, chunks: splitAt(bytes, i) };
  }
}

/**
 * Every chunking a decoder must handle: whole, byte by byte, and split at
 * every offset.
 *
 * @param bytes The stream.
 * @returns The chunkings, lazily.
 *
 * @example Check that a decoder gives the same result for every chunking
 * ```ts
 * import { allChunkings } from "./split.ts";
 * const input = new Uint8Array([1, 2, 3]);
 * for (const { chunks } of allChunkings(input)) {
 *   const total = chunks.reduce((n, c) => n + c.length, 0);
 *   console.assert(total === 3);
 * }
 * ```
 */
export function* allChunkings(bytes: Uint8Array): Generator<Chunking> {
  yield { label: "whole", chunks: whole(bytes) };
  yield { label: "byte-by-byte", chunks: byteByByte(bytes) };
  yield* splitEverywhere(bytes);
}

/**
 * Concatenates byte arrays.
 *
 * @deprecated Use `concatBytes` from `@loom/loom/wire` (`lib/wire/bytes.ts`);
 * this alias goes in the next release.
 *
 * @param parts The arrays.
 * @returns One fresh array.
 *
 * @example
 * ```ts
 * import { concat } from "./split.ts";
 * console.assert(concat([new Uint8Array([1]), new Uint8Array([2, 3])]).length === 3);
 * ```
 */
export function concat(parts: readonly Uint8Array[]): Uint8Array {
  return concatBytes(parts);
}
