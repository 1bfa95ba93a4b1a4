/**
 * A fault-injecting worker: used as the runner's worker command, it starts
 * a real worker (the `--inner` template) against a private unix socket,
 * connects to the runner itself, and relays frames in both directions while
 * breaking exactly one rule (`--fault NAME`, see `faults.ts`). With
 * `--fault none` it is a transparent relay.
 *
 * ```sh
 * deno run -A conformance/faults/fault_proxy.ts --fault no_chunking \
 *   --connect unix:/run/r.sock --shard-id 7 --cache-dir /tmp/c --auth-token-env TOKEN \
 *   --inner 'deno run -A cli/main.ts worker --connect {connect} --shard-id {shard} --cache-dir {cache_dir} --auth-token-env {token_env}'
 * ```
 *
 * Test fixture: this file does process and socket I/O.
 *
 * @module
 */

import {
  decodeRpcPayload,
  decodeWireFrame,
  encodeRpcPayload,
} from "../../lib/wire/codec.ts";
import {
  encodeLengthPrefixedFrame,
  prefixFrameLength,
} from "../../lib/wire/frame.ts";
import { nodeZstdCompressor } from "../../lib/net/zstd.ts";
import type {
  CompressionAlgo,
  RouterWelcome,
  RpcPayload,
  ShardIndex,
  U64,
  WireFrame,
} from "../../lib/wire/types.ts";
import { concatBytes } from "../../lib/wire/bytes.ts";
import { decode as decodeLenient } from "cbor-x";
import { expandTemplate } from "../runner/template.ts";
import { dialRunner, exitWithError, flagValue } from "../fixtures/script.ts";
import { findFault, VARIANTS } from "./faults.ts";

function die(message: string): never {
  return exitWithError("fault proxy", message);
}

const fault = flagValue("--fault") ?? die("--fault is required");
if (fault !== "none" && !findFault(fault) && !VARIANTS.includes(fault)) {
  die(`unknown fault ${fault}`);
}
const outerAddress = flagValue("--connect") ?? die("--connect is required");
const shard = flagValue("--shard-id") ?? die("--shard-id is required");
const cacheDir = flagValue("--cache-dir") ?? die("--cache-dir is required");
const tokenEnv = flagValue("--auth-token-env") ?? "";
const innerTemplate = flagValue("--inner") ?? die("--inner is required");

const MAX = 64 * 1024 * 1024;
const PRE_HANDSHAKE = 1024 * 1024;
// The private socket lives beside the cache directory (inside the runner's
// per-case directory, which the runner removes), and is deleted as soon as
// the inner worker has connected: a SIGKILLed proxy leaves nothing behind.
const cacheParent = cacheDir.replace(/\/+$/, "").replace(/\/[^/]*$/, "") || ".";
let dir: string;
try {
  dir = await Deno.makeTempDir({ dir: cacheParent, prefix: "proxy-" });
} catch {
  dir = await Deno.makeTempDir({ prefix: "loom-fault-" });
}
const innerPath = `${dir}/w.sock`;
const listener = Deno.listen({ transport: "unix", path: innerPath });
const argv = expandTemplate(innerTemplate, {
  connect: `unix:${innerPath}`,
  shard,
  cache_dir: cacheDir,
  token_env: tokenEnv,
  ca_cert: "",
});
const child = new Deno.Command(argv[0], {
  args: argv.slice(1),
  stdin: "null",
  stdout: "inherit",
  stderr: "inherit",
}).spawn();

let rejectSeen = false;
let shutdownAnswered = false;
let routerClosed = false;

async function finish(code: number): Promise<never> {
  const linger = (fault === "no_exit_on_shutdown" && shutdownAnswered) ||
    (fault === "linger_after_close" && routerClosed);
  try {
    await Deno.remove(dir, { recursive: true });
  } catch { /* best effort */ }
  if (linger) {
    // Misbehave: never exit (the runner kills us). The interval keeps the
    // event loop alive so the pending await is not reported as a deadlock.
    setInterval(() => {}, 60_000);
    await new Promise(() => {});
  }
  if (fault === "exit_zero_on_reject" && rejectSeen) Deno.exit(0);
  Deno.exit(code);
}

