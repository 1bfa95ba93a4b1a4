import assert from "node:assert/strict";
import { compareBytes } from "./etcd_lease.ts";
import fc from "fast-check";
import {
  buildBatchRows,
  checkpointOp,
  COMPLETE_OP,
  keyRemainsInShard,
  planConnectorShards,
} from "./connector_rows.ts";

const enc = new TextEncoder();

Deno.test("shard plan: every key (and every other possible key) falls in exactly one shard", () => {
  fc.assert(
    fc.property(
      fc.uniqueArray(fc.string({ minLength: 1, maxLength: 6 }), {
        maxLength: 60,
      }),
      fc.integer({ min: 1, max: 9 }),
      fc.array(fc.string({ maxLength: 6 }), { maxLength: 10 }),
      (raw, per, probes) => {
        const keys = raw.map((k) => enc.encode(k)).sort((a, b) =>
          compareBytes(a, b)
        );
        const unique = keys.filter((k, i) =>
          i === 0 || compareBytes(keys[i - 1], k) !== 0
        );
        const plan = planConnectorShards(unique, {
          itemsPerShard: per,
          maxShards: 1000,
        });
        assert.equal(plan.length, Math.max(1, Math.ceil(unique.length / per)));
        for (const k of [...unique, ...probes.map((p) => enc.encode(p))]) {
          const owners = plan.filter((s) =>
            keyRemainsInShard(k, s.keyRangeStart, s.keyRangeEnd, null)
          );
          assert.equal(owners.length, 1);
        }
        for (const s of plan) {
          const inside = unique.filter((k) =>
            keyRemainsInShard(k, s.keyRangeStart, s.keyRangeEnd, null)
          );
          assert.ok(inside.length <= per);
        }
      },
    ),
  );
});

Deno.test("shard plan: unsorted keys and too many shards are refused", () => {
  assert.throws(
    () => planConnectorShards([enc.encode("b"), enc.encode("a")]),
    RangeError,
  );
  assert.throws(
    () => planConnectorShards([enc.encode("a"), enc.encode("a")]),
    RangeError,
  );
  assert.throws(
    () =>
      planConnectorShards([enc.encode("a"), enc.encode("b")], {
        itemsPerShard: 1,
        maxShards: 1,
      }),
    RangeError,
  );
  assert.equal(planConnectorShards([]).length, 1);
});

Deno.test("cursor: items at or before the checkpoint are done", () => {
  const k = (s: string) => enc.encode(s);
  assert.ok(keyRemainsInShard(k("c"), k(""), k(""), k("b")));
  assert.ok(!keyRemainsInShard(k("b"), k(""), k(""), k("b")));
  assert.ok(!keyRemainsInShard(k("d"), k("a"), k("d"), null));
});

Deno.test("op ids are deterministic per cursor and distinct from the completion op", () => {
  assert.deepEqual(
    checkpointOp(enc.encode("x")),
    checkpointOp(enc.encode("x")),
  );
  assert.notEqual(
    checkpointOp(enc.encode("x")).opId,
    checkpointOp(enc.encode("y")).opId,
  );
  assert.notEqual(checkpointOp(enc.encode("complete")).opId, COMPLETE_OP.opId);
});

Deno.test("rows: statuses and counts follow the scan result; provenance comes from the context", () => {
  const z = new Uint8Array(32);
  const ctx = {
    source: "fs" as const,
    tenantId: z,
    policyHash: z,
    secretKey: z,
    fingerprints: [new Uint8Array(32).fill(1)],
    runId: (1n << 64n) - 1n,
    shardId: 3n,
    fenceEpoch: 2n,
  };
  const finding = {
    ruleId: "r",
    ruleIndex: 0,
    description: "d",
    secret: enc.encode("s3cret-value"),
    start: 4,
    end: 16,
    line: 1,
    column: 5,
    encodings: [],
    member: null,
  };
  const rows = buildBatchRows(ctx, [
    {
      path: "a",
      ovid: new Uint8Array(32).fill(2),
      startedAt: 1,
      finishedAt: 2,
      result: {
        findings: [finding, finding] as never,
        membersScanned: 0,
        bytesScanned: 20,
        skippedBinary: false,
        notes: [],
      },
    },
    {
      path: "b",
      ovid: new Uint8Array(32).fill(3),
      startedAt: 5,
      finishedAt: 4,
      result: {
        findings: [],
        membersScanned: 0,
        bytesScanned: 0,
        skippedBinary: true,
        notes: [],
      },
    },
  ], 9);
  assert.deepEqual(
    rows.done.map((
      d,
    ) => [d.status, d.findingsCount, d.errorCode, d.shardId, d.fenceEpoch]),
    [
      [11, 2, null, 3n, 2n],
      [3, 0, "binary", 3n, 2n],
    ],
  );
  assert.equal(
    rows.done[1].finishedAt,
    5n,
    "finished_at never precedes started_at",
  );
  assert.equal(
    rows.findings.findings.length,
    1,
    "the same finding twice is one row",
  );
  assert.equal(rows.findings.observations[0].locationDisplay, "a:1:5");
  assert.ok(
    !JSON.stringify(rows, (_k, v) => (typeof v === "bigint" ? String(v) : v))
      .includes("s3cret"),
  );
});
