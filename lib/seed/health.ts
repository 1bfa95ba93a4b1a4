/**
 * The failure detector: per-peer heartbeats sent on their own schedule and
 * liveness judged only from what was **received**. A peer is dead when
 * nothing arrived from it for `timeoutMs`; send failures play no part. The
 * peer set follows the membership generation ({@link FailureDetector.setPeers}).
 *
 * @module
 */

/** Options of {@link FailureDetector}. */
export interface FailureDetectorOptions {
  /** Heartbeat period per peer. @default {1000} */
  intervalMs?: number;
  /** Silence after which a peer is dead. @default {5000} */
  timeoutMs?: number;
}

/** What {@link FailureDetector.poll} asks for. */
export interface HealthPoll {
  /** Peers that are due a heartbeat now. */
  heartbeatsDue: string[];
  /** Peers that just became dead (each reported once). */
  dead: string[];
}

interface PeerHealth {
  lastReceived: number;
  nextSend: number;
  dead: boolean;
}

/**
 * Receive-based failure detector.
 *
 * @example
 * ```ts
 * import { FailureDetector } from "./health.ts";
 * const fd = new FailureDetector({ intervalMs: 100, timeoutMs: 500 });
 * fd.setPeers(1, ["a", "b"], 0);
 * fd.received("a", 400);
 * const p = fd.poll(600);
 * console.assert(p.dead.join() === "b" && !fd.isDead("a"));
 * ```
 */
export class FailureDetector {
  readonly #interval: number;
  readonly #timeout: number;
  #peers = new Map<string, PeerHealth>();
  #generation = 0;

  /**
   * Creates a detector.
   *
   * @param options Interval and timeout.
   */
  constructor(options: FailureDetectorOptions = {}) {
    this.#interval = options.intervalMs ?? 1000;
    this.#timeout = options.timeoutMs ?? 5000;
    if (!(this.#interval > 0) || !(this.#timeout > 0)) {
      throw new RangeError("intervalMs and timeoutMs must be positive");
    }
  }

  /** The generation of the current peer set. */
  get generation(): number {
    return this.#generation;
  }

  /** The monitored peers. */
  get peers(): string[] {
    return [...this.#peers.keys()];
  }

  /**
   * Replaces the peer set for a generation: kept peers keep their state,
   * new peers start fresh at `now`, removed peers are forgotten.
   *
   * @param generation The membership generation.
   * @param peers Peer ids (self excluded).
   * @param now Current time (ms).
   */
  setPeers(generation: number, peers: readonly string[], now: number): void {
    const next = new Map<string, PeerHealth>();
    for (const id of peers) {
      next.set(
        id,
        this.#peers.get(id) ??
          { lastReceived: now, nextSend: now, dead: false },
      );
    }
    this.#peers = next;
    this.#generation = generation;
  }

  /**
   * Records that something arrived from `peer`. A peer declared dead that
   * is heard from again is alive again (the suspicion is withdrawn) and
   * would be reported again after a new silence.
   *
   * @param peer Peer id.
   * @param now Current time (ms).
   */
  received(peer: string, now: number): void {
    const state = this.#peers.get(peer);
    if (state === undefined) return;
    state.dead = false;
    state.lastReceived = Math.max(state.lastReceived, now);
  }

  /**
   * True when `peer` was declared dead.
   *
   * @param peer Peer id.
   * @returns Whether it is dead.
   */
  isDead(peer: string): boolean {
    return this.#peers.get(peer)?.dead ?? false;
  }

  /**
   * Time since `peer` was last heard from.
   *
   * @param peer Peer id.
   * @param now Current time.
   * @returns Milliseconds, or `undefined` for an unknown peer.
   */
  silenceMs(peer: string, now: number): number | undefined {
    const state = this.#peers.get(peer);
    return state === undefined ? undefined : now - state.lastReceived;
  }

  /**
   * Advances time: returns heartbeats due and newly dead peers.
   *
   * @param now Current time (ms).
   * @returns The poll result.
   */
  poll(now: number): HealthPoll {
    const out: HealthPoll = { heartbeatsDue: [], dead: [] };
    for (const [id, state] of this.#peers) {
      if (!state.dead && now - state.lastReceived >= this.#timeout) {
        state.dead = true;
        out.dead.push(id);
      }
      // Heartbeats go on to dead peers too, so that both sides can see each
      // other alive again once the path works.
      if (now >= state.nextSend) {
        out.heartbeatsDue.push(id);
        state.nextSend = now + this.#interval;
      }
    }
    return out;
  }

  /**
   * The next time {@link FailureDetector.poll} has something to do.
   *
   * @returns A time (ms), or `undefined` when no peer is monitored.
   */
  nextDeadline(): number | undefined {
    let next: number | undefined;
    for (const state of this.#peers.values()) {
      const t = state.dead
        ? state.nextSend
        : Math.min(state.nextSend, state.lastReceived + this.#timeout);
      next = next === undefined ? t : Math.min(next, t);
    }
    return next;
  }
}

/**
 * True when `alive` members are a strict majority of the last agreed
 * membership of size `lastAgreed`.
 *
 * @param lastAgreed Size of the last committed membership.
 * @param alive Members of it still alive.
 * @returns Whether a rebuild may proceed.
 *
 * @example
 * ```ts
 * import { hasQuorum } from "./health.ts";
 * console.assert(hasQuorum(5, 3) && !hasQuorum(5, 2) && !hasQuorum(4, 2));
 * ```
 */
export function hasQuorum(lastAgreed: number, alive: number): boolean {
  return alive * 2 > lastAgreed;
}
