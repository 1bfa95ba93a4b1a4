/**
 * A passive observer of both directions of one worker connection. It splits
 * the byte streams into frames, decodes them with our codec, keeps a bounded
 * transcript in wire JSON, reassembles and decompresses the worker's packets,
 * and records every rule the WORKER's traffic breaks (frames before Welcome,
 * frames over the negotiated limits, chunk sequence errors, wrong id parity
 * on its own requests and notifications, responses to unknown ids...).
 *
 * Pure and synchronous: bytes and the current time are passed in; the zstd
 * decompressor is injected.
 *
 * @module
 */

import { decodeRpcPayload, decodeWireFrame } from "../../lib/wire/codec.ts";
import { FrameDecoder } from "../../lib/wire/frame.ts";
import { toWireJson } from "../../lib/wire/wire_json.ts";
import {
  MAX_INFLIGHT_CHUNKED_PACKETS,
  MAX_MESSAGE_BYTES,
} from "../../lib/wire/limits.ts";
import type {
  CompressionAlgo,
  RouterWelcome,
  RpcPayload,
  U64,
  WireFrame,
  WorkerHello,
} from "../../lib/wire/types.ts";
import type { TranscriptEntry } from "./types.ts";

/** Direction of a frame. */
export type Direction = "r->w" | "w->r";

/** Decompresses `data` producing at most `max` bytes (throws otherwise). */
export type Decompress = (
  algo: CompressionAlgo,
  data: Uint8Array,
  max: number,
) => Uint8Array;

/** A complete payload the worker sent (after reassembly/decompression). */
export interface WorkerPayload {
  id: U64;
  compression: CompressionAlgo;
  payload: RpcPayload;
  /** Number of frames it took (1 for a Packet). */
  frames: number;
  /** Size of the (possibly compressed) packet data. */
  dataLen: number;
}

/** Something decoded from the worker's stream. */
export type MonitorEvent =
  | { type: "frame"; frame: WireFrame; size: number; bytes: Uint8Array }
  | { type: "payload"; item: WorkerPayload }
  | { type: "undecodable"; message: string };

/** Options for {@link WireMonitor}. */
export interface WireMonitorOptions {
  /** zstd decompressor for the worker's packets. */
  decompress: Decompress;
  /** Transcript entries kept (the most recent). @default 40 */
  transcriptLimit?: number;
  /** Start time in ms (the transcript's time origin). @default 0 */
  start?: number;
}

interface ChunkStream {
  compression: CompressionAlgo;
  nextSeq: number;
  parts: Uint8Array[];
  size: number;
}

const MAX_STRING = 160;
const MAX_ARRAY = 24;

/**
 * Shortens a wire JSON value for display: long strings, byte strings and
 * arrays are cut, with a marker saying how much was left out.
 *
 * @param value A wire JSON value.
 * @returns A smaller value of the same shape.
 *
 * @example
 * ```ts
 * import { abbreviateJson } from "./wire_monitor.ts";
 * const v = abbreviateJson({ s: "x".repeat(500) }) as { s: string };
 * console.assert(v.s.length < 200);
 * ```
 */
export function abbreviateJson(value: unknown): unknown {
  if (typeof value === "string") {
    return value.length > MAX_STRING
      ? `${value.slice(0, MAX_STRING)}... (${value.length} chars)`
      : value;
  }
  if (Array.isArray(value)) {
    const head = value.slice(0, MAX_ARRAY).map(abbreviateJson);
    if (value.length > MAX_ARRAY) {
      head.push(`... (${value.length - MAX_ARRAY} more items)`);
    }
    return head;
  }
  if (value !== null && typeof value === "object") {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      if (k === "$bytes" && typeof v === "string" && v.length > 96) {
        out[k] = `${v.slice(0, 96)}... (${v.length / 2} bytes)`;
      } else out[k] = abbreviateJson(v);
    }
    return out;
  }
  return value;
}

