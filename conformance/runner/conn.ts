/**
 * One accepted worker connection, seen from the runner (router role). Every
 * byte in both directions goes through a {@link WireMonitor}; the runner
 * speaks the protocol with our codec so that it can also break it on
 * purpose (odd ids, bad chunk sequences, oversized prefixes, zstd bombs...).
 *
 * I/O lives here: socket reads and writes, and timers for waits.
 *
 * @module
 */

import { encodeRpcPayload } from "../../lib/wire/codec.ts";
import { encodeFrame } from "../../lib/wire/frame.ts";
import { negotiateCapabilities } from "../../lib/wire/negotiate.ts";
import {
  CHUNK_OVERHEAD_GUESS,
  MAX_MESSAGE_BYTES,
} from "../../lib/wire/limits.ts";
import { nodeZstdCompressor } from "../../lib/net/zstd.ts";
import type { ByteStream } from "../../lib/net/stream.ts";
import { concatBytes } from "../../lib/wire/bytes.ts";
import type {
  Capabilities,
  CompressionAlgo,
  HandshakeReject,
  Notification,
  Request,
  Response,
  RouterWelcome,
  RpcPayload,
  RpcResult,
  U64,
  WireFrame,
  WorkerHello,
} from "../../lib/wire/types.ts";
import { CaseFailure } from "./types.ts";
import {
  WireMonitor,
  type WireMonitor as Monitor,
  type WorkerPayload,
} from "./wire_monitor.ts";

/** Options for a {@link Conn}. */
export interface ConnOptions {
  /** Transcript entries to keep. @default 40 */
  transcriptLimit?: number;
}

/** Options for {@link Conn.handshake}. */
export interface HandshakeOptions {
  /** The runner's capability offer (negotiated with the worker's). */
  router?: Partial<Capabilities>;
  /** Fields forced into the chosen capabilities after negotiation. */
  chosen?: Partial<Capabilities>;
  /** Fields forced into the Welcome. */
  welcome?: Partial<Omit<RouterWelcome, "chosen_capabilities">>;
  /** Wait this long (watching for early frames) before sending the Welcome. */
  delayMs?: number;
  /** How long to wait for the Hello. @default 10000 */
  helloTimeoutMs?: number;
}

/** Options for sending one payload. */
export interface SendOptions {
  /** Compression to apply. @default "none" */
  compression?: CompressionAlgo;
  /** Send as chunks of this many data bytes (default: only when too big for a frame). */
  chunkSize?: number;
}

/**
 * The runner's default capability offer.
 *
 * @example
 * ```ts
 * import { RUNNER_CAPABILITIES } from "./conn.ts";
 * console.assert(RUNNER_CAPABILITIES.supports_chunking);
 * ```
 */
export const RUNNER_CAPABILITIES: Readonly<Capabilities> = Object.freeze({
  max_frame_len: MAX_MESSAGE_BYTES,
  max_packet_len: MAX_MESSAGE_BYTES,
  supported_compression: ["zstd", "none"] as CompressionAlgo[],
  supports_cancel: true,
  supports_chunking: true,
});

/**
 * The default wait for one response.
 *
 * @example
 * ```ts
 * import { RESPONSE_TIMEOUT_MS } from "./conn.ts";
 * console.assert(RESPONSE_TIMEOUT_MS >= 1000);
 * ```
 */
export const RESPONSE_TIMEOUT_MS = 10_000;

function describeResult(result: RpcResult): string {
  if (result.status === "ok") return `ok ${result.value.type}`;
  if (result.status === "err") {
    return `err ${result.error.code} "${result.error.message}"`;
  }
  return "status unknown";
}

/**
 * A worker connection driven by the runner.
 *
 * @example
 * ```ts ignore
 * // Inside a case: ctx.accept() returns a Conn.
 * const conn = await ctx.accept();
 * await conn.handshake({ router: { max_frame_len: 4096 } });
 * const stats = await conn.callOk({ type: "get_worker_stats" }, "worker_stats");
 * ```
 */
