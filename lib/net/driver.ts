/**
 * The driver: runs one pure, synchronous session over one {@link ByteStream}.
 *
 * - a read loop feeds every received chunk to `session.receive(bytes, now)`
 *   (and EOF to `receiveEnd`), then drains `pollEvent`; while the session
 *   offers a `receiveBuffer` (the rest of a large frame), the read goes
 *   straight into it and is reported with `receiveInPlace`;
 * - a write loop drains `pollTransmit` to the stream. Frames queued while a
 *   write is in flight, or in the same tick, leave in one buffer (one syscall
 *   for many small frames); with `recycleWrites`, written buffers go back to
 *   the session (`releaseTransmit`) for reuse;
 * - a single timer is armed from `nextDeadline()` and calls `handleTimeout`;
 * - it counts the bytes the session queued ({@link SessionDriver.queuedBytes})
 *   and the bytes whose write completed ({@link SessionDriver.flushedBytes}),
 *   and calls back once a given total is flushed
 *   ({@link SessionDriver.whenFlushed}): the write phase of a call;
 * - when the session reports `closed`, the driver flushes what the session
 *   still has to send (a `Reject`, say), closes the stream, clears the timer,
 *   and resolves {@link SessionDriver.done} once every pending operation has
 *   settled (so Deno's op and resource sanitizers stay quiet).
 *
 * @module
 */

import { ERROR_CODES, ProtocolError } from "../wire/errors.ts";
import { type ByteStream, writeAll } from "./stream.ts";

/** The part of a session the driver uses. */
export interface DrivableSession<E> {
  /** Feeds received bytes. */
  receive(bytes: Uint8Array, now: number): void;
  /** Feeds end of stream. */
  receiveEnd(now: number): void;
  /** Returns the next event, if any. */
  pollEvent(): E | undefined;
  /** Returns all queued output in one buffer, if any. */
  pollTransmit(): Uint8Array | undefined;
  /** A buffer to read straight into, if any (optional). */
  receiveBuffer?(minBytes: number): Uint8Array | undefined;
  /** Feeds `n` bytes read into the `receiveBuffer` buffer. */
  receiveInPlace?(n: number, now: number): void;
  /** Takes back a written `pollTransmit` buffer for reuse (optional). */
  releaseTransmit?(bytes: Uint8Array): void;
  /**
   * Bytes queued and not yet taken by `pollTransmit` (optional; without it
   * {@link SessionDriver.queuedBytes} counts only what was polled).
   */
  readonly bufferedTransmitBytes?: number;
  /** When `handleTimeout` must next be called, if ever. */
  nextDeadline(): number | undefined;
  /** Tells the session that time passed. */
  handleTimeout(now: number): void;
  /** Closes the session (optionally with an error). */
  close(error?: ProtocolError): void;
}

/** Options for {@link SessionDriver}. */
export interface SessionDriverOptions<E> {
  /** Receives every event, in order. */
  onEvent(event: E): void;
  /** Returns true when `event` means the session is closed. */
  isClosed(event: E): boolean;
  /**
   * Largest read buffer in bytes (it starts at 16 KiB and grows while reads
   * fill it). @default {1048576}
   */
  readBufferSize?: number;
  /** The clock (milliseconds, monotonic). @default {performance.now} */
  now?: () => number;
  /**
   * How long a closing session may keep writing what it still has queued
   * before the stream is closed anyway. @default {1000}
   */
  lingerMs?: number;
  /**
   * Hand every written buffer back to the session for reuse. Only for
   * streams whose `write` no longer refers to the bytes once it resolved
   * (every `Deno.Conn`; not `nodeSocketStream`). @default {false}
   */
  recycleWrites?: boolean;
  /** Called with I/O errors before they close the session (for logging). */
  onIoError?(error: unknown): void;
  /**
   * Asked before every read: a promise pauses reading until it settles
   * (backpressure: a peer that does not read what we send cannot make us
   * read, and queue, more). Undefined reads at once.
   */
  readGate?(): Promise<void> | undefined;
}

