/**
 * Outer framing: each frame is a u32 little-endian length followed by that
 * many bytes of `WireFrame` CBOR. {@link encodeLengthPrefixedFrame} builds one frame;
 * {@link FrameDecoder} splits an incoming byte stream into frames, checking
 * each declared length against the current limit before buffering anything.
 *
 * @module
 */

import { LimitExceededError, ProtocolError } from "./errors.ts";
import { DEFAULT_PRE_HANDSHAKE_MAX_FRAME_LEN } from "./limits.ts";
import { CborWriter } from "./_cbor_write.ts";
import { writeWireFrame } from "./_encode.ts";
import type { WireFrame } from "./types.ts";

/** The size of the length prefix. */
const PREFIX = 4;
/**
 * How far a payload buffer may run ahead of the bytes received: a frame
 * buffer is at most `max(2 * received, received + GROW_STEP)` long, however
 * large the declared length.
 */
const GROW_STEP = 65_536;
/** Reused payload buffers larger than this are dropped after their frame. */
const KEEP_PAYLOAD_BYTES = 4 * 1024 * 1024;

/**
 * Encodes a frame: the u32 LE length prefix and the CBOR, in one buffer.
 *
 * @param frame The frame.
 * @returns Fresh bytes, ready to write to a stream.
 * @throws {ProtocolError} `encode_failed` for a value that cannot be encoded.
 *
 * @example
 * ```ts
 * import { encodeLengthPrefixedFrame } from "./frame.ts";
 * const bytes = encodeLengthPrefixedFrame({ type: "unknown" });
 * console.assert(bytes.length === 18 && bytes[0] === 14 && bytes[4] === 0xa1);
 * ```
 */
export function encodeLengthPrefixedFrame(frame: WireFrame): Uint8Array {
  const w = new CborWriter(PREFIX);
  writeWireFrame(w, frame);
  const out = w.finish();
  const len = out.length - PREFIX;
  out[0] = len & 0xff;
  out[1] = (len >>> 8) & 0xff;
  out[2] = (len >>> 16) & 0xff;
  out[3] = len >>> 24;
  return out;
}

/**
 * Encodes a frame with its length prefix.
 *
 * @deprecated Renamed {@link encodeLengthPrefixedFrame} (the old name was too
 * close to `encodeWireFrame`, which writes the CBOR body only); this alias
 * goes in the next release.
 *
 * @param frame The frame.
 * @returns Fresh bytes, ready to write to a stream.
 *
 * @example
 * ```ts
 * import { encodeFrame } from "./frame.ts";
 * console.assert(encodeFrame({ type: "unknown" }).length === 18);
 * ```
 */
export function encodeFrame(frame: WireFrame): Uint8Array {
  return encodeLengthPrefixedFrame(frame);
}

/**
 * Frames an already-encoded CBOR body: prepends its u32 LE length. For
 * tools that build (possibly invalid) bodies by hand; {@link encodeLengthPrefixedFrame}
 * encodes and frames a {@link WireFrame} in one pass.
 *
 * @param body The CBOR bytes of one frame.
 * @returns Fresh bytes: the 4-byte length, then the body.
 *
 * @example
 * ```ts
 * import { prefixFrameLength } from "./frame.ts";
 * console.assert(prefixFrameLength(new Uint8Array([0xf6])).join() === "1,0,0,0,246");
 * ```
 */
export function prefixFrameLength(body: Uint8Array): Uint8Array {
  const out = new Uint8Array(PREFIX + body.length);
  new DataView(out.buffer).setUint32(0, body.length, true);
  out.set(body, PREFIX);
  return out;
}

/** Options for {@link FrameDecoder}. */
export interface FrameDecoderOptions {
  /**
   * The largest frame length accepted (a u32 value, 0 allowed).
   * @default {1048576} (the pre-handshake limit)
   */
  maxFrameLen?: number;
  /**
   * Reuse buffers between frames: a frame returned by
   * {@link FrameDecoder.next} is then only valid until the next call to
   * `push` or `next` (copy what must outlive it). Saves an allocation and a
   * copy per frame for callers that consume each frame at once.
   * @default {false}
   */
  reuseBuffers?: boolean;
}

