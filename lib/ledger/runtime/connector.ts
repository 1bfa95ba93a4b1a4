/**
 * Connector mode: the distributed scan worker. It connects the production
 * backends (PostgreSQL done-ledger and findings, etcd coordination; never a
 * local or in-memory stand-in), registers or joins the run, then claims
 * shards by lease until none is left. Each batch of a shard is committed in
 * this order:
 *
 * 1. `renew` the lease when a third of its duration has passed (fence
 *    check, new deadline, etcd keep-alive);
 * 2. write findings, occurrences and observations (insert-or-verify / merge);
 * 3. upsert the done-ledger rows (monotonic merge);
 * 4. fenced `checkpoint` of the shard cursor in etcd (the last batch skips
 *    it: `complete` carries the final cursor).
 *
 * and the shard ends with a fenced `complete`. A crash between any two steps
 * loses nothing (the cursor only moves after the rows are durable, so the
 * next owner rescans the batch) and duplicates nothing (every row is keyed
 * by content-derived ids and merged idempotently). A zombie whose lease was
 * taken over fails step 1, step 4 or the final `complete` with `stale_fence`; rows it may have
 * written in between are identical in content to the new owner's.
 *
 * @module
 */

import { createHash } from "node:crypto";
import type { DistributedScanConfig } from "../config.ts";
import {
  buildBatchRows,
  checkpointOp,
  COMPLETE_OP,
  keyRemainsInShard,
  planConnectorShards,
  type ScannedItem,
} from "../connector_rows.ts";
import { DEFAULT_DECODE_DEPTH, ScanEngine } from "../engine.ts";
import { LedgerError } from "../errors.ts";
import {
  fsOvid,
  gitOvid,
  policyHash as computePolicyHash,
  ruleFingerprint,
} from "../ids.ts";
import { type ItemScanResult, scanItem } from "../item_scan.ts";
import { CoordinationRecorder, createLogSink } from "../recorder.ts";
import { defaultRuleSet } from "../default_rules.ts";
import { parseRulesToml, type RuleSet } from "../rules.ts";
import type { LedgerBackend } from "../store.ts";
import { EtcdCoordinator, type ShardLeaseHandle } from "./etcd_coordinator.ts";
import { GitBlobReader, listGitBlobs } from "./git_source.ts";
import { openPostgresLedger } from "./postgres_store.ts";

/** The commit steps, in order (fault-injection tests stop a worker after each). */
export const CONNECTOR_STEPS = [
  "claimed",
  "lease_checked",
  "scanned",
  "findings_written",
  "done_written",
  "checkpointed",
  "completed",
] as const;
/** One of {@link CONNECTOR_STEPS}. */
export type ConnectorStep = typeof CONNECTOR_STEPS[number];

/** A minimal structured logger. */
export interface ConnectorLog {
  /** Informational event. */
  info(event: string, fields?: Record<string, unknown>): void;
  /** Warning event. */
  warn(event: string, fields?: Record<string, unknown>): void;
}

/** What connector mode needs besides the validated config. */
export interface ConnectorDeps {
  /** The rules (built-in or from the rules file). */
  readonly rules: RuleSet;
  /** Structured log (never given secrets). */
  readonly log: ConnectorLog;
  /** Telemetry, optional. */
  readonly recorder?: CoordinationRecorder;
  /** Wall clock in ms. Default `Date.now`. */
  readonly now?: () => number;
  /** Items per shard when registering a run. Default 64. */
  readonly itemsPerShard?: number;
  /** Logical lease duration in ms. Default 30,000. */
  readonly leaseDurationMs?: number;
  /** TTL of the etcd lease holding the owner key, in s. Default 60. */
  readonly ownerLeaseTtlSecs?: number;
  /** Wait between claims while every active shard is owned, in ms. Default 200. */
  readonly idleWaitMs?: number;
  /** How long to keep retrying an operation while PostgreSQL or etcd is unreachable, in ms. Default 30,000. */
  readonly transientRetryMs?: number;
  /** Called after each commit step (tests inject crashes here). */
  readonly onStep?: (
    step: ConnectorStep,
    shard: bigint,
  ) => void | Promise<void>;
}