function hexPrefix(bytes: Uint8Array, max = 48): string {
  let s = "";
  for (const b of bytes.subarray(0, max)) s += b.toString(16).padStart(2, "0");
  return bytes.length > max ? `${s}... (${bytes.length} bytes)` : s;
}

function idKey(id: U64): string {
  return String(id);
}

function isOdd(id: U64): boolean {
  return typeof id === "bigint" ? (id & 1n) === 1n : id % 2 === 1;
}

/**
 * The observer of one connection.
 *
 * @example Observe a worker's Hello
 * ```ts
 * import { WireMonitor } from "./wire_monitor.ts";
 * import { encodeFrame } from "../../lib/wire/frame.ts";
 * const m = new WireMonitor({ decompress: (_a, d) => d });
 * m.feed("w->r", encodeFrame({ type: "hello", body: {
 *   shard_id: 1, auth_token: null,
 *   supported_versions: { min: { major: 3, minor: 0 }, max: { major: 3, minor: 0 } },
 *   capabilities: { max_frame_len: 4096, max_packet_len: 4096, supported_compression: ["none"], supports_cancel: true, supports_chunking: true },
 *   cached_index_info: null, worker_build: null } }), 0);
 * console.assert(m.hello?.shard_id === 1 && m.violations.length === 0);
 * ```
 */
export class WireMonitor {
  /** Rules the worker's traffic broke, in order. */
  readonly violations: string[] = [];
  /** The worker's Hello, once seen. */
  hello: WorkerHello | undefined;
  /** The Welcome the runner sent, once seen. */
  welcome: RouterWelcome | undefined;
  /** Every frame size the worker sent after the Welcome (with prefix). */
  readonly workerFrameSizes: number[] = [];
  /** Number of PacketChunk frames the worker sent. */
  workerChunkFrames = 0;
  /** Compression values the worker used on packets. */
  readonly workerCompressions = new Set<CompressionAlgo>();
  /** Frames the worker sent before the runner's Welcome/Reject (Hello included). */
  workerFramesBeforeWelcome = 0;

  #decompress: Decompress;
  #limit: number;
  #start: number;
  #entries: TranscriptEntry[] = [];
  #decoders: Record<Direction, FrameDecoder | undefined>;
  #streams = new Map<string, ChunkStream>();
  #routerRequests = new Set<string>();
  #answered = new Set<string>();
  #handshakeReplied = false;
  #events: MonitorEvent[] = [];

