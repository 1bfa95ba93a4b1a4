/**
 * Cluster formation benchmarks (run: `deno task bench:seed [--quick]`):
 *
 * 1. formation of 16 local processes: a seed process plus 16 `join`
 *    processes; reported are the whole wall time from spawning the joiners
 *    to "formed" and to every mesh being ready, the seed-side window from
 *    the first admission to "formed", and, in the same round, the start-up
 *    time of one bare `join --help` process (what process start costs on
 *    this machine); target: formation ≤ 2 s;
 * 2. in-process formation of 16 members (key generation, CSR, handshakes,
 *    certificates, full mTLS mesh) for comparison with (1);
 * 3. join-to-mesh-ready latency of one elastic joiner into a formed
 *    4-member cluster (key generation to mesh ready);
 * 4. failure-detection latency for a silent peer (stops sending, keeps its
 *    sockets) with a 1 s timeout and a 250 ms heartbeat interval:
 *    distribution from the moment it went silent to `peer_dead` at a
 *    survivor; target p99 ≤ 1.5 s.
 *
 * @module
 */

import { spawnLoom, stopAll } from "../cli/cluster_procs.ts";
import { SeedNode } from "../lib/seed/runtime/seed_node.ts";
import { type ClusterMember, joinCluster } from "../lib/seed/runtime/joiner.ts";
import { generateToken } from "../lib/seed/runtime/token.ts";
import { createLogger } from "../lib/net/log.ts";

const quick = Deno.args.includes("--quick");
const quiet = createLogger({ level: "error", write: () => {} });

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m] : (s[m - 1] + s[m]) / 2;
}

function pct(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)];
}

const fmt = (ms: number): string => `${ms.toFixed(0)} ms`;

async function processFormation(n: number): Promise<Record<string, number>> {
  const dir = await Deno.makeTempDir({ prefix: "loom-bench-seed-" });
  const seed = spawnLoom("seed", [
    "seed",
    "--world-size",
    String(n),
    "--listen",
    "127.0.0.1:0",
    "--token-file",
    `${dir}/token`,
    "--formation-timeout",
    "180000",
  ]);
  const times = new Map<string, number>();
  seed.onLine = (l) => {
    if (l.startsWith("admitted") && !times.has("first")) {
      times.set("first", performance.now());
    }
    if (l.startsWith("formed")) times.set("formed", performance.now());
  };
  const procs = [seed];
  try {
    const addr = (await seed.until(/^seed listening on /)).split(" ")[3];
    const t0 = performance.now();
    const joins = Array.from({ length: n }, (_, i) =>
      spawnLoom(`j${i}`, [
        "join",
        "--seed",
        addr,
        "--token-file",
        `${dir}/token`,
        "--listen",
        "127.0.0.1:0",
        "--join-timeout",
        "190000",
      ]));
    procs.push(...joins);
    await seed.until(/^formed /, 180_000);
    await Promise.all(joins.map((j) => j.until(/^mesh ready/, 120_000)));
    const meshed = performance.now();
    const s0 = performance.now();
    const help = spawnLoom("help", ["join", "--help"]);
    await help.status;
    const startup = performance.now() - s0;
    return {
      spawnToFormed: times.get("formed")! - t0,
      spawnToMeshReady: meshed - t0,
      seedWindow: times.get("formed")! - times.get("first")!,
      processStartup: startup,
    };
  } finally {
    await stopAll(procs);
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}

async function inProcessFormation(
  n: number,
): Promise<{ formed: number; meshed: number }> {
  const token = generateToken();
  const seed = await SeedNode.bind("127.0.0.1:0", {
    expectedWorldSize: n,
    token,
    logger: quiet,
  });
  const t0 = performance.now();
  const members = await Promise.all(
    Array.from({ length: n }, () =>
      joinCluster({
        seed: `127.0.0.1:${seed.address.port}`,
        token,
        listen: "127.0.0.1:0",
        logger: quiet,
      })),
  );
  const formed = performance.now() - t0;
  await Promise.all(members.map((m) => m.whenMeshReady()));
  const meshed = performance.now() - t0;
  for (const m of members) await m.close();
  await seed.close();
  return { formed, meshed };
}

async function elasticJoin(runs: number): Promise<number[]> {
  const token = generateToken();
  const seed = await SeedNode.bind("127.0.0.1:0", {
    expectedWorldSize: 4,
    maxWorldSize: 5,
    token,
    logger: quiet,
  });
  const opts = {
    seed: `127.0.0.1:${seed.address.port}`,
    token,
    listen: "127.0.0.1:0",
    logger: quiet,
  };
  const members = await Promise.all([0, 1, 2, 3].map(() => joinCluster(opts)));
  await Promise.all(members.map((m) => m.whenMeshReady()));
  const out: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    const x = await joinCluster(opts);
    await x.whenMeshReady();
    out.push(performance.now() - t0);
    await x.leave();
    while (seed.snapshot.members.length !== 4) {
      await new Promise((r) => setTimeout(r, 10));
    }
    await x.close();
  }
  for (const m of members) await m.close();
  await seed.close();
  return out;
}

