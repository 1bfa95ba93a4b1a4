/**
 * The Redis/Valkey backend: raw commands through npm `iovalkey`, every
 * registry and execution operation as one of our own Lua scripts
 * ({@link CAPS_SCRIPTS}) run by `EVALSHA` (loaded with `SCRIPT LOAD`,
 * reloaded after a server restart answers `NOSCRIPT`).
 *
 * Why `iovalkey`: the ioredis API (maintained by the Valkey project),
 * ~11 ms to connect under Deno, reconnects after a server restart and
 * queues commands meanwhile; node-redis needs 220-350 ms to connect.
 *
 * @module
 */

import { Redis } from "iovalkey";
import {
  type CapsBackend,
  type ClaimOutcome,
  type ClaimRequest,
  DEFAULT_CLAIM_SCAN_DEPTH,
  type ExecutionRecord,
  executionRecordFromHash,
  type ExecutionSpec,
  EXPIRY_BATCH,
  type HeartbeatOutcome,
  type Lease,
  type LeaseRef,
  type ListWorkersOptions,
  type RegisterOutcome,
  type RegisterWorkerArgs,
  ROUTE_BLOCK_DETAIL,
  type ScanOutcome,
  UNBLOCK_BATCH,
  type WorkerPage,
} from "../backend.ts";
import { CapsError, type CapsErrorCode } from "../errors.ts";
import { prepareExecution } from "../execution.ts";
import {
  executionCoreKey,
  laneIndexKey,
  LANES_INDEX_KEY,
  PARTITIONS_CONFIG_KEY,
  workerAliveKey,
  workerCapsKey,
  workersIndexKey,
} from "../keys.ts";
import {
  DEFAULT_PARTITION_CONFIG,
  parsePartitionConfig,
} from "../partition.ts";
import type { ServerCommand, ServerReply } from "../preamble.ts";
import { checkDeadReason, listWorkersVia } from "../registry.ts";
import { CAPS_SCRIPTS, type CapsScriptName } from "./redis_scripts.ts";

/** Options for {@link connectRedisBackend}. */
export interface RedisBackendOptions {
  /** `redis://host:port[/db]`. */
  readonly url: string;
  /** An injected clock for lease times; server `TIME` when absent. */
  readonly now?: () => number;
  /** Connect timeout in ms. @default {5000} */
  readonly connectTimeoutMs?: number;
  /** Send commands of one tick as one pipeline. @default {true} */
  readonly autoPipelining?: boolean;
  /** Give up on a command after this many reconnect attempts. @default {20} */
  readonly maxRetriesPerRequest?: number;
}

const REFUSAL_CODES: ReadonlySet<string> = new Set([
  "execution_not_found",
  "execution_exists",
  "execution_not_active",
  "stale_lease",
  "lease_expired",
  "capability_mismatch",
]);

function backendError(context: string, cause: unknown): CapsError {
  if (cause instanceof CapsError) return cause;
  const message = cause instanceof Error ? cause.message : String(cause);
  return new CapsError("backend_error", message, { context, cause });
}

/** The server-backed backend (build it with {@link connectRedisBackend}). */
export class RedisCapsBackend implements CapsBackend {
  /** Always `redis`. */
  readonly kind = "redis" as const;
  readonly #client: Redis;
  readonly #now: (() => number) | undefined;
  readonly #shas = new Map<CapsScriptName, string>();
  #partitions: number | undefined;

  /**
   * Wraps a connected client.
   *
   * @param client The client.
   * @param now The injected clock, if any.
   */
  constructor(client: Redis, now?: () => number) {
    this.#client = client;
    this.#now = now;
  }