function checkLimit(value: number): number {
  if (!Number.isInteger(value) || value < 0 || value > 0xffff_ffff) {
    throw new RangeError("maxFrameLen must be an integer in 0..2^32-1");
  }
  return value;
}

/**
 * Splits a byte stream into frames. Feed any split of the stream with
 * {@link FrameDecoder.push}, then drain complete frames with
 * {@link FrameDecoder.next}.
 *
 * - A header declaring more than `maxFrameLen` throws a
 *   `LimitExceededError` with code `frame_too_large` as soon as the four
 *   prefix bytes are seen, before any payload is buffered.
 * - A zero-length frame is returned as an empty `Uint8Array` (decoding it
 *   then fails with `unexpected_eof`, as in the reference).
 * - Payload memory grows with the bytes actually received, never with the
 *   declared length alone: a frame buffer is at most twice the bytes
 *   received so far, or those bytes plus 128 KiB (with `reuseBuffers`, a
 *   buffer of at most 4 MiB may also be kept from an earlier frame).
 * - After an error the decoder is poisoned: every later call rethrows it.
 *
 * @example Feed a stream byte by byte
 * ```ts
 * import { encodeLengthPrefixedFrame, FrameDecoder } from "./frame.ts";
 * import { decodeWireFrame } from "./codec.ts";
 * const stream = encodeLengthPrefixedFrame({ type: "unknown" });
 * const decoder = new FrameDecoder();
 * const frames = [];
 * for (const byte of stream) {
 *   decoder.push(new Uint8Array([byte]));
 *   for (let f = decoder.next(); f !== undefined; f = decoder.next()) frames.push(f);
 * }
 * decoder.end();
 * console.assert(frames.length === 1 && decodeWireFrame(frames[0]).type === "unknown");
 * ```
 */
export class FrameDecoder {
  #maxFrameLen: number;
  readonly #reuse: boolean;
  /** Queued input chunks not yet consumed (private copies). */
  #chunks: Uint8Array[] = [];
  #chunkHead = 0;
  /** Read offset into `#chunks[#chunkHead]`. */
  #offset = 0;
  /** Bytes queued in `#chunks` (after `#offset`). */
  #queued = 0;
  /** Prefix bytes collected so far (when a prefix spans chunks). */
  #prefix = new Uint8Array(PREFIX);
  #prefixLen = 0;
  /** The current frame's declared length, or -1 while reading a prefix. */
  #frameLen = -1;
  /** The current frame's payload buffer and fill level. */
  #payload: Uint8Array | undefined;
  #filled = 0;
  #error: ProtocolError | undefined;

