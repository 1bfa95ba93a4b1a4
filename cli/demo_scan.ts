/**
 * `deno task demo:scan`: the distributed secret scan, entirely on this
 * machine.
 *
 * 1. starts a throwaway PostgreSQL and etcd (from the Debian packages; when
 *    one is missing it says what to `apt-get install` and stops);
 * 2. generates a tree of text files with planted secrets;
 * 3. runs 3 connector workers (`scan --mode=connector`) on it;
 * 4. kills one of them with SIGKILL mid-run;
 * 5. shows that the run completes: every file has one done-ledger row and
 *    every planted secret is found exactly once;
 * 6. stops everything it started and removes its temp dir.
 *
 * Options: `--files N` (default 2000), `--keep` (leave the temp dir).
 *
 * @module
 */

import postgres from "postgres";
import { defaultRuleSet } from "../lib/ledger/default_rules.ts";
import { ruleFingerprint, secretHash } from "../lib/ledger/ids.ts";
import {
  findPostgresBinDir,
  POSTGRES_INSTALL_HINT,
  startPostgres,
} from "../lib/testing/runtime/postgres_server.ts";
import {
  ETCD_INSTALL_HINT,
  startEtcd,
} from "../lib/testing/runtime/etcd_server.ts";
import { writeSecretTree } from "../lib/testing/runtime/connector_fixture.ts";

const enc = new TextEncoder();
const WORKER = new URL("./_connector_demo_worker.ts", import.meta.url).pathname;

function say(text = ""): void {
  Deno.stdout.writeSync(enc.encode(text + "\n"));
}

function hex(b: Uint8Array): string {
  return Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
}

function hasEtcd(): boolean {
  for (const dir of (Deno.env.get("PATH") ?? "/usr/bin:/bin").split(":")) {
    try {
      if (Deno.statSync(`${dir}/etcd`).isFile) return true;
    } catch {
      // next
    }
  }
  return false;
}

/**
 * Runs the demo.
 *
 * @param args Command-line arguments.
 * @returns The exit code.
 */