const accepted = await Promise.race([listener.accept(), child.status]);
if (!("read" in accepted)) await finish(accepted.code);
const inner = accepted as Deno.Conn;
listener.close();
await Deno.remove(dir, { recursive: true }).catch(() => {});

let outer: Deno.Conn;
try {
  outer = await dialRunner(outerAddress, die);
} catch (err) {
  die(`connect: ${(err as Error).message}`);
}

let welcome: RouterWelcome | undefined;
const cancelledIds = new Set<string>();
const statsIds = new Set<string>();
const unknownIds = new Set<string>();
const streams = new Map<
  string,
  { frames: Uint8Array[]; parts: Uint8Array[]; compression: CompressionAlgo }
>();
let innerWrites: Promise<void> = Promise.resolve();
let outerWrites: Promise<void> = Promise.resolve();

function writeTo(conn: Deno.Conn, bytes: Uint8Array): Promise<void> {
  const run = async () => {
    let off = 0;
    while (off < bytes.length) off += await conn.write(bytes.subarray(off));
  };
  if (conn === inner) {
    innerWrites = innerWrites.then(run).catch(() => {});
    return innerWrites;
  }
  outerWrites = outerWrites.then(run).catch(() => {});
  return outerWrites;
}

function closeBoth(): void {
  for (const c of [inner, outer]) {
    try {
      c.close();
    } catch { /* closed */ }
  }
}

function frameBytes(frame: WireFrame): Uint8Array {
  return encodeLengthPrefixedFrame(frame);
}

/** Encodes a payload the way a sender would, with this fault's twist. */
function encodePayload(
  id: U64,
  payload: RpcPayload,
  compression: CompressionAlgo,
): Uint8Array {
  const raw = encodeRpcPayload(payload);
  let algo = compression;
  if (fault === "compress_always") algo = "zstd";
  const data = algo === "zstd" ? nodeZstdCompressor.compress("zstd", raw) : raw;
  const maxFrame = welcome?.chosen_capabilities.max_frame_len ?? MAX;
  const packet = frameBytes({
    type: "packet",
    body: { id, compression: algo, data },
  });
  if (packet.length - 4 <= maxFrame || fault === "no_chunking") return packet;
  const size = Math.max(maxFrame - 256, 1);
  const out: Uint8Array[] = [];
  const base = fault === "chunk_seq_from_one" ? 1 : 0;
  let seq = 0;
  for (let off = 0; off < data.length; off += size, seq++) {
    out.push(frameBytes({
      type: "packet_chunk",
      body: {
        id,
        compression: algo,
        seq: seq + base,
        last: off + size >= data.length,
        data: data.subarray(off, off + size),
      },
    }));
  }
  return concatBytes(out);
}

const PAYLOAD_FAULTS = new Set([
  "even_notification_id",
  "no_chunking",
  "shift_symbol_column",
  "never_answer_stats",
  "close_on_unknown_request",
  "wrong_response_id",
  "drop_cancelled_response",
  "generation_stuck",
  "compress_always",
  "chunk_seq_from_one",
  "duplicate_response",
]);

/** `p` with its ShardIndex edited, or `p` itself when it is not one. */
function editShardIndex(
  p: RpcPayload,
  edit: (index: ShardIndex) => ShardIndex,
): RpcPayload {
  if (
    p.type !== "response" || p.body.status !== "ok" ||
    p.body.value.type !== "shard_index"
  ) return p;
  const value = { ...p.body.value, body: edit(p.body.value.body) };
  return { type: "response", body: { status: "ok", value } };
}

