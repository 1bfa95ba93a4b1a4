/**
 * The session's transmit queue and receive fast path. `Packet` and
 * `PacketChunk` frames are written straight into arena buffers (a payload is
 * encoded once and copied once), and canonical packets are read without a
 * full decode. The bytes are identical to the codec's `encodeLengthPrefixedFrame` of the
 * same frame (tests check this against the codec).
 *
 * @module
 */

import type { CompressionAlgo, U64 } from "./types.ts";
import { putHead } from "./_cbor_write.ts";

const TEXT = new TextEncoder();

function bytes(...parts: (number | string)[]): Uint8Array {
  const out: number[] = [];
  for (const part of parts) {
    if (typeof part === "number") out.push(part);
    else out.push(...TEXT.encode(part));
  }
  return Uint8Array.from(out);
}

// a2 "type" "packet" "body" a3 "id"
const PACKET_HEAD = bytes(
  0xa2,
  0x64,
  "type",
  0x66,
  "packet",
  0x64,
  "body",
  0xa3,
  0x62,
  "id",
);
// a2 "type" "packet_chunk" "body" a5 "id"
const CHUNK_HEAD = bytes(
  0xa2,
  0x64,
  "type",
  0x6c,
  "packet_chunk",
  0x64,
  "body",
  0xa5,
  0x62,
  "id",
);
const COMPRESSION_KEY = bytes(0x6b, "compression");
const SEQ_KEY = bytes(0x63, "seq");
const LAST_KEY = bytes(0x64, "last");
const DATA_KEY = bytes(0x64, "data");
const ALGO_TEXT: Readonly<Record<CompressionAlgo, Uint8Array>> = {
  none: bytes(0x64, "none"),
  zstd: bytes(0x64, "zstd"),
  unknown: bytes(0x67, "unknown"),
};

const TWO_32 = 0x1_0000_0000;
/** Bytes of released buffers {@link TransmitQueue} keeps for reuse. */
const KEEP_SPARE_BYTES = 4 * 1024 * 1024;
/** Buffers of large frames are allocated in multiples of this. */
const SPARE_ROUNDING = 65_536;

/**
 * Bytes of a CBOR unsigned-integer head for `value` (shortest form).
 *
 * @param value A u64 value.
 * @returns 1, 2, 3, 5 or 9.
 */
export function uintHeadLen(value: U64): number {
  if (typeof value === "bigint") return 9;
  if (value < 24) return 1;
  if (value < 0x100) return 2;
  if (value < 0x10000) return 3;
  if (value < TWO_32) return 5;
  return 9;
}

/**
 * CBOR length (no prefix) of `Packet{id, compression, data}`.
 *
 * @param id The packet id.
 * @param compression The algorithm.
 * @param dataLen The payload length.
 * @returns The frame length.
 */
export function packetFrameLen(
  id: U64,
  compression: CompressionAlgo,
  dataLen: number,
): number {
  return PACKET_HEAD.length + uintHeadLen(id) + COMPRESSION_KEY.length +
    ALGO_TEXT[compression].length + DATA_KEY.length + uintHeadLen(dataLen) +
    dataLen;
}

/**
 * CBOR length (no prefix) of `PacketChunk{id, compression, seq, last, data}`.
 *
 * @param id The stream id.
 * @param compression The algorithm.
 * @param seq The chunk's sequence number.
 * @param dataLen The chunk's data length.
 * @returns The frame length.
 */
export function chunkFrameLen(
  id: U64,
  compression: CompressionAlgo,
  seq: number,
  dataLen: number,
): number {
  return CHUNK_HEAD.length + uintHeadLen(id) + COMPRESSION_KEY.length +
    ALGO_TEXT[compression].length + SEQ_KEY.length + uintHeadLen(seq) +
    LAST_KEY.length + 1 + DATA_KEY.length + uintHeadLen(dataLen) + dataLen;
}

function writeUint(
  out: Uint8Array,
  at: number,
  major: number,
  value: U64,
): number {
  const m = major << 5;
  if (typeof value === "bigint") {
    out[at++] = m | 27;
    for (let shift = 56n; shift >= 0n; shift -= 8n) {
      out[at++] = Number((value >> shift) & 0xffn);
    }
    return at;
  }
  return putHead(out, at, major, value);
}

