/**
 * The router role: {@link RouterSession} checks the worker's `Hello`, asks
 * its driver for admission, then answers with `Welcome` or `Reject`.
 * Re-exported by `session.ts`.
 *
 * @example
 * ```ts
 * import { createRouterSession } from "./session_router.ts";
 * console.assert(createRouterSession().state === "awaiting_hello");
 * ```
 *
 * @module
 */

import { MAX_SMALL_STRING_BYTES } from "./limits.ts";
import { u32, u64 } from "./_session_common.ts";
import { Session } from "./session_core.ts";
import type { Admission, RouterSessionOptions } from "./session_options.ts";
import type { RejectCode } from "./types.ts";

/**
 * The router side: checks the `Hello`, asks the driver for admission
 * (`admission` event), then sends `Welcome` or `Reject`.
 *
 * @example
 * ```ts
 * import { RouterSession } from "./session.ts";
 * const router = new RouterSession({ expectedAuthToken: "t0ken" });
 * console.assert(router.state === "awaiting_hello" && router.nextDeadline() === 5000);
 * ```
 */
export class RouterSession extends Session {
  /**
   * Creates the session.
   *
   * @param options The router's configuration.
   * @throws {RangeError} For invalid options (zero limits, ...).
   */
  constructor(options: RouterSessionOptions = {}) {
    super("router", options);
  }

  /**
   * Admits the worker whose `Hello` was reported by the `admission` event:
   * queues the `Welcome` and opens the data plane. Ignored once closed.
   *
   * @param admission The worker id and revision to put in `Welcome`.
   * @throws {ProtocolError} `protocol_violation` when no admission is pending.
   * @throws {RangeError} For an out-of-range worker id or revision.
   */
  admit(admission: Admission = {}): void {
    if (admission.worker_id !== undefined) {
      u32("worker_id", admission.worker_id);
    }
    if (admission.revision !== undefined) {
      u64("revision", admission.revision);
    }
    this.decideAdmission(admission);
  }

  /**
   * Refuses the worker: queues a `Reject` (message sanitised) and closes
   * with `handshake_rejected`. Ignored once closed.
   *
   * @param code The reject code.
   * @param message The reason (at most 16 KiB of UTF-8, no secrets).
   * @throws {ProtocolError} `protocol_violation` when no admission is pending.
   * @throws {RangeError} When the message is too long.
   */
  reject(code: RejectCode, message: string): void {
    if (
      message.length > MAX_SMALL_STRING_BYTES ||
      new TextEncoder().encode(message).length > MAX_SMALL_STRING_BYTES
    ) {
      throw new RangeError("reject message is longer than 16 KiB of UTF-8");
    }
    this.decideAdmission({ reject: { code, message } });
  }
}

/**
 * Creates a {@link RouterSession}.
 *
 * @param options The router's configuration.
 * @returns The session, waiting for a `Hello`.
 *
 * @example
 * ```ts
 * import { createRouterSession } from "./session.ts";
 * const s = createRouterSession({ handshakeTimeoutMs: 100, now: 50 });
 * console.assert(s.nextDeadline() === 150 && s.role === "router");
 * ```
 */
export function createRouterSession(
  options: RouterSessionOptions = {},
): RouterSession {
  return new RouterSession(options);
}
