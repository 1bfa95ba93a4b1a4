import assert from "node:assert/strict";
import fc from "fast-check";
import { type CheckpointProposal, Membership } from "./membership.ts";

function formed(n: number, max = n + 4): Membership {
  const m = new Membership({ expectedWorldSize: n, maxWorldSize: max });
  for (let i = 0; i < n; i++) m.admit(`n${i}`, `h:${i}`);
  const p = m.propose() as CheckpointProposal;
  for (const id of p.participants) m.ack(id, p.generation);
  return m;
}

function commitAll(m: Membership): void {
  const p = m.propose() as CheckpointProposal;
  assert.ok(p !== undefined && "generation" in p);
  for (const id of p.participants) m.ack(id, p.generation);
}

Deno.test("formation_assigns_dense_ranks (pure): ranks 0..N-1 in admission order", () => {
  const m = formed(4);
  assert.equal(m.phase, "running");
  assert.deepEqual(m.peers.map((p) => [p.rank, p.nodeId]), [
    [0, "n0"],
    [1, "n1"],
    [2, "n2"],
    [3, "n3"],
  ]);
  assert.equal(m.generation, 1);
});

Deno.test("elastic_join_queued_until_checkpoint (pure): rank ≥ N, pending, member count unchanged", () => {
  const m = formed(3);
  assert.deepEqual(m.admit("x", "h:9"), { rank: 3 });
  assert.equal(m.members.length, 3);
  assert.equal(m.propose(), undefined, "not acked yet: nothing to apply");
  m.welcomed("x");
  commitAll(m);
  assert.equal(m.members.length, 4);
  assert.equal(m.rankOf("x"), 3);
  assert.equal(m.generation, 2);
});

Deno.test("elastic_max_world_size (pure): live + pending count; refusal uses no rank", () => {
  const m = formed(2, 3);
  assert.deepEqual(m.admit("x", "h"), { rank: 2 });
  assert.deepEqual(m.admit("y", "h"), { refused: "full" });
  assert.deepEqual(m.admit("n0", "h"), { refused: "duplicate" });
  m.release("x");
  assert.deepEqual(m.admit("y", "h"), { rank: 2 });
});

Deno.test("elastic_failed_welcome_releases_rank (pure): the next joiner gets the rank", () => {
  const m = formed(2, 5);
  assert.deepEqual(m.admit("a", "h"), { rank: 2 });
  assert.deepEqual(m.admit("b", "h"), { rank: 3 });
  assert.ok(m.release("a"));
  assert.equal(m.rankOf("b"), 2);
  assert.deepEqual(m.admit("c", "h"), { rank: 3 });
  assert.ok(!m.release("zzz"));
});

Deno.test("concurrent_joins_unique_ranks (pure): 50 joins give unique dense ranks", () => {
  const m = formed(2, 100);
  const ranks = Array.from({ length: 50 }, (_, i) => m.admit(`j${i}`, "h"))
    .map((r) => (r as { rank: number }).rank);
  assert.deepEqual(ranks, Array.from({ length: 50 }, (_, i) => i + 2));
  for (let i = 0; i < 50; i++) m.welcomed(`j${i}`);
  commitAll(m);
  assert.deepEqual(
    m.peers.map((p) => p.rank),
    Array.from({ length: 52 }, (_, i) => i),
  );
});

Deno.test("leave_renumbers_and_notifies (pure): survivors keep order, ranks dense", () => {
  const m = formed(4);
  m.leave("n1");
  const p = m.propose() as CheckpointProposal;
  assert.deepEqual(p.leaving, ["n1"]);
  assert.deepEqual(p.participants, ["n0", "n2", "n3"]);
  for (const id of p.participants) m.ack(id, p.generation);
  assert.deepEqual(m.peers.map((e) => [e.rank, e.nodeId]), [[0, "n0"], [
    1,
    "n2",
  ], [2, "n3"]]);
});

Deno.test("recovery_requires_quorum (pure): a minority does not rebuild, a majority does", () => {
  const minority = formed(5);
  minority.fail("n0");
  minority.fail("n1");
  minority.fail("n2");
  assert.deepEqual(minority.propose(), { blocked: "no_quorum" });
  assert.equal(minority.members.length, 5);
  const majority = formed(5);
  majority.fail("n3");
  majority.fail("n4");
  commitAll(majority);
  assert.deepEqual(majority.peers.map((p) => p.nodeId), ["n0", "n1", "n2"]);
});

Deno.test("membership: a participant failing mid-checkpoint aborts it; the retry excludes it", () => {
  const m = formed(3, 5);
  m.admit("x", "h");
  m.welcomed("x");
  const p = m.propose() as CheckpointProposal;
  m.ack("n0", p.generation);
  m.fail("n1");
  assert.equal(m.proposal, undefined);
  assert.equal(m.ack("n2", p.generation), undefined, "stale ack ignored");
  const q = m.propose() as CheckpointProposal;
  assert.ok(q.generation > p.generation);
  assert.deepEqual(q.failed, ["n1"]);
  for (const id of q.participants) m.ack(id, q.generation);
  assert.deepEqual(m.peers.map((e) => e.nodeId), ["n0", "n2", "x"]);
});

Deno.test("membership: formation retries with a fresh generation when a joiner drops", () => {
  const m = new Membership({ expectedWorldSize: 2 });
  m.admit("a", "h");
  m.admit("b", "h");
  const p = m.propose() as CheckpointProposal;
  m.ack("a", p.generation);
  m.release("b");
  assert.equal(m.phase, "forming");
  assert.equal(m.propose(), undefined);
  m.admit("c", "h");
  const q = m.propose() as CheckpointProposal;
  assert.ok(q.formation && q.generation > p.generation);
  m.ack("a", q.generation);
  m.ack("c", q.generation);
  assert.deepEqual(m.peers.map((e) => e.nodeId), ["a", "c"]);
  m.close();
  assert.deepEqual(m.admit("z", "h"), { refused: "closed" });
  assert.throws(() => new Membership({ expectedWorldSize: 0 }), RangeError);
  assert.throws(
    () => new Membership({ expectedWorldSize: 3, maxWorldSize: 2 }),
    RangeError,
  );
});

Deno.test("membership: property: ranks stay dense and unique under any sequence of operations", () => {
  fc.assert(fc.property(
    fc.array(
      fc.tuple(
        fc.constantFrom(
          "admit",
          "ack",
          "release",
          "leave",
          "fail",
          "checkpoint",
        ),
        fc.integer({ min: 0, max: 9 }),
      ),
      { maxLength: 60 },
    ),
    (ops) => {
      const m = formed(3, 8);
      for (const [op, i] of ops) {
        const id = `z${i}`;
        if (op === "admit") m.admit(id, "h");
        else if (op === "ack") m.welcomed(id);
        else if (op === "release") m.release(id);
        else if (op === "leave") {
          m.leave(m.members[i % m.members.length]?.nodeId ?? "");
        } else if (op === "fail") {
          m.fail(m.members[i % m.members.length]?.nodeId ?? "");
        } else {
          const p = m.propose();
          if (p !== undefined && "generation" in p) {
            for (const pid of p.participants) m.ack(pid, p.generation);
          }
        }
        const ranks = m.peers.map((p) => p.rank);
        assert.deepEqual(ranks, ranks.map((_, k) => k));
        assert.equal(
          new Set(m.peers.map((p) => p.nodeId)).size,
          m.peers.length,
        );
        assert.ok(m.members.length + m.pending.length <= 8);
      }
    },
  ));
});