/** What a connector worker did. */
export interface ConnectorReport {
  /** Leases acquired. */
  readonly leasesSeen: number;
  /** Shards this worker completed. */
  readonly shardsScanned: number;
  /** Items scanned (including rescans after takeovers). */
  readonly itemsScanned: number;
  /** Bytes scanned. */
  readonly bytesScanned: number;
  /** Findings seen. */
  readonly findingsEmitted: number;
  /** Leases lost to another worker (fenced out). */
  readonly leasesLost: number;
  /** Whether this worker saw the run complete. */
  readonly runCompleted: boolean;
}

interface Source {
  /** Sorted distinct keys. */
  readonly keys: Uint8Array[];
  /** Loads items by key, in order; null bytes when unreadable. */
  load(
    keys: readonly Uint8Array[],
  ): Promise<
    {
      key: Uint8Array;
      path: string;
      ovid: Uint8Array;
      bytes: Uint8Array | null;
    }[]
  >;
  close(): Promise<void>;
}

const utf8 = new TextEncoder();
const utf8d = new TextDecoder();

async function walk(root: string, rel: string, out: string[]): Promise<void> {
  const dir = rel === "" ? root : `${root}/${rel}`;
  const entries: Deno.DirEntry[] = [];
  for await (const e of Deno.readDir(dir)) entries.push(e);
  for (const e of entries) {
    const path = rel === "" ? e.name : `${rel}/${e.name}`;
    if (e.isDirectory) {
      if (e.name !== ".git") await walk(root, path, out);
    } else if (e.isFile) out.push(path);
  }
}

function sortedKeys(keys: Uint8Array[]): Uint8Array[] {
  return keys.sort((a, b) => {
    const n = Math.min(a.length, b.length);
    for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i] - b[i];
    return a.length - b.length;
  });
}

async function fsSource(root: string): Promise<Source> {
  let stat: Deno.FileInfo;
  try {
    stat = await Deno.stat(root);
  } catch {
    throw new LedgerError("source_failed", "the scan path cannot be read");
  }
  const base = stat.isFile ? root.slice(0, root.lastIndexOf("/")) || "/" : root;
  const paths: string[] = [];
  if (stat.isFile) paths.push(root.split("/").pop()!);
  else await walk(root, "", paths);
  return {
    keys: sortedKeys(paths.map((p) => utf8.encode(p))),
    async load(keys) {
      const out = [];
      for (const key of keys) {
        const path = utf8d.decode(key);
        try {
          const bytes = await Deno.readFile(`${base}/${path}`);
          const hash = new Uint8Array(
            createHash("sha256").update(bytes).digest(),
          );
          out.push({ key, path, ovid: fsOvid(path, hash), bytes });
        } catch {
          out.push({ key, path, ovid: new Uint8Array(32), bytes: null });
        }
      }
      return out;
    },
    close: () => Promise.resolve(),
  };
}

async function runGit(args: string[]): Promise<void> {
  const out = await new Deno.Command("git", {
    args,
    stdin: "null",
    stdout: "null",
    stderr: "piped",
    env: { GIT_TERMINAL_PROMPT: "0", LC_ALL: "C" },
  }).output();
  if (!out.success) {
    throw new LedgerError(
      "source_failed",
      `git ${args[0]} failed while preparing the mirror`,
    );
  }
}

