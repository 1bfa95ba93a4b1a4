import assert from "node:assert/strict";
import fc from "fast-check";
import { decodeWireFrame, encodeRpcPayload, encodeWireFrame } from "./codec.ts";
import { encodeLengthPrefixedFrame } from "./frame.ts";
import { ProtocolError } from "./errors.ts";
import { hexToBytes } from "./wire_json.ts";
import { UNKNOWN_REQUEST_ERROR } from "./session.ts";
import { drainEvents, memoryPair } from "../testing/memory_pair.ts";
import {
  chunkFrame,
  closedCode,
  frames,
  packetFrame,
  payloadOf,
  RleCompressor,
  transmitted,
} from "./session_test_util.ts";
import {
  chunkFrameLen,
  packetFrameLen,
  parseCanonicalPacket,
  TransmitQueue,
} from "./_transmit_queue.ts";
import type { Capabilities, Request, U64, WireFrame } from "./types.ts";

function openPair(
  worker: Partial<Capabilities> = {},
  router: Partial<Capabilities> = {},
  extra: { compressor?: RleCompressor; answerUnknownRequests?: boolean } = {},
) {
  const pair = memoryPair({
    worker: {
      hello: { shard_id: 7, capabilities: worker },
      compressor: extra.compressor,
      answerUnknownRequests: extra.answerUnknownRequests,
    },
    router: {
      capabilities: router,
      compressor: extra.compressor,
      answerUnknownRequests: extra.answerUnknownRequests,
    },
  });
  pair.handshake();
  return pair;
}

function loadFiles(text: string, revision: U64 = 1): Request {
  return { type: "load_files", revision, files: [{ path: "A.java", text }] };
}

Deno.test("ids: router 2, 4, 6...; worker 1, 3, 5...; notifications share the counter", () => {
  const { worker, router } = openPair();
  assert.deepEqual(
    [router.call({ type: "shutdown" }), router.call({ type: "shutdown" })],
    [2, 4],
  );
  assert.equal(router.notify({ type: "unknown" }), 6);
  assert.equal(worker.notify({ type: "unknown" }), 1);
  assert.equal(worker.call({ type: "get_worker_stats" }), 3);
  assert.equal(worker.call({ type: "get_worker_stats" }), 5);
});

Deno.test("requests and responses multiplex, answered out of order", () => {
  const pair = openPair();
  const { worker, router } = pair;
  const ids = new Map<U64, number>();
  for (let i = 1; i <= 20; i++) {
    ids.set(
      router.call({
        type: "update_file",
        revision: i,
        file: { path: "A.java", text: "x" },
      }),
      i,
    );
  }
  pair.pump();
  const requests = drainEvents(worker);
  assert.equal(requests.length, 20);
  assert.equal(worker.inFlightRequests, 20);
  for (const e of requests.reverse()) {
    assert.ok(e.type === "request" && e.request.type === "update_file");
    worker.respond(e.id, {
      status: "ok",
      value: {
        type: "worker_stats",
        body: {
          shard_id: 7,
          revision: e.request.revision,
          index_generation: 0,
          file_count: Number(e.request.revision),
        },
      },
    });
  }
  pair.pump();
  const responses = drainEvents(router);
  assert.equal(responses.length, 20);
  const seen = new Set<number>();
  for (const e of responses) {
    assert.ok(e.type === "response" && e.result.status === "ok");
    assert.ok(e.result.value.type === "worker_stats");
    assert.equal(e.result.value.body.file_count, ids.get(e.id));
    seen.add(e.result.value.body.file_count);
  }
  assert.equal(seen.size, 20);
  assert.equal(router.pendingCalls, 0);
  assert.equal(worker.inFlightRequests, 0);
});

