/**
 * The async connection API over a driven session: promise-returning calls
 * with `AbortSignal` and timeouts, request and notification handlers (with
 * an `AbortSignal` that fires when the peer cancels), and close tracking.
 * Both roles use the same {@link Connection}; `connect` and `listen` build
 * them.
 *
 * @module
 */

import {
  ERROR_CODES,
  LimitExceededError,
  ProtocolError,
} from "../wire/errors.ts";
import type {
  HandshakeReject,
  Notification,
  RejectCode,
  Request,
  Response,
  RouterWelcome,
  RpcError,
  RpcResult,
  U64,
  WorkerHello,
} from "../wire/types.ts";
import type { SessionOptions } from "../wire/session.ts";
import {
  type DrivableSession,
  type FlushWait,
  SessionDriver,
} from "./driver.ts";
import { nodeZstdCompressor } from "./zstd.ts";
import type { Logger } from "./log.ts";
import type { ByteStream } from "./stream.ts";
import { MAX_PENDING_NOTIFICATIONS } from "../wire/limits.ts";

/** The session events the connection consumes. */
export type ConnectionSessionEvent =
  | { type: "handshake_done"; hello: WorkerHello; welcome: RouterWelcome }
  | { type: "admission"; hello: WorkerHello }
  | { type: "rejected"; reject: HandshakeReject }
  | { type: "request"; id: U64; request: Request }
  | { type: "response"; id: U64; result: RpcResult }
  | { type: "notification"; id?: U64; notification: Notification }
  | { type: "cancel"; id: U64 }
  | { type: "closed"; error?: ProtocolError };

/** The session commands the connection issues. */
export interface ConnectionSession
  extends DrivableSession<ConnectionSessionEvent> {
  /** Sends a request; returns its id. */
  call(request: Request): U64;
  /** Answers a request. */
  respond(id: U64, result: RpcResult): void;
  /** Sends a notification. */
  notify(notification: Notification): void;
  /** Sends a cancel for an id. */
  cancel(id: U64): void;
  /** Stops waiting for one of our calls. */
  forget?(id: U64): boolean;
  /** Router only: accepts the worker in the pending admission. */
  admit?(decision: { worker_id: number; revision: U64 }): void;
  /** Router only: rejects the worker in the pending admission. */
  reject?(code: RejectCode, message: string): void;
}

/** Session tuning shared by `connect` and `listen`. */
export interface SessionTuning {
  /** Offer and accept zstd (level 3, via `node:zlib`). @default {true} */
  compression?: boolean;
  /** Payloads shorter than this are not compressed. @default {1024} */
  compressionThreshold?: number;
  /** Upper bound of one coalesced write. @default {262144} */
  maxTransmitBytes?: number;
  /** Largest socket read buffer. @default {1048576} */
  readBufferSize?: number;
}

/**
 * Maps {@link SessionTuning} to session options.
 *
 * @param tuning The tuning.
 * @returns Session options (compressor, threshold, write bound).
 *
 * @example
 * ```ts
 * import { sessionOptions } from "./connection.ts";
 * console.assert(sessionOptions({ compression: false }).compressor === undefined);
 * ```
 */
export function sessionOptions(tuning: SessionTuning): SessionOptions {
  const out: SessionOptions = {};
  if (tuning.compression !== false) out.compressor = nodeZstdCompressor;
  if (tuning.compressionThreshold !== undefined) {
    out.compressionThreshold = tuning.compressionThreshold;
  }
  if (tuning.maxTransmitBytes !== undefined) {
    out.maxTransmitBytes = tuning.maxTransmitBytes;
  }
  return out;
}

/**
 * Options of one {@link Connection.call}. A call has a write phase (until
 * the write of the bytes holding the whole request has completed, that is,
 * they were handed to the socket) and a read phase (until the response).
 */
export interface CallOptions {
  /** Aborting sends a `Cancel` and rejects with code `cancelled`. */
  signal?: AbortSignal;
  /**
   * Budget of the write phase in ms. When it runs out the call rejects with
   * code `timeout` and the connection is closed at once (a writer that is
   * stuck means the peer stopped reading; other calls then fail with
   * `connection_closed`). Unset: the write phase is not watched, at no cost.
   */
  writeTimeoutMs?: number;
  /**
   * Budget of the response in ms: the call rejects with code `timeout` (and
   * sends a `Cancel`; the connection stays open) when it runs out. It counts
   * from the end of the write phase when `writeTimeoutMs` is set (as the
   * reference does), otherwise from the call.
   */
  timeoutMs?: number;
}

