/**
 * Registry helpers shared by every backend: the `mark dead` reason check,
 * and worker listing over raw commands (`SSCAN … COUNT 100` to the end,
 * sort and de-duplicate by code point, `after`/`limit` paging, `HGETALL`
 * fanned out 16 at a time, index entries whose caps HASH is gone skipped).
 *
 * @module
 */

import { compareCodePoints } from "./capabilities.ts";
import {
  type ListWorkersOptions,
  MARK_WORKER_DEAD_REASON_MAX_BYTES,
  type WorkerInfo,
  type WorkerPage,
} from "./backend.ts";
import { CapsError, CapsLimitError } from "./errors.ts";
import { workerCapsKey, workersIndexKey } from "./keys.ts";
import type { ServerCommand, ServerReply } from "./preamble.ts";

/** SSCAN page size. */
export const REGISTRY_SCAN_COUNT = 100;
/** Concurrent caps reads while listing. */
export const REGISTRY_FANOUT = 16;
/** Default page size of a listing. */
export const LIST_WORKERS_DEFAULT_LIMIT = 1000;

/**
 * Checks a `mark dead` reason: at most 256 UTF-8 bytes, no control
 * characters.
 *
 * @param reason The reason.
 * @throws {CapsLimitError} When it is too long.
 * @throws {CapsError} `invalid_reason` for control characters.
 *
 * @example
 * ```ts
 * import { checkDeadReason } from "./registry.ts";
 * checkDeadReason("shutdown");
 * ```
 */
export function checkDeadReason(reason: string): void {
  const bytes = new TextEncoder().encode(reason).length;
  if (bytes > MARK_WORKER_DEAD_REASON_MAX_BYTES) {
    throw new CapsLimitError(
      "MARK_WORKER_DEAD_REASON_MAX_BYTES",
      MARK_WORKER_DEAD_REASON_MAX_BYTES,
      bytes,
      `reason: exceeds ${MARK_WORKER_DEAD_REASON_MAX_BYTES} bytes (got ${bytes})`,
    );
  }
  if (/\p{Cc}/u.test(reason)) {
    throw new CapsError(
      "invalid_reason",
      "reason: must not contain control characters",
    );
  }
}

/**
 * Builds a {@link WorkerInfo} from a caps HASH reply (flat field/value
 * array); `undefined` for an empty reply (a stale index entry).
 *
 * @param workerInstanceId The instance id.
 * @param reply The `HGETALL` reply.
 * @returns The worker, or `undefined`.
 *
 * @example
 * ```ts
 * import { workerInfoFromReply } from "./registry.ts";
 * const w = workerInfoFromReply("w1", ["caps_csv", "gpu", "registered_at_ms", "5"]);
 * console.assert(w?.lastHeartbeatMs === 5);
 * console.assert(workerInfoFromReply("w1", []) === undefined);
 * ```
 */
export function workerInfoFromReply(
  workerInstanceId: string,
  reply: ServerReply,
): WorkerInfo | undefined {
  if (!Array.isArray(reply) || reply.length === 0) return undefined;
  const f: Record<string, string> = {};
  for (let i = 0; i + 1 < reply.length; i += 2) {
    f[String(reply[i])] = String(reply[i + 1]);
  }
  const registered = Number(f.registered_at_ms ?? 0) || 0;
  return {
    workerInstanceId,
    workerId: f.worker_id ?? "",
    lanesCsv: f.lanes_csv ?? "",
    capabilitiesCsv: f.caps_csv ?? "",
    ttlMs: Number(f.ttl_ms ?? 0) || 0,
    registeredAtMs: registered,
    lastHeartbeatMs: f.last_heartbeat_ms === undefined
      ? registered
      : Number(f.last_heartbeat_ms) || registered,
  };
}

/**
 * Lists a namespace's workers through raw commands.
 *
 * @param run Runs one command.
 * @param namespace The namespace (required).
 * @param options `after` cursor and `limit`.
 * @returns One page.
 * @throws {CapsError} `invalid_config` without a namespace or with a bad limit.
 *
 * @example
 * ```ts
 * import { listWorkersVia } from "./registry.ts";
 * import { MemoryKeyspace } from "./memory_keyspace.ts";
 * const ks = new MemoryKeyspace();
 * ks.execute(["HSET", "ff:worker:ns:w1:caps", "caps_csv", "gpu"]);
 * ks.execute(["SADD", "ff:idx:ns:workers", "w1", "gone"]);
 * const page = await listWorkersVia((c) => Promise.resolve(ks.execute(c)), "ns");
 * console.assert(page.workers.length === 1);
 * ```
 */
export async function listWorkersVia(
  run: (command: ServerCommand) => Promise<ServerReply>,
  namespace: string,
  options: ListWorkersOptions = {},
): Promise<WorkerPage> {
  if (namespace.length === 0) {
    throw new CapsError("invalid_config", "list_workers needs a namespace");
  }
  const limit = options.limit ?? LIST_WORKERS_DEFAULT_LIMIT;
  if (!Number.isSafeInteger(limit) || limit < 1) {
    throw new CapsError("invalid_config", `limit must be a positive integer`);
  }
  const index = workersIndexKey(namespace);
  const seen = new Set<string>();
  let cursor = "0";
  do {
    const reply = await run([
      "SSCAN",
      index,
      cursor,
      "COUNT",
      String(REGISTRY_SCAN_COUNT),
    ]);
    if (!Array.isArray(reply) || reply.length !== 2) {
      throw new CapsError("backend_error", "unexpected SSCAN reply");
    }
    cursor = String(reply[0]);
    for (const id of reply[1] as ServerReply[]) seen.add(String(id));
  } while (cursor !== "0");
  let ids = [...seen].sort(compareCodePoints);
  if (options.after !== undefined) {
    const after = options.after;
    ids = ids.filter((id) => compareCodePoints(id, after) > 0);
  }
  const page = ids.slice(0, limit);
  const workers: WorkerInfo[] = [];
  for (let i = 0; i < page.length; i += REGISTRY_FANOUT) {
    const batch = page.slice(i, i + REGISTRY_FANOUT);
    const replies = await Promise.all(
      batch.map((id) => run(["HGETALL", workerCapsKey(namespace, id)])),
    );
    batch.forEach((id, j) => {
      const info = workerInfoFromReply(id, replies[j]);
      if (info !== undefined) workers.push(info);
    });
  }
  return ids.length > limit
    ? { workers, nextAfter: page[page.length - 1] }
    : { workers };
}
