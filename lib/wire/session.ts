/**
 * The pure, synchronous v3 session for both roles (sans-I/O): feed it
 * received bytes and the time, give it commands, and poll it for events and
 * for bytes to transmit. Nothing here performs I/O or reads a clock.
 *
 * Driver loop: write {@link Session.pollTransmit} until it returns
 * undefined; pass every read to {@link Session.receive} and the end of the
 * stream to {@link Session.receiveEnd}; drain {@link Session.pollEvent};
 * arm one timer for {@link Session.nextDeadline} and call
 * {@link Session.handleTimeout} when it fires. After the `closed` event,
 * flush what `pollTransmit` still returns (a `Reject`, say), then close the
 * socket.
 *
 * Behaviour follows the reference transport, with these deliberate
 * differences:
 * - the worker checks the `Welcome` (shard id echoed, limits non-zero and no
 *   larger than offered, version in range) and closes with
 *   `handshake_failed` otherwise;
 * - frame and packet limits are clamped to 64 MiB (`MAX_MESSAGE_BYTES`),
 *   which every decoder enforces anyway;
 * - `cancel` sends nothing when cancellation was not negotiated (the peer
 *   would ignore it), and an incoming `Cancel` only targets requests we are
 *   serving (the reference also completes our own outgoing call of that id);
 * - unknown requests are answered `invalid_request` "unknown request" by the
 *   session itself unless `answerUnknownRequests` is false;
 * - a router holds at most the pre-handshake frame limit of bytes received
 *   while the admission is pending.
 *
 * @example A whole exchange between two in-memory sessions
 * ```ts
 * import { createRouterSession, createWorkerSession } from "./session.ts";
 * const worker = createWorkerSession({ hello: { shard_id: 7 } });
 * const router = createRouterSession({});
 * router.receive(worker.pollTransmit()!, 0);
 * const admission = router.pollEvent();
 * console.assert(admission?.type === "admission");
 * router.admit({ worker_id: 1, revision: 0 });
 * worker.receive(router.pollTransmit()!, 0);
 * console.assert(worker.pollEvent()?.type === "handshake_done");
 * const id = router.call({ type: "get_worker_stats" });
 * worker.receive(router.pollTransmit()!, 0);
 * const request = worker.pollEvent();
 * console.assert(request?.type === "request" && request.id === id && id === 2);
 * worker.respond(id, { status: "ok", value: { type: "ack" } });
 * router.receive(worker.pollTransmit()!, 0);
 * router.pollEvent(); // handshake_done
 * const response = router.pollEvent();
 * console.assert(response?.type === "response" && response.result.status === "ok");
 * ```
 *
 * @module
 */

// The transition tables, inputs and actions are the sessions' internals
// (`_transitions.ts`); the states are public (`Session.state`).
export { SESSION_STATES } from "./_transitions.ts";
export type {
  RouterSessionState,
  RouterState,
  SessionState,
  WorkerSessionState,
  WorkerState,
} from "./_transitions.ts";
export {
  type Admission,
  CANCELLED_ERROR,
  defaultCapabilities,
  NO_HANDLER_ERROR,
  type RouterSessionOptions,
  type SessionEvent,
  type SessionOptions,
  type SessionRole,
  UNKNOWN_REQUEST_ERROR,
  type WorkerHelloInit,
  type WorkerSessionOptions,
} from "./session_options.ts";
export { Session } from "./session_core.ts";
export { createWorkerSession, WorkerSession } from "./session_worker.ts";
export { createRouterSession, RouterSession } from "./session_router.ts";
