import assert from "node:assert/strict";
import { encodeLengthPrefixedFrame, FrameDecoder } from "./frame.ts";
import { decodeWireFrame } from "./codec.ts";
import { LimitExceededError, ProtocolError } from "./errors.ts";
import { packetFrameLen, TransmitQueue } from "./_transmit_queue.ts";
import { allChunkings, concat } from "../testing/split.ts";
import { memoryPair } from "../testing/memory_pair.ts";
import type { WireFrame } from "./types.ts";

const FRAMES: WireFrame[] = [
  { type: "unknown" },
  {
    type: "packet",
    body: { id: 3, compression: "none", data: new Uint8Array(300).fill(7) },
  },
  { type: "reject", body: { code: "internal", message: "x" } },
];
const STREAM = concat(FRAMES.map(encodeLengthPrefixedFrame));

Deno.test("reuseBuffers gives the same frames for every split", () => {
  for (const { label, chunks } of allChunkings(STREAM)) {
    const decoder = new FrameDecoder({ reuseBuffers: true });
    const got: WireFrame[] = [];
    for (const chunk of chunks) {
      decoder.push(chunk);
      // Decode at once: the bytes are only valid until the next call.
      for (let f = decoder.next(); f !== undefined; f = decoder.next()) {
        got.push(structuredClone(decodeWireFrame(f)));
      }
    }
    decoder.end();
    assert.deepStrictEqual(got, FRAMES, label);
    assert.equal(decoder.bufferedBytes, 0);
  }
});

Deno.test("writable/commit read a frame in place, for every split", () => {
  const big = encodeLengthPrefixedFrame({
    type: "packet",
    body: {
      id: 5,
      compression: "none",
      data: new Uint8Array(200_000).map((_, i) => i),
    },
  });
  const stream = concat([big, encodeLengthPrefixedFrame({ type: "unknown" })]);
  for (const cut of [1, 4, 5, 100, 70_000, 150_000, big.length]) {
    const decoder = new FrameDecoder({ maxFrameLen: 1 << 20 });
    decoder.push(stream.subarray(0, cut));
    const frames: Uint8Array[] = [];
    for (let f = decoder.next(); f !== undefined; f = decoder.next()) {
      frames.push(f);
    }
    let at = cut;
    for (;;) {
      const target = decoder.writable(1);
      if (target === undefined) break;
      const n = Math.min(target.length, 50_000, stream.length - at);
      target.set(stream.subarray(at, at + n));
      decoder.commit(n);
      at += n;
      for (let f = decoder.next(); f !== undefined; f = decoder.next()) {
        frames.push(f);
      }
    }
    decoder.push(stream.subarray(at));
    for (let f = decoder.next(); f !== undefined; f = decoder.next()) {
      frames.push(f);
    }
    decoder.end();
    assert.equal(frames.length, 2, `cut ${cut}`);
    assert.deepEqual(frames[0], big.subarray(4), `cut ${cut}`);
  }
});

Deno.test("writable stays bounded by the bytes received, not the declared length", () => {
  const decoder = new FrameDecoder({ maxFrameLen: 0xffff_ffff });
  decoder.push(new Uint8Array([0xff, 0xff, 0xff, 0xf0, 1, 2, 3]));
  assert.equal(decoder.next(), undefined);
  const target = decoder.writable(1)!;
  assert.ok(target.length <= 128 * 1024, `${target.length}`);
  assert.throws(() => decoder.commit(target.length + 1), RangeError);
  decoder.commit(target.length);
  assert.equal(decoder.bufferedBytes, 3 + target.length);
  const next = decoder.writable(1)!;
  assert.ok(next.length <= 2 * (3 + target.length) + 128 * 1024);
  // No in-place buffer while whole frames or queued bytes come first.
  const other = new FrameDecoder();
  assert.equal(other.writable(1), undefined);
  other.push(encodeLengthPrefixedFrame({ type: "unknown" }));
  assert.equal(other.writable(1), undefined);
});

Deno.test("a header over the limit still fails before any buffer is offered", () => {
  const decoder = new FrameDecoder({ maxFrameLen: 1000 });
  decoder.push(new Uint8Array([0xe9, 0x03, 0, 0]));
  assert.throws(
    () => decoder.next(),
    (e) => e instanceof LimitExceededError && e.code === "frame_too_large",
  );
  assert.equal(decoder.writable(1), undefined);
  assert.throws(() => decoder.commit(0), ProtocolError);
});

