import assert from "node:assert/strict";
import fc from "fast-check";
import type { ShardIndex, U64 } from "../wire/types.ts";
import { compareIndexKeys, revisionEpoch, ShardStore } from "./shard_store.ts";

const idx = (
  revision: U64,
  index_generation: U64,
  shard_id = 0,
  name = "S",
): ShardIndex => ({
  shard_id,
  revision,
  index_generation,
  symbols: [{ name, path: "A.java", line: 0, column: 0 }],
});

Deno.test("ShardStore with epoch 0 hands out the reference revisions", () => {
  const store = new ShardStore();
  assert.equal(store.revision, 0);
  assert.equal(store.nextRevision(), 1);
  assert.equal(store.nextRevision(), 2);
  assert.equal(store.revision, 2);
});

Deno.test("ShardStore revisions carry the epoch", () => {
  const store = new ShardStore({ epoch: 3 });
  assert.equal(store.revision, 3 * 2 ** 32);
  assert.equal(store.nextRevision(), 3 * 2 ** 32 + 1);
  const big = new ShardStore({ epoch: 0xffffffff });
  assert.equal(big.nextRevision(), 0xffffffffn * 2n ** 32n + 1n);
  assert.equal(revisionEpoch(big.revision), 0xffffffff);
  assert.throws(() => new ShardStore({ epoch: -1 }), RangeError);
  assert.throws(() => new ShardStore({ epoch: 2 ** 32 }), RangeError);
  assert.throws(() => new ShardStore({ epoch: 1.5 }), RangeError);
});

Deno.test("gate drops strictly older keys and replaces equal keys", () => {
  const store = new ShardStore();
  assert.equal(store.offer(idx(1, 2, 0, "Fresh")), true);
  const u = store.updateId;
  // digest 6.2 #35: delayed cached indexes must not overwrite the newer one.
  assert.equal(store.offer(idx(0, 999)), false);
  assert.equal(store.offer(idx(1, 1)), false);
  assert.equal(store.updateId, u);
  assert.equal(store.get(0)?.symbols[0].name, "Fresh");
  assert.equal(store.offer(idx(1, 2, 0, "Same")), true);
  assert.equal(store.get(0)?.symbols[0].name, "Same");
  assert.equal(store.offer(idx(2, 0, 0, "Newer")), true);
  assert.equal(store.updateId, u + 2);
});

Deno.test("revision epochs: a stale cache never blocks a fresh index", () => {
  // Run 1 (epoch 100) built revision 100<<32 + 10 and the worker cached it.
  const run1 = new ShardStore({ epoch: 100 });
  let rev: U64 = 0;
  for (let i = 0; i < 10; i++) rev = run1.nextRevision();
  const cachedFromRun1 = idx(rev, 40, 0, "Old");
  // Run 2 (epoch 101): the worker reports its cache first.
  const run2 = new ShardStore({ epoch: 101 });
  assert.equal(run2.offer(cachedFromRun1), true);
  const fresh = idx(run2.nextRevision(), 1, 0, "New");
  assert.equal(run2.offer(fresh), true);
  assert.equal(run2.get(0)?.symbols[0].name, "New");
  assert.equal(run2.offer(cachedFromRun1), false);
  // A cache from a reference router (small plain revisions) loses as well.
  assert.equal(run2.offer(idx(10, 999)), false);
  // Even an earlier epoch numerically above ours (clock went back) loses.
  assert.equal(run2.offer(idx(500n * 2n ** 32n + 7n, 9)), false);
  // A worker restart within run 2 that cached a newer index of this run wins.
  const later = run2.nextRevision();
  assert.equal(run2.offer(idx(later, 0, 0, "Restarted")), true);
});

Deno.test("the reference defect reproduces with epoch 0 across runs", () => {
  const run2 = new ShardStore(); // epoch 0 in both runs: plain revisions
  assert.equal(run2.offer(idx(10, 5)), true);
  assert.equal(run2.offer(idx(run2.nextRevision(), 6)), false);
});

Deno.test("shards are independent; delete and retain", () => {
  const store = new ShardStore();
  store.offer(idx(5, 0, 0));
  store.offer(idx(1, 0, 1));
  store.offer(idx(1, 0, 4));
  assert.deepEqual(store.shardIds, [0, 1, 4]);
  assert.deepEqual(store.retain([0, 1]), [4]);
  assert.equal(store.delete(1), true);
  assert.equal(store.delete(1), false);
  assert.deepEqual(store.shardIds, [0]);
  assert.throws(() => store.offer(idx(1, 0, -1)), RangeError);
  assert.throws(() => store.offer(idx(-1, 0, 2)), RangeError);
  assert.throws(() => store.offer(idx(1, 2 ** 60, 3)), RangeError);
});

Deno.test("compareIndexKeys() is a total preorder consistent with the gate (property)", () => {
  const u64 = fc.oneof(
    fc.nat(20),
    fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }).map((v) =>
      v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v
    ),
    fc.nat(3).map((e) => e * 2 ** 32 + 1),
  );
  fc.assert(
    fc.property(
      fc.array(fc.tuple(u64, u64), { minLength: 1, maxLength: 12 }),
      fc.nat(3),
      (offers, epoch) => {
        const store = new ShardStore({ epoch });
        let best: ShardIndex | undefined;
        for (const [r, g] of offers) {
          const index = idx(r, g);
          const ok = store.offer(index);
          const expected = best === undefined ||
            compareIndexKeys(index, best, epoch) >= 0;
          assert.equal(ok, expected);
          if (ok) best = index;
          assert.equal(compareIndexKeys(index, index, epoch), 0);
        }
        assert.equal(store.get(0), best);
      },
    ),
    { numRuns: 500 },
  );
});
