/**
 * Caps throughput and latency (run: `deno task bench:caps [--quick]
 * [--json]`): claim → complete throughput with 1 and 4 workers on a
 * throwaway `redis-server` (loopback) and on the embedded backend, and
 * the connect preamble's latency on both.
 *
 * Each worker is a loop on its own backend connection: claim up to 16
 * executions (one script call), complete them (concurrently, auto-
 * pipelined), repeat until the queue is empty. Jobs are submitted before
 * the clock starts; every job requires `gpu` and every worker has
 * `cuda,gpu`. Every round measures every setup once, so the embedded /
 * server ratio is taken within one round; figures are medians over rounds.
 *
 * Targets: ≥ 5,000 claims/s with 4 workers on the server; embedded ≥ 10×.
 *
 * The embedded runs also report this process's CPU time per claim (claim
 * + complete, garbage collection included) and its share of one core
 * during the run: on a shared machine the wall-clock rate is that share
 * divided by the CPU cost, so both are printed.
 *
 * @module
 */

import process from "node:process";
import type { CapsBackend } from "../lib/caps/backend.ts";
import { EmbeddedCapsBackend } from "../lib/caps/embedded_backend.ts";
import { MemoryKeyspace } from "../lib/caps/memory_keyspace.ts";
import { runPreamble } from "../lib/caps/runtime/preamble_runner.ts";
import { connectRedisBackend } from "../lib/caps/runtime/redis_backend.ts";
import { startRedisServer } from "../lib/testing/redis_server.ts";

const QUICK = Deno.args.includes("--quick");
const JSON_OUT = Deno.args.includes("--json");
const ROUNDS = QUICK ? 3 : 7;
const JOBS_SERVER = QUICK ? 4_000 : 10_000;
const JOBS_EMBEDDED = QUICK ? 20_000 : 50_000;
const BATCH = 16;
const PREAMBLES = QUICK ? 100 : 300;
const ALL = Array.from({ length: 256 }, (_, i) => i);

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

async function fill(backend: CapsBackend, jobs: number): Promise<void> {
  for (let i = 0; i < jobs; i += 500) {
    const n = Math.min(500, jobs - i);
    await Promise.all(
      Array.from({ length: n }, () =>
        backend.submit({
          namespace: "bench",
          lane: "default",
          requiredCapabilities: ["gpu"],
        })),
    );
  }
}

async function workerLoop(
  backend: CapsBackend,
  iid: string,
  start: number,
): Promise<number> {
  let done = 0;
  let cursor = start;
  let emptyScans = 0;
  while (emptyScans < 256 / 32) {
    const partitions = ALL.slice(cursor, cursor + 32);
    cursor = (cursor + 32) % 256;
    const { leases } = await backend.claim({
      namespace: "bench",
      workerId: "pool",
      workerInstanceId: iid,
      lane: "default",
      capabilitiesCsv: "cuda,gpu",
      leaseTtlMs: 30_000,
      max: BATCH,
      partitions,
    });
    if (leases.length === 0) {
      emptyScans++;
      continue;
    }
    emptyScans = 0;
    await Promise.all(leases.map((l) => backend.complete(l)));
    done += leases.length;
  }
  return done;
}

interface Throughput {
  /** Claims per wall-clock second. */
  readonly rate: number;
  /** This process's CPU µs per claim (user + system). */
  readonly cpuUsPerClaim: number;
  /** This process's CPU time over wall time. */
  readonly cpuShare: number;
}

async function throughput(
  backends: CapsBackend[],
  jobs: number,
  reset: () => Promise<void>,
): Promise<Throughput> {
  await reset();
  await fill(backends[0], jobs);
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const counts = await Promise.all(
    backends.map((b, i) => workerLoop(b, `w${i}`, (i * 64) % 256)),
  );
  const ms = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  const total = counts.reduce((a, b) => a + b, 0);
  if (total !== jobs) throw new Error(`claimed ${total} of ${jobs}`);
  const cpuUs = cpu.user + cpu.system;
  return {
    rate: total / (ms / 1000),
    cpuUsPerClaim: cpuUs / total,
    cpuShare: cpuUs / (ms * 1000),
  };
}

async function preambleLatency(
  backend: CapsBackend,
  count: number,
): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < count; i++) {
    const t0 = performance.now();
    await runPreamble(backend, {
      workerId: "pool",
      workerInstanceId: `p-${crypto.randomUUID()}`,
      namespace: "bench",
      lanes: ["default"],
      capabilities: ["gpu", "cuda"],
    });
    times.push(performance.now() - t0);
  }
  return median(times);
}

