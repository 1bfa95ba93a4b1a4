import assert from "node:assert/strict";
import fc from "fast-check";
import { ProtocolError } from "./errors.ts";
import { encodeLengthPrefixedFrame } from "./frame.ts";
import { hexToBytes } from "./wire_json.ts";
import {
  CANCELLED_ERROR,
  createRouterSession,
  createWorkerSession,
  NO_HANDLER_ERROR,
  type SessionEvent,
} from "./session.ts";
import { memoryPair } from "../testing/memory_pair.ts";
import { FakeClock } from "../testing/fake_clock.ts";
import { byteByByte, splitEverywhere } from "../testing/split.ts";
import {
  closedCode,
  events,
  frames,
  packetFrame,
  TEST_CAPS,
  testHello,
  transmitted,
} from "./session_test_util.ts";
import type { WorkerHello } from "./types.ts";

const VECTORS = new URL(
  "../../conformance/vectors/v3_reference.jsonl",
  import.meta.url,
);

function transcriptFrames(): Uint8Array[] {
  const line = Deno.readTextFileSync(VECTORS).split("\n").find((l) =>
    l.includes('"T1_T10_session_transcript"')
  );
  assert.ok(line, "transcript vector present");
  const bytes = hexToBytes(JSON.parse(line).hex);
  const out: Uint8Array[] = [];
  for (let at = 0; at < bytes.length;) {
    const len = bytes[at] | (bytes[at + 1] << 8) | (bytes[at + 2] << 16) |
      (bytes[at + 3] << 24);
    out.push(bytes.slice(at, at + 4 + len));
    at += 4 + len;
  }
  assert.equal(out.length, 10);
  return out;
}

function rawRouterWithHello(hello: WorkerHello, options = {}) {
  const router = createRouterSession(options);
  router.receive(encodeLengthPrefixedFrame({ type: "hello", body: hello }), 0);
  return router;
}

Deno.test("session replays the reference transcript T1-T10 byte for byte", () => {
  const t = transcriptFrames();
  const worker = createWorkerSession({
    hello: { shard_id: 7, capabilities: TEST_CAPS },
  });
  const router = createRouterSession();
  // T1: the Hello.
  const t1 = transmitted(worker);
  assert.deepEqual(t1, t[0]);
  router.receive(t1, 0);
  const admission = router.pollEvent();
  assert.equal(admission?.type, "admission");
  router.admit({ worker_id: 1, revision: 0 });
  // T2: Welcome, then T3: the router's first call.
  assert.deepEqual(transmitted(router), t[1]);
  const id2 = router.call({ type: "get_worker_stats" });
  assert.equal(id2, 2);
  assert.deepEqual(transmitted(router), t[2]);
  worker.receive(t[1], 0);
  worker.receive(t[2], 0);
  const we = events(worker);
  assert.equal(we[0].type, "handshake_done");
  assert.deepEqual(we[1], {
    type: "request",
    id: 2,
    request: { type: "get_worker_stats" },
  });
  // T4: the worker's answer.
  worker.respond(2, {
    status: "ok",
    value: {
      type: "worker_stats",
      body: { shard_id: 7, revision: 0, index_generation: 0, file_count: 0 },
    },
  });
  assert.deepEqual(transmitted(worker), t[3]);
  // T5, T6: a call and its cancel.
  const id4 = router.call({ type: "diagnostics", path: "A.java" });
  assert.equal(id4, 4);
  assert.deepEqual(transmitted(router), t[4]);
  router.cancel(4);
  assert.deepEqual(transmitted(router), t[5]);
  worker.receive(t[4], 0);
  worker.receive(t[5], 0);
  assert.deepEqual(events(worker), [
    {
      type: "request",
      id: 4,
      request: { type: "diagnostics", path: "A.java" },
    },
    { type: "cancel", id: 4 },
  ]);
  // T7: the cancelled answer; T8: a notification (id 1); T9: a worker call.
  worker.respond(4, { status: "err", error: { ...CANCELLED_ERROR } });
  assert.deepEqual(transmitted(worker), t[6]);
  const nid = worker.notify({
    type: "cached_index",
    body: { shard_id: 7, revision: 0, index_generation: 1, symbols: [] },
  });
  assert.equal(nid, 1);
  assert.deepEqual(transmitted(worker), t[7]);
  assert.equal(worker.call({ type: "get_worker_stats" }), 3);
  assert.deepEqual(transmitted(worker), t[8]);
  for (const frame of [t[3], t[6], t[7], t[8]]) router.receive(frame, 0);
  const re = events(router);
  assert.deepEqual(re.map((e) => e.type), [
    "handshake_done",
    "response",
    "response",
    "notification",
    "request",
  ]);
  // T10: the router's answer to the worker's call.
  router.respond(3, { status: "err", error: { ...NO_HANDLER_ERROR } });
  assert.deepEqual(transmitted(router), t[9]);
  worker.receive(t[9], 0);
  const last = events(worker);
  assert.equal(last.length, 1);
  assert.equal(last[0].type, "response");
});

