/**
 * Distributed secret-scan benchmark, side by side in one run: the local
 * scan (`scan --mode=direct`, SQLite done-ledger) and 1, 2 and 4 connector
 * workers (PostgreSQL done-ledger and findings, etcd leases) over the same
 * corpus as `bench:scan`: files of the JDK sources (Debian's
 * `openjdk-17-source`, `/usr/lib/jvm/openjdk-17/lib/src.zip`), the first
 * `--files` of them in path order (default 3,000; `--files 0` for all).
 *
 * PostgreSQL and etcd are throwaway servers on 127.0.0.1 started here. Each
 * configuration runs in its own processes with a fresh database and etcd
 * namespace; the wall time is from spawning the first process to the exit
 * of the last. Figures are medians of `--rounds` runs (default 3); ratios
 * are of medians of the same run. Commit latency is per shard, from the end
 * of the shard's scan to its fenced `complete` (findings, done rows,
 * checkpoint, complete).
 *
 * ```sh
 * deno task bench:scan-distributed [--rounds 3] [--files 3000] [--src /usr/lib/jvm/openjdk-17/lib/src.zip]
 * ```
 *
 * @module
 */

import { parseArgs } from "node:util";
import { unzipSync } from "fflate";
import { openPostgresLedger } from "../lib/ledger/runtime/postgres_store.ts";
import { startPostgres } from "../lib/testing/runtime/postgres_server.ts";
import { startEtcd } from "../lib/testing/runtime/etcd_server.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    rounds: { type: "string", default: "3" },
    files: { type: "string", default: "3000" },
    src: { type: "string", default: "/usr/lib/jvm/openjdk-17/lib/src.zip" },
    "items-per-shard": { type: "string", default: "64" },
  },
});
const rounds = Number(values.rounds);
const fileLimit = Number(values.files);
const itemsPerShard = Number(values["items-per-shard"]);
if (
  !Number.isInteger(rounds) || rounds < 1 || !Number.isInteger(fileLimit) ||
  fileLimit < 0 ||
  !Number.isInteger(itemsPerShard) || itemsPerShard < 1
) {
  console.error(
    "bench:scan-distributed: --rounds >= 1, --files >= 0 and --items-per-shard >= 1 are required",
  );
  Deno.exit(2);
}

const WORKER =
  new URL("./_scan_distributed_worker.ts", import.meta.url).pathname;
const SCAN = new URL("../cli/scan.ts", import.meta.url).pathname;
const MIB = 1024 * 1024;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0
    ? NaN
    : s.length % 2
    ? s[(s.length - 1) / 2]
    : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

function percentile(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0
    ? NaN
    : s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)];
}

async function unpack(
  zipPath: string,
  dir: string,
): Promise<{ files: number; bytes: number }> {
  const entries = unzipSync(await Deno.readFile(zipPath));
  const names = Object.keys(entries).filter((n) => !n.endsWith("/")).sort();
  const chosen = fileLimit === 0 ? names : names.slice(0, fileLimit);
  let bytes = 0;
  for (const name of chosen) {
    const path = `${dir}/${name}`;
    await Deno.mkdir(path.slice(0, path.lastIndexOf("/")), { recursive: true });
    await Deno.writeFile(path, entries[name]);
    bytes += entries[name].length;
  }
  return { files: chosen.length, bytes };
}

