/**
 * Shared utilities of the session tests (not part of the public API).
 *
 * @module
 */

import {
  decodeRpcPayload,
  decodeWireFrame,
  encodeRpcPayload,
} from "./codec.ts";
import type { Compressor } from "./compression.ts";
import { ProtocolError } from "./errors.ts";
import { encodeLengthPrefixedFrame, FrameDecoder } from "./frame.ts";
import type { Session, SessionEvent } from "./session.ts";
import type {
  Capabilities,
  CompressionAlgo,
  RpcPayload,
  U64,
  WireFrame,
  WorkerHello,
} from "./types.ts";

/** The transport tests' capabilities (frame 64 KiB, packet 8 MiB). */
export const TEST_CAPS: Capabilities = {
  max_frame_len: 65536,
  max_packet_len: 8388608,
  supported_compression: ["none"],
  supports_cancel: true,
  supports_chunking: true,
};

/** The transport tests' hello (shard 7). */
export function testHello(overrides: Partial<WorkerHello> = {}): WorkerHello {
  return {
    shard_id: 7,
    auth_token: null,
    supported_versions: {
      min: { major: 3, minor: 0 },
      max: { major: 3, minor: 0 },
    },
    capabilities: { ...TEST_CAPS },
    cached_index_info: null,
    worker_build: null,
    ...overrides,
  };
}

/** A framed `Packet` carrying `payload` (uncompressed). */
export function packetFrame(
  id: U64,
  payload: RpcPayload | Uint8Array,
  compression: CompressionAlgo = "none",
): Uint8Array {
  const data = payload instanceof Uint8Array
    ? payload
    : encodeRpcPayload(payload);
  return encodeLengthPrefixedFrame({
    type: "packet",
    body: { id, compression, data },
  });
}

/** A framed `PacketChunk`. */
export function chunkFrame(
  id: U64,
  seq: number,
  last: boolean,
  data: Uint8Array,
  compression: CompressionAlgo = "none",
): Uint8Array {
  return encodeLengthPrefixedFrame({
    type: "packet_chunk",
    body: { id, compression, seq, last, data },
  });
}

/** Every event queued in a session. */
export function events(session: Session): SessionEvent[] {
  const out: SessionEvent[] = [];
  for (let e = session.pollEvent(); e !== undefined; e = session.pollEvent()) {
    out.push(e);
  }
  return out;
}

/** Everything a session wants to transmit, concatenated. */
export function transmitted(session: Session): Uint8Array {
  const parts: Uint8Array[] = [];
  for (let b = session.pollTransmit(); b; b = session.pollTransmit()) {
    parts.push(b);
  }
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** Splits a byte stream into decoded frames (no limit). */
export function frames(bytes: Uint8Array): WireFrame[] {
  const decoder = new FrameDecoder({ maxFrameLen: 0xffff_ffff });
  decoder.push(bytes);
  const out: WireFrame[] = [];
  for (let f = decoder.next(); f !== undefined; f = decoder.next()) {
    out.push(decodeWireFrame(f));
  }
  decoder.end();
  return out;
}

/** Decodes the payload of a `Packet` frame. */
export function payloadOf(frame: WireFrame): RpcPayload {
  if (frame.type !== "packet") throw new Error(`not a packet: ${frame.type}`);
  return decodeRpcPayload(frame.body.data);
}

/** The `closed` event's error code among `list`, if any. */
export function closedCode(list: SessionEvent[]): string | undefined {
  const closed = list.find((e) => e.type === "closed");
  if (closed === undefined) return undefined;
  return closed.type === "closed" ? closed.error?.code ?? "none" : undefined;
}

/**
 * A fake "zstd": output = marker byte + run-length pairs. It compresses long
 * runs well, honours `maxOutputBytes` while expanding (throwing
 * `packet_too_large` as soon as the bound would be passed), and counts calls.
 */
export class RleCompressor implements Compressor {
  readonly algorithms: readonly CompressionAlgo[] = ["zstd"];
  compressCalls = 0;
  decompressCalls = 0;
  largestOutput = 0;
  lastMaxOutput = -1;

  compress(_algo: CompressionAlgo, data: Uint8Array): Uint8Array {
    this.compressCalls++;
    const out: number[] = [0xee];
    for (let i = 0; i < data.length;) {
      let run = 1;
      while (i + run < data.length && data[i + run] === data[i] && run < 255) {
        run++;
      }
      out.push(run, data[i]);
      i += run;
    }
    return Uint8Array.from(out);
  }

  decompress(
    _algo: CompressionAlgo,
    data: Uint8Array,
    maxOutputBytes: number,
  ): Uint8Array {
    this.decompressCalls++;
    this.lastMaxOutput = maxOutputBytes;
    if (data[0] !== 0xee || data.length % 2 !== 1) {
      throw new ProtocolError("decompression_failed", "bad rle stream", {
        remote: true,
      });
    }
    let size = 0;
    for (let i = 1; i < data.length; i += 2) {
      size += data[i];
      if (size > maxOutputBytes) {
        throw new ProtocolError(
          "packet_too_large",
          `decompressed size exceeds ${maxOutputBytes}`,
          { remote: true },
        );
      }
    }
    const out = new Uint8Array(size);
    let at = 0;
    for (let i = 1; i < data.length; i += 2) {
      out.fill(data[i + 1], at, at + data[i]);
      at += data[i];
    }
    this.largestOutput = Math.max(this.largestOutput, size);
    return out;
  }
}