Deno.test("handshake: both sides see the same Welcome and negotiated caps", () => {
  const pair = memoryPair({
    worker: {
      hello: {
        shard_id: 9,
        capabilities: { max_frame_len: 4096, max_packet_len: 1 << 20 },
      },
    },
    router: {
      capabilities: { max_frame_len: 8192, supports_cancel: false },
    },
  });
  const { worker, router } = pair.handshake({ worker_id: 5, revision: 11 });
  assert.equal(worker.length, 1);
  assert.equal(router.length, 1);
  assert.equal(worker[0].type, "handshake_done");
  assert.equal(router[0].type, "handshake_done");
  if (worker[0].type !== "handshake_done") return;
  if (router[0].type !== "handshake_done") return;
  assert.deepEqual(worker[0].welcome, router[0].welcome);
  assert.deepEqual(worker[0].welcome, {
    worker_id: 5,
    shard_id: 9,
    revision: 11,
    chosen_version: { major: 3, minor: 0 },
    chosen_capabilities: {
      max_frame_len: 4096,
      max_packet_len: 1 << 20,
      supported_compression: ["none"],
      supports_cancel: false,
      supports_chunking: true,
    },
  });
  assert.equal(pair.worker.state, "open");
  assert.equal(pair.router.state, "open");
  assert.equal(pair.worker.nextDeadline(), undefined);
  assert.equal(pair.router.nextDeadline(), undefined);
});

Deno.test("handshake: split at every offset and byte by byte give the same events", () => {
  const t = transcriptFrames();
  const hello = t[0];
  const welcomeAndCall = new Uint8Array([...t[1], ...t[2]]);
  const chunkings = [
    { label: "byte-by-byte", chunks: byteByByte(hello) },
    ...splitEverywhere(hello),
  ];
  for (const { label, chunks } of chunkings) {
    const router = createRouterSession();
    for (const c of chunks) router.receive(c, 0);
    const list = events(router);
    assert.equal(list.length, 1, label);
    assert.equal(list[0].type, "admission", label);
  }
  const worker0 = createWorkerSession({
    hello: { shard_id: 7, capabilities: TEST_CAPS },
  });
  worker0.receive(welcomeAndCall, 0);
  const expected = events(worker0);
  assert.equal(expected.length, 2);
  for (
    const { label, chunks } of [
      { label: "byte-by-byte", chunks: byteByByte(welcomeAndCall) },
      ...splitEverywhere(welcomeAndCall),
    ]
  ) {
    const worker = createWorkerSession({
      hello: { shard_id: 7, capabilities: TEST_CAPS },
    });
    for (const c of chunks) worker.receive(c, 0);
    assert.deepEqual(events(worker), expected, label);
  }
});