/**
 * A FIFO of outgoing frames written straight into large arena buffers: a
 * frame is encoded (prefix, header, payload copy) when it is queued, so the
 * payload may be a borrowed view, and {@link TransmitQueue.poll} hands out
 * the unpolled run of the current arena without copying. Arenas are
 * `arenaBytes` long (a larger frame gets an arena of its own), so memory is
 * allocated once per arena, not once per frame.
 */
export class TransmitQueue {
  readonly #arenaBytes: number;
  /** Finished runs waiting to be polled, oldest first. */
  #ready: Uint8Array[] = [];
  #readyHead = 0;
  #arena: Uint8Array | undefined;
  /** Start of the unpolled run in the current arena. */
  #start = 0;
  /** End of the written bytes in the current arena. */
  #used = 0;
  #bytes = 0;
  /** Released buffers of frames larger than an arena, for the next ones. */
  #spares: Uint8Array[] = [];
  /** Their total size (at most `KEEP_SPARE_BYTES`). */
  #spareBytes = 0;

  /**
   * Creates an empty queue.
   *
   * @param arenaBytes The arena size, which also bounds one polled buffer
   * (unless a single frame is larger).
   */
  constructor(arenaBytes = 262_144) {
    this.#arenaBytes = arenaBytes;
  }

  /** Bytes queued, length prefixes included. */
  get byteLength(): number {
    return this.#bytes;
  }

