/**
 * One suite, two backends: every case runs against the embedded backend
 * and against a throwaway `redis-server` (started here on a free loopback
 * port; under CI=true a missing binary fails the run).
 */

import assert from "node:assert/strict";
import type { CapsBackend, ClaimRequest } from "../backend.ts";
import { capabilitiesSatisfy } from "../capabilities.ts";
import type { CapsWorkerConfig } from "../config.ts";
import { EmbeddedCapsBackend } from "../embedded_backend.ts";
import { flowPartitionOf } from "../partition.ts";
import { isCapsError } from "../errors.ts";
import type { ServerCommand } from "../preamble.ts";
import { redisTestMode, startRedisServer } from "../../testing/redis_server.ts";
import { runPreamble } from "./preamble_runner.ts";
import { connectRedisBackend, type RedisCapsBackend } from "./redis_backend.ts";
import { startCapsWorker } from "./worker.ts";

const ALL = Array.from({ length: 256 }, (_, i) => i);

interface Ctx {
  backend: CapsBackend;
  kind: "embedded" | "redis";
  now(): number;
  advance(ms: number): void;
  /** Records raw commands until the returned function is called. */
  observe(): Promise<() => Promise<string[]>>;
}

type Case = [name: string, run: (ctx: Ctx) => Promise<void>];

async function rejects(
  promise: Promise<unknown>,
  code: string,
  message?: string,
): Promise<void> {
  try {
    await promise;
  } catch (err) {
    assert.ok(isCapsError(err), `not a CapsError: ${err}`);
    assert.equal(err.code, code);
    if (message !== undefined) assert.equal(err.message, message);
    return;
  }
  assert.fail(`expected ${code}`);
}

function worker(
  iid: string,
  caps: string[],
  extra: Partial<CapsWorkerConfig> = {},
): CapsWorkerConfig {
  return {
    workerId: "pool",
    workerInstanceId: iid,
    namespace: "ns",
    lanes: ["default"],
    capabilities: caps,
    leaseTtlMs: 3000,
    ...extra,
  };
}

function claimReq(
  iid: string,
  caps: string,
  extra: Partial<ClaimRequest> = {},
): ClaimRequest {
  return {
    namespace: "ns",
    workerId: "pool",
    workerInstanceId: iid,
    lane: "default",
    capabilitiesCsv: caps,
    leaseTtlMs: 1000,
    max: 10,
    partitions: ALL,
    ...extra,
  };
}

async function register(ctx: Ctx, iid: string, caps: string): Promise<void> {
  await ctx.backend.registerWorker({
    namespace: "ns",
    workerInstanceId: iid,
    workerId: "pool",
    lanesCsv: "default",
    capabilitiesCsv: caps,
    ttlMs: 60_000,
  });
}