Deno.test("handshake: zero limits are rejected with invalid_request", () => {
  for (
    const [frame, packet] of [[0, 8388608], [65536, 0], [0, 0]] as const
  ) {
    const router = rawRouterWithHello(
      testHello({
        auth_token: "wrong", // limits are checked before the token
        capabilities: {
          ...TEST_CAPS,
          max_frame_len: frame,
          max_packet_len: packet,
        },
      }),
      { expectedAuthToken: "right" },
    );
    assert.equal(closedCode(events(router)), "handshake_rejected");
    assert.equal(router.state, "closed");
    const sent = frames(transmitted(router));
    assert.deepEqual(sent, [{
      type: "reject",
      body: {
        code: "invalid_request",
        message:
          `invalid worker capability limits: max_frame_len=${frame}, max_packet_len=${packet}`,
      },
    }]);
  }
});

Deno.test("handshake: auth token mismatch or absence is unauthorized (both roles)", () => {
  for (const token of ["wrong", null, "", "expected-but-longer"]) {
    const pair = memoryPair({
      worker: { hello: { shard_id: 7, auth_token: token } },
      router: { expectedAuthToken: "expected" },
    });
    pair.pump();
    assert.equal(closedCode(events(pair.router)), "handshake_rejected");
    const we = events(pair.worker);
    assert.deepEqual(we[0], {
      type: "rejected",
      reject: { code: "unauthorized", message: "authentication failed" },
    });
    assert.equal(closedCode(we), "handshake_rejected");
    assert.equal(pair.worker.state, "closed");
  }
  // The right token passes; no expected token accepts anything.
  const ok = memoryPair({
    worker: { hello: { shard_id: 7, auth_token: "expected" } },
    router: { expectedAuthToken: "expected" },
  });
  assert.equal(ok.handshake().worker[0].type, "handshake_done");
  const any = memoryPair({
    worker: { hello: { shard_id: 7, auth_token: "x" } },
  });
  assert.equal(any.handshake().worker[0].type, "handshake_done");
});

Deno.test("handshake: no version overlap is unsupported_version; highest common wins", () => {
  const pair = memoryPair({
    worker: {
      hello: {
        shard_id: 7,
        supported_versions: {
          min: { major: 99, minor: 0 },
          max: { major: 99, minor: 0 },
        },
      },
    },
  });
  pair.pump();
  assert.equal(closedCode(events(pair.router)), "handshake_rejected");
  assert.deepEqual(events(pair.worker)[0], {
    type: "rejected",
    reject: {
      code: "unsupported_version",
      message: "unsupported protocol version",
    },
  });
  // Auth is checked before the version.
  const both = rawRouterWithHello(
    testHello({
      auth_token: "bad",
      supported_versions: {
        min: { major: 99, minor: 0 },
        max: { major: 99, minor: 0 },
      },
    }),
    { expectedAuthToken: "good" },
  );
  assert.equal(
    (frames(transmitted(both))[0] as { body: { code: string } }).body.code,
    "unauthorized",
  );
  const high = memoryPair({
    worker: {
      hello: {
        shard_id: 7,
        supported_versions: {
          min: { major: 3, minor: 2 },
          max: { major: 4, minor: 0 },
        },
      },
    },
    router: {
      supportedVersions: {
        min: { major: 3, minor: 0 },
        max: { major: 3, minor: 5 },
      },
    },
  });
  const done = high.handshake().worker[0];
  assert.ok(done.type === "handshake_done");
  assert.deepEqual(done.welcome.chosen_version, { major: 3, minor: 5 });
});