Deno.test("respond: exactly one terminal response per id", () => {
  const pair = openPair();
  const id = pair.router.call({ type: "shutdown" });
  pair.pump();
  drainEvents(pair.worker);
  pair.worker.respond(id, { status: "ok", value: { type: "shutdown" } });
  assert.throws(
    () => pair.worker.respond(id, { status: "ok", value: { type: "ack" } }),
    (e: unknown) =>
      e instanceof ProtocolError && e.code === "protocol_violation" &&
      !e.remote,
  );
  assert.throws(
    () => pair.worker.respond(1234, { status: "ok", value: { type: "ack" } }),
    { code: "protocol_violation" },
  );
  assert.equal(pair.worker.state, "open");
});

Deno.test("responses to unknown or forgotten ids are dropped silently", () => {
  const pair = openPair();
  pair.router.receive(
    packetFrame(40, {
      type: "response",
      body: { status: "ok", value: { type: "ack" } },
    }),
    0,
  );
  assert.deepEqual(drainEvents(pair.router), []);
  const id = pair.router.call({ type: "shutdown" });
  assert.equal(pair.router.forget(id), true);
  pair.pump();
  const [req] = drainEvents(pair.worker);
  assert.ok(req.type === "request");
  pair.worker.respond(req.id, { status: "ok", value: { type: "shutdown" } });
  pair.pump();
  assert.deepEqual(drainEvents(pair.router), []);
  assert.equal(pair.router.state, "open");
});

Deno.test("parity of incoming requests is enforced (both roles)", () => {
  const a = openPair();
  a.router.receive(
    packetFrame(2, { type: "request", body: { type: "shutdown" } }),
    0,
  );
  assert.equal(closedCode(drainEvents(a.router)), "protocol_violation");
  assert.throws(
    () => a.router.notify({ type: "unknown" }),
    { code: "connection_closed" },
  );
  const b = openPair();
  b.worker.receive(
    packetFrame(3, { type: "request", body: { type: "shutdown" } }),
    0,
  );
  assert.equal(closedCode(drainEvents(b.worker)), "protocol_violation");
  // Responses, notifications and cancels are not parity-checked.
  const c = openPair();
  c.router.receive(
    packetFrame(2, { type: "notification", body: { type: "unknown" } }),
    0,
  );
  c.router.receive(packetFrame(4, { type: "cancel" }), 0);
  assert.equal(c.router.state, "open");
});

Deno.test("id 0 is reserved for packets and chunks", () => {
  const corpus = hexToBytes(
    "3b000000a26474797065667061636b657464626f6479a3626964006b636f6d7072657373696f6e646e6f6e6564646174614da164747970656663616e63656c",
  );
  const a = openPair();
  a.router.receive(corpus, 0);
  assert.equal(closedCode(drainEvents(a.router)), "protocol_violation");
  const b = openPair();
  b.worker.receive(chunkFrame(0, 0, true, new Uint8Array(1)), 0);
  assert.equal(closedCode(drainEvents(b.worker)), "protocol_violation");
  const c = openPair();
  c.worker.receive(packetFrame(0, new Uint8Array()), 0);
  assert.equal(closedCode(drainEvents(c.worker)), "protocol_violation");
});

Deno.test("a duplicate in-flight request id closes; a finished id may be reused", () => {
  const pair = openPair();
  const req = packetFrame(1, { type: "request", body: { type: "shutdown" } });
  pair.router.receive(req, 0);
  const [first] = drainEvents(pair.router);
  assert.equal(first.type, "request");
  pair.router.respond(1, { status: "ok", value: { type: "ack" } });
  pair.router.receive(req, 0);
  assert.equal(drainEvents(pair.router)[0].type, "request");
  pair.router.receive(req, 0);
  assert.equal(closedCode(drainEvents(pair.router)), "protocol_violation");
});

