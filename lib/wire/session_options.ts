/**
 * The session's public vocabulary: its role, the events it reports, the
 * errors it answers with, and the options (with their defaults) of both
 * roles. Re-exported by `session.ts`.
 *
 * @example
 * ```ts
 * import { defaultCapabilities, type SessionEvent } from "./session_options.ts";
 * const event: SessionEvent = { type: "closed" };
 * console.assert(event.type === "closed" && defaultCapabilities().supports_cancel);
 * ```
 *
 * @module
 */

import { type Compressor, compressorSupports } from "./compression.ts";
import type { ProtocolError } from "./errors.ts";
import { DEFAULT_MAX_FRAME_LEN, DEFAULT_MAX_PACKET_LEN } from "./limits.ts";
import type {
  CachedIndexInfo,
  Capabilities,
  HandshakeReject,
  Notification,
  Request,
  RouterWelcome,
  RpcError,
  RpcResult,
  SupportedVersions,
  U64,
  WorkerHello,
} from "./types.ts";

/** A session's role. */
export type SessionRole = "worker" | "router";

/**
 * Everything a session reports, discriminated on `type`. Payload objects
 * are owned by the receiver.
 */
export type SessionEvent =
  /** The handshake completed (both roles). */
  | {
    readonly type: "handshake_done";
    readonly hello: WorkerHello;
    readonly welcome: RouterWelcome;
  }
  /** Router only: the `Hello` passed every check; call `admit` or `reject`. */
  | { readonly type: "admission"; readonly hello: WorkerHello }
  /** Worker only: the router refused us (a `closed` event follows). */
  | { readonly type: "rejected"; readonly reject: HandshakeReject }
  /** The peer sent a request; answer it with `respond(id, ...)`. */
  | { readonly type: "request"; readonly id: U64; readonly request: Request }
  /** The peer answered one of our calls. */
  | { readonly type: "response"; readonly id: U64; readonly result: RpcResult }
  /** The peer sent a notification (unknown ones are dropped). */
  | {
    readonly type: "notification";
    readonly id: U64;
    readonly notification: Notification;
  }
  /** The peer cancelled a request we are serving (still answer it). */
  | { readonly type: "cancel"; readonly id: U64 }
  /** The session closed; `error` is undefined only after a plain `close()`. */
  | { readonly type: "closed"; readonly error?: ProtocolError };

/**
 * The error the session sends for an unknown request (what the reference
 * worker sends).
 *
 * @example
 * ```ts
 * import { UNKNOWN_REQUEST_ERROR } from "./session.ts";
 * console.assert(UNKNOWN_REQUEST_ERROR.code === "invalid_request" && !UNKNOWN_REQUEST_ERROR.retryable);
 * ```
 */
export const UNKNOWN_REQUEST_ERROR: Readonly<RpcError> = Object.freeze({
  code: "invalid_request",
  message: "unknown request",
  retryable: false,
  details: null,
});

/**
 * The error a handler returns for a cancelled request (what the reference
 * worker sends).
 *
 * @example
 * ```ts
 * import { CANCELLED_ERROR } from "./session.ts";
 * console.assert(CANCELLED_ERROR.code === "cancelled" && CANCELLED_ERROR.retryable);
 * ```
 */
export const CANCELLED_ERROR: Readonly<RpcError> = Object.freeze({
  code: "cancelled",
  message: "request cancelled",
  retryable: true,
  details: null,
});

/**
 * The error sent when no request handler is installed (what the reference
 * router sends to worker-initiated requests).
 *
 * @example
 * ```ts
 * import { NO_HANDLER_ERROR } from "./session.ts";
 * console.assert(NO_HANDLER_ERROR.message === "no request handler installed");
 * ```
 */
export const NO_HANDLER_ERROR: Readonly<RpcError> = Object.freeze({
  code: "invalid_request",
  message: "no request handler installed",
  retryable: false,
  details: null,
});

/** Options shared by both roles. */
export interface SessionOptions {
  /**
   * Implements compression other than `"none"`; also decides which
   * algorithms we offer.
   * @default {noCompression}
   */
  compressor?: Compressor;
  /**
   * Payloads shorter than this are sent uncompressed.
   * @default {1024}
   */
  compressionThreshold?: number;
  /**
   * The frame limit (both directions) until the handshake completes.
   * @default {1048576} (worker: at most its offered `max_frame_len`)
   */
  preHandshakeMaxFrameLen?: number;
  /**
   * Milliseconds from `now` until an unfinished handshake times out;
   * `Infinity` disables the deadline.
   * @default {5000}
   */
  handshakeTimeoutMs?: number;
  /**
   * The current time in milliseconds (any monotonic clock).
   * @default {0}
   */
  now?: number;
  /**
   * Answer `Request::Unknown` with {@link UNKNOWN_REQUEST_ERROR} instead of
   * emitting a `request` event.
   * @default {true}
   */
  answerUnknownRequests?: boolean;
  /**
   * Size of the transmit arenas frames are written into; also the upper
   * bound of one `pollTransmit` buffer (a single larger frame is returned
   * alone).
   * @default {262144}
   */
  maxTransmitBytes?: number;
}

/** The worker's `Hello`; every field but `shard_id` has a default. */
export interface WorkerHelloInit {
  /** The shard this worker serves. */
  shard_id: number;
  /** Bearer token the router expects. @default {null} */
  auth_token?: string | null;
  /** Versions offered. @default {3.0 to 3.0} */
  supported_versions?: SupportedVersions;
  /**
   * Overrides of {@link defaultCapabilities}; the compression list is
   * sanitised (unsupported and `"unknown"` dropped, `"none"` appended).
   */
  capabilities?: Partial<Capabilities>;
  /** The index loaded from the cache. @default {null} */
  cached_index_info?: CachedIndexInfo | null;
  /** Build identification. @default {null} */
  worker_build?: string | null;
}

/** Options of {@link WorkerSession}. */
export interface WorkerSessionOptions extends SessionOptions {
  /** What to send in `Hello`. */
  hello: WorkerHelloInit;
}

/** Options of {@link RouterSession}. */
export interface RouterSessionOptions extends SessionOptions {
  /** Versions accepted. @default {3.0 to 3.0} */
  supportedVersions?: SupportedVersions;
  /** Overrides of {@link defaultCapabilities} (sanitised like the worker's). */
  capabilities?: Partial<Capabilities>;
  /** The token every `Hello` must carry; null or absent accepts any. */
  expectedAuthToken?: string | null;
}

/** The router driver's acceptance of a worker. */
export interface Admission {
  /** The id placed in `Welcome`. @default {1} */
  worker_id?: number;
  /** The revision placed in `Welcome`. @default {0} */
  revision?: U64;
}

/**
 * The capabilities a session offers by default: 64 MiB frames and packets,
 * cancel and chunking on, and `["zstd", "none"]` when `compressor` supports
 * zstd (`["none"]` otherwise).
 *
 * @param compressor The local compressor.
 * @returns A fresh capabilities object.
 *
 * @example
 * ```ts
 * import { defaultCapabilities } from "./session.ts";
 * console.assert(defaultCapabilities().supported_compression.join() === "none");
 * ```
 */
export function defaultCapabilities(compressor?: Compressor): Capabilities {
  return {
    max_frame_len: DEFAULT_MAX_FRAME_LEN,
    max_packet_len: DEFAULT_MAX_PACKET_LEN,
    supported_compression: compressorSupports(compressor, "zstd")
      ? ["zstd", "none"]
      : ["none"],
    supports_cancel: true,
    supports_chunking: true,
  };
}