Deno.test("handshake: no common compression is rejected after the version check", () => {
  const router = rawRouterWithHello(testHello({
    capabilities: { ...TEST_CAPS, supported_compression: ["unknown"] },
  }));
  assert.equal(closedCode(events(router)), "handshake_rejected");
  assert.deepEqual(frames(transmitted(router)), [{
    type: "reject",
    body: {
      code: "invalid_request",
      message: "handshake failed: no common compression algorithm",
    },
  }]);
  const versionFirst = rawRouterWithHello(testHello({
    supported_versions: {
      min: { major: 1, minor: 0 },
      max: { major: 2, minor: 0 },
    },
    capabilities: { ...TEST_CAPS, supported_compression: ["unknown"] },
  }));
  assert.equal(
    (frames(transmitted(versionFirst))[0] as { body: { code: string } }).body
      .code,
    "unsupported_version",
  );
});

Deno.test("handshake: the router's compression order wins over the worker's", () => {
  const zstd = {
    algorithms: ["zstd" as const],
    compress: (_a: unknown, d: Uint8Array) => d,
    decompress: (_a: unknown, d: Uint8Array) => d,
  };
  const pair = memoryPair({
    worker: {
      compressor: zstd,
      hello: {
        shard_id: 7,
        capabilities: { supported_compression: ["none", "zstd"] },
      },
    },
    router: { compressor: zstd },
  });
  const done = pair.handshake().router[0];
  assert.ok(done.type === "handshake_done");
  assert.deepEqual(done.hello.capabilities.supported_compression, [
    "none",
    "zstd",
  ]);
  assert.deepEqual(done.welcome.chosen_capabilities.supported_compression, [
    "zstd",
    "none",
  ]);
  // Without a compressor, zstd is sanitised out of our own offer.
  const plain = createWorkerSession({
    hello: { shard_id: 1, capabilities: { supported_compression: ["zstd"] } },
  });
  assert.deepEqual(plain.hello?.capabilities.supported_compression, ["none"]);
});

Deno.test("handshake: the admission hook can reject; messages are sanitised", () => {
  const pair = memoryPair();
  const { worker, router } = pair.handshake({
    reject: { code: "invalid_request", message: "not admitted" },
  });
  assert.deepEqual(worker[0], {
    type: "rejected",
    reject: { code: "invalid_request", message: "not admitted" },
  });
  assert.equal(closedCode(worker), "handshake_rejected");
  assert.equal(closedCode(router), "handshake_rejected");

  const secret = "prefix-secret-value";
  const leaky = memoryPair();
  leaky.pump();
  assert.equal(leaky.router.pollEvent()?.type, "admission");
  leaky.router.reject(
    "invalid_request",
    `invalid type: string "${secret}", expected boolean at line 1 column 1`,
  );
  const wire = transmitted(leaky.router);
  const text = new TextDecoder().decode(wire);
  assert.ok(!text.includes(secret) && text.includes("<redacted>"));
  const closed = events(leaky.router).find((e) => e.type === "closed");
  assert.ok(closed?.type === "closed");
  assert.ok(!closed.error?.message.includes(secret));
});

Deno.test("handshake: a reject message over 16 KiB of UTF-8 is refused locally", () => {
  const pair = memoryPair();
  pair.pump();
  assert.equal(pair.router.pollEvent()?.type, "admission");
  // 6,000 units but 18,000 bytes: counted in bytes, as the peer does.
  assert.throws(
    () => pair.router.reject("invalid_request", "€".repeat(6000)),
    RangeError,
  );
  assert.equal(pair.router.pollTransmit(), undefined);
  pair.router.reject("invalid_request", "€".repeat(5461)); // 16,383 bytes
  assert.ok(transmitted(pair.router).length > 16_383);
});

