import assert from "node:assert/strict";
import fc from "fast-check";
import {
  crc16Xmodem,
  fnv1aU16Mod,
  fnv1aU64,
  fnv1aXor8Hex,
  scanCursorSeed,
} from "./hash.ts";

/** A second FNV-1a 64: the prime as 2^40 + 0x1b3 (shift-and-add). */
function fnvLimbs(bytes: Uint8Array): bigint {
  let h = 0xcbf29ce484222325n;
  for (const b of bytes) {
    h ^= BigInt(b);
    h = BigInt.asUintN(64, (h << 40n) + h * 0x1b3n);
  }
  return h;
}

Deno.test("fnv1a_empty_is_offset_basis", () => {
  assert.deepStrictEqual(fnv1aU64(""), 0xcbf29ce484222325n);
});

Deno.test("worked values of fnv1a_u64 and fnv1a_xor8hex (§1.3)", () => {
  const table: [string, bigint, string][] = [
    ["", 0xcbf29ce484222325n, "4fd0bfc1"],
    ["gpu", 0xd5235618fae1fad5n, "2fc2accd"],
    ["cuda,gpu", 0xcb7518f80227be3cn, "c952a6c4"],
    ["gpu,cuda", 0x32511bb2804b7648n, "b21a6dfa"],
  ];
  for (const [input, u64, hex] of table) {
    assert.deepStrictEqual(fnv1aU64(input), u64, input);
    assert.deepStrictEqual(fnv1aXor8Hex(input), hex, input);
  }
});

Deno.test("fnv1a_stable: 8 characters, same on every call", () => {
  const a = fnv1aXor8Hex("gpu,cuda");
  assert.deepStrictEqual(a.length, 8);
  assert.deepStrictEqual(fnv1aXor8Hex("gpu,cuda"), a);
});

Deno.test("fnv1a_u16_mod and scan_cursor_seed worked values", () => {
  assert.deepStrictEqual(fnv1aU16Mod("worker-a", 256), 253);
  assert.deepStrictEqual(fnv1aU16Mod("worker-b", 256), 228);
  assert.deepStrictEqual(fnv1aU16Mod("w1", 256), 5);
  assert.deepStrictEqual(fnv1aU16Mod("w2", 256), 236);
  assert.deepStrictEqual(scanCursorSeed("worker-a", 256), 253);
  assert.deepStrictEqual(scanCursorSeed("worker-b", 256), 228);
  assert.deepStrictEqual(scanCursorSeed("w1", 256), 5);
  assert.deepStrictEqual(scanCursorSeed("w2", 256), 236);
  // They differ when n does not divide 65536.
  assert.deepStrictEqual(fnv1aU16Mod("worker-a", 100), 97);
  assert.deepStrictEqual(scanCursorSeed("worker-a", 100), 65);
});

Deno.test("fnv1a_u16_mod_spread: below the modulus, 0 for modulus 0", () => {
  for (let i = 0; i < 500; i++) {
    const v = fnv1aU16Mod(`w-${i}`, 256);
    assert.deepStrictEqual(v >= 0 && v < 256, true);
  }
  assert.deepStrictEqual(fnv1aU16Mod("x", 0), 0);
  assert.deepStrictEqual(scanCursorSeed("x", 0), 0);
});

Deno.test("crc16 check value and solo-lane partitions", () => {
  assert.deepStrictEqual(crc16Xmodem("123456789"), 0x31c3);
  assert.deepStrictEqual(crc16Xmodem("default"), 0xd656);
  assert.deepStrictEqual(crc16Xmodem("default") % 256, 86);
  assert.deepStrictEqual(crc16Xmodem("workers-a") % 256, 193);
  assert.deepStrictEqual(crc16Xmodem("main") % 256, 213);
});

Deno.test("property: fnv1aU64 equals an independent limb implementation", () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
      assert.deepStrictEqual(fnv1aU64(bytes), fnvLimbs(bytes));
    }),
    { numRuns: 300 },
  );
  fc.assert(
    fc.property(fc.string({ unit: "grapheme" }), (s) => {
      assert.deepStrictEqual(
        fnv1aXor8Hex(s),
        (() => {
          const h = fnvLimbs(new TextEncoder().encode(s));
          return ((h ^ (h >> 32n)) & 0xffffffffn).toString(16).padStart(8, "0");
        })(),
      );
    }),
    { numRuns: 200 },
  );
});
