/**
 * The one error taxonomy of loom: every failure caused by bytes, peers or
 * protocol rules is a {@link ProtocolError} with a stable `code`. Bad
 * arguments and configuration throw the built-in `TypeError`/`RangeError`
 * instead. Tests and callers branch on `code`, never on message text.
 *
 * @module
 */

/**
 * Every stable error code, grouped by layer.
 *
 * @example Branch on a code
 * ```ts
 * import { ERROR_CODES } from "./errors.ts";
 * console.assert(ERROR_CODES.FRAME_TOO_LARGE === "frame_too_large");
 * ```
 */
export const ERROR_CODES = {
  // Framing and codec.
  /** A frame's declared length is over the current frame limit. */
  FRAME_TOO_LARGE: "frame_too_large",
  /** A payload (or reassembled/decompressed packet) is over `max_packet_len`. */
  PACKET_TOO_LARGE: "packet_too_large",
  /** Malformed CBOR: bad head, truncated item, stray break, invalid UTF-8... */
  CBOR_INVALID: "cbor_invalid",
  /** Bytes remain after the single top-level CBOR item. */
  TRAILING_BYTES: "trailing_bytes",
  /** The input ended before the item (or frame) was complete. */
  UNEXPECTED_EOF: "unexpected_eof",
  /** A structural or size limit was exceeded (see `LimitExceededError`). */
  LIMIT_EXCEEDED: "limit_exceeded",
  /** Well-formed CBOR that does not fit the v3 schema. */
  SCHEMA_MISMATCH: "schema_mismatch",
  /** A map repeats a key. */
  DUPLICATE_KEY: "duplicate_key",
  /** An integer is out of range for its field (u32/u64/u8). */
  INTEGER_OUT_OF_RANGE: "integer_out_of_range",
  /** A value cannot be encoded (bad integer, oversized field...). */
  ENCODE_FAILED: "encode_failed",
  // Handshake.
  /** The handshake failed (unexpected frame, bad Welcome, ...). */
  HANDSHAKE_FAILED: "handshake_failed",
  /** The router answered `Reject`, or we rejected the peer. */
  HANDSHAKE_REJECTED: "handshake_rejected",
  /** The peer did not complete the handshake in time. */
  HANDSHAKE_TIMEOUT: "handshake_timeout",
  /** The first frame was a legacy v2 message. */
  LEGACY_PROTOCOL: "legacy_protocol",
  // Session.
  /** A rule of the session was broken (id 0, parity, duplicate id...). */
  PROTOCOL_VIOLATION: "protocol_violation",
  /** A frame that is only valid during the handshake arrived after it. */
  UNEXPECTED_FRAME: "unexpected_frame",
  /** A chunk stream broke its sequence or compression rules. */
  CHUNK_SEQUENCE: "chunk_sequence",
  /** A chunk arrived but chunking was not negotiated. */
  CHUNKING_NOT_NEGOTIATED: "chunking_not_negotiated",
  /** A compression algorithm that was not negotiated or is unknown. */
  UNSUPPORTED_COMPRESSION: "unsupported_compression",
  /** Compressed data could not be decompressed. */
  DECOMPRESSION_FAILED: "decompression_failed",
  /** The connection is closed (locally or by the peer). */
  CONNECTION_CLOSED: "connection_closed",
  /** An I/O operation failed. */
  IO_ERROR: "io_error",
  /** A call or operation exceeded its time budget. */
  TIMEOUT: "timeout",
  // RPC results.
  /** The request was cancelled. */
  CANCELLED: "cancelled",
  /** The peer answered with an `RpcError` (see `rpcError` on the error). */
  REMOTE_ERROR: "remote_error",
  /** The peer answered with a response of an unexpected shape. */
  UNEXPECTED_RESPONSE: "unexpected_response",
} as const;

/** A stable error code. */
export type ErrorCode = typeof ERROR_CODES[keyof typeof ERROR_CODES];

/** Options for {@link ProtocolError}. */
export interface ProtocolErrorOptions {
  /** True when the peer (or its bytes) caused the error; false for local misuse. */
  remote?: boolean;
  /** The underlying error, if any. */
  cause?: unknown;
}