/** What a request handler learns besides the request. */
export interface RequestContext {
  /** The request id. */
  id: U64;
  /** Aborted when the peer cancels the request or the connection closes. */
  signal: AbortSignal;
}

/** Answers incoming requests. */
export type RequestHandler = (
  request: Request,
  context: RequestContext,
) => RpcResult | Promise<RpcResult>;

/** Receives incoming notifications. */
export type NotificationHandler = (
  notification: Notification,
) => void | Promise<void>;

/** What the router's admission hook sees. */
export interface AdmissionInfo {
  /** The worker's hello (the token, if any, is replaced by `"<redacted>"`). */
  hello: WorkerHello;
  /** Whether the hello carried an auth token (already checked, if expected). */
  authPresent: boolean;
  /** SHA-256 of the client certificate (mutual TLS only), lowercase hex. */
  peerFingerprint?: string;
  /** The peer's address, when known. */
  remoteAddress?: string;
}

/** The hook's answer: accept with ids, or reject. */
export type AdmissionDecision =
  | { worker_id: number; revision: U64 }
  | { reject: { code: RejectCode; message: string } };

/** Decides whether a worker that passed the protocol checks is admitted. */
export type AdmissionHook = (
  info: AdmissionInfo,
) => AdmissionDecision | Promise<AdmissionDecision>;

/**
 * A call failed because the peer answered with an `RpcError` (code
 * `remote_error`; a peer-side cancellation surfaces as code `cancelled`).
 *
 * @example
 * ```ts
 * import { RemoteCallError } from "./connection.ts";
 * const err = new RemoteCallError({ code: "internal", message: "boom", retryable: false, details: null });
 * console.assert(err.code === "remote_error" && err.rpcError.code === "internal");
 * ```
 */
export class RemoteCallError extends ProtocolError {
  /** The error the peer sent. */
  readonly rpcError: RpcError;

  /**
   * Creates the error.
   *
   * @param rpcError The peer's error.
   */
  constructor(rpcError: RpcError) {
    super(
      rpcError.code === "cancelled"
        ? ERROR_CODES.CANCELLED
        : ERROR_CODES.REMOTE_ERROR,
      rpcError.code === "cancelled"
        ? "request cancelled"
        : `remote error: ${rpcError.code}: ${rpcError.message}`,
      { remote: true },
    );
    this.name = "RemoteCallError";
    this.rpcError = rpcError;
  }
}

/** An established connection (either role). */
export interface Connection extends AsyncDisposable {
  /** `"worker"` for `connect`, `"router"` for `listen`. */
  readonly role: "router" | "worker";
  /** The worker's hello (the token, if any, is redacted on the router). */
  readonly hello: WorkerHello;
  /** The router's welcome (negotiated version and capabilities). */
  readonly welcome: RouterWelcome;
  /** Router role over mutual TLS: the client certificate fingerprint. */
  readonly peerFingerprint?: string;
  /** The peer's address, when known. */
  readonly remoteAddress?: string;
  /** Resolves when the connection is closed: the error, or undefined. */
  readonly closed: Promise<ProtocolError | undefined>;
  /** True once closed. */
  readonly isClosed: boolean;
  /**
   * Sends a request and resolves to the `ok` response value. Rejects with a
   * `ProtocolError`: `remote_error` ({@link RemoteCallError}), `cancelled`,
   * `timeout` (write or read budget, see {@link CallOptions}),
   * `connection_closed`, or a local send failure.
   */
  call(request: Request, options?: CallOptions): Promise<Response>;
  /** Sends a notification (throws a `ProtocolError` when closed). */
  notify(notification: Notification): void;
  /** Installs (or removes) the request handler. */
  setRequestHandler(handler: RequestHandler | undefined): void;
  /**
   * Resolves once the outbound queue is below its limits (see
   * {@link OutboundLimits}), at once when it already is or when the
   * connection is closed. A server calls it before building the next
   * answer, so a peer that stops reading stops the work too.
   */
  whenWritable(): Promise<void>;
  /** Bytes queued for the peer and not yet written to the socket. */
  readonly unflushedBytes: number;
  /** Installs (or removes) the notification handler. */
  setNotificationHandler(handler: NotificationHandler | undefined): void;
  /** Closes the connection; resolves when everything is released. */
  close(): Promise<void>;
}

