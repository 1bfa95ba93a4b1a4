/**
 * The machinery both session roles share: the constructor's common
 * options, the receive path (frames to events), the send path (payloads to
 * frames), request ids, cancellation and close. The role-specific handshake
 * steps live in `_session_worker.ts` and `_session_router.ts`; the public
 * entry is `session.ts`.
 *
 * @example
 * ```ts
 * import { Session } from "./session_core.ts";
 * import { createRouterSession } from "./session.ts";
 * console.assert(createRouterSession() instanceof Session);
 * ```
 *
 * @module
 */

import { decodeRpcPayload, decodeWireFrame } from "./codec.ts";
import { CborWriter } from "./_cbor_write.ts";
import { writeRpcPayload } from "./_encode.ts";
import {
  type Compressor,
  compressorSupports,
  noCompression,
} from "./compression.ts";
import { LimitExceededError, ProtocolError } from "./errors.ts";
import { encodeLengthPrefixedFrame, FrameDecoder } from "./frame.ts";
import {
  CHUNK_OVERHEAD_GUESS,
  DEFAULT_COMPRESSION_THRESHOLD,
  MAX_MESSAGE_BYTES,
} from "./limits.ts";
import { checkWelcome, type EvaluateHelloOptions } from "./negotiate.ts";
import { Reassembler } from "./reassembly.ts";
import {
  chunkFrameLen,
  type FastPacket,
  packetFrameLen,
  parseCanonicalPacket,
  TransmitQueue,
} from "./_transmit_queue.ts";
import {
  isLegacyWorkerHello,
  LEGACY_ONLY_V3_MESSAGE,
  LEGACY_ONLY_V3_REPLY,
} from "./_legacy.ts";
import {
  ROUTER_TRANSITIONS,
  type SessionAction,
  type SessionInput,
  type SessionState,
  type Transition,
  WORKER_TRANSITIONS,
} from "./_transitions.ts";
import {
  nonNegative,
  positive,
  rejectedError,
  U64_MAX,
} from "./_session_common.ts";
import { receivedReject, startWorkerHandshake } from "./_session_worker.ts";
import {
  type AdmissionVerdict,
  buildWelcome,
  judgeHello,
  refuseAdmission,
  startRouterHandshake,
} from "./_session_router.ts";
import {
  type Admission,
  type RouterSessionOptions,
  type SessionEvent,
  type SessionRole,
  UNKNOWN_REQUEST_ERROR,
  type WorkerSessionOptions,
} from "./session_options.ts";
import type {
  CompressionAlgo,
  HandshakeReject,
  Notification,
  PacketChunk,
  Request,
  RouterWelcome,
  RpcPayload,
  RpcResult,
  U64,
  WireFrame,
  WorkerHello,
} from "./types.ts";
import { DEFAULT_HANDSHAKE_TIMEOUT_MS } from "./limits.ts";

const FRAME_INPUT: Readonly<Record<WireFrame["type"], SessionInput>> = {
  hello: "hello_frame",
  welcome: "welcome_frame",
  reject: "reject_frame",
  packet: "packet_frame",
  packet_chunk: "chunk_frame",
  unknown: "unknown_frame",
};

/** What an input carries into its action (see `#apply`). */
interface InputContext {
  /** The decoded frame of a frame input. */
  frame?: WireFrame;
  /** The frame's bytes (for the legacy check). */
  raw?: Uint8Array;
  /** The decode error, or the reason given to `close`. */
  error?: ProtocolError;
  /** The router's admission (`admit`). */
  admission?: Admission;
  /** The router's refusal (`reject`). */
  reject?: HandshakeReject;
}

/**
 * The machinery shared by {@link WorkerSession} and {@link RouterSession}.
 * Create sessions with {@link createWorkerSession} and
 * {@link createRouterSession}.
 *
 * @example Drive either role through the common interface
 * ```ts
 * import { createWorkerSession, type Session } from "./session.ts";
 * const s: Session = createWorkerSession({ hello: { shard_id: 1 } });
 * console.assert(s.nextDeadline() === 5000 && s.pollEvent() === undefined);
 * ```
 */