  /** Returns where `n` bytes can be written in the current arena. */
  #reserve(n: number): Uint8Array {
    const arena = this.#arena;
    if (arena !== undefined && arena.length - this.#used >= n) return arena;
    if (arena !== undefined && this.#used > this.#start) {
      this.#ready.push(arena.subarray(this.#start, this.#used));
    }
    let next: Uint8Array | undefined;
    if (n <= this.#arenaBytes) {
      next = new Uint8Array(this.#arenaBytes);
    } else {
      // A frame of its own: it fills `next`, so it is polled whole.
      // Rounded up, so that the next frames of about this size (a request
      // whose id or revision grew by a byte) fit the buffer once released.
      next = this.#takeSpare(n) ??
        new Uint8Array(Math.ceil(n / SPARE_ROUNDING) * SPARE_ROUNDING)
          .subarray(0, n);
    }
    this.#arena = next;
    this.#start = 0;
    this.#used = 0;
    return next;
  }

  /**
   * Queues an already framed buffer (prefix included); it is copied.
   *
   * @param framed The frame bytes.
   */
  pushRaw(framed: Uint8Array): void {
    const out = this.#reserve(framed.length);
    out.set(framed, this.#used);
    this.#used += framed.length;
    this.#bytes += framed.length;
  }

  /**
   * Queues `Packet{id, compression, data}`.
   *
   * @param id The packet id.
   * @param compression The algorithm of `data`.
   * @param data The payload; copied at once (a borrowed view is fine).
   * @param frameLen Its CBOR length from {@link packetFrameLen}.
   */
  pushPacket(
    id: U64,
    compression: CompressionAlgo,
    data: Uint8Array,
    frameLen: number,
  ): void {
    const out = this.#reserve(4 + frameLen);
    let at = put(out, writePrefix(out, this.#used, frameLen), PACKET_HEAD);
    at = writeUint(out, at, 0, id);
    at = writeTail(out, at, compression, data);
    this.#used = at;
    this.#bytes += 4 + frameLen;
  }

  /**
   * Queues `PacketChunk{id, compression, seq, last, data}`.
   *
   * @param id The stream id.
   * @param compression The algorithm of the whole stream.
   * @param seq The sequence number.
   * @param last Whether this chunk ends the stream.
   * @param data The chunk's data; copied at once.
   * @param frameLen Its CBOR length from {@link chunkFrameLen}.
   */
  pushChunk(
    id: U64,
    compression: CompressionAlgo,
    seq: number,
    last: boolean,
    data: Uint8Array,
    frameLen: number,
  ): void {
    const out = this.#reserve(4 + frameLen);
    let at = writePrefix(out, this.#used, frameLen);
    out.set(CHUNK_HEAD, at);
    at = writeUint(out, at + CHUNK_HEAD.length, 0, id);
    out.set(COMPRESSION_KEY, at);
    at += COMPRESSION_KEY.length;
    const algo = ALGO_TEXT[compression];
    out.set(algo, at);
    at += algo.length;
    out.set(SEQ_KEY, at);
    at = writeUint(out, at + SEQ_KEY.length, 0, seq);
    out.set(LAST_KEY, at);
    at += LAST_KEY.length;
    out[at++] = last ? 0xf5 : 0xf4;
    out.set(DATA_KEY, at);
    at = writeUint(out, at + DATA_KEY.length, 2, data.length);
    out.set(data, at);
    this.#used = at + data.length;
    this.#bytes += 4 + frameLen;
  }

  /**
   * Takes the oldest run of queued frames (whole frames only).
   *
   * @returns The bytes (owned by the caller), or undefined when empty.
   */
  poll(): Uint8Array | undefined {
    let out: Uint8Array | undefined;
    if (this.#readyHead < this.#ready.length) {
      out = this.#ready[this.#readyHead++];
      if (this.#readyHead === this.#ready.length) {
        this.#ready = [];
        this.#readyHead = 0;
      }
    } else if (this.#arena !== undefined && this.#used > this.#start) {
      out = this.#arena.subarray(this.#start, this.#used);
      this.#start = this.#used;
    } else {
      return undefined;
    }
    this.#bytes -= out.length;
    return out;
  }

  /** Takes a spare buffer of at least `n` bytes, as a view of `n` bytes. */
  #takeSpare(n: number): Uint8Array | undefined {
    const spares = this.#spares;
    for (let i = 0; i < spares.length; i++) {
      const spare = spares[i];
      if (spare.length < n) continue;
      spares.splice(i, 1);
      this.#spareBytes -= spare.length;
      return spare.subarray(0, n);
    }
    return undefined;
  }

  /**
   * Gives back a buffer returned by {@link TransmitQueue.poll} that the
   * caller has finished with (written out, no view of it kept), once. Only
   * buffers of frames larger than an arena are kept, the newest
   * `KEEP_SPARE_BYTES` of them, to carry the next such frames without
   * allocating.
   *
   * @param bytes A polled buffer.
   */
  release(bytes: Uint8Array): void {
    const buffer = bytes.buffer;
    if (
      bytes.byteOffset !== 0 || bytes.length <= this.#arenaBytes ||
      !(buffer instanceof ArrayBuffer) ||
      buffer.byteLength > KEEP_SPARE_BYTES
    ) {
      return;
    }
    for (const spare of this.#spares) if (spare.buffer === buffer) return;
    const arena = this.#arena;
    if (arena !== undefined && arena.buffer === buffer) {
      // Still the current arena: only once it is full and fully polled.
      if (this.#start !== arena.length) return;
      this.#arena = undefined;
      this.#start = 0;
      this.#used = 0;
    }
    for (let i = this.#readyHead; i < this.#ready.length; i++) {
      if (this.#ready[i].buffer === buffer) return;
    }
    // The newest buffers fit the frames being sent now: make room for this
    // one by dropping the oldest.
    const spares = this.#spares;
    while (this.#spareBytes + buffer.byteLength > KEEP_SPARE_BYTES) {
      this.#spareBytes -= spares.shift()!.length;
    }
    spares.push(new Uint8Array(buffer));
    this.#spareBytes += buffer.byteLength;
  }

  /** Drops everything queued. */
  clear(): void {
    this.#ready = [];
    this.#readyHead = 0;
    this.#arena = undefined;
    this.#start = 0;
    this.#used = 0;
    this.#bytes = 0;
    this.#spares = [];
    this.#spareBytes = 0;
  }
}

/** Copies `src` into `out` at `at`; a plain loop beats `set` for a few bytes. */
function put(out: Uint8Array, at: number, src: Uint8Array): number {
  const n = src.length;
  if (n > 64) {
    out.set(src, at);
  } else {
    for (let i = 0; i < n; i++) out[at + i] = src[i];
  }
  return at + n;
}

function writePrefix(out: Uint8Array, at: number, len: number): number {
  out[at] = len & 0xff;
  out[at + 1] = (len >>> 8) & 0xff;
  out[at + 2] = (len >>> 16) & 0xff;
  out[at + 3] = len >>> 24;
  return at + 4;
}

function writeTail(
  out: Uint8Array,
  at: number,
  compression: CompressionAlgo,
  data: Uint8Array,
): number {
  at = put(out, at, COMPRESSION_KEY);
  at = put(out, at, ALGO_TEXT[compression]);
  at = put(out, at, DATA_KEY);
  at = writeUint(out, at, 2, data.length);
  return put(out, at, data);
}

/** The fields of a `Packet` or `PacketChunk` read by {@link parseCanonicalPacket}. */
export interface FastPacket {
  /** True for a `PacketChunk`. */
  chunk: boolean;
  id: U64;
  compression: CompressionAlgo;
  seq: number;
  last: boolean;
  /** A view into the frame bytes. */
  data: Uint8Array;
}

function startsWith(
  bytes: Uint8Array,
  at: number,
  end: number,
  prefix: Uint8Array,
): boolean {
  const n = prefix.length;
  if (at + n > end) return false;
  for (let i = 0; i < n; i++) {
    if (bytes[at + i] !== prefix[i]) return false;
  }
  return true;
}

/** The value read by the last successful {@link readUint}. */
let uintValue = 0;

/**
 * Reads a shortest-form unsigned head of `major` ending before `end`; sets
 * `uintValue` and returns the next offset, or -1.
 */
function readUint(
  bytes: Uint8Array,
  at: number,
  end: number,
  major: number,
): number {
  if (at >= end) return -1;
  const head = bytes[at];
  if (head >> 5 !== major) return -1;
  const info = head & 0x1f;
  if (info < 24) {
    uintValue = info;
    return at + 1;
  }
  if (info === 24) {
    if (at + 2 > end || bytes[at + 1] < 24) return -1;
    uintValue = bytes[at + 1];
    return at + 2;
  }
  if (info === 25) {
    if (at + 3 > end) return -1;
    const v = (bytes[at + 1] << 8) | bytes[at + 2];
    if (v < 0x100) return -1;
    uintValue = v;
    return at + 3;
  }
  if (info === 26) {
    if (at + 5 > end) return -1;
    const v = ((bytes[at + 1] << 24) | (bytes[at + 2] << 16) |
      (bytes[at + 3] << 8) | bytes[at + 4]) >>> 0;
    if (v < 0x10000) return -1;
    uintValue = v;
    return at + 5;
  }
  return -1; // 8-byte heads: leave them to the full decoder.
}

/**
 * A fast path for the receive side: recognises a `Packet` or `PacketChunk`
 * frame encoded exactly as our writer (and the reference) encodes it, with
 * ids and lengths below 2^32, and returns its fields without a full decode.
 * Anything else returns undefined, and the caller uses the full decoder;
 * for every input it accepts, the full decoder gives the same value.
 *
 * @param frame One frame's CBOR bytes (no prefix), or a buffer holding it.
 * @param start Where the frame starts in `frame`.
 * @param end Where it ends.
 * @returns The fields, or undefined.
 */
export function parseCanonicalPacket(
  frame: Uint8Array,
  start = 0,
  end: number = frame.length,
): FastPacket | undefined {
  let chunk: boolean;
  let at: number;
  if (startsWith(frame, start, end, PACKET_HEAD)) {
    chunk = false;
    at = start + PACKET_HEAD.length;
  } else if (startsWith(frame, start, end, CHUNK_HEAD)) {
    chunk = true;
    at = start + CHUNK_HEAD.length;
  } else {
    return undefined;
  }
  at = readUint(frame, at, end, 0);
  if (at < 0) return undefined;
  const id = uintValue;
  if (!startsWith(frame, at, end, COMPRESSION_KEY)) return undefined;
  at += COMPRESSION_KEY.length;
  let compression: CompressionAlgo;
  if (startsWith(frame, at, end, ALGO_TEXT.none)) compression = "none";
  else if (startsWith(frame, at, end, ALGO_TEXT.zstd)) compression = "zstd";
  else return undefined;
  at += 5;
  let seq = 0;
  let last = true;
  if (chunk) {
    if (!startsWith(frame, at, end, SEQ_KEY)) return undefined;
    at = readUint(frame, at + SEQ_KEY.length, end, 0);
    if (at < 0) return undefined;
    seq = uintValue;
    if (!startsWith(frame, at, end, LAST_KEY)) return undefined;
    at += LAST_KEY.length;
    if (at >= end) return undefined;
    const flag = frame[at++];
    if (flag === 0xf5) last = true;
    else if (flag === 0xf4) last = false;
    else return undefined;
  }
  if (!startsWith(frame, at, end, DATA_KEY)) return undefined;
  at = readUint(frame, at + DATA_KEY.length, end, 2);
  if (at < 0 || at + uintValue !== end) return undefined;
  return {
    chunk,
    id,
    compression,
    seq,
    last,
    data: frame.subarray(at, end),
  };
}