Deno.test("cancel: delivered when negotiated, ignored otherwise", () => {
  const pair = openPair();
  const id = pair.router.call({ type: "diagnostics", path: "A.java" });
  pair.router.cancel(id);
  pair.router.cancel(999); // not pending: nothing sent
  pair.pump();
  assert.deepEqual(drainEvents(pair.worker), [
    { type: "request", id, request: { type: "diagnostics", path: "A.java" } },
    { type: "cancel", id },
  ]);
  assert.equal(pair.router.pendingCalls, 1); // still waits for the answer
  // A cancel for an id we do not serve is ignored.
  pair.worker.receive(packetFrame(100, { type: "cancel" }), 0);
  assert.deepEqual(drainEvents(pair.worker), []);

  const off = openPair({ supports_cancel: false });
  const id2 = off.router.call({ type: "shutdown" });
  off.pump();
  drainEvents(off.worker);
  off.router.cancel(id2);
  assert.equal(off.router.pollTransmit(), undefined);
  off.worker.receive(packetFrame(id2, { type: "cancel" }), 0);
  assert.deepEqual(drainEvents(off.worker), []);
  assert.equal(off.worker.state, "open");
});

Deno.test("unknown requests are answered invalid_request by default", () => {
  const pair = openPair();
  pair.worker.receive(
    packetFrame(
      2,
      hexToBytes(
        // {"type":"request","body":{"type":"future_thing","x":1}}
        "a2647479706567726571756573746" +
          "4626f6479a264747970656c6675747572655f7468696e67617801",
      ),
    ),
    0,
  );
  assert.deepEqual(drainEvents(pair.worker), []);
  const [frame] = frames(transmitted(pair.worker));
  assert.deepEqual(payloadOf(frame), {
    type: "response",
    body: { status: "err", error: UNKNOWN_REQUEST_ERROR },
  });
  assert.equal(pair.worker.inFlightRequests, 0);

  const manual = openPair({}, {}, { answerUnknownRequests: false });
  manual.worker.receive(
    packetFrame(2, { type: "request", body: { type: "unknown" } }),
    0,
  );
  assert.deepEqual(drainEvents(manual.worker), [
    { type: "request", id: 2, request: { type: "unknown" } },
  ]);
});

Deno.test("unknown frames, payloads and notifications are dropped", () => {
  const pair = openPair();
  pair.worker.receive(encodeLengthPrefixedFrame({ type: "unknown" }), 0);
  pair.worker.receive(packetFrame(2, { type: "unknown" }), 0);
  pair.worker.receive(
    packetFrame(4, { type: "notification", body: { type: "unknown" } }),
    0,
  );
  assert.deepEqual(drainEvents(pair.worker), []);
  assert.equal(pair.worker.state, "open");
});

Deno.test("hostile: handshake frames after the handshake close", () => {
  for (const role of ["worker", "router"] as const) {
    const pair = openPair();
    const session = pair[role];
    session.receive(
      encodeLengthPrefixedFrame({
        type: "reject",
        body: { code: "internal", message: "late" },
      }),
      0,
    );
    assert.equal(closedCode(drainEvents(session)), "unexpected_frame");
  }
});

Deno.test("hostile: garbage after the handshake closes with a ProtocolError", () => {
  fc.assert(
    fc.property(fc.uint8Array({ minLength: 1, maxLength: 64 }), (junk) => {
      const pair = openPair();
      const framed = new Uint8Array(4 + junk.length);
      new DataView(framed.buffer).setUint32(0, junk.length, true);
      framed.set(junk, 4);
      pair.router.receive(framed, 0);
      pair.router.receive(junk, 0);
      pair.router.receiveEnd(0);
      const list = drainEvents(pair.router);
      const closed = list.at(-1);
      assert.ok(closed?.type === "closed");
      assert.ok(closed.error instanceof ProtocolError);
    }),
    { numRuns: 200, seed: 42 },
  );
});

Deno.test("hostile: an oversized length prefix closes before allocating", () => {
  const pair = openPair({ max_frame_len: 4096 });
  pair.worker.receive(new Uint8Array([0xff, 0xff, 0xff, 0xff]), 0);
  assert.equal(closedCode(drainEvents(pair.worker)), "frame_too_large");
  const b = openPair({ max_frame_len: 4096 });
  b.router.receive(new Uint8Array([0x01, 0x10, 0x00, 0x00]), 0); // 4097
  assert.equal(closedCode(drainEvents(b.router)), "frame_too_large");
});