/**
 * Bounds on what may wait to be written to a peer that does not read.
 * Past either limit the connection stops reading requests (and
 * {@link Connection.whenWritable} waits); when nothing is written for
 * `stallTimeoutMs` while over a limit, the connection is closed with a
 * `timeout` error. Memory held for one peer thus stays below
 * `maxQueuedBytes` plus one answer (at most `max_packet_len`).
 */
export interface OutboundLimits {
  /**
   * Unwritten bytes past which reading stops.
   * @default {33554432} (32 MiB)
   */
  maxQueuedBytes?: number;
  /**
   * Unwritten answers past which reading stops (the reference's queue holds
   * 256 frames).
   * @default {256}
   */
  maxQueuedFrames?: number;
  /**
   * How long the queue may stay full without a byte written before the
   * connection is closed, in ms.
   * @default {60000}
   */
  stallTimeoutMs?: number;
}

/** The defaults of {@link OutboundLimits}. */
export const DEFAULT_OUTBOUND_LIMITS: Required<OutboundLimits> = Object.freeze(
  {
    maxQueuedBytes: 32 * 1024 * 1024,
    maxQueuedFrames: 256,
    stallTimeoutMs: 60_000,
  },
);

/** Options for {@link startConnection}. */
export interface StartConnectionOptions {
  /** Bounds on the outbound queue. */
  outbound?: OutboundLimits;
  /** Our role. */
  role: "router" | "worker";
  /** Router role: the admission hook (default: accept with id 1, revision 0). */
  admit?: AdmissionHook;
  /** Router role: the TLS client certificate fingerprint. */
  peerFingerprint?: string;
  /** The peer's address, for logs and the admission hook. */
  remoteAddress?: string;
  /** Logger for handler failures and closes. */
  logger?: Logger;
  /** How long a request waits for a handler to be installed. @default {500} */
  handlerWaitMs?: number;
  /** Largest read buffer of the driver. @default {1048576} */
  readBufferSize?: number;
  /** Called when the handshake finished, successfully or not. */
  onHandshakeEnd?(ok: boolean): void;
}

interface PendingCall {
  resolve(value: Response): void;
  reject(error: ProtocolError): void;
  cleanup?(): void;
}

/**
 * The context of one request being served. Its `AbortController` is made
 * only when the handler reads `signal` (most never do, and controllers are
 * costly at high request rates).
 */
class IncomingRequest implements RequestContext {
  readonly id: U64;
  #controller: AbortController | undefined;
  #reason: unknown;
  #aborted = false;

  constructor(id: U64) {
    this.id = id;
  }

