import assert from "node:assert/strict";
import {
  checkVector,
  checkVectorsText,
  parseVectors,
  type Vector,
} from "./golden_vectors.ts";
import { decodeRpcPayload, decodeWireFrame } from "./codec.ts";
import { encodeLengthPrefixedFrame, FrameDecoder } from "./frame.ts";
import { ProtocolError } from "./errors.ts";
import { hexToBytes, toWireJson } from "./wire_json.ts";
import { allChunkings } from "../testing/split.ts";

const FILES = ["v3_reference.jsonl", "loom_additions.jsonl", "loom_v3_1.jsonl"];

/**
 * Feeds a vector to a FrameDecoder in every chunking (whole, byte by byte,
 * split at every offset). `wire_frame` vectors get a length prefix;
 * `rpc_payload` vectors travel as the data of a Packet frame and are decoded
 * from it.
 */
function checkChunked(vector: Vector): void {
  const payload = hexToBytes(vector.hex);
  let stream: Uint8Array;
  if (vector.kind === "framed_stream") {
    stream = payload;
  } else if (vector.kind === "rpc_payload") {
    stream = encodeLengthPrefixedFrame({
      type: "packet",
      body: { id: 1, compression: "none", data: payload },
    });
  } else {
    stream = new Uint8Array(payload.length + 4);
    new DataView(stream.buffer).setUint32(0, payload.length, true);
    stream.set(payload, 4);
  }
  const expected = vector.kind === "framed_stream"
    ? vector.value
    : [vector.value];
  for (const { label, chunks } of allChunkings(stream)) {
    const decoder = new FrameDecoder({ maxFrameLen: 1 << 26 });
    const values = [];
    try {
      for (const chunk of chunks) {
        decoder.push(chunk);
        for (let f = decoder.next(); f !== undefined; f = decoder.next()) {
          const frame = decodeWireFrame(f);
          if (vector.kind === "rpc_payload") {
            assert.ok(frame.type === "packet");
            values.push(toWireJson(decodeRpcPayload(frame.body.data)));
          } else {
            values.push(toWireJson(frame));
          }
        }
      }
      decoder.end();
    } catch (err) {
      assert.ok(err instanceof ProtocolError, `${label}: ${err}`);
      assert.ok(
        vector.expect === "reject" || vector.strict_may_reject,
        `${label}: ${err}`,
      );
      continue;
    }
    assert.equal(vector.expect, "accept", `${label}: accepted a reject vector`);
    assert.equal(JSON.stringify(values), JSON.stringify(expected), label);
  }
}

for (const file of FILES) {
  const text = Deno.readTextFileSync(
    new URL(`../../conformance/vectors/${file}`, import.meta.url),
  );
  const { vectors, errors } = parseVectors(text);
  Deno.test(`${file}: every line is a well-formed vector`, () => {
    assert.deepEqual(errors, []);
    assert.ok(vectors.length > 0);
  });
  for (const vector of vectors) {
    Deno.test(`${file}: ${vector.name}`, () => {
      assert.equal(checkVector(vector), undefined);
      // Every vector also goes through the frame reader, split every way.
      if (vector.hex.length <= 2048) {
        checkChunked(vector);
      }
    });
  }
}

Deno.test("the reference file has the documented counts", () => {
  const text = Deno.readTextFileSync(
    new URL("../../conformance/vectors/v3_reference.jsonl", import.meta.url),
  );
  const { vectors } = parseVectors(text);
  assert.equal(vectors.length, 156);
  assert.equal(vectors.filter((v) => v.kind === "wire_frame").length, 91);
  assert.equal(vectors.filter((v) => v.kind === "rpc_payload").length, 64);
  assert.equal(vectors.filter((v) => v.canonical).length, 60); // the README says 61
  assert.equal(vectors.filter((v) => v.strict_may_reject).length, 18);
});

Deno.test("the checker reports wrong expectations, values and encodings", () => {
  const base = {
    name: "cancel",
    kind: "rpc_payload" as const,
    canonical: true,
    hex: "a164747970656663616e63656c",
    note: "n",
  };
  assert.equal(
    checkVector({ ...base, expect: "accept", value: { type: "cancel" } }),
    undefined,
  );
  assert.match(
    checkVector({ ...base, expect: "accept", value: { type: "unknown" } })!,
    /differs/,
  );
  assert.match(
    checkVector({ ...base, canonical: false, expect: "reject" })!,
    /expected reject/,
  );
  assert.match(
    checkVector({
      ...base,
      hex: "a164747970656663616e63656c00",
      expect: "accept",
      value: { type: "cancel" },
    })!,
    /trailing_bytes/,
  );
  // A non-canonical encoding claimed canonical: decode matches, encoding differs.
  assert.match(
    checkVector({
      ...base,
      hex: "a26474797065656865" + "6c6c6f64626f6479f6",
      kind: "wire_frame",
      expect: "accept",
      value: { type: "unknown" },
    })!,
    /./,
  );
  // strict_may_reject: a rejection is allowed.
  assert.equal(
    checkVector({
      ...base,
      canonical: false,
      hex: "a1647479706505",
      kind: "wire_frame",
      expect: "accept",
      value: { type: "unknown" },
      strict_may_reject: true,
    }),
    undefined,
  );
});

Deno.test("malformed lines and duplicate names are failures, blank lines are skipped", () => {
  const good = JSON.stringify({
    name: "x",
    kind: "wire_frame",
    expect: "reject",
    canonical: false,
    hex: "",
    note: "empty",
  });
  const report = checkVectorsText(
    [
      good,
      "",
      good,
      "{not json",
      JSON.stringify({
        name: "y",
        kind: "bogus",
        expect: "reject",
        canonical: false,
        hex: "",
        note: "n",
      }),
      JSON.stringify({
        name: "z",
        kind: "wire_frame",
        expect: "accept",
        canonical: false,
        hex: "",
        note: "n",
      }),
      JSON.stringify({
        name: "w",
        kind: "wire_frame",
        expect: "reject",
        canonical: false,
        hex: "0",
        note: "n",
      }),
      JSON.stringify({
        name: "v",
        kind: "wire_frame",
        expect: "reject",
        canonical: false,
        hex: "",
        note: "n",
        extra: 1,
      }),
    ].join("\n"),
  );
  assert.equal(report.passed, 1);
  assert.deepEqual(report.failures.map((f) => f.name), [
    "x",
    "line 4",
    "y",
    "z",
    "w",
    "v",
  ]);
});