Deno.test("receive: packet data over max_packet_len closes", () => {
  const pair = openPair({ max_packet_len: 1000 });
  pair.worker.receive(packetFrame(2, new Uint8Array(1001)), 0);
  assert.equal(closedCode(drainEvents(pair.worker)), "packet_too_large");
});

Deno.test("send: over max_packet_len or needing unnegotiated chunking fails locally, nothing queued", () => {
  const pair = openPair({ max_packet_len: 2000, max_frame_len: 1000 });
  assert.throws(
    () => pair.router.call(loadFiles("x".repeat(3000))),
    (e: unknown) =>
      e instanceof ProtocolError && e.code === "packet_too_large" && !e.remote,
  );
  assert.equal(pair.router.bufferedTransmitBytes, 0);
  assert.equal(pair.router.pendingCalls, 0);
  assert.equal(pair.router.state, "open");

  const nochunk = openPair({ max_frame_len: 1000, supports_chunking: false });
  assert.throws(
    () => nochunk.router.call(loadFiles("x".repeat(1500))),
    { code: "frame_too_large" },
  );
  assert.equal(nochunk.router.bufferedTransmitBytes, 0);
  // A failed respond keeps the request in flight for an error answer.
  const id = nochunk.worker.call({ type: "get_worker_stats" });
  nochunk.pump();
  drainEvents(nochunk.router);
  assert.throws(
    () =>
      nochunk.router.respond(id, {
        status: "err",
        error: {
          code: "internal",
          message: "y".repeat(2000),
          retryable: false,
          details: null,
        },
      }),
    { code: "frame_too_large" },
  );
  assert.equal(nochunk.router.inFlightRequests, 1);
  nochunk.router.respond(id, {
    status: "err",
    error: {
      code: "too_large",
      message: "response too large",
      retryable: false,
      details: null,
    },
  });
  nochunk.pump();
  assert.equal(drainEvents(nochunk.worker)[0].type, "response");
});

function requestOfPayloadSize(size: number): Request {
  const base = encodeRpcPayload({
    type: "request",
    body: loadFiles(""),
  }).length;
  // Text headers grow with the length; search the exact text length.
  for (let n = Math.max(0, size - base - 9); n <= size - base; n++) {
    const req = loadFiles("a".repeat(n));
    if (encodeRpcPayload({ type: "request", body: req }).length === size) {
      return req;
    }
  }
  throw new Error(`no request of ${size} bytes`);
}

Deno.test("chunking: reference split sizes (4096 frames, 10 074-byte payload)", () => {
  const pair = openPair({ max_frame_len: 4096 });
  const req = requestOfPayloadSize(10_074);
  pair.router.call(req);
  const sent = frames(transmitted(pair.router));
  assert.deepEqual(
    sent.map((f) => f.type === "packet_chunk" ? f.body.data.length : -1),
    [3840, 3840, 2394],
  );
  assert.deepEqual(
    sent.map((f) => encodeWireFrame(f).length),
    [3905, 3905, 2459],
  );
  assert.deepEqual(
    sent.map((f) => f.type === "packet_chunk" && [f.body.seq, f.body.last]),
    [[0, false], [1, false], [2, true]],
  );
});

Deno.test("chunking: 8 KiB frames carry a 1 MiB file in 133 chunks and reassemble", () => {
  const pair = openPair({ max_frame_len: 8192, max_packet_len: 4 << 20 });
  const text = "q".repeat(1 << 20);
  const id = pair.router.call(loadFiles(text));
  const bytes = transmitted(pair.router);
  const sent = frames(bytes);
  assert.equal(sent.length, 133);
  const last = sent.at(-1)!;
  assert.ok(last.type === "packet_chunk" && last.body.last);
  assert.equal(last.body.data.length, 1100);
  pair.worker.receive(bytes, 0);
  const [req] = drainEvents(pair.worker);
  assert.ok(req.type === "request" && req.request.type === "load_files");
  assert.equal(req.id, id);
  assert.equal(req.request.files[0].text, text);
});