  #time(): string {
    return this.#now === undefined ? "" : String(Math.floor(this.#now()));
  }

  /** Runs one raw command. */
  async command(command: ServerCommand): Promise<ServerReply> {
    const [name, ...args] = command;
    return await this.#client.call(name, ...args) as ServerReply;
  }

  /** The injected clock, else server `TIME`. */
  async now(): Promise<number> {
    if (this.#now !== undefined) return this.#now();
    const [s, us] = await this.#client.call("TIME") as [string, string];
    return Number(s) * 1000 + Math.floor(Number(us) / 1000);
  }

  async #run(
    name: CapsScriptName,
    keys: readonly string[],
    args: readonly (string | number)[],
  ): Promise<ServerReply[]> {
    let reply: unknown;
    for (let attempt = 0;; attempt++) {
      let sha = this.#shas.get(name);
      try {
        if (sha === undefined) {
          sha = await this.#client.call(
            "SCRIPT",
            "LOAD",
            CAPS_SCRIPTS[name],
          ) as string;
          this.#shas.set(name, sha);
        }
        reply = await this.#client.evalsha(sha, keys.length, ...keys, ...args);
        break;
      } catch (err) {
        if (
          attempt === 0 && err instanceof Error &&
          err.message.startsWith("NOSCRIPT")
        ) {
          this.#shas.clear();
          continue;
        }
        throw backendError(name, err);
      }
    }
    const out = reply as ServerReply[];
    if (!Array.isArray(out) || out.length < 2) {
      throw new CapsError("backend_error", `unexpected ${name} reply`, {
        context: name,
      });
    }
    if (out[0] !== 1) {
      const code = String(out[1]);
      const detail = String(out[2] ?? "");
      throw new CapsError(
        (REFUSAL_CODES.has(code) ? code : "backend_error") as CapsErrorCode,
        code === "execution_not_found"
          ? `no execution ${detail}`
          : `${code}: ${detail}`,
      );
    }
    return out.slice(2);
  }

  /** Registers or refreshes a worker. */
  async registerWorker(args: RegisterWorkerArgs): Promise<RegisterOutcome> {
    const [outcome] = await this.#run("register", [
      workerAliveKey(args.namespace, args.workerInstanceId),
      workerCapsKey(args.namespace, args.workerInstanceId),
      workersIndexKey(args.namespace),
    ], [
      args.workerInstanceId,
      args.workerId,
      args.lanesCsv,
      args.capabilitiesCsv,
      String(args.ttlMs),
      this.#time(),
      args.exclusive === true ? "1" : "0",
    ]);
    return outcome as RegisterOutcome;
  }

  /** Refreshes a worker's TTLs. */
  async heartbeatWorker(
    namespace: string,
    workerInstanceId: string,
  ): Promise<HeartbeatOutcome> {
    const [status, ttl] = await this.#run("heartbeat", [
      workerAliveKey(namespace, workerInstanceId),
      workerCapsKey(namespace, workerInstanceId),
    ], [this.#time()]);
    return status === "refreshed"
      ? { status: "refreshed", ttlMs: Number(ttl) }
      : { status: "not_registered" };
  }

  /** Removes a worker. */
  async markWorkerDead(
    namespace: string,
    workerInstanceId: string,
    reason: string,
  ): Promise<"marked" | "not_registered"> {
    checkDeadReason(reason);
    const [outcome] = await this.#run("markDead", [
      workerAliveKey(namespace, workerInstanceId),
      workerCapsKey(namespace, workerInstanceId),
      workersIndexKey(namespace),
    ], [workerInstanceId]);
    return outcome as "marked" | "not_registered";
  }

  /** Lists workers. */
  listWorkers(
    namespace: string,
    options?: ListWorkersOptions,
  ): Promise<WorkerPage> {
    return listWorkersVia((c) => this.command(c), namespace, options);
  }

  async #numFlowPartitions(): Promise<number> {
    if (this.#partitions === undefined) {
      try {
        const reply = await this.command(["HGETALL", PARTITIONS_CONFIG_KEY]);
        const fields: Record<string, string> = {};
        const flat = reply as string[];
        for (let i = 0; i + 1 < flat.length; i += 2) {
          fields[flat[i]] = flat[i + 1];
        }
        this.#partitions = parsePartitionConfig(fields).numFlowPartitions;
      } catch {
        this.#partitions = DEFAULT_PARTITION_CONFIG.numFlowPartitions;
      }
    }
    return this.#partitions;
  }

  /** Creates an execution. */
  async submit(spec: ExecutionSpec): Promise<ExecutionRecord> {
    const p = prepareExecution(
      spec,
      await this.#numFlowPartitions(),
      crypto.randomUUID(),
    );
    const [flat] = await this.#run("submit", [
      executionCoreKey(p.executionId),
      laneIndexKey(p.partition, p.lane, "eligible"),
      LANES_INDEX_KEY,
    ], [
      p.executionId,
      p.namespace,
      p.lane,
      p.requiredCsv,
      String(p.priority),
      p.payload,
      String(p.maxAttempts),
      this.#time(),
    ]);
    return executionRecordFromHash(hashOf(flat));
  }

  /** Claims executions. */
  async claim(request: ClaimRequest): Promise<ClaimOutcome> {
    const [mismatched, blocked, leases] = await this.#run("claim", [], [
      request.namespace,
      request.workerId,
      request.workerInstanceId,
      request.lane,
      request.capabilitiesCsv,
      String(request.leaseTtlMs),
      String(request.max),
      String(request.scanDepth ?? DEFAULT_CLAIM_SCAN_DEPTH),
      crypto.randomUUID(),
      this.#time(),
      request.partitions.join(","),
      ROUTE_BLOCK_DETAIL,
    ]);
    return {
      mismatched: Number(mismatched),
      blocked: (blocked as string[]).map(String),
      leases: (leases as ServerReply[][]).map((l): Lease => ({
        executionId: String(l[0]),
        leaseId: String(l[1]),
        epoch: Number(l[2]),
        expiresAt: Number(l[3]),
        attempt: Number(l[4]),
        payload: String(l[5]),
        requiredCapabilities: String(l[6]),
      })),
    };
  }

  /** Extends a lease. */
  async renew(lease: LeaseRef, ttlMs: number): Promise<number> {
    const [expires] = await this.#run("renew", [], [
      lease.executionId,
      lease.leaseId,
      String(lease.epoch),
      String(ttlMs),
      this.#time(),
    ]);
    return Number(expires);
  }

  /** Completes a lease. */
  async complete(lease: LeaseRef, result = ""): Promise<void> {
    await this.#run("complete", [], [
      lease.executionId,
      lease.leaseId,
      String(lease.epoch),
      this.#time(),
      result,
    ]);
  }

  /** Fails a lease. */
  async fail(
    lease: LeaseRef,
    reason: string,
    retry: boolean,
  ): Promise<"requeued" | "failed"> {
    const [outcome] = await this.#run("fail", [], [
      lease.executionId,
      lease.leaseId,
      String(lease.epoch),
      this.#time(),
      reason,
      retry ? "1" : "0",
    ]);
    return outcome as "requeued" | "failed";
  }

  /** Requeues or fails executions whose lease ran out. */
  async expireLeases(numFlowPartitions: number): Promise<ScanOutcome> {
    const [moved, failed] = await this.#run("expire", [], [
      String(numFlowPartitions),
      this.#time(),
      String(EXPIRY_BATCH),
    ]);
    return {
      moved: (moved as string[]).map(String),
      failed: (failed as string[]).map(String),
    };
  }

  /** Promotes route-blocked executions a registered worker can run. */
  async unblockScan(numFlowPartitions: number): Promise<ScanOutcome> {
    const [moved] = await this.#run("unblock", [], [
      String(numFlowPartitions),
      String(UNBLOCK_BATCH),
    ]);
    return { moved: (moved as string[]).map(String), failed: [] };
  }

  /** Reads an execution. */
  async getExecution(
    executionId: string,
  ): Promise<ExecutionRecord | undefined> {
    const flat = await this.command(["HGETALL", executionCoreKey(executionId)]);
    const fields = hashOf(flat);
    return Object.keys(fields).length === 0
      ? undefined
      : executionRecordFromHash(fields);
  }

  /**
   * Streams every command the server runs (`MONITOR` on a second
   * connection) until the returned function is called.
   *
   * @param onCommand Gets each command as its arguments.
   * @returns Stops the stream.
   */
  async monitor(
    onCommand: (args: readonly string[]) => void,
  ): Promise<() => void> {
    const mon = await this.#client.monitor();
    mon.on("monitor", (_time: string, args: string[]) => onCommand(args));
    return () => mon.disconnect();
  }

  /** Closes the connection. */
  async close(): Promise<void> {
    try {
      await this.#client.quit();
    } catch {
      this.#client.disconnect();
    }
  }
}