/** A wait registered with {@link SessionDriver.whenFlushed}. */
export interface FlushWait {
  /** Drops the wait: the callback will not run. */
  cancel(): void;
}

class FlushWaiter implements FlushWait {
  readonly target: number;
  callback: (() => void) | undefined;

  constructor(target: number, callback: () => void) {
    this.target = target;
    this.callback = callback;
  }

  cancel(): void {
    this.callback = undefined;
  }
}

/**
 * Events delivered from one read before the driver lets what their handlers
 * queued leave (see {@link yieldToHandlers}).
 */
const SLICE_EVENTS = 16;

/**
 * Resolves after the microtasks queued so far, and those they queue in turn,
 * have run: time for a caller awaiting a response just delivered to send its
 * next request, and for the flush that request schedules.
 */
function yieldToHandlers(): Promise<void> {
  return new Promise((resolve) =>
    queueMicrotask(() => queueMicrotask(resolve))
  );
}

/** Frames missing at least this many bytes are read into in place. */
const DIRECT_READ_MIN = 65_536;

function ioError(err: unknown): ProtocolError {
  if (err instanceof ProtocolError) return err;
  const message = err instanceof Error ? err.message : String(err);
  return new ProtocolError(ERROR_CODES.IO_ERROR, `I/O error: ${message}`, {
    remote: true,
    cause: err,
  });
}

/**
 * Runs a session over a stream (see the module doc).
 *
 * @example
 * ```ts ignore
 * import { SessionDriver } from "./driver.ts";
 * const driver = new SessionDriver(session, conn, {
 *   onEvent: (e) => console.log(e.type),
 *   isClosed: (e) => e.type === "closed",
 * });
 * driver.start();
 * await driver.done;
 * ```
 */
export class SessionDriver<E> {
  #session: DrivableSession<E>;
  #stream: ByteStream;
  #options: SessionDriverOptions<E>;
  #now: () => number;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #timerAt: number | undefined;
  #writing = false;
  #flushQueued = false;
  #sessionClosed = false;
  #streamClosed = false;
  #started = false;
  #pumping = false;
  #slicing = false;
  #readDone: Promise<void> = Promise.resolve();
  #writeDone: Promise<void> = Promise.resolve();
  #resolveDone!: () => void;
  #finishing = false;
  #linger: ReturnType<typeof setTimeout> | undefined;
  /** Bytes taken from `pollTransmit` so far. */
  #polledBytes = 0;
  /** Bytes whose write completed so far. */
  #flushedBytes = 0;
  /** Waits in registration order, hence in `target` order. */
  #flushWaits: FlushWaiter[] = [];
  #flushHead = 0;

  /** Resolves when the stream is closed and every loop has stopped. */
  readonly done: Promise<void>;

