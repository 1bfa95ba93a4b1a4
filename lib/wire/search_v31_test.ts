// Distributed search mode (protocol 3.1): codec tests for the new messages.
import assert from "node:assert/strict";
import fc from "fast-check";
import { checkVector, parseVectors } from "./golden_vectors.ts";
import { decodeRpcPayload, encodeRpcPayload } from "./codec.ts";
import { ProtocolError } from "./errors.ts";
import { encodeLengthPrefixedFrame, FrameDecoder } from "./frame.ts";
import { decodeWireFrame } from "./codec.ts";
import { hexToBytes } from "./wire_json.ts";
import { allChunkings } from "../testing/split.ts";
import type { RankedSymbol, RpcPayload, SymbolMatches } from "./types.ts";

const text = Deno.readTextFileSync(
  new URL("../../conformance/vectors/loom_v3_1.jsonl", import.meta.url),
);
const { vectors, errors } = parseVectors(text);

Deno.test("loom_v3_1.jsonl: well formed", () => {
  assert.deepEqual(errors, []);
  assert.ok(vectors.length >= 20);
});

for (const vector of vectors) {
  Deno.test(`loom_v3_1.jsonl: ${vector.name}`, () => {
    assert.equal(checkVector(vector), undefined);
    // Whole, byte by byte and split at every offset, inside a Packet.
    const stream = encodeLengthPrefixedFrame({
      type: "packet",
      body: { id: 1, compression: "none", data: hexToBytes(vector.hex) },
    });
    for (const { label, chunks } of allChunkings(stream)) {
      const decoder = new FrameDecoder();
      let payload: Uint8Array | undefined;
      for (const chunk of chunks) {
        decoder.push(chunk);
        const f = decoder.next();
        if (f !== undefined) {
          const frame = decodeWireFrame(f);
          assert.ok(frame.type === "packet");
          payload = frame.body.data;
        }
      }
      decoder.end();
      assert.ok(payload !== undefined, label);
      if (vector.expect === "reject") {
        assert.throws(() => decodeRpcPayload(payload!), ProtocolError, label);
      } else {
        assert.equal(
          JSON.stringify(decodeRpcPayload(payload)),
          JSON.stringify(decodeRpcPayload(hexToBytes(vector.hex))),
          label,
        );
      }
    }
  });
}

Deno.test("3.0 requests are byte-identical without omit_symbols", () => {
  const files = [{ path: "A.java", text: "class A {}" }];
  const plain = encodeRpcPayload({
    type: "request",
    body: { type: "index_shard", revision: 1, files },
  });
  const undef = encodeRpcPayload({
    type: "request",
    body: { type: "index_shard", revision: 1, files, omit_symbols: undefined },
  });
  assert.deepEqual(undef, plain);
  const decoded = decodeRpcPayload(plain);
  assert.ok(decoded.type === "request");
  assert.equal("omit_symbols" in decoded.body, false);
});

