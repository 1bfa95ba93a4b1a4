/**
 * Runs the preamble plan against a backend, one command at a time, in the
 * plan's order, writing the plan's log records to a logger.
 *
 * @module
 */

import type { Logger } from "../../net/log.ts";
import type { CapsBackend } from "../backend.ts";
import type { CapsWorkerConfig } from "../config.ts";
import {
  createPreamble,
  type PreambleResult,
  type PreambleState,
  type ServerCommand,
} from "../preamble.ts";

/** Options for {@link runPreamble}. */
export interface RunPreambleOptions {
  /** Where the plan's warnings and info go. */
  readonly logger?: Logger;
  /** Validate capabilities before taking the alive key. @default {true} */
  readonly validateFirst?: boolean;
  /** Wall-clock ms for `registered_at_ms`. @default {Date.now()} */
  readonly nowMs?: number;
  /** Called before each command is sent (tests inject faults here). */
  readonly beforeCommand?: (
    command: ServerCommand,
    state: PreambleState,
  ) => void | Promise<void>;
}

/**
 * Runs the connect preamble.
 *
 * @param backend The backend.
 * @param config The worker configuration.
 * @param options Logger, validation order, fault hook.
 * @returns The result (partition counts, CSV, hash, TTLs, scan cursor).
 * @throws {CapsError} The plan's fatal error.
 *
 * @example
 * ```ts
 * import { runPreamble } from "./preamble_runner.ts";
 * import { EmbeddedCapsBackend } from "../embedded_backend.ts";
 * const backend = new EmbeddedCapsBackend();
 * const result = await runPreamble(backend, {
 *   workerId: "w", workerInstanceId: "w-1", namespace: "ns", lanes: ["default"], capabilities: ["gpu", "cuda"],
 * });
 * console.assert(result.capabilitiesHash === "c952a6c4");
 * ```
 */
export async function runPreamble(
  backend: CapsBackend,
  config: CapsWorkerConfig,
  options: RunPreambleOptions = {},
): Promise<PreambleResult> {
  const plan = createPreamble(config, {
    nowMs: options.nowMs ?? Date.now(),
    validateFirst: options.validateFirst,
  });
  const flush = (): void => {
    for (const record of plan.takeLogs()) {
      options.logger?.[record.level](record.event, { ...record.fields });
    }
  };
  for (
    let command = plan.poll();
    command !== undefined;
    command = plan.poll()
  ) {
    await options.beforeCommand?.(command, plan.state);
    try {
      plan.handleReply(await backend.command(command));
    } catch (err) {
      plan.handleError(err);
    }
    flush();
  }
  flush();
  if (plan.state === "failed") throw plan.error;
  return plan.result!;
}
