/**
 * The router role's side of the handshake: its `Hello` policy, the verdict
 * on a received `Hello`, and the `Welcome` or `Reject` that answers the
 * driver's admission decision.
 *
 * @module
 */

import type { Compressor } from "./compression.ts";
import type { ProtocolError } from "./errors.ts";
import { encodeLengthPrefixedFrame } from "./frame.ts";
import { DEFAULT_PRE_HANDSHAKE_MAX_FRAME_LEN } from "./limits.ts";
import {
  evaluateHello,
  type EvaluateHelloOptions,
  sanitizeErrorMessage,
} from "./negotiate.ts";
import {
  buildCapabilities,
  checkVersions,
  DEFAULT_VERSIONS,
  positive,
  rejectedError,
} from "./_session_common.ts";
import type { Admission, RouterSessionOptions } from "./session_options.ts";
import type {
  Capabilities,
  HandshakeReject,
  RouterWelcome,
  U64,
  WorkerHello,
} from "./types.ts";

/** What a router session starts with. */
export interface RouterStart {
  /** How a `Hello` is judged. */
  readonly policy: EvaluateHelloOptions;
  /** The frame limit until the handshake completes. */
  readonly preLimit: number;
}

/** The version and capabilities chosen for an acceptable `Hello`. */
export interface AdmissionVerdict {
  /** The version to put in `Welcome`. */
  readonly version: RouterWelcome["chosen_version"];
  /** The capabilities to put in `Welcome`. */
  readonly caps: Capabilities;
}

/** A `Reject` to queue and the error to close with. */
export interface Rejection {
  /** The framed `Reject`. */
  readonly frame: Uint8Array;
  /** The `handshake_rejected` error. */
  readonly error: ProtocolError;
}

/**
 * Validates the router's options.
 *
 * @param options The router's options.
 * @param compressor The local compressor.
 * @returns The hello policy and the pre-handshake limit.
 * @throws {RangeError} For invalid options.
 */
export function startRouterHandshake(
  options: RouterSessionOptions,
  compressor: Compressor,
): RouterStart {
  const policy: EvaluateHelloOptions = {
    supportedVersions: checkVersions(
      options.supportedVersions ?? DEFAULT_VERSIONS,
    ),
    capabilities: buildCapabilities(options.capabilities, compressor),
    expectedAuthToken: options.expectedAuthToken ?? null,
  };
  const preLimit = positive(
    "preHandshakeMaxFrameLen",
    options.preHandshakeMaxFrameLen ?? DEFAULT_PRE_HANDSHAKE_MAX_FRAME_LEN,
  );
  return { policy, preLimit };
}

/**
 * Judges a received `Hello`.
 *
 * @param hello The worker's `Hello`.
 * @param policy The router's policy.
 * @returns The verdict to keep for the admission, or the rejection.
 */
export function judgeHello(
  hello: WorkerHello,
  policy: EvaluateHelloOptions,
): AdmissionVerdict | Rejection {
  const verdict = evaluateHello(hello, policy);
  if (!verdict.ok) return rejection(verdict.reject, true);
  return { version: verdict.version, caps: verdict.capabilities };
}

/**
 * The driver's refusal: its message sanitised, framed, and the local error.
 *
 * @param reject The driver's reject.
 * @returns The rejection.
 */
export function refuseAdmission(reject: HandshakeReject): Rejection {
  const message = sanitizeErrorMessage(reject.message);
  return rejection({ code: reject.code, message }, false);
}

/**
 * The `Welcome` answering an admission.
 *
 * @param admission The driver's admission.
 * @param hello The worker's `Hello`.
 * @param verdict The verdict on that `Hello`.
 * @returns The `Welcome`.
 */
export function buildWelcome(
  admission: Admission,
  hello: WorkerHello,
  verdict: AdmissionVerdict,
): RouterWelcome {
  return {
    worker_id: admission.worker_id ?? 1,
    shard_id: hello.shard_id,
    revision: normalizeU64(admission.revision ?? 0),
    chosen_version: verdict.version,
    chosen_capabilities: verdict.caps,
  };
}

function rejection(reject: HandshakeReject, remote: boolean): Rejection {
  return {
    frame: encodeLengthPrefixedFrame({ type: "reject", body: reject }),
    error: rejectedError(reject, remote),
  };
}

function normalizeU64(value: U64): U64 {
  return typeof value === "bigint" && value <= BigInt(Number.MAX_SAFE_INTEGER)
    ? Number(value)
    : value;
}
