import assert from "node:assert/strict";
import fc from "fast-check";
import {
  decodeRpcPayload,
  decodeWireFrame,
  encodeRpcPayload,
  encodeWireFrame,
} from "./codec.ts";
import { ProtocolError } from "./errors.ts";
import { bytesToHex, toWireJson } from "./wire_json.ts";
import { plainEncode } from "../testing/plain_cbor.ts";
import { rpcPayloadArb, wireFrameArb } from "../testing/arbitraries.ts";
import { encodeLengthPrefixedFrame, FrameDecoder } from "./frame.ts";

function sameBytes(a: Uint8Array, b: Uint8Array): void {
  assert.equal(bytesToHex(a), bytesToHex(b));
}

Deno.test("property: WireFrame decode(encode(x)) == x, bytes match the plain encoding", () => {
  fc.assert(
    fc.property(wireFrameArb, (frame) => {
      const bytes = encodeWireFrame(frame);
      sameBytes(bytes, plainEncode(toWireJson(frame)));
      const back = decodeWireFrame(bytes);
      assert.deepStrictEqual(back, frame);
      // Key order of the decoded value is wire order too.
      sameBytes(plainEncode(toWireJson(back)), bytes);
    }),
    { numRuns: 3000 },
  );
});

Deno.test("property: RpcPayload decode(encode(x)) == x, bytes match the plain encoding", () => {
  fc.assert(
    fc.property(rpcPayloadArb, (payload) => {
      const bytes = encodeRpcPayload(payload);
      sameBytes(bytes, plainEncode(toWireJson(payload)));
      const back = decodeRpcPayload(bytes);
      assert.deepStrictEqual(back, payload);
      sameBytes(plainEncode(toWireJson(back)), bytes);
    }),
    { numRuns: 1500 },
  );
});

Deno.test("property: framed streams split anywhere give the same frames", () => {
  fc.assert(
    fc.property(
      fc.array(wireFrameArb, { minLength: 1, maxLength: 4 }),
      fc.array(fc.nat(), { maxLength: 6 }),
      (frames, cuts) => {
        const encoded = frames.map(encodeLengthPrefixedFrame);
        const stream = new Uint8Array(
          encoded.reduce((n, f) => n + f.length, 0),
        );
        let at = 0;
        for (const f of encoded) {
          stream.set(f, at);
          at += f.length;
        }
        const points = [...new Set(cuts.map((c) => c % (stream.length + 1)))]
          .sort((a, b) => a - b);
        const decoder = new FrameDecoder({ maxFrameLen: 1 << 26 });
        const out = [];
        let prev = 0;
        for (const p of [...points, stream.length]) {
          decoder.push(stream.subarray(prev, p));
          prev = p;
          for (let f = decoder.next(); f !== undefined; f = decoder.next()) {
            out.push(decodeWireFrame(f));
          }
        }
        decoder.end();
        assert.deepStrictEqual(out, frames);
      },
    ),
    { numRuns: 500 },
  );
});

function decodeOrProtocolError(bytes: Uint8Array): void {
  for (const decode of [decodeWireFrame, decodeRpcPayload]) {
    try {
      decode(bytes);
    } catch (err) {
      if (!(err instanceof ProtocolError)) throw err;
    }
  }
}

Deno.test("property: arbitrary bytes give a value or a ProtocolError (40k runs x 2 decoders)", () => {
  fc.assert(
    fc.property(
      fc.oneof(
        fc.uint8Array({ maxLength: 64 }),
        // Bytes drawn from CBOR-significant initial bytes are likelier to go deep.
        fc.array(
          fc.oneof(
            fc.constantFrom(
              0x18,
              0x19,
              0x1a,
              0x1b,
              0x1f,
              0x3b,
              0x5a,
              0x5b,
              0x5f,
              0x61,
              0x64,
              0x7f,
              0x9f,
              0x9a,
              0xa1,
              0xa2,
              0xbf,
              0xc1,
              0xf6,
              0xf7,
              0xf9,
              0xfb,
              0xff,
            ),
            fc.integer({ min: 0, max: 255 }),
          ),
          { maxLength: 64 },
        ).map((a) => new Uint8Array(a)),
      ),
      (bytes) => decodeOrProtocolError(bytes),
    ),
    { numRuns: 40_000 },
  );
});

const mutation = fc.oneof(
  fc.record({
    kind: fc.constant("set" as const),
    at: fc.nat(),
    value: fc.integer({ min: 0, max: 255 }),
  }),
  fc.record({
    kind: fc.constant("insert" as const),
    at: fc.nat(),
    value: fc.integer({ min: 0, max: 255 }),
  }),
  fc.record({ kind: fc.constant("delete" as const), at: fc.nat() }),
  fc.record({ kind: fc.constant("truncate" as const), at: fc.nat() }),
);
type Mutation = typeof mutation extends fc.Arbitrary<infer T> ? T : never;

function mutate(input: Uint8Array, mutations: Mutation[]): Uint8Array {
  let bytes = Array.from(input);
  for (const m of mutations) {
    const at = bytes.length === 0 ? 0 : m.at % (bytes.length + 1);
    if (m.kind === "set" && at < bytes.length) bytes[at] = m.value;
    else if (m.kind === "insert") bytes.splice(at, 0, m.value);
    else if (m.kind === "delete") bytes.splice(at, 1);
    else if (m.kind === "truncate") bytes = bytes.slice(0, at);
  }
  return new Uint8Array(bytes);
}

Deno.test("property: mutated valid encodings give a value or a ProtocolError (60k runs x 2 decoders)", () => {
  // A fixed pool of valid encodings keeps generation cheap; the mutations vary.
  const pool = [
    ...fc.sample(wireFrameArb.map(encodeWireFrame), { numRuns: 400, seed: 7 }),
    ...fc.sample(rpcPayloadArb.map(encodeRpcPayload), {
      numRuns: 400,
      seed: 11,
    }),
  ].filter((b) => b.length < 1024);
  fc.assert(
    fc.property(
      fc.constantFrom(...pool),
      fc.array(mutation, { minLength: 1, maxLength: 4 }),
      (bytes, mutations) => decodeOrProtocolError(mutate(bytes, mutations)),
    ),
    { numRuns: 60_000 },
  );
});
