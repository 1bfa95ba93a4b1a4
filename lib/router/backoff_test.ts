import assert from "node:assert/strict";
import fc from "fast-check";
import { backoffDelay, jitterFor, RestartBackoff } from "./backoff.ts";

Deno.test("restart backoff exponentially increases until capped", () => {
  const b = new RestartBackoff({ random: () => 0 });
  const seq = Array.from({ length: 9 }, () => b.nextDelay());
  assert.deepEqual(seq, [50, 100, 200, 400, 800, 1600, 3200, 5000, 5000]);
});

Deno.test("restart backoff can be reset after success", () => {
  const b = new RestartBackoff({ random: () => 0 });
  b.nextDelay();
  b.nextDelay();
  b.reset();
  assert.equal(b.nextDelay(), 50);
});

Deno.test("only a session of >= 10 s resets the backoff", () => {
  const b = new RestartBackoff({ random: () => 0 });
  b.nextDelay();
  b.nextDelay();
  b.connected(0);
  assert.equal(b.disconnected(9_999), false);
  assert.equal(b.nextDelay(), 200);
  b.connected(20_000);
  assert.equal(b.disconnected(30_000), true);
  assert.equal(b.nextDelay(), 50);
  // A disconnect without a recorded connection never resets.
  assert.equal(b.disconnected(1e9), false);
  assert.equal(b.attempt, 1);
});

Deno.test("jitter is 0-25 % whole milliseconds from the injected source", () => {
  assert.equal(jitterFor(5000, () => 0.9999999), 1250);
  assert.equal(jitterFor(50, () => 0.9999999), 12);
  assert.equal(jitterFor(50, () => NaN), 0);
  assert.equal(jitterFor(50, () => 1), 0);
  assert.equal(jitterFor(50, () => -0.1), 0);
  fc.assert(
    fc.property(
      fc.nat(20),
      fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
      (attempt, x) => {
        const base = backoffDelay(attempt);
        const b = new RestartBackoff({ random: () => x });
        for (let i = 0; i < attempt; i++) b.nextDelay();
        const d = b.nextDelay();
        assert.ok(Number.isInteger(d));
        assert.ok(d >= base && d <= base + Math.floor(base / 4));
      },
    ),
  );
});

Deno.test("backoff options are validated", () => {
  assert.throws(() => new RestartBackoff({ initialMs: -1 }), RangeError);
  assert.throws(
    () => new RestartBackoff({ initialMs: 10, maxMs: 5 }),
    RangeError,
  );
  assert.throws(() => new RestartBackoff({ resetAfterMs: NaN }), RangeError);
  assert.throws(() => backoffDelay(-1), RangeError);
  assert.equal(backoffDelay(3, { initialMs: 10, maxMs: 1000 }), 80);
  assert.equal(backoffDelay(1e6), 5000);
});