/** Applies the fault to one complete worker payload; returns bytes to send. */
function workerPayload(
  id: U64,
  payload: RpcPayload,
  compression: CompressionAlgo,
  original: Uint8Array,
): Uint8Array | "close" {
  const key = String(id);
  let p = payload;
  let outId = id;
  let changed = false;
  if (
    p.type === "response" && p.body.status === "ok" &&
    p.body.value.type === "shutdown"
  ) {
    shutdownAnswered = true;
  }
  if (!PAYLOAD_FAULTS.has(fault)) return original;
  switch (fault) {
    case "even_notification_id":
      if (p.type === "notification") {
        outId = 2;
        changed = true;
      }
      break;
    case "shift_symbol_column":
      p = editShardIndex(p, (index) => ({
        ...index,
        symbols: index.symbols.map((s) => ({ ...s, column: s.column + 1 })),
      }));
      changed = p !== payload;
      break;
    case "never_answer_stats":
      if (statsIds.has(key)) return new Uint8Array();
      break;
    case "close_on_unknown_request":
      if (unknownIds.has(key)) return "close";
      break;
    case "wrong_response_id":
      if (p.type === "response" && typeof id === "number") {
        outId = id + 2;
        changed = true;
      }
      break;
    case "drop_cancelled_response":
      if (cancelledIds.has(key)) return new Uint8Array();
      break;
    case "generation_stuck":
      p = editShardIndex(p, (index) => ({ ...index, index_generation: 1 }));
      changed = p !== payload;
      break;
    case "duplicate_response":
      if (p.type === "response") return concatBytes([original, original]);
      break;
    case "no_chunking":
    case "compress_always":
    case "chunk_seq_from_one":
      changed = true;
      break;
  }
  return changed ? encodePayload(outId, p, compression) : original;
}

function decodeData(
  compression: CompressionAlgo,
  data: Uint8Array,
): RpcPayload | undefined {
  try {
    const raw = compression === "zstd"
      ? nodeZstdCompressor.decompress("zstd", data, MAX)
      : data;
    return decodeRpcPayload(raw);
  } catch {
    return undefined;
  }
}

/** Worker -> runner: one frame. */
function onWorkerFrame(bytes: Uint8Array): Uint8Array | "close" {
  const framed = prefixFrameLength(bytes);
  const frame = tryDecodeFrame(bytes);
  if (!frame) return framed;
  if (frame.type === "hello") {
    const h = { ...frame.body };
    if (fault === "drop_token") h.auth_token = null;
    else if (fault === "hello_wrong_shard") h.shard_id = (h.shard_id + 1) >>> 0;
    else if (fault === "hide_cache_info") h.cached_index_info = null;
    else if (fault === "minimal_offer") {
      h.capabilities = {
        ...h.capabilities,
        supported_compression: ["none"],
        supports_cancel: false,
        supports_chunking: false,
      };
    } else {
      return fault === "frame_before_welcome"
        ? concatBytes([framed, unknownFrame()])
        : framed;
    }
    return frameBytes({ type: "hello", body: h });
  }
  if (frame.type === "packet") {
    const p = decodeData(frame.body.compression, frame.body.data);
    if (!p) return framed;
    return workerPayload(frame.body.id, p, frame.body.compression, framed);
  }
  if (frame.type === "packet_chunk") {
    const c = frame.body;
    const key = String(c.id);
    let s = streams.get(key);
    if (!s) {
      s = { frames: [], parts: [], compression: c.compression };
      streams.set(key, s);
    }
    s.frames.push(framed);
    s.parts.push(c.data);
    if (!c.last) return new Uint8Array();
    streams.delete(key);
    const p = decodeData(s.compression, concatBytes(s.parts));
    const original = concatBytes(s.frames);
    if (!p) return original;
    return workerPayload(c.id, p, s.compression, original);
  }
  return framed;
}

function unknownFrame(): Uint8Array {
  // {"type": "mystery"} (an unknown body-less frame).
  const body = new Uint8Array([
    0xa1,
    0x64,
    0x74,
    0x79,
    0x70,
    0x65,
    0x67,
    0x6d,
    0x79,
    0x73,
    0x74,
    0x65,
    0x72,
    0x79,
  ]);
  return prefixFrameLength(body);
}

