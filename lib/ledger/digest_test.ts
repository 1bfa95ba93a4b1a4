import assert from "node:assert/strict";
import { RedactedDigest } from "./digest.ts";

/** The worked values of the reference digest (label, payload, display). */
const GOLDEN: [string, Uint8Array | string, string][] = [
  ["shard_id", "test", "len=4,hash=1e961241f14ef9dd"],
  ["rule_name", "abcd", "len=4,hash=ed7b89c82cef5c65"],
  ["rule_name", "wxyz", "len=4,hash=6b0f8e76a4457598"],
  ["object_path", "abcd", "len=4,hash=c1c40112467021f5"],
  ["shard_id", "abc", "len=3,hash=26b99047539f59f6"],
  ["field", "hello", "len=5,hash=6a1c76689b9667ea"],
  ["field", "", "len=0,hash=10af8b6119f6ee58"],
  ["field", new Uint8Array([1]), "len=1,hash=7a309bb0e0641582"],
  ["shard_id", "core-shard", "len=10,hash=fce588fdf7060e68"],
  ["item_key", "item-key", "len=8,hash=69004c4e51448d62"],
  ["tenant_id", new Uint8Array(32).fill(0x11), "len=32,hash=22861e2b77b80df7"],
  [
    "policy_hash",
    new Uint8Array(32).fill(0x22),
    "len=32,hash=3cfaf763f3cf87ae",
  ],
];

for (const [label, payload, display] of GOLDEN) {
  Deno.test(`digest golden: ${label} ${display}`, () => {
    const d = typeof payload === "string"
      ? RedactedDigest.text(label, payload)
      : RedactedDigest.bytes(label, payload);
    assert.equal(d.toString(), display);
    assert.equal(JSON.stringify({ d }), `{"d":"${display}"}`);
    assert.equal(Deno.inspect(d), `RedactedDigest(${display})`);
  });
}

Deno.test("digest: text and bytes forms agree", () => {
  const text = "näive";
  assert.ok(
    RedactedDigest.text("f", text).equals(
      RedactedDigest.bytes("f", new TextEncoder().encode(text)),
    ),
  );
});

Deno.test("digest: same length different content, and labels separate", () => {
  const a = RedactedDigest.text("rule_name", "abcd");
  const b = RedactedDigest.text("rule_name", "wxyz");
  const c = RedactedDigest.text("object_path", "abcd");
  assert.equal(a.len, b.len);
  assert.notEqual(a.hash64, b.hash64);
  assert.notEqual(a.hash64, c.hash64);
});

Deno.test("digest: display is len=N,hash= plus 16 hex digits", () => {
  const d = RedactedDigest.text("shard_id", "test");
  assert.ok(d.toString().startsWith("len=4,hash="));
  assert.equal(d.toString().length, 11 + 16);
  assert.equal(RedactedDigest.text("x", "y").hashHex.length, 16);
});