  get signal(): AbortSignal {
    if (this.#controller === undefined) {
      this.#controller = new AbortController();
      if (this.#aborted) this.#controller.abort(this.#reason);
    }
    return this.#controller.signal;
  }

  abort(reason: unknown): void {
    if (this.#aborted) return;
    this.#aborted = true;
    this.#reason = reason;
    this.#controller?.abort(reason);
  }
}

/** A call in its write phase (see {@link CallOptions.writeTimeoutMs}). */
interface WriteWatch {
  id: U64;
  entry: PendingCall;
  /** When the write phase times out (driver clock). */
  deadline: number;
  timeoutMs: number;
}

interface WaitingRequest {
  id: U64;
  request: Request;
  timer: ReturnType<typeof setTimeout>;
}

function closedError(cause?: ProtocolError): ProtocolError {
  return new ProtocolError(ERROR_CODES.CONNECTION_CLOSED, "connection closed", {
    cause,
  });
}

function redactHello(hello: WorkerHello): WorkerHello {
  return hello.auth_token === null
    ? hello
    : { ...hello, auth_token: "<redacted>" };
}

function internalErrorResult(message: string): RpcResult {
  return {
    status: "err",
    error: { code: "internal", message, retryable: false, details: null },
  };
}

/**
 * The answer sent instead of one that cannot be encoded: `too_large` (with
 * `limit`, `max` and `actual` in `details`) when it outgrew the packet
 * limit, else `internal`.
 */
function unsendableAnswer(err: unknown): RpcResult {
  if (err instanceof LimitExceededError) {
    return {
      status: "err",
      error: {
        code: "too_large",
        message:
          `answer exceeds ${err.limit} (${err.max} bytes): at least ${err.actual} bytes`,
        retryable: false,
        details: JSON.stringify({
          limit: err.limit,
          max: err.max,
          actual: err.actual,
        }),
      },
    };
  }
  return internalErrorResult(
    err instanceof ProtocolError ? err.code : "internal error",
  );
}

class SessionConnection implements Connection {
  readonly role: "router" | "worker";
  readonly peerFingerprint?: string;
  readonly remoteAddress?: string;
  readonly closed: Promise<ProtocolError | undefined>;
  readonly ready: Promise<void>;
  #hello: WorkerHello | undefined;
  #welcome: RouterWelcome | undefined;
  #session: ConnectionSession;
  #driver: SessionDriver<ConnectionSessionEvent>;
  #options: StartConnectionOptions;
  #pending = new Map<U64, PendingCall>();
  #incoming = new Map<U64, IncomingRequest>();
  #waiting: WaitingRequest[] = [];
  /**
   * Calls in their write phase. One timer, armed for the earliest deadline,
   * watches them all (no timer per call).
   */
  #writeWatches = new Set<WriteWatch>();
  #writeTimer: ReturnType<typeof setTimeout> | undefined;
  #writeTimerAt = 0;
  #notifications: Notification[] = [];
  #requestHandler: RequestHandler | undefined;
  #notificationHandler: NotificationHandler | undefined;
  #closeError: ProtocolError | undefined;
  #isClosed = false;
  #handshaken = false;
  #resolveReady!: () => void;
  #rejectReady!: (error: ProtocolError) => void;
  #rejectInfo: HandshakeReject | undefined;
  #resolveClosed!: (error: ProtocolError | undefined) => void;
  #limits: Required<OutboundLimits>;
  /** Answers queued and not yet written. */
  #unflushedReplies = 0;
  #writableWaiters: (() => void)[] = [];
  #stallTimer: ReturnType<typeof setTimeout> | undefined;
  #stallFlushed = 0;

  constructor(
    session: ConnectionSession,
    stream: ByteStream,
    options: StartConnectionOptions,
  ) {
    this.role = options.role;
    this.peerFingerprint = options.peerFingerprint;
    this.remoteAddress = options.remoteAddress;
    this.#session = session;
    this.#options = options;
    this.#limits = { ...DEFAULT_OUTBOUND_LIMITS, ...options.outbound };
    this.ready = new Promise((resolve, reject) => {
      this.#resolveReady = resolve;
      this.#rejectReady = reject;
    });
    this.ready.catch(() => {});
    let resolveClosed!: (error: ProtocolError | undefined) => void;
    this.closed = new Promise((resolve) => resolveClosed = resolve);
    this.#resolveClosed = resolveClosed;
    this.#driver = new SessionDriver(session, stream, {
      onEvent: (event) => this.#onEvent(event),
      isClosed: (event) => event.type === "closed",
      readBufferSize: options.readBufferSize,
      recycleWrites: stream.retainsWrites !== true,
      onIoError: (err) =>
        options.logger?.debug("connection i/o error", { error: err }),
      readGate: () => this.#writable() ? undefined : this.whenWritable(),
    });
    this.#driver.done.then(() => this.#resolveClosed(this.#closeError));
  }

  start(): void {
    this.#driver.start();
  }

