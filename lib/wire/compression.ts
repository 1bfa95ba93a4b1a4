/**
 * The compression seam of the session: the pure core never links a zstd
 * implementation itself. A {@link Compressor} is injected through the session
 * options; `lib/net` supplies one backed by `node:zlib`.
 *
 * @module
 */

import { ProtocolError } from "./errors.ts";
import type { CompressionAlgo } from "./types.ts";

/**
 * Compresses and decompresses packet data for the algorithms it lists.
 *
 * `decompress` must never produce more than `maxOutputBytes` bytes: it throws
 * a {@link ProtocolError} with code `packet_too_large` as soon as the output
 * would exceed the bound (a decompression bomb is rejected without being
 * inflated), and `decompression_failed` for corrupt input. Any other error it
 * throws is reported by the session as `decompression_failed`.
 *
 * @example A compressor that only knows "none"
 * ```ts
 * import type { Compressor } from "./compression.ts";
 * const identity: Compressor = {
 *   algorithms: [],
 *   compress: (_algo, data) => data,
 *   decompress: (_algo, data) => data,
 * };
 * console.assert(identity.compress("none", new Uint8Array(1)).length === 1);
 * ```
 */
export interface Compressor {
  /**
   * The algorithms (other than `"none"`, which needs no compressor) that this
   * compressor implements. When absent, `["zstd"]` is assumed.
   */
  readonly algorithms?: readonly CompressionAlgo[];
  /**
   * Compresses `data` with `algo`.
   *
   * @param algo The algorithm (never `"none"` or `"unknown"`).
   * @param data The bytes to compress.
   * @returns The compressed bytes.
   */
  compress(algo: CompressionAlgo, data: Uint8Array): Uint8Array;
  /**
   * Decompresses `data` with `algo`, producing at most `maxOutputBytes` bytes.
   *
   * @param algo The algorithm (never `"none"` or `"unknown"`).
   * @param data The compressed bytes.
   * @param maxOutputBytes The largest output allowed.
   * @returns The decompressed bytes.
   */
  decompress(
    algo: CompressionAlgo,
    data: Uint8Array,
    maxOutputBytes: number,
  ): Uint8Array;
}

/**
 * A compressor that implements no algorithm: sessions using it only offer
 * and accept `"none"`. It is the default of both session roles.
 *
 * @example
 * ```ts
 * import { compressorSupports, noCompression } from "./compression.ts";
 * console.assert(!compressorSupports(noCompression, "zstd"));
 * console.assert(compressorSupports(noCompression, "none"));
 * ```
 */
export const noCompression: Compressor = Object.freeze({
  algorithms: Object.freeze([]) as readonly CompressionAlgo[],
  compress(algo: CompressionAlgo): Uint8Array {
    throw new ProtocolError(
      "unsupported_compression",
      `unsupported compression algorithm: ${algo}`,
    );
  },
  decompress(algo: CompressionAlgo): Uint8Array {
    throw new ProtocolError(
      "unsupported_compression",
      `unsupported compression algorithm: ${algo}`,
      { remote: true },
    );
  },
});

/**
 * Whether `compressor` can handle `algo`. `"none"` is always supported and
 * `"unknown"` never is.
 *
 * @param compressor The compressor (or undefined for none).
 * @param algo The algorithm to test.
 * @returns True when data in `algo` can be produced and read.
 *
 * @example
 * ```ts
 * import { compressorSupports, type Compressor } from "./compression.ts";
 * const fake: Compressor = { compress: (_a, d) => d, decompress: (_a, d) => d };
 * console.assert(compressorSupports(fake, "zstd"));
 * console.assert(!compressorSupports(fake, "unknown"));
 * ```
 */
export function compressorSupports(
  compressor: Compressor | undefined,
  algo: CompressionAlgo,
): boolean {
  if (algo === "none") return true;
  if (algo === "unknown" || compressor === undefined) return false;
  const list = compressor.algorithms ?? ["zstd"];
  return list.includes(algo);
}
