import assert from "node:assert/strict";
import { encodeRpcPayload } from "../../lib/wire/codec.ts";
import { encodeFrame } from "../../lib/wire/frame.ts";
import type {
  Capabilities,
  RpcPayload,
  WireFrame,
  WorkerHello,
} from "../../lib/wire/types.ts";
import { abbreviateJson, WireMonitor } from "./wire_monitor.ts";

const CAPS: Capabilities = {
  max_frame_len: 4096,
  max_packet_len: 1 << 20,
  supported_compression: ["none"],
  supports_cancel: true,
  supports_chunking: true,
};
const HELLO: WorkerHello = {
  shard_id: 7,
  auth_token: "secret",
  supported_versions: {
    min: { major: 3, minor: 0 },
    max: { major: 3, minor: 0 },
  },
  capabilities: CAPS,
  cached_index_info: null,
  worker_build: null,
};
const WELCOME: WireFrame = {
  type: "welcome",
  body: {
    worker_id: 1,
    shard_id: 7,
    revision: 0,
    chosen_version: { major: 3, minor: 0 },
    chosen_capabilities: CAPS,
  },
};

function packet(id: number, p: RpcPayload): Uint8Array {
  return encodeFrame({
    type: "packet",
    body: { id, compression: "none", data: encodeRpcPayload(p) },
  });
}

function handshaken(): WireMonitor {
  const m = new WireMonitor({ decompress: (_a, d) => d });
  m.feed("w->r", encodeFrame({ type: "hello", body: HELLO }), 0);
  m.feed("r->w", encodeFrame(WELCOME), 1);
  return m;
}

Deno.test("monitor accepts a clean exchange fed byte by byte", () => {
  const m = handshaken();
  m.feed(
    "r->w",
    packet(2, { type: "request", body: { type: "get_worker_stats" } }),
    2,
  );
  const reply = packet(2, {
    type: "response",
    body: {
      status: "ok",
      value: {
        type: "worker_stats",
        body: { shard_id: 7, revision: 0, index_generation: 0, file_count: 0 },
      },
    },
  });
  for (const b of reply) m.feed("w->r", new Uint8Array([b]), 3);
  const notify = packet(1, {
    type: "notification",
    body: {
      type: "cached_index",
      body: { shard_id: 7, revision: 0, index_generation: 0, symbols: [] },
    },
  });
  m.feed("w->r", notify, 4);
  assert.deepEqual(m.violations, []);
  const payloads = m.drainEvents().filter((e) => e.type === "payload");
  assert.equal(payloads.length, 2);
  assert.equal(m.transcript.length, 5);
  assert.ok(
    !JSON.stringify(m.transcript).includes("secret"),
    "the token is redacted",
  );
});

Deno.test("monitor flags frames before the Welcome and a non-Hello first frame", () => {
  const m = new WireMonitor({ decompress: (_a, d) => d });
  m.feed("w->r", packet(1, { type: "cancel" }), 0);
  m.feed("w->r", encodeFrame({ type: "hello", body: HELLO }), 0);
  assert.equal(m.violations.length, 2);
  assert.match(m.violations[0], /first worker frame/);
  assert.match(m.violations[1], /before the Welcome/);
});

Deno.test("monitor flags parity, unsolicited and duplicate responses", () => {
  const m = handshaken();
  m.feed(
    "w->r",
    packet(2, { type: "notification", body: { type: "unknown" } }),
    1,
  );
  const resp: RpcPayload = {
    type: "response",
    body: { status: "ok", value: { type: "ack" } },
  };
  m.feed("w->r", packet(4, resp), 1);
  m.feed("r->w", packet(6, { type: "request", body: { type: "shutdown" } }), 1);
  m.feed("w->r", packet(6, resp), 2);
  m.feed("w->r", packet(6, resp), 2);
  assert.equal(m.violations.length, 3, m.violations.join("\n"));
  assert.match(m.violations[0], /even id 2/);
  assert.match(m.violations[1], /never requested/);
  assert.match(m.violations[2], /second response/);
});