if (import.meta.main) {
  const work = await Deno.makeTempDir({
    prefix: "loom-bench-scan-distributed-",
  });
  const corpus = `${work}/corpus`;
  const { files, bytes } = await unpack(values.src!, corpus);
  console.log(
    `corpus: ${files} files, ${(bytes / MIB).toFixed(1)} MiB (${values.src})`,
  );
  const [pg, etcd] = await Promise.all([startPostgres(), startEtcd()]);
  let db = 0;
  try {
    const local: number[] = [];
    const dist: Record<number, number[]> = { 1: [], 2: [], 4: [] };
    const commits: Record<number, number[]> = { 1: [], 2: [], 4: [] };
    for (let round = 0; round < rounds; round++) {
      {
        const stateDir = `${work}/state${round}`;
        const t0 = performance.now();
        const out = await new Deno.Command(Deno.execPath(), {
          args: [
            "run",
            "-A",
            SCAN,
            "--mode=direct",
            "fs",
            corpus,
            `--state-dir=${stateDir}`,
            "--format=json",
          ],
          stdout: "null",
          stderr: "null",
        }).output();
        if (!out.success) throw new Error("the local scan failed");
        local.push(performance.now() - t0);
      }
      for (const workers of [1, 2, 4]) {
        const name = `b${++db}`;
        const dsn = await pg.createDatabase(name);
        const ledger = await openPostgresLedger({
          doneLedgerDsn: dsn,
          findingsDsn: dsn,
          schemaMode: "dev-auto-migrate",
        });
        await ledger.close();
        const t0 = performance.now();
        const outs = await Promise.all(
          Array.from(
            { length: workers },
            (_, i) =>
              new Deno.Command(Deno.execPath(), {
                args: [
                  "run",
                  "-A",
                  WORKER,
                  JSON.stringify({
                    path: corpus,
                    etcdEndpoint: etcd.endpoint,
                    namespace: `/${name}`,
                    dsn,
                    runId: String(db),
                    workerId: String(i + 1),
                    itemsPerShard,
                  }),
                ],
                stdout: "piped",
                stderr: "piped",
              }).output(),
          ),
        );
        const ms = performance.now() - t0;
        let items = 0;
        for (const out of outs) {
          if (!out.success) {
            throw new Error(
              `a worker failed: ${
                new TextDecoder().decode(out.stderr).slice(-400)
              }`,
            );
          }
          const r = JSON.parse(
            new TextDecoder().decode(out.stdout).trim().split("\n").pop()!,
          );
          items += r.items;
          commits[workers].push(...r.commitMs);
        }
        if (items < files) {
          throw new Error(
            `${workers} workers scanned ${items} of ${files} files`,
          );
        }
        dist[workers].push(ms);
      }
      console.log(
        `round ${round + 1}: local ${
          local.at(-1)!.toFixed(0)
        } ms; connector 1w ${dist[1].at(-1)!.toFixed(0)} ms, ` +
          `2w ${dist[2].at(-1)!.toFixed(0)} ms, 4w ${
            dist[4].at(-1)!.toFixed(0)
          } ms`,
      );
    }
    const mbs = (ms: number) => (bytes / MIB / (ms / 1000)).toFixed(2);
    const l = median(local);
    console.log(
      `\nmedians of ${rounds} rounds (${files} files, ${
        (bytes / MIB).toFixed(1)
      } MiB):`,
    );
    console.log(
      `  local scan (direct, SQLite):  ${l.toFixed(0)} ms  ${mbs(l)} MiB/s`,
    );
    for (const w of [1, 2, 4]) {
      const m = median(dist[w]);
      console.log(
        `  connector, ${w} worker${w > 1 ? "s" : " "}:       ${
          m.toFixed(0)
        } ms  ${mbs(m)} MiB/s  ` +
          `commit p50 ${percentile(commits[w], 50).toFixed(1)} ms, p99 ${
            percentile(commits[w], 99).toFixed(1)
          } ms`,
      );
    }
    const one = median(dist[1]);
    console.log(
      `  2 workers vs 1: ${
        (one / median(dist[2])).toFixed(2)
      }x (target >= 1.5x)`,
    );
    console.log(`  4 workers vs 1: ${(one / median(dist[4])).toFixed(2)}x`);
    console.log(
      `  ledger overhead, 1 connector worker vs local: ${
        ((one / l - 1) * 100).toFixed(1)
      } % (target <= 20 %)`,
    );
  } finally {
    await Promise.all([pg.stop(), etcd.stop()]);
    await Deno.remove(work, { recursive: true }).catch(() => undefined);
  }
}