const ranked: fc.Arbitrary<RankedSymbol> = fc.record({
  name: fc.string({ maxLength: 8 }),
  path: fc.string({ maxLength: 8 }),
  line: fc.nat(),
  column: fc.nat(),
  kind: fc.constantFrom("prefix" as const, "fuzzy" as const),
  score: fc.integer({ min: -0x8000_0000, max: 0x7fff_ffff }),
});
const u64 = fc.oneof(
  fc.nat(),
  fc.bigInt({ min: 2n ** 53n, max: 2n ** 64n - 1n }),
);
const matches: fc.Arbitrary<SymbolMatches> = fc.record({
  shard_id: fc.nat({ max: 0xffff_ffff }),
  revision: u64,
  index_generation: u64,
  symbol_count: fc.nat({ max: 0xffff_ffff }),
  mode: fc.constantFrom(
    "all" as const,
    "trigram" as const,
    "bucket" as const,
    "scan" as const,
    "none" as const,
    "unknown" as const,
  ),
  hit: fc.boolean(),
  bucket: fc.boolean(),
  trigrams: fc.array(fc.nat({ max: 0xff_ffff }), { maxLength: 4 }),
  matches: fc.array(ranked, { maxLength: 4 }),
});
const payloads: fc.Arbitrary<RpcPayload> = fc.oneof(
  matches.map((body) => ({
    type: "response" as const,
    body: {
      status: "ok" as const,
      value: { type: "symbol_matches" as const, body },
    },
  })),
  fc.record({
    type: fc.constant("search_shard_symbols" as const),
    query: fc.string({ maxLength: 8 }),
    limit: fc.nat({ max: 0xffff_ffff }),
    mode: fc.option(fc.constantFrom("bucket" as const, "scan" as const), {
      nil: undefined,
    }),
    scan_count: fc.option(fc.nat({ max: 0xffff_ffff }), { nil: undefined }),
  }).map((req) => {
    const body = { ...req };
    if (body.mode === undefined) delete body.mode;
    if (body.scan_count === undefined) delete body.scan_count;
    return { type: "request" as const, body };
  }),
  fc.record({
    shard_id: fc.nat({ max: 0xffff_ffff }),
    revision: u64,
    index_generation: u64,
    symbol_count: fc.nat({ max: 0xffff_ffff }),
  }).map((body) => ({
    type: "response" as const,
    body: {
      status: "ok" as const,
      value: { type: "shard_summary" as const, body },
    },
  })),
  fc.tuple(fc.boolean(), fc.nat()).map(([omit, revision]) => ({
    type: "request" as const,
    body: {
      type: "update_file" as const,
      revision,
      file: { path: "A.java", text: "" },
      omit_symbols: omit,
    },
  })),
);

Deno.test("3.1 messages round-trip (property)", () => {
  fc.assert(
    fc.property(payloads, (payload) => {
      const bytes = encodeRpcPayload(payload);
      const back = decodeRpcPayload(bytes);
      assert.deepEqual(back, structuredClone(payload)); // plain prototypes
      assert.deepEqual(encodeRpcPayload(back), bytes);
    }),
    { numRuns: 300 },
  );
});

Deno.test("3.1 encoders reject out-of-range values locally", () => {
  const bad = (score: number, kind = "fuzzy") => ({
    type: "response" as const,
    body: {
      status: "ok" as const,
      value: {
        type: "symbol_matches" as const,
        body: {
          shard_id: 0,
          revision: 0,
          index_generation: 0,
          symbol_count: 0,
          mode: "all" as const,
          hit: false,
          bucket: false,
          trigrams: [],
          matches: [{
            name: "a",
            path: "b",
            line: 0,
            column: 0,
            kind: kind as "fuzzy",
            score,
          }],
        },
      },
    },
  });
  assert.throws(() => encodeRpcPayload(bad(2 ** 31)), ProtocolError);
  assert.throws(() => encodeRpcPayload(bad(0.5)), ProtocolError);
  assert.throws(() => encodeRpcPayload(bad(1, "exact")), ProtocolError);
  const neg = decodeRpcPayload(encodeRpcPayload(bad(-(2 ** 31))));
  assert.ok(neg.type === "response" && neg.body.status === "ok");
  assert.ok(neg.body.value.type === "symbol_matches");
  assert.equal(neg.body.value.body.matches[0].score, -(2 ** 31));
});

Deno.test("the validator bounds the query at 16 KiB", () => {
  const payload = (n: number): RpcPayload => ({
    type: "request",
    body: { type: "search_shard_symbols", query: "q".repeat(n), limit: 1 },
  });
  const ok = decodeRpcPayload(encodeRpcPayload(payload(16 * 1024)));
  assert.ok(ok.type === "request" && ok.body.type === "search_shard_symbols");
  assert.throws(
    () => decodeRpcPayload(encodeRpcPayload(payload(16 * 1024 + 1))),
    ProtocolError,
  );
});