export async function runScanDemo(args: readonly string[]): Promise<number> {
  let files = 2000;
  let keep = false;
  for (const arg of args) {
    if (arg === "--keep") keep = true;
    else if (arg.startsWith("--files=")) {
      const n = Number(arg.slice(8));
      if (!Number.isInteger(n) || n < 30 || n > 1_000_000) {
        console.error("demo:scan: --files must be an integer in 30..1000000");
        return 2;
      }
      files = n;
    } else {
      console.error(
        `demo:scan: unknown argument '${arg}' (use --files=N, --keep)`,
      );
      return 2;
    }
  }
  const missing: string[] = [];
  if (findPostgresBinDir() === null) {
    missing.push(POSTGRES_INSTALL_HINT.replace("apt-get install ", ""));
  }
  if (!hasEtcd()) {
    missing.push(ETCD_INSTALL_HINT.replace("apt-get install ", ""));
  }
  if (missing.length > 0) {
    console.error(
      `demo:scan: needs PostgreSQL and etcd; install them with: apt-get install ${
        missing.join(" ")
      }`,
    );
    return 1;
  }
  const work = await Deno.makeTempDir({ prefix: "loom-demo-scan-" });
  say("1. starting a throwaway PostgreSQL and etcd on 127.0.0.1");
  const [pg, etcd] = await Promise.all([startPostgres(), startEtcd()]);
  const children: Deno.ChildProcess[] = [];
  try {
    const dsn = await pg.createDatabase("ledger");
    say(`   PostgreSQL on port ${pg.port}, etcd at ${etcd.endpoint}`);
    say(`2. generating ${files} files with planted secrets`);
    const tree = await writeSecretTree(`${work}/tree`, files, 7);
    say(`   ${tree.secrets.length} secrets planted`);
    const env = (worker: number): Record<string, string> => ({
      PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin",
      HOME: work,
      LOOM_LOG: "info",
      GOSSIP_ETCD_ENDPOINTS: etcd.endpoint,
      GOSSIP_ETCD_NAMESPACE: "/demo",
      GOSSIP_DONE_LEDGER_POSTGRES_DSN: dsn,
      GOSSIP_FINDINGS_POSTGRES_DSN: dsn,
      GOSSIP_STARTUP_SCHEMA_MODE: "dev-auto-migrate",
      GOSSIP_TENANT_ID: "11".repeat(32),
      GOSSIP_RUN_ID: "1",
      GOSSIP_WORKER_ID: String(worker),
      GOSSIP_POLICY_HASH: "22".repeat(32),
      GOSSIP_TENANT_SECRET_KEY: "33".repeat(32),
    });
    say("3. starting 3 connector workers");
    const started = performance.now();
    for (const worker of [1, 2, 3]) {
      children.push(
        new Deno.Command(Deno.execPath(), {
          args: ["run", "-A", WORKER, "--mode=connector", "fs", `${work}/tree`],
          env: env(worker),
          clearEnv: true,
          stdout: "null",
          stderr: "piped",
        }).spawn(),
      );
    }
    const outputs = children.map((c) => new Response(c.stderr).text());
    const sql = postgres(dsn, { onnotice: () => undefined, max: 1 });
    try {
      const rows = async (): Promise<number> => {
        try {
          const [r] =
            await sql`SELECT count(*)::int AS n FROM done_ledger_entries`;
          return r.n as number;
        } catch {
          return 0;
        }
      };
      while (
        (await rows()) < files / 5 && performance.now() - started < 60_000
      ) {
        await new Promise((r) => setTimeout(r, 50));
      }
      say(
        `4. killing worker 2 with SIGKILL (${await rows()} of ${files} files recorded so far)`,
      );
      try {
        children[1].kill("SIGKILL");
      } catch {
        say("   (worker 2 had already finished)");
      }
      const statuses = await Promise.all(children.map((c) => c.status));
      const logs = await Promise.all(outputs);
      for (const [i, status] of statuses.entries()) {
        const line = logs[i].split("\n").find((l) =>
          l.includes("distributed scan completed")
        );
        say(
          `   worker ${i + 1}: ${
            status.signal !== null
              ? `killed (${status.signal})`
              : `exit ${status.code}`
          }${line === undefined ? "" : ` — ${line.trim()}`}`,
        );
      }
      say(
        `5. run finished in ${
          ((performance.now() - started) / 1000).toFixed(1)
        } s; checking the ledger`,
      );
      const rules = defaultRuleSet();
      const pat = rules.rules.find((r) => r.id === "github-pat")!;
      const fingerprint = ruleFingerprint(pat.id, pat.regexSource);
      const key = new Uint8Array(32).fill(0x33);
      const found =
        await sql`SELECT encode(secret_hash, 'hex') AS h FROM findings WHERE rule_fingerprint = ${fingerprint}`;
      const counts = new Map<string, number>();
      for (const r of found) {
        counts.set(r.h as string, (counts.get(r.h as string) ?? 0) + 1);
      }
      const once = tree.secrets.filter((s) =>
        counts.get(hex(secretHash(key, enc.encode(s)))) === 1
      ).length;
      const done = await rows();
      const ok = once === tree.secrets.length &&
        found.length === tree.secrets.length && done === files &&
        statuses.filter((s) =>
            s.code === 0
          ).length >= 2;
      say(`   done-ledger rows: ${done} of ${files} files`);
      say(
        `   planted secrets found exactly once: ${once} of ${tree.secrets.length} (${found.length} findings)`,
      );
      say(
        ok
          ? "   ✔ nothing lost, nothing duplicated"
          : "   ✘ the ledger does not match the planted secrets",
      );
      return ok ? 0 : 1;
    } finally {
      await sql.end({ timeout: 1 });
    }
  } finally {
    for (const c of children) {
      try {
        c.kill("SIGKILL");
      } catch {
        // already exited
      }
    }
    say("6. stopping PostgreSQL and etcd");
    await Promise.all([pg.stop(), etcd.stop()]);
    if (keep) say(`   kept ${work}`);
    else await Deno.remove(work, { recursive: true }).catch(() => undefined);
  }
}

if (import.meta.main) {
  Deno.exit(await runScanDemo(Deno.args));
}
