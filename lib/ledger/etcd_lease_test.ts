import assert from "node:assert/strict";
import {
  newShardRecord,
  SHARD_STATUSES,
  type ShardRecord,
  type ShardStatus,
} from "./etcd_codec.ts";
import {
  casBackoffMs,
  checkPresentedLease,
  chunked,
  type FencedOpPlan,
  isLeaseLive,
  MAX_SHARDS_PER_ETCD_TXN,
  OP_LOG_CAPACITY,
  planAcquire,
  planCheckpoint,
  planComplete,
  planPark,
  planRenew,
  planSplitReplace,
  planSplitResidual,
  planUnpark,
  SHARD_EVENTS,
  SHARD_TRANSITIONS,
  type ShardEvent,
} from "./etcd_lease.ts";
import { LedgerError } from "./errors.ts";

const T = new Uint8Array(32).fill(1);
const E = new Uint8Array();
const fresh = (): ShardRecord =>
  newShardRecord(T, 1n, 5n, new Uint8Array([0]), new Uint8Array([9]), E);
function applied(
  p: FencedOpPlan,
): Extract<FencedOpPlan, { outcome: "applied" }> {
  if (p.outcome !== "applied") throw new Error("expected an applied op");
  return p;
}
const cursor = { lastKey: new Uint8Array([3]), token: null, semantics: 1 };

function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    if (error instanceof LedgerError) return error.code;
    throw error;
  }
  return "ok";
}

/** Applies one event to a shard in `status`, leased by worker 7 at fence 1, at time 1. */
function apply(
  status: ShardStatus,
  event: ShardEvent,
): { code: string; status?: ShardStatus } {
  const leased = planAcquire(fresh(), null, T, 7n, 0n, 100n);
  const record = { ...leased.record, status };
  const owner = leased.owner;
  const op = { opId: 1n, payloadHash: 1n };
  let out: ShardRecord | undefined;
  const code = codeOf(() => {
    switch (event) {
      case "acquire":
        out =
          planAcquire({ ...record, lease: null }, null, T, 8n, 1n, 100n).record;
        break;
      case "renew":
        out = planRenew(record, owner, owner, 1n, 100n);
        break;
      case "checkpoint": {
        const p = planCheckpoint(record, owner, owner, op, cursor, 1n);
        out = p.outcome === "applied" ? p.record : undefined;
        break;
      }
      case "complete": {
        const p = planComplete(record, owner, owner, op, cursor, 1n);
        out = p.outcome === "applied" ? p.record : undefined;
        break;
      }
      case "park": {
        const p = planPark(record, owner, owner, op, "why", 1n);
        out = p.outcome === "applied" ? p.record : undefined;
        break;
      }
      case "unpark":
        out = planUnpark(record);
        break;
      case "split_replace": {
        const p = planSplitReplace(
          record,
          owner,
          owner,
          op,
          [
            { shard: 6n, keyRangeStart: E, keyRangeEnd: E, metadata: E },
          ],
          1n,
          8,
        );
        out = p.outcome === "applied" ? p.record : undefined;
        break;
      }
      case "split_residual": {
        const p = planSplitResidual(
          record,
          owner,
          owner,
          op,
          { shard: 6n, metadata: E },
          new Uint8Array([4]),
          1n,
        );
        out = p.outcome === "applied" ? p.record : undefined;
        break;
      }
    }
  });
  return { code, status: out?.status };
}

Deno.test("transition table: every (status, event) pair behaves as the table says", () => {
  for (const status of Object.keys(SHARD_STATUSES) as ShardStatus[]) {
    for (const event of SHARD_EVENTS) {
      const expected = SHARD_TRANSITIONS[status][event];
      const got = apply(status, event);
      if (expected === null) {
        assert.deepStrictEqual(
          got.code,
          "shard_terminal",
          `${status} × ${event}`,
        );
      } else {assert.deepStrictEqual(
          got,
          { code: "ok", status: expected },
          `${status} × ${event}`,
        );}
    }
  }
});

Deno.test("acquire: raises the fence, refuses a live owner, takes over an expired one", () => {
  const a = planAcquire(fresh(), null, T, 7n, 0n, 100n);
  assert.deepStrictEqual(a.owner, { worker: 7n, fence: 1n });
  assert.ok(isLeaseLive(a.record, a.owner, 99n));
  assert.ok(!isLeaseLive(a.record, a.owner, 100n));
  assert.deepStrictEqual(
    codeOf(() => planAcquire(a.record, a.owner, T, 8n, 50n, 100n)),
    "already_leased",
  );
  const b = planAcquire(a.record, a.owner, T, 8n, 100n, 100n);
  assert.deepStrictEqual(b.owner, { worker: 8n, fence: 2n });
  const c = planAcquire(b.record, null, T, 9n, 150n, 100n);
  assert.deepStrictEqual(c.owner.fence, 3n);
  assert.deepStrictEqual(
    codeOf(() => planAcquire(fresh(), null, new Uint8Array(32), 7n, 0n, 1n)),
    "tenant_mismatch",
  );
  const sat = planAcquire(fresh(), null, T, 7n, (1n << 64n) - 2n, 100n);
  assert.deepStrictEqual(sat.record.lease?.deadline, (1n << 64n) - 1n);
});