Deno.test("TransmitQueue reuses a released buffer of a frame larger than an arena", () => {
  const q = new TransmitQueue(1024);
  const data = new Uint8Array(5000).fill(1);
  const len = packetFrameLen(2, "none", data.length);
  q.pushPacket(2, "none", data, len);
  const first = q.poll()!;
  assert.equal(first.length, len + 4);
  const bytes = first.slice();
  q.release(first);
  q.pushPacket(2, "none", data, len);
  const second = q.poll()!;
  assert.equal(second.buffer, first.buffer);
  assert.deepEqual(second, bytes);
  // Arena-sized runs and buffers still in use are not taken back.
  q.pushPacket(4, "none", new Uint8Array(10), packetFrameLen(4, "none", 10));
  const small = q.poll()!;
  q.release(small);
  q.pushPacket(4, "none", new Uint8Array(10), packetFrameLen(4, "none", 10));
  assert.equal(q.poll()!.buffer, small.buffer); // same arena, not recycled
  // A large frame queued behind others is recycled once polled and released.
  q.pushPacket(2, "none", data, len);
  q.pushPacket(4, "none", new Uint8Array(10), packetFrameLen(4, "none", 10));
  const big = q.poll()!;
  assert.equal(big.length, len + 4);
  q.release(big);
  q.pushPacket(2, "none", data, len);
  assert.equal(q.poll()!.length, packetFrameLen(4, "none", 10) + 4); // small first
  assert.equal(q.poll()!.buffer, big.buffer);
  // clear() drops the spare.
  q.release(big);
  q.clear();
  q.pushPacket(2, "none", data, len);
  assert.notEqual(q.poll()!.buffer, big.buffer);
});

Deno.test("a session reads the rest of a large frame in place", () => {
  const pair = memoryPair({ worker: { hello: { shard_id: 1 } } });
  pair.handshake();
  const text = "y".repeat(300_000);
  const id = pair.router.call({
    type: "update_file",
    revision: 1,
    file: { path: "A.java", text },
  });
  const bytes = concat(drainTransmit(pair.router));
  const worker = pair.worker;
  assert.equal(worker.receiveBuffer(), undefined);
  worker.receive(bytes.subarray(0, 1000), 0);
  let at = 1000;
  let inPlace = 0;
  for (
    let target = worker.receiveBuffer();
    target;
    target = worker.receiveBuffer()
  ) {
    const n = Math.min(target.length, 40_000);
    target.set(bytes.subarray(at, at + n));
    worker.receiveInPlace(n, 0);
    at += n;
    inPlace += n;
  }
  worker.receive(bytes.subarray(at), 0);
  assert.ok(inPlace > 200_000, `${inPlace}`);
  const event = worker.pollEvent();
  assert.ok(event?.type === "request" && event.id === id);
  assert.ok(
    event.request.type === "update_file" && event.request.file.text === text,
  );
  assert.equal(worker.pollEvent(), undefined);
});

function drainTransmit(session: { pollTransmit(): Uint8Array | undefined }) {
  const out: Uint8Array[] = [];
  for (let b = session.pollTransmit(); b; b = session.pollTransmit()) {
    out.push(b.slice());
  }
  return out;
}

Deno.test("TransmitQueue keeps several released large buffers, each once", () => {
  const q = new TransmitQueue(1024);
  const data = new Uint8Array(5000).fill(2);
  const len = packetFrameLen(2, "none", data.length);
  for (let i = 0; i < 3; i++) q.pushPacket(2, "none", data, len);
  const first = [q.poll()!, q.poll()!, q.poll()!];
  for (const b of first) {
    q.release(b);
    q.release(b); // A second release is ignored.
  }
  for (let i = 0; i < 4; i++) q.pushPacket(2, "none", data, len);
  const again = [q.poll()!, q.poll()!, q.poll()!, q.poll()!];
  const reused = new Set(first.map((b) => b.buffer));
  assert.equal(again.filter((b) => reused.has(b.buffer)).length, 3);
  assert.equal(new Set(again.map((b) => b.buffer)).size, 4);
});

Deno.test("TransmitQueue reuses a released buffer for a slightly larger frame, and keeps the newest", () => {
  const q = new TransmitQueue(1024);
  const send = (size: number): Uint8Array => {
    const data = new Uint8Array(size).fill(3);
    q.pushPacket(2, "none", data, packetFrameLen(2, "none", size));
    return q.poll()!;
  };
  // A frame a few bytes larger (a revision that grew by a byte) still fits
  // the released buffer.
  const first = send(100_000);
  q.release(first);
  const grown = send(100_003);
  assert.equal(grown.buffer, first.buffer);
  assert.equal(grown.length, packetFrameLen(2, "none", 100_003) + 4);
  assert.ok(grown.subarray(grown.length - 100_003).every((b) => b === 3));
  // Released buffers over the budget (4 MiB) push out the oldest ones.
  const old = send(1_500_000);
  q.release(old);
  const newer = [send(1_500_000), send(1_500_000), send(1_500_000)];
  for (const b of newer) q.release(b);
  const next = [send(1_500_000), send(1_500_000)];
  assert.ok(next.every((b) => b.buffer !== old.buffer));
  assert.ok(next.every((b) => newer.some((n) => n.buffer === b.buffer)));
});
