/**
 * Loopback throughput of loom connections against raw-socket baselines, on
 * unix and tcp sockets (run: `deno run -A bench/loopback.ts [--quick] [--json]`).
 *
 * The far end runs in a Web Worker (its own thread and event loop). Every
 * figure is the median of several timed runs:
 *
 * 1. small request/response rate with 1 and 64 calls in flight
 *    (`get_worker_stats` -> `worker_stats`) vs two raw length-prefixed
 *    echo baselines of 96-byte frames (no CBOR) with the same number in
 *    flight: `raw echo` (pure batched socket echo: no per-message work at
 *    all) and `raw framed calls` (one promise per call, resolved by id, as
 *    an RPC API does, but without CBOR or a session);
 * 2. bulk: `update_file` calls carrying 1 MiB of text, and `index_shard`
 *    calls carrying 1,000 files of 2 KiB, in MB/s of file text, vs a raw
 *    one-way socket stream written in 1 MiB pieces.
 *
 * All connections stay open for the whole run and every round measures
 * every workload once, so each ratio is taken within one round (robust to
 * background load drifting); the ratios printed are medians over rounds.
 *
 * Targets: 64-in-flight small RPC >= 50% of the raw echo; 1 MiB bulk >= 80%
 * of the raw stream; IndexShard >= 50% of the raw stream.
 *
 * @module
 */

import {
  median,
  openRaw,
  openRpc,
  rawEcho,
  rawEchoCalls,
  rawStream,
  rpcBulk,
  rpcIndexShard,
  rpcSmall,
  shardFiles,
  text,
} from "./_loopback.ts";

const QUICK = Deno.args.includes("--quick");
const ROUNDS = QUICK ? 3 : 9;
const smallCount = QUICK ? 2_000 : 4_000;
const pipelinedCount = QUICK ? 20_000 : 40_000;
const bulkCalls = QUICK ? 12 : 32;
const shardCalls = QUICK ? 4 : 8;
const bigFile = text(1 << 20, 1);
const files = shardFiles(1000, 2048);

type Metric = [key: string, label: string];
const METRICS: Metric[] = [
  ["raw_echo_1", "raw echo, 1 in flight (msg/s)"],
  ["raw_echo_64", "raw echo, 64 in flight (msg/s)"],
  ["raw_calls_1", "raw framed calls, 1 in flight (calls/s)"],
  ["raw_calls_64", "raw framed calls, 64 in flight (calls/s)"],
  ["rpc_1", "rpc small, 1 in flight (calls/s)"],
  ["rpc_64", "rpc small, 64 in flight (calls/s)"],
  ["raw_stream", "raw stream, 1 MiB writes (MB/s)"],
  ["bulk_1", "rpc 1 MiB update_file, 1 in flight (MB/s)"],
  ["bulk_4", "rpc 1 MiB update_file, 4 in flight (MB/s)"],
  ["index_shard", "rpc index_shard 1000 x 2 KiB (MB/s)"],
  ["bulk_1_zstd", "rpc 1 MiB update_file, zstd on (MB/s)"],
  ["index_shard_zstd", "rpc index_shard, zstd on (MB/s)"],
];
const RATIOS: [string, string, string][] = [
  ["rpc_1", "raw_echo_1", ""],
  ["rpc_64", "raw_echo_64", "target 50%"],
  ["rpc_1", "raw_calls_1", ""],
  ["rpc_64", "raw_calls_64", ""],
  ["bulk_1", "raw_stream", "target 80%"],
  ["bulk_4", "raw_stream", "target 80%"],
  ["index_shard", "raw_stream", "target 50%"],
  ["index_shard_zstd", "raw_stream", ""],
];

const summary: Record<string, number> = {};
const dir = await Deno.makeTempDir({ prefix: "loom-bench-" });
try {
  for (const transport of ["unix", "tcp"] as const) {
    const echo = await openRaw(transport, dir, (address) => ({
      kind: "echo",
      address,
    }));
    const sink = await openRaw(transport, dir, (address) => ({
      kind: "sink",
      address,
      ackEvery: 1 << 20,
    }));
    const plain = await openRpc(transport, dir, false);
    const zstd = await openRpc(transport, dir, true);
    const runs: Record<string, () => Promise<number>> = {
      raw_echo_1: () => rawEcho(echo.conn, 1, smallCount, 96),
      raw_echo_64: () => rawEcho(echo.conn, 64, pipelinedCount, 96),
      raw_calls_1: () => rawEchoCalls(echo.conn, 1, smallCount, 96),
      raw_calls_64: () => rawEchoCalls(echo.conn, 64, pipelinedCount, 96),
      rpc_1: () => rpcSmall(plain.conn, 1, smallCount),
      rpc_64: () => rpcSmall(plain.conn, 64, pipelinedCount),
      raw_stream: () => rawStream(sink.conn, bulkCalls << 20),
      bulk_1: () => rpcBulk(plain.conn, bulkCalls, 1, bigFile),
      bulk_4: () => rpcBulk(plain.conn, bulkCalls, 4, bigFile),
      index_shard: () => rpcIndexShard(plain.conn, shardCalls, files),
      bulk_1_zstd: () => rpcBulk(zstd.conn, bulkCalls, 1, bigFile),
      index_shard_zstd: () => rpcIndexShard(zstd.conn, shardCalls, files),
    };
    const values: Record<string, number[]> = {};
    const ratios: Record<string, number[]> = {};
    try {
      for (const run of Object.values(runs)) await run(); // warm-up
      for (let round = 0; round < ROUNDS; round++) {
        const got: Record<string, number> = {};
        for (const [key] of METRICS) {
          got[key] = await runs[key]();
          (values[key] ??= []).push(got[key]);
        }
        for (const [a, b] of RATIOS) {
          (ratios[`${a}/${b}`] ??= []).push(got[a] / got[b]);
        }
      }
    } finally {
      await echo.close();
      await sink.close();
      await plain.close();
      await zstd.close();
    }
    console.log(`${transport} (median of ${ROUNDS} rounds):`);
    for (const [key, label] of METRICS) {
      const m = median(values[key]);
      summary[`${transport}.${key}`] = m;
      console.log(`  ${label.padEnd(44)} ${m.toFixed(1).padStart(11)}`);
    }
    for (const [a, b, note] of RATIOS) {
      const m = median(ratios[`${a}/${b}`]);
      summary[`${transport}.${a}/${b}`] = m;
      console.log(
        `  ratio ${`${a} / ${b}`.padEnd(38)} ${
          (100 * m).toFixed(0).padStart(10)
        }%${note ? `  (${note})` : ""}`,
      );
    }
  }
} finally {
  await Deno.remove(dir, { recursive: true });
}
if (Deno.args.includes("--json")) console.log(JSON.stringify(summary));
