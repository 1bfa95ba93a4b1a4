import assert from "node:assert/strict";
import { Encoder } from "cbor-x";
import { allChunkings } from "../testing/split.ts";
import { encodeFrame, FrameReader } from "./frame.ts";
import {
  decodeSeedMessage,
  encodeSeedMessage,
  MESSAGE_SCHEMAS,
  type SeedMessage,
} from "./messages.ts";
import { DEFAULT_SEED_LIMITS } from "./limits.ts";

function roundTrip(m: SeedMessage): SeedMessage {
  const reader = new FrameReader(1 << 20);
  reader.push(encodeSeedMessage(m));
  const frame = reader.next()!;
  assert.equal(reader.next(), undefined);
  return decodeSeedMessage(frame);
}

const peers = Array.from({ length: 128 }, (_, i) => ({
  rank: i,
  nodeId: `node-${i}`,
  addr: `10.0.0.${i % 250}:${7000 + i}`,
}));

export const SAMPLES: SeedMessage[] = [
  {
    type: "hello",
    version: 1,
    nodeId: "n1",
    listenAddr: "",
    nonce: new Uint8Array(32).fill(1),
  },
  { type: "challenge", nonce: new Uint8Array(32), proof: new Uint8Array() },
  { type: "auth", proof: new Uint8Array(), csr: new Uint8Array([1, 2]) },
  { type: "reject", code: "auth", reason: "x", supportedVersions: [1] },
  {
    type: "welcome",
    clusterId: "c",
    rank: 3,
    worldSize: 128,
    generation: 1,
    pending: false,
    peers,
    caCert: new Uint8Array([3]),
    leafCert: new Uint8Array([4]),
  },
  { type: "welcome_ack", generation: 1 },
  { type: "propose", generation: 2, peers: peers.slice(0, 2) },
  { type: "propose_ack", generation: 2 },
  { type: "commit", generation: 2 },
  { type: "leave" },
  { type: "heartbeat", generation: 2, seq: Number.MAX_SAFE_INTEGER },
  { type: "suspect", generation: 2, nodeId: "n2" },
  { type: "renew", csr: new Uint8Array([5]) },
  { type: "renewed", leafCert: new Uint8Array([6]) },
  {
    type: "mesh_hello",
    clusterId: "c",
    nodeId: "n1",
    rank: 0,
    generation: 2,
    lane: "bulk",
  },
  { type: "data", payload: new Uint8Array(1000).fill(7) },
  { type: "farewell", code: "left", reason: "bye" },
];

Deno.test("hello_welcome_roundtrip: every message survives the codec (empty fields included)", () => {
  assert.equal(SAMPLES.length, Object.keys(MESSAGE_SCHEMAS).length);
  for (const m of SAMPLES) assert.deepEqual(roundTrip(m), m, m.type);
});

Deno.test("messages: header carries the schema's type and priority", () => {
  for (const m of SAMPLES) {
    const bytes = encodeSeedMessage(m);
    assert.equal(bytes[5], MESSAGE_SCHEMAS[m.type].id);
    assert.equal(bytes[4], MESSAGE_SCHEMAS[m.type].priority);
  }
  assert.equal(encodeSeedMessage({ type: "leave" }, 2)[4], 2);
});

Deno.test("messages: decoded whole, byte by byte and split at every offset", () => {
  const bytes = encodeSeedMessage(SAMPLES[4]);
  let n = 0;
  for (const { label, chunks } of allChunkings(bytes)) {
    if (n++ > 200 && !label.startsWith("byte")) continue;
    const reader = new FrameReader(1 << 20);
    let got: SeedMessage | undefined;
    for (const c of chunks) {
      reader.push(c);
      const f = reader.next();
      if (f !== undefined) got = decodeSeedMessage(f);
    }
    assert.deepEqual(got, SAMPLES[4], label);
  }
});

const raw = new Encoder({ useRecords: false, tagUint8Array: false });

function decodeRaw(type: number, value: unknown): string | undefined {
  try {
    decodeSeedMessage({
      type,
      priority: 1,
      length: 0,
      payload: raw.encode(value),
    });
  } catch (e) {
    return (e as { code?: string }).code;
  }
  return undefined;
}

Deno.test("messages: schema violations are malformed", () => {
  assert.equal(decodeRaw(9, { generation: 1, extra: 1 }), "malformed");
  assert.equal(decodeRaw(9, {}), "malformed");
  assert.equal(decodeRaw(9, { generation: -1 }), "malformed");
  assert.equal(decodeRaw(9, { generation: "1" }), "malformed");
  assert.equal(decodeRaw(9, [1]), "malformed");
  assert.equal(
    decodeRaw(3, { proof: "x", csr: new Uint8Array() }),
    "malformed",
  );
  assert.equal(
    decodeRaw(7, { generation: 1, peers: [{ rank: 0, nodeId: "a" }] }),
    "malformed",
  );
  assert.equal(
    decodeRaw(17, {
      code: "x".repeat(DEFAULT_SEED_LIMITS.maxStringBytes + 1),
      reason: "",
    }),
    "malformed",
  );
  assert.throws(() =>
    decodeSeedMessage({
      type: 9,
      priority: 1,
      length: 1,
      payload: new Uint8Array([0xff]),
    }), (e: unknown) => (e as { code: string }).code === "malformed");
  assert.throws(
    () => encodeSeedMessage({ type: "commit", generation: -1 }),
    TypeError,
  );
});

Deno.test("messages: a Hello of an unsupported version still decodes (for a typed Reject)", () => {
  const m = decodeSeedMessage({
    type: 1,
    priority: 1,
    length: 0,
    payload: raw.encode({ version: 2, somethingNew: true }),
  });
  assert.equal(m.type, "hello");
  assert.equal((m as { version: number }).version, 2);
});

Deno.test("messages: the peer table limit is checked", () => {
  const many = Array.from(
    { length: 5 },
    (_, i) => ({ rank: i, nodeId: `n${i}`, addr: "h:1" }),
  );
  const bytes = encodeSeedMessage({
    type: "propose",
    generation: 1,
    peers: many,
  });
  const reader = new FrameReader(1 << 20);
  reader.push(bytes);
  assert.throws(
    () =>
      decodeSeedMessage(reader.next()!, {
        ...DEFAULT_SEED_LIMITS,
        maxPeers: 4,
      }),
    (e: unknown) => (e as { limit: string }).limit === "maxPeers",
  );
  assert.ok(encodeFrame(1, 0, new Uint8Array()).length === 8);
});