async function gitSource(
  repo: string,
  mirrorRoot: string,
  worker: bigint,
): Promise<Source> {
  const name = createHash("sha256").update(repo).digest("hex").slice(0, 16);
  const mirror = `${mirrorRoot}/worker-${worker}/${name}.git`;
  let exists = false;
  try {
    exists = (await Deno.stat(mirror)).isDirectory;
  } catch {
    exists = false;
  }
  if (exists) {
    await runGit([
      "--git-dir",
      mirror,
      "fetch",
      "--prune",
      "--quiet",
      "origin",
      "+refs/*:refs/*",
    ]);
  } else {
    await Deno.mkdir(`${mirrorRoot}/worker-${worker}`, { recursive: true });
    await runGit(["clone", "--mirror", "--quiet", repo, mirror]);
  }
  const blobs = await listGitBlobs(mirror);
  const byKey = new Map(blobs.map((b) => [b.oid, b]));
  const reader = new GitBlobReader(mirror);
  return {
    keys: sortedKeys(blobs.map((b) => utf8.encode(b.oid))),
    async load(keys) {
      const oids = keys.map((k) => utf8d.decode(k));
      const events = await reader.read(oids);
      return events.map((e, i) => ({
        key: keys[i],
        path: byKey.get(oids[i])!.path,
        ovid: gitOvid(oids[i]),
        bytes: e.kind === "object" ? e.bytes : null,
      }));
    },
    close: () => reader.close(),
  };
}

/**
 * Runs one connector worker to the end of the run.
 *
 * @param config The validated connector launch.
 * @param deps Rules, log and tuning.
 * @returns What this worker did.
 * @throws {LedgerError} `startup_failed` / readiness errors before any shard
 *   work; `coordination_unavailable`, `store_failed`, ... at run time.
 *
 * @example
 * ```ts ignore
 * import { runConnectorScan } from "./connector.ts";
 * const report = await runConnectorScan(config, { rules, log });
 * console.log(report.leasesSeen, report.shardsScanned);
 * ```
 */
export async function runConnectorScan(
  config: DistributedScanConfig,
  deps: ConnectorDeps,
): Promise<ConnectorReport> {
  const now = deps.now ?? Date.now;
  const identity = config.identity;
  const ledgerPromise = openPostgresLedger({
    doneLedgerDsn: config.backends.doneLedgerDsn.reveal(),
    findingsDsn: config.backends.findingsDsn.reveal(),
    schemaMode: config.schemaMode,
    warn: (message, fields) => deps.log.warn(message, fields),
  });
  const coordinatorPromise = EtcdCoordinator.connect({
    endpoints: config.etcd.endpoints,
    namespace: config.etcd.namespace,
    tenant: identity.tenantId,
    ownerLeaseTtlSecs: deps.ownerLeaseTtlSecs ?? 60,
  });
  const [ledgerResult, coordResult] = await Promise.allSettled([
    ledgerPromise,
    coordinatorPromise,
  ]);
  if (ledgerResult.status === "rejected" || coordResult.status === "rejected") {
    if (ledgerResult.status === "fulfilled") await ledgerResult.value.close();
    throw ledgerResult.status === "rejected"
      ? ledgerResult.reason
      : (coordResult as PromiseRejectedResult).reason;
  }
  deps.log.info("applying startup schema policy", {
    schema_mode: config.schemaMode,
  });
  const ledger = ledgerResult.value;
  const coordinator = coordResult.value;
  let source: Source;
  try {
    source = config.source === "fs"
      ? await fsSource(config.path)
      : await gitSource(
        config.path,
        config.mirrorRoot ?? "",
        identity.workerId,
      );
  } catch (error) {
    await ledger.close();
    throw error;
  }
  try {
    return await workLoop(config, deps, now, ledger, coordinator, source);
  } finally {
    await source.close().catch(() => undefined);
    await ledger.close();
  }
}