export abstract class Session {
  readonly #role: SessionRole;
  readonly #table: Readonly<
    Record<string, Readonly<Record<string, Transition<SessionState>>>>
  >;
  #state: SessionState;
  readonly #decoder: FrameDecoder;
  readonly #tx: TransmitQueue;
  #events: SessionEvent[] = [];
  #eventHead = 0;
  #deadline: number | undefined;
  readonly #compressor: Compressor;
  readonly #threshold: number;
  readonly #answerUnknown: boolean;
  readonly #preLimit: number;

  // Handshake data.
  #hello: WorkerHello | undefined;
  #welcome: RouterWelcome | undefined;
  readonly #helloPolicy: EvaluateHelloOptions | undefined;
  #verdict: AdmissionVerdict | undefined;

  // Negotiated data plane.
  #frameLimit = 0;
  #packetLimit = 0;
  #chunking = false;
  #cancel = false;
  #sendAlgo: CompressionAlgo = "none";
  #recvAlgos: CompressionAlgo[] = [];
  #reassembler: Reassembler | undefined;
  #nextId: U64;
  readonly #outgoing = new Set<U64>();
  readonly #incoming = new Set<U64>();
  #closeError: ProtocolError | undefined;
  /** True while frames are views into the caller's buffer. */
  #borrowed = false;

