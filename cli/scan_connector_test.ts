import assert from "node:assert/strict";
import {
  postgresSkipReason,
  startPostgres,
} from "../lib/testing/runtime/postgres_server.ts";
import {
  etcdSkipReason,
  startEtcd,
} from "../lib/testing/runtime/etcd_server.ts";
import { writeSecretTree } from "../lib/testing/runtime/connector_fixture.ts";

const skip = postgresSkipReason() ?? etcdSkipReason();
const SCAN = new URL("./scan.ts", import.meta.url).pathname;

async function scan(
  args: string[],
  env: Record<string, string>,
): Promise<{ code: number; stderr: string }> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", SCAN, ...args],
    env: { LOOM_LOG: "debug", ...env },
    clearEnv: true,
    stdout: "piped",
    stderr: "piped",
  }).output();
  return { code: out.code, stderr: new TextDecoder().decode(out.stderr) };
}

Deno.test({
  name:
    "scan --mode=connector end to end, and its failures (exit code + one line, no stack trace)",
  ignore: skip !== null,
  sanitizeOps: false,
  sanitizeResources: false,
  async fn(t) {
    const [pg, etcd] = await Promise.all([startPostgres(), startEtcd()]);
    const dir = await Deno.makeTempDir({ prefix: "loom-scan-connector-" });
    try {
      await writeSecretTree(`${dir}/tree`, 30, 5);
      const dsn = await pg.createDatabase("cli");
      const empty = await pg.createDatabase("empty");
      const secretDsn = dsn.replace("postgres@", "postgres:canary-pw-5d1e@");
      const base: Record<string, string> = {
        PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin",
        HOME: dir,
        GOSSIP_ETCD_ENDPOINTS: etcd.endpoint,
        GOSSIP_ETCD_NAMESPACE: "/cli",
        GOSSIP_DONE_LEDGER_POSTGRES_DSN: secretDsn,
        GOSSIP_FINDINGS_POSTGRES_DSN: secretDsn,
        GOSSIP_STARTUP_SCHEMA_MODE: "dev-auto-migrate",
        GOSSIP_TENANT_ID: "11".repeat(32),
        GOSSIP_RUN_ID: "1",
        GOSSIP_WORKER_ID: "1",
        GOSSIP_POLICY_HASH: "22".repeat(32),
        GOSSIP_TENANT_SECRET_KEY: "c0ffee5eed".repeat(7).slice(0, 64),
      };
      await t.step(
        "a connector run completes and logs its counts",
        async () => {
          const r = await scan(["--mode=connector", "fs", `${dir}/tree`], base);
          assert.equal(r.code, 0, r.stderr);
          const done = r.stderr.split("\n").find((l) =>
            l.includes("distributed scan completed")
          );
          assert.ok(done !== undefined, r.stderr);
          assert.match(done, /leases_seen/);
          assert.match(done, /shards_scanned/);
          assert.ok(!r.stderr.includes("canary-pw-5d1e"));
          assert.ok(
            !r.stderr.includes("c0ffee5eed"),
            "the tenant secret key is never logged",
          );
          assert.ok(
            !r.stderr.includes("ghp_"),
            "planted secrets are never logged",
          );
          assert.match(
            r.stderr,
            /coordination_core_finding/,
            "findings reach telemetry (redacted)",
          );
          assert.match(r.stderr, /coordination_core_summary/);
        },
      );
      const cases: [string, Record<string, string>, number, string][] = [
        [
          "schema not ready under validate",
          {
            GOSSIP_STARTUP_SCHEMA_MODE: "validate",
            GOSSIP_DONE_LEDGER_POSTGRES_DSN: empty,
            GOSSIP_FINDINGS_POSTGRES_DSN: empty,
          },
          1,
          "scan: scan failed: worker startup failed: done-ledger PostgreSQL schema is not ready for worker startup: required table 'done_ledger_entries' is missing from the current schema",
        ],
        [
          "PostgreSQL unreachable",
          {
            GOSSIP_DONE_LEDGER_POSTGRES_DSN:
              "postgres://postgres:canary-pw-5d1e@127.0.0.1:1/x",
          },
          1,
          "scan: scan failed: worker startup failed: failed to connect done-ledger PostgreSQL backend (connection refused)",
        ],
        [
          "etcd unreachable",
          { GOSSIP_ETCD_ENDPOINTS: "http://127.0.0.1:1" },
          1,
          "scan: scan failed: worker startup failed: failed to connect etcd coordination backend",
        ],
      ];
      for (const [label, env, code, line] of cases) {
        await t.step(label, async () => {
          const r = await scan(["--mode=connector", "fs", `${dir}/tree`], {
            ...base,
            ...env,
          });
          assert.equal(r.code, code, r.stderr);
          const lines = r.stderr.split("\n").filter((l) =>
            l.startsWith("scan: ")
          );
          assert.deepEqual(lines, [line]);
          assert.ok(!/^\s+at /m.test(r.stderr), "no stack trace");
          assert.ok(!r.stderr.includes("canary-pw-5d1e"), "no DSN in output");
        });
      }
    } finally {
      await Promise.all([pg.stop(), etcd.stop()]);
      await Deno.remove(dir, { recursive: true }).catch(() => undefined);
    }
  },
});