const server = await startRedisServer();
if (server === undefined) {
  console.error("bench:caps: redis-server is missing");
  Deno.exit(1);
}
try {
  const redis = await Promise.all(
    Array.from({ length: 4 }, () => connectRedisBackend({ url: server.url })),
  );
  const keyspace = new MemoryKeyspace();
  const embedded = Array.from(
    { length: 4 },
    () => new EmbeddedCapsBackend({ keyspace }),
  );
  const resetRedis = async () => {
    await redis[0].command(["FLUSHALL"]);
  };
  const resetEmbedded = () => {
    keyspace.flushAll();
    return Promise.resolve();
  };
  const values: Record<string, number[]> = {
    server_1: [],
    server_4: [],
    embedded_1: [],
    embedded_4: [],
    ratio_4: [],
    ratio_1: [],
    embedded_cpu_us_1: [],
    embedded_cpu_us_4: [],
    embedded_cpu_share_4: [],
  };
  // warm-up: one full embedded run, so the first rounds do not measure
  // the compiler
  await throughput(redis, 1000, resetRedis);
  await throughput(embedded, JOBS_EMBEDDED, resetEmbedded);
  for (let round = 0; round < ROUNDS; round++) {
    const s1 = (await throughput(redis.slice(0, 1), JOBS_SERVER, resetRedis))
      .rate;
    const s4 = (await throughput(redis, JOBS_SERVER, resetRedis)).rate;
    const run1 = await throughput(
      embedded.slice(0, 1),
      JOBS_EMBEDDED,
      resetEmbedded,
    );
    const run4 = await throughput(embedded, JOBS_EMBEDDED, resetEmbedded);
    const e1 = run1.rate;
    const e4 = run4.rate;
    values.embedded_cpu_us_1.push(run1.cpuUsPerClaim);
    values.embedded_cpu_us_4.push(run4.cpuUsPerClaim);
    values.embedded_cpu_share_4.push(run4.cpuShare);
    values.server_1.push(s1);
    values.server_4.push(s4);
    values.embedded_1.push(e1);
    values.embedded_4.push(e4);
    values.ratio_1.push(e1 / s1);
    values.ratio_4.push(e4 / s4);
    if (!JSON_OUT) {
      console.error(
        `round ${round + 1}/${ROUNDS}: server ${s1.toFixed(0)} / ${
          s4.toFixed(0)
        }, embedded ${e1.toFixed(0)} / ${e4.toFixed(0)} claims/s (${
          run4.cpuUsPerClaim.toFixed(1)
        } µs CPU per claim, ${(run4.cpuShare * 100).toFixed(0)}% of a core)`,
      );
    }
  }
  await resetRedis();
  const preServer = await preambleLatency(redis[0], PREAMBLES);
  const preEmbedded = await preambleLatency(embedded[0], PREAMBLES);
  const summary = {
    server_1: median(values.server_1),
    server_4: median(values.server_4),
    embedded_1: median(values.embedded_1),
    embedded_4: median(values.embedded_4),
    ratio_1: median(values.ratio_1),
    ratio_4: median(values.ratio_4),
    embedded_cpu_us_1: median(values.embedded_cpu_us_1),
    embedded_cpu_us_4: median(values.embedded_cpu_us_4),
    embedded_cpu_share_4: median(values.embedded_cpu_share_4),
    preamble_server_ms: preServer,
    preamble_embedded_ms: preEmbedded,
  };
  if (JSON_OUT) {
    console.log(JSON.stringify(summary));
  } else {
    const rows: [string, string][] = [
      ["server, 1 worker (claims/s)", summary.server_1.toFixed(0)],
      [
        "server, 4 workers (claims/s)",
        `${summary.server_4.toFixed(0)} (target 5000)`,
      ],
      ["embedded, 1 worker (claims/s)", summary.embedded_1.toFixed(0)],
      ["embedded, 4 workers (claims/s)", summary.embedded_4.toFixed(0)],
      ["embedded / server, 1 worker", `${summary.ratio_1.toFixed(1)}x`],
      [
        "embedded / server, 4 workers",
        `${summary.ratio_4.toFixed(1)}x (target 10x)`,
      ],
      [
        "embedded CPU per claim, 1 / 4 (µs)",
        `${summary.embedded_cpu_us_1.toFixed(1)} / ${
          summary.embedded_cpu_us_4.toFixed(1)
        }`,
      ],
      [
        "embedded CPU share, 4 workers",
        `${(summary.embedded_cpu_share_4 * 100).toFixed(0)}% of a core`,
      ],
      ["preamble latency, server (ms)", summary.preamble_server_ms.toFixed(3)],
      [
        "preamble latency, embedded (ms)",
        summary.preamble_embedded_ms.toFixed(3),
      ],
    ];
    console.log(`caps bench: median of ${ROUNDS} rounds`);
    for (const [label, value] of rows) {
      console.log(`  ${label.padEnd(34)} ${value}`);
    }
  }
  for (const b of redis) await b.close();
} finally {
  await server.stop();
}