  /**
   * Creates a monitor.
   *
   * @param options Decompressor, transcript size and time origin.
   */
  constructor(options: WireMonitorOptions) {
    this.#decompress = options.decompress;
    this.#limit = options.transcriptLimit ?? 40;
    this.#start = options.start ?? 0;
    this.#decoders = {
      "r->w": new FrameDecoder({ maxFrameLen: MAX_MESSAGE_BYTES }),
      "w->r": new FrameDecoder({ maxFrameLen: MAX_MESSAGE_BYTES }),
    };
  }

  /** The transcript so far (most recent entries). */
  get transcript(): TranscriptEntry[] {
    return [...this.#entries];
  }

  /** Takes the decoded events of the worker's stream seen so far. */
  drainEvents(): MonitorEvent[] {
    const out = this.#events;
    this.#events = [];
    return out;
  }

  /**
   * Feeds bytes that went in one direction.
   *
   * @param dir The direction.
   * @param bytes The bytes.
   * @param now Current time in ms.
   */
  feed(dir: Direction, bytes: Uint8Array, now: number): void {
    const dec = this.#decoders[dir];
    if (dec === undefined) return;
    try {
      dec.push(bytes);
      for (let f = dec.next(); f !== undefined; f = dec.next()) {
        this.#frame(dir, f, now);
      }
    } catch (err) {
      this.#decoders[dir] = undefined;
      const message = `${
        dir === "w->r" ? "worker" : "runner"
      } stream unframeable: ${(err as Error).message}`;
      this.#note(dir, now, 0, { unframeable: (err as Error).message });
      if (dir === "w->r") {
        this.violations.push(message);
        this.#events.push({ type: "undecodable", message });
      }
    }
  }

  /**
   * Adds a free-form entry to the transcript (e.g. "runner closed").
   *
   * @param dir The direction it belongs to.
   * @param now Current time in ms.
   * @param what The note.
   */
  note(dir: Direction, now: number, what: string): void {
    this.#note(dir, now, 0, { note: what });
  }

  #note(dir: Direction, now: number, size: number, frame: unknown): void {
    this.#entries.push({ t: now - this.#start, dir, size, frame });
    if (this.#entries.length > this.#limit) this.#entries.shift();
  }

  #violate(message: string): void {
    if (this.violations.length < 50) this.violations.push(message);
  }

  #frame(dir: Direction, bytes: Uint8Array, now: number): void {
    const size = bytes.length + 4;
    let frame: WireFrame;
    try {
      frame = decodeWireFrame(bytes);
    } catch (err) {
      this.#note(dir, now, size, {
        undecodable: (err as Error).message,
        hex: hexPrefix(bytes),
      });
      if (dir === "w->r") {
        const message = `worker sent an undecodable frame: ${
          (err as Error).message
        }`;
        this.#violate(message);
        this.#events.push({ type: "undecodable", message });
      } else {
        // A hostile or lenient-only runner frame (e.g. a non-minimal id):
        // a worker that accepts what our decoder refuses may answer it.
        const id = lenientPacketId(bytes);
        if (id !== undefined) this.#routerRequest(id);
      }
      return;
    }
    if (dir === "r->w") this.#routerFrame(frame, size, now);
    else this.#workerFrame(frame, size, now, bytes);
  }

  #display(frame: WireFrame, payload?: RpcPayload | string): unknown {
    if (frame.type === "hello" && frame.body.auth_token !== null) {
      // Transcripts end up in reports: never copy a token into them.
      frame = {
        type: "hello",
        body: { ...frame.body, auth_token: "<redacted>" },
      };
    }
    const json = toWireJson(frame) as Record<string, unknown>;
    if (payload !== undefined) {
      const body = { ...(json.body as Record<string, unknown>) };
      body.data = typeof payload === "string" ? payload : toWireJson(payload);
      return abbreviateJson({ ...json, body });
    }
    return abbreviateJson(json);
  }

  #routerFrame(frame: WireFrame, size: number, now: number): void {
    if (frame.type === "welcome") {
      this.welcome = frame.body;
      this.#handshakeReplied = true;
    } else if (frame.type === "reject") this.#handshakeReplied = true;
    let payload: RpcPayload | undefined;
    if (frame.type === "packet" && frame.body.compression === "none") {
      try {
        payload = decodeRpcPayload(frame.body.data);
      } catch { /* hostile bytes on purpose */ }
      // A payload our decoder refuses (an indefinite-length map, say) is
      // still a request to a lenient worker, which may answer it.
      if (payload === undefined || payload.type === "request") {
        this.#routerRequest(frame.body.id);
      }
    } else if (frame.type === "packet" && frame.body.compression === "zstd") {
      try {
        payload = decodeRpcPayload(
          this.#decompress("zstd", frame.body.data, MAX_MESSAGE_BYTES),
        );
      } catch { /* hostile bytes on purpose */ }
      if (payload === undefined || payload.type === "request") {
        this.#routerRequest(frame.body.id);
      }
    } else if (frame.type === "packet_chunk") {
      // Runner chunk streams carry requests; remember the id when it starts.
      if (frame.body.seq === 0) this.#routerRequest(frame.body.id);
    }
    this.#note("r->w", now, size, this.#display(frame, payload));
  }

  #routerRequest(id: U64): void {
    this.#routerRequests.add(idKey(id));
    this.#answered.delete(idKey(id));
  }

  #workerFrame(
    frame: WireFrame,
    size: number,
    now: number,
    bytes: Uint8Array,
  ): void {
    this.#events.push({ type: "frame", frame, size, bytes });
    if (!this.#handshakeReplied) {
      this.workerFramesBeforeWelcome++;
      if (this.workerFramesBeforeWelcome === 1 && frame.type !== "hello") {
        this.#violate(`first worker frame is "${frame.type}", not "hello"`);
      }
      if (this.workerFramesBeforeWelcome > 1) {
        this.#violate(`worker sent a "${frame.type}" frame before the Welcome`);
      }
      if (frame.type === "hello") this.hello = frame.body;
      this.#note("w->r", now, size, this.#display(frame));
      return;
    }
    const caps = this.welcome?.chosen_capabilities;
    this.workerFrameSizes.push(size);
    if (caps && size - 4 > caps.max_frame_len) {
      this.#violate(
        `worker frame of ${
          size - 4
        } bytes exceeds the negotiated max_frame_len ${caps.max_frame_len}`,
      );
    }
    if (frame.type === "packet") {
      const p = frame.body;
      const payload = this.#packet(p.id, p.compression, p.data, 1);
      this.#note("w->r", now, size, this.#display(frame, payload));
    } else if (frame.type === "packet_chunk") {
      this.workerChunkFrames++;
      const payload = this.#chunk(frame.body, caps?.supports_chunking ?? true);
      this.#note("w->r", now, size, this.#display(frame, payload));
    } else {
      if (frame.type !== "unknown") {
        this.#violate(
          `worker sent a "${frame.type}" frame after the handshake`,
        );
      }
      this.#note("w->r", now, size, this.#display(frame));
    }
  }

  #chunk(
    c: {
      id: U64;
      compression: CompressionAlgo;
      seq: number;
      last: boolean;
      data: Uint8Array;
    },
    negotiated: boolean,
  ): RpcPayload | string | undefined {
    if (!negotiated) {
      this.#violate(
        "worker sent a packet_chunk although chunking was not negotiated",
      );
    }
    const key = idKey(c.id);
    let s = this.#streams.get(key);
    if (s === undefined) {
      if (this.#streams.size >= MAX_INFLIGHT_CHUNKED_PACKETS) {
        this.#violate("worker opened more than 32 chunk streams at once");
      }
      s = { compression: c.compression, nextSeq: 0, parts: [], size: 0 };
      this.#streams.set(key, s);
    }
    if (c.compression !== s.compression) {
      this.#violate(`worker changed compression mid-stream for id ${key}`);
    }
    if (c.seq !== s.nextSeq) {
      this.#violate(
        `worker chunk seq for id ${key}: expected ${s.nextSeq}, got ${c.seq}`,
      );
    }
    s.nextSeq = c.seq + 1;
    s.parts.push(c.data);
    s.size += c.data.length;
    if (!c.last) return undefined;
    this.#streams.delete(key);
    const joined = new Uint8Array(s.size);
    let off = 0;
    for (const part of s.parts) {
      joined.set(part, off);
      off += part.length;
    }
    return this.#packet(c.id, s.compression, joined, s.parts.length);
  }

  #packet(
    id: U64,
    compression: CompressionAlgo,
    data: Uint8Array,
    frames: number,
  ): RpcPayload | string | undefined {
    const caps = this.welcome?.chosen_capabilities;
    const key = idKey(id);
    if (key === "0") this.#violate("worker used the reserved packet id 0");
    this.workerCompressions.add(compression);
    if (caps && data.length > caps.max_packet_len) {
      this.#violate(
        `worker packet data of ${data.length} bytes exceeds max_packet_len ${caps.max_packet_len}`,
      );
    }
    let raw = data;
    if (compression !== "none") {
      if (caps && !caps.supported_compression.includes(compression)) {
        this.#violate(
          `worker used compression "${compression}", which was not negotiated`,
        );
      }
      try {
        raw = this.#decompress(
          compression,
          data,
          caps?.max_packet_len ?? MAX_MESSAGE_BYTES,
        );
      } catch (err) {
        const message = `worker packet ${key} does not decompress: ${
          (err as Error).message
        }`;
        this.#violate(message);
        this.#events.push({ type: "undecodable", message });
        return `<undecompressible ${data.length} bytes>`;
      }
    }
    let payload: RpcPayload;
    try {
      payload = decodeRpcPayload(raw);
    } catch (err) {
      const message = `worker packet ${key} is not a valid RpcPayload: ${
        (err as Error).message
      }`;
      this.#violate(message);
      this.#events.push({ type: "undecodable", message });
      return `<undecodable ${raw.length} bytes>`;
    }
    if (payload.type === "request" || payload.type === "notification") {
      if (!isOdd(id)) {
        this.#violate(
          `worker ${payload.type} uses even id ${key} (worker ids must be odd)`,
        );
      }
    } else if (payload.type === "response") {
      if (this.#answered.has(key)) {
        this.#violate(`worker sent a second response for id ${key}`);
      } else if (!this.#routerRequests.has(key)) {
        this.#violate(
          `worker responded to id ${key}, which the runner never requested`,
        );
      }
      this.#answered.add(key);
      this.#routerRequests.delete(key);
    }
    this.#events.push({
      type: "payload",
      item: { id, compression, payload, frames, dataLen: data.length },
    });
    return payload;
  }
}