Deno.test("chunking: interleaved streams reassemble independently", () => {
  const pair = openPair({ max_frame_len: 4096, supports_cancel: false });
  const a = encodeRpcPayload({
    type: "request",
    body: loadFiles("a".repeat(12_000)),
  });
  const b = encodeRpcPayload({
    type: "request",
    body: loadFiles("b".repeat(10_000)),
  });
  const parts = (data: Uint8Array) => {
    const out: Uint8Array[] = [];
    for (let at = 0; at < data.length; at += 1024) {
      out.push(data.subarray(at, at + 1024));
    }
    return out;
  };
  const pa = parts(a);
  const pb = parts(b);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    if (i < pa.length) {
      pair.router.receive(chunkFrame(1, i, i === pa.length - 1, pa[i]), 0);
    }
    if (i < pb.length) {
      pair.router.receive(chunkFrame(3, i, i === pb.length - 1, pb[i]), 0);
    }
  }
  const list = drainEvents(pair.router);
  assert.deepEqual(list.map((e) => e.type === "request" && e.id), [3, 1]);
});

Deno.test("hostile: chunk violations close with their codes", () => {
  const gap = openPair();
  gap.worker.receive(chunkFrame(2, 0, false, new Uint8Array(4)), 0);
  gap.worker.receive(chunkFrame(2, 2, true, new Uint8Array(4)), 0);
  assert.equal(closedCode(drainEvents(gap.worker)), "chunk_sequence");

  const start = openPair();
  start.worker.receive(chunkFrame(2, 1, true, new Uint8Array(4)), 0);
  assert.equal(closedCode(drainEvents(start.worker)), "chunk_sequence");

  const algo = openPair({}, {}, { compressor: new RleCompressor() });
  algo.worker.receive(chunkFrame(2, 0, false, new Uint8Array(4)), 0);
  algo.worker.receive(chunkFrame(2, 1, true, new Uint8Array(4), "zstd"), 0);
  assert.equal(closedCode(drainEvents(algo.worker)), "chunk_sequence");

  const many = openPair();
  for (let i = 0; i < 33; i++) {
    many.router.receive(chunkFrame(2 * i + 1, 0, false, new Uint8Array(1)), 0);
  }
  const list = drainEvents(many.router);
  assert.equal(closedCode(list), "limit_exceeded");
  assert.equal(list.length, 1);

  const off = openPair({ supports_chunking: false });
  off.router.receive(chunkFrame(1, 0, true, new Uint8Array(1)), 0);
  assert.equal(closedCode(drainEvents(off.router)), "chunking_not_negotiated");

  const big = openPair({ max_packet_len: 1500 });
  big.router.receive(chunkFrame(1, 0, false, new Uint8Array(1000)), 0);
  big.router.receive(chunkFrame(1, 1, true, new Uint8Array(1000)), 0);
  assert.equal(closedCode(drainEvents(big.router)), "packet_too_large");

  const unknown = openPair();
  unknown.router.receive(
    chunkFrame(1, 0, false, new Uint8Array(1), "unknown"),
    0,
  );
  assert.equal(unknown.router.state, "open");
  unknown.router.receive(
    chunkFrame(1, 1, true, new Uint8Array(1), "unknown"),
    0,
  );
  assert.equal(
    closedCode(drainEvents(unknown.router)),
    "unsupported_compression",
  );
});

