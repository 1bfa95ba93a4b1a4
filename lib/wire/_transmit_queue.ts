/**
 * The session's transmit queue. `Packet` and `PacketChunk` frames are queued
 * as (header fields, payload view) and written straight into one coalesced
 * output buffer by {@link TransmitQueue.poll}, so a payload is encoded once
 * and copied once. The bytes are identical to `encodeFrame` of the same
 * frame (tests check this against the codec).
 *
 * @module
 */

import type { CompressionAlgo, U64 } from "./types.ts";

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
  if (value < 24) {
    out[at++] = m | value;
  } else if (value < 0x100) {
    out[at++] = m | 24;
    out[at++] = value;
  } else if (value < 0x10000) {
    out[at++] = m | 25;
    out[at++] = value >>> 8;
    out[at++] = value & 0xff;
  } else if (value < TWO_32) {
    out[at++] = m | 26;
    out[at++] = value >>> 24;
    out[at++] = (value >>> 16) & 0xff;
    out[at++] = (value >>> 8) & 0xff;
    out[at++] = value & 0xff;
  } else {
    const hi = Math.floor(value / TWO_32);
    const lo = value >>> 0;
    out[at++] = m | 27;
    out[at++] = hi >>> 24;
    out[at++] = (hi >>> 16) & 0xff;
    out[at++] = (hi >>> 8) & 0xff;
    out[at++] = hi & 0xff;
    out[at++] = lo >>> 24;
    out[at++] = (lo >>> 16) & 0xff;
    out[at++] = (lo >>> 8) & 0xff;
    out[at++] = lo & 0xff;
  }
  return at;
}

/** One queued frame. `kind` 0: raw framed bytes; 1: packet; 2: chunk. */
interface Item {
  kind: 0 | 1 | 2;
  /** Bytes this item adds to the stream, prefix included. */
  size: number;
  id: U64;
  compression: CompressionAlgo;
  seq: number;
  last: boolean;
  data: Uint8Array;
}

/**
 * A FIFO of outgoing frames that coalesces into as few buffers as possible.
 */
export class TransmitQueue {
  #items: Item[] = [];
  #head = 0;
  #bytes = 0;

  /** Bytes queued, length prefixes included. */
  get byteLength(): number {
    return this.#bytes;
  }

  /**
   * Queues an already framed buffer (prefix included).
   *
   * @param framed The frame bytes; kept by reference.
   */
  pushRaw(framed: Uint8Array): void {
    this.#push({
      kind: 0,
      size: framed.length,
      id: 0,
      compression: "none",
      seq: 0,
      last: false,
      data: framed,
    });
  }

  /**
   * Queues `Packet{id, compression, data}`.
   *
   * @param id The packet id.
   * @param compression The algorithm of `data`.
   * @param data The payload; kept by reference until polled.
   * @param frameLen Its CBOR length from {@link packetFrameLen}.
   */
  pushPacket(
    id: U64,
    compression: CompressionAlgo,
    data: Uint8Array,
    frameLen: number,
  ): void {
    this.#push({
      kind: 1,
      size: 4 + frameLen,
      id,
      compression,
      seq: 0,
      last: true,
      data,
    });
  }

  /**
   * Queues `PacketChunk{id, compression, seq, last, data}`.
   *
   * @param id The stream id.
   * @param compression The algorithm of the whole stream.
   * @param seq The sequence number.
   * @param last Whether this chunk ends the stream.
   * @param data The chunk's data; kept by reference until polled.
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
    this.#push({ kind: 2, size: 4 + frameLen, id, compression, seq, last, data });
  }

  #push(item: Item): void {
    this.#items.push(item);
    this.#bytes += item.size;
  }

  /**
   * Takes queued frames, coalesced into one buffer of at most `maxBytes`
   * (a single larger frame is returned alone).
   *
   * @param maxBytes The coalescing bound.
   * @returns The bytes to write, or undefined when nothing is queued.
   */
  poll(maxBytes: number): Uint8Array | undefined {
    const items = this.#items;
    if (this.#head >= items.length) return undefined;
    let end = this.#head;
    let total = 0;
    while (end < items.length) {
      const size = items[end].size;
      if (end > this.#head && total + size > maxBytes) break;
      total += size;
      end++;
    }
    const first = items[this.#head];
    let out: Uint8Array;
    if (end - this.#head === 1 && first.kind === 0) {
      out = first.data;
    } else {
      out = new Uint8Array(total);
      let at = 0;
      for (let i = this.#head; i < end; i++) at = writeItem(out, at, items[i]);
    }
    this.#bytes -= total;
    if (end >= items.length) {
      this.#items = [];
      this.#head = 0;
    } else {
      for (let i = this.#head; i < end; i++) items[i] = EMPTY_ITEM;
      this.#head = end;
      if (this.#head > 1024 && this.#head * 2 > items.length) {
        this.#items = items.slice(this.#head);
        this.#head = 0;
      }
    }
    return out;
  }

  /** Drops everything queued. */
  clear(): void {
    this.#items = [];
    this.#head = 0;
    this.#bytes = 0;
  }
}

const EMPTY_ITEM: Item = {
  kind: 0,
  size: 0,
  id: 0,
  compression: "none",
  seq: 0,
  last: false,
  data: new Uint8Array(0),
};

function writeItem(out: Uint8Array, at: number, item: Item): number {
  if (item.kind === 0) {
    out.set(item.data, at);
    return at + item.data.length;
  }
  const len = item.size - 4;
  out[at] = len & 0xff;
  out[at + 1] = (len >>> 8) & 0xff;
  out[at + 2] = (len >>> 16) & 0xff;
  out[at + 3] = len >>> 24;
  at += 4;
  const head = item.kind === 1 ? PACKET_HEAD : CHUNK_HEAD;
  out.set(head, at);
  at = writeUint(out, at + head.length, 0, item.id);
  out.set(COMPRESSION_KEY, at);
  at += COMPRESSION_KEY.length;
  const algo = ALGO_TEXT[item.compression];
  out.set(algo, at);
  at += algo.length;
  if (item.kind === 2) {
    out.set(SEQ_KEY, at);
    at = writeUint(out, at + SEQ_KEY.length, 0, item.seq);
    out.set(LAST_KEY, at);
    at += LAST_KEY.length;
    out[at++] = item.last ? 0xf5 : 0xf4;
  }
  out.set(DATA_KEY, at);
  at = writeUint(out, at + DATA_KEY.length, 2, item.data.length);
  out.set(item.data, at);
  return at + item.data.length;
}
