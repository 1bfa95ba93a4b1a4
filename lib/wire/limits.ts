/**
 * Protocol constants and the hard limits of nova remote RPC v3.
 *
 * Every value here mirrors the reference implementation. The preflight
 * validator's limits are collected in {@link PreflightLimits}; use
 * {@link resolvePreflightLimits} to build a checked set of them.
 *
 * @module
 */

/**
 * The largest frame or payload any decoder accepts (64 MiB), whatever was negotiated.
 *
 * @example
 * ```ts
 * import { MAX_MESSAGE_BYTES } from "./limits.ts";
 * console.assert(MAX_MESSAGE_BYTES === 64 * 1024 * 1024);
 * ```
 */
export const MAX_MESSAGE_BYTES = 67_108_864;

/**
 * The frame limit before the handshake completes (1 MiB).
 *
 * @example
 * ```ts
 * import { DEFAULT_PRE_HANDSHAKE_MAX_FRAME_LEN } from "./limits.ts";
 * console.assert(DEFAULT_PRE_HANDSHAKE_MAX_FRAME_LEN === 1_048_576);
 * ```
 */
export const DEFAULT_PRE_HANDSHAKE_MAX_FRAME_LEN = 1_048_576;

/**
 * The default `max_frame_len` offered in a handshake (64 MiB).
 *
 * @example
 * ```ts
 * import { DEFAULT_MAX_FRAME_LEN, MAX_MESSAGE_BYTES } from "./limits.ts";
 * console.assert(DEFAULT_MAX_FRAME_LEN === MAX_MESSAGE_BYTES);
 * ```
 */
export const DEFAULT_MAX_FRAME_LEN = 67_108_864;

/**
 * The default `max_packet_len` offered in a handshake (64 MiB).
 *
 * @example
 * ```ts
 * import { DEFAULT_MAX_PACKET_LEN } from "./limits.ts";
 * console.assert(DEFAULT_MAX_PACKET_LEN === 67_108_864);
 * ```
 */
export const DEFAULT_MAX_PACKET_LEN = 67_108_864;

/**
 * Chunk streams that may be in progress at once on one connection.
 *
 * @example
 * ```ts
 * import { MAX_INFLIGHT_CHUNKED_PACKETS } from "./limits.ts";
 * console.assert(MAX_INFLIGHT_CHUNKED_PACKETS === 32);
 * ```
 */
export const MAX_INFLIGHT_CHUNKED_PACKETS = 32;

/**
 * The sum of all partial reassembly buffers on one connection (256 MiB).
 *
 * @example
 * ```ts
 * import { MAX_REASSEMBLY_BYTES } from "./limits.ts";
 * console.assert(MAX_REASSEMBLY_BYTES === 256 * 1024 * 1024);
 * ```
 */
export const MAX_REASSEMBLY_BYTES = 268_435_456;

/**
 * Bytes reserved for the chunk envelope: chunk data = `max_frame_len - 256`.
 *
 * @example
 * ```ts
 * import { CHUNK_OVERHEAD_GUESS } from "./limits.ts";
 * console.assert(65536 - CHUNK_OVERHEAD_GUESS === 65280);
 * ```
 */
export const CHUNK_OVERHEAD_GUESS = 256;

/**
 * Payloads smaller than this are never compressed.
 *
 * @example
 * ```ts
 * import { DEFAULT_COMPRESSION_THRESHOLD } from "./limits.ts";
 * console.assert(DEFAULT_COMPRESSION_THRESHOLD === 1024);
 * ```
 */
export const DEFAULT_COMPRESSION_THRESHOLD = 1024;

/**
 * How long a handshake may take, in milliseconds, unless configured: the
 * session's deadline, the listener's and the router's budget per worker,
 * and the TLS accept bound.
 *
 * @example
 * ```ts
 * import { DEFAULT_HANDSHAKE_TIMEOUT_MS } from "./limits.ts";
 * console.assert(DEFAULT_HANDSHAKE_TIMEOUT_MS === 5000);
 * ```
 */
