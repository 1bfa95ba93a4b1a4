import assert from "node:assert/strict";
import postgres from "postgres";
import type { LocalScanConfig } from "../config.ts";
import { defaultRuleSet } from "../default_rules.ts";
import { ruleFingerprint, secretHash } from "../ids.ts";
import { CoordinationRecorder, createLogSink } from "../recorder.ts";
import {
  postgresSkipReason,
  startPostgres,
} from "../../testing/runtime/postgres_server.ts";
import {
  etcdSkipReason,
  startEtcd,
} from "../../testing/runtime/etcd_server.ts";
import {
  connectorConfig,
  dumpLedger,
  type LedgerDump,
  plantedSecret,
  writeSecretTree,
} from "../../testing/runtime/connector_fixture.ts";
import {
  CONNECTOR_STEPS,
  type ConnectorDeps,
  type ConnectorReport,
  executeConnectorMode,
  runConnectorScan,
} from "./connector.ts";
import { openPostgresLedger } from "./postgres_store.ts";
import { runLocalScan } from "./scan_runner.ts";

const skip = postgresSkipReason() ?? etcdSkipReason();
const quiet = {
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
};
const rules = defaultRuleSet();
const hex = (b: Uint8Array): string =>
  Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
const CHILD =
  new URL("./connector_crash_child_test_util.ts", import.meta.url).pathname;

