/**
 * The worker role's side of the handshake: building and framing the
 * `Hello` the session sends at creation, and reading a `Reject`.
 *
 * @module
 */

import type { Compressor } from "./compression.ts";
import { encodeLengthPrefixedFrame } from "./frame.ts";
import { DEFAULT_PRE_HANDSHAKE_MAX_FRAME_LEN } from "./limits.ts";
import { sanitizeErrorMessage } from "./negotiate.ts";
import {
  buildCapabilities,
  checkVersions,
  DEFAULT_VERSIONS,
  positive,
  u32,
} from "./_session_common.ts";
import type {
  WorkerHelloInit,
  WorkerSessionOptions,
} from "./session_options.ts";
import type { HandshakeReject, WorkerHello } from "./types.ts";

/** What a worker session starts with. */
export interface WorkerStart {
  /** The `Hello` to send. */
  readonly hello: WorkerHello;
  /** The frame limit until the handshake completes. */
  readonly preLimit: number;
  /** The framed `Hello`, ready to queue. */
  readonly frame: Uint8Array;
}

/**
 * Validates the worker's options and frames its `Hello`.
 *
 * @param options The worker's options.
 * @param compressor The local compressor.
 * @returns The hello, the pre-handshake limit and the frame.
 * @throws {TypeError} Without a `hello`.
 * @throws {RangeError} For invalid options or a `Hello` over the limit.
 */
export function startWorkerHandshake(
  options: WorkerSessionOptions,
  compressor: Compressor,
): WorkerStart {
  const hello = buildHello(options.hello, compressor);
  const preLimit = positive(
    "preHandshakeMaxFrameLen",
    options.preHandshakeMaxFrameLen ?? Math.min(
      DEFAULT_PRE_HANDSHAKE_MAX_FRAME_LEN,
      hello.capabilities.max_frame_len,
    ),
  );
  const frame = encodeLengthPrefixedFrame({ type: "hello", body: hello });
  if (frame.length - 4 > preLimit) {
    throw new RangeError(
      `hello frame of ${
        frame.length - 4
      } bytes exceeds the pre-handshake limit ${preLimit}`,
    );
  }
  return { hello, preLimit, frame };
}

/**
 * The `Reject` a router sent, with its message sanitised.
 *
 * @param body The received `Reject`.
 * @returns A fresh, sanitised reject.
 */
export function receivedReject(body: HandshakeReject): HandshakeReject {
  return { code: body.code, message: sanitizeErrorMessage(body.message) };
}

function buildHello(
  init: WorkerHelloInit,
  compressor: Compressor,
): WorkerHello {
  if (init === undefined || init === null) {
    throw new TypeError("hello is required");
  }
  u32("shard_id", init.shard_id);
  return {
    shard_id: init.shard_id,
    auth_token: init.auth_token ?? null,
    supported_versions: checkVersions(
      init.supported_versions ?? DEFAULT_VERSIONS,
    ),
    capabilities: buildCapabilities(init.capabilities, compressor),
    cached_index_info: init.cached_index_info ?? null,
    worker_build: init.worker_build ?? null,
  };
}
