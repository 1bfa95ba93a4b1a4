import assert from "node:assert/strict";
import {
  bytesToHex,
  fromWireJson,
  hexToBytes,
  toWireJson,
} from "./wire_json.ts";

Deno.test("hex round-trips and rejects malformed input", () => {
  const bytes = new Uint8Array([0, 1, 127, 128, 255]);
  assert.equal(bytesToHex(bytes), "00017f80ff");
  assert.deepEqual(hexToBytes("00017F80ff"), bytes);
  assert.deepEqual(hexToBytes(""), new Uint8Array());
  for (const bad of ["0", "zz", "0x00", " 00"]) {
    assert.throws(() => hexToBytes(bad), TypeError);
  }
});

Deno.test("u64 values use $u64 only above 2^53 - 1", () => {
  assert.equal(toWireJson(Number.MAX_SAFE_INTEGER), Number.MAX_SAFE_INTEGER);
  assert.equal(toWireJson(7n), 7);
  assert.deepEqual(toWireJson(2n ** 53n), { $u64: "9007199254740992" });
  assert.deepEqual(toWireJson(2n ** 64n - 1n), {
    $u64: "18446744073709551615",
  });
  assert.strictEqual(fromWireJson({ $u64: "9007199254740992" }), 2n ** 53n);
  assert.strictEqual(fromWireJson({ $u64: "5" }), 5);
  for (
    const bad of [
      { $u64: "-1" },
      { $u64: "01" },
      { $u64: "18446744073709551616" },
      { $u64: 5 },
      { $x: 1 },
    ]
  ) {
    assert.throws(() => fromWireJson(bad as never), TypeError);
  }
  for (const bad of [-1, 1.5, 2 ** 53, -1n, 2n ** 64n, undefined, () => 1]) {
    assert.throws(() => toWireJson(bad), TypeError);
  }
});

Deno.test("objects keep key order, including __proto__ as a plain key", () => {
  const json = JSON.parse(
    '{"z":1,"a":{"$bytes":"ff"},"__proto__":[true,null,"s"]}',
  );
  const value = fromWireJson(json) as Record<string, unknown>;
  assert.deepEqual(Object.keys(value), ["z", "a", "__proto__"]);
  assert.equal(Object.getPrototypeOf(value), Object.prototype);
  assert.equal(JSON.stringify(toWireJson(value)), JSON.stringify(json));
});