export const DEFAULT_HANDSHAKE_TIMEOUT_MS = 5000;

/**
 * Notifications buffered before a handler is installed (oldest dropped).
 *
 * @example
 * ```ts
 * import { MAX_PENDING_NOTIFICATIONS } from "./limits.ts";
 * console.assert(MAX_PENDING_NOTIFICATIONS === 16);
 * ```
 */
export const MAX_PENDING_NOTIFICATIONS = 16;

/**
 * The protocol's major version.
 *
 * @example
 * ```ts
 * import { PROTOCOL_MAJOR, PROTOCOL_MINOR } from "./limits.ts";
 * console.assert(`${PROTOCOL_MAJOR}.${PROTOCOL_MINOR}` === "3.0");
 * ```
 */
export const PROTOCOL_MAJOR = 3;

/**
 * The protocol's minor version.
 *
 * @example
 * ```ts
 * import { PROTOCOL_MINOR } from "./limits.ts";
 * console.assert(PROTOCOL_MINOR === 0);
 * ```
 */
export const PROTOCOL_MINOR = 0;

/**
 * Files in one `load_files` / `index_shard` request.
 *
 * @example
 * ```ts
 * import { MAX_FILES_PER_MESSAGE } from "./limits.ts";
 * console.assert(MAX_FILES_PER_MESSAGE === 100_000);
 * ```
 */
export const MAX_FILES_PER_MESSAGE = 100_000;

/**
 * Items of a legacy search result (validator key `items`).
 *
 * @example
 * ```ts
 * import { MAX_SEARCH_RESULTS_PER_MESSAGE } from "./limits.ts";
 * console.assert(MAX_SEARCH_RESULTS_PER_MESSAGE === 10_000);
 * ```
 */
export const MAX_SEARCH_RESULTS_PER_MESSAGE = 10_000;

/**
 * Diagnostics in one `diagnostics` response.
 *
 * @example
 * ```ts
 * import { MAX_DIAGNOSTICS_PER_MESSAGE } from "./limits.ts";
 * console.assert(MAX_DIAGNOSTICS_PER_MESSAGE === 100_000);
 * ```
 */
export const MAX_DIAGNOSTICS_PER_MESSAGE = 100_000;

/**
 * Symbols in one `ShardIndex`; also the default maximum of any array.
 *
 * @example
 * ```ts
 * import { MAX_SYMBOLS_PER_SHARD_INDEX } from "./limits.ts";
 * console.assert(MAX_SYMBOLS_PER_SHARD_INDEX === 1_000_000);
 * ```
 */
export const MAX_SYMBOLS_PER_SHARD_INDEX = 1_000_000;

/**
 * Bytes of one `FileText.text`; also the default maximum of any text string (8 MiB).
 *
 * @example
 * ```ts
 * import { MAX_FILE_TEXT_BYTES } from "./limits.ts";
 * console.assert(MAX_FILE_TEXT_BYTES === 8 * 1024 * 1024);
 * ```
 */
export const MAX_FILE_TEXT_BYTES = 8_388_608;

/**
 * Bytes of a path, name, message, token or build string (16 KiB).
 *
 * @example
 * ```ts
 * import { MAX_SMALL_STRING_BYTES } from "./limits.ts";
 * console.assert(MAX_SMALL_STRING_BYTES === 16_384);
 * ```
 */
export const MAX_SMALL_STRING_BYTES = 16_384;

/**
 * Entries of `Capabilities.supported_compression`.
 *
 * @example
 * ```ts
 * import { MAX_COMPRESSION_ALGOS } from "./limits.ts";
 * console.assert(MAX_COMPRESSION_ALGOS === 32);
 * ```
 */
export const MAX_COMPRESSION_ALGOS = 32;