Deno.test("handshake: a legacy v2 hello gets the legacy error reply", () => {
  for (
    const hex of [
      "0700000000070000000000",
      "150000000001000000010a000000746573742d746f6b656e01",
    ]
  ) {
    const router = createRouterSession();
    router.receive(hexToBytes(hex), 0);
    assert.equal(closedCode(events(router)), "legacy_protocol");
    assert.equal(
      [...transmitted(router)].map((b) => b.toString(16).padStart(2, "0"))
        .join(""),
      "1c0000000c17000000726f75746572206f6e6c7920737570706f727473207633",
    );
  }
  // Another legacy message (Ack) gets nothing but a decode error.
  const router = createRouterSession();
  router.receive(hexToBytes("010000000a"), 0);
  const code = closedCode(events(router));
  assert.ok(code !== undefined && code !== "legacy_protocol");
  assert.equal(router.pollTransmit(), undefined);
});

Deno.test("handshake: a first frame that is not Hello fails without a Reject", () => {
  const router = createRouterSession();
  router.receive(
    encodeLengthPrefixedFrame({
      type: "packet",
      body: { id: 1, compression: "none", data: new Uint8Array() },
    }),
    0,
  );
  assert.equal(closedCode(events(router)), "handshake_failed");
  assert.equal(router.pollTransmit(), undefined);

  const worker = createWorkerSession({ hello: { shard_id: 7 } });
  transmitted(worker);
  worker.receive(
    encodeLengthPrefixedFrame({ type: "hello", body: testHello() }),
    0,
  );
  assert.equal(closedCode(events(worker)), "handshake_failed");
});

Deno.test("handshake: the worker checks the Welcome", () => {
  const base = {
    worker_id: 1,
    shard_id: 7,
    revision: 0,
    chosen_version: { major: 3, minor: 0 },
    chosen_capabilities: { ...TEST_CAPS },
  };
  const bad = [
    { ...base, shard_id: 8 },
    {
      ...base,
      chosen_capabilities: { ...TEST_CAPS, max_frame_len: 0 },
    },
    {
      ...base,
      chosen_capabilities: { ...TEST_CAPS, max_packet_len: 1 << 30 },
    },
    { ...base, chosen_version: { major: 4, minor: 0 } },
  ];
  for (const welcome of bad) {
    const worker = createWorkerSession({
      hello: { shard_id: 7, capabilities: TEST_CAPS },
    });
    worker.receive(
      encodeLengthPrefixedFrame({ type: "welcome", body: welcome }),
      0,
    );
    assert.equal(closedCode(events(worker)), "handshake_failed");
  }
  const worker = createWorkerSession({
    hello: { shard_id: 7, capabilities: TEST_CAPS },
  });
  worker.receive(encodeLengthPrefixedFrame({ type: "welcome", body: base }), 0);
  assert.equal(events(worker)[0].type, "handshake_done");
});

Deno.test("handshake: pre-handshake frame limits (router 1 MiB, worker min with its max_frame_len)", () => {
  const router = createRouterSession();
  router.receive(new Uint8Array([0x01, 0x00, 0x10, 0x00]), 0); // 1 MiB + 1
  assert.equal(closedCode(events(router)), "frame_too_large");
  const exact = createRouterSession();
  exact.receive(new Uint8Array([0x00, 0x00, 0x10, 0x00]), 0); // 1 MiB
  assert.equal(exact.state, "awaiting_hello");
  const huge = createRouterSession();
  huge.receive(new Uint8Array([0xff, 0xff, 0xff, 0xff]), 0);
  assert.equal(closedCode(events(huge)), "frame_too_large");

  const worker = createWorkerSession({
    hello: { shard_id: 7, capabilities: { max_frame_len: 300 } },
  });
  worker.receive(new Uint8Array([0x2d, 0x01, 0x00, 0x00]), 0); // 301
  assert.equal(closedCode(events(worker)), "frame_too_large");
  const fits = createWorkerSession({
    hello: { shard_id: 7, capabilities: { max_frame_len: 300 } },
  });
  fits.receive(new Uint8Array([0x2c, 0x01, 0x00, 0x00]), 0); // 300
  assert.equal(fits.state, "awaiting_welcome");
  // The Hello itself must fit the pre-handshake limit.
  assert.throws(
    () =>
      createWorkerSession({
        hello: { shard_id: 7, capabilities: { max_frame_len: 100 } },
      }),
    RangeError,
  );
});