  get hello(): WorkerHello {
    if (this.#hello === undefined) throw new TypeError("handshake not done");
    return this.#hello;
  }

  get welcome(): RouterWelcome {
    if (this.#welcome === undefined) throw new TypeError("handshake not done");
    return this.#welcome;
  }

  get isClosed(): boolean {
    return this.#isClosed;
  }

  get unflushedBytes(): number {
    return this.#driver.queuedBytes - this.#driver.flushedBytes;
  }

  #writable(): boolean {
    return this.#isClosed ||
      (this.unflushedBytes < this.#limits.maxQueuedBytes &&
        this.#unflushedReplies < this.#limits.maxQueuedFrames);
  }

  whenWritable(): Promise<void> {
    if (this.#writable()) return Promise.resolve();
    const wait = new Promise<void>((resolve) => {
      this.#writableWaiters.push(resolve);
    });
    this.#watchFlush();
    this.#armStall();
    return wait;
  }

  /**
   * Checks writability again once everything queued so far is written:
   * the queue may be full of notifications (a large `cached_index`), whose
   * flush wakes no answer-count watcher.
   */
  #watchFlush(): void {
    this.#driver.whenFlushed(this.#driver.queuedBytes, () => {
      this.#checkWritable();
      if (
        this.#writableWaiters.length > 0 && !this.#isClosed &&
        this.#driver.flushedBytes < this.#driver.queuedBytes
      ) this.#watchFlush();
    });
  }