/**
 * An error caused by bytes, a peer, or a protocol rule.
 *
 * @example Check a code
 * ```ts
 * import { ProtocolError } from "./errors.ts";
 * const err = new ProtocolError("cbor_invalid", "unexpected break", { remote: true });
 * console.assert(err.code === "cbor_invalid" && err.remote);
 * ```
 */
export class ProtocolError extends Error {
  /** The stable code; branch on this, not on `message`. */
  readonly code: ErrorCode;
  /** True when the peer caused the error. */
  readonly remote: boolean;

  /**
   * Creates an error.
   *
   * @param code A stable code from {@link ERROR_CODES}.
   * @param message A human-readable description (never containing secrets).
   * @param options Whether the peer caused it, and the cause.
   */
  constructor(
    code: ErrorCode,
    message: string,
    options?: ProtocolErrorOptions,
  ) {
    super(
      message,
      options?.cause === undefined ? undefined : { cause: options.cause },
    );
    this.name = "ProtocolError";
    this.code = code;
    this.remote = options?.remote ?? false;
  }
}

/** Options for {@link LimitExceededError}. */
export interface LimitExceededErrorOptions extends ProtocolErrorOptions {
  /** The error code; defaults to `limit_exceeded`. */
  code?: ErrorCode;
}

/**
 * A {@link ProtocolError} for a limit: carries which limit, its maximum, and
 * the value that broke it.
 *
 * @example
 * ```ts
 * import { LimitExceededError, ProtocolError } from "./errors.ts";
 * const err = new LimitExceededError("max_frame_len", 1024, 4096, { code: "frame_too_large" });
 * console.assert(err instanceof ProtocolError && err.actual === 4096 && err.code === "frame_too_large");
 * ```
 */
export class LimitExceededError extends ProtocolError {
  /** The name of the limit, e.g. `max_frame_len`. */
  readonly limit: string;
  /** The largest allowed value. */
  readonly max: number;
  /** The value that was seen or declared. */
  readonly actual: number;

  /**
   * Creates a limit error.
   *
   * @param limit The limit's name.
   * @param max The largest allowed value.
   * @param actual The value that was seen.
   * @param options Code override, remote flag and cause.
   */
  constructor(
    limit: string,
    max: number,
    actual: number,
    options?: LimitExceededErrorOptions,
  ) {
    super(
      options?.code ?? ERROR_CODES.LIMIT_EXCEEDED,
      `${limit} exceeded: ${actual} > ${max}`,
      options,
    );
    this.name = "LimitExceededError";
    this.limit = limit;
    this.max = max;
    this.actual = actual;
  }
}

/**
 * True when `value` is a {@link ProtocolError}, optionally with a given code.
 *
 * @param value Anything that was thrown.
 * @param code The code to require, if any.
 * @returns Whether `value` is such an error.
 *
 * @example
 * ```ts
 * import { isProtocolError, ProtocolError } from "./errors.ts";
 * console.assert(isProtocolError(new ProtocolError("timeout", "slow"), "timeout"));
 * ```
 */
export function isProtocolError(
  value: unknown,
  code?: ErrorCode,
): value is ProtocolError {
  return value instanceof ProtocolError &&
    (code === undefined || value.code === code);
}

/**
 * Formats an error and its `cause` chain as `outer: inner: ...`, skipping a
 * message already contained in an outer one, at most `maxDepth` levels.
 *
 * @param err The error (or any thrown value).
 * @param maxDepth How many causes to follow, the error itself included.
 * @returns The messages joined with `": "`.
 *
 * @example
 * ```ts
 * import { formatErrorChain } from "./errors.ts";
 * const err = new Error("write cache", { cause: new Error("disk full") });
 * console.assert(formatErrorChain(err) === "write cache: disk full");
 * ```
 */
export function formatErrorChain(err: unknown, maxDepth = 8): string {
  const parts: string[] = [];
  let current: unknown = err;
  for (let depth = 0; current !== undefined && depth < maxDepth; depth++) {
    const message = current instanceof Error
      ? current.message
      : String(current);
    if (!parts.some((p) => p.includes(message))) parts.push(message);
    current = current instanceof Error ? current.cause : undefined;
  }
  return parts.join(": ");
}
