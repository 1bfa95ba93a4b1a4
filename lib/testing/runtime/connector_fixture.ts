/**
 * Fixtures of the connector-mode tests, benches and demo: a generated tree
 * with planted secrets, a connector launch config for throwaway servers, and
 * a provenance-free dump of the ledger tables to compare runs.
 *
 * @module
 */

import postgres from "postgres";
import type { DistributedScanConfig } from "../../ledger/config.ts";
import { SecretBytes, SecretText } from "../../ledger/secret.ts";

/**
 * A GitHub-token-shaped planted secret, distinct per `n` (matches the
 * built-in `github-pat` rule).
 *
 * @param n Any non-negative integer.
 * @returns The token text.
 */
export function plantedSecret(n: number): string {
  return "ghp_" + n.toString(36).padStart(6, "0") +
    "Ab3De5Gh7Jk9Mn1Pq3St5Vw7Yz9Bc1";
}

/** What {@link writeSecretTree} wrote. */
export interface SecretTree {
  /** Files written. */
  readonly files: number;
  /** Planted secrets (one per file that has one). */
  readonly secrets: readonly string[];
}

/**
 * Writes `files` small text files under `root` (in nested directories), one
 * planted secret in every `secretEvery`-th file.
 *
 * @param root Directory (created).
 * @param files How many files.
 * @param secretEvery Plant in every n-th file (0 = none).
 * @param padBytes Filler bytes per file.
 * @returns Counts and the planted secrets.
 */
export async function writeSecretTree(
  root: string,
  files: number,
  secretEvery: number,
  padBytes = 256,
): Promise<SecretTree> {
  const secrets: string[] = [];
  const filler = "lorem ipsum dolor sit amet consectetur ".repeat(
    Math.ceil(padBytes / 39),
  ).slice(0, padBytes);
  for (let i = 0; i < files; i++) {
    const dir = `${root}/d${String(i % 10).padStart(2, "0")}`;
    await Deno.mkdir(dir, { recursive: true });
    let text = `// file ${i}\n${filler}\n`;
    if (secretEvery > 0 && i % secretEvery === 0) {
      const s = plantedSecret(i);
      secrets.push(s);
      text += `const token = "${s}";\n`;
    }
    await Deno.writeTextFile(`${dir}/f${String(i).padStart(5, "0")}.txt`, text);
  }
  return { files, secrets };
}

/** Settings of {@link connectorConfig}. */
export interface ConnectorConfigOptions {
  /** Scan root. */
  readonly path: string;
  /** etcd client URL. */
  readonly etcdEndpoint: string;
  /** etcd namespace. */
  readonly namespace: string;
  /** PostgreSQL DSN (both stores). */
  readonly dsn: string;
  /** Run id. */
  readonly runId: bigint;
  /** Worker id. */
  readonly workerId: bigint;
  /** Tenant (default 32 × 0x11). */
  readonly tenantId?: Uint8Array;
  /** Items between checkpoints (default 4096). */
  readonly maxItems?: number;
  /** Source (default fs). */
  readonly source?: "fs" | "git";
  /** Mirror root for git. */
  readonly mirrorRoot?: string;
}

/**
 * A connector launch config for throwaway servers (dev-auto-migrate).
 *
 * @param o Settings.
 * @returns The config.
 */
export function connectorConfig(
  o: ConnectorConfigOptions,
): DistributedScanConfig {
  return {
    kind: "distributed",
    mode: "connector",
    backend: "production",
    source: o.source ?? "fs",
    path: o.path,
    mirrorRoot: o.mirrorRoot ?? null,
    etcd: { endpoints: [o.etcdEndpoint], namespace: o.namespace },
    backends: {
      doneLedgerDsn: new SecretText(o.dsn),
      findingsDsn: new SecretText(o.dsn),
      gitKvDsn: null,
    },
    schemaMode: "dev-auto-migrate",
    identity: {
      tenantId: o.tenantId ?? new Uint8Array(32).fill(0x11),
      runId: o.runId,
      workerId: o.workerId,
      policyHash: new Uint8Array(32).fill(0x22),
      tenantSecretKey: new SecretBytes(new Uint8Array(32).fill(0x33)),
    },
    budgets: { maxItems: o.maxItems ?? 4096, maxBytes: 64 * 1024 * 1024 },
    commitQueueCapacity: 64,
    scan: {
      rulesFile: null,
      decodeDepth: null,
      scanBinary: false,
      skipArchives: false,
      anchorMode: "manual",
    },
    output: { format: "human", reveal: false, stateDir: null },
  };
}

/** A provenance-free dump of the ledger tables (sorted lines per table). */
export interface LedgerDump {
  /** `ovid status bytes findings error` per done row. */
  readonly done: string[];
  /** Every findings column. */
  readonly findings: string[];
  /** Every occurrences column. */
  readonly occurrences: string[];
  /** Observation ids, occurrence, policy, ovid, display, url (no run/shard/fence/time). */
  readonly observations: string[];
}

/**
 * Dumps the ledger tables of one database without provenance columns
 * (run, shard, fence, times), so runs with crashes and takeovers compare
 * equal to a clean run.
 *
 * @param dsn The database.
 * @returns The dump.
 */
export async function dumpLedger(dsn: string): Promise<LedgerDump> {
  const sql = postgres(dsn, { onnotice: () => undefined, max: 1 });
  try {
    const lines = async (q: string): Promise<string[]> =>
      (await sql.unsafe(q)).map((r) =>
        Object.values(r).map((v) => String(v)).join(" ")
      ).sort();
    return {
      done: await lines(
        "SELECT encode(tenant_id,'hex') AS c1, encode(policy_hash,'hex') AS c2, encode(ovid_hash,'hex') AS c3, status, bytes_scanned, findings_count, coalesce(error_code,'-') FROM done_ledger_entries",
      ),
      findings: await lines(
        "SELECT encode(tenant_id,'hex') AS c4, encode(finding_id,'hex') AS c5, encode(stable_item_id,'hex') AS c6, encode(rule_fingerprint,'hex') AS c7, encode(secret_hash,'hex') AS c8 FROM findings",
      ),
      occurrences: await lines(
        "SELECT encode(occurrence_id,'hex') AS c9, encode(finding_id,'hex') AS c10, encode(object_version_id,'hex') AS c11, byte_offset, byte_length FROM occurrences",
      ),
      observations: await lines(
        "SELECT encode(observation_id,'hex') AS c12, encode(occurrence_id,'hex') AS c13, encode(policy_hash,'hex') AS c14, encode(ovid_hash,'hex') AS c15, coalesce(location_display,'-'), coalesce(location_url,'-') FROM observations",
      ),
    };
  } finally {
    await sql.end({ timeout: 1 });
  }
}