  /** Wakes writability waiters once under the limits. */
  #checkWritable(): void {
    if (this.#writableWaiters.length === 0 || !this.#writable()) return;
    const waiters = this.#writableWaiters;
    this.#writableWaiters = [];
    if (this.#stallTimer !== undefined) clearTimeout(this.#stallTimer);
    this.#stallTimer = undefined;
    for (const wake of waiters) wake();
  }

  #armStall(): void {
    if (this.#stallTimer !== undefined || this.#isClosed) return;
    this.#stallFlushed = this.#driver.flushedBytes;
    this.#stallTimer = setTimeout(() => {
      this.#stallTimer = undefined;
      this.#checkWritable();
      if (this.#writableWaiters.length === 0 || this.#isClosed) return;
      if (this.#driver.flushedBytes !== this.#stallFlushed) {
        this.#armStall(); // Slow but moving: keep waiting.
        return;
      }
      this.#options.logger?.warn("peer stopped reading; closing", {
        queued_bytes: this.unflushedBytes,
        queued_replies: this.#unflushedReplies,
      });
      this.#driver.abort(
        new ProtocolError(
          ERROR_CODES.TIMEOUT,
          `peer stopped reading: ${this.unflushedBytes} bytes in ${this.#unflushedReplies} answers unwritten for ${this.#limits.stallTimeoutMs} ms`,
        ),
      );
    }, this.#limits.stallTimeoutMs);
  }

  call(request: Request, options?: CallOptions): Promise<Response> {
    if (this.#isClosed) {
      return Promise.reject(closedError(this.#closeError));
    }
    const signal = options?.signal;
    const timeoutMs = options?.timeoutMs;
    const writeTimeoutMs = options?.writeTimeoutMs;
    if (timeoutMs !== undefined && !(timeoutMs >= 0)) {
      return Promise.reject(
        new RangeError("timeoutMs must be a non-negative number"),
      );
    }
    if (writeTimeoutMs !== undefined && !(writeTimeoutMs >= 0)) {
      return Promise.reject(
        new RangeError("writeTimeoutMs must be a non-negative number"),
      );
    }
    if (signal?.aborted) {
      return Promise.reject(
        new ProtocolError(ERROR_CODES.CANCELLED, "request cancelled"),
      );
    }
    let id: U64;
    try {
      id = this.#session.call(request);
    } catch (err) {
      this.#driver.pump();
      return Promise.reject(err);
    }
    const promise = new Promise<Response>((resolve, reject) => {
      const entry: PendingCall = { resolve, reject };
      this.#pending.set(id, entry);
      if (
        signal !== undefined || timeoutMs !== undefined ||
        writeTimeoutMs !== undefined
      ) {
        this.#watchCall(id, entry, signal, timeoutMs, writeTimeoutMs);
      }
    });
    // Registered first: whatever pump() delivers (even a close) sees it.
    this.#driver.pump();
    return promise;
  }

  /** Arms the cancellation and the timeouts of a pending call. */
  #watchCall(
    id: U64,
    entry: PendingCall,
    signal: AbortSignal | undefined,
    timeoutMs: number | undefined,
    writeTimeoutMs: number | undefined,
  ): void {
    let timer: ReturnType<typeof setTimeout> | undefined;
    let flushWait: FlushWait | undefined;
    let watch: WriteWatch | undefined;
    const abandon = (error: ProtocolError): void => {
      if (this.#pending.get(id) !== entry) return;
      this.#pending.delete(id);
      entry.cleanup?.();
      if (!this.#isClosed) {
        try {
          this.#session.cancel(id);
        } catch {
          // Closing: nothing to cancel.
        }
        this.#session.forget?.(id);
        this.#driver.pump();
      }
      entry.reject(error);
    };
    const onAbort = (): void =>
      abandon(new ProtocolError(ERROR_CODES.CANCELLED, "request cancelled"));
    const startRead = (): void => {
      if (timeoutMs === undefined) return;
      timer = setTimeout(
        () =>
          abandon(
            new ProtocolError(
              ERROR_CODES.TIMEOUT,
              `request timed out after ${timeoutMs} ms`,
            ),
          ),
        timeoutMs,
      );
    };
    entry.cleanup = () => {
      signal?.removeEventListener("abort", onAbort);
      if (timer !== undefined) clearTimeout(timer);
      timer = undefined;
      flushWait?.cancel();
      flushWait = undefined;
      if (watch !== undefined) this.#writeWatches.delete(watch);
      watch = undefined;
    };
    signal?.addEventListener("abort", onAbort, { once: true });
    if (writeTimeoutMs === undefined) {
      startRead();
      return;
    }
    // The request is queued: its write phase ends once every byte queued so
    // far has been written.
    const target = this.#driver.queuedBytes;
    const deadline = this.#driver.now() + writeTimeoutMs;
    watch = { id, entry, deadline, timeoutMs: writeTimeoutMs };
    this.#writeWatches.add(watch);
    this.#armWriteTimer(deadline);
    flushWait = this.#driver.whenFlushed(target, () => {
      flushWait = undefined;
      if (watch !== undefined) this.#writeWatches.delete(watch);
      watch = undefined;
      if (this.#pending.get(id) === entry) startRead();
    });
  }

  /** Makes sure the write timer fires no later than `at`. */
  #armWriteTimer(at: number): void {
    if (this.#writeTimer !== undefined) {
      if (this.#writeTimerAt <= at) return;
      clearTimeout(this.#writeTimer);
    }
    this.#writeTimerAt = at;
    this.#writeTimer = setTimeout(
      () => this.#onWriteTimer(),
      Math.max(0, Math.ceil(at - this.#driver.now())),
    );
  }

  #onWriteTimer(): void {
    this.#writeTimer = undefined;
    if (this.#isClosed) return;
    const now = this.#driver.now();
    let next = Infinity;
    for (const watch of this.#writeWatches) {
      if (watch.deadline <= now) {
        this.#writeTimedOut(watch);
        return;
      }
      if (watch.deadline < next) next = watch.deadline;
    }
    if (next !== Infinity) this.#armWriteTimer(next);
  }

  /** A write phase ran out: the call fails and the connection closes. */
  #writeTimedOut(watch: WriteWatch): void {
    const { id, entry, timeoutMs: writeTimeoutMs } = watch;
    if (this.#pending.get(id) !== entry) return;
    this.#pending.delete(id);
    entry.cleanup?.();
    this.#session.forget?.(id);
    entry.reject(
      new ProtocolError(
        ERROR_CODES.TIMEOUT,
        `timed out writing a request after ${writeTimeoutMs} ms`,
      ),
    );
    this.#driver.abort(
      new ProtocolError(
        ERROR_CODES.TIMEOUT,
        "timed out writing a request: the peer is not reading",
      ),
    );
  }

  notify(notification: Notification): void {
    if (this.#isClosed) throw closedError(this.#closeError);
    try {
      this.#session.notify(notification);
    } finally {
      this.#driver.pump();
    }
  }

  setRequestHandler(handler: RequestHandler | undefined): void {
    this.#requestHandler = handler;
    if (handler === undefined) return;
    const waiting = this.#waiting;
    this.#waiting = [];
    for (const w of waiting) {
      clearTimeout(w.timer);
      this.#dispatchRequest(w.id, w.request);
    }
  }

  setNotificationHandler(handler: NotificationHandler | undefined): void {
    this.#notificationHandler = handler;
    if (handler === undefined) return;
    const queued = this.#notifications;
    this.#notifications = [];
    for (const n of queued) this.#dispatchNotification(n);
  }

  async close(): Promise<void> {
    this.#driver.close();
    await this.closed;
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  #onEvent(event: ConnectionSessionEvent): void {
    switch (event.type) {
      case "handshake_done":
        this.#hello = redactHello(event.hello);
        this.#welcome = event.welcome;
        this.#handshaken = true;
        this.#options.onHandshakeEnd?.(true);
        this.#resolveReady();
        return;
      case "admission":
        this.#runAdmission(event.hello);
        return;
      case "rejected":
        this.#rejectInfo = event.reject;
        return;
      case "response":
        this.#onResponse(event.id, event.result);
        return;
      case "request":
        this.#onRequest(event.id, event.request);
        return;
      case "notification":
        if (event.notification.type === "unknown") return;
        if (this.#notificationHandler !== undefined) {
          this.#dispatchNotification(event.notification);
        } else {
          this.#notifications.push(event.notification);
          if (this.#notifications.length > MAX_PENDING_NOTIFICATIONS) {
            this.#notifications.shift();
          }
        }
        return;
      case "cancel": {
        this.#incoming.get(event.id)?.abort(
          new ProtocolError(ERROR_CODES.CANCELLED, "request cancelled", {
            remote: true,
          }),
        );
        const pending = this.#pending.get(event.id);
        if (pending !== undefined) {
          this.#pending.delete(event.id);
          pending.cleanup?.();
          pending.reject(
            new ProtocolError(ERROR_CODES.CANCELLED, "request cancelled", {
              remote: true,
            }),
          );
        }
        return;
      }
      case "closed":
        this.#onClosed(event.error);
        return;
    }
  }

  #runAdmission(hello: WorkerHello): void {
    const hook = this.#options.admit;
    const info: AdmissionInfo = {
      hello: redactHello(hello),
      authPresent: hello.auth_token !== null,
      peerFingerprint: this.peerFingerprint,
      remoteAddress: this.remoteAddress,
    };
    const apply = (decision: AdmissionDecision): void => {
      if (this.#isClosed) return;
      try {
        if ("reject" in decision) {
          this.#session.reject!(decision.reject.code, decision.reject.message);
        } else {
          this.#session.admit!({
            worker_id: decision.worker_id,
            revision: decision.revision,
          });
        }
      } catch (err) {
        this.#options.logger?.warn("admission failed", { error: err });
        this.#driver.close();
        return;
      }
      this.#driver.pump();
    };
    const fail = (err: unknown): void => {
      this.#options.logger?.warn("admission hook failed", { error: err });
      apply({ reject: { code: "internal", message: "internal error" } });
    };
    if (hook === undefined) {
      apply({ worker_id: 1, revision: 0 });
      return;
    }
    let result: AdmissionDecision | Promise<AdmissionDecision>;
    try {
      result = hook(info);
    } catch (err) {
      fail(err);
      return;
    }
    if (result instanceof Promise) result.then(apply, fail);
    else apply(result);
  }

  #onResponse(id: U64, result: RpcResult): void {
    const pending = this.#pending.get(id);
    if (pending === undefined) return; // late or unknown: dropped
    this.#pending.delete(id);
    pending.cleanup?.();
    switch (result.status) {
      case "ok":
        pending.resolve(result.value);
        return;
      case "err":
        pending.reject(new RemoteCallError(result.error));
        return;
      default:
        pending.reject(
          new ProtocolError(
            ERROR_CODES.UNEXPECTED_RESPONSE,
            "unexpected response payload",
            { remote: true },
          ),
        );
    }
  }

  #onRequest(id: U64, request: Request): void {
    if (this.#requestHandler !== undefined) {
      this.#dispatchRequest(id, request);
      return;
    }
    const timer = setTimeout(() => {
      this.#waiting = this.#waiting.filter((w) => w.timer !== timer);
      this.#respond(id, {
        status: "err",
        error: {
          code: "invalid_request",
          message: "no request handler installed",
          retryable: false,
          details: null,
        },
      });
    }, this.#options.handlerWaitMs ?? 500);
    this.#waiting.push({ id, request, timer });
  }

  #dispatchRequest(id: U64, request: Request): void {
    // The context is registered (for cancels and closes) only while an
    // asynchronous handler runs: a synchronous answer leaves at once.
    const context = new IncomingRequest(id);
    let result: RpcResult | Promise<RpcResult>;
    try {
      result = this.#requestHandler!(request, context);
    } catch (err) {
      this.#handlerFailed(id, request, err);
      return;
    }
    if (!(result instanceof Promise)) {
      this.#respond(id, result);
      return;
    }
    if (this.#isClosed) context.abort(closedError(this.#closeError));
    else this.#incoming.set(id, context);
    result.then(
      (value) => this.#finishRequest(id, context, value),
      (err) => {
        if (this.#incoming.get(id) === context) this.#incoming.delete(id);
        this.#handlerFailed(id, request, err);
      },
    );
  }

  #finishRequest(id: U64, context: IncomingRequest, result: RpcResult): void {
    if (this.#incoming.get(id) === context) this.#incoming.delete(id);
    this.#respond(id, result);
  }

  #handlerFailed(id: U64, request: Request, err: unknown): void {
    this.#options.logger?.warn("request handler failed", {
      request: request.type,
      error: err,
    });
    this.#respond(id, internalErrorResult("internal error"));
  }

  #respond(id: U64, result: RpcResult): void {
    if (this.#isClosed) return;
    try {
      this.#session.respond(id, result);
    } catch (err) {
      // An answer that cannot be sent (too large...): tell the peer instead.
      this.#options.logger?.warn("response not sent", { error: err });
      try {
        this.#session.respond(id, unsendableAnswer(err));
      } catch {
        // Closed meanwhile.
      }
    }
    this.#unflushedReplies++;
    this.#driver.whenFlushed(this.#driver.queuedBytes, () => {
      this.#unflushedReplies--;
      this.#checkWritable();
    });
    this.#driver.pump();
  }

  #dispatchNotification(notification: Notification): void {
    const handler = this.#notificationHandler!;
    const failed = (err: unknown): void => {
      this.#options.logger?.warn("notification handler failed", {
        error: err,
      });
    };
    try {
      const out = handler(notification);
      if (out instanceof Promise) out.catch(failed);
    } catch (err) {
      failed(err);
    }
  }

  #onClosed(error: ProtocolError | undefined): void {
    if (this.#isClosed) return;
    this.#isClosed = true;
    this.#closeError = error;
    if (!this.#handshaken) {
      this.#options.onHandshakeEnd?.(false);
      let failure = error ?? closedError();
      if (
        this.#rejectInfo !== undefined && failure.code !== "handshake_rejected"
      ) {
        failure = new ProtocolError(
          ERROR_CODES.HANDSHAKE_REJECTED,
          `handshake rejected (code=${this.#rejectInfo.code}): ${this.#rejectInfo.message}`,
          { remote: true, cause: error },
        );
      }
      this.#rejectReady(failure);
    }
    const reason = closedError(error);
    for (const [, pending] of this.#pending) {
      pending.cleanup?.();
      pending.reject(reason);
    }
    this.#pending.clear();
    for (const [, context] of this.#incoming) context.abort(reason);
    this.#incoming.clear();
    for (const w of this.#waiting) clearTimeout(w.timer);
    this.#waiting = [];
    this.#writeWatches.clear();
    if (this.#writeTimer !== undefined) clearTimeout(this.#writeTimer);
    this.#writeTimer = undefined;
    this.#notifications = [];
    if (this.#stallTimer !== undefined) clearTimeout(this.#stallTimer);
    this.#stallTimer = undefined;
    const waiters = this.#writableWaiters;
    this.#writableWaiters = [];
    for (const wake of waiters) wake();
  }
}

/**
 * Runs a session over a stream and resolves once its handshake completed.
 * Rejects with the `ProtocolError` that ended the handshake (for example
 * `handshake_rejected`, `handshake_timeout`, `connection_closed`); the
 * stream is closed by then.
 *
 * @param session A fresh worker or router session.
 * @param stream The connected byte stream.
 * @param options Role, admission hook and tuning.
 * @returns The open connection.
 *
 * @example
 * ```ts ignore
 * import { startConnection } from "./connection.ts";
 * const conn = await startConnection(session, stream, { role: "worker" });
 * ```
 */
export async function startConnection(
  session: ConnectionSession,
  stream: ByteStream,
  options: StartConnectionOptions,
): Promise<Connection> {
  const conn = new SessionConnection(session, stream, options);
  conn.start();
  try {
    await conn.ready;
  } catch (err) {
    await conn.closed;
    throw err;
  }
  return conn;
}