Deno.test("compression: used at >= threshold when strictly smaller", () => {
  const rle = new RleCompressor();
  const pair = openPair({}, {}, { compressor: rle });
  // Small payload: never compressed.
  pair.router.call(loadFiles("a".repeat(10)));
  const small = frames(transmitted(pair.router))[0];
  assert.ok(small.type === "packet" && small.body.compression === "none");
  assert.equal(rle.compressCalls, 0);
  // Large and compressible: zstd.
  const text = "a".repeat(5000);
  const id = pair.router.call(loadFiles(text));
  const bytes = transmitted(pair.router);
  const big = frames(bytes)[0];
  assert.ok(big.type === "packet" && big.body.compression === "zstd");
  assert.ok(big.body.data.length < 5000);
  pair.pump();
  drainEvents(pair.worker);
  pair.worker.receive(bytes, 0);
  const [req] = drainEvents(pair.worker);
  assert.ok(req.type === "request" && req.id === id);
  assert.ok(req.request.type === "load_files");
  assert.equal(req.request.files[0].text, text);
  assert.equal(rle.lastMaxOutput, 64 << 20);
  // Incompressible: falls back to none.
  const noisy = Array.from(
    { length: 3000 },
    (_, i) => String.fromCharCode(97 + (i * 7919) % 26),
  ).join("");
  pair.router.call(loadFiles(noisy));
  const plain = frames(transmitted(pair.router))[0];
  assert.ok(plain.type === "packet" && plain.body.compression === "none");
});

Deno.test("hostile: a zstd bomb is refused at max_packet_len without inflating", () => {
  const rle = new RleCompressor();
  const pair = openPair({ max_packet_len: 100_000 }, {}, { compressor: rle });
  // 400 runs of 255 bytes = 102 000 bytes of output from 801 input bytes.
  const bomb = new Uint8Array(801);
  bomb[0] = 0xee;
  for (let i = 1; i < bomb.length; i += 2) bomb[i] = 255;
  pair.worker.receive(packetFrame(2, bomb, "zstd"), 0);
  assert.equal(closedCode(drainEvents(pair.worker)), "packet_too_large");
  assert.equal(rle.lastMaxOutput, 100_000);
  assert.equal(rle.largestOutput, 0);
});

Deno.test("receive: compression outside the negotiated set is unsupported", () => {
  const pair = openPair();
  pair.worker.receive(packetFrame(2, new Uint8Array([1, 2]), "zstd"), 0);
  assert.equal(closedCode(drainEvents(pair.worker)), "unsupported_compression");
  const corrupt = openPair({}, {}, { compressor: new RleCompressor() });
  corrupt.worker.receive(packetFrame(2, new Uint8Array([1, 2]), "zstd"), 0);
  assert.equal(closedCode(drainEvents(corrupt.worker)), "decompression_failed");
  const throwing = openPair({}, {}, {
    compressor: Object.assign(new RleCompressor(), {
      decompress(): Uint8Array {
        throw new Error("zlib exploded");
      },
    }),
  });
  throwing.worker.receive(packetFrame(2, new Uint8Array([1, 2]), "zstd"), 0);
  assert.equal(
    closedCode(drainEvents(throwing.worker)),
    "decompression_failed",
  );
});

Deno.test("end of stream: clean, mid-frame, and close() semantics", () => {
  const clean = openPair();
  clean.worker.receiveEnd(0);
  assert.equal(closedCode(drainEvents(clean.worker)), "connection_closed");
  const mid = openPair();
  mid.worker.receive(new Uint8Array([10, 0, 0, 0, 1]), 0);
  mid.worker.receiveEnd(0);
  assert.equal(closedCode(drainEvents(mid.worker)), "unexpected_eof");
  const local = openPair();
  local.router.call({ type: "shutdown" });
  local.router.close();
  local.router.close();
  assert.deepEqual(drainEvents(local.router), [{ type: "closed" }]);
  assert.ok(local.router.pollTransmit() !== undefined); // queued frames flush
  local.router.receive(new Uint8Array([1, 2, 3]), 0); // ignored
  local.router.receiveEnd(0);
  assert.equal(local.router.pollEvent(), undefined);
  const why = openPair();
  why.worker.close(new ProtocolError("timeout", "gave up"));
  assert.equal(closedCode(drainEvents(why.worker)), "timeout");
});

