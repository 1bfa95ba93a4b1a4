/**
 * In-memory benchmarks of the pure session (no sockets): small RPC round
 * trips at 1 and 64 in flight, and 1 MiB bulk calls, each against a raw
 * length-prefixed baseline that moves the same bytes without CBOR.
 */

import { FrameDecoder } from "../lib/wire/frame.ts";
import type { Request } from "../lib/wire/types.ts";
import { memoryPair } from "../lib/testing/memory_pair.ts";

const STATS: Request = { type: "get_worker_stats" };
const ACK = { status: "ok", value: { type: "ack" } } as const;

function openPair(maxFrameLen?: number) {
  const pair = memoryPair({
    worker: {
      hello: {
        shard_id: 1,
        capabilities: maxFrameLen ? { max_frame_len: maxFrameLen } : {},
      },
    },
  });
  pair.handshake();
  return pair;
}

function roundTrips(
  pair: ReturnType<typeof openPair>,
  inFlight: number,
  request: Request,
): void {
  for (let i = 0; i < inFlight; i++) pair.router.call(request);
  pair.pump();
  for (let e = pair.worker.pollEvent(); e; e = pair.worker.pollEvent()) {
    if (e.type === "request") pair.worker.respond(e.id, ACK);
  }
  pair.pump();
  let n = 0;
  for (let e = pair.router.pollEvent(); e; e = pair.router.pollEvent()) n++;
  if (n !== inFlight) throw new Error(`lost responses: ${n}`);
}

/** Raw framed echo: frame `count` payloads, split them, frame them back. */
function rawEcho(payload: Uint8Array, count: number): void {
  const framed = new Uint8Array(count * (payload.length + 4));
  let at = 0;
  for (let i = 0; i < count; i++) {
    new DataView(framed.buffer).setUint32(at, payload.length, true);
    framed.set(payload, at + 4);
    at += payload.length + 4;
  }
  const there = new FrameDecoder({ maxFrameLen: 1 << 26 });
  there.push(framed);
  const back: Uint8Array[] = [];
  for (let f = there.next(); f; f = there.next()) back.push(f);
  const reply = new Uint8Array(back.length * (payload.length + 4));
  at = 0;
  for (let i = 0; i < back.length; i++) {
    new DataView(reply.buffer).setUint32(at, back[i].length, true);
    reply.set(back[i], at + 4);
    at += back[i].length + 4;
  }
  const home = new FrameDecoder({ maxFrameLen: 1 << 26 });
  home.push(reply);
  let n = 0;
  for (let f = home.next(); f; f = home.next()) n++;
  if (n !== count) throw new Error("lost frames");
}

// A Packet frame carrying GetWorkerStats is 89 bytes; an ack response 76.
const SMALL = new Uint8Array(89);
const small1 = openPair();
const small64 = openPair();

Deno.bench({
  name: "raw framed echo, 1 in flight",
  group: "rpc x1",
  baseline: true,
  fn: () => rawEcho(SMALL, 1),
});
Deno.bench({
  name: "session round trip, 1 in flight",
  group: "rpc x1",
  fn: () => roundTrips(small1, 1, STATS),
});
Deno.bench({
  name: "raw framed echo, 64 in flight",
  group: "rpc x64",
  baseline: true,
  fn: () => rawEcho(SMALL, 64),
});
Deno.bench({
  name: "session round trips, 64 in flight",
  group: "rpc x64",
  fn: () => roundTrips(small64, 64, STATS),
});

const MIB = 1 << 20;
const BULK_TEXT = "x".repeat(MIB);
const BULK: Request = {
  type: "load_files",
  revision: 1,
  files: [{ path: "Big.java", text: BULK_TEXT }],
};
const RAW_MIB = new Uint8Array(MIB + 64).fill(0x78);
const bulkPair = openPair();
const chunkPair = openPair(64 * 1024);

Deno.bench({
  name: "raw framed 1 MiB, one way and back",
  group: "bulk 1 MiB",
  baseline: true,
  fn: () => rawEcho(RAW_MIB, 1),
});
Deno.bench({
  name: "session 1 MiB call (single frame)",
  group: "bulk 1 MiB",
  fn: () => roundTrips(bulkPair, 1, BULK),
});
Deno.bench({
  name: "session 1 MiB call (64 KiB chunks)",
  group: "bulk 1 MiB",
  fn: () => roundTrips(chunkPair, 1, BULK),
});
