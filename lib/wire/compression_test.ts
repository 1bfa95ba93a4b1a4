import assert from "node:assert/strict";
import { compressorSupports, noCompression } from "./compression.ts";
import { isLegacyWorkerHello, LEGACY_ONLY_V3_REPLY } from "./_legacy.ts";
import { hexToBytes } from "./wire_json.ts";

Deno.test("noCompression supports only none and refuses to (de)compress", () => {
  assert.ok(compressorSupports(noCompression, "none"));
  assert.ok(!compressorSupports(noCompression, "zstd"));
  assert.ok(!compressorSupports(undefined, "zstd"));
  assert.ok(!compressorSupports(noCompression, "unknown"));
  assert.throws(() => noCompression.compress("zstd", new Uint8Array(1)), {
    code: "unsupported_compression",
  });
  assert.throws(() => noCompression.decompress("zstd", new Uint8Array(1), 9), {
    code: "unsupported_compression",
  });
});

Deno.test("legacy hello detection matches the digest's encodings", () => {
  const body = (hex: string) => hexToBytes(hex).subarray(4);
  assert.ok(isLegacyWorkerHello(body("0700000000070000000000")));
  assert.ok(
    isLegacyWorkerHello(
      body("150000000001000000010a000000746573742d746f6b656e01"),
    ),
  );
  // Other legacy messages and malformed hellos are not hellos.
  assert.ok(!isLegacyWorkerHello(body("010000000a")));
  assert.ok(!isLegacyWorkerHello(body("0c0000000803000000666f6f0a000000")));
  assert.ok(!isLegacyWorkerHello(Uint8Array.of(0, 7, 0, 0, 0, 0, 2)));
  assert.ok(!isLegacyWorkerHello(Uint8Array.of(0, 7, 0, 0, 0, 2, 0)));
  assert.ok(!isLegacyWorkerHello(Uint8Array.of(0, 7, 0, 0, 0, 0, 0, 0)));
  assert.ok(
    !isLegacyWorkerHello(Uint8Array.of(0, 7, 0, 0, 0, 1, 9, 0, 0, 0, 0x61, 0)),
  );
  assert.ok(
    !isLegacyWorkerHello(Uint8Array.of(0, 7, 0, 0, 0, 1, 1, 0, 0, 0, 0xff, 0)),
  );
  assert.equal(
    [...LEGACY_ONLY_V3_REPLY].map((b) => b.toString(16).padStart(2, "0")).join(
      "",
    ),
    "1c0000000c17000000726f75746572206f6e6c7920737570706f727473207633",
  );
});