Deno.test("pollTransmit coalesces queued frames into one buffer", () => {
  const pair = openPair();
  for (let i = 0; i < 100; i++) pair.router.call({ type: "get_worker_stats" });
  const expected = pair.router.bufferedTransmitBytes;
  const first = pair.router.pollTransmit();
  assert.equal(first?.length, expected);
  assert.equal(pair.router.pollTransmit(), undefined);
  assert.equal(frames(first!).length, 100);
});

Deno.test("transmit queue bytes equal the codec's encodeLengthPrefixedFrame (property)", () => {
  const algo = fc.constantFrom(
    "none" as const,
    "zstd" as const,
    "unknown" as const,
  );
  const id = fc.oneof(
    fc.integer({ min: 0, max: 2 ** 32 + 5 }),
    fc.constantFrom(
      23,
      24,
      255,
      256,
      65535,
      65536,
      2 ** 32 - 1,
      2 ** 32,
      2 ** 53 - 1,
    ),
    fc.bigInt({ min: 2n ** 53n, max: 2n ** 64n - 1n }),
  );
  fc.assert(
    fc.property(
      id,
      algo,
      fc.integer({ min: 0, max: 70_000 }),
      fc.boolean(),
      fc.nat(70_000),
      (id, compression, len, last, seq) => {
        const data = new Uint8Array(len).fill(len & 0xff);
        const q = new TransmitQueue(64);
        q.pushPacket(
          id,
          compression,
          data,
          packetFrameLen(id, compression, len),
        );
        q.pushChunk(
          id,
          compression,
          seq,
          last,
          data,
          chunkFrameLen(id, compression, seq, len),
        );
        const a = q.poll()!;
        const b = q.poll()!;
        assert.equal(q.poll(), undefined);
        const out = new Uint8Array([...a, ...b]);
        const expected = new Uint8Array([
          ...encodeLengthPrefixedFrame({
            type: "packet",
            body: { id, compression, data },
          }),
          ...encodeLengthPrefixedFrame({
            type: "packet_chunk",
            body: { id, compression, seq, last, data },
          }),
        ]);
        assert.deepEqual(out, expected);
        assert.equal(q.byteLength, 0);
      },
    ),
    { numRuns: 150, seed: 7 },
  );
});

Deno.test("transmit queue: arenas bound coalescing; polled bytes stay intact", () => {
  const one = packetFrameLen(2, "none", 100) + 4;
  const q = new TransmitQueue(one * 3);
  const raw = new Uint8Array([1, 0, 0, 0, 0xf6]);
  q.pushRaw(raw);
  assert.deepEqual(q.poll(), raw);
  assert.equal(q.poll(), undefined);
  for (let i = 0; i < 10; i++) {
    q.pushPacket(
      2,
      "none",
      new Uint8Array(100).fill(i),
      packetFrameLen(2, "none", 100),
    );
  }
  assert.equal(q.byteLength, one * 10);
  const polled: Uint8Array[] = [];
  for (let b = q.poll(); b; b = q.poll()) polled.push(b);
  // The first arena held the raw frame, then whole frames only.
  assert.ok(polled.every((b) => b.length <= one * 3));
  assert.equal(polled.reduce((n, b) => n + b.length, 0), one * 10);
  const before = polled.map((b) => b.slice());
  // Later writes never touch bytes already handed out.
  q.pushPacket(
    2,
    "none",
    new Uint8Array(100).fill(0xee),
    packetFrameLen(2, "none", 100),
  );
  q.pushPacket(
    2,
    "none",
    new Uint8Array(5000),
    packetFrameLen(2, "none", 5000),
  );
  assert.deepEqual(polled, before);
  assert.equal(q.poll()?.length, one);
  assert.equal(q.poll()?.length, packetFrameLen(2, "none", 5000) + 4); // alone
  assert.equal(q.byteLength, 0);
  q.pushRaw(raw);
  q.clear();
  assert.equal(q.poll(), undefined);
  assert.equal(q.byteLength, 0);
});