/**
 * Bytes of a `type` or `compression` tag value.
 *
 * @example
 * ```ts
 * import { MAX_TAG_TEXT_BYTES } from "./limits.ts";
 * console.assert(MAX_TAG_TEXT_BYTES === 64);
 * ```
 */
export const MAX_TAG_TEXT_BYTES = 64;

/**
 * Nesting depth of CBOR items (the root is depth 0).
 *
 * @example
 * ```ts
 * import { MAX_CBOR_NESTING } from "./limits.ts";
 * console.assert(MAX_CBOR_NESTING === 64);
 * ```
 */
export const MAX_CBOR_NESTING = 64;

/**
 * Pairs in any CBOR map.
 *
 * @example
 * ```ts
 * import { MAX_CBOR_MAP_LEN } from "./limits.ts";
 * console.assert(MAX_CBOR_MAP_LEN === 1024);
 * ```
 */
export const MAX_CBOR_MAP_LEN = 1024;

/**
 * Bytes of any CBOR map key.
 *
 * @example
 * ```ts
 * import { MAX_CBOR_KEY_BYTES } from "./limits.ts";
 * console.assert(MAX_CBOR_KEY_BYTES === 64);
 * ```
 */
export const MAX_CBOR_KEY_BYTES = 64;

/**
 * Minimum bytes per declared item of arrays under `files`, `items`, `diagnostics`, `symbols`.
 *
 * @example
 * ```ts
 * import { MIN_BYTES_PER_COMPLEX_ARRAY_ITEM } from "./limits.ts";
 * console.assert(MIN_BYTES_PER_COMPLEX_ARRAY_ITEM === 8);
 * ```
 */
export const MIN_BYTES_PER_COMPLEX_ARRAY_ITEM = 8;

/** Limits of the CBOR preflight validator. */
export interface PreflightLimits {
  /**
   * The largest input accepted.
   * @default {67108864}
   */
  maxInputBytes: number;
  /**
   * The deepest nesting level an item may sit at (root = 0).
   * @default {64}
   */
  maxNesting: number;
  /**
   * Pairs in any map.
   * @default {1024}
   */
  maxMapPairs: number;
  /**
   * Bytes of any map key.
   * @default {64}
   */
  maxKeyBytes: number;
}

/**
 * The reference's preflight limits.
 *
 * @example
 * ```ts
 * import { DEFAULT_PREFLIGHT_LIMITS } from "./limits.ts";
 * console.assert(DEFAULT_PREFLIGHT_LIMITS.maxNesting === 64);
 * ```
 */
export const DEFAULT_PREFLIGHT_LIMITS: Readonly<PreflightLimits> = Object
  .freeze({
    maxInputBytes: MAX_MESSAGE_BYTES,
    maxNesting: MAX_CBOR_NESTING,
    maxMapPairs: MAX_CBOR_MAP_LEN,
    maxKeyBytes: MAX_CBOR_KEY_BYTES,
  });

/**
 * Fills in defaults and checks a partial set of preflight limits.
 *
 * @param limits Overrides; each must be a non-negative safe integer.
 * @returns A complete, frozen set of limits.
 * @throws {RangeError} When a value is not a non-negative safe integer.
 *
 * @example
 * ```ts
 * import { resolvePreflightLimits } from "./limits.ts";
 * const limits = resolvePreflightLimits({ maxNesting: 8 });
 * console.assert(limits.maxNesting === 8 && limits.maxMapPairs === 1024);
 * ```
 */
export function resolvePreflightLimits(
  limits: Partial<PreflightLimits> = {},
): Readonly<PreflightLimits> {
  const out = { ...DEFAULT_PREFLIGHT_LIMITS };
  for (const key of Object.keys(out) as (keyof PreflightLimits)[]) {
    const value = limits[key];
    if (value === undefined) continue;
    if (!Number.isSafeInteger(value) || value < 0) {
      throw new RangeError(`${key} must be a non-negative safe integer`);
    }
    out[key] = value;
  }
  return Object.freeze(out);
}
