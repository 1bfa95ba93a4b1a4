/**
 * The error taxonomy of `lib/caps`: every failure is a {@link CapsError}
 * with a stable `code`. Configuration errors also carry the reference's
 * `context` and `field`, so `message` stays byte-identical to it; limit
 * errors are {@link CapsLimitError}s carrying `limit`, `max` and `actual`.
 *
 * @module
 */

/**
 * Every stable error code of the caps area.
 *
 * @example
 * ```ts
 * import { CAPS_ERROR_CODES } from "./errors.ts";
 * console.assert(CAPS_ERROR_CODES.DUPLICATE_INSTANCE === "duplicate_instance");
 * ```
 */
export const CAPS_ERROR_CODES = {
  /** A configuration value is invalid (empty lanes, bad id, bad number...). */
  INVALID_CONFIG: "invalid_config",
  /** A capability token is empty, holds `,`, whitespace or a control character. */
  INVALID_CAPABILITY: "invalid_capability",
  /** A capability set is over `CAPS_MAX_TOKENS` or `CAPS_MAX_BYTES`. */
  CAPS_LIMIT_EXCEEDED: "caps_limit_exceeded",
  /** Another process holds this worker instance's alive key. */
  DUPLICATE_INSTANCE: "duplicate_instance",
  /** The server answered `PING` with something other than `PONG`. */
  UNEXPECTED_REPLY: "unexpected_reply",
  /** The server or the connection failed. */
  BACKEND_ERROR: "backend_error",
  /** No execution with that id exists. */
  EXECUTION_NOT_FOUND: "execution_not_found",
  /** An execution with that id already exists. */
  EXECUTION_EXISTS: "execution_exists",
  /** The execution is not leased (terminal, or back in the queue). */
  EXECUTION_NOT_ACTIVE: "execution_not_active",
  /** The lease id or epoch no longer matches: another claim superseded it. */
  STALE_LEASE: "stale_lease",
  /** The lease ran out before the call. */
  LEASE_EXPIRED: "lease_expired",
  /** The worker lacks a capability the execution requires. */
  CAPABILITY_MISMATCH: "capability_mismatch",
  /** A `mark dead` reason is too long or holds control characters. */
  INVALID_REASON: "invalid_reason",
  /** The backend is closed. */
  CLOSED: "closed",
} as const;

/** A stable caps error code. */
export type CapsErrorCode =
  typeof CAPS_ERROR_CODES[keyof typeof CAPS_ERROR_CODES];

/** Options for {@link CapsError}. */
export interface CapsErrorOptions {
  /** The reference's error context, e.g. `worker_config`. */
  context?: string;
  /** The configuration field at fault, e.g. `capabilities`. */
  field?: string;
  /** The underlying error. */
  cause?: unknown;
}

/**
 * An error of the caps area. `message` is the reference's message text
 * (for configuration errors, without the `config: context.field:` prefix,
 * which {@link describeCapsError} adds).
 *
 * @example
 * ```ts
 * import { CapsError } from "./errors.ts";
 * const err = new CapsError("invalid_capability", "capability token must not be empty", {
 *   context: "worker_config",
 *   field: "capabilities",
 * });
 * console.assert(err.code === "invalid_capability" && err.field === "capabilities");
 * ```
 */
export class CapsError extends Error {
  /** The stable code; branch on this, never on `message`. */
  readonly code: CapsErrorCode;
  /** The reference's context, if any. */
  readonly context: string | undefined;
  /** The field at fault, if any. */
  readonly field: string | undefined;

  /**
   * Creates an error.
   *
   * @param code A code from {@link CAPS_ERROR_CODES}.
   * @param message The message (never containing secrets).
   * @param options Context, field and cause.
   */
  constructor(
    code: CapsErrorCode,
    message: string,
    options?: CapsErrorOptions,
  ) {
    super(
      message,
      options?.cause === undefined ? undefined : { cause: options.cause },
    );
    this.name = "CapsError";
    this.code = code;
    this.context = options?.context;
    this.field = options?.field;
  }
}

/**
 * A {@link CapsError} for a limit: which limit, its maximum and the value
 * that broke it.
 *
 * @example
 * ```ts
 * import { CapsLimitError } from "./errors.ts";
 * const err = new CapsLimitError("CAPS_MAX_TOKENS", 256, 300, "too many");
 * console.assert(err.code === "caps_limit_exceeded" && err.actual === 300);
 * ```
 */
export class CapsLimitError extends CapsError {
  /** The limit's name, e.g. `CAPS_MAX_BYTES`. */
  readonly limit: string;
  /** The largest allowed value. */
  readonly max: number;
  /** The value seen. */
  readonly actual: number;

  /**
   * Creates a limit error.
   *
   * @param limit The limit's name.
   * @param max The largest allowed value.
   * @param actual The value seen.
   * @param message The message.
   * @param options Context, field and cause.
   */
  constructor(
    limit: string,
    max: number,
    actual: number,
    message: string,
    options?: CapsErrorOptions,
  ) {
    super(CAPS_ERROR_CODES.CAPS_LIMIT_EXCEEDED, message, options);
    this.name = "CapsLimitError";
    this.limit = limit;
    this.max = max;
    this.actual = actual;
  }
}

/**
 * True when `value` is a {@link CapsError}, optionally with a given code.
 *
 * @param value Anything thrown.
 * @param code The code to require, if any.
 * @returns Whether it is such an error.
 *
 * @example
 * ```ts
 * import { CapsError, isCapsError } from "./errors.ts";
 * console.assert(isCapsError(new CapsError("closed", "closed"), "closed"));
 * ```
 */
export function isCapsError(
  value: unknown,
  code?: CapsErrorCode,
): value is CapsError {
  return value instanceof CapsError &&
    (code === undefined || value.code === code);
}

/**
 * Formats an error the way the reference displays it: configuration errors
 * as `config: {context}.{field}: {message}` (or `config: {context}:
 * {message}` without a field), backend errors as `backend: {context}:
 * {message}`, anything else by its message.
 *
 * @param err The error.
 * @returns One line.
 *
 * @example
 * ```ts
 * import { CapsError, describeCapsError } from "./errors.ts";
 * const err = new CapsError("invalid_config", "at least one lane is required", { context: "worker_config" });
 * console.assert(describeCapsError(err) === "config: worker_config: at least one lane is required");
 * ```
 */
export function describeCapsError(err: unknown): string {
  if (!(err instanceof CapsError)) {
    return err instanceof Error ? err.message : String(err);
  }
  if (err.code === CAPS_ERROR_CODES.BACKEND_ERROR) {
    return err.context === undefined
      ? `backend: ${err.message}`
      : `backend: ${err.context}: ${err.message}`;
  }
  if (err.context === undefined) return err.message;
  return err.field === undefined
    ? `config: ${err.context}: ${err.message}`
    : `config: ${err.context}.${err.field}: ${err.message}`;
}
