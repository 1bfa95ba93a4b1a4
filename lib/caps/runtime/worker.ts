/**
 * A capability-routed worker: runs the preamble, keeps its registration
 * alive (heartbeat every `lease_ttl / 3`), claims executions it is capable
 * of (direct claim, up to `maxConcurrentTasks` at once), renews each lease
 * every `lease_ttl / 3` while its handler runs, completes or fails it, and
 * on `stop()` removes itself from the registry and releases its alive key.
 *
 * @module
 */

import type { Logger } from "../../net/log.ts";
import type { CapsBackend, Lease } from "../backend.ts";
import { type CapsWorkerConfig, checkWorkerConfig } from "../config.ts";
import { CapsError, isCapsError } from "../errors.ts";
import { claimScanPartitions } from "../execution.ts";
import { workerAliveKey } from "../keys.ts";
import type { PreambleResult } from "../preamble.ts";
import { runPreamble } from "./preamble_runner.ts";

/** One claimed execution handed to the handler. */
export interface CapsTask {
  /** The lease. */
  readonly lease: Lease;
  /** The lane it was claimed from. */
  readonly lane: string;
  /** Aborted when the lease is lost (stale, expired, revoked) or the worker stops. */
  readonly signal: AbortSignal;
}

/** What the handler decides. */
export type CapsTaskOutcome =
  | { readonly status: "done"; readonly result?: string }
  | {
    readonly status: "failed";
    readonly reason: string;
    readonly retry?: boolean;
  };

/** Runs one task. A throw counts as a retryable failure. */
export type CapsTaskHandler = (
  task: CapsTask,
) => Promise<CapsTaskOutcome | void>;

/** Options for {@link startCapsWorker}. */
export interface CapsWorkerOptions {
  /** Runs each task. */
  readonly handler: CapsTaskHandler;
  /** Logger for lifecycle events. */
  readonly logger?: Logger;
  /** Also run the lease-expiry and unblock scans every this many ms (0 = never). @default {0} */
  readonly scanIntervalMs?: number;
  /** Partitions per claim poll. @default {32} */
  readonly partitionsPerPoll?: number;
  /** Validate capabilities before taking the alive key. @default {true} */
  readonly validateFirst?: boolean;
  /** Observes every lease the worker finishes (for demos and tests). */
  readonly onFinished?: (
    task: CapsTask,
    outcome: "done" | "requeued" | "failed" | "lost",
  ) => void;
}

/** A running worker. */
export interface CapsWorker {
  /** The configuration. */
  readonly config: CapsWorkerConfig;
  /** The preamble's result. */
  readonly preamble: PreambleResult;
  /** Tasks running now. */
  readonly running: number;
  /** Stops claiming, waits for running tasks, leaves the registry, releases the alive key. */
  stop(): Promise<void>;
  /** Stops every timer at once without releasing anything (what a crash leaves). */
  abandon(): void;
  /** Resolves when the worker has stopped; rejects on a fatal error. */
  readonly stopped: Promise<void>;
}

const TERMINAL_LEASE_CODES = new Set([
  "stale_lease",
  "lease_expired",
  "execution_not_active",
  "execution_not_found",
]);

/**
 * Connects a worker and starts its loops.
 *
 * @param backend The backend.
 * @param config The worker configuration.
 * @param options Handler, logger, scans.
 * @returns The running worker.
 * @throws {CapsError} From the preamble (bad config, duplicate instance...).
 *
 * @example
 * ```ts ignore
 * import { startCapsWorker } from "./worker.ts";
 * import { EmbeddedCapsBackend } from "../embedded_backend.ts";
 * const worker = await startCapsWorker(new EmbeddedCapsBackend(), {
 *   workerId: "w", workerInstanceId: "w-1", namespace: "ns", lanes: ["default"], capabilities: ["gpu"],
 * }, { handler: async () => ({ status: "done" }) });
 * await worker.stop();
 * ```
 */