Deno.test("handshake: deadlines with a fake clock (router default 5 s)", () => {
  const clock = new FakeClock(1_000);
  const router = createRouterSession({ now: clock.now });
  const worker = createWorkerSession({
    hello: { shard_id: 7 },
    now: clock.now,
    handshakeTimeoutMs: 2_000,
  });
  clock.watch(router);
  clock.watch(worker);
  assert.equal(router.nextDeadline(), 6_000);
  assert.equal(worker.nextDeadline(), 3_000);
  clock.advance(1_999);
  assert.equal(worker.state, "awaiting_welcome");
  clock.advance(1);
  assert.equal(closedCode(events(worker)), "handshake_timeout");
  assert.equal(worker.nextDeadline(), undefined);
  clock.set(5_999);
  assert.equal(router.state, "awaiting_hello");
  // A Hello that arrives after the deadline is too late.
  const late = createRouterSession({ now: 0, handshakeTimeoutMs: 10 });
  late.receive(
    encodeLengthPrefixedFrame({ type: "hello", body: testHello() }),
    10,
  );
  assert.equal(closedCode(events(late)), "handshake_timeout");
  clock.advance(1);
  assert.equal(closedCode(events(router)), "handshake_timeout");
  // The deadline also covers a pending admission, and is gone after it.
  const pending = memoryPair({ router: { handshakeTimeoutMs: 50 } });
  pending.pump();
  assert.equal(pending.router.state, "awaiting_admission");
  pending.router.handleTimeout(49);
  assert.equal(pending.router.state, "awaiting_admission");
  pending.router.handleTimeout(50);
  assert.equal(pending.router.state, "closed");
  const done = memoryPair({ router: { handshakeTimeoutMs: 50 } });
  done.handshake();
  done.router.handleTimeout(1e9);
  assert.equal(done.router.state, "open");
  assert.equal(
    createRouterSession({ handshakeTimeoutMs: Infinity }).nextDeadline(),
    undefined,
  );
});

Deno.test("handshake: frames sent before the Welcome wait for the admission", () => {
  const router = createRouterSession();
  const early = createWorkerSession({ hello: { shard_id: 7 } });
  const hello = transmitted(early);
  router.receive(hello, 0);
  // A notification and an unknown frame right behind the Hello.
  router.receive(
    new Uint8Array([
      ...packetFrame(1, {
        type: "notification",
        body: {
          type: "cached_index",
          body: { shard_id: 7, revision: 0, index_generation: 1, symbols: [] },
        },
      }),
      ...encodeLengthPrefixedFrame({ type: "unknown" }),
    ]),
    0,
  );
  assert.deepEqual(events(router).map((e) => e.type), ["admission"]);
  router.admit();
  assert.deepEqual(events(router).map((e) => e.type), [
    "handshake_done",
    "notification",
  ]);
  assert.equal(router.state, "open");

  // More than the pre-handshake limit buffered during admission closes.
  const flood = createRouterSession({ preHandshakeMaxFrameLen: 1024 });
  flood.receive(hello, 0);
  flood.receive(new Uint8Array(2048), 0);
  const list = events(flood);
  assert.equal(list[0].type, "admission");
  assert.equal(closedCode(list), "limit_exceeded");
  flood.admit(); // ignored once closed
  assert.equal(flood.state, "closed");
});

