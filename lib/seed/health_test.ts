import assert from "node:assert/strict";
import { FailureDetector, hasQuorum } from "./health.ts";

Deno.test("silent_peer_detected_by_receive_timeout (pure): dead after the timeout, reported once", () => {
  const fd = new FailureDetector({ intervalMs: 100, timeoutMs: 1000 });
  fd.setPeers(1, ["a", "b"], 0);
  for (let t = 0; t <= 2000; t += 100) {
    fd.received("a", t);
    const p = fd.poll(t);
    if (t < 1000) assert.deepEqual(p.dead, [], `t=${t}`);
    if (t === 1000) assert.deepEqual(p.dead, ["b"]);
    if (t > 1000) assert.deepEqual(p.dead, []);
  }
  assert.ok(fd.isDead("b") && !fd.isDead("a"));
  assert.equal(fd.silenceMs("a", 2000), 0);
  // Heard from again: alive, and reported again after a new silence.
  fd.received("b", 2100);
  assert.ok(!fd.isDead("b"));
  assert.deepEqual(fd.poll(3100).dead, ["a", "b"]);
});

Deno.test("health: heartbeats are due per peer every interval, independently", () => {
  const fd = new FailureDetector({ intervalMs: 100, timeoutMs: 1000 });
  fd.setPeers(1, ["a"], 0);
  assert.deepEqual(fd.poll(0).heartbeatsDue, ["a"]);
  assert.deepEqual(fd.poll(50).heartbeatsDue, []);
  assert.deepEqual(fd.poll(100).heartbeatsDue, ["a"]);
  fd.setPeers(2, ["a", "c"], 120);
  assert.deepEqual(fd.poll(120).heartbeatsDue, ["c"]);
  assert.equal(fd.nextDeadline(), 200);
});

Deno.test("health: monitors follow the generation (new peers fresh, removed peers forgotten)", () => {
  const fd = new FailureDetector({ intervalMs: 100, timeoutMs: 500 });
  fd.setPeers(1, ["a", "b"], 0);
  fd.setPeers(2, ["b", "c"], 400);
  assert.equal(fd.generation, 2);
  assert.deepEqual(fd.peers.sort(), ["b", "c"]);
  const p = fd.poll(600);
  assert.deepEqual(p.dead, ["b"]); // b kept its old silence; c started at 400
  assert.ok(!fd.isDead("c"));
  assert.equal(fd.silenceMs("a", 600), undefined);
  assert.throws(() => new FailureDetector({ intervalMs: 0 }), RangeError);
  assert.ok(
    fd.poll(700).heartbeatsDue.includes("b"),
    "dead peers still get heartbeats",
  );
  fd.setPeers(3, [], 700);
  assert.equal(fd.nextDeadline(), undefined);
});

Deno.test("health: quorum is a strict majority of the last agreed membership", () => {
  assert.ok(hasQuorum(1, 1));
  assert.ok(!hasQuorum(2, 1));
  assert.ok(hasQuorum(3, 2));
  assert.ok(!hasQuorum(4, 2));
  assert.ok(hasQuorum(5, 3));
});