async function workLoop(
  config: DistributedScanConfig,
  deps: ConnectorDeps,
  now: () => number,
  ledger: LedgerBackend,
  coordinator: EtcdCoordinator,
  source: Source,
): Promise<ConnectorReport> {
  const identity = config.identity;
  const depth = config.scan.decodeDepth ?? DEFAULT_DECODE_DEPTH;
  const engine = new ScanEngine({
    rules: deps.rules,
    anchorMode: config.scan.anchorMode,
    decodeDepth: depth,
  });
  const policy = computePolicyHash(deps.rules, config.scan, depth);
  const fingerprints = deps.rules.rules.map((r) =>
    ruleFingerprint(r.id, r.regexSource)
  );
  const secretKey = identity.tenantSecretKey.reveal();
  const plan = planConnectorShards(source.keys, {
    itemsPerShard: deps.itemsPerShard ?? 64,
    maxShards: 100_000,
  });
  const leaseMs = deps.leaseDurationMs ?? 30_000;
  const retryBudget = deps.transientRetryMs ?? 30_000;
  /** Retries while a backend is unreachable (a restart); fenced ops replay safely. */
  const retrying = async <T>(op: () => Promise<T>): Promise<T> => {
    const deadline = Date.now() + retryBudget;
    while (true) {
      try {
        return await op();
      } catch (error) {
        if (!isTransient(error) || Date.now() >= deadline) throw error;
        deps.log.warn("backend unavailable; retrying", {
          code: (error as LedgerError).code,
        });
        await new Promise((r) => setTimeout(r, 250));
      }
    }
  };
  await retrying(() =>
    coordinator.registerRun(
      identity.runId,
      plan.map((s) => ({ ...s, metadata: new Uint8Array() })),
      BigInt(leaseMs),
    )
  );
  const step = async (name: ConnectorStep, shard: bigint): Promise<void> => {
    await deps.onStep?.(name, shard);
  };
  let leasesSeen = 0;
  let shardsScanned = 0;
  let itemsScanned = 0;
  let bytesScanned = 0;
  let findingsEmitted = 0;
  let leasesLost = 0;

  const scanShard = async (lease: ShardLeaseHandle): Promise<void> => {
    const record = lease.record;
    const remaining = source.keys.filter((k) =>
      keyRemainsInShard(
        k,
        record.keyRangeStart,
        record.keyRangeEnd,
        record.cursor.lastKey,
      )
    );
    let cursorKey = record.cursor.lastKey;
    const batchItems = Math.max(1, Math.min(config.budgets.maxItems, 4096));
    let i = 0;
    let lastRenewal = now();
    while (i < remaining.length) {
      const keys = remaining.slice(i, i + batchItems);
      if (now() - lastRenewal >= leaseMs / 3) {
        await retrying(() => coordinator.renew(lease));
        lastRenewal = now();
      }
      await step("lease_checked", lease.shard);
      const loaded = await source.load(keys);
      const scanned: ScannedItem[] = [];
      let batchBytes = 0;
      let taken = 0;
      for (const item of loaded) {
        if (
          item.bytes !== null && taken > 0 &&
          batchBytes + item.bytes.length > config.budgets.maxBytes
        ) break;
        taken++;
        if (item.bytes === null) {
          deps.log.warn("item could not be read", {
            shard: Number(lease.shard),
          });
          continue;
        }
        const t0 = now();
        let result: ItemScanResult;
        try {
          result = engine.pathAllowed(item.path)
            ? {
              findings: [],
              membersScanned: 0,
              bytesScanned: 0,
              skippedBinary: false,
              notes: [],
            }
            : scanItem(item.bytes, item.path, {
              engine,
              scanBinary: config.scan.scanBinary,
              skipArchives: config.scan.skipArchives,
            });
        } catch {
          deps.log.warn("item scan failed", { shard: Number(lease.shard) });
          continue;
        }
        batchBytes += item.bytes.length;
        scanned.push({
          path: item.path,
          ovid: item.ovid,
          result,
          startedAt: t0,
          finishedAt: now(),
        });
      }
      await step("scanned", lease.shard);
      const shardLabel = `run-${identity.runId}/shard-${lease.shard}`;
      for (const item of scanned) {
        for (const f of item.result.findings) {
          deps.recorder?.recordCore(shardLabel, {
            kind: "finding",
            ruleId: f.ruleIndex,
            ruleName: f.ruleId,
            objectPath: utf8.encode(
              f.member === null ? item.path : `${item.path}!${f.member}`,
            ),
            changeKind: null,
            commitId: null,
            sizeHint: item.result.bytesScanned,
            confidenceScore: 1,
          });
        }
      }
      const progress = (kind: "begin" | "finish", status?: string) =>
        deps.recorder?.recordCommitProgress(shardLabel, {
          kind,
          tenantId: identity.tenantId,
          policyHash: policy,
          itemKey: keys[0],
          runId: identity.runId,
          leaseShardId: lease.shard,
          fenceEpoch: lease.fence,
          status,
        });
      progress("begin");
      const rows = buildBatchRows(
        {
          source: config.source,
          tenantId: identity.tenantId,
          policyHash: policy,
          secretKey,
          fingerprints,
          runId: identity.runId,
          shardId: lease.shard,
          fenceEpoch: lease.fence,
        },
        scanned,
        now(),
      );
      await retrying(() => ledger.findings.writeFindings(rows.findings));
      await step("findings_written", lease.shard);
      await retrying(() => ledger.done.upsertDone(rows.done));
      await step("done_written", lease.shard);
      progress("finish", "committed");
      cursorKey = keys[taken - 1];
      const at = cursorKey;
      if (i + taken < remaining.length) {
        // The last batch needs no checkpoint: `complete` carries the final cursor.
        await retrying(() =>
          coordinator.checkpoint(lease, checkpointOp(at), {
            lastKey: at,
            token: null,
            semantics: 1,
          })
        );
        await step("checkpointed", lease.shard);
      }
      itemsScanned += scanned.length;
      bytesScanned += batchBytes;
      findingsEmitted += scanned.reduce(
        (n, s) => n + s.result.findings.length,
        0,
      );
      i += taken;
    }
    const last = cursorKey;
    await retrying(() =>
      coordinator.complete(lease, COMPLETE_OP, {
        lastKey: last,
        token: null,
        semantics: 1,
      })
    );
    await step("completed", lease.shard);
    shardsScanned++;
  };

  while (true) {
    const claim = await retrying(() =>
      coordinator.claimNext(
        identity.runId,
        identity.workerId,
      )
    );
    if (claim.kind === "drained") break;
    if (claim.kind === "busy") {
      await new Promise((r) => setTimeout(r, deps.idleWaitMs ?? 200));
      continue;
    }
    leasesSeen++;
    await step("claimed", claim.lease.shard);
    try {
      await scanShard(claim.lease);
    } catch (error) {
      if (
        error instanceof LedgerError &&
        (error.code === "stale_fence" || error.code === "shard_terminal")
      ) {
        leasesLost++;
        deps.log.warn("shard lease lost to another worker", {
          shard: Number(claim.lease.shard),
        });
        continue;
      }
      throw error;
    }
  }
  const runCompleted = await retrying(() =>
    coordinator.completeRun(identity.runId)
  );
  deps.recorder?.recordCore(`run-${identity.runId}`, {
    kind: "summary",
    status: runCompleted ? "completed" : "worker_done",
    itemsScanned,
    bytesScanned,
    findingsEmitted,
  });
  return {
    leasesSeen,
    shardsScanned,
    itemsScanned,
    bytesScanned,
    findingsEmitted,
    leasesLost,
    runCompleted,
  };
}