  /**
   * Creates a decoder.
   *
   * @param options The frame limit (default 1 MiB, the pre-handshake limit)
   * and buffer reuse.
   */
  constructor(options: FrameDecoderOptions = {}) {
    this.#maxFrameLen = checkLimit(
      options.maxFrameLen ?? DEFAULT_PRE_HANDSHAKE_MAX_FRAME_LEN,
    );
    this.#reuse = options.reuseBuffers ?? false;
  }

  /** The current frame limit; setting it applies to the next header read. */
  get maxFrameLen(): number {
    return this.#maxFrameLen;
  }

  set maxFrameLen(value: number) {
    this.#maxFrameLen = checkLimit(value);
  }

  /** Bytes received but not yet returned as frames (prefixes included). */
  get bufferedBytes(): number {
    return this.#queued + this.#prefixLen + this.#filled;
  }

  /**
   * Queues received bytes (copied, so the caller may reuse its buffer).
   * Bytes of a frame whose header was already read go straight into that
   * frame's buffer.
   *
   * @param chunk Any number of bytes of the stream.
   */
  push(chunk: Uint8Array): void {
    if (this.#error) throw this.#error;
    let n = chunk.length;
    if (n === 0) return;
    const len = this.#frameLen;
    if (len > 0 && this.#queued === 0 && this.#filled < len) {
      const take = Math.min(n, len - this.#filled);
      this.#reserve(this.#filled + take, len);
      this.#payload!.set(
        take === n ? chunk : chunk.subarray(0, take),
        this.#filled,
      );
      this.#filled += take;
      if (take === n) return;
      chunk = chunk.subarray(take);
      n -= take;
    }
    this.#chunks.push(chunk.slice());
    this.#queued += n;
  }

  /**
   * A buffer the next bytes of the stream may be read into directly: the
   * unfilled rest of the frame whose header was read (never past its end),
   * or undefined when no such frame is in progress, queued bytes come first,
   * or less than `minBytes` of it are missing. Report what was written with
   * {@link FrameDecoder.commit} before any other call. The buffer grows with
   * the bytes received, as for {@link FrameDecoder.push}.
   *
   * @param minBytes The smallest useful size.
   * @returns The buffer, or undefined.
   */
  writable(minBytes = 1): Uint8Array | undefined {
    const len = this.#frameLen;
    if (this.#error || len <= 0 || this.#queued > 0) return undefined;
    const filled = this.#filled;
    if (len - filled < Math.max(minBytes, 1)) return undefined;
    this.#reserve(Math.min(len, filled + GROW_STEP), len);
    const payload = this.#payload!;
    return payload.subarray(filled, Math.min(len, payload.length));
  }

  /**
   * Accounts for `n` bytes written into the buffer from
   * {@link FrameDecoder.writable}.
   *
   * @param n The byte count.
   * @throws {RangeError} When `n` is more than that buffer held.
   */
  commit(n: number): void {
    if (this.#error) throw this.#error;
    const room = this.#frameLen < 0 || this.#payload === undefined
      ? 0
      : Math.min(this.#frameLen, this.#payload.length) - this.#filled;
    if (!Number.isInteger(n) || n < 0 || n > room) {
      throw new RangeError("commit beyond the writable buffer");
    }
    this.#filled += n;
  }

  /**
   * Returns the next complete frame's CBOR bytes, or `undefined` when more
   * input is needed.
   *
   * @throws {LimitExceededError} Code `frame_too_large` when a header
   * declares more than {@link FrameDecoder.maxFrameLen}.
   */
  next(): Uint8Array | undefined {
    if (this.#error) throw this.#error;
    for (;;) {
      if (this.#frameLen < 0) {
        if (!this.#readPrefix()) return undefined;
        continue;
      }
      const len = this.#frameLen;
      if (len === 0) {
        this.#frameLen = -1;
        return new Uint8Array(0);
      }
      if (this.#filled === 0 && this.#queued >= len) {
        // Fast path: the whole frame sits in the first queued chunk.
        const head = this.#chunks[this.#chunkHead];
        const start = this.#offset;
        if (head.length - start >= len) {
          const frame = this.#reuse
            ? head.subarray(start, start + len)
            : head.slice(start, start + len);
          this.#consume(len);
          this.#frameLen = -1;
          return frame;
        }
      }
      if (!this.#fill(len)) return undefined;
      const payload = this.#payload!;
      this.#filled = 0;
      this.#frameLen = -1;
      if (!this.#reuse) {
        this.#payload = undefined;
        return payload; // Exactly `len` long (see #reserve).
      }
      if (payload.length > KEEP_PAYLOAD_BYTES) this.#payload = undefined;
      return payload.length === len ? payload : payload.subarray(0, len);
    }
  }

  /**
   * Declares the end of the stream.
   *
   * @throws {ProtocolError} `unexpected_eof` when the stream stopped inside
   * a frame (partial prefix or payload).
   */
  end(): void {
    if (this.#error) throw this.#error;
    if (!this.#wholeFrames()) {
      this.#fail(
        new ProtocolError("unexpected_eof", "stream ended inside a frame", {
          remote: true,
        }),
      );
    }
  }

  /**
   * Whether the buffered bytes are whole frames (which `next` still hands
   * out after `end`). Walks the queue without consuming it; a header over
   * the limit counts as whole, `next` reports it.
   */
  #wholeFrames(): boolean {
    let rest = this.#queued;
    let at = 0; // Offset into the queued bytes.
    let prefix = this.#prefixLen;
    if (this.#frameLen >= 0) {
      const missing = this.#frameLen - this.#filled;
      if (rest < missing) return false;
      rest -= missing;
      at += missing;
    }
    let len = 0;
    for (let k = 0; k < prefix; k++) len |= this.#prefix[k] << (8 * k);
    while (rest > 0 || prefix > 0) {
      while (prefix < PREFIX) {
        if (rest === 0) return false;
        len |= this.#queuedByte(at++) << (8 * prefix++);
        rest--;
      }
      len >>>= 0;
      if (len > this.#maxFrameLen) return true;
      if (rest < len) return false;
      rest -= len;
      at += len;
      prefix = 0;
      len = 0;
    }
    return true;
  }

  /** The queued byte `at` bytes past the read position. */
  #queuedByte(at: number): number {
    let pos = this.#offset + at;
    for (let i = this.#chunkHead; i < this.#chunks.length; i++) {
      const chunk = this.#chunks[i];
      if (pos < chunk.length) return chunk[pos];
      pos -= chunk.length;
    }
    return 0;
  }

  #fail(error: ProtocolError): never {
    this.#error = error;
    throw error;
  }

  /** Collects the 4 prefix bytes; true when a header was read. */
  #readPrefix(): boolean {
    if (this.#prefixLen === 0 && this.#queued >= PREFIX) {
      const head = this.#chunks[this.#chunkHead];
      const at = this.#offset;
      if (head.length - at >= PREFIX) {
        const len = (head[at] | (head[at + 1] << 8) | (head[at + 2] << 16) |
          (head[at + 3] << 24)) >>> 0;
        this.#consume(PREFIX);
        return this.#header(len);
      }
    }
    while (this.#prefixLen < PREFIX) {
      if (this.#queued === 0) return false;
      const head = this.#chunks[this.#chunkHead];
      this.#prefix[this.#prefixLen++] = head[this.#offset];
      this.#consume(1);
    }
    const p = this.#prefix;
    const len = (p[0] | (p[1] << 8) | (p[2] << 16) | (p[3] << 24)) >>> 0;
    this.#prefixLen = 0;
    return this.#header(len);
  }

  /** Checks a declared length against the limit (before any allocation). */
  #header(len: number): boolean {
    if (len > this.#maxFrameLen) {
      this.#fail(
        new LimitExceededError("max_frame_len", this.#maxFrameLen, len, {
          code: "frame_too_large",
          remote: true,
        }),
      );
    }
    this.#frameLen = len;
    this.#filled = 0;
    return true;
  }

  /** Copies queued bytes into the payload buffer; true when complete. */
  #fill(len: number): boolean {
    while (this.#filled < len && this.#queued > 0) {
      const head = this.#chunks[this.#chunkHead];
      const take = Math.min(head.length - this.#offset, len - this.#filled);
      this.#reserve(this.#filled + take, len);
      this.#payload!.set(
        head.subarray(this.#offset, this.#offset + take),
        this.#filled,
      );
      this.#filled += take;
      this.#consume(take);
    }
    return this.#filled === len;
  }

  /**
   * Makes the payload buffer hold at least `need` bytes. It grows from what
   * has arrived, never from the declared length alone: at most to
   * `max(2 * current, need + GROW_STEP)`, capped at `len`. Without buffer
   * reuse a completed frame's buffer is therefore exactly `len` long.
   */
  #reserve(need: number, len: number): void {
    const cur = this.#payload;
    if (cur !== undefined && cur.length >= need) return;
    const grown = cur === undefined ? 0 : cur.length * 2;
    const size = Math.min(len, Math.max(grown, need + GROW_STEP));
    const next = new Uint8Array(size);
    if (cur !== undefined && this.#filled > 0) {
      next.set(cur.subarray(0, this.#filled));
    }
    this.#payload = next;
  }

  #consume(n: number): void {
    this.#offset += n;
    this.#queued -= n;
    const head = this.#chunks[this.#chunkHead];
    if (this.#offset === head.length) {
      this.#offset = 0;
      if (++this.#chunkHead === this.#chunks.length) {
        this.#chunks = [];
        this.#chunkHead = 0;
      }
    }
  }
}