  /**
   * Builds a session (use the role's factory).
   *
   * @param role The role.
   * @param options The options of that role (validated).
   * @throws {RangeError} For invalid options.
   */
  protected constructor(
    role: SessionRole,
    options: WorkerSessionOptions | RouterSessionOptions,
  ) {
    this.#role = role;
    this.#table = role === "worker" ? WORKER_TRANSITIONS : ROUTER_TRANSITIONS;
    this.#state = role === "worker" ? "awaiting_welcome" : "awaiting_hello";
    this.#nextId = role === "worker" ? 1 : 2;
    this.#compressor = options.compressor ?? noCompression;
    this.#threshold = nonNegative(
      "compressionThreshold",
      options.compressionThreshold ?? DEFAULT_COMPRESSION_THRESHOLD,
    );
    this.#answerUnknown = options.answerUnknownRequests ?? true;
    this.#tx = new TransmitQueue(
      positive("maxTransmitBytes", options.maxTransmitBytes ?? 262_144),
    );
    const now = options.now ?? 0;
    if (!Number.isFinite(now)) throw new RangeError("now must be finite");
    const timeout = options.handshakeTimeoutMs ?? DEFAULT_HANDSHAKE_TIMEOUT_MS;
    if (!(timeout >= 0)) {
      throw new RangeError("handshakeTimeoutMs must be non-negative");
    }
    this.#deadline = timeout === Infinity ? undefined : now + timeout;

    if (role === "worker") {
      const start = startWorkerHandshake(
        options as WorkerSessionOptions,
        this.#compressor,
      );
      this.#hello = start.hello;
      this.#helloPolicy = undefined;
      this.#preLimit = start.preLimit;
      this.#tx.pushRaw(start.frame);
    } else {
      const start = startRouterHandshake(
        options as RouterSessionOptions,
        this.#compressor,
      );
      this.#helloPolicy = start.policy;
      this.#preLimit = start.preLimit;
    }
    // Every frame is acted on before the next one is read, and nothing
    // keeps a view of it (chunk data is copied while `#borrowed`), so the
    // decoder may reuse its buffers.
    this.#decoder = new FrameDecoder({
      maxFrameLen: this.#preLimit,
      reuseBuffers: true,
    });
  }

  /** The role: `"worker"` or `"router"`. */
  get role(): SessionRole {
    return this.#role;
  }

  /** The current state (see `_transitions.ts`). */
  get state(): SessionState {
    return this.#state;
  }

  /** The `Hello`: ours (worker) or the peer's once received (router). */
  get hello(): WorkerHello | undefined {
    return this.#hello;
  }

  /** The `Welcome`, once the handshake completed. */
  get welcome(): RouterWelcome | undefined {
    return this.#welcome;
  }

  /** The error that closed the session, if any. */
  get closeError(): ProtocolError | undefined {
    return this.#closeError;
  }

  /** Our calls still waiting for a response. */
  get pendingCalls(): number {
    return this.#outgoing.size;
  }

  /** Peer requests we have not answered yet. */
  get inFlightRequests(): number {
    return this.#incoming.size;
  }

  /** Bytes waiting in `pollTransmit`. */
  get bufferedTransmitBytes(): number {
    return this.#tx.byteLength;
  }

  /**
   * Feeds bytes read from the peer. Frames are parsed and acted on at once;
   * the resulting events wait in {@link pollEvent}. Input after the close is
   * ignored. A handshake whose deadline has passed times out first.
   *
   * @param bytes The bytes (borrowed for the duration of the call).
   * @param now The current time in milliseconds.
   */
  receive(bytes: Uint8Array, now: number): void {
    if (this.#state === "closed") return;
    if (this.#deadline !== undefined && now >= this.#deadline) {
      this.handleTimeout(now);
      return;
    }
    if (this.#state === "open" && this.#decoder.bufferedBytes === 0) {
      const used = this.#receiveViews(bytes);
      if (used === bytes.length || this.#isClosed()) return;
      bytes = bytes.subarray(used);
    }
    this.#decoder.push(bytes);
    this.#drain();
  }

  /**
   * A buffer the next read from the peer may fill directly (the rest of a
   * large frame being received), saving a copy; then call
   * {@link receiveInPlace} with the byte count. Undefined when the bytes
   * must go through {@link receive}.
   *
   * @param minBytes The smallest buffer worth reading into.
   * @returns The buffer (valid until the next call on this session).
   */
  receiveBuffer(minBytes = 65_536): Uint8Array | undefined {
    if (this.#state === "closed") return undefined;
    return this.#decoder.writable(minBytes);
  }

  /**
   * Feeds `n` bytes read into the buffer from {@link receiveBuffer}.
   *
   * @param n The byte count.
   * @param now The current time in milliseconds.
   */
  receiveInPlace(n: number, now: number): void {
    if (this.#state === "closed") return;
    if (this.#deadline !== undefined && now >= this.#deadline) {
      this.handleTimeout(now);
      return;
    }
    this.#decoder.commit(n);
    this.#drain();
  }

  /**
   * Reports the end of the peer's stream.
   *
   * @param now The current time in milliseconds.
   */
  receiveEnd(now: number): void {
    void now;
    this.#apply("eof", {});
  }

  /**
   * Takes the next event.
   *
   * @returns The event, or undefined when none is waiting.
   */
  pollEvent(): SessionEvent | undefined {
    if (this.#eventHead >= this.#events.length) return undefined;
    const event = this.#events[this.#eventHead++];
    if (this.#eventHead === this.#events.length) {
      this.#events = [];
      this.#eventHead = 0;
    }
    return event;
  }

  /**
   * Takes the bytes to write next: queued frames coalesced into one buffer
   * (bounded by `maxTransmitBytes`, unless a single frame is larger). Call
   * it until it returns undefined.
   *
   * @returns The bytes (owned by the caller), or undefined when idle.
   */
  pollTransmit(): Uint8Array | undefined {
    return this.#tx.poll();
  }

  /**
   * Optionally gives back a buffer from {@link pollTransmit} once it has
   * been written and nothing refers to it any more, so that the session can
   * reuse its memory for a later large frame.
   *
   * @param bytes A buffer returned by `pollTransmit`.
   */
  releaseTransmit(bytes: Uint8Array): void {
    this.#tx.release(bytes);
  }

  /**
   * The time at which {@link handleTimeout} must be called (the handshake
   * deadline), or undefined when no deadline is armed.
   *
   * @returns A time in milliseconds, or undefined.
   */
  nextDeadline(): number | undefined {
    return this.#deadline;
  }

  /**
   * Reports the time; a passed handshake deadline closes the session with
   * `handshake_timeout`.
   *
   * @param now The current time in milliseconds.
   */
  handleTimeout(now: number): void {
    if (this.#deadline === undefined || now < this.#deadline) return;
    this.#apply("timeout", {});
  }

  /**
   * Sends a request.
   *
   * @param request The request.
   * @returns The request id (router: 2, 4, ...; worker: 1, 3, ...).
   * @throws {ProtocolError} Local errors, nothing sent: `connection_closed`,
   * `protocol_violation` (handshake not done), `packet_too_large`,
   * `frame_too_large` (needs chunking, not negotiated), `encode_failed`.
   */
  call(request: Request): U64 {
    this.#checkSend();
    const id = this.#allocateId();
    this.#sendPayload(id, { type: "request", body: request });
    this.#outgoing.add(id);
    return id;
  }

  /**
   * Answers a peer request, exactly once per id.
   *
   * @param id The request's id.
   * @param result The outcome.
   * @throws {ProtocolError} As {@link call}, and `protocol_violation` when
   * no request with this id is in flight (never received, or already
   * answered). When sending fails the request stays in flight, so an error
   * result can still be sent.
   */
  respond(id: U64, result: RpcResult): void {
    this.#checkSend();
    if (!this.#incoming.has(id)) {
      throw new ProtocolError(
        "protocol_violation",
        `no request in flight with id ${id}`,
      );
    }
    this.#sendPayload(id, { type: "response", body: result });
    this.#incoming.delete(id);
  }

  /**
   * Sends a notification (it uses a fresh id of our parity, as the
   * reference does).
   *
   * @param notification The notification.
   * @returns The id used.
   * @throws {ProtocolError} As {@link call}.
   */
  notify(notification: Notification): U64 {
    this.#checkSend();
    const id = this.#allocateId();
    this.#sendPayload(id, { type: "notification", body: notification });
    return id;
  }

  /**
   * Asks the peer to cancel one of our calls. The call stays pending: the
   * peer still answers (normally with a `cancelled` error). Nothing is sent
   * for an id that is not pending or when cancellation was not negotiated.
   *
   * @param id The call's id.
   * @throws {ProtocolError} As {@link call}.
   */
  cancel(id: U64): void {
    this.#checkSend();
    if (!this.#cancel || !this.#outgoing.has(id)) return;
    this.#sendPayload(id, { type: "cancel" });
  }

  /**
   * Stops waiting for one of our calls: a later response for it is dropped.
   *
   * @param id The call's id.
   * @returns Whether the call was pending.
   */
  forget(id: U64): boolean {
    return this.#outgoing.delete(id);
  }

  /**
   * Closes the session. Frames already queued stay in `pollTransmit`.
   *
   * @param error Why, if this is a failure; reported in the `closed` event.
   */
  close(error?: ProtocolError): void {
    this.#apply("close", { error });
  }

  /**
   * Router: answers the pending admission.
   *
   * @param decision The admission or the refusal.
   */
  protected decideAdmission(
    decision: Admission | { reject: HandshakeReject },
  ): void {
    if ("reject" in decision) {
      this.#apply("reject", { reject: decision.reject });
    } else this.#apply("admit", { admission: decision });
    this.#drain();
  }

  #isClosed(): boolean {
    return this.#state === "closed";
  }

  #lookup(input: SessionInput): Transition<SessionState> {
    return this.#table[this.#state][input];
  }

  #emit(event: SessionEvent): void {
    this.#events.push(event);
  }

  #checkSend(): void {
    this.#apply("send", {});
  }

  #allocateId(): U64 {
    const id = this.#nextId;
    if (typeof id === "number") {
      const next = id + 2;
      this.#nextId = next > Number.MAX_SAFE_INTEGER ? BigInt(next) : next;
    } else {
      let next = (id + 2n) & U64_MAX;
      if (next === 0n) next = 2n;
      this.#nextId = next <= BigInt(Number.MAX_SAFE_INTEGER)
        ? Number(next)
        : next;
    }
    return id;
  }

  #fail(error: ProtocolError): void {
    this.#closeWith(error);
  }

  #closeWith(error: ProtocolError | undefined): void {
    if (this.#state === "closed") return;
    this.#state = "closed";
    this.#closeError = error;
    this.#deadline = undefined;
    this.#reassembler?.clear();
    this.#emit(
      error === undefined ? { type: "closed" } : {
        type: "closed",
        error,
      },
    );
  }

  /** Parses and acts on every complete frame, while the state allows. */
  #drain(): void {
    while (
      this.#state !== "closed" && this.#state !== "awaiting_admission"
    ) {
      let raw: Uint8Array | undefined;
      try {
        raw = this.#decoder.next();
      } catch (e) {
        if (!(e instanceof ProtocolError)) throw e;
        this.#onInput("frame_too_large", undefined, undefined, e);
        return;
      }
      if (raw === undefined) break;
      this.#borrowed = true;
      try {
        this.#onFrame(raw);
      } finally {
        this.#borrowed = false;
      }
    }
    if (
      this.#state === "awaiting_admission" &&
      this.#decoder.bufferedBytes > this.#preLimit
    ) {
      this.#fail(
        new LimitExceededError(
          "pre_handshake_buffer",
          this.#preLimit,
          this.#decoder.bufferedBytes,
          { remote: true },
        ),
      );
    }
  }

  /**
   * Zero-copy path: while no partial frame is buffered, frames that lie
   * whole inside `bytes` are handled as views into it. Returns how many
   * bytes were consumed.
   */
  #receiveViews(bytes: Uint8Array): number {
    let at = 0;
    this.#borrowed = true;
    try {
      while (at + 4 <= bytes.length && this.#state === "open") {
        const len = (bytes[at] | (bytes[at + 1] << 8) |
          (bytes[at + 2] << 16) | (bytes[at + 3] << 24)) >>> 0;
        // Oversized or partial frames go through the FrameDecoder.
        if (len > this.#frameLimit || at + 4 + len > bytes.length) break;
        const start = at + 4;
        at = start + len;
        const fast = parseCanonicalPacket(bytes, start, at);
        if (fast !== undefined) this.#onFastPacket(fast);
        else this.#onFrame(bytes.subarray(start, at));
      }
    } finally {
      this.#borrowed = false;
    }
    return at;
  }

  #onFrame(raw: Uint8Array): void {
    const fast = this.#state === "open" ? parseCanonicalPacket(raw) : undefined;
    if (fast !== undefined) return this.#onFastPacket(fast);
    let frame: WireFrame;
    try {
      frame = decodeWireFrame(raw);
    } catch (e) {
      if (!(e instanceof ProtocolError)) throw e;
      this.#onInput("undecodable_frame", undefined, raw, e);
      return;
    }
    this.#onInput(FRAME_INPUT[frame.type], frame, raw, undefined);
  }

  /** A frame read by `parseCanonicalPacket` (the state is `open`). */
  #onFastPacket(fast: FastPacket): void {
    // A FastPacket has every field of a Packet / PacketChunk body.
    if (fast.chunk) {
      this.#onInput(
        "chunk_frame",
        { type: "packet_chunk", body: fast },
        undefined,
        undefined,
      );
    } else {
      this.#onInput(
        "packet_frame",
        { type: "packet", body: fast },
        undefined,
        undefined,
      );
    }
  }

  #onInput(
    input: SessionInput,
    frame: WireFrame | undefined,
    raw: Uint8Array | undefined,
    error: ProtocolError | undefined,
  ): void {
    this.#apply(input, { frame, raw, error });
  }

  /**
   * The one place the transition table is applied: looks up the cell of
   * (state, input), runs its action and, unless the action closed the
   * session (a violation), moves to the cell's `next` state. The switch is
   * exhaustive over `SessionAction`.
   */
  #apply(input: SessionInput, ctx: InputContext): void {
    const tr = this.#lookup(input);
    this.#run(tr.action, ctx);
    if (this.#state === "closed") return;
    if (tr.next === "closed") this.#closeWith(ctx.error);
    else this.#state = tr.next;
  }

  #run(action: SessionAction, ctx: InputContext): void {
    const { frame, raw, error } = ctx;
    switch (action) {
      case "ignore":
      case "defer":
      case "send":
        return;
      case "refuse_send":
        if (this.#state === "closed") {
          throw new ProtocolError("connection_closed", "connection closed");
        }
        throw new ProtocolError(
          "protocol_violation",
          "the handshake has not completed",
        );
      case "refuse_command":
        throw new ProtocolError(
          "protocol_violation",
          "no admission is pending",
        );
      case "close_local":
        this.#closeWith(error);
        return;
      case "send_reject": {
        const refusal = refuseAdmission(ctx.reject!);
        this.#tx.pushRaw(refusal.frame);
        this.#fail(refusal.error);
        return;
      }
      case "send_welcome": {
        const welcome = buildWelcome(
          ctx.admission!,
          this.#hello!,
          this.#verdict!,
        );
        this.#tx.pushRaw(
          encodeLengthPrefixedFrame({ type: "welcome", body: welcome }),
        );
        this.#open(welcome);
        return;
      }
      case "accept_welcome":
        this.#acceptWelcome((frame as { body: RouterWelcome }).body);
        return;
      case "handshake_rejected": {
        const reject = receivedReject(
          (frame as { body: HandshakeReject }).body,
        );
        this.#emit({ type: "rejected", reject });
        this.#fail(rejectedError(reject, true));
        return;
      }
      case "evaluate_hello":
        this.#evaluateHello((frame as { body: WorkerHello }).body);
        return;
      case "legacy_check":
        if (raw !== undefined && isLegacyWorkerHello(raw)) {
          this.#tx.pushRaw(LEGACY_ONLY_V3_REPLY.slice());
          this.#fail(
            new ProtocolError("legacy_protocol", LEGACY_ONLY_V3_MESSAGE, {
              remote: true,
            }),
          );
        } else {
          this.#fail(error!);
        }
        return;
      case "fail_handshake":
        this.#fail(
          new ProtocolError(
            "handshake_failed",
            this.#role === "worker"
              ? `unexpected handshake frame: ${frame!.type}`
              : `expected hello frame, got ${frame!.type}`,
            { remote: true },
          ),
        );
        return;
      case "fail_unexpected":
        this.#fail(
          new ProtocolError(
            "unexpected_frame",
            "unexpected handshake frame after handshake",
            { remote: true },
          ),
        );
        return;
      case "fail_decode":
        this.#fail(error!);
        return;
      case "fail_eof":
      case "peer_closed":
        this.#fail(this.#endOfStreamError());
        return;
      case "fail_timeout":
        this.#fail(
          new ProtocolError(
            "handshake_timeout",
            "timed out waiting for the handshake",
            { remote: true },
          ),
        );
        return;
      case "process_packet": {
        const body = (frame as {
          body: { id: U64; compression: CompressionAlgo; data: Uint8Array };
        }).body;
        if (isZero(body.id)) return this.#failReservedId();
        if (body.data.length > this.#packetLimit) {
          return this.#fail(
            new LimitExceededError(
              "max_packet_len",
              this.#packetLimit,
              body.data.length,
              { code: "packet_too_large", remote: true },
            ),
          );
        }
        this.#processPayload(body.id, body.compression, body.data);
        return;
      }
      case "process_chunk": {
        const chunk = (frame as { body: PacketChunk }).body;
        if (isZero(chunk.id)) return this.#failReservedId();
        if (!this.#chunking) {
          return this.#fail(
            new ProtocolError(
              "chunking_not_negotiated",
              "received chunked packet but chunking not negotiated",
              { remote: true },
            ),
          );
        }
        let done;
        try {
          done = this.#reassembler!.push(
            this.#borrowed ? { ...chunk, data: chunk.data.slice() } : chunk,
          );
        } catch (e) {
          if (!(e instanceof ProtocolError)) throw e;
          return this.#fail(e);
        }
        if (done !== undefined) {
          this.#processPayload(done.id, done.compression, done.data);
        }
        return;
      }
      default: {
        const unhandled: never = action;
        return unhandled;
      }
    }
  }

  /** Why the peer's stream ended: a partial frame, or a plain close. */
  #endOfStreamError(): ProtocolError {
    try {
      this.#decoder.end();
    } catch (e) {
      if (!(e instanceof ProtocolError)) throw e;
      return e;
    }
    return new ProtocolError(
      "connection_closed",
      "connection closed by peer",
      { remote: true },
    );
  }

  #failReservedId(): void {
    this.#fail(
      new ProtocolError("protocol_violation", "request_id=0 is reserved", {
        remote: true,
      }),
    );
  }

  #evaluateHello(hello: WorkerHello): void {
    const verdict = judgeHello(hello, this.#helloPolicy!);
    if ("frame" in verdict) {
      this.#tx.pushRaw(verdict.frame);
      this.#fail(verdict.error);
      return;
    }
    this.#hello = hello;
    this.#verdict = verdict;
    this.#emit({ type: "admission", hello });
  }

  #acceptWelcome(welcome: RouterWelcome): void {
    const problem = checkWelcome(this.#hello!, welcome);
    if (problem !== undefined) {
      this.#fail(
        new ProtocolError("handshake_failed", problem, { remote: true }),
      );
      return;
    }
    this.#open(welcome);
  }

  #open(welcome: RouterWelcome): void {
    const caps = welcome.chosen_capabilities;
    this.#welcome = welcome;
    this.#frameLimit = Math.min(caps.max_frame_len, MAX_MESSAGE_BYTES);
    this.#packetLimit = Math.min(caps.max_packet_len, MAX_MESSAGE_BYTES);
    this.#chunking = caps.supports_chunking;
    this.#cancel = caps.supports_cancel;
    this.#recvAlgos = caps.supported_compression.filter((algo) =>
      algo !== "none" && compressorSupports(this.#compressor, algo)
    );
    this.#sendAlgo = this.#recvAlgos.includes("zstd") ? "zstd" : "none";
    this.#reassembler = new Reassembler({ maxPacketLen: this.#packetLimit });
    this.#decoder.maxFrameLen = this.#frameLimit;
    this.#deadline = undefined;
    this.#emit({ type: "handshake_done", hello: this.#hello!, welcome });
  }

  #sendPayload(id: U64, payload: RpcPayload): void {
    // A view into the codec's scratch buffer: it is compressed or copied
    // into the transmit arena before anything else is encoded.
    // Bounded: an answer over the packet limit fails once it reaches the
    // limit, without building the rest of it.
    const writer = new CborWriter(0, this.#packetLimit);
    writeRpcPayload(writer, payload);
    let data = writer.buf.subarray(0, writer.pos);
    if (data.length > this.#packetLimit) {
      throw new LimitExceededError(
        "max_packet_len",
        this.#packetLimit,
        data.length,
        { code: "packet_too_large" },
      );
    }
    let compression: CompressionAlgo = "none";
    if (this.#sendAlgo !== "none" && data.length >= this.#threshold) {
      let packed: Uint8Array | undefined;
      try {
        packed = this.#compressor.compress(this.#sendAlgo, data);
      } catch {
        packed = undefined; // Fall back to "none", which is always valid.
      }
      if (packed !== undefined && packed.length < data.length) {
        data = packed;
        compression = this.#sendAlgo;
      }
    }
    const frameLen = packetFrameLen(id, compression, data.length);
    if (frameLen <= this.#frameLimit) {
      this.#tx.pushPacket(id, compression, data, frameLen);
      return;
    }
    if (!this.#chunking) {
      throw new LimitExceededError(
        "max_frame_len",
        this.#frameLimit,
        frameLen,
        { code: "frame_too_large" },
      );
    }
    // Plan every chunk before queueing any, so a failure sends nothing.
    const takes: number[] = [];
    const lens: number[] = [];
    let base = Math.max(this.#frameLimit - CHUNK_OVERHEAD_GUESS, 1);
    let offset = 0;
    for (let seq = 0; offset < data.length || seq === 0; seq++) {
      let take = Math.min(data.length - offset, base);
      let len = chunkFrameLen(id, compression, seq, take);
      while (len > this.#frameLimit) {
        if (take <= 1) {
          throw new LimitExceededError(
            "max_frame_len",
            this.#frameLimit,
            len,
            { code: "frame_too_large" },
          );
        }
        take = Math.max(take - 128, 1);
        base = take;
        len = chunkFrameLen(id, compression, seq, take);
      }
      takes.push(take);
      lens.push(len);
      offset += take;
    }
    offset = 0;
    for (let seq = 0; seq < takes.length; seq++) {
      const take = takes[seq];
      this.#tx.pushChunk(
        id,
        compression,
        seq,
        seq === takes.length - 1,
        data.subarray(offset, offset + take),
        lens[seq],
      );
      offset += take;
    }
  }

  #processPayload(
    id: U64,
    compression: CompressionAlgo,
    data: Uint8Array,
  ): void {
    let bytes = data;
    if (compression !== "none") {
      if (!this.#recvAlgos.includes(compression)) {
        return this.#fail(
          new ProtocolError(
            "unsupported_compression",
            `unsupported compression algorithm: ${compression}`,
            { remote: true },
          ),
        );
      }
      try {
        bytes = this.#compressor.decompress(
          compression,
          data,
          this.#packetLimit,
        );
      } catch (e) {
        return this.#fail(
          e instanceof ProtocolError ? e : new ProtocolError(
            "decompression_failed",
            "compressed data could not be decompressed",
            { remote: true, cause: e },
          ),
        );
      }
      if (bytes.length > this.#packetLimit) {
        return this.#fail(
          new LimitExceededError(
            "max_packet_len",
            this.#packetLimit,
            bytes.length,
            { code: "packet_too_large", remote: true },
          ),
        );
      }
    }
    let payload: RpcPayload;
    try {
      payload = decodeRpcPayload(bytes);
    } catch (e) {
      if (!(e instanceof ProtocolError)) throw e;
      return this.#fail(e);
    }
    switch (payload.type) {
      case "request": {
        const expectOdd = this.#role === "router";
        if (isOdd(id) !== expectOdd) {
          return this.#fail(
            new ProtocolError(
              "protocol_violation",
              `request_id parity violation (id=${id}): expected id%2=${
                expectOdd ? 1 : 0
              } for peer`,
              { remote: true },
            ),
          );
        }
        if (this.#incoming.has(id)) {
          return this.#fail(
            new ProtocolError(
              "protocol_violation",
              `duplicate in-flight request_id ${id}`,
              { remote: true },
            ),
          );
        }
        this.#incoming.add(id);
        if (payload.body.type === "unknown" && this.#answerUnknown) {
          try {
            this.respond(id, {
              status: "err",
              error: { ...UNKNOWN_REQUEST_ERROR },
            });
          } catch (e) {
            if (!(e instanceof ProtocolError)) throw e;
            this.#fail(e);
          }
          return;
        }
        this.#emit({ type: "request", id, request: payload.body });
        return;
      }
      case "response":
        if (this.#outgoing.delete(id)) {
          this.#emit({ type: "response", id, result: payload.body });
        }
        return;
      case "notification":
        if (payload.body.type !== "unknown") {
          this.#emit({ type: "notification", id, notification: payload.body });
        }
        return;
      case "cancel":
        if (this.#cancel && this.#incoming.has(id)) {
          this.#emit({ type: "cancel", id });
        }
        return;
      case "unknown":
        return;
      default: {
        const unhandled: never = payload;
        return unhandled;
      }
    }
  }
}

function isZero(id: U64): boolean {
  return id === 0 || id === 0n;
}

function isOdd(id: U64): boolean {
  return typeof id === "number" ? id % 2 === 1 : (id & 1n) === 1n;
}
