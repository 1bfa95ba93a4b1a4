import assert from "node:assert/strict";
import { encodeLengthPrefixedFrame, FrameDecoder } from "./frame.ts";
import { decodeWireFrame, encodeWireFrame } from "./codec.ts";
import { LimitExceededError, ProtocolError } from "./errors.ts";
import { DEFAULT_PRE_HANDSHAKE_MAX_FRAME_LEN } from "./limits.ts";
import type { WireFrame } from "./types.ts";
import { fromWireJson, hexToBytes, type JsonValue } from "./wire_json.ts";
import { allChunkings, concat } from "../testing/split.ts";

const transcript = (() => {
  const text = Deno.readTextFileSync(
    new URL("../../conformance/vectors/v3_reference.jsonl", import.meta.url),
  );
  const line = text.split("\n").find((l) =>
    l.includes('"T1_T10_session_transcript"')
  )!;
  const vector = JSON.parse(line) as { hex: string; value: JsonValue[] };
  return {
    bytes: hexToBytes(vector.hex),
    frames: vector.value.map((v) => fromWireJson(v) as WireFrame),
  };
})();

function drain(decoder: FrameDecoder, chunks: Uint8Array[]): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (const chunk of chunks) {
    decoder.push(chunk);
    for (let f = decoder.next(); f !== undefined; f = decoder.next()) {
      out.push(f);
    }
  }
  return out;
}

Deno.test("encodeLengthPrefixedFrame writes the u32 LE length then the CBOR", () => {
  const frame: WireFrame = {
    type: "reject",
    body: { code: "internal", message: "x".repeat(300) },
  };
  const bytes = encodeLengthPrefixedFrame(frame);
  const cbor = encodeWireFrame(frame);
  assert.equal(bytes.length, cbor.length + 4);
  assert.equal(
    new DataView(bytes.buffer, bytes.byteOffset).getUint32(0, true),
    cbor.length,
  );
  assert.deepEqual(bytes.subarray(4), cbor);
});

Deno.test("the T1-T10 transcript decodes the same whole, byte by byte and split at every offset", () => {
  const encoded = concat(transcript.frames.map(encodeLengthPrefixedFrame));
  assert.deepEqual(encoded, transcript.bytes);
  let runs = 0;
  for (const { label, chunks } of allChunkings(transcript.bytes)) {
    const decoder = new FrameDecoder();
    const frames = drain(decoder, chunks).map(decodeWireFrame);
    decoder.end();
    assert.deepStrictEqual(frames, transcript.frames, label);
    assert.equal(decoder.bufferedBytes, 0);
    runs++;
  }
  assert.equal(runs, transcript.bytes.length + 3);
});

Deno.test("a header over the limit fails at header time, before any payload", () => {
  const decoder = new FrameDecoder({ maxFrameLen: 100 });
  decoder.push(new Uint8Array([101, 0, 0]));
  assert.equal(decoder.next(), undefined);
  decoder.push(new Uint8Array([0]));
  let err: unknown;
  try {
    decoder.next();
  } catch (e) {
    err = e;
  }
  assert.ok(err instanceof LimitExceededError);
  assert.equal(err.code, "frame_too_large");
  assert.equal(err.max, 100);
  assert.equal(err.actual, 101);
  // The decoder stays failed.
  assert.throws(() => decoder.next(), LimitExceededError);
  assert.throws(() => decoder.push(new Uint8Array(1)), LimitExceededError);
});

Deno.test("a frame exactly at the limit passes; the default limit is 1 MiB", () => {
  assert.equal(
    new FrameDecoder().maxFrameLen,
    DEFAULT_PRE_HANDSHAKE_MAX_FRAME_LEN,
  );
  const frame = encodeLengthPrefixedFrame({ type: "unknown" });
  const decoder = new FrameDecoder({ maxFrameLen: frame.length - 4 });
  assert.equal(drain(decoder, [frame]).length, 1);
  decoder.maxFrameLen = frame.length - 5;
  assert.throws(
    () => drain(decoder, [frame]),
    (e) => e instanceof ProtocolError && e.code === "frame_too_large",
  );
});

