import assert from "node:assert/strict";
import * as zlib from "node:zlib";
import { isProtocolError } from "../wire/errors.ts";
import { nodeZstdCompressor } from "./zstd.ts";

Deno.test("nodeZstdCompressor round-trips zstd and none", () => {
  const text = new TextEncoder().encode(
    "class A { void f() {} }\n".repeat(500),
  );
  const packed = nodeZstdCompressor.compress("zstd", text);
  assert.ok(packed.length < text.length / 10);
  assert.deepEqual(
    nodeZstdCompressor.decompress("zstd", packed, text.length),
    text,
  );
  assert.equal(nodeZstdCompressor.compress("none", text), text);
  assert.equal(nodeZstdCompressor.decompress("none", text, text.length), text);
  assert.deepEqual(nodeZstdCompressor.algorithms, ["zstd"]);
});

Deno.test("nodeZstdCompressor rejects a zstd bomb at the bound", () => {
  // 64 MiB of zeros compress to about 2 KiB.
  const bomb = zlib.zstdCompressSync(new Uint8Array(64 << 20));
  assert.ok(bomb.length < 8192);
  const before = Deno.memoryUsage().rss;
  assert.throws(
    () => nodeZstdCompressor.decompress("zstd", bomb, 1 << 20),
    (err) => isProtocolError(err, "packet_too_large"),
  );
  // Far less than the 64 MiB the bomb expands to was produced.
  assert.ok(Deno.memoryUsage().rss - before < 32 << 20);
});

Deno.test("nodeZstdCompressor reports corrupt input as decompression_failed", () => {
  assert.throws(
    () =>
      nodeZstdCompressor.decompress("zstd", new Uint8Array([1, 2, 3, 4]), 100),
    (err) => isProtocolError(err, "decompression_failed"),
  );
});

Deno.test("nodeZstdCompressor refuses unknown algorithms and oversized none", () => {
  assert.throws(
    () => nodeZstdCompressor.compress("unknown", new Uint8Array(1)),
    (err) => isProtocolError(err, "unsupported_compression"),
  );
  assert.throws(
    () => nodeZstdCompressor.decompress("unknown", new Uint8Array(1), 10),
    (err) => isProtocolError(err, "unsupported_compression"),
  );
  assert.throws(
    () => nodeZstdCompressor.decompress("none", new Uint8Array(11), 10),
    (err) => isProtocolError(err, "packet_too_large"),
  );
  assert.throws(
    () => nodeZstdCompressor.decompress("zstd", new Uint8Array(11), 10),
    (err) => isProtocolError(err, "packet_too_large"),
  );
});