Deno.test("commands before the handshake or after the close fail locally", () => {
  const worker = createWorkerSession({ hello: { shard_id: 7 } });
  assert.throws(
    () => worker.call({ type: "get_worker_stats" }),
    { code: "protocol_violation" },
  );
  const router = createRouterSession();
  assert.throws(() => router.admit(), { code: "protocol_violation" });
  assert.throws(
    () => router.notify({ type: "unknown" }),
    { code: "protocol_violation" },
  );
  router.close();
  assert.deepEqual(events(router), [{ type: "closed" }]);
  assert.throws(
    () => router.call({ type: "shutdown" }),
    { code: "connection_closed" },
  );
  router.close();
  assert.equal(router.pollEvent(), undefined);
  const pair = memoryPair();
  pair.handshake();
  assert.throws(() => pair.router.admit(), { code: "protocol_violation" });
  assert.throws(
    () => pair.router.admit({ worker_id: -1 }),
    RangeError,
  );
});

Deno.test("invalid options throw RangeError/TypeError", () => {
  assert.throws(
    () =>
      createWorkerSession({
        hello: { shard_id: 1, capabilities: { max_frame_len: 0 } },
      }),
    RangeError,
  );
  assert.throws(
    () => createRouterSession({ capabilities: { max_packet_len: 0 } }),
    RangeError,
  );
  assert.throws(
    () => createWorkerSession({ hello: { shard_id: -1 } }),
    RangeError,
  );
  assert.throws(
    () =>
      createWorkerSession({
        hello: { shard_id: 1, worker_build: "x".repeat(2000) },
        preHandshakeMaxFrameLen: 1000,
      }),
    RangeError,
  );
  assert.throws(
    () => createRouterSession({ handshakeTimeoutMs: -1 }),
    RangeError,
  );
});

Deno.test("data plane: the transcript's router frames give the same worker events however split", () => {
  const t = transcriptFrames();
  const toWorker = new Uint8Array([...t[1], ...t[2], ...t[4], ...t[5]]);
  const run = (chunks: Uint8Array[]): SessionEvent[] => {
    const worker = createWorkerSession({
      hello: { shard_id: 7, capabilities: TEST_CAPS },
    });
    for (const c of chunks) worker.receive(c, 0);
    return events(worker);
  };
  const expected = run([toWorker]);
  assert.deepEqual(expected.map((e) => e.type), [
    "handshake_done",
    "request",
    "request",
    "cancel",
  ]);
  assert.deepEqual(run(byteByByte(toWorker)), expected);
  for (const { label, chunks } of splitEverywhere(toWorker)) {
    assert.deepEqual(run(chunks), expected, label);
  }
});

Deno.test("hostile: arbitrary bytes in any state yield events or ProtocolErrors only", () => {
  fc.assert(
    fc.property(
      fc.constantFrom("router", "worker", "admission", "open"),
      fc.array(fc.uint8Array({ maxLength: 64 }), { maxLength: 6 }),
      fc.boolean(),
      (where, chunks, end) => {
        let session;
        if (where === "router") session = createRouterSession();
        else if (where === "worker") {
          session = createWorkerSession({ hello: { shard_id: 7 } });
        } else if (where === "admission") {
          session = createRouterSession();
          session.receive(
            encodeLengthPrefixedFrame({ type: "hello", body: testHello() }),
            0,
          );
        } else {
          const pair = memoryPair();
          pair.handshake();
          session = pair.worker;
        }
        for (const c of chunks) session.receive(c, 0);
        if (end) session.receiveEnd(0);
        for (const e of events(session)) {
          if (e.type === "closed" && e.error !== undefined) {
            assert.ok(e.error instanceof ProtocolError);
          }
        }
      },
    ),
    { numRuns: 400, seed: 5 },
  );
});

Deno.test("admit: revisions are kept in U64 normal form", () => {
  for (
    const [given, seen] of [[5n, 5], [2n ** 60n, 2n ** 60n], [9, 9]] as const
  ) {
    const pair = memoryPair();
    const { worker, router } = pair.handshake({ revision: given });
    assert.ok(worker[0].type === "handshake_done");
    assert.ok(router[0].type === "handshake_done");
    assert.equal(worker[0].welcome.revision, seen);
    assert.equal(router[0].welcome.revision, seen);
  }
});