  /**
   * Creates a driver; call {@link SessionDriver.start} to run it.
   *
   * @param session The pure session.
   * @param stream The byte stream.
   * @param options Event sink and tuning.
   */
  constructor(
    session: DrivableSession<E>,
    stream: ByteStream,
    options: SessionDriverOptions<E>,
  ) {
    this.#session = session;
    this.#stream = stream;
    this.#options = options;
    this.#now = options.now ?? (() => performance.now());
    this.done = new Promise((resolve) => this.#resolveDone = resolve);
  }

  /** The session being driven. */
  get session(): DrivableSession<E> {
    return this.#session;
  }

  /** True once the session reported `closed`. */
  get isClosed(): boolean {
    return this.#sessionClosed;
  }

  /** The monotonic clock the session sees. */
  now(): number {
    return this.#now();
  }

  /**
   * Total bytes the session has queued for writing since the start (those
   * already written, being written, or still waiting). It only grows while
   * the session is open, so a value read right after queueing a frame is
   * the total to wait for with {@link SessionDriver.whenFlushed}.
   */
  get queuedBytes(): number {
    return this.#polledBytes + (this.#session.bufferedTransmitBytes ?? 0);
  }

  /** Total bytes whose write to the stream has completed. */
  get flushedBytes(): number {
    return this.#flushedBytes;
  }

  /**
   * Calls `callback` once {@link SessionDriver.flushedBytes} reaches
   * `target` (synchronously when it already has). Waits are kept in
   * registration order, so targets must not decrease from one wait to the
   * next (true of successive {@link SessionDriver.queuedBytes} values).
   * Waits still pending when the driver finishes are dropped without a
   * call. The callback must not throw.
   *
   * @param target A total taken from {@link SessionDriver.queuedBytes}.
   * @param callback Runs once, in the write loop.
   * @returns A handle to cancel the wait.
   */
  whenFlushed(target: number, callback: () => void): FlushWait {
    const wait = new FlushWaiter(target, callback);
    if (this.#flushedBytes >= target) {
      wait.callback = undefined;
      callback();
    } else if (!this.#finishing) {
      this.#flushWaits.push(wait);
    }
    return wait;
  }

  /** Starts the read loop and sends whatever the session queued already. */
  start(): void {
    if (this.#started) return;
    this.#started = true;
    this.#readDone = this.#readLoop();
    this.pump();
  }

  /**
   * Delivers pending events, schedules a flush of queued output and re-arms
   * the timer. Call it after every command given to the session.
   */
  pump(): void {
    if (this.#slicing) {
      // The read loop delivers the rest of its read, in order.
      this.#scheduleFlush();
      this.#armTimer();
      return;
    }
    this.#pumpSlice(Infinity);
  }

  /**
   * Delivers at most `max` events, then flushes (at once when it stopped
   * short, else in a microtask), re-arms the timer and finishes a closed
   * session. Returns true when it stopped short and the session is open.
   */
  #pumpSlice(max: number): boolean {
    if (this.#pumping) return false;
    this.#pumping = true;
    let left = max;
    try {
      for (; left > 0; left--) {
        const event = this.#session.pollEvent();
        if (event === undefined) break;
        if (this.#options.isClosed(event)) this.#sessionClosed = true;
        try {
          this.#options.onEvent(event);
        } catch (err) {
          // An event handler bug must not kill the loop; close the session.
          this.#session.close(
            new ProtocolError(ERROR_CODES.IO_ERROR, "event handler failed", {
              cause: err,
            }),
          );
        }
      }
    } finally {
      this.#pumping = false;
    }
    const more = left === 0;
    if (more) this.#flushNow();
    else this.#scheduleFlush();
    this.#armTimer();
    if (this.#sessionClosed) this.#finish();
    return more && !this.#sessionClosed;
  }

  #flushNow(): void {
    if (this.#writing || this.#streamClosed) return;
    this.#writeDone = this.#writeLoop();
  }

  /**
   * Closes the session with `error` (or cleanly) and tears everything down.
   *
   * @param error The reason, if any.
   */
  close(error?: ProtocolError): void {
    if (!this.#sessionClosed) this.#session.close(error);
    this.pump();
    if (!this.#sessionClosed) {
      // A session that does not report `closed` synchronously: finish anyway.
      this.#sessionClosed = true;
      this.#finish();
    }
  }

  /**
   * Like {@link SessionDriver.close}, but closes the stream at once instead
   * of letting queued output linger (for a peer that stopped reading).
   *
   * @param error The reason.
   */
  abort(error: ProtocolError): void {
    this.close(error);
    this.#forceFinish();
  }

  #scheduleFlush(): void {
    if (this.#writing || this.#flushQueued || this.#streamClosed) return;
    this.#flushQueued = true;
    queueMicrotask(() => {
      this.#flushQueued = false;
      if (this.#writing || this.#streamClosed) return;
      this.#writeDone = this.#writeLoop();
    });
  }

  async #writeLoop(): Promise<void> {
    this.#writing = true;
    const recycle = this.#options.recycleWrites === true;
    try {
      let bytes: Uint8Array | undefined;
      while (
        !this.#streamClosed &&
        (bytes = this.#session.pollTransmit()) !== undefined
      ) {
        const n = bytes.length;
        this.#polledBytes += n;
        await writeAll(this.#stream, bytes);
        if (recycle) this.#session.releaseTransmit?.(bytes);
        this.#flushedBytes += n;
        if (this.#flushHead < this.#flushWaits.length) this.#notifyFlushed();
      }
    } catch (err) {
      this.#writing = false;
      if (!this.#streamClosed) {
        this.#options.onIoError?.(err);
        this.close(ioError(err));
      }
      return;
    }
    this.#writing = false;
    if (this.#sessionClosed) this.#finish();
  }

  #notifyFlushed(): void {
    const waits = this.#flushWaits;
    let head = this.#flushHead;
    while (head < waits.length && waits[head].target <= this.#flushedBytes) {
      const wait = waits[head++];
      const callback = wait.callback;
      wait.callback = undefined;
      callback?.();
    }
    if (this.#flushWaits !== waits) return; // Finished meanwhile.
    if (head === waits.length) {
      this.#flushWaits = [];
      this.#flushHead = 0;
    } else {
      this.#flushHead = head;
    }
  }

  async #readLoop(): Promise<void> {
    // Start small (idle connections stay cheap) and grow while reads fill
    // the buffer, up to `readBufferSize`.
    const max = this.#options.readBufferSize ?? 1_048_576;
    let buffer = new Uint8Array(Math.min(max, 16_384));
    while (!this.#streamClosed) {
      const gate = this.#options.readGate?.();
      if (gate !== undefined) {
        await gate.catch(() => {});
        if (this.#streamClosed) return;
      }
      // The rest of a large frame is read straight into its buffer.
      const direct = this.#session.receiveBuffer?.(DIRECT_READ_MIN);
      let n: number | null;
      try {
        n = await this.#stream.read(direct ?? buffer);
      } catch (err) {
        if (!this.#streamClosed) {
          this.#options.onIoError?.(err);
          this.close(ioError(err));
        }
        return;
      }
      if (this.#streamClosed) return;
      if (n === null) {
        this.#session.receiveEnd(this.#now());
        this.pump();
        return;
      }
      if (n === 0) continue;
      if (direct !== undefined) {
        this.#session.receiveInPlace!(n, this.#now());
        this.pump();
        continue;
      }
      // The session borrows the bytes only for the call: reuse the buffer.
      this.#session.receive(buffer.subarray(0, n), this.#now());
      if (this.#pumpSlice(SLICE_EVENTS)) {
        this.#slicing = true;
        try {
          do {
            await yieldToHandlers();
            this.#flushNow();
          } while (!this.#streamClosed && this.#pumpSlice(SLICE_EVENTS));
        } finally {
          this.#slicing = false;
        }
        this.pump();
      }
      if (n === buffer.length && buffer.length < max) {
        buffer = new Uint8Array(Math.min(max, buffer.length * 4));
      }
    }
  }

  #armTimer(): void {
    const at = this.#sessionClosed ? undefined : this.#session.nextDeadline();
    if (at === this.#timerAt) return;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#timerAt = at;
    if (at === undefined) return;
    const delay = Math.max(0, Math.ceil(at - this.#now()));
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#timerAt = undefined;
      this.#session.handleTimeout(this.#now());
      this.pump();
    }, delay);
  }

  #finish(): void {
    if (this.#finishing) return;
    if (this.#writing || this.#flushQueued) {
      // The write loop calls back when it drained; a peer that stops reading
      // gets `lingerMs` before the stream is closed under it.
      this.#linger ??= setTimeout(
        () => this.#forceFinish(),
        this.#options.lingerMs ?? 1000,
      );
      return;
    }
    this.#forceFinish();
  }

  #forceFinish(): void {
    if (this.#finishing) return;
    if (this.#linger !== undefined) clearTimeout(this.#linger);
    this.#linger = undefined;
    this.#finishing = true;
    this.#flushWaits = [];
    this.#flushHead = 0;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#timerAt = undefined;
    this.#streamClosed = true;
    try {
      this.#stream.close();
    } catch {
      // Already closed.
    }
    Promise.allSettled([this.#readDone, this.#writeDone]).then(() =>
      this.#resolveDone()
    );
  }
}