/** Decodes one frame's CBOR bytes; `undefined` when they do not decode. */
function tryDecodeFrame(bytes: Uint8Array): WireFrame | undefined {
  try {
    return decodeWireFrame(bytes);
  } catch {
    return undefined;
  }
}

/** Runner -> worker: one frame. */
function onRouterFrame(bytes: Uint8Array): Uint8Array | "close" {
  const framed = prefixFrameLength(bytes);
  const frame = tryDecodeFrame(bytes);
  if (!frame) return framed;
  if (frame.type === "reject") rejectSeen = true;
  if (frame.type === "welcome" && welcome === undefined) {
    welcome = frame.body;
    if (fault === "ignore_welcome_limits") {
      const w = {
        ...frame.body,
        chosen_capabilities: {
          ...frame.body.chosen_capabilities,
          max_frame_len: MAX,
          max_packet_len: MAX,
        },
      };
      return frameBytes({ type: "welcome", body: w });
    }
    return framed;
  }
  if (frame.type === "unknown" && fault === "close_on_unknown_frame") {
    return "close";
  }
  if (frame.type === "packet") {
    const key = String(frame.body.id);
    if (
      fault === "accept_odd_request_id" && typeof frame.body.id === "number" &&
      frame.body.id % 2 === 1
    ) {
      return new Uint8Array();
    }
    const p = decodeData(frame.body.compression, frame.body.data);
    if (
      p === undefined && fault === "lenient_decoder" &&
      frame.body.compression === "none"
    ) {
      // A lenient worker: what our strict decoder refuses (an
      // indefinite-length map) is decoded leniently and passed on in
      // canonical form, so the worker behind answers it.
      try {
        const data = encodeRpcPayload(decodeLenient(frame.body.data));
        return frameBytes({ type: "packet", body: { ...frame.body, data } });
      } catch {
        return framed;
      }
    }
    if (p?.type === "cancel") cancelledIds.add(key);
    if (p?.type === "request") {
      if (p.body.type === "get_worker_stats") statsIds.add(key);
      if (p.body.type === "unknown") unknownIds.add(key);
    }
  }
  return framed;
}

async function pump(
  from: Deno.Conn,
  to: Deno.Conn,
  handle: (frame: Uint8Array) => Uint8Array | "close",
  limit: () => number,
): Promise<void> {
  const buf = new Uint8Array(64 * 1024);
  let pending = new Uint8Array();
  let raw = false;
  try {
    while (true) {
      const n = await from.read(buf);
      if (n === null) break;
      let data = concatBytes([pending, buf.subarray(0, n)]);
      if (raw) {
        if (fault !== "swallow_oversize_frame") await writeTo(to, data);
        continue;
      }
      while (data.length >= 4) {
        const len = new DataView(data.buffer, data.byteOffset).getUint32(
          0,
          true,
        );
        if (len > limit() || len === 0) {
          raw = true;
          if (
            !(fault === "swallow_oversize_frame" && from === outer &&
              len > limit())
          ) await writeTo(to, data);
          data = new Uint8Array();
          break;
        }
        if (data.length < 4 + len) break;
        const out = handle(data.slice(4, 4 + len));
        data = data.subarray(4 + len);
        if (out === "close") {
          closeBoth();
          return;
        }
        if (out.length) await writeTo(to, out);
      }
      pending = data.slice();
    }
  } catch { /* closed */ }
}

const limit = () =>
  welcome ? welcome.chosen_capabilities.max_frame_len : PRE_HANDSHAKE;
const workerSide = pump(inner, outer, onWorkerFrame, () => MAX).then(
  async () => {
    await outerWrites;
    if (!(fault === "no_exit_on_shutdown" && shutdownAnswered)) {
      try {
        outer.close();
      } catch { /* closed */ }
    }
  },
);
const routerSide = pump(outer, inner, onRouterFrame, limit).then(async () => {
  routerClosed = true;
  await innerWrites;
  try {
    inner.close();
  } catch { /* closed */ }
});
const status = await child.status;
await Promise.race([
  Promise.all([workerSide, routerSide]),
  new Promise((r) => setTimeout(r, 200)),
]);
await finish(status.code);
