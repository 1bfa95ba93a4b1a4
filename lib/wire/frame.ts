/**
 * Outer framing: each frame is a u32 little-endian length followed by that
 * many bytes of `WireFrame` CBOR. {@link encodeFrame} builds one frame;
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
/** Frames up to this size are copied into a fresh buffer as they arrive. */
const INITIAL_ALLOC = 8192;

/**
 * Encodes a frame: the u32 LE length prefix and the CBOR, in one buffer.
 *
 * @param frame The frame.
 * @returns Fresh bytes, ready to write to a stream.
 * @throws {ProtocolError} `encode_failed` for a value that cannot be encoded.
 *
 * @example
 * ```ts
 * import { encodeFrame } from "./frame.ts";
 * const bytes = encodeFrame({ type: "unknown" });
 * console.assert(bytes.length === 18 && bytes[0] === 14 && bytes[4] === 0xa1);
 * ```
 */
export function encodeFrame(frame: WireFrame): Uint8Array {
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

/** Options for {@link FrameDecoder}. */
export interface FrameDecoderOptions {
  /**
   * The largest frame length accepted (a u32 value, 0 allowed).
   * @default {1048576} (the pre-handshake limit)
   */
  maxFrameLen?: number;
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
 *   declared length alone.
 * - After an error the decoder is poisoned: every later call rethrows it.
 *
 * @example Feed a stream byte by byte
 * ```ts
 * import { encodeFrame, FrameDecoder } from "./frame.ts";
 * import { decodeWireFrame } from "./codec.ts";
 * const stream = encodeFrame({ type: "unknown" });
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
  /** Queued input chunks not yet consumed. */
  #chunks: Uint8Array[] = [];
  /** Read offset into `#chunks[0]`. */
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
   * @param options The frame limit (default 1 MiB, the pre-handshake limit).
   */
  constructor(options: FrameDecoderOptions = {}) {
    this.#maxFrameLen = checkLimit(
      options.maxFrameLen ?? DEFAULT_PRE_HANDSHAKE_MAX_FRAME_LEN,
    );
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
   *
   * @param chunk Any number of bytes of the stream.
   */
  push(chunk: Uint8Array): void {
    if (this.#error) throw this.#error;
    if (chunk.length === 0) return;
    this.#chunks.push(chunk.slice());
    this.#queued += chunk.length;
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
      if (this.#filled === 0 && this.#chunks.length > 0) {
        // Fast path: the whole frame sits in the first queued chunk.
        const head = this.#chunks[0];
        if (head.length - this.#offset >= len) {
          const frame = head.slice(this.#offset, this.#offset + len);
          this.#consume(len);
          this.#frameLen = -1;
          return frame;
        }
      }
      if (this.#queued === 0 && this.#filled < len) return undefined;
      if (!this.#fill(len)) return undefined;
      const frame = this.#payload!.length === len
        ? this.#payload!
        : this.#payload!.slice(0, len);
      this.#payload = undefined;
      this.#filled = 0;
      this.#frameLen = -1;
      return frame;
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
    if (this.bufferedBytes > 0 || this.#frameLen >= 0) {
      this.#fail(
        new ProtocolError("unexpected_eof", "stream ended inside a frame", {
          remote: true,
        }),
      );
    }
  }

  #fail(error: ProtocolError): never {
    this.#error = error;
    throw error;
  }

  /** Collects the 4 prefix bytes; true when a header was read. */
  #readPrefix(): boolean {
    while (this.#prefixLen < PREFIX) {
      if (this.#queued === 0) return false;
      const head = this.#chunks[0];
      this.#prefix[this.#prefixLen++] = head[this.#offset];
      this.#consume(1);
    }
    const p = this.#prefix;
    const len = (p[0] | (p[1] << 8) | (p[2] << 16) | (p[3] << 24)) >>> 0;
    this.#prefixLen = 0;
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
      const head = this.#chunks[0];
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

  /** Grows the payload buffer gradually (never straight to `len`). */
  #reserve(need: number, len: number): void {
    const cur = this.#payload;
    if (cur !== undefined && cur.length >= need) return;
    let size = cur === undefined ? Math.min(len, INITIAL_ALLOC) : cur.length;
    while (size < need) size = Math.min(len, size * 2);
    const next = new Uint8Array(size);
    if (cur !== undefined) next.set(cur.subarray(0, this.#filled));
    this.#payload = next;
  }

  #consume(n: number): void {
    this.#offset += n;
    this.#queued -= n;
    const head = this.#chunks[0];
    if (this.#offset === head.length) {
      this.#chunks.shift();
      this.#offset = 0;
    }
  }
}
