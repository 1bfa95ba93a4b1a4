/**
 * The 8-byte frame header (u32 LE payload length, u8 priority, u8 message
 * type, two reserved zero bytes) and an incremental {@link FrameReader} that
 * rejects an oversize declared length before allocating its payload.
 *
 * Decisions: a non-zero reserved byte, a priority above 2 or an unknown type
 * is rejected (`bad_header`), not ignored.
 *
 * @module
 */

import { SeedError, SeedLimitError } from "./errors.ts";

/** Header length in bytes. */
export const FRAME_HEADER_SIZE = 8;

/**
 * Priorities: `critical` (heartbeats, handled before any lane), `control`
 * (membership), `bulk` (payloads).
 *
 * @example
 * ```ts
 * import { FRAME_PRIORITY } from "./frame.ts";
 * console.assert(FRAME_PRIORITY.bulk === 2);
 * ```
 */
export const FRAME_PRIORITY = { critical: 0, control: 1, bulk: 2 } as const;

/** A frame priority value. */
export type FramePriority = typeof FRAME_PRIORITY[keyof typeof FRAME_PRIORITY];

/** A decoded header. */
export interface FrameHeader {
  /** Payload length (header excluded). */
  length: number;
  /** Priority byte. */
  priority: FramePriority;
  /** Message type byte. */
  type: number;
}

/** One complete frame. */
export interface Frame extends FrameHeader {
  /** The payload. */
  payload: Uint8Array;
}

/** Largest message type id in use (see `messages.ts`). */
export const MAX_MESSAGE_TYPE = 17;

/**
 * Encodes a header.
 *
 * @param header Length, priority and type.
 * @returns 8 bytes.
 *
 * @example
 * ```ts
 * import { encodeFrameHeader } from "./frame.ts";
 * const h = encodeFrameHeader({ length: 258, priority: 1, type: 3 });
 * console.assert(h[0] === 2 && h[1] === 1 && h[4] === 1 && h[5] === 3 && h[6] === 0);
 * ```
 */
export function encodeFrameHeader(header: FrameHeader): Uint8Array {
  if (
    !Number.isInteger(header.length) || header.length < 0 ||
    header.length > 0xffff_ffff
  ) {
    throw new RangeError(`frame length out of range: ${header.length}`);
  }
  const out = new Uint8Array(FRAME_HEADER_SIZE);
  new DataView(out.buffer).setUint32(0, header.length, true);
  out[4] = header.priority;
  out[5] = header.type;
  return out;
}

/**
 * Decodes and validates a header.
 *
 * @param bytes At least 8 bytes; only the first 8 are read.
 * @returns The header.
 * @throws {SeedError} `bad_header` or `malformed` (too short).
 *
 * @example
 * ```ts
 * import { decodeFrameHeader, encodeFrameHeader } from "./frame.ts";
 * const h = decodeFrameHeader(encodeFrameHeader({ length: 5, priority: 0, type: 11 }));
 * console.assert(h.length === 5 && h.type === 11);
 * ```
 */
export function decodeFrameHeader(bytes: Uint8Array): FrameHeader {
  if (bytes.length < FRAME_HEADER_SIZE) {
    throw new SeedError(
      "malformed",
      `header needs 8 bytes, got ${bytes.length}`,
    );
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, FRAME_HEADER_SIZE);
  const priority = bytes[4];
  const type = bytes[5];
  if (bytes[6] !== 0 || bytes[7] !== 0) {
    throw new SeedError("bad_header", "reserved header bytes are not zero");
  }
  if (priority > 2) {
    throw new SeedError("bad_header", `unknown priority ${priority}`);
  }
  if (type === 0 || type > MAX_MESSAGE_TYPE) {
    throw new SeedError("bad_header", `unknown message type ${type}`);
  }
  return {
    length: view.getUint32(0, true),
    priority: priority as FramePriority,
    type,
  };
}

/**
 * Builds a whole frame.
 *
 * @param type Message type.
 * @param priority Priority.
 * @param payload Payload bytes.
 * @returns Header plus payload.
 *
 * @example
 * ```ts
 * import { encodeFrame } from "./frame.ts";
 * console.assert(encodeFrame(1, 1, new Uint8Array(3)).length === 11);
 * ```
 */
export function encodeFrame(
  type: number,
  priority: FramePriority,
  payload: Uint8Array,
): Uint8Array {
  const out = new Uint8Array(FRAME_HEADER_SIZE + payload.length);
  out.set(encodeFrameHeader({ length: payload.length, priority, type }));
  out.set(payload, FRAME_HEADER_SIZE);
  return out;
}

/**
 * Splits a byte stream into frames. Feed bytes with {@link FrameReader.push}
 * and take frames with {@link FrameReader.next}. A declared length over
 * `maxFrameBytes` throws `frame_too_large` as soon as the header is
 * complete, before any payload is buffered or allocated.
 *
 * @example
 * ```ts
 * import { encodeFrame, FrameReader } from "./frame.ts";
 * const r = new FrameReader(1024);
 * const f = encodeFrame(11, 0, new Uint8Array([1, 2]));
 * for (const b of f) r.push(new Uint8Array([b]));
 * console.assert(r.next()?.payload.length === 2 && r.next() === undefined);
 * ```
 */
export class FrameReader {
  #chunks: Uint8Array[] = [];
  #buffered = 0;
  #header: FrameHeader | undefined;
  #max: number;

  /**
   * Creates a reader.
   *
   * @param maxFrameBytes The payload cap (pre-auth cap until raised).
   */
  constructor(maxFrameBytes: number) {
    this.#max = maxFrameBytes;
  }

  /** The current payload cap. */
  get maxFrameBytes(): number {
    return this.#max;
  }

  /**
   * Changes the payload cap (e.g. raise it after authentication).
   *
   * @param maxFrameBytes The new cap.
   */
  setMaxFrameBytes(maxFrameBytes: number): void {
    this.#max = maxFrameBytes;
  }

  /** Bytes buffered and not yet returned as frames. */
  get buffered(): number {
    return this.#buffered;
  }

  /**
   * Adds received bytes (copied).
   *
   * @param bytes The bytes.
   */
  push(bytes: Uint8Array): void {
    if (bytes.length === 0) return;
    this.#chunks.push(bytes.slice());
    this.#buffered += bytes.length;
  }

  #take(n: number): Uint8Array {
    const out = new Uint8Array(n);
    let off = 0;
    while (off < n) {
      const head = this.#chunks[0];
      const need = n - off;
      if (head.length <= need) {
        out.set(head, off);
        off += head.length;
        this.#chunks.shift();
      } else {
        out.set(head.subarray(0, need), off);
        this.#chunks[0] = head.subarray(need);
        off += need;
      }
    }
    this.#buffered -= n;
    return out;
  }

  /**
   * Returns the next complete frame, or `undefined` when more bytes are needed.
   *
   * @returns A frame or `undefined`.
   * @throws {SeedError} `bad_header`, or {@link SeedLimitError} `frame_too_large`.
   */
  next(): Frame | undefined {
    if (this.#header === undefined) {
      if (this.#buffered < FRAME_HEADER_SIZE) return undefined;
      const header = decodeFrameHeader(this.#take(FRAME_HEADER_SIZE));
      if (header.length > this.#max) {
        throw new SeedLimitError(
          "frame_too_large",
          "maxFrameBytes",
          this.#max,
          header.length,
        );
      }
      this.#header = header;
    }
    const header = this.#header;
    if (this.#buffered < header.length) return undefined;
    this.#header = undefined;
    return { ...header, payload: this.#take(header.length) };
  }
}