Deno.test("fencing: a zombie (superseded fence, missing owner, expired deadline) is rejected", () => {
  const a = planAcquire(fresh(), null, T, 7n, 0n, 100n);
  const b = planAcquire(a.record, null, T, 8n, 100n, 100n);
  const zombie = { worker: 7n, fence: 1n };
  const op = { opId: 9n, payloadHash: 9n };
  assert.deepStrictEqual(
    codeOf(() => planCheckpoint(b.record, b.owner, zombie, op, cursor, 120n)),
    "stale_fence",
  );
  assert.deepStrictEqual(
    codeOf(() => planComplete(b.record, b.owner, zombie, op, cursor, 120n)),
    "stale_fence",
  );
  assert.deepStrictEqual(
    codeOf(() => planRenew(b.record, b.owner, zombie, 120n, 100n)),
    "stale_fence",
  );
  assert.deepStrictEqual(
    codeOf(() => checkPresentedLease(a.record, null, a.owner, 1n)),
    "stale_fence",
  );
  assert.deepStrictEqual(
    codeOf(() => checkPresentedLease(a.record, a.owner, a.owner, 100n)),
    "stale_fence",
  );
  try {
    checkPresentedLease(b.record, b.owner, zombie, 120n);
  } catch (error) {
    const e = error as LedgerError;
    assert.deepStrictEqual([e.details.presented, e.details.current], [1n, 2n]);
  }
});

Deno.test("op-log: a replay is 'replayed', a different payload is op_id_conflict, the ring is bounded", () => {
  const a = planAcquire(fresh(), null, T, 7n, 0n, 1000n);
  const first = applied(
    planCheckpoint(
      a.record,
      a.owner,
      a.owner,
      { opId: 1n, payloadHash: 5n },
      cursor,
      1n,
    ),
  );
  assert.deepStrictEqual(
    planCheckpoint(
      first.record,
      a.owner,
      a.owner,
      { opId: 1n, payloadHash: 5n },
      cursor,
      2n,
    ),
    {
      outcome: "replayed",
    },
  );
  assert.deepStrictEqual(
    codeOf(() =>
      planCheckpoint(
        first.record,
        a.owner,
        a.owner,
        { opId: 1n, payloadHash: 6n },
        cursor,
        2n,
      )
    ),
    "op_id_conflict",
  );
  let record = first.record;
  for (let i = 2n; i < 40n; i++) {
    record = applied(
      planCheckpoint(
        record,
        a.owner,
        a.owner,
        { opId: i, payloadHash: i },
        cursor,
        i,
      ),
    ).record;
  }
  assert.deepStrictEqual(record.opLog.length, OP_LOG_CAPACITY);
  assert.deepStrictEqual(record.opLog[0].opId, 40n - BigInt(OP_LOG_CAPACITY));
});

Deno.test("splits: children get the parent, ranges are cut, bad counts and keys are refused", () => {
  const a = planAcquire(fresh(), null, T, 7n, 0n, 1000n);
  const residual = applied(planSplitResidual(
    a.record,
    a.owner,
    a.owner,
    { opId: 1n, payloadHash: 1n },
    { shard: 6n, metadata: E },
    new Uint8Array([4]),
    1n,
  ));
  assert.deepStrictEqual(
    residual.children[0].keyRangeStart,
    new Uint8Array([4]),
  );
  assert.deepStrictEqual(residual.children[0].keyRangeEnd, new Uint8Array([9]));
  assert.deepStrictEqual(residual.children[0].parent, 5n);
  assert.deepStrictEqual(residual.record.spawned, [6n]);
  let threw = false;
  try {
    planSplitReplace(
      a.record,
      a.owner,
      a.owner,
      { opId: 2n, payloadHash: 1n },
      [],
      1n,
      8,
    );
  } catch (error) {
    threw = error instanceof RangeError;
  }
  assert.ok(threw);
});

Deno.test("backoff: 5 ms doubling, exponent capped at 6, at most 200 ms, ±50 % jitter", () => {
  assert.deepStrictEqual(
    [0, 1, 2, 3, 4, 5, 6, 7].map((n) => casBackoffMs(n, 0.5)),
    [5, 10, 20, 40, 80, 160, 200, 200],
  );
  assert.deepStrictEqual(casBackoffMs(0, 0), 3);
  assert.deepStrictEqual(casBackoffMs(6, 0.999999), 300);
});

Deno.test("registration batches stay within 41 shards per transaction", () => {
  const batches = chunked(
    Array.from({ length: 200 }, (_, i) => i),
    MAX_SHARDS_PER_ETCD_TXN,
  );
  assert.ok(batches.every((b) => b.length <= 41));
  assert.deepStrictEqual(batches.flat().length, 200);
});