Deno.test("monitor flags oversized frames, chunk errors and handshake frames after the handshake", () => {
  const m = handshaken();
  m.feed(
    "r->w",
    packet(2, { type: "request", body: { type: "get_worker_stats" } }),
    1,
  );
  m.feed(
    "w->r",
    encodeFrame({
      type: "packet",
      body: { id: 2, compression: "none", data: new Uint8Array(5000) },
    }),
    2,
  );
  m.feed(
    "w->r",
    encodeFrame({
      type: "packet_chunk",
      body: {
        id: 3,
        compression: "none",
        seq: 1,
        last: false,
        data: new Uint8Array(1),
      },
    }),
    3,
  );
  m.feed("w->r", encodeFrame({ type: "hello", body: HELLO }), 4);
  assert.ok(
    m.violations.some((v) =>
      /exceeds the negotiated max_frame_len 4096/.test(v)
    ),
    m.violations.join("\n"),
  );
  assert.ok(m.violations.some((v) => /expected 0, got 1/.test(v)));
  assert.ok(
    m.violations.some((v) => /"hello" frame after the handshake/.test(v)),
  );
});

Deno.test("monitor survives hostile runner bytes and stops on an unframeable worker stream", () => {
  const m = handshaken();
  m.feed("r->w", new Uint8Array([0xff, 0xff, 0xff, 0xff]), 1);
  m.feed("r->w", new Uint8Array([1, 2, 3]), 1);
  assert.deepEqual(m.violations, []);
  m.feed("w->r", new Uint8Array([3, 0, 0, 0, 0xff, 0xff, 0xff]), 2);
  assert.match(m.violations[0], /undecodable/);
});

Deno.test("abbreviateJson shortens long strings, arrays and bytes", () => {
  const v = abbreviateJson({
    a: "x".repeat(1000),
    b: Array(100).fill(1),
    c: { $bytes: "ab".repeat(500) },
  }) as {
    a: string;
    b: unknown[];
    c: { $bytes: string };
  };
  assert.ok(v.a.length < 200);
  assert.equal(v.b.length, 25);
  assert.ok(v.c.$bytes.endsWith("(500 bytes)"));
});

// Leniency cases: the runner sends bytes our strict decoder refuses; a
// worker that accepts them, as the reference does, answers. Both behaviours
// must pass, so the answer is not "an id the runner never requested".
const STATS_RESPONSE: RpcPayload = {
  type: "response",
  body: {
    status: "ok",
    value: {
      type: "worker_stats",
      body: { shard_id: 7, revision: 0, index_generation: 0, file_count: 0 },
    },
  },
};

function text(s: string): number[] {
  const b = [...new TextEncoder().encode(s)];
  return [0x60 + b.length, ...b];
}

Deno.test("monitor: an answer to an indefinite-length map request is no violation", () => {
  const m = handshaken();
  const data = new Uint8Array([
    0xbf,
    ...text("type"),
    ...text("request"),
    ...text("body"),
    0xa1,
    ...text("type"),
    ...text("get_worker_stats"),
    0xff,
  ]);
  m.feed(
    "r->w",
    encodeFrame({ type: "packet", body: { id: 4, compression: "none", data } }),
    2,
  );
  m.feed("w->r", packet(4, STATS_RESPONSE), 3);
  assert.deepEqual(m.violations, []);
});

Deno.test("monitor: an answer to a packet with a non-minimal id is no violation", () => {
  const m = handshaken();
  const data = encodeRpcPayload({
    type: "request",
    body: { type: "get_worker_stats" },
  });
  const frame = new Uint8Array([
    0xa2,
    ...text("type"),
    ...text("packet"),
    ...text("body"),
    0xa3,
    ...text("id"),
    ...[0x1b, 0, 0, 0, 0, 0, 0, 0, 4],
    ...text("compression"),
    ...text("none"),
    ...text("data"),
    0x58,
    data.length,
    ...data,
  ]);
  const framed = new Uint8Array(frame.length + 4);
  new DataView(framed.buffer).setUint32(0, frame.length, true);
  framed.set(frame, 4);
  m.feed("r->w", framed, 2);
  m.feed("w->r", packet(4, STATS_RESPONSE), 3);
  assert.deepEqual(m.violations, []);
  // An id that was never sent in any form is still flagged.
  m.feed("w->r", packet(8, STATS_RESPONSE), 4);
  assert.match(m.violations.join(), /never requested/);
});