export class Conn {
  /** The observer of both directions. */
  readonly monitor: Monitor;
  /** Resolves when the read loop has ended. */
  readonly done: Promise<void>;
  /** The worker's Hello, once read. */
  hello: WorkerHello | undefined;
  /** The Welcome the runner sent. */
  welcome: RouterWelcome | undefined;
  /** Every complete payload the worker sent, in order. */
  readonly payloads: WorkerPayload[] = [];
  /** Every frame the worker sent, in order. */
  readonly frames: WireFrame[] = [];
  /** The CBOR bytes of every frame the worker sent (no length prefix). */
  readonly frameBytes: Uint8Array[] = [];
  /** True once the worker's side of the stream ended (EOF or reset). */
  eof = false;
  /** When the EOF was seen (ms since the case start). */
  eofAt: number | undefined;
  /** Why the stream ended, when it was an error. */
  eofError: string | undefined;
  /** Set when a runner write failed (the worker had closed). */
  writeError: string | undefined;
  /** Called with every chunk of bytes the worker sent (after the monitor). */
  onData: ((bytes: Uint8Array) => void) | undefined;
  /** Called once when the worker's stream ends. */
  onEnd: (() => void) | undefined;
  /**
   * SHA-256 of the worker's client certificate DER (lowercase hex), when
   * the transport asked for one (mtls).
   */
  readonly peerFingerprint: string | undefined;
  #raw: ByteStream;
  #start: number;
  #nextId: number = 2;
  #closed = false;
  #wake: () => void = () => {};
  #changed: Promise<void>;
  #consumed = new Set<WorkerPayload>();

  /**
   * Wraps an accepted connection and starts reading.
   *
   * @param raw The socket (a `Deno.Conn`, or a `node:tls` socket adapted
   *   to a byte stream).
   * @param start The case's time origin (ms).
   * @param options Transcript size, and the client certificate's
   *   fingerprint when the transport verified one.
   */
  constructor(
    raw: ByteStream,
    start: number,
    options: ConnOptions & { peerFingerprint?: string } = {},
  ) {
    this.#raw = raw;
    this.peerFingerprint = options.peerFingerprint;
    this.#start = start;
    this.monitor = new WireMonitor({
      decompress: (algo, data, max) =>
        nodeZstdCompressor.decompress(algo, data, max),
      transcriptLimit: options.transcriptLimit ?? 40,
      start,
    });
    this.#changed = new Promise((r) => (this.#wake = r));
    this.done = this.#readLoop();
  }

