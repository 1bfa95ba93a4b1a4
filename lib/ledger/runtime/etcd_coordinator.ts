/**
 * The etcd coordination of a distributed scan: runs and their shards,
 * leases with fenced compare-and-swap, checkpoints, completion, parking and
 * splits. The rules are the pure functions of `etcd_lease.ts`; this module
 * reads records, asks those functions what to write, and sends one etcd
 * transaction guarded by the record's `mod_revision` plus the owner binding
 * (value and etcd lease), retrying lost races with the CAS backoff.
 *
 * Beyond the reference (which leaves them unimplemented on etcd), `complete`,
 * `park`, `unpark`, `completeRun`, `failRun` and `cancelRun` are implemented
 * here: completing or parking a shard deletes its owner key and its
 * active-shard marker in the same transaction; a run completes once no
 * active-shard marker is left.
 *
 * @module
 */

import {
  decodeRunRecord,
  decodeShardOwner,
  decodeShardRecord,
  encodeRunRecord,
  encodeShardOwner,
  encodeShardRecord,
  newShardRecord,
  type RunRecord,
  type RunStatus,
  type ShardCursor,
  type ShardOwner,
  type ShardRecord,
} from "../etcd_codec.ts";
import {
  EtcdKeyspace,
  parseU64KeyPart,
  validateEtcdNamespace,
} from "../etcd_keyspace.ts";
import {
  casBackoffMs,
  checkPresentedLease,
  chunked,
  type FencedOp,
  type FencedOpPlan,
  fnv1a64,
  MAX_SHARDS_PER_ETCD_TXN,
  MAX_SPLIT_CHILDREN,
  planAcquire,
  planCheckpoint,
  planComplete,
  planPark,
  planRenew,
  planSplitReplace,
  planSplitResidual,
  planUnpark,
  type SplitChild,
} from "../etcd_lease.ts";
import { LedgerError } from "../errors.ts";
import {
  type EtcdCompare,
  EtcdGatewayClient,
  etcdKey,
  type EtcdKeyValue,
  type EtcdOp,
} from "./etcd_client.ts";

/** Settings of the etcd coordination, with the reference's defaults. */
export interface EtcdCoordinatorOptions {
  /** Client URLs. */
  readonly endpoints: readonly string[];
  /** Namespace prefix (validated). */
  readonly namespace: string;
  /** The 32-byte tenant id. */
  readonly tenant: Uint8Array;
  /** Connect (and per-request) timeout in ms. Default 5,000. */
  readonly connectTimeoutMs?: number;
  /** TTL of the etcd lease holding an owner key, in seconds (> 0). Default 60. */
  readonly ownerLeaseTtlSecs?: number;
  /** CAS attempts before giving up (≥ 1). Default 8. */
  readonly optimisticTxnRetries?: number;
  /** Most children one split may create (1..64). Default 8. */
  readonly maxChildrenPerOp?: number;
  /** Optional etcd user. */
  readonly username?: string;
  /** Optional etcd password (never logged). */
  readonly password?: string;
  /** The clock, in ms (logical time). Default `Date.now()`. */
  readonly now?: () => bigint;
  /** Sleeps between CAS retries. Default a timer. */
  readonly sleep?: (ms: number) => Promise<void>;
}

/** One shard of a run's plan. */
export interface ShardSpec {
  /** Shard id (unique in the run). */
  readonly shard: bigint;
  /** Inclusive start of its key range. */
  readonly keyRangeStart: Uint8Array;
  /** Exclusive end (empty = unbounded). */
  readonly keyRangeEnd: Uint8Array;
  /** Opaque metadata. */
  readonly metadata: Uint8Array;
}

/** A held shard lease. */
export interface ShardLeaseHandle {
  /** Run id. */
  readonly run: bigint;
  /** Shard id. */
  readonly shard: bigint;
  /** Worker id. */
  readonly worker: bigint;
  /** The fence epoch granted. */
  readonly fence: bigint;
  /** The etcd lease holding the owner key. */
  readonly etcdLease: string;
  /** The shard record as acquired (range, cursor). */
  readonly record: ShardRecord;
}

/** What {@link EtcdCoordinator.claimNext} found. */
export type ClaimResult =
  | { readonly kind: "leased"; readonly lease: ShardLeaseHandle }
  | { readonly kind: "busy"; readonly activeShards: number }
  | { readonly kind: "drained" };

