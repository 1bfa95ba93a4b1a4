/**
 * A zstd `Compressor` backed by `node:zlib` (`zstdCompressSync` at
 * level 3 and `zstdDecompressSync` with `maxOutputLength`). Decompression is
 * bounded: a stream that would expand past the caller's limit fails with
 * `packet_too_large` without producing more than that many bytes, so a zstd
 * bomb costs at most the bound in memory.
 *
 * @module
 */

import * as zlib from "node:zlib";
import {
  ERROR_CODES,
  LimitExceededError,
  ProtocolError,
} from "../wire/errors.ts";
import type { Compressor } from "../wire/compression.ts";
import type { CompressionAlgo } from "../wire/types.ts";

/** The zstd level the reference uses. */
export const ZSTD_LEVEL = 3;

function asBytes(buf: Uint8Array): Uint8Array {
  // Node Buffers are Uint8Arrays; return a plain view over the same memory.
  return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
}

const MIN_CHUNK = 16_384;
const MAX_CHUNK = 1_048_576;

/** An output chunk size near `bytes` (fewer, larger steps for big data). */
function chunkFor(bytes: number): number {
  return Math.max(MIN_CHUNK, Math.min(MAX_CHUNK, bytes));
}

function unsupported(algo: string): ProtocolError {
  return new ProtocolError(
    ERROR_CODES.UNSUPPORTED_COMPRESSION,
    `unsupported compression algorithm: ${algo}`,
    { remote: true },
  );
}

/**
 * A compressor for `"none"` and `"zstd"` backed by `node:zlib`.
 *
 * @example Round trip and a bounded bomb
 * ```ts
 * import { nodeZstdCompressor } from "./zstd.ts";
 * const data = new Uint8Array(100_000);
 * const packed = nodeZstdCompressor.compress("zstd", data);
 * console.assert(packed.length < 1000);
 * console.assert(nodeZstdCompressor.decompress("zstd", packed, 100_000).length === 100_000);
 * try {
 *   nodeZstdCompressor.decompress("zstd", packed, 1000);
 *   console.assert(false);
 * } catch (err) {
 *   console.assert((err as { code?: string }).code === "packet_too_large");
 * }
 * ```
 */
export const nodeZstdCompressor: Compressor = Object.freeze({
  algorithms: Object.freeze(["zstd"]) as readonly CompressionAlgo[],
  compress(algo: CompressionAlgo, data: Uint8Array): Uint8Array {
    if (algo === "none") return data;
    if (algo !== "zstd") throw unsupported(algo);
    return asBytes(
      zlib.zstdCompressSync(data, {
        chunkSize: chunkFor(data.length),
        params: { [zlib.constants.ZSTD_c_compressionLevel]: ZSTD_LEVEL },
      }),
    );
  },
  decompress(
    algo: CompressionAlgo,
    data: Uint8Array,
    maxOutputBytes: number,
  ): Uint8Array {
    if (!Number.isSafeInteger(maxOutputBytes) || maxOutputBytes < 0) {
      throw new RangeError("maxOutputBytes must be a non-negative integer");
    }
    if (algo === "none") {
      if (data.length > maxOutputBytes) {
        throw new LimitExceededError(
          "max_packet_len",
          maxOutputBytes,
          data.length,
          {
            code: ERROR_CODES.PACKET_TOO_LARGE,
            remote: true,
          },
        );
      }
      return data;
    }
    if (algo !== "zstd") throw unsupported(algo);
    if (data.length > maxOutputBytes) {
      throw new LimitExceededError(
        "max_packet_len",
        maxOutputBytes,
        data.length,
        {
          code: ERROR_CODES.PACKET_TOO_LARGE,
          remote: true,
        },
      );
    }
    try {
      // maxOutputLength must be >= 1 for node:zlib.
      return asBytes(
        zlib.zstdDecompressSync(data, {
          maxOutputLength: Math.max(1, maxOutputBytes),
          chunkSize: chunkFor(Math.min(maxOutputBytes, data.length * 8)),
        }),
      );
    } catch (err) {
      if (
        err instanceof RangeError ||
        (err as { code?: unknown }).code === "ERR_BUFFER_TOO_LARGE"
      ) {
        throw new LimitExceededError(
          "max_packet_len",
          maxOutputBytes,
          maxOutputBytes + 1,
          { code: ERROR_CODES.PACKET_TOO_LARGE, remote: true, cause: err },
        );
      }
      throw new ProtocolError(
        ERROR_CODES.DECOMPRESSION_FAILED,
        "zstd decompression failed",
        { remote: true, cause: err },
      );
    }
  },
});
