import assert from "node:assert/strict";
import { LedgerError } from "../errors.ts";
import {
  etcdSkipReason,
  startEtcd,
} from "../../testing/runtime/etcd_server.ts";
import { EtcdCoordinator, type ShardSpec } from "./etcd_coordinator.ts";

const skip = etcdSkipReason();
const T = new Uint8Array(32).fill(0x11);
const enc = new TextEncoder();

function plan(n: number): ShardSpec[] {
  return Array.from({ length: n }, (_, i) => ({
    shard: BigInt(i + 1),
    keyRangeStart: enc.encode(String(i).padStart(4, "0")),
    keyRangeEnd: enc.encode(String(i + 1).padStart(4, "0")),
    metadata: new Uint8Array(),
  }));
}

async function failure(p: Promise<unknown>): Promise<LedgerError> {
  try {
    await p;
  } catch (error) {
    if (error instanceof LedgerError) return error;
    throw error;
  }
  throw new Error("expected a LedgerError");
}

const cursorAt = (k: string) => ({
  lastKey: enc.encode(k),
  token: null,
  semantics: 1,
});

Deno.test({
  name: "etcd coordinator (real server)",
  ignore: skip !== null,
  sanitizeOps: false,
  sanitizeResources: false,
  async fn(t) {
    const etcd = await startEtcd();
    let clock = 1_000n;
    let ns = 0;
    const connect = (namespace = `/t${++ns}`) =>
      EtcdCoordinator.connect({
        endpoints: [etcd.endpoint],
        namespace,
        tenant: T,
        ownerLeaseTtlSecs: 30,
        now: () => clock,
        sleep: () => Promise.resolve(),
      });
    try {
      await t.step(
        "health check failure is a startup error; bad settings are config errors",
        async () => {
          const e = await failure(
            EtcdCoordinator.connect({
              endpoints: ["http://127.0.0.1:1"],
              namespace: "/x",
              tenant: T,
            }),
          );
          assert.equal(e.code, "startup_failed");
          assert.equal(
            e.message,
            "failed to connect etcd coordination backend",
          );
          const bad = await failure(
            EtcdCoordinator.connect({
              endpoints: [etcd.endpoint],
              namespace: "x",
              tenant: T,
            }),
          );
          assert.equal(bad.code, "invalid_etcd_config");
          const noScheme = await failure(
            EtcdCoordinator.connect({
              endpoints: ["127.0.0.1:1"],
              namespace: "/x",
              tenant: T,
            }),
          );
          assert.equal(noScheme.code, "invalid_etcd_config");
        },
      );

      await t.step(
        "register 100 shards in ≤ 41-shard transactions; join with the same plan; conflict otherwise",
        async () => {
          const c = await connect();
          const first = await c.registerRun(42n, plan(100), 1_000n);
          assert.equal(first.created, true);
          assert.equal((await c.listActiveShards(42n)).length, 100);
          const other = await connect(c.keys.namespace);
          const again = await other.registerRun(42n, plan(100), 1_000n);
          assert.equal(again.created, false);
          assert.equal(
            (await failure(other.registerRun(42n, plan(99), 1_000n))).code,
            "run_conflict",
          );
          assert.equal((await failure(c.loadRun(7n))).code, "run_not_found");
          assert.equal(
            (await failure(c.acquire(42n, 999n, 1n))).code,
            "shard_not_found",
          );
        },
      );

      await t.step(
        "acquire, already leased, expiry takeover, zombie fenced out",
        async () => {
          const c = await connect();
          await c.registerRun(1n, plan(2), 1_000n);
          const a = await c.acquire(1n, 1n, 7n);
          assert.equal(a.fence, 1n);
          const busy = await failure(c.acquire(1n, 1n, 8n));
          assert.equal(busy.code, "already_leased");
          assert.equal(
            await c.checkpoint(
              a,
              { opId: 1n, payloadHash: 11n },
              cursorAt("0000"),
            ),
            "applied",
          );
          assert.equal(
            await c.checkpoint(
              a,
              { opId: 1n, payloadHash: 11n },
              cursorAt("0000"),
            ),
            "replayed",
          );
          assert.equal(
            (await failure(
              c.checkpoint(a, { opId: 1n, payloadHash: 12n }, cursorAt("0000")),
            )).code,
            "op_id_conflict",
          );
          clock += 2_000n;
          const b = await c.acquire(1n, 1n, 8n);
          assert.equal(b.fence, 2n);
          for (
            const zombieOp of [
              () =>
                c.checkpoint(
                  a,
                  { opId: 2n, payloadHash: 1n },
                  cursorAt("0001"),
                ),
              () =>
                c.complete(a, { opId: 3n, payloadHash: 1n }, cursorAt("0001")),
              () => c.renew(a),
              () => c.verify(a),
            ]
          ) assert.equal((await failure(zombieOp())).code, "stale_fence");
          const loaded = await c.loadShard(1n, 1n);
          assert.deepEqual(loaded.owner, { worker: 8n, fence: 2n });
          assert.deepEqual(loaded.record.cursor.lastKey, enc.encode("0000"));
          await c.renew(b);
          assert.equal(
            await c.complete(
              b,
              { opId: 4n, payloadHash: 1n },
              cursorAt("0001"),
            ),
            "applied",
          );
          assert.equal((await c.loadShard(1n, 1n)).owner, null);
          assert.deepEqual(await c.listActiveShards(1n), [2n]);
          assert.equal(
            (await failure(c.acquire(1n, 1n, 9n))).code,
            "shard_terminal",
          );
          assert.equal(await c.completeRun(1n), false);
        },
      );

      await t.step("park / unpark, splits, run completion", async () => {
        const c = await connect();
        await c.registerRun(5n, plan(2), 10_000n);
        const a = await c.acquire(5n, 1n, 1n);
        assert.equal(
          await c.park(a, { opId: 1n, payloadHash: 1n }, "poison"),
          "applied",
        );
        assert.equal((await c.loadShard(5n, 1n)).record.status, "parked");
        await c.unpark(5n, 1n);
        const again = await c.acquire(5n, 1n, 1n);
        assert.equal(again.fence, 2n);
        const e = new Uint8Array();
        assert.equal(
          await c.splitReplace(again, { opId: 2n, payloadHash: 1n }, [
            {
              shard: 10n,
              keyRangeStart: enc.encode("0000"),
              keyRangeEnd: enc.encode("00005"),
              metadata: e,
            },
            {
              shard: 11n,
              keyRangeStart: enc.encode("00005"),
              keyRangeEnd: enc.encode("0001"),
              metadata: e,
            },
          ]),
          "applied",
        );
        assert.deepEqual(await c.listActiveShards(5n), [2n, 10n, 11n]);
        assert.equal((await c.loadShard(5n, 10n)).record.parent, 1n);
        const b = await c.acquire(5n, 2n, 1n);
        assert.equal(
          await c.splitResidual(b, { opId: 1n, payloadHash: 1n }, {
            shard: 12n,
            metadata: e,
          }, enc.encode("00015")),
          "applied",
        );
        assert.deepEqual(
          (await c.loadShard(5n, 12n)).record.keyRangeStart,
          enc.encode("00015"),
        );
        for (const shard of [2n, 10n, 11n, 12n]) {
          const l = shard === 2n ? b : await c.acquire(5n, shard, 1n);
          await c.complete(l, { opId: 99n, payloadHash: 1n }, cursorAt("z"));
        }
        assert.equal(await c.completeRun(5n), true);
        assert.equal((await c.loadRun(5n)).status, "completed");
        assert.equal(await c.failRun(5n), "completed");
      });

      await t.step(
        "two workers race for 100 shards: every shard completed exactly once",
        async () => {
          const a = await connect();
          const b = await connect(a.keys.namespace);
          await a.registerRun(9n, plan(100), 60_000n);
          const done: bigint[] = [];
          const worker = async (c: EtcdCoordinator, id: bigint) => {
            while (true) {
              const claim = await c.claimNext(9n, id);
              if (claim.kind === "drained") return;
              if (claim.kind === "busy") continue;
              const outcome = await c.complete(claim.lease, {
                opId: 1n,
                payloadHash: id,
              }, cursorAt("z"));
              if (outcome === "applied") done.push(claim.lease.shard);
            }
          };
          await Promise.all([worker(a, 1n), worker(b, 2n)]);
          assert.equal(done.length, 100);
          assert.equal(new Set(done).size, 100);
          assert.equal(await a.completeRun(9n), true);
        },
      );

      await t.step(
        "etcd restart mid-run: the next request recovers",
        async () => {
          const c = await connect();
          await c.registerRun(3n, plan(3), 60_000n);
          const l = await c.acquire(3n, 1n, 1n);
          await etcd.halt();
          assert.equal(
            (await failure(c.renew(l))).code,
            "coordination_unavailable",
          );
          await etcd.start();
          const started = Date.now();
          await c.renew(l);
          assert.ok(Date.now() - started < 2_000);
          assert.equal(
            await c.complete(l, { opId: 1n, payloadHash: 1n }, cursorAt("z")),
            "applied",
          );
        },
      );
    } finally {
      await etcd.stop();
    }
  },
});
