/**
 * Two pure sessions wired back to back in memory: a worker and a router
 * whose transmitted bytes are delivered to each other by {@link MemoryPair.pump}.
 *
 * @module
 */

import {
  type Admission,
  createRouterSession,
  createWorkerSession,
  type RouterSession,
  type RouterSessionOptions,
  type Session,
  type SessionEvent,
  type WorkerSession,
  type WorkerSessionOptions,
} from "../wire/session.ts";
import type { HandshakeReject } from "../wire/types.ts";

/** Options for {@link memoryPair}. */
export interface MemoryPairOptions {
  /**
   * Worker options; the hello defaults to shard 7.
   * @default {{ hello: { shard_id: 7 } }}
   */
  worker?: Partial<WorkerSessionOptions>;
  /** Router options. */
  router?: RouterSessionOptions;
  /**
   * The time both sessions are created at.
   * @default {0}
   */
  now?: number;
  /**
   * Deliver bytes in pieces of at most this many bytes (1 = byte by byte).
   * @default {Infinity}
   */
  maxDelivery?: number;
}

/** A connected worker/router pair (see {@link memoryPair}). */
export interface MemoryPair {
  /** The worker session. */
  readonly worker: WorkerSession;
  /** The router session. */
  readonly router: RouterSession;
  /**
   * Moves transmitted bytes both ways until neither side has anything to
   * send. Events stay queued in the sessions.
   *
   * @param now The time passed to `receive`.
   * @returns The number of bytes moved.
   */
  pump(now?: number): number;
  /**
   * Runs the handshake: pumps the `Hello`, takes the router's `admission`
   * event, answers it (admit by default), pumps the answer, and returns
   * every event both sides produced.
   *
   * @param decision The admission, or `{ reject }` to refuse.
   * @param now The time passed to `receive`.
   * @returns The drained events of both sides.
   * @throws {Error} When the router did not ask for admission.
   */
  handshake(
    decision?: Admission | { reject: HandshakeReject },
    now?: number,
  ): { worker: SessionEvent[]; router: SessionEvent[] };
}

/**
 * Takes every queued event of a session.
 *
 * @param session The session.
 * @returns The events, oldest first.
 *
 * @example
 * ```ts
 * import { drainEvents } from "./memory_pair.ts";
 * import { createRouterSession } from "../wire/session.ts";
 * console.assert(drainEvents(createRouterSession()).length === 0);
 * ```
 */
export function drainEvents(session: Session): SessionEvent[] {
  const out: SessionEvent[] = [];
  for (let e = session.pollEvent(); e !== undefined; e = session.pollEvent()) {
    out.push(e);
  }
  return out;
}

/**
 * Creates a worker and a router session connected in memory.
 *
 * @param options Session options and delivery granularity.
 * @returns The pair.
 *
 * @example A handshake and a call
 * ```ts
 * import { drainEvents, memoryPair } from "./memory_pair.ts";
 * const pair = memoryPair();
 * const { worker } = pair.handshake({ worker_id: 3 });
 * console.assert(worker[0].type === "handshake_done" && worker[0].welcome.worker_id === 3);
 * const id = pair.router.call({ type: "get_worker_stats" });
 * pair.pump();
 * const [request] = drainEvents(pair.worker);
 * console.assert(request.type === "request" && request.id === id);
 * ```
 */
export function memoryPair(options: MemoryPairOptions = {}): MemoryPair {
  const now0 = options.now ?? 0;
  const workerOptions: WorkerSessionOptions = {
    hello: { shard_id: 7 },
    now: now0,
    ...options.worker,
  };
  const worker = createWorkerSession(workerOptions);
  const router = createRouterSession({ now: now0, ...options.router });
  const max = options.maxDelivery ?? Infinity;
  if (!(max >= 1)) throw new RangeError("maxDelivery must be at least 1");

  function deliver(from: Session, to: Session, now: number): number {
    let moved = 0;
    for (let bytes = from.pollTransmit(); bytes; bytes = from.pollTransmit()) {
      moved += bytes.length;
      if (bytes.length <= max) {
        to.receive(bytes, now);
        continue;
      }
      for (let at = 0; at < bytes.length; at += max) {
        to.receive(bytes.subarray(at, Math.min(at + max, bytes.length)), now);
      }
    }
    return moved;
  }

  function pump(now = now0): number {
    let total = 0;
    for (;;) {
      const moved = deliver(worker, router, now) + deliver(router, worker, now);
      if (moved === 0) return total;
      total += moved;
    }
  }

  function handshake(
    decision: Admission | { reject: HandshakeReject } = {},
    now = now0,
  ): { worker: SessionEvent[]; router: SessionEvent[] } {
    pump(now);
    const first = router.pollEvent();
    if (first?.type !== "admission") {
      throw new Error(`expected an admission event, got ${first?.type}`);
    }
    if ("reject" in decision) {
      router.reject(decision.reject.code, decision.reject.message);
    } else {
      router.admit(decision);
    }
    pump(now);
    return { worker: drainEvents(worker), router: drainEvents(router) };
  }

  return { worker, router, pump, handshake };
}