/** The outcome of a fenced op. */
export type FencedOutcome = "applied" | "replayed";

interface LoadedShard {
  readonly record: ShardRecord;
  readonly recordKv: EtcdKeyValue;
  readonly owner: ShardOwner | null;
  readonly ownerKv: EtcdKeyValue | null;
}

const utf8 = new TextEncoder();

/**
 * The shard-plan hash a run record stores (FNV-1a 64 over the specs and the
 * lease duration); a second registration must present the same.
 *
 * @param shards The plan.
 * @param leaseDurationMs The lease duration.
 * @returns The hash.
 *
 * @example
 * ```ts
 * import { shardPlanHash } from "./etcd_coordinator.ts";
 * const e = new Uint8Array();
 * console.assert(shardPlanHash([{ shard: 1n, keyRangeStart: e, keyRangeEnd: e, metadata: e }], 1000n) !==
 *   shardPlanHash([{ shard: 2n, keyRangeStart: e, keyRangeEnd: e, metadata: e }], 1000n));
 * ```
 */
export function shardPlanHash(
  shards: readonly ShardSpec[],
  leaseDurationMs: bigint,
): bigint {
  const parts: number[] = [...utf8.encode(`lease=${leaseDurationMs};`)];
  for (const s of shards) {
    parts.push(
      ...utf8.encode(`${s.shard}:`),
      ...s.keyRangeStart,
      0xff,
      ...s.keyRangeEnd,
      0xfe,
      ...s.metadata,
      0xfd,
    );
  }
  return fnv1a64(Uint8Array.from(parts));
}

/**
 * The etcd coordinator of one tenant.
 *
 * @example
 * ```ts ignore
 * import { EtcdCoordinator } from "./etcd_coordinator.ts";
 * const coord = await EtcdCoordinator.connect({ endpoints: ["http://127.0.0.1:2379"], namespace: "/gossip/v1", tenant });
 * await coord.registerRun(1n, shards, 30_000n);
 * const claim = await coord.claimNext(1n, 7n);
 * ```
 */
export class EtcdCoordinator {
  /** The keyspace. */
  readonly keys: EtcdKeyspace;
  readonly #etcd: EtcdGatewayClient;
  readonly #tenant: Uint8Array;
  readonly #ttl: number;
  readonly #retries: number;
  readonly #maxChildren: number;
  readonly #now: () => bigint;
  readonly #sleep: (ms: number) => Promise<void>;
  readonly #runs = new Map<bigint, RunRecord>();

  private constructor(
    options: EtcdCoordinatorOptions,
    etcd: EtcdGatewayClient,
  ) {
    this.keys = new EtcdKeyspace(options.namespace, options.tenant);
    this.#etcd = etcd;
    this.#tenant = options.tenant;
    this.#ttl = options.ownerLeaseTtlSecs ?? 60;
    this.#retries = options.optimisticTxnRetries ?? 8;
    this.#maxChildren = options.maxChildrenPerOp ?? 8;
    this.#now = options.now ?? (() => BigInt(Date.now()));
    this.#sleep = options.sleep ??
      ((ms) => new Promise((r) => setTimeout(r, ms)));
  }

  /**
   * Validates the settings, connects and runs the `Status` health check.
   *
   * @param options Settings.
   * @returns The coordinator.
   * @throws {LedgerError} `invalid_etcd_config`, or `startup_failed`
   *   (`failed to connect etcd coordination backend`, the inner error only in `details`).
   */
  static async connect(
    options: EtcdCoordinatorOptions,
  ): Promise<EtcdCoordinator> {
    validateEtcdNamespace(options.namespace);
    const bad = (what: string): never => {
      throw new LedgerError(
        "invalid_etcd_config",
        `invalid etcd worker configuration: ${what}`,
      );
    };
    if (options.endpoints.length === 0) bad("no endpoints");
    for (const e of options.endpoints) {
      if (!/^https?:\/\//.test(e)) {
        bad("endpoints must start with http:// or https://");
      }
    }
    if ((options.ownerLeaseTtlSecs ?? 60) <= 0) {
      bad("owner_lease_ttl_secs must be > 0");
    }
    if ((options.optimisticTxnRetries ?? 8) < 1) {
      bad("optimistic_txn_retries must be >= 1");
    }
    const children = options.maxChildrenPerOp ?? 8;
    if (children < 1 || children > MAX_SPLIT_CHILDREN) {
      bad(`max_children_per_op must be 1..=${MAX_SPLIT_CHILDREN}`);
    }
    const etcd = new EtcdGatewayClient({
      endpoints: options.endpoints,
      requestTimeoutMs: options.connectTimeoutMs ?? 5_000,
      username: options.username,
      password: options.password,
    });
    try {
      await etcd.status();
    } catch (error) {
      throw new LedgerError(
        "startup_failed",
        "failed to connect etcd coordination backend",
        {
          details: {
            inner: error instanceof LedgerError ? error.code : "unknown",
          },
        },
      );
    }
    return new EtcdCoordinator(options, etcd);
  }