/**
 * The packet id of a runner frame our strict decoder refused, read the way
 * a lenient peer would (non-minimal integers, indefinite-length maps and
 * strings); undefined when it is not a `packet` frame or not CBOR at all.
 */
function lenientPacketId(bytes: Uint8Array): U64 | undefined {
  let pos = 0;
  const BREAK = Symbol("break");
  const item = (depth: number): unknown => {
    if (depth > 16 || pos >= bytes.length) throw new RangeError("cbor");
    const ib = bytes[pos++];
    const major = ib >> 5;
    const info = ib & 31;
    if (ib === 0xff) return BREAK;
    let arg = 0n;
    let indefinite = false;
    if (info < 24) arg = BigInt(info);
    else if (info <= 27) {
      const n = 1 << (info - 24);
      if (pos + n > bytes.length) throw new RangeError("cbor");
      for (let i = 0; i < n; i++) arg = (arg << 8n) | BigInt(bytes[pos++]);
    } else if (info === 31) indefinite = true;
    else throw new RangeError("cbor");
    switch (major) {
      case 0:
        return arg;
      case 1:
        return -1n - arg;
      case 2:
      case 3: {
        if (indefinite) {
          const parts: unknown[] = [];
          for (let p = item(depth + 1); p !== BREAK; p = item(depth + 1)) {
            parts.push(p);
          }
          return major === 3 ? parts.join("") : undefined;
        }
        const end = pos + Number(arg);
        if (end > bytes.length) throw new RangeError("cbor");
        const raw = bytes.subarray(pos, end);
        pos = end;
        return major === 3 ? new TextDecoder().decode(raw) : raw;
      }
      case 4: {
        const out: unknown[] = [];
        for (let i = 0; indefinite || i < Number(arg); i++) {
          const v = item(depth + 1);
          if (v === BREAK) break;
          out.push(v);
        }
        return out;
      }
      case 5: {
        const out = new Map<unknown, unknown>();
        for (let i = 0; indefinite || i < Number(arg); i++) {
          const k = item(depth + 1);
          if (k === BREAK) break;
          out.set(k, item(depth + 1));
        }
        return out;
      }
      case 6:
        return item(depth + 1);
      default:
        return undefined;
    }
  };
  try {
    const top = item(0);
    if (!(top instanceof Map) || top.get("type") !== "packet") return undefined;
    const body = top.get("body");
    const id = body instanceof Map ? body.get("id") : undefined;
    if (typeof id !== "bigint" || id < 0n) return undefined;
    return id <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(id) : id;
  } catch {
    return undefined;
  }
}