Deno.test("fast packet parse agrees with decodeWireFrame (property, with mutations)", () => {
  const algo = fc.constantFrom(
    "none" as const,
    "zstd" as const,
    "unknown" as const,
  );
  fc.assert(
    fc.property(
      fc.oneof(
        fc.nat(2 ** 32 + 3),
        fc.bigInt({ min: 2n ** 53n, max: 2n ** 64n - 1n }),
      ),
      algo,
      fc.uint8Array({ maxLength: 300 }),
      fc.boolean(),
      fc.nat(70_000),
      fc.boolean(),
      fc.array(fc.tuple(fc.nat(400), fc.nat(255)), { maxLength: 3 }),
      (id, compression, data, last, seq, chunk, mutations) => {
        const frame: WireFrame = chunk
          ? { type: "packet_chunk", body: { id, compression, seq, last, data } }
          : { type: "packet", body: { id, compression, data } };
        const bytes = encodeWireFrame(frame);
        for (const [at, value] of mutations) {
          if (at < bytes.length) bytes[at] = value;
        }
        const fast = parseCanonicalPacket(bytes);
        if (fast === undefined) return;
        const full = decodeWireFrame(bytes);
        const body = fast.chunk
          ? {
            id: fast.id,
            compression: fast.compression,
            seq: fast.seq,
            last: fast.last,
            data: fast.data,
          }
          : { id: fast.id, compression: fast.compression, data: fast.data };
        assert.deepEqual(
          { type: fast.chunk ? "packet_chunk" : "packet", body },
          full,
        );
      },
    ),
    { numRuns: 500, seed: 11 },
  );
});

Deno.test("receive: a reused read buffer does not corrupt chunk streams", () => {
  const pair = openPair({ max_frame_len: 4096 });
  const text = "z".repeat(20_000);
  pair.router.call(loadFiles(text));
  const stream = transmitted(pair.router);
  // Deliver frame-aligned pieces through one reused buffer.
  const scratch = new Uint8Array(stream.length);
  for (let at = 0; at < stream.length;) {
    const len = 4 +
      new DataView(stream.buffer, stream.byteOffset + at).getUint32(0, true);
    scratch.set(stream.subarray(at, at + len));
    pair.worker.receive(scratch.subarray(0, len), 0);
    scratch.fill(0xaa);
    at += len;
  }
  const [req] = drainEvents(pair.worker);
  assert.ok(req.type === "request" && req.request.type === "load_files");
  assert.equal(req.request.files[0].text, text);
});

Deno.test("receive: many frames and a partial tail in one read", () => {
  const pair = openPair();
  for (let i = 0; i < 50; i++) pair.router.call({ type: "get_worker_stats" });
  const stream = transmitted(pair.router);
  const cut = stream.length - 7;
  pair.worker.receive(stream.subarray(0, cut), 0);
  assert.equal(drainEvents(pair.worker).length, 49);
  pair.worker.receive(stream.subarray(cut), 0);
  assert.equal(drainEvents(pair.worker).length, 1);
});

Deno.test("10 000 calls in both directions through a memory pair", () => {
  const pair = openPair();
  const ack = { status: "ok", value: { type: "ack" } } as const;
  let answered = 0;
  for (let batch = 0; batch < 50; batch++) {
    for (let i = 0; i < 100; i++) {
      pair.router.call({ type: "get_worker_stats" });
      pair.worker.call({ type: "get_worker_stats" });
    }
    pair.pump();
    for (const s of [pair.worker, pair.router]) {
      for (const e of drainEvents(s)) {
        if (e.type === "request") s.respond(e.id, ack);
      }
    }
    pair.pump();
    for (const s of [pair.worker, pair.router]) {
      for (const e of drainEvents(s)) {
        assert.equal(e.type, "response");
        answered++;
      }
    }
  }
  assert.equal(answered, 10_000);
  assert.equal(pair.router.pendingCalls + pair.worker.pendingCalls, 0);
});