async function detection(runs: number): Promise<number[]> {
  const out: number[] = [];
  const timing = { heartbeatIntervalMs: 250, heartbeatTimeoutMs: 1000 };
  for (let i = 0; i < runs; i++) {
    const token = generateToken();
    const seed = await SeedNode.bind("127.0.0.1:0", {
      expectedWorldSize: 2,
      token,
      logger: quiet,
      ...timing,
    });
    const members: ClusterMember[] = await Promise.all(
      [0, 1].map(() =>
        joinCluster({
          seed: `127.0.0.1:${seed.address.port}`,
          token,
          listen: "127.0.0.1:0",
          logger: quiet,
          ...timing,
        })
      ),
    );
    await Promise.all(members.map((m) => m.whenMeshReady()));
    // Go silent at a random phase of the heartbeat period.
    await new Promise((r) => setTimeout(r, Math.random() * 250));
    const dead = new Promise<number>((resolve) =>
      members[0].on((e) => {
        if (e.type === "peer_dead") resolve(performance.now());
      })
    );
    const t0 = performance.now();
    members[1].goSilent();
    out.push((await dead) - t0);
    for (const m of members) await m.close();
    await seed.close();
  }
  return out;
}

async function main(): Promise<void> {
  const rounds = quick ? 1 : 3;
  console.log(`seed benchmarks (${rounds} round(s) of process formation)`);
  const proc: Record<string, number>[] = [];
  for (let r = 0; r < rounds; r++) proc.push(await processFormation(16));
  const col = (k: string): number => median(proc.map((p) => p[k]));
  console.log(
    `1. 16 processes: spawn→formed ${
      fmt(col("spawnToFormed"))
    }, spawn→all meshes ready ${fmt(col("spawnToMeshReady"))}, ` +
      `seed window first admission→formed ${
        fmt(col("seedWindow"))
      }; one bare process start ${fmt(col("processStartup"))} ` +
      `(medians of ${rounds}); ratio spawn→formed / 2 s target = ${
        (col("spawnToFormed") / 2000).toFixed(2)
      }`,
  );
  const inproc: { formed: number; meshed: number }[] = [];
  for (let r = 0; r < (quick ? 1 : 5); r++) {
    inproc.push(await inProcessFormation(16));
  }
  const inFormed = median(inproc.map((x) => x.formed));
  const inMeshed = median(inproc.map((x) => x.meshed));
  console.log(
    `2. 16 members in one process: formed (keys, CSRs, handshakes, certificates) median ${
      fmt(inFormed)
    }, ` +
      `full mTLS mesh (240 connections) ready median ${
        fmt(inMeshed)
      } (n=${inproc.length}); ` +
      `ratio formed / 2 s target = ${(inFormed / 2000).toFixed(2)}`,
  );
  const joins = await elasticJoin(quick ? 3 : 9);
  console.log(
    `3. elastic join → mesh ready (4 → 5 members): median ${
      fmt(median(joins))
    }, max ${fmt(Math.max(...joins))} (n=${joins.length})`,
  );
  const det = await detection(quick ? 5 : 30);
  console.log(
    `4. silent-peer detection, timeout 1 s, interval 250 ms: p50 ${
      fmt(pct(det, 50))
    }, p90 ${fmt(pct(det, 90))}, ` +
      `p99 ${fmt(pct(det, 99))}, max ${
        fmt(Math.max(...det))
      } (n=${det.length}); ratio p99 / 1.5 s target = ${
        (pct(det, 99) / 1500).toFixed(2)
      }`,
  );
}

if (import.meta.main) await main();