/** Where {@link executeConnectorMode} writes. */
export interface ConnectorIo {
  /** Structured log. */
  readonly log: ConnectorLog & {
    error(event: string, fields?: Record<string, unknown>): void;
    debug?(event: string, fields?: Record<string, unknown>): void;
  };
  /** Loads the rules named by the config (built-in when null). */
  readonly loadRules: (rulesFile: string | null) => Promise<RuleSet>;
  /** Gets the one-line failure message (`scan: scan failed: ...`), when given. */
  readonly stderr?: (text: string) => void;
  /** Telemetry, optional. */
  readonly recorder?: CoordinationRecorder;
}

/**
 * The connector-mode execution path of `scan`: runs the worker and maps the
 * outcome to an exit code. Success logs `distributed scan completed` with
 * `leases_seen` and `shards_scanned` (exit 0); a failure logs `worker scan
 * failed` and writes `scan: scan failed: worker startup failed: …` or
 * `scan: scan failed: worker runtime failed: …` (exit 1). Messages never
 * hold a DSN or a key.
 *
 * @param config The validated connector launch.
 * @param io Log, rules loader, stderr, recorder.
 * @param tuning Optional worker tuning (tests).
 * @returns The exit code.
 *
 * @example
 * ```ts ignore
 * import { executeConnectorMode } from "./connector.ts";
 * const code = await executeConnectorMode(config, { log, loadRules });
 * ```
 */