  /** The raw client (tests and tools). @returns The client. */
  get client(): EtcdGatewayClient {
    return this.#etcd;
  }

  /**
   * Registers a run and its shards, or joins it when it exists with the same
   * plan. Shards go first (batches of at most 41 per transaction, each shard
   * created only when absent, so progress is never overwritten), the run
   * record last: a run record implies every shard exists.
   *
   * @param run Run id.
   * @param shards The plan.
   * @param leaseDurationMs How long a lease lasts.
   * @returns The run record and whether this call created it.
   * @throws {LedgerError} `run_conflict` when the run exists with another plan.
   */
  async registerRun(
    run: bigint,
    shards: readonly ShardSpec[],
    leaseDurationMs: bigint,
  ): Promise<{ record: RunRecord; created: boolean }> {
    const planHash = shardPlanHash(shards, leaseDurationMs);
    const existing = await this.#loadRunOrNull(run);
    if (existing !== null) {
      return { record: this.#checkPlan(existing, planHash), created: false };
    }
    // Another worker may be registering the same plan: create only the
    // shards that are still missing, each guarded by "absent".
    const present = new Set((await this.listShards(run)).map((r) => r.shard));
    let missing = shards.filter((s) => !present.has(s.shard));
    for (let attempt = 0; missing.length > 0; attempt++) {
      let lost = false;
      for (const batch of chunked(missing, MAX_SHARDS_PER_ETCD_TXN)) {
        const records = batch.map((s) =>
          newShardRecord(
            this.#tenant,
            run,
            s.shard,
            s.keyRangeStart,
            s.keyRangeEnd,
            s.metadata,
          )
        );
        const ok = await this.#etcd.txn(
          records.map((r) => ({
            key: etcdKey(this.keys.shardKey(run, r.shard)),
            target: "create",
            createRevision: 0n,
          })),
          records.flatMap((r) => this.#createShardOps(r)),
        );
        if (!ok.succeeded) lost = true;
      }
      if (!lost) break;
      if (attempt >= this.#retries) {
        throw new LedgerError(
          "contention",
          "etcd compare-and-swap contention did not converge",
        );
      }
      const now = new Set((await this.listShards(run)).map((r) => r.shard));
      missing = missing.filter((s) => !now.has(s.shard));
    }
    const record: RunRecord = {
      tenant: this.#tenant,
      run,
      status: "active",
      leaseDurationMs,
      createdAt: this.#now(),
      shardCount: BigInt(shards.length),
      planHash,
      finishedAt: null,
    };
    const runKey = etcdKey(this.keys.runKey(run));
    const result = await this.#etcd.txn(
      [{ key: runKey, target: "create", createRevision: 0n }],
      [
        { put: runKey, value: encodeRunRecord(record) },
        {
          put: etcdKey(this.keys.runActiveKey(run)),
          value: new Uint8Array([1]),
        },
      ],
      [{ range: runKey }],
    );
    if (result.succeeded) {
      this.#runs.set(run, record);
      return { record, created: true };
    }
    const theirs = decodeRunRecord(result.ranges[0][0].value);
    return { record: this.#checkPlan(theirs, planHash), created: false };
  }

  #checkPlan(record: RunRecord, planHash: bigint): RunRecord {
    if (record.planHash !== planHash) {
      throw new LedgerError(
        "run_conflict",
        `run ${record.run} exists with a different shard plan`,
        {
          details: { run: record.run },
        },
      );
    }
    this.#runs.set(record.run, record);
    return record;
  }