function hashOf(flat: ServerReply): Record<string, string> {
  const out: Record<string, string> = {};
  if (Array.isArray(flat)) {
    for (let i = 0; i + 1 < flat.length; i += 2) {
      out[String(flat[i])] = String(flat[i + 1]);
    }
  }
  return out;
}

/**
 * Connects to a server (loopback or wherever the URL points).
 *
 * @param options URL, clock, timeouts.
 * @returns The backend once connected.
 * @throws {CapsError} `backend_error` when the server cannot be reached.
 *
 * @example
 * ```ts ignore
 * import { connectRedisBackend } from "./redis_backend.ts";
 * const backend = await connectRedisBackend({ url: "redis://127.0.0.1:6379" });
 * await backend.close();
 * ```
 */
export async function connectRedisBackend(
  options: RedisBackendOptions,
): Promise<RedisCapsBackend> {
  let url: URL;
  try {
    url = new URL(options.url);
  } catch {
    throw new CapsError("invalid_config", `invalid redis URL: ${options.url}`);
  }
  if (url.protocol !== "redis:") {
    throw new CapsError(
      "invalid_config",
      `redis URL must start with redis:// (got ${url.protocol}//)`,
    );
  }
  const client = new Redis({
    host: url.hostname || "127.0.0.1",
    port: url.port === "" ? 6379 : Number(url.port),
    db: url.pathname.length > 1 ? Number(url.pathname.slice(1)) : 0,
    username: url.username === ""
      ? undefined
      : decodeURIComponent(url.username),
    password: url.password === ""
      ? undefined
      : decodeURIComponent(url.password),
    lazyConnect: true,
    connectTimeout: options.connectTimeoutMs ?? 5000,
    enableAutoPipelining: options.autoPipelining ?? true,
    maxRetriesPerRequest: options.maxRetriesPerRequest ?? 20,
    retryStrategy: (times: number) => Math.min(times * 50, 500),
  });
  client.on("error", () => {
    // Reported through the failing command; the client reconnects.
  });
  try {
    await client.connect();
  } catch (err) {
    client.disconnect();
    throw backendError("connect", err);
  }
  return new RedisCapsBackend(client, options.now);
}