/** A small seeded PRNG (mulberry32). */
function prng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = seed;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const CASES: Case[] = [
  ["preamble order (non-empty and empty caps)", async (ctx) => {
    let stop = await ctx.observe();
    await runPreamble(ctx.backend, worker("w1", ["gpu", "cuda"]), {
      nowMs: 77,
    });
    const seen = await stop();
    assert.deepEqual(seen, [
      "PING",
      "SET ff:worker:ns:w1:alive 1 NX PX 6000",
      "HGETALL ff:config:partitions",
      "HSET ff:worker:ns:w1:caps worker_id pool lanes_csv default caps_csv cuda,gpu ttl_ms 6000 registered_at_ms 77 last_heartbeat_ms 77",
      "SADD ff:idx:ns:workers w1",
    ]);
    assert.equal(
      await ctx.backend.command(["PTTL", "ff:worker:ns:w1:caps"]),
      -1,
    );
    stop = await ctx.observe();
    await runPreamble(ctx.backend, worker("w2", []), { nowMs: 77 });
    assert.deepEqual(await stop(), [
      "PING",
      "SET ff:worker:ns:w2:alive 1 NX PX 6000",
      "HGETALL ff:config:partitions",
      "DEL ff:worker:ns:w2:caps",
      "SREM ff:idx:ns:workers w2",
    ]);
  }],
  ["preamble reads the partition config, per-field defaults", async (ctx) => {
    await ctx.backend.command([
      "HSET",
      "ff:config:partitions",
      "num_flow_partitions",
      "16",
      "num_budget_partitions",
      "zero",
      "num_quota_partitions",
      "0",
    ]);
    const r = await runPreamble(ctx.backend, worker("w1", ["gpu"]));
    assert.deepEqual(r.partitionConfig, {
      numFlowPartitions: 16,
      numBudgetPartitions: 32,
      numQuotaPartitions: 32,
    });
    assert.equal(r.scanCursor < 16, true);
  }],
  [
    "duplicate instance: the second preamble fails with the reference message",
    async (ctx) => {
      await runPreamble(ctx.backend, worker("dup", ["gpu"]));
      await rejects(
        runPreamble(ctx.backend, worker("dup", ["cpu"])),
        "duplicate_instance",
        "duplicate worker_instance_id 'dup': another process already holds ff:worker:ns:dup:alive",
      );
      const caps = await ctx.backend.command([
        "HGET",
        "ff:worker:ns:dup:caps",
        "caps_csv",
      ]);
      assert.equal(caps, "gpu");
    },
  ],
  [
    "fix: invalid caps do not take the alive key; the reference order locks the worker out",
    async (ctx) => {
      const bad = worker("cfg", ["gpu", "has space"]);
      await rejects(runPreamble(ctx.backend, bad), "invalid_capability");
      assert.equal(
        await ctx.backend.command(["EXISTS", "ff:worker:ns:cfg:alive"]),
        0,
      );
      // corrected config starts at once
      await runPreamble(ctx.backend, worker("cfg", ["gpu"]));
      // reference order: the alive key is taken before validation...
      const bad2 = worker("cfg2", ["gpu", "has space"]);
      await rejects(
        runPreamble(ctx.backend, bad2, { validateFirst: false }),
        "invalid_capability",
      );
      assert.equal(
        await ctx.backend.command(["EXISTS", "ff:worker:ns:cfg2:alive"]),
        1,
      );
      // ...so the corrected restart is refused for 2 × TTL.
      await rejects(
        runPreamble(ctx.backend, worker("cfg2", ["gpu"])),
        "duplicate_instance",
      );
    },
  ],
  [
    "clean shutdown leaves the registry and releases the alive key",
    async (ctx) => {
      const w = await startCapsWorker(ctx.backend, worker("bye", ["gpu"]), {
        handler: () => Promise.resolve({ status: "done" }),
      });
      assert.equal(
        await ctx.backend.command(["EXISTS", "ff:worker:ns:bye:alive"]),
        1,
      );
      assert.ok(
        Number(await ctx.backend.command(["PTTL", "ff:worker:ns:bye:caps"])) >
          0,
      );
      await w.stop();
      assert.equal(
        await ctx.backend.command(["EXISTS", "ff:worker:ns:bye:alive"]),
        0,
      );
      assert.equal(
        await ctx.backend.command(["EXISTS", "ff:worker:ns:bye:caps"]),
        0,
      );
      assert.equal(
        await ctx.backend.command(["SISMEMBER", "ff:idx:ns:workers", "bye"]),
        0,
      );
      const again = await startCapsWorker(ctx.backend, worker("bye", ["gpu"]), {
        handler: () => Promise.resolve({ status: "done" }),
      });
      await again.stop();
    },
  ],
  [
    "registry: register, refresh, exclusive, heartbeat, mark dead",
    async (ctx) => {
      const b = ctx.backend;
      const args = {
        namespace: "ns",
        workerInstanceId: "r1",
        workerId: "pool",
        lanesCsv: "a,b",
        capabilitiesCsv: "gpu",
        ttlMs: 5000,
      };
      assert.equal(await b.registerWorker(args), "registered");
      assert.equal(await b.registerWorker(args), "refreshed");
      assert.equal(
        await b.registerWorker({ ...args, exclusive: true }),
        "duplicate",
      );
      const pttl = Number(await b.command(["PTTL", "ff:worker:ns:r1:caps"]));
      assert.ok(pttl > 0 && pttl <= 5000);
      assert.deepEqual(await b.heartbeatWorker("ns", "r1"), {
        status: "refreshed",
        ttlMs: 5000,
      });
      assert.deepEqual(await b.heartbeatWorker("ns", "nobody"), {
        status: "not_registered",
      });
      const fields = await b.command([
        "HGETALL",
        "ff:worker:ns:r1:caps",
      ]) as string[];
      assert.deepEqual(
        fields.filter((_, i) => i % 2 === 0).sort(),
        [
          "caps_csv",
          "lanes_csv",
          "last_heartbeat_ms",
          "registered_at_ms",
          "ttl_ms",
          "worker_id",
        ],
      );
      await rejects(
        b.markWorkerDead("ns", "r1", "x".repeat(257)),
        "caps_limit_exceeded",
        "reason: exceeds 256 bytes (got 257)",
      );
      await rejects(
        b.markWorkerDead("ns", "r1", "bad\nreason"),
        "invalid_reason",
        "reason: must not contain control characters",
      );
      assert.equal(
        await b.markWorkerDead("ns", "r1", "x".repeat(256)),
        "marked",
      );
      assert.equal(
        await b.markWorkerDead("ns", "r1", "again"),
        "not_registered",
      );
      assert.equal(
        await b.command(["SISMEMBER", "ff:idx:ns:workers", "r1"]),
        0,
      );
      // alive key gone → heartbeat reports not_registered even with caps left
      assert.equal(await b.registerWorker(args), "registered");
      await b.command(["DEL", "ff:worker:ns:r1:alive"]);
      assert.deepEqual(await b.heartbeatWorker("ns", "r1"), {
        status: "not_registered",
      });
    },
  ],
  [
    "registry: list pages through SSCAN, skips stale entries, sorts by code point",
    async (ctx) => {
      const b = ctx.backend;
      for (let i = 0; i < 250; i++) {
        await b.registerWorker({
          namespace: "ns",
          workerInstanceId: `w${String(i).padStart(3, "0")}`,
          workerId: "pool",
          lanesCsv: "default",
          capabilitiesCsv: i % 2 === 0 ? "gpu" : "cpu",
          ttlMs: 60_000,
        });
      }
      await b.command([
        "SADD",
        "ff:idx:ns:workers",
        "stale-1",
        "\u{1f600}",
        "\uff61",
      ]);
      await b.command([
        "HSET",
        "ff:worker:ns:\uff61:caps",
        "caps_csv",
        "x",
        "registered_at_ms",
        "9",
      ]);
      await b.command(["HSET", "ff:worker:ns:\u{1f600}:caps", "caps_csv", "y"]);
      const all = await b.listWorkers("ns");
      assert.equal(all.workers.length, 252);
      assert.equal(all.nextAfter, undefined);
      assert.deepEqual(all.workers.slice(-2).map((w) => w.workerInstanceId), [
        "\uff61",
        "\u{1f600}",
      ]);
      assert.equal(all.workers.at(-2)?.lastHeartbeatMs, 9);
      // The page is cut at `limit` ids, then stale ids are skipped.
      const first = await b.listWorkers("ns", { limit: 100 });
      assert.equal(first.workers.length, 99);
      assert.equal(first.nextAfter, "w098");
      const second = await b.listWorkers("ns", {
        after: first.nextAfter,
        limit: 100,
      });
      assert.equal(second.workers[0].workerInstanceId, "w099");
      await rejects(b.listWorkers(""), "invalid_config");
    },
  ],
  ["submit: validation and duplicates", async (ctx) => {
    const b = ctx.backend;
    await rejects(
      b.submit({
        namespace: "ns",
        lane: "default",
        requiredCapabilities: ["a b"],
      }),
      "invalid_capability",
      'capability token must not contain whitespace or control characters: "a b"',
    );
    await rejects(
      b.submit({ namespace: "ns", lane: "", requiredCapabilities: [] }),
      "invalid_config",
    );
    const uuid = "3f2504e0-4f89-41d3-9a0c-0305e82c3301";
    const e = await b.submit({
      namespace: "ns",
      lane: "default",
      requiredCapabilities: ["gpu", "cuda"],
      uuid,
      priority: 99999,
    });
    assert.equal(e.requiredCapabilities, "cuda,gpu");
    assert.equal(e.priority, 9000);
    assert.equal(e.lifecyclePhase, "runnable");
    assert.equal(e.eligibilityState, "eligible_now");
    assert.match(e.executionId, /^\{fp:\d+\}:3f2504e0-/);
    await rejects(
      b.submit({
        namespace: "ns",
        lane: "default",
        requiredCapabilities: [],
        uuid,
      }),
      "execution_exists",
    );
  }],
  [
    "claims: only superset workers, case-sensitive, per namespace, priority first",
    async (ctx) => {
      const b = ctx.backend;
      await register(ctx, "all", "GPU,cpu,cuda,gpu");
      const gpu = await b.submit({
        namespace: "ns",
        lane: "default",
        requiredCapabilities: ["gpu"],
      });
      const both = await b.submit({
        namespace: "ns",
        lane: "default",
        requiredCapabilities: ["gpu", "cuda"],
      });
      const upper = await b.submit({
        namespace: "ns",
        lane: "default",
        requiredCapabilities: ["GPU"],
      });
      const any = await b.submit({
        namespace: "ns",
        lane: "default",
        requiredCapabilities: [],
      });
      const other = await b.submit({
        namespace: "other",
        lane: "default",
        requiredCapabilities: [],
      });
      const cpu = await b.claim(claimReq("c1", "cpu"));
      assert.deepEqual(cpu.leases.map((l) => l.executionId), [any.executionId]);
      assert.equal(cpu.mismatched, 3);
      assert.deepEqual(cpu.blocked, []);
      const g = await b.claim(claimReq("g1", "gpu"));
      assert.deepEqual(g.leases.map((l) => l.executionId), [gpu.executionId]);
      const gc = await b.claim(claimReq("g2", "cuda,fp16,gpu"));
      assert.deepEqual(gc.leases.map((l) => l.executionId), [both.executionId]);
      const u = await b.claim(claimReq("u1", "GPU"));
      assert.deepEqual(u.leases.map((l) => l.executionId), [upper.executionId]);
      const mismatch = await b.getExecution(upper.executionId);
      assert.ok((mismatch?.lastCapabilityMismatchAt ?? 0) > 0);
      assert.equal(
        (await b.getExecution(other.executionId))?.lifecyclePhase,
        "runnable",
      );
      const o = await b.claim(claimReq("o1", "", { namespace: "other" }));
      assert.equal(o.leases.length, 1);
      // priority: higher first, then older
      const uuids: string[] = [];
      for (let i = 0; uuids.length < 2; i++) {
        const u = `00000000-0000-4000-8000-${String(i).padStart(12, "0")}`;
        if (flowPartitionOf(u, 256) === 3) uuids.push(u);
      }
      const low = await b.submit({
        namespace: "ns",
        lane: "default",
        requiredCapabilities: [],
        priority: 1,
        uuid: uuids[0],
      });
      ctx.advance(1);
      const high = await b.submit({
        namespace: "ns",
        lane: "default",
        requiredCapabilities: [],
        priority: 5,
        uuid: uuids[1],
      });
      const first = await b.claim(
        claimReq("p1", "", {
          max: 1,
          partitions: [Number(/\d+/.exec(low.executionId)![0])],
        }),
      );
      assert.equal(first.leases[0].executionId, high.executionId);
    },
  ],
  [
    "routing: blocked when no registered worker can run it, promoted when one joins",
    async (ctx) => {
      const b = ctx.backend;
      await register(ctx, "cpu-1", "cpu");
      const job = await b.submit({
        namespace: "ns",
        lane: "default",
        requiredCapabilities: ["fpga"],
      });
      const c = await b.claim(claimReq("cpu-1", "cpu"));
      assert.deepEqual(c.blocked, [job.executionId]);
      let rec = await b.getExecution(job.executionId);
      assert.equal(rec?.eligibilityState, "blocked_by_route");
      assert.equal(rec?.blockingReason, "waiting_for_capable_worker");
      assert.equal(rec?.publicState, "rate_limited");
      const p = /\{fp:(\d+)\}/.exec(job.executionId)![1];
      assert.equal(
        await b.command([
          "ZSCORE",
          `ff:idx:{fp:${p}}:lane:default:eligible`,
          job.executionId,
        ]),
        null,
      );
      assert.notEqual(
        await b.command([
          "ZSCORE",
          `ff:idx:{fp:${p}}:lane:default:blocked:route`,
          job.executionId,
        ]),
        null,
      );
      assert.deepEqual((await b.unblockScan(256)).moved, []);
      // a worker with a superset joins
      await register(ctx, "fpga-1", "fpga,gpu");
      assert.deepEqual((await b.unblockScan(256)).moved, [job.executionId]);
      rec = await b.getExecution(job.executionId);
      assert.equal(rec?.eligibilityState, "eligible_now");
      assert.equal(rec?.blockingReason, "waiting_for_worker");
      const f = await b.claim(claimReq("fpga-1", "fpga,gpu"));
      assert.deepEqual(f.leases.map((l) => l.executionId), [job.executionId]);
    },
  ],
  [
    "routing: a mismatch stays eligible while a capable worker is registered",
    async (ctx) => {
      const b = ctx.backend;
      await register(ctx, "gpu-1", "gpu");
      const job = await b.submit({
        namespace: "ns",
        lane: "default",
        requiredCapabilities: ["gpu"],
      });
      const c = await b.claim(claimReq("cpu-1", "cpu"));
      assert.equal(c.mismatched, 1);
      assert.deepEqual(c.blocked, []);
      assert.equal(
        (await b.getExecution(job.executionId))?.eligibilityState,
        "eligible_now",
      );
    },
  ],
  [
    "routing: the union of two workers is not enough (per-worker superset)",
    async (ctx) => {
      const b = ctx.backend;
      await register(ctx, "a", "gpu");
      await register(ctx, "b", "cuda");
      const job = await b.submit({
        namespace: "ns",
        lane: "default",
        requiredCapabilities: ["gpu", "cuda"],
      });
      const c = await b.claim(claimReq("a", "gpu"));
      assert.deepEqual(c.blocked, [job.executionId]);
      assert.deepEqual((await b.unblockScan(256)).moved, []);
    },
  ],
  [
    "routing: unreadable caps (WRONGTYPE) fail open in the unblock scan",
    async (ctx) => {
      const b = ctx.backend;
      const job = await b.submit({
        namespace: "ns",
        lane: "default",
        requiredCapabilities: ["gpu"],
      });
      await b.claim(claimReq("cpu-1", "cpu"));
      assert.equal(
        (await b.getExecution(job.executionId))?.eligibilityState,
        "blocked_by_route",
      );
      await b.command(["SET", "ff:worker:ns:weird:caps", "not-a-hash"]);
      await b.command(["SADD", "ff:idx:ns:workers", "weird"]);
      assert.deepEqual((await b.unblockScan(256)).moved, [job.executionId]);
    },
  ],
  ["leases: renew, complete, stale and expired fences", async (ctx) => {
    const b = ctx.backend;
    const job = await b.submit({
      namespace: "ns",
      lane: "default",
      requiredCapabilities: [],
    });
    const [lease] = (await b.claim(claimReq("w", ""))).leases;
    assert.equal(lease.attempt, 1);
    assert.equal(lease.epoch, 1);
    assert.equal(lease.expiresAt, ctx.now() + 1000);
    ctx.advance(900);
    assert.equal(await b.renew(lease, 1000), ctx.now() + 1000);
    ctx.advance(900); // still alive thanks to the renewal
    await rejects(b.complete({ ...lease, epoch: 7 }), "stale_lease");
    await rejects(b.complete({ ...lease, leaseId: "nope" }), "stale_lease");
    await rejects(
      b.complete({
        ...lease,
        executionId: "{fp:1}:00000000-0000-4000-8000-00000000dead",
      }),
      "execution_not_found",
    );
    await b.complete(lease, "42");
    const rec = await b.getExecution(job.executionId);
    assert.equal(rec?.terminalOutcome, "success");
    assert.equal(rec?.result, "42");
    assert.equal(rec?.publicState, "completed");
    await rejects(b.complete(lease), "execution_not_active");
    // expired lease cannot renew or complete
    await b.submit({
      namespace: "ns",
      lane: "default",
      requiredCapabilities: [],
    });
    const [late] = (await b.claim(claimReq("w", ""))).leases;
    ctx.advance(1000);
    await rejects(b.renew(late, 1000), "lease_expired");
    await rejects(b.complete(late), "lease_expired");
  }],
  [
    "leases: fail requeues while attempts remain, then fails for good",
    async (ctx) => {
      const b = ctx.backend;
      const job = await b.submit({
        namespace: "ns",
        lane: "default",
        requiredCapabilities: [],
        maxAttempts: 2,
      });
      let [lease] = (await b.claim(claimReq("w", ""))).leases;
      assert.equal(await b.fail(lease, "oops", true), "requeued");
      assert.equal(
        (await b.getExecution(job.executionId))?.eligibilityState,
        "eligible_now",
      );
      [lease] = (await b.claim(claimReq("w", ""))).leases;
      assert.equal(lease.attempt, 2);
      assert.equal(lease.epoch, 2);
      assert.equal(await b.fail(lease, "oops again", true), "failed");
      const rec = await b.getExecution(job.executionId);
      assert.equal(rec?.terminalOutcome, "failed");
      assert.equal(rec?.result, "oops again");
      const other = await b.submit({
        namespace: "ns",
        lane: "default",
        requiredCapabilities: [],
      });
      [lease] = (await b.claim(claimReq("w", ""))).leases;
      assert.equal(await b.fail(lease, "fatal", false), "failed");
      assert.equal(
        (await b.getExecution(other.executionId))?.terminalOutcome,
        "failed",
      );
    },
  ],
  [
    "lease expiry while a job runs: requeued, retried elsewhere, done once",
    async (ctx) => {
      const b = ctx.backend;
      await register(ctx, "a", "gpu");
      await register(ctx, "b", "gpu");
      const job = await b.submit({
        namespace: "ns",
        lane: "default",
        requiredCapabilities: ["gpu"],
        maxAttempts: 2,
      });
      const [first] = (await b.claim(claimReq("a", "gpu"))).leases;
      ctx.advance(500);
      assert.deepEqual((await b.expireLeases(256)).moved, []);
      ctx.advance(500); // a stopped renewing: its lease runs out
      await rejects(b.renew(first, 1000), "lease_expired");
      assert.deepEqual((await b.expireLeases(256)).moved, [job.executionId]);
      const [second] = (await b.claim(claimReq("b", "gpu"))).leases;
      assert.equal(second.executionId, job.executionId);
      assert.equal(second.attempt, 2);
      assert.equal(second.epoch, 2);
      await rejects(b.complete(first), "stale_lease");
      await b.complete(second, "by b");
      const rec = await b.getExecution(job.executionId);
      assert.equal(rec?.terminalOutcome, "success");
      assert.equal(rec?.workerInstanceId, "b");
      // out of attempts: the expiry scan fails it for good
      const last = await b.submit({
        namespace: "ns",
        lane: "default",
        requiredCapabilities: [],
        maxAttempts: 1,
      });
      await b.claim(claimReq("a", ""));
      ctx.advance(1000);
      assert.deepEqual((await b.expireLeases(256)).failed, [last.executionId]);
      assert.equal(
        (await b.getExecution(last.executionId))?.result,
        "lease expired",
      );
    },
  ],
  [
    "1,000 jobs over 4 workers with random capability sets: each done once by a capable worker",
    async (ctx) => {
      const b = ctx.backend;
      const rand = prng(17);
      const universe = [
        "gpu",
        "cuda",
        "cpu",
        "fpga",
        "avx512",
        "arm",
        "\u00e9t\u00e9",
        "\u{1f680}",
      ];
      const pick = (p: number) => universe.filter(() => rand() < p);
      const workers = Array.from({ length: 4 }, (_, i) => ({
        iid: `rw${i}`,
        caps: [...new Set([universe[i], ...pick(0.4)])],
      }));
      for (const w of workers) {
        await register(ctx, w.iid, [...w.caps].sort().join(","));
      }
      const jobs = new Map<string, string[]>();
      for (let i = 0; i < 1000; i++) {
        const owner = workers[Math.floor(rand() * 4)];
        const required = owner.caps.filter(() => rand() < 0.5);
        const e = await b.submit({
          namespace: "ns",
          lane: "default",
          requiredCapabilities: required,
          maxAttempts: 5,
        });
        jobs.set(e.executionId, required);
      }
      const done = new Map<string, string>();
      const csvOf = new Map(
        workers.map((w) => [w.iid, [...w.caps].sort().join(",")]),
      );
      for (let round = 0; done.size < 1000 && round < 400; round++) {
        for (const w of workers) {
          const got = await b.claim(claimReq(w.iid, csvOf.get(w.iid)!, {
            max: 16,
            partitions: ALL.slice((round * 64) % 256, (round * 64) % 256 + 64),
          }));
          for (const lease of got.leases) {
            if (rand() < 0.03) continue; // this worker "dies": its lease will expire
            assert.ok(capabilitiesSatisfy(lease.requiredCapabilities, w.caps));
            assert.ok(!done.has(lease.executionId), "done twice");
            await b.complete(lease, w.iid);
            done.set(lease.executionId, w.iid);
          }
        }
        ctx.advance(1001);
        await b.expireLeases(256);
      }
      assert.equal(done.size, 1000);
      for (const [eid, required] of jobs) {
        const rec = await b.getExecution(eid);
        assert.equal(rec?.terminalOutcome, "success");
        assert.equal(rec?.result, done.get(eid));
        const caps = workers.find((w) => w.iid === done.get(eid))!.caps;
        assert.ok(required.every((t) => caps.includes(t)));
      }
    },
  ],
  [
    "runtime: 4 workers with random capability sets run 1,000 jobs, each once by a capable worker",
    async (ctx) => {
      const b = ctx.backend;
      const rand = prng(99);
      const universe = ["gpu", "cuda", "cpu", "fpga", "arm"];
      const sets = Array.from({ length: 4 }, (_, i) => [
        ...new Set([universe[i], ...universe.filter(() => rand() < 0.4)]),
      ]);
      const done = new Map<string, string>();
      const problems: string[] = [];
      const workers = [];
      for (let i = 0; i < 4; i++) {
        const iid = `rt${i}`;
        workers.push(
          await startCapsWorker(
            b,
            worker(iid, sets[i], {
              claimPollIntervalMs: 5,
              maxConcurrentTasks: 8,
              leaseTtlMs: 60_000,
            }),
            {
              partitionsPerPoll: 256,
              handler: () => Promise.resolve({ status: "done", result: iid }),
              onFinished: (task, outcome) => {
                if (outcome !== "done") {
                  problems.push(`${outcome} ${task.lease.executionId}`);
                }
                if (done.has(task.lease.executionId)) {
                  problems.push(`twice ${task.lease.executionId}`);
                }
                if (
                  !capabilitiesSatisfy(task.lease.requiredCapabilities, sets[i])
                ) {
                  problems.push(`incapable ${iid}`);
                }
                done.set(task.lease.executionId, iid);
              },
            },
          ),
        );
      }
      try {
        for (let i = 0; i < 1000; i++) {
          const owner = sets[Math.floor(rand() * 4)];
          await b.submit({
            namespace: "ns",
            lane: "default",
            requiredCapabilities: owner.filter(() => rand() < 0.5),
          });
        }
        const deadline = Date.now() + 60_000;
        while (done.size < 1000 && Date.now() < deadline) {
          await new Promise((r) => setTimeout(r, 20));
        }
        assert.deepEqual(problems, []);
        assert.equal(done.size, 1000);
      } finally {
        for (const w of workers) await w.stop();
      }
    },
  ],
];

