/**
 * The worker role: {@link WorkerSession} sends its `Hello` at creation and
 * waits for the router's `Welcome` or `Reject`. Re-exported by
 * `session.ts`.
 *
 * @example
 * ```ts
 * import { createWorkerSession } from "./session_worker.ts";
 * console.assert(createWorkerSession({ hello: { shard_id: 2 } }).state === "awaiting_welcome");
 * ```
 *
 * @module
 */

import { Session } from "./session_core.ts";
import type { WorkerSessionOptions } from "./session_options.ts";

/**
 * The worker side: sends `Hello` at creation, waits for `Welcome` or
 * `Reject`.
 *
 * @example
 * ```ts
 * import { WorkerSession } from "./session.ts";
 * const worker = new WorkerSession({ hello: { shard_id: 1 } });
 * console.assert(worker.state === "awaiting_welcome" && worker.pollTransmit() !== undefined);
 * ```
 */
export class WorkerSession extends Session {
  /**
   * Creates the session and queues its `Hello`.
   *
   * @param options The hello and session options.
   * @throws {RangeError} For invalid options (zero limits, a `Hello` over
   * the pre-handshake limit, ...).
   */
  constructor(options: WorkerSessionOptions) {
    super("worker", options);
  }
}

/**
 * Creates a {@link WorkerSession}.
 *
 * @param options The hello and session options.
 * @returns The session, with its `Hello` queued.
 *
 * @example
 * ```ts
 * import { createWorkerSession } from "./session.ts";
 * const s = createWorkerSession({ hello: { shard_id: 3, auth_token: "t" } });
 * console.assert(s.hello?.shard_id === 3 && s.role === "worker");
 * ```
 */
export function createWorkerSession(
  options: WorkerSessionOptions,
): WorkerSession {
  return new WorkerSession(options);
}
