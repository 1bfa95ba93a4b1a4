/**
 * The error taxonomy of `lib/seed`: every failure is a {@link SeedError} with
 * a stable `code`; limit failures are {@link SeedLimitError}s that also carry
 * `limit`, `max` and `actual`. Messages never contain the cluster token.
 *
 * @module
 */

/**
 * Every stable error code of the seed area.
 *
 * @example
 * ```ts
 * import { SEED_ERROR_CODES } from "./errors.ts";
 * console.assert(SEED_ERROR_CODES.AUTH_FAILED === "auth_failed");
 * ```
 */
export const SEED_ERROR_CODES = {
  /** A frame header is malformed (unknown type, bad priority, non-zero reserved bytes). */
  BAD_HEADER: "bad_header",
  /** A declared frame length is over the current cap. */
  FRAME_TOO_LARGE: "frame_too_large",
  /** A payload is not valid CBOR or does not fit its message schema. */
  MALFORMED: "malformed",
  /** A message arrived that is not valid in the current state. */
  UNEXPECTED_MESSAGE: "unexpected_message",
  /** The peer speaks no protocol version we support. */
  VERSION_MISMATCH: "version_mismatch",
  /** The peer failed to prove knowledge of the cluster token. */
  AUTH_FAILED: "auth_failed",
  /** The cluster is at `maxWorldSize` (live plus pending members). */
  CLUSTER_FULL: "cluster_full",
  /** A node id is already a member or pending. */
  DUPLICATE_NODE: "duplicate_node",
  /** A handshake step did not finish before its deadline. */
  HANDSHAKE_TIMEOUT: "handshake_timeout",
  /** The formation deadline passed before enough joiners were admitted. */
  FORMATION_TIMEOUT: "formation_timeout",
  /** The seed refused the joiner (see the `Reject` code in `rejectCode`). */
  REJECTED: "rejected",
  /** A mesh peer's certificate does not name the expected node. */
  IDENTITY_MISMATCH: "identity_mismatch",
  /** A certificate or CSR could not be made or verified. */
  CERTIFICATE: "certificate",
  /** A checkpoint could not reach a majority of the last agreed membership. */
  NO_QUORUM: "no_quorum",
  /** This node was removed from the cluster. */
  REMOVED: "removed",
  /** A token is not in the accepted format. */
  INVALID_TOKEN: "invalid_token",
  /** An option or argument is invalid. */
  INVALID_OPTION: "invalid_option",
  /** The connection or node is closed. */
  CLOSED: "closed",
  /** An I/O operation failed. */
  IO_ERROR: "io_error",
} as const;

/** A stable seed error code. */
export type SeedErrorCode =
  typeof SEED_ERROR_CODES[keyof typeof SEED_ERROR_CODES];

/** Options for {@link SeedError}. */
export interface SeedErrorOptions {
  /** The underlying error. */
  cause?: unknown;
  /** For `rejected`: the code of the seed's `Reject`. */
  rejectCode?: string;
  /** For `rejected`: the protocol versions the seed supports. */
  supportedVersions?: readonly number[];
  /** For `formation_timeout`: how many joiners were admitted. */
  joined?: number;
  /** For `formation_timeout`: how many were expected. */
  expected?: number;
}

/**
 * An error of the seed area; branch on `code`.
 *
 * @example
 * ```ts
 * import { SeedError } from "./errors.ts";
 * const err = new SeedError("formation_timeout", "2/3 joined", { joined: 2, expected: 3 });
 * console.assert(err.code === "formation_timeout" && err.joined === 2);
 * ```
 */
export class SeedError extends Error {
  /** The stable code. */
  readonly code: SeedErrorCode;
  /** For `rejected`: the seed's reject code. */
  readonly rejectCode?: string;
  /** For `rejected`: the seed's supported versions. */
  readonly supportedVersions?: readonly number[];
  /** For `formation_timeout`: admitted joiners. */
  readonly joined?: number;
  /** For `formation_timeout`: expected joiners. */
  readonly expected?: number;

  /**
   * Creates an error.
   *
   * @param code The stable code.
   * @param message A description (never containing secrets).
   * @param options Cause and code-specific details.
   */
  constructor(
    code: SeedErrorCode,
    message: string,
    options?: SeedErrorOptions,
  ) {
    super(
      message,
      options?.cause === undefined ? undefined : { cause: options.cause },
    );
    this.name = "SeedError";
    this.code = code;
    this.rejectCode = options?.rejectCode;
    this.supportedVersions = options?.supportedVersions;
    this.joined = options?.joined;
    this.expected = options?.expected;
  }
}

/**
 * A {@link SeedError} for a broken limit.
 *
 * @example
 * ```ts
 * import { SeedLimitError } from "./errors.ts";
 * const err = new SeedLimitError("frame_too_large", "maxPreAuthFrameBytes", 4096, 1 << 20);
 * console.assert(err.max === 4096 && err.actual === 1 << 20);
 * ```
 */
export class SeedLimitError extends SeedError {
  /** The limit's name. */
  readonly limit: string;
  /** Its maximum. */
  readonly max: number;
  /** The value seen or declared. */
  readonly actual: number;

  /**
   * Creates a limit error.
   *
   * @param code The stable code.
   * @param limit The limit's name.
   * @param max The maximum.
   * @param actual The value seen.
   */
  constructor(code: SeedErrorCode, limit: string, max: number, actual: number) {
    super(code, `${limit} exceeded: ${actual} > ${max}`);
    this.name = "SeedLimitError";
    this.limit = limit;
    this.max = max;
    this.actual = actual;
  }
}

/**
 * True when `value` is a {@link SeedError} (with `code`, when given).
 *
 * @param value Anything thrown.
 * @param code A code to require.
 * @returns Whether it matches.
 *
 * @example
 * ```ts
 * import { isSeedError, SeedError } from "./errors.ts";
 * console.assert(isSeedError(new SeedError("closed", "bye"), "closed"));
 * ```
 */
export function isSeedError(
  value: unknown,
  code?: SeedErrorCode,
): value is SeedError {
  return value instanceof SeedError &&
    (code === undefined || value.code === code);
}
