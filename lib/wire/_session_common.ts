/**
 * Option validation and handshake pieces shared by both session roles.
 *
 * @module
 */

import type { Compressor } from "./compression.ts";
import { ProtocolError } from "./errors.ts";
import { PROTOCOL_MAJOR, PROTOCOL_MINOR } from "./limits.ts";
import { sanitizeCapabilities } from "./negotiate.ts";
import { defaultCapabilities } from "./session_options.ts";
import type {
  Capabilities,
  HandshakeReject,
  SupportedVersions,
  U64,
} from "./types.ts";

/** The version range offered when none is configured: 3.0 to 3.0. */
export const DEFAULT_VERSIONS: SupportedVersions = Object.freeze({
  min: Object.freeze({ major: PROTOCOL_MAJOR, minor: PROTOCOL_MINOR }),
  max: Object.freeze({ major: PROTOCOL_MAJOR, minor: PROTOCOL_MINOR }),
});

/** The largest u32. */
export const U32_MAX = 0xffff_ffff;
/** The largest u64. */
export const U64_MAX = 0xffff_ffff_ffff_ffffn;

/**
 * The capabilities to offer: the defaults with `overrides` applied, checked
 * (non-zero u32 limits) and sanitised.
 *
 * @param overrides The configured overrides.
 * @param compressor The local compressor.
 * @returns The capabilities.
 * @throws {RangeError} For out-of-range or zero limits.
 */
export function buildCapabilities(
  overrides: Partial<Capabilities> | undefined,
  compressor: Compressor,
): Capabilities {
  const caps = { ...defaultCapabilities(compressor), ...overrides };
  u32("max_frame_len", caps.max_frame_len);
  u32("max_packet_len", caps.max_packet_len);
  if (caps.max_frame_len === 0 || caps.max_packet_len === 0) {
    throw new RangeError(
      `capabilities must advertise non-zero max_frame_len/max_packet_len (got max_frame_len=${caps.max_frame_len}, max_packet_len=${caps.max_packet_len})`,
    );
  }
  return sanitizeCapabilities(caps, compressor);
}

/**
 * Checks a configured version range and copies it.
 *
 * @param versions The range.
 * @returns A fresh copy.
 * @throws {RangeError} When a number is not a u32.
 */
export function checkVersions(versions: SupportedVersions): SupportedVersions {
  for (const v of [versions.min, versions.max]) {
    u32("major", v.major);
    u32("minor", v.minor);
  }
  return {
    min: { major: versions.min.major, minor: versions.min.minor },
    max: { major: versions.max.major, minor: versions.max.minor },
  };
}

/**
 * The error a session closes with when the handshake was rejected.
 *
 * @param reject The (sanitised) reject.
 * @param remote Whether the peer sent or caused it.
 * @returns The `handshake_rejected` error.
 */
export function rejectedError(
  reject: HandshakeReject,
  remote: boolean,
): ProtocolError {
  return new ProtocolError(
    "handshake_rejected",
    `handshake rejected (code=${reject.code}): ${reject.message}`,
    { remote },
  );
}

/**
 * Checks that an option is a u32.
 *
 * @param name The option's name (for the message).
 * @param value The value.
 * @throws {RangeError} Otherwise.
 */
export function u32(name: string, value: number): void {
  if (!Number.isInteger(value) || value < 0 || value > U32_MAX) {
    throw new RangeError(`${name} must be a u32`);
  }
}

/**
 * Checks that an option is a u64.
 *
 * @param name The option's name (for the message).
 * @param value The value.
 * @throws {RangeError} Otherwise.
 */
export function u64(name: string, value: U64): void {
  const ok = typeof value === "bigint"
    ? value >= 0n && value <= U64_MAX
    : Number.isSafeInteger(value) && value >= 0;
  if (!ok) throw new RangeError(`${name} must be a u64`);
}

/**
 * Checks that an option is a positive safe integer.
 *
 * @param name The option's name (for the message).
 * @param value The value.
 * @returns The value.
 * @throws {RangeError} Otherwise.
 */
export function positive(name: string, value: number): number {
  if (!Number.isSafeInteger(value) || value <= 0) {
    throw new RangeError(`${name} must be a positive safe integer`);
  }
  return value;
}

/**
 * Checks that an option is a non-negative safe integer.
 *
 * @param name The option's name (for the message).
 * @param value The value.
 * @returns The value.
 * @throws {RangeError} Otherwise.
 */
export function nonNegative(name: string, value: number): number {
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new RangeError(`${name} must be a non-negative safe integer`);
  }
  return value;
}