Deno.test({
  name: "connector mode on real PostgreSQL and etcd",
  ignore: skip !== null,
  sanitizeOps: false,
  sanitizeResources: false,
  async fn(t) {
    const [pg, etcd] = await Promise.all([startPostgres(), startEtcd()]);
    const work = await Deno.makeTempDir({ prefix: "loom-connector-" });
    let counter = 0;
    const fresh = async () => {
      const n = ++counter;
      return {
        dsn: await pg.createDatabase(`c${n}`),
        namespace: `/c${n}`,
        runId: BigInt(n),
      };
    };
    const tree = `${work}/tree`;
    const planted = await writeSecretTree(tree, 40, 3);
    const tuning: Partial<ConnectorDeps> = {
      itemsPerShard: 8,
      leaseDurationMs: 800,
      idleWaitMs: 50,
    };
    const run = (
      env: { dsn: string; namespace: string; runId: bigint },
      worker: bigint,
      extra: Partial<ConnectorDeps> = {},
      path = tree,
      maxItems = 4,
    ): Promise<ConnectorReport> =>
      runConnectorScan(
        connectorConfig({
          path,
          etcdEndpoint: etcd.endpoint,
          namespace: env.namespace,
          dsn: env.dsn,
          runId: env.runId,
          workerId: worker,
          maxItems,
        }),
        { rules, log: quiet, ...tuning, ...extra },
      );
    try {
      let baseline: LedgerDump | undefined;
      await t.step(
        "clean single-worker run: every planted secret found exactly once",
        async () => {
          const env = await fresh();
          const report = await run(env, 1n);
          assert.equal(report.shardsScanned, 5);
          assert.equal(report.leasesSeen, 5);
          assert.equal(report.runCompleted, true);
          baseline = await dumpLedger(env.dsn);
          assert.equal(baseline.done.length, 40);
          const pat = rules.rules.find((r) => r.id === "github-pat")!;
          const fingerprint = hex(ruleFingerprint(pat.id, pat.regexSource));
          const key = new Uint8Array(32).fill(0x33);
          const expected = planted.secrets.map((s) =>
            hex(secretHash(key, new TextEncoder().encode(s)))
          ).sort();
          const found = baseline.findings.filter((line) =>
            line.split(" ")[3] === fingerprint
          )
            .map((line) => line.split(" ")[4]).sort();
          assert.deepEqual(
            found,
            expected,
            "every planted secret is found exactly once",
          );
          assert.equal(baseline.observations.length, baseline.findings.length);
          const again = await run(env, 2n);
          assert.equal(
            again.leasesSeen,
            0,
            "a completed run has nothing left to lease",
          );
          assert.deepEqual(await dumpLedger(env.dsn), baseline);
        },
      );

      await t.step(
        "the same items give the same rows locally and distributed",
        async () => {
          const zero = new Uint8Array(32);
          const local = await fresh();
          const ledger = await openPostgresLedger({
            doneLedgerDsn: local.dsn,
            findingsDsn: local.dsn,
            schemaMode: "dev-auto-migrate",
          });
          const cfg = connectorConfig({
            path: tree,
            etcdEndpoint: etcd.endpoint,
            namespace: "/x",
            dsn: local.dsn,
            runId: 1n,
            workerId: 1n,
          });
          const localConfig: LocalScanConfig = {
            kind: "local",
            mode: "direct",
            source: "fs",
            path: tree,
            budgets: { maxItems: 4096, maxBytes: 64 * 1024 * 1024 },
            scan: cfg.scan,
            output: cfg.output,
          };
          try {
            await runLocalScan(localConfig, {
              rules,
              ledger,
              secretKey: cfg.identity.tenantSecretKey.reveal(),
              recorder: new CoordinationRecorder(
                createLogSink(() => undefined),
                () => undefined,
              ),
            });
          } finally {
            await ledger.close();
          }
          const dist = await fresh();
          await runConnectorScan(
            connectorConfig({
              path: tree,
              etcdEndpoint: etcd.endpoint,
              namespace: dist.namespace,
              dsn: dist.dsn,
              runId: dist.runId,
              workerId: 1n,
              tenantId: zero,
            }),
            { rules, log: quiet, ...tuning },
          );
          assert.deepEqual(
            await dumpLedger(dist.dsn),
            await dumpLedger(local.dsn),
          );
        },
      );

      for (const step of CONNECTOR_STEPS) {
        await t.step(
          `SIGKILL after '${step}' loses and duplicates nothing`,
          async () => {
            const env = await fresh();
            const child = new Deno.Command(Deno.execPath(), {
              args: [
                "run",
                "-A",
                CHILD,
                JSON.stringify({
                  path: tree,
                  etcdEndpoint: etcd.endpoint,
                  namespace: env.namespace,
                  dsn: env.dsn,
                  runId: String(env.runId),
                  workerId: "7",
                  maxItems: 4,
                  itemsPerShard: 8,
                  leaseDurationMs: 800,
                  crashStep: step,
                  crashAt: 2,
                }),
              ],
              stdout: "null",
              stderr: "piped",
            }).spawn();
            const status = await child.status;
            assert.equal(
              status.signal,
              "SIGKILL",
              new TextDecoder().decode(
                await new Response(child.stderr).arrayBuffer(),
              ),
            );
            const report = await run(env, 8n);
            assert.equal(report.runCompleted, true);
            assert.deepEqual(await dumpLedger(env.dsn), baseline);
          },
        );
      }

      await t.step(
        "a zombie whose lease was taken over is fenced out",
        async () => {
          const env = await fresh();
          let release: () => void = () => undefined;
          const paused = new Promise<void>((r) => (release = r));
          let pausedOnce = false;
          let reached: () => void = () => undefined;
          const atPause = new Promise<void>((r) => (reached = r));
          const zombie = run(env, 1n, {
            onStep: async (s) => {
              if (s === "findings_written" && !pausedOnce) {
                pausedOnce = true;
                reached();
                await paused;
              }
            },
          });
          await atPause;
          await new Promise((r) => setTimeout(r, 900));
          const other = await run(env, 2n);
          assert.equal(other.runCompleted, true);
          release();
          const z = await zombie;
          assert.equal(z.leasesLost, 1);
          assert.deepEqual(await dumpLedger(env.dsn), baseline);
        },
      );

      await t.step("PostgreSQL restart mid-run", async () => {
        const env = await fresh();
        let restarted = false;
        const report = await run(env, 1n, {
          leaseDurationMs: 10_000,
          onStep: async (s) => {
            if (s === "done_written" && !restarted) {
              restarted = true;
              await pg.halt();
              setTimeout(() => pg.start(), 800);
            }
          },
        });
        assert.ok(restarted);
        assert.equal(report.runCompleted, true);
        const got = await dumpLedger(env.dsn);
        assert.deepEqual(got, baseline);
      });

      await t.step("etcd restart mid-run", async () => {
        const env = await fresh();
        let restarted = false;
        const report = await run(env, 1n, {
          leaseDurationMs: 10_000,
          onStep: async (s) => {
            if (s === "findings_written" && !restarted) {
              restarted = true;
              await etcd.halt();
              setTimeout(() => etcd.start(), 500);
            }
          },
        });
        assert.ok(restarted);
        assert.equal(report.runCompleted, true);
        assert.deepEqual(await dumpLedger(env.dsn), baseline);
      });

      const manyShards = async (workers: number, shards: number) => {
        const dir = `${work}/many${shards}`;
        await writeSecretTree(dir, shards, 10, 64);
        const env = await fresh();
        const reports = await Promise.all(
          Array.from(
            { length: workers },
            (_, i) =>
              run(env, BigInt(i + 1), {
                itemsPerShard: 1,
                leaseDurationMs: 30_000,
              }, dir),
          ),
        );
        assert.equal(reports.reduce((n, r) => n + r.shardsScanned, 0), shards);
        const sql = postgres(env.dsn, { onnotice: () => undefined, max: 1 });
        try {
          const [row] =
            await sql`SELECT count(*)::int AS rows, count(DISTINCT shard_id)::int AS shards FROM done_ledger_entries`;
          assert.deepEqual({ rows: row.rows, shards: row.shards }, {
            rows: shards,
            shards,
          });
        } finally {
          await sql.end();
        }
      };
      await t.step(
        "two workers race for 100 shards: each scanned exactly once",
        () => manyShards(2, 100),
      );
      await t.step(
        "8 workers × 200 shards: no lost or duplicate rows",
        () => manyShards(8, 200),
      );

      await t.step(
        "no fallback: unreachable backends fail at startup, nothing written",
        async () => {
          const lines: string[] = [];
          const log = {
            info: (e: string) => lines.push(e),
            warn: (e: string) => lines.push(e),
            error: (e: string, f?: Record<string, unknown>) =>
              lines.push(`${e}: ${f?.error}`),
          };
          const cfg = connectorConfig({
            path: tree,
            etcdEndpoint: etcd.endpoint,
            namespace: "/nofallback",
            dsn: "postgres://postgres:canary-7f9b2c4d@127.0.0.1:1/x",
            runId: 1n,
            workerId: 1n,
          });
          const code = await executeConnectorMode(cfg, {
            log,
            loadRules: () => Promise.resolve(rules),
          });
          assert.equal(code, 1);
          assert.deepEqual(lines, [
            "worker scan failed: scan failed: worker startup failed: failed to connect done-ledger PostgreSQL backend (connection refused)",
          ]);
          const env = await fresh();
          const noEtcd = connectorConfig({
            path: tree,
            etcdEndpoint: "http://127.0.0.1:1",
            namespace: "/nofallback",
            dsn: env.dsn,
            runId: 1n,
            workerId: 1n,
          });
          lines.length = 0;
          assert.equal(
            await executeConnectorMode(noEtcd, {
              log,
              loadRules: () => Promise.resolve(rules),
            }),
            1,
          );
          assert.deepEqual(lines, [
            "worker scan failed: scan failed: worker startup failed: failed to connect etcd coordination backend",
          ]);
          const okRun = await fresh();
          const ok = connectorConfig({
            path: tree,
            etcdEndpoint: etcd.endpoint,
            namespace: okRun.namespace,
            dsn: okRun.dsn,
            runId: okRun.runId,
            workerId: 1n,
          });
          lines.length = 0;
          const infos: Record<string, unknown>[] = [];
          const code0 = await executeConnectorMode(ok, {
            log: {
              ...log,
              info: (e, f) => {
                lines.push(e);
                infos.push(f ?? {});
              },
            },
            loadRules: () => Promise.resolve(rules),
          });
          assert.equal(code0, 0);
          assert.equal(lines.at(-1), "distributed scan completed");
          assert.deepEqual(infos.at(-1), { leases_seen: 1, shards_scanned: 1 });
        },
      );
      await t.step(
        "git source: blobs of a repository mirrored per worker, each secret once",
        async () => {
          const repo = `${work}/repo`;
          await writeSecretTree(repo, 12, 4);
          const git = (...args: string[]) =>
            new Deno.Command("git", {
              args: [
                "-C",
                repo,
                "-c",
                "user.name=t",
                "-c",
                "user.email=t@example.invalid",
                ...args,
              ],
              stdout: "null",
              stderr: "null",
            }).output();
          await git("init", "-q");
          await git("add", ".");
          await git("commit", "-qm", "first");
          await Deno.writeTextFile(
            `${repo}/late.txt`,
            `token = "${plantedSecret(999)}"\n`,
          );
          await git("add", ".");
          await git("commit", "-qm", "second");
          const env = await fresh();
          const cfg = {
            ...connectorConfig({
              path: repo,
              etcdEndpoint: etcd.endpoint,
              namespace: env.namespace,
              dsn: env.dsn,
              runId: env.runId,
              workerId: 1n,
              source: "git",
              mirrorRoot: `${work}/mirrors`,
            }),
          };
          const reports = await Promise.all(
            [1n, 2n].map((w) =>
              runConnectorScan({
                ...cfg,
                identity: { ...cfg.identity, workerId: w },
              }, { rules, log: quiet, ...tuning, itemsPerShard: 3 })
            ),
          );
          assert.equal(reports[0].shardsScanned + reports[1].shardsScanned, 5);
          const dump = await dumpLedger(env.dsn);
          assert.equal(dump.done.length, 13);
          const pat = rules.rules.find((r) => r.id === "github-pat")!;
          const fingerprint = hex(ruleFingerprint(pat.id, pat.regexSource));
          assert.equal(
            dump.findings.filter((line) => line.split(" ")[3] === fingerprint)
              .length,
            4,
          );
        },
      );
    } finally {
      await Promise.all([pg.stop(), etcd.stop()]);
      await Deno.remove(work, { recursive: true }).catch(() => undefined);
    }
  },
});