function defineSuite(
  kind: "embedded" | "redis",
  make: () => Promise<{ ctx: Ctx; dispose(): Promise<void> }>,
): void {
  Deno.test({
    name: `caps backend suite: ${kind}`,
    sanitizeOps: false,
    sanitizeResources: false,
    fn: async (t) => {
      for (const [name, run] of CASES) {
        await t.step(name, async () => {
          const { ctx, dispose } = await make();
          try {
            await run(ctx);
          } finally {
            await dispose();
          }
        });
      }
    },
  });
}

defineSuite("embedded", () => {
  let now = 1_700_000_000_000;
  let log: string[] | undefined;
  const backend = new EmbeddedCapsBackend({
    now: () => now,
    onCommand: (c: ServerCommand) => log?.push(c.join(" ")),
  });
  const ctx: Ctx = {
    backend,
    kind: "embedded",
    now: () => now,
    advance: (ms) => {
      now += ms;
    },
    observe: () => {
      log = [];
      return Promise.resolve(() => {
        const out = log ?? [];
        log = undefined;
        return Promise.resolve(out);
      });
    },
  };
  return Promise.resolve({ ctx, dispose: () => backend.close() });
});

const mode = await redisTestMode();
if (mode === "fail") {
  Deno.test("caps backend suite: redis", () => {
    throw new Error("redis-server is missing and CI=true");
  });
} else if (mode === "skip") {
  Deno.test({ name: "caps backend suite: redis", ignore: true, fn() {} });
} else {
  Deno.test({
    name: "caps backend suite: redis (server lifetime)",
    sanitizeOps: false,
    sanitizeResources: false,
    fn: async (t) => {
      const server = (await startRedisServer())!;
      try {
        let now = Date.now();
        const backend = await connectRedisBackend({
          url: server.url,
          now: () => now,
        });
        const monitor = await connectRedisBackend({ url: server.url });
        try {
          for (const [name, run] of CASES) {
            await t.step(name, async () => {
              await backend.command(["FLUSHALL"]);
              const ctx: Ctx = {
                backend,
                kind: "redis",
                now: () => now,
                advance: (ms) => {
                  now += ms;
                },
                observe: () => observeMonitor(monitor),
              };
              await run(ctx);
            });
          }
        } finally {
          await backend.close();
          await monitor.close();
        }
      } finally {
        await server.stop();
      }
    },
  });
}

async function observeMonitor(
  monitorBackend: RedisCapsBackend,
): Promise<() => Promise<string[]>> {
  const seen: string[] = [];
  const stop = await monitorBackend.monitor((args) => {
    seen.push(args.join(" "));
  });
  return async () => {
    // MONITOR lines trail the replies by a moment.
    const until = Date.now() + 2000;
    let last = -1;
    while (Date.now() < until) {
      await new Promise((r) => setTimeout(r, 50));
      if (seen.length === last) break;
      last = seen.length;
    }
    stop();
    return seen.filter((line) =>
      !/^(EVALSHA|SCRIPT|TIME|FLUSHALL)\b/i.test(line)
    );
  };
}