export async function startCapsWorker(
  backend: CapsBackend,
  config: CapsWorkerConfig,
  options: CapsWorkerOptions,
): Promise<CapsWorker> {
  const checked = checkWorkerConfig(config);
  const log = options.logger;
  const preamble = await runPreamble(backend, config, {
    logger: log,
    validateFirst: options.validateFirst,
  });
  const ttl = checked.leaseTtlMs;
  const tick = Math.max(Math.floor(ttl / 3), 1);
  const chunk = options.partitionsPerPoll ?? 32;
  const n = preamble.partitionConfig.numFlowPartitions;
  let cursor = preamble.scanCursor;
  let laneIndex = 0;
  let running = 0;
  let stopping = false;
  let dead = false;
  const timers = new Set<ReturnType<typeof setTimeout>>();
  const tasks = new Set<Promise<void>>();
  const controllers = new Set<AbortController>();
  let resolveStopped!: () => void;
  let rejectStopped!: (err: unknown) => void;
  const stopped = new Promise<void>((res, rej) => {
    resolveStopped = res;
    rejectStopped = rej;
  });
  stopped.catch(() => {});

  const later = (ms: number, body: () => void): void => {
    if (dead) return;
    const id = setTimeout(() => {
      timers.delete(id);
      if (!dead) body();
    }, ms);
    timers.add(id);
  };
  const every = (ms: number, body: () => Promise<void>): void => {
    const loop = (): void => {
      later(ms, () => {
        body().catch((err) =>
          log?.warn("caps worker loop failed", { error: err })
        ).finally(() => {
          if (!stopping) loop();
        });
      });
    };
    loop();
  };
  const fatal = (err: unknown): void => {
    log?.error("caps worker stopped", { error: err });
    abandon();
    rejectStopped(err);
  };

  // Registration: keep the alive key (and the caps TTL) fresh.
  const aliveKey = workerAliveKey(config.namespace, config.workerInstanceId);
  const heartbeat = async (): Promise<void> => {
    if (preamble.capabilitiesCsv === "") {
      const kept = await backend.command([
        "PEXPIRE",
        aliveKey,
        String(preamble.aliveTtlMs),
      ]);
      if (kept === 1) return;
      const taken = await backend.command([
        "SET",
        aliveKey,
        "1",
        "NX",
        "PX",
        String(preamble.aliveTtlMs),
      ]);
      if (taken === null) {
        throw new CapsError(
          "duplicate_instance",
          `duplicate worker_instance_id '${config.workerInstanceId}': another process already holds ${aliveKey}`,
          { context: "worker_connect", field: "worker_instance_id" },
        );
      }
      return;
    }
    const beat = await backend.heartbeatWorker(
      config.namespace,
      config.workerInstanceId,
    );
    if (beat.status === "refreshed") return;
    log?.warn("worker registration lost; registering again", {
      worker_instance_id: config.workerInstanceId,
    });
    const outcome = await backend.registerWorker({
      namespace: config.namespace,
      workerInstanceId: config.workerInstanceId,
      workerId: config.workerId,
      lanesCsv: preamble.lanesCsv,
      capabilitiesCsv: preamble.capabilitiesCsv,
      ttlMs: preamble.aliveTtlMs,
      exclusive: true,
    });
    if (outcome === "duplicate") {
      throw new CapsError(
        "duplicate_instance",
        `duplicate worker_instance_id '${config.workerInstanceId}': another process already holds ${aliveKey}`,
        { context: "worker_connect", field: "worker_instance_id" },
      );
    }
  };

  const runTask = async (lease: Lease, lane: string): Promise<void> => {
    const controller = new AbortController();
    controllers.add(controller);
    const task: CapsTask = { lease, lane, signal: controller.signal };
    let lost = false;
    const renewLoop = (): void => {
      later(tick, () => {
        if (controller.signal.aborted) return;
        backend.renew(lease, ttl).then(() => {
          if (!controller.signal.aborted) renewLoop();
        }, (err) => {
          if (isCapsError(err) && TERMINAL_LEASE_CODES.has(err.code)) {
            lost = true;
            log?.warn("lease lost", {
              execution_id: lease.executionId,
              error: err,
            });
            controller.abort(err);
          } else if (!controller.signal.aborted) {
            renewLoop();
          }
        });
      });
    };
    renewLoop();
    let outcome: CapsTaskOutcome;
    try {
      outcome = (await options.handler(task)) ?? { status: "done" };
    } catch (err) {
      outcome = {
        status: "failed",
        reason: err instanceof Error ? err.message : String(err),
        retry: true,
      };
    }
    if (dead) return; // abandoned: finish nothing, as a crash would
    controller.abort();
    controllers.delete(controller);
    let finished: "done" | "requeued" | "failed" | "lost" = "lost";
    if (!lost) {
      try {
        if (outcome.status === "done") {
          await backend.complete(lease, outcome.result ?? "");
          finished = "done";
        } else {
          finished = await backend.fail(
            lease,
            outcome.reason,
            outcome.retry ?? true,
          );
        }
      } catch (err) {
        log?.warn("could not finish the lease", {
          execution_id: lease.executionId,
          error: err,
        });
      }
    }
    options.onFinished?.(task, finished);
  };

  const poll = async (): Promise<number> => {
    const free = checked.maxConcurrentTasks - running;
    if (free <= 0 || stopping) return 0;
    const lane = config.lanes[laneIndex++ % config.lanes.length];
    const partitions = claimScanPartitions(cursor, n, chunk);
    cursor = (cursor + partitions.length) % Math.max(n, 1);
    const outcome = await backend.claim({
      namespace: config.namespace,
      workerId: config.workerId,
      workerInstanceId: config.workerInstanceId,
      lane,
      capabilitiesCsv: preamble.capabilitiesCsv,
      leaseTtlMs: ttl,
      max: free,
      partitions,
    });
    if (outcome.mismatched > 0) {
      log?.info("capability mismatch, skipped executions", {
        worker_caps_hash: preamble.capabilitiesHash,
        skipped: outcome.mismatched,
        blocked: outcome.blocked.length,
      });
    }
    for (const lease of outcome.leases) {
      running++;
      const p = runTask(lease, lane).finally(() => {
        running--;
        tasks.delete(p);
        if (!stopping && !dead) schedulePoll(0);
      });
      tasks.add(p);
    }
    return outcome.leases.length;
  };
  let pollPending = false;
  const schedulePoll = (ms: number): void => {
    if (pollPending || stopping || dead) return;
    pollPending = true;
    later(ms, () => {
      poll().then((got) => {
        pollPending = false;
        schedulePoll(got > 0 ? 0 : checked.claimPollIntervalMs);
      }, (err) => {
        pollPending = false;
        log?.warn("claim failed", { error: err });
        schedulePoll(checked.claimPollIntervalMs);
      });
    });
  };

  function abandon(): void {
    dead = true;
    stopping = true;
    for (const id of timers) clearTimeout(id);
    timers.clear();
    for (const c of controllers) {
      c.abort(new CapsError("closed", "worker abandoned"));
    }
    resolveStopped();
  }

  await heartbeat();
  every(tick, () =>
    heartbeat().catch((err) => {
      if (isCapsError(err, "duplicate_instance")) fatal(err);
      else throw err;
    }));
  if ((options.scanIntervalMs ?? 0) > 0) {
    every(options.scanIntervalMs!, async () => {
      await backend.expireLeases(n);
      await backend.unblockScan(n);
    });
  }
  schedulePoll(0);
  log?.info("caps worker connected", {
    worker_instance_id: config.workerInstanceId,
    worker_caps_hash: preamble.capabilitiesHash,
  });

  return {
    config,
    preamble,
    get running() {
      return running;
    },
    stopped,
    abandon,
    async stop(): Promise<void> {
      if (dead) return;
      stopping = true;
      await Promise.allSettled([...tasks]);
      dead = true;
      for (const id of timers) clearTimeout(id);
      timers.clear();
      try {
        await backend.markWorkerDead(
          config.namespace,
          config.workerInstanceId,
          "shutdown",
        );
      } catch (err) {
        log?.warn("could not leave the registry", { error: err });
      }
      resolveStopped();
    },
  };
}