Deno.test("the limit can be raised after the handshake", () => {
  const big = encodeLengthPrefixedFrame({
    type: "reject",
    body: { code: "internal", message: "m".repeat(2000) },
  });
  const decoder = new FrameDecoder({ maxFrameLen: 1024 });
  const small = encodeLengthPrefixedFrame({ type: "unknown" });
  assert.equal(drain(decoder, [small]).length, 1);
  decoder.maxFrameLen = 1 << 16;
  assert.equal(drain(decoder, [big]).length, 1);
  assert.throws(() => (decoder.maxFrameLen = -1), RangeError);
  assert.throws(() => (decoder.maxFrameLen = 2 ** 32), RangeError);
  assert.throws(() => new FrameDecoder({ maxFrameLen: 1.5 }), RangeError);
});

Deno.test("a zero-length frame is returned empty and fails to decode with unexpected_eof", () => {
  const decoder = new FrameDecoder();
  const frames = drain(decoder, [new Uint8Array(4)]);
  assert.equal(frames.length, 1);
  assert.equal(frames[0].length, 0);
  assert.throws(
    () => decodeWireFrame(frames[0]),
    (e) => e instanceof ProtocolError && e.code === "unexpected_eof",
  );
  decoder.end();
});

Deno.test("end() inside a frame is unexpected_eof, for every cut point", () => {
  const frame = encodeLengthPrefixedFrame({ type: "unknown" });
  for (let cut = 1; cut < frame.length; cut++) {
    const decoder = new FrameDecoder();
    assert.equal(drain(decoder, [frame.subarray(0, cut)]).length, 0);
    assert.throws(
      () => decoder.end(),
      (e) => e instanceof ProtocolError && e.code === "unexpected_eof",
    );
  }
  const decoder = new FrameDecoder();
  drain(decoder, [frame]);
  decoder.end();
});

Deno.test("memory follows received bytes, not the declared length", () => {
  const decoder = new FrameDecoder({ maxFrameLen: 0xffff_ffff });
  decoder.push(new Uint8Array([0xff, 0xff, 0xff, 0xff, 1, 2, 3]));
  assert.equal(decoder.next(), undefined);
  assert.equal(decoder.bufferedBytes, 3);
  assert.throws(() => decoder.end(), ProtocolError);
});

Deno.test("pushed chunks are copied", () => {
  const frame = encodeLengthPrefixedFrame({ type: "unknown" });
  const chunk = frame.slice();
  const decoder = new FrameDecoder();
  decoder.push(chunk);
  chunk.fill(0);
  const out = decoder.next();
  assert.ok(out !== undefined);
  assert.deepEqual(decodeWireFrame(out), { type: "unknown" });
});

Deno.test("end() before draining keeps whole frames available", () => {
  const a = encodeLengthPrefixedFrame({ type: "unknown" });
  const b = encodeLengthPrefixedFrame({
    type: "reject",
    body: { code: "internal", message: "x" },
  });
  const stream = concat([a, b]);
  for (const { label, chunks } of allChunkings(stream)) {
    const decoder = new FrameDecoder();
    const got: Uint8Array[] = [];
    for (const chunk of chunks) decoder.push(chunk);
    decoder.end();
    for (let f = decoder.next(); f !== undefined; f = decoder.next()) {
      got.push(f);
    }
    assert.equal(got.length, 2, label);
  }
  // Part-way: the first frame drained, the prefix of the second half read.
  const decoder = new FrameDecoder();
  decoder.push(stream.subarray(0, a.length + 2));
  assert.ok(decoder.next() !== undefined);
  assert.equal(decoder.next(), undefined);
  assert.throws(() => decoder.end(), ProtocolError);
});
