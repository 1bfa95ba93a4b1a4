// Protocol 3.1 `append` flag on load_files / index_shard: encoding, decoding
// whole, byte by byte and split at every offset, and 3.0 byte identity.
import assert from "node:assert/strict";
import { decodeRpcPayload, encodeRpcPayload } from "./codec.ts";
import { decodeWireFrame } from "./codec.ts";
import { encodeFrame, FrameDecoder } from "./frame.ts";
import { ProtocolError } from "./errors.ts";
import { allChunkings } from "../testing/split.ts";
import type { Request, RpcPayload } from "./types.ts";

const files = [{ path: "A.java", text: "class A {}" }];
const text = (s: string): number[] => {
  const b = [...new TextEncoder().encode(s)];
  return [0x60 + b.length, ...b];
};

const CASES: Extract<Request, { type: "load_files" | "index_shard" }>[] = [
  { type: "load_files", revision: 7, files, append: true },
  { type: "load_files", revision: 7, files, append: false },
  { type: "index_shard", revision: 7, files, append: true },
  { type: "index_shard", revision: 7, files, omit_symbols: true, append: true },
];

Deno.test("append: keys in order, last, and a round trip split at every offset", () => {
  for (const body of CASES) {
    const payload: RpcPayload = { type: "request", body };
    const bytes = encodeRpcPayload(payload);
    // {"type":"request","body":{... "append": bool}} with append last.
    const tail = [...text("append"), body.append ? 0xf5 : 0xf4];
    assert.deepEqual([...bytes.slice(-tail.length)], tail);
    const stream = encodeFrame({
      type: "packet",
      body: { id: 2, compression: "none", data: bytes },
    });
    for (const { label, chunks } of allChunkings(stream)) {
      const decoder = new FrameDecoder();
      let got: RpcPayload | undefined;
      for (const chunk of chunks) {
        decoder.push(chunk);
        const f = decoder.next();
        if (f !== undefined) {
          const frame = decodeWireFrame(f);
          assert.ok(frame.type === "packet");
          got = decodeRpcPayload(frame.body.data);
        }
      }
      assert.deepEqual(got, payload, label);
    }
  }
});

Deno.test("append: absent is byte-identical to 3.0; null decodes as absent; a non-bool is refused", () => {
  const plain = encodeRpcPayload({
    type: "request",
    body: { type: "load_files", revision: 1, files },
  });
  const undef = encodeRpcPayload({
    type: "request",
    body: { type: "load_files", revision: 1, files, append: undefined },
  });
  assert.deepEqual(undef, plain);
  const withFlag = encodeRpcPayload({
    type: "request",
    body: { type: "load_files", revision: 1, files, append: true },
  });
  // Map header a3 -> a4 and the trailing entry; the rest is unchanged.
  const nulled = withFlag.slice();
  nulled[nulled.length - 1] = 0xf6;
  const decoded = decodeRpcPayload(nulled);
  assert.ok(decoded.type === "request" && decoded.body.type === "load_files");
  assert.equal(decoded.body.append, undefined);
  const bad = withFlag.slice();
  bad[bad.length - 1] = 0x01;
  assert.throws(() => decodeRpcPayload(bad), ProtocolError);
  // A duplicate append key is refused: one more pair, the header bumped.
  const tail = [...text("append"), 0xf5];
  const dup = new Uint8Array([...withFlag, ...tail]);
  // {"type":"request","body": <request map>}: its head follows 19 bytes.
  const header = 1 + 5 + 8 + 5;
  assert.equal(dup[header], 0xa4);
  dup[header] = 0xa5;
  assert.throws(() => decodeRpcPayload(dup), /duplicate field `append`/);
});
