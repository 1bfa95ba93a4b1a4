import assert from "node:assert/strict";
import fc from "fast-check";
import {
  computeProof,
  constantTimeEqual,
  formatToken,
  parseToken,
  type ProofInput,
  verifyProof,
} from "./auth.ts";

const input: ProofInput = {
  binding: new Uint8Array(32).fill(1),
  joinerNonce: new Uint8Array(32).fill(2),
  seedNonce: new Uint8Array(32).fill(3),
  nodeId: "n1",
};

Deno.test("token_compare_constant_time_api: lengths and contents that differ fail", () => {
  const a = new Uint8Array([1, 2, 3]);
  assert.ok(constantTimeEqual(a, new Uint8Array([1, 2, 3])));
  assert.ok(!constantTimeEqual(a, new Uint8Array([1, 2])));
  assert.ok(!constantTimeEqual(a, new Uint8Array([1, 2, 3, 0])));
  assert.ok(!constantTimeEqual(a, new Uint8Array([1, 2, 4])));
  assert.ok(!constantTimeEqual(new Uint8Array(), a));
  assert.ok(constantTimeEqual(new Uint8Array(), new Uint8Array()));
  fc.assert(fc.property(fc.uint8Array(), fc.uint8Array(), (x, y) => {
    const same = x.length === y.length && x.every((v, i) => v === y[i]);
    assert.equal(constantTimeEqual(x, y), same);
  }));
});

Deno.test("token proof: verifies only with the same token, role, binding, nonces and node", () => {
  const t = new Uint8Array(32).fill(9);
  const proof = computeProof(t, "joiner", input);
  assert.ok(verifyProof(t, "joiner", input, proof));
  assert.ok(!verifyProof(new Uint8Array(32), "joiner", input, proof));
  assert.ok(!verifyProof(t, "seed", input, proof), "no reflection");
  // A man in the middle terminates TLS with another certificate: another binding.
  assert.ok(
    !verifyProof(t, "joiner", { ...input, binding: new Uint8Array(32) }, proof),
  );
  assert.ok(
    !verifyProof(
      t,
      "joiner",
      { ...input, seedNonce: new Uint8Array(32) },
      proof,
    ),
  );
  assert.ok(!verifyProof(t, "joiner", { ...input, nodeId: "n2" }, proof));
  assert.ok(!verifyProof(t, "joiner", input, proof.subarray(0, 31)));
});

Deno.test("auto_token_random_and_usable: printed form round-trips; parse errors never echo input", () => {
  const a = crypto.getRandomValues(new Uint8Array(32));
  const b = crypto.getRandomValues(new Uint8Array(32));
  assert.notDeepEqual(a, b);
  const printed = formatToken(a);
  assert.match(printed, /^loomtok1\.[A-Za-z0-9_-]{43}$/);
  assert.deepEqual(parseToken(`  ${printed}\n`), a);
  const secret = "loomtok1.SECRETSECRETSECRETSECRETSECRETSECRETSEC!";
  try {
    parseToken(secret);
    assert.fail("should throw");
  } catch (e) {
    assert.equal((e as { code: string }).code, "invalid_token");
    assert.ok(!(e as Error).message.includes("SECRET"));
  }
  for (
    const bad of ["", "abc", "loomtok1.", printed.slice(0, -1), printed + "A"]
  ) {
    assert.throws(
      () => parseToken(bad),
      (e: unknown) => (e as { code: string }).code === "invalid_token",
    );
  }
  assert.throws(() => formatToken(new Uint8Array(31)));
  fc.assert(
    fc.property(fc.uint8Array({ minLength: 32, maxLength: 32 }), (t) => {
      assert.deepEqual(parseToken(formatToken(t)), t);
    }),
  );
});
