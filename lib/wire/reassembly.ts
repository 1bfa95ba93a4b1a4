/**
 * Reassembly of chunked packets (`PacketChunk` streams) under the reference's
 * bounds: strict `seq` order from 0, one compression per stream, at most 32
 * streams in progress, at most 256 MiB buffered in total, and each stream at
 * most `max_packet_len` bytes.
 *
 * @module
 */

import { LimitExceededError, ProtocolError } from "./errors.ts";
import {
  MAX_INFLIGHT_CHUNKED_PACKETS,
  MAX_REASSEMBLY_BYTES,
} from "./limits.ts";
import type { CompressionAlgo, PacketChunk, U64 } from "./types.ts";

/** Options for {@link Reassembler}. */
export interface ReassemblerOptions {
  /** The negotiated `max_packet_len`: the largest reassembled packet. */
  maxPacketLen: number;
  /**
   * Streams that may be in progress at once.
   * @default {32}
   */
  maxStreams?: number;
  /**
   * Bytes that may be buffered across all streams.
   * @default {268435456}
   */
  maxBufferedBytes?: number;
}

/** A completed chunk stream: the joined (still compressed) data. */
export interface ReassembledPacket {
  /** The stream's id. */
  readonly id: U64;
  /** The compression of every chunk of the stream. */
  readonly compression: CompressionAlgo;
  /** The joined bytes (owned by the caller). */
  readonly data: Uint8Array;
}

interface Stream {
  compression: CompressionAlgo;
  nextSeq: number;
  size: number;
  parts: Uint8Array[];
}

/**
 * Joins chunk streams. Every violation throws a {@link ProtocolError} (the
 * session then closes the connection); the checks run in the reference's
 * order: stream count, compression, seq, total bytes, stream size.
 *
 * Chunk data is kept by reference until the stream completes, so callers
 * must pass buffers they will not overwrite.
 *
 * @example Two chunks, one packet
 * ```ts
 * import { Reassembler } from "./reassembly.ts";
 * const r = new Reassembler({ maxPacketLen: 1024 });
 * const first = r.push({ id: 1, compression: "none", seq: 0, last: false, data: new Uint8Array([1]) });
 * const done = r.push({ id: 1, compression: "none", seq: 1, last: true, data: new Uint8Array([2]) });
 * console.assert(first === undefined && done?.data.join() === "1,2" && r.streamCount === 0);
 * ```
 */
export class Reassembler {
  #streams = new Map<U64, Stream>();
  #buffered = 0;
  #maxPacketLen: number;
  #maxStreams: number;
  #maxBuffered: number;

  /**
   * Creates an empty reassembler.
   *
   * @param options The bounds.
   * @throws {RangeError} When a bound is not a non-negative safe integer.
   */
  constructor(options: ReassemblerOptions) {
    this.#maxPacketLen = checkBound("maxPacketLen", options.maxPacketLen);
    this.#maxStreams = checkBound(
      "maxStreams",
      options.maxStreams ?? MAX_INFLIGHT_CHUNKED_PACKETS,
    );
    this.#maxBuffered = checkBound(
      "maxBufferedBytes",
      options.maxBufferedBytes ?? MAX_REASSEMBLY_BYTES,
    );
  }

  /** Streams currently in progress. */
  get streamCount(): number {
    return this.#streams.size;
  }

  /** Bytes currently buffered across all streams. */
  get bufferedBytes(): number {
    return this.#buffered;
  }

  /**
   * Adds one chunk.
   *
   * @param chunk The chunk (its id is assumed non-zero; the session checks).
   * @returns The joined packet when `chunk.last` completes a stream.
   * @throws {ProtocolError} `limit_exceeded` (too many streams or bytes),
   * `chunk_sequence` (seq or compression broke the stream),
   * `packet_too_large` (the stream outgrew `max_packet_len`).
   */
  push(chunk: PacketChunk): ReassembledPacket | undefined {
    let stream = this.#streams.get(chunk.id);
    if (stream === undefined) {
      if (this.#streams.size >= this.#maxStreams) {
        throw new LimitExceededError(
          "max_inflight_chunked_packets",
          this.#maxStreams,
          this.#streams.size + 1,
          { remote: true },
        );
      }
      stream = {
        compression: chunk.compression,
        nextSeq: 0,
        size: 0,
        parts: [],
      };
      this.#streams.set(chunk.id, stream);
    }
    if (chunk.compression !== stream.compression) {
      throw new ProtocolError(
        "chunk_sequence",
        "chunk compression changed mid-stream",
        { remote: true },
      );
    }
    if (chunk.seq !== stream.nextSeq) {
      throw new ProtocolError(
        "chunk_sequence",
        `chunk seq mismatch for id ${chunk.id}: expected ${stream.nextSeq}, got ${chunk.seq}`,
        { remote: true },
      );
    }
    const len = chunk.data.length;
    if (this.#buffered + len > this.#maxBuffered) {
      throw new LimitExceededError(
        "max_reassembly_bytes",
        this.#maxBuffered,
        this.#buffered + len,
        { remote: true },
      );
    }
    if (stream.size + len > this.#maxPacketLen) {
      throw new LimitExceededError(
        "max_packet_len",
        this.#maxPacketLen,
        stream.size + len,
        { code: "packet_too_large", remote: true },
      );
    }
    stream.nextSeq++;
    if (len > 0) stream.parts.push(chunk.data);
    stream.size += len;
    this.#buffered += len;
    if (!chunk.last) return undefined;
    this.#streams.delete(chunk.id);
    this.#buffered -= stream.size;
    return {
      id: chunk.id,
      compression: stream.compression,
      data: join(stream.parts, stream.size),
    };
  }

  /** Drops every stream in progress (on close). */
  clear(): void {
    this.#streams.clear();
    this.#buffered = 0;
  }
}

function join(parts: Uint8Array[], size: number): Uint8Array {
  if (parts.length === 1) return parts[0];
  const out = new Uint8Array(size);
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

function checkBound(name: string, value: number): number {
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new RangeError(`${name} must be a non-negative safe integer`);
  }
  return value;
}