  #now(): number {
    return performance.now();
  }

  /** Wakes every waiter (after external state changed). */
  signal(): void {
    this.#signal();
  }

  #signal(): void {
    const wake = this.#wake;
    this.#changed = new Promise((r) => (this.#wake = r));
    wake();
  }

  async #readLoop(): Promise<void> {
    const buf = new Uint8Array(64 * 1024);
    // Start reading on a later task, so that whoever just accepted the
    // connection can set onData/onEnd before the first byte is delivered.
    // A node:tls stream (mtls) may already hold the worker's Hello, and its
    // read resolves within the current task.
    await new Promise((r) => setTimeout(r, 0));
    try {
      while (true) {
        const n = await this.#raw.read(buf);
        if (n === null) break;
        const chunk = buf.slice(0, n);
        this.monitor.feed("w->r", chunk, this.#now());
        this.onData?.(chunk);
        for (const e of this.monitor.drainEvents()) {
          if (e.type === "frame") {
            this.frames.push(e.frame);
            this.frameBytes.push(e.bytes);
          } else if (e.type === "payload") this.payloads.push(e.item);
        }
        this.#signal();
      }
    } catch (err) {
      if (!this.#closed) this.eofError = (err as Error).message;
    }
    this.eof = true;
    this.eofAt = this.#now() - this.#start;
    this.onEnd?.();
    if (!this.#closed) {
      this.monitor.note("w->r", this.#now(), "worker closed the connection");
    }
    this.#signal();
  }

  /**
   * Waits until `check` returns a value, the stream ends, or time runs out.
   *
   * @param check Polled after every change.
   * @param timeoutMs How long to wait.
   * @returns The value, or undefined.
   */
  async waitFor<T>(
    check: () => T | undefined,
    timeoutMs: number,
  ): Promise<T | undefined> {
    const deadline = performance.now() + timeoutMs;
    while (true) {
      const v = check();
      if (v !== undefined) return v;
      if (this.eof) return check();
      const left = deadline - performance.now();
      if (left <= 0) return undefined;
      let timer: ReturnType<typeof setTimeout> | undefined;
      await Promise.race([
        this.#changed,
        new Promise<void>((r) => (timer = setTimeout(r, left))),
      ]);
      clearTimeout(timer);
    }
  }

  /**
   * Writes bytes (recorded by the monitor). A failed write is remembered,
   * not thrown: hostile cases write into connections the worker may close.
   *
   * @param bytes The bytes.
   */
  async write(bytes: Uint8Array): Promise<void> {
    this.monitor.feed("r->w", bytes, this.#now());
    if (this.#closed) return;
    try {
      let off = 0;
      while (off < bytes.length) {
        off += await this.#raw.write(bytes.subarray(off));
      }
    } catch (err) {
      this.writeError ??= (err as Error).message;
    }
  }

  /**
   * Encodes and writes one frame.
   *
   * @param frame The frame.
   */
  async writeFrame(frame: WireFrame): Promise<void> {
    await this.write(encodeFrame(frame));
  }

  /**
   * Reads the worker's Hello.
   *
   * @param timeoutMs How long to wait.
   * @returns The Hello.
   */
  async readHello(timeoutMs = 10_000): Promise<WorkerHello> {
    const first = await this.waitFor(() => this.frames[0], timeoutMs);
    if (first === undefined) {
      throw new CaseFailure(
        "the worker sends a Hello frame first",
        this.eof
          ? "the connection closed without a frame"
          : `no frame within ${timeoutMs} ms`,
      );
    }
    if (first.type !== "hello") {
      throw new CaseFailure(
        "the first frame is a Hello",
        `a "${first.type}" frame`,
      );
    }
    this.hello = first.body;
    return first.body;
  }

  /**
   * Builds the Welcome for the Hello read so far.
   *
   * @param options Offer and overrides.
   * @returns The Welcome (not sent).
   */
  buildWelcome(options: HandshakeOptions = {}): RouterWelcome {
    const hello = this.hello!;
    const router = { ...RUNNER_CAPABILITIES, ...options.router };
    const chosen = negotiateCapabilities(router, hello.capabilities) ?? {
      ...router,
      supported_compression: ["none"],
    };
    return {
      worker_id: 1,
      shard_id: hello.shard_id,
      revision: 0,
      chosen_version: { major: 3, minor: 0 },
      ...options.welcome,
      chosen_capabilities: { ...chosen, ...options.chosen },
    };
  }

  /**
   * Reads the Hello and answers with a Welcome.
   *
   * @param options Offer, overrides and delay.
   * @returns The Welcome sent.
   */
  async handshake(options: HandshakeOptions = {}): Promise<RouterWelcome> {
    await this.readHello(options.helloTimeoutMs);
    if (options.delayMs) await this.waitFor(() => undefined, options.delayMs);
    const welcome = this.buildWelcome(options);
    this.welcome = welcome;
    await this.writeFrame({ type: "welcome", body: welcome });
    return welcome;
  }

  /**
   * Sends a Reject.
   *
   * @param reject Code and message.
   */
  async reject(reject: HandshakeReject): Promise<void> {
    await this.writeFrame({ type: "reject", body: reject });
  }

  /** The next even request id. */
  allocId(): number {
    const id = this.#nextId;
    this.#nextId += 2;
    return id;
  }

  /**
   * Sends one payload as a Packet, or as chunks when asked or when needed.
   *
   * @param id Packet id.
   * @param payload The payload.
   * @param options Compression and chunking.
   */
  async sendPayload(
    id: U64,
    payload: RpcPayload,
    options: SendOptions = {},
  ): Promise<void> {
    await this.sendData(id, encodeRpcPayload(payload), options);
  }

  /**
   * Sends already-encoded payload bytes (compressing them if asked).
   *
   * @param id Packet id.
   * @param raw Encoded RpcPayload bytes (or anything, for hostile cases).
   * @param options Compression and chunking.
   */
  async sendData(
    id: U64,
    raw: Uint8Array,
    options: SendOptions = {},
  ): Promise<void> {
    if (typeof id === "number" && id >= this.#nextId) {
      this.#nextId = id % 2 === 0 ? id + 2 : id + 1;
    }
    const compression = options.compression ?? "none";
    const data = compression === "zstd"
      ? nodeZstdCompressor.compress("zstd", raw)
      : raw;
    const maxFrame = this.welcome?.chosen_capabilities.max_frame_len ??
      MAX_MESSAGE_BYTES;
    const packet = encodeFrame({
      type: "packet",
      body: { id, compression, data },
    });
    if (options.chunkSize === undefined && packet.length - 4 <= maxFrame) {
      await this.write(packet);
      return;
    }
    const size = options.chunkSize ??
      Math.max(maxFrame - CHUNK_OVERHEAD_GUESS, 1);
    const frames: Uint8Array[] = [];
    let seq = 0;
    for (let off = 0; off < data.length || seq === 0; off += size) {
      const part = data.subarray(off, off + size);
      const last = off + size >= data.length;
      frames.push(
        encodeFrame({
          type: "packet_chunk",
          body: { id, compression, seq, last, data: part },
        }),
      );
      seq++;
    }
    await this.write(concatBytes(frames));
  }

  /**
   * Sends a request.
   *
   * @param request The request.
   * @param options Id override, compression and chunking.
   * @returns The id used.
   */
  async request(
    request: Request,
    options: SendOptions & { id?: U64 } = {},
  ): Promise<U64> {
    const id = options.id ?? this.allocId();
    await this.sendPayload(id, { type: "request", body: request }, options);
    return id;
  }

  /**
   * Sends a notification.
   *
   * @param n The notification.
   */
  async notify(n: Notification): Promise<void> {
    await this.sendPayload(this.allocId(), { type: "notification", body: n });
  }

  /**
   * Sends a Cancel for an id.
   *
   * @param id The request id.
   */
  async cancel(id: U64): Promise<void> {
    await this.sendPayload(id, { type: "cancel" });
  }

  /**
   * Waits for the response to `id`.
   *
   * @param id The request id.
   * @param timeoutMs How long to wait.
   * @returns The result, or undefined when none arrived.
   */
  async waitResponse(
    id: U64,
    timeoutMs = RESPONSE_TIMEOUT_MS,
  ): Promise<{ result: RpcResult; item: WorkerPayload } | undefined> {
    const key = String(id);
    const item = await this.waitFor(
      () =>
        this.payloads.find((p) =>
          !this.#consumed.has(p) && p.payload.type === "response" &&
          String(p.id) === key
        ),
      timeoutMs,
    );
    if (item === undefined || item.payload.type !== "response") {
      return undefined;
    }
    this.#consumed.add(item);
    return { result: item.payload.body, item };
  }

  /**
   * Sends a request and waits for its response; fails the case when none
   * arrives.
   *
   * @param request The request.
   * @param options Send options and timeout.
   * @returns The result.
   */
  async call(
    request: Request,
    options: SendOptions & { id?: U64; timeoutMs?: number } = {},
  ): Promise<RpcResult> {
    const id = await this.request(request, options);
    const got = await this.waitResponse(id, options.timeoutMs);
    if (got === undefined) {
      throw new CaseFailure(
        `a response to ${request.type} (id ${id})`,
        this.eof
          ? `the worker closed the connection${
            this.eofError ? ` (${this.eofError})` : ""
          }`
          : `no response within ${options.timeoutMs ?? RESPONSE_TIMEOUT_MS} ms`,
      );
    }
    return got.result;
  }

  /**
   * Calls and requires an `ok` result of the given response type.
   *
   * @param request The request.
   * @param type The expected response type.
   * @param options Send options and timeout.
   * @returns The response value.
   */
  async callOk<T extends Response["type"]>(
    request: Request,
    type: T,
    options: SendOptions & { id?: U64; timeoutMs?: number } = {},
  ): Promise<Extract<Response, { type: T }>> {
    const result = await this.call(request, options);
    if (result.status !== "ok" || result.value.type !== type) {
      throw new CaseFailure(
        `${request.type} answers ok ${type}`,
        describeResult(result),
      );
    }
    return result.value as Extract<Response, { type: T }>;
  }

  /**
   * Waits for a notification from the worker.
   *
   * @param type The notification type.
   * @param timeoutMs How long to wait.
   * @returns The notification and its packet, or undefined.
   */
  async waitNotification(
    type: Notification["type"],
    timeoutMs: number,
  ): Promise<{ notification: Notification; item: WorkerPayload } | undefined> {
    const item = await this.waitFor(
      () =>
        this.payloads.find((p) =>
          p.payload.type === "notification" && p.payload.body.type === type
        ),
      timeoutMs,
    );
    if (item === undefined || item.payload.type !== "notification") {
      return undefined;
    }
    return { notification: item.payload.body, item };
  }

  /**
   * Waits for the worker to close the connection.
   *
   * @param timeoutMs How long to wait.
   * @returns True when it closed in time.
   */
  async waitClosed(timeoutMs: number): Promise<boolean> {
    await this.waitFor(() => (this.eof ? true : undefined), timeoutMs);
    return this.eof;
  }

  /**
   * Fails the case unless the worker closes the connection in time.
   *
   * @param after What the runner did (for the evidence).
   * @param timeoutMs How long to wait.
   */
  async expectClosed(after: string, timeoutMs = 3000): Promise<void> {
    if (await this.waitClosed(timeoutMs)) return;
    throw new CaseFailure(
      `the worker closes the connection after ${after}`,
      `the connection was still open after ${timeoutMs} ms`,
    );
  }

  /**
   * Fails the case unless the connection still works (a stats round trip).
   *
   * @param after What the runner did (for the evidence).
   */
  async expectAlive(after: string): Promise<void> {
    const id = await this.request({ type: "get_worker_stats" });
    const got = await this.waitResponse(id, 5000);
    if (got === undefined) {
      throw new CaseFailure(
        `the connection keeps working after ${after}`,
        this.eof
          ? "the worker closed the connection"
          : "GetWorkerStats got no answer",
      );
    }
  }

  /** Closes the runner's side. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.monitor.note(
      "r->w",
      performance.now(),
      "runner closed the connection",
    );
    try {
      this.#raw.close();
    } catch { /* already closed */ }
  }
}
