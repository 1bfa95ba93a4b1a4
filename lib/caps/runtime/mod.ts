/**
 * The caps binding: the preamble run against a backend, the Redis/Valkey
 * backend (npm `iovalkey`, our own Lua run by `EVALSHA`) and the worker
 * loop (heartbeats, claims, lease renewal, clean shutdown).
 *
 * @example Run a worker on the embedded backend
 * ```ts ignore
 * import { startCapsWorker } from "./mod.ts";
 * import { EmbeddedCapsBackend } from "../mod.ts";
 * const worker = await startCapsWorker(new EmbeddedCapsBackend(), {
 *   workerId: "pool", workerInstanceId: "w-1", namespace: "ns", lanes: ["default"], capabilities: ["gpu"],
 * }, { handler: async () => ({ status: "done" }) });
 * await worker.stop();
 * ```
 *
 * @module
 */

export {
  LOG_LEVELS,
  type LogFields,
  type Logger,
  type LogLevel,
} from "../../net/log.ts";
export * from "./preamble_runner.ts";
export * from "./redis_backend.ts";
export * from "./redis_scripts.ts";
export * from "./worker.ts";
export type {
  CapsBackend,
  CapsWorkerConfig,
  ClaimOutcome,
  ClaimRequest,
  EligibilityState,
  ExecutionRecord,
  ExecutionSpec,
  HeartbeatOutcome,
  Lease,
  LeaseRef,
  LifecyclePhase,
  ListWorkersOptions,
  PartitionConfig,
  PreambleResult,
  PreambleState,
  RegisterOutcome,
  RegisterWorkerArgs,
  ScanOutcome,
  ServerCommand,
  ServerReply,
  TerminalOutcome,
  WorkerInfo,
  WorkerPage,
} from "../mod.ts";