export async function executeConnectorMode(
  config: DistributedScanConfig,
  io: ConnectorIo,
  tuning: Omit<ConnectorDeps, "rules" | "log" | "recorder"> = {},
): Promise<number> {
  const fail = (phase: "startup" | "runtime", error: unknown): number => {
    const message = `scan failed: worker ${phase} failed: ${messageOf(error)}`;
    io.log.error("worker scan failed", {
      code: error instanceof LedgerError ? error.code : "scan_failed",
      error: message,
    });
    io.stderr?.(`scan: ${message}\n`);
    return 1;
  };
  let rules: RuleSet;
  try {
    rules = await io.loadRules(config.scan.rulesFile);
  } catch (error) {
    return fail("startup", error);
  }
  let started = false;
  try {
    const report = await runConnectorScan(config, {
      ...tuning,
      rules,
      log: io.log,
      recorder: io.recorder,
      onStep: async (step, shard) => {
        started = true;
        await tuning.onStep?.(step, shard);
      },
    });
    io.log.info("distributed scan completed", {
      leases_seen: report.leasesSeen,
      shards_scanned: report.shardsScanned,
    });
    return 0;
  } catch (error) {
    return fail(started ? "runtime" : "startup", error);
  }
}

/**
 * Loads the rules of a connector launch: the rules file (gitleaks TOML) or
 * the built-in set.
 *
 * @param rulesFile The file, or null.
 * @returns The rules.
 * @throws {LedgerError} `invalid_rules` / `source_failed`.
 *
 * @example
 * ```ts
 * import { loadConnectorRules } from "./connector.ts";
 * const rules = await loadConnectorRules(null);
 * console.assert(rules.rules.length > 0);
 * ```
 */
export async function loadConnectorRules(
  rulesFile: string | null,
): Promise<RuleSet> {
  if (rulesFile === null) return defaultRuleSet();
  let text: string;
  try {
    text = await Deno.readTextFile(rulesFile);
  } catch {
    throw new LedgerError("source_failed", "the rules file cannot be read");
  }
  return parseRulesToml(rulesFile, text);
}

/**
 * The `scan` command's connector runner (the `connector` option of
 * `runScan`): {@link executeConnectorMode} with the built-in or configured
 * rules, the command's log and its stderr.
 *
 * @param config The validated connector launch.
 * @param io The command's stderr.
 * @param log The command's log.
 * @returns The exit code.
 *
 * @example
 * ```ts ignore
 * import { runConnectorCommand } from "./connector.ts";
 * const code = await runConnectorCommand(config, PROCESS_IO, log);
 * ```
 */
export function runConnectorCommand(
  config: DistributedScanConfig,
  io: { stderr(text: string): void },
  log: ConnectorIo["log"],
): Promise<number> {
  const telemetry = (
    level: string,
    message: string,
    fields: Readonly<Record<string, unknown>>,
  ): void => {
    if (level === "error") log.error(message, fields);
    else if (level === "warn") log.warn(message, fields);
    else if (level === "info") log.info(message, fields);
    else log.debug?.(message, fields);
  };
  return executeConnectorMode(config, {
    log,
    loadRules: loadConnectorRules,
    stderr: (t) => io.stderr(t),
    recorder: new CoordinationRecorder(createLogSink(telemetry), telemetry),
  });
}

function isTransient(error: unknown): boolean {
  if (!(error instanceof LedgerError)) return false;
  if (error.code === "coordination_unavailable") return true;
  if (error.code !== "store_failed") return false;
  return !/^(22|23|42)/.test(String(error.details.sqlstate ?? ""));
}

function messageOf(error: unknown): string {
  if (error instanceof LedgerError) return error.message;
  return error instanceof Error ? error.name : "unknown error";
}