  #createShardOps(record: ShardRecord): EtcdOp[] {
    return [
      {
        put: etcdKey(this.keys.shardKey(record.run, record.shard)),
        value: encodeShardRecord(record),
      },
      {
        put: etcdKey(this.keys.shardActiveKey(record.run, record.shard)),
        value: new Uint8Array([1]),
      },
    ];
  }

  async #loadRunOrNull(run: bigint): Promise<RunRecord | null> {
    const [kv] = await this.#etcd.range(etcdKey(this.keys.runKey(run)));
    return kv === undefined ? null : decodeRunRecord(kv.value);
  }

  /**
   * Reads a run record.
   *
   * @param run Run id.
   * @returns The record.
   * @throws {LedgerError} `run_not_found`.
   */
  async loadRun(run: bigint): Promise<RunRecord> {
    const record = await this.#loadRunOrNull(run);
    if (record === null) {
      throw new LedgerError("run_not_found", `run ${run} not found`, {
        details: { run },
      });
    }
    this.#runs.set(run, record);
    return record;
  }

  async #runSettings(run: bigint): Promise<RunRecord> {
    return this.#runs.get(run) ?? await this.loadRun(run);
  }

  async #loadShard(run: bigint, shard: bigint): Promise<LoadedShard> {
    const key = this.keys.shardKey(run, shard);
    const kvs = await this.#etcd.range(etcdKey(key), true);
    const dec = new TextDecoder();
    let recordKv: EtcdKeyValue | undefined;
    let ownerKv: EtcdKeyValue | null = null;
    for (const kv of kvs) {
      const k = dec.decode(kv.key);
      if (k === key) recordKv = kv;
      else if (k === `${key}/owner`) ownerKv = kv;
    }
    if (recordKv === undefined) {
      throw new LedgerError(
        "shard_not_found",
        `shard ${shard} of run ${run} not found`,
        { details: { run, shard } },
      );
    }
    return {
      record: decodeShardRecord(recordKv.value),
      recordKv,
      owner: ownerKv === null ? null : decodeShardOwner(ownerKv.value),
      ownerKv,
    };
  }

  /**
   * Reads a shard record and its owner binding (one prefix read).
   *
   * @param run Run id.
   * @param shard Shard id.
   * @returns The record and the owner (null when none).
   * @throws {LedgerError} `shard_not_found`.
   */
  async loadShard(
    run: bigint,
    shard: bigint,
  ): Promise<{ record: ShardRecord; owner: ShardOwner | null }> {
    const loaded = await this.#loadShard(run, shard);
    return { record: loaded.record, owner: loaded.owner };
  }

  /**
   * The ids of the run's active shards (ascending).
   *
   * @param run Run id.
   * @returns Shard ids.
   */
  async listActiveShards(run: bigint): Promise<bigint[]> {
    const prefix = this.keys.shardsActivePrefix(run);
    const kvs = await this.#etcd.range(etcdKey(prefix), true);
    const dec = new TextDecoder();
    const out: bigint[] = [];
    for (const kv of kvs) {
      const id = parseU64KeyPart(dec.decode(kv.key).slice(prefix.length));
      if (id !== null) out.push(id);
    }
    return out;
  }

  /**
   * Every shard record of the run (ascending), owners not included.
   *
   * @param run Run id.
   * @returns The records.
   */
  async listShards(run: bigint): Promise<ShardRecord[]> {
    const prefix = this.keys.shardsPrefix(run);
    const kvs = await this.#etcd.range(etcdKey(prefix), true);
    const dec = new TextDecoder();
    return kvs.filter((kv) => !dec.decode(kv.key).endsWith("/owner")).map((
      kv,
    ) => decodeShardRecord(kv.value));
  }

  async #cas<T>(attempt: () => Promise<T | null>): Promise<T> {
    for (let i = 0; i < this.#retries; i++) {
      const result = await attempt();
      if (result !== null) return result;
      const jitter = Number(this.#now() % 1000n) / 1000;
      await this.#sleep(casBackoffMs(i, jitter));
    }
    const last = await attempt();
    if (last !== null) return last;
    throw new LedgerError(
      "contention",
      "etcd compare-and-swap contention did not converge",
    );
  }

  #ownerCompares(loaded: LoadedShard): EtcdCompare[] {
    const key = etcdKey(
      this.keys.shardKey(loaded.record.run, loaded.record.shard),
    );
    const ownerKey = etcdKey(
      this.keys.ownerKey(loaded.record.run, loaded.record.shard),
    );
    const compares: EtcdCompare[] = [{
      key,
      target: "mod",
      modRevision: loaded.recordKv.modRevision,
    }];
    if (loaded.ownerKv === null) {
      compares.push({ key: ownerKey, target: "create", createRevision: 0n });
    } else {
      compares.push({
        key: ownerKey,
        target: "value",
        value: loaded.ownerKv.value,
      });
      compares.push({
        key: ownerKey,
        target: "lease",
        lease: loaded.ownerKv.lease,
      });
    }
    return compares;
  }

  /**
   * Acquires a shard: checks it, raises the fence, grants an etcd lease and
   * writes the record and the owner binding in one CAS.
   *
   * @param run Run id.
   * @param shard Shard id.
   * @param worker Worker id.
   * @returns The lease.
   * @throws {LedgerError} `shard_not_found`, `tenant_mismatch`, `shard_terminal`, `already_leased`, `contention`.
   */
  async acquire(
    run: bigint,
    shard: bigint,
    worker: bigint,
  ): Promise<ShardLeaseHandle> {
    const settings = await this.#runSettings(run);
    return await this.#cas(async () => {
      const loaded = await this.#loadShard(run, shard);
      const plan = planAcquire(
        loaded.record,
        loaded.owner,
        this.#tenant,
        worker,
        this.#now(),
        settings.leaseDurationMs,
      );
      const etcdLease = await this.#etcd.leaseGrant(this.#ttl);
      const result = await this.#etcd.txn(this.#ownerCompares(loaded), [
        {
          put: etcdKey(this.keys.shardKey(run, shard)),
          value: encodeShardRecord(plan.record),
        },
        {
          put: etcdKey(this.keys.ownerKey(run, shard)),
          value: encodeShardOwner(plan.owner),
          lease: etcdLease,
        },
      ]).catch(async (error) => {
        await this.#etcd.leaseRevoke(etcdLease).catch(() => undefined);
        throw error;
      });
      if (!result.succeeded) {
        await this.#etcd.leaseRevoke(etcdLease).catch(() => undefined);
        return null;
      }
      if (loaded.ownerKv !== null && loaded.ownerKv.lease !== "0") {
        await this.#etcd.leaseRevoke(loaded.ownerKv.lease).catch(() =>
          undefined
        );
      }
      return {
        run,
        shard,
        worker,
        fence: plan.owner.fence,
        etcdLease,
        record: plan.record,
      };
    });
  }

  /**
   * Claims some active shard of the run that nobody owns, starting at an
   * offset derived from the worker id so workers spread out.
   *
   * @param run Run id.
   * @param worker Worker id.
   * @returns A lease, `busy` (active shards exist but are owned), or `drained`.
   */
  async claimNext(run: bigint, worker: bigint): Promise<ClaimResult> {
    const active = await this.listActiveShards(run);
    if (active.length === 0) return { kind: "drained" };
    const start = Number(worker % BigInt(active.length));
    for (let i = 0; i < active.length; i++) {
      const shard = active[(start + i) % active.length];
      try {
        return {
          kind: "leased",
          lease: await this.acquire(run, shard, worker),
        };
      } catch (error) {
        if (
          error instanceof LedgerError &&
          ["already_leased", "shard_terminal", "shard_not_found", "contention"]
            .includes(error.code)
        ) continue;
        throw error;
      }
    }
    return { kind: "busy", activeShards: active.length };
  }

  async #fenced(
    lease: ShardLeaseHandle,
    plan: (loaded: LoadedShard, now: bigint) => FencedOpPlan,
    extraOps: (loaded: LoadedShard) => EtcdOp[],
    childCompares = false,
  ): Promise<FencedOutcome> {
    return await this.#cas(async () => {
      const loaded = await this.#loadShard(lease.run, lease.shard);
      const planned = plan(loaded, this.#now());
      if (planned.outcome === "replayed") return "replayed" as const;
      const ops: EtcdOp[] = [
        {
          put: etcdKey(this.keys.shardKey(lease.run, lease.shard)),
          value: encodeShardRecord(planned.record),
        },
        ...extraOps(loaded),
        ...planned.children.flatMap((c) => this.#createShardOps(c)),
      ];
      const compares = this.#ownerCompares(loaded);
      if (childCompares) {
        for (const c of planned.children) {
          compares.push({
            key: etcdKey(this.keys.shardKey(c.run, c.shard)),
            target: "create",
            createRevision: 0n,
          });
        }
      }
      const result = await this.#etcd.txn(compares, ops);
      return result.succeeded ? "applied" as const : null;
    });
  }

  /**
   * Renews a lease: a new deadline (same fence) by CAS, then one best-effort
   * keep-alive of the etcd lease.
   *
   * @param lease The held lease.
   * @throws {LedgerError} `stale_fence`, `shard_terminal`, `shard_not_found`.
   */
  async renew(lease: ShardLeaseHandle): Promise<void> {
    const settings = await this.#runSettings(lease.run);
    await this.#cas(async () => {
      const loaded = await this.#loadShard(lease.run, lease.shard);
      const record = planRenew(
        loaded.record,
        loaded.owner,
        lease,
        this.#now(),
        settings.leaseDurationMs,
      );
      const result = await this.#etcd.txn(this.#ownerCompares(loaded), [
        {
          put: etcdKey(this.keys.shardKey(lease.run, lease.shard)),
          value: encodeShardRecord(record),
        },
      ]);
      return result.succeeded ? true : null;
    });
    await this.#etcd.leaseKeepAliveOnce(lease.etcdLease).catch(() => 0);
  }

  /**
   * Checks that the lease still owns the shard (no write).
   *
   * @param lease The held lease.
   * @throws {LedgerError} `stale_fence`.
   */
  async verify(lease: ShardLeaseHandle): Promise<void> {
    const loaded = await this.#loadShard(lease.run, lease.shard);
    checkPresentedLease(loaded.record, loaded.owner, lease, this.#now());
  }

  /**
   * A fenced checkpoint: moves the cursor; a replayed op id is `replayed`.
   *
   * @param lease The held lease.
   * @param op Op id and payload hash.
   * @param cursor The new cursor.
   * @returns `applied` or `replayed`.
   * @throws {LedgerError} `stale_fence`, `op_id_conflict`, `shard_terminal`.
   */
  checkpoint(
    lease: ShardLeaseHandle,
    op: FencedOp,
    cursor: ShardCursor,
  ): Promise<FencedOutcome> {
    return this.#fenced(
      lease,
      (l, now) => planCheckpoint(l.record, l.owner, lease, op, cursor, now),
      () => [],
    );
  }

  /**
   * A fenced complete: the shard is `done`; its owner key and active marker
   * go in the same transaction; the etcd lease is revoked afterwards.
   *
   * @param lease The held lease.
   * @param op Op id and payload hash.
   * @param cursor The final cursor.
   * @returns `applied` or `replayed`.
   * @throws {LedgerError} `stale_fence`, `op_id_conflict`, `shard_terminal`.
   */
  async complete(
    lease: ShardLeaseHandle,
    op: FencedOp,
    cursor: ShardCursor,
  ): Promise<FencedOutcome> {
    const outcome = await this.#fenced(
      lease,
      (l, now) => planComplete(l.record, l.owner, lease, op, cursor, now),
      () => this.#releaseOps(lease),
    );
    // The owner key is already gone; the lease only needs to stop counting.
    this.#etcd.leaseRevoke(lease.etcdLease).catch(() => undefined);
    return outcome;
  }

  /**
   * A fenced park: the shard is `parked` with a reason and leaves the
   * active set until {@link EtcdCoordinator.unpark}.
   *
   * @param lease The held lease.
   * @param op Op id and payload hash.
   * @param reason Why (no secrets).
   * @returns `applied` or `replayed`.
   */
  async park(
    lease: ShardLeaseHandle,
    op: FencedOp,
    reason: string,
  ): Promise<FencedOutcome> {
    const outcome = await this.#fenced(
      lease,
      (l, now) => planPark(l.record, l.owner, lease, op, reason, now),
      () => this.#releaseOps(lease),
    );
    // The owner key is already gone; the lease only needs to stop counting.
    this.#etcd.leaseRevoke(lease.etcdLease).catch(() => undefined);
    return outcome;
  }

  /**
   * Makes a parked shard active again (an operator action).
   *
   * @param run Run id.
   * @param shard Shard id.
   * @throws {LedgerError} `shard_terminal` when it is not parked.
   */
  async unpark(run: bigint, shard: bigint): Promise<void> {
    await this.#cas(async () => {
      const loaded = await this.#loadShard(run, shard);
      const record = planUnpark(loaded.record);
      const key = etcdKey(this.keys.shardKey(run, shard));
      const result = await this.#etcd.txn([{
        key,
        target: "mod",
        modRevision: loaded.recordKv.modRevision,
      }], [
        { put: key, value: encodeShardRecord(record) },
        {
          put: etcdKey(this.keys.shardActiveKey(run, shard)),
          value: new Uint8Array([1]),
        },
      ]);
      return result.succeeded ? true : null;
    });
  }

  /**
   * A fenced split replacing the shard by children (the parent becomes `split`).
   *
   * @param lease The held lease.
   * @param op Op id and payload hash.
   * @param children The children.
   * @returns `applied` or `replayed`.
   */
  async splitReplace(
    lease: ShardLeaseHandle,
    op: FencedOp,
    children: readonly SplitChild[],
  ): Promise<FencedOutcome> {
    const outcome = await this.#fenced(
      lease,
      (l, now) =>
        planSplitReplace(
          l.record,
          l.owner,
          lease,
          op,
          children,
          now,
          this.#maxChildren,
        ),
      () => this.#releaseOps(lease),
      true,
    );
    // The owner key is already gone; the lease only needs to stop counting.
    this.#etcd.leaseRevoke(lease.etcdLease).catch(() => undefined);
    return outcome;
  }

  /**
   * A fenced residual split: the parent keeps `[start, splitKey)`, a child gets the rest.
   *
   * @param lease The held lease.
   * @param op Op id and payload hash.
   * @param child The child id and metadata.
   * @param splitKey Where to cut.
   * @returns `applied` or `replayed`.
   */
  splitResidual(
    lease: ShardLeaseHandle,
    op: FencedOp,
    child: { readonly shard: bigint; readonly metadata: Uint8Array },
    splitKey: Uint8Array,
  ): Promise<FencedOutcome> {
    return this.#fenced(
      lease,
      (l, now) =>
        planSplitResidual(l.record, l.owner, lease, op, child, splitKey, now),
      () => [],
      true,
    );
  }

  #releaseOps(lease: ShardLeaseHandle): EtcdOp[] {
    return [
      { delete: etcdKey(this.keys.ownerKey(lease.run, lease.shard)) },
      { delete: etcdKey(this.keys.shardActiveKey(lease.run, lease.shard)) },
    ];
  }

  /**
   * Completes the run when no active shard is left.
   *
   * @param run Run id.
   * @returns True when the run is (now or already) completed.
   * @throws {LedgerError} `run_not_found`.
   */
  async completeRun(run: bigint): Promise<boolean> {
    if ((await this.listActiveShards(run)).length > 0) return false;
    return (await this.#setRunStatus(run, "completed")) === "completed";
  }

  /**
   * Marks the run failed (terminal).
   *
   * @param run Run id.
   * @returns The run's status afterwards.
   */
  failRun(run: bigint): Promise<RunStatus> {
    return this.#setRunStatus(run, "failed");
  }

  /**
   * Marks the run cancelled (terminal).
   *
   * @param run Run id.
   * @returns The run's status afterwards.
   */
  cancelRun(run: bigint): Promise<RunStatus> {
    return this.#setRunStatus(run, "cancelled");
  }

  async #setRunStatus(run: bigint, status: RunStatus): Promise<RunStatus> {
    return await this.#cas(async () => {
      const key = etcdKey(this.keys.runKey(run));
      const [kv] = await this.#etcd.range(key);
      if (kv === undefined) {
        throw new LedgerError("run_not_found", `run ${run} not found`, {
          details: { run },
        });
      }
      const record = decodeRunRecord(kv.value);
      if (record.status !== "active") return record.status;
      const next: RunRecord = { ...record, status, finishedAt: this.#now() };
      const result = await this.#etcd.txn([{
        key,
        target: "mod",
        modRevision: kv.modRevision,
      }], [
        { put: key, value: encodeRunRecord(next) },
        { delete: etcdKey(this.keys.runActiveKey(run)) },
      ]);
      if (!result.succeeded) return null;
      this.#runs.set(run, next);
      return status;
    });
  }
}
