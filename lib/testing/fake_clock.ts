/**
 * A manual clock for driving pure sessions in tests: time only moves when
 * the test says so.
 *
 * @module
 */

/** Anything with a deadline, like a wire session. */
export interface Deadlined {
  /** The time at which `handleTimeout` must be called, if any. */
  nextDeadline(): number | undefined;
  /** Reports the time. */
  handleTimeout(now: number): void;
}

/**
 * A clock that starts at a fixed time and moves only when told to. When it
 * moves, it fires the deadlines of the sessions it watches.
 *
 * @example Time out a handshake
 * ```ts
 * import { FakeClock } from "./fake_clock.ts";
 * import { createRouterSession } from "../wire/session.ts";
 * const clock = new FakeClock(1000);
 * const router = createRouterSession({ now: clock.now });
 * clock.watch(router);
 * clock.advance(4999);
 * console.assert(router.state === "awaiting_hello");
 * clock.advance(1);
 * console.assert(router.state === "closed" && router.closeError?.code === "handshake_timeout");
 * ```
 */
export class FakeClock {
  #now: number;
  #watched: Deadlined[] = [];

  /**
   * Creates a clock.
   *
   * @param start The initial time in milliseconds.
   */
  constructor(start = 0) {
    this.#now = start;
  }

  /** The current time in milliseconds. */
  get now(): number {
    return this.#now;
  }

  /**
   * Fires the deadlines of `target` from now on, whenever the clock moves.
   *
   * @param target A session (or anything with a deadline).
   */
  watch(target: Deadlined): void {
    this.#watched.push(target);
  }

  /**
   * Moves the clock forward and fires every due deadline.
   *
   * @param ms Milliseconds to move (non-negative).
   * @returns The new time.
   * @throws {RangeError} When `ms` is negative or not finite.
   */
  advance(ms: number): number {
    if (!Number.isFinite(ms) || ms < 0) {
      throw new RangeError("ms must be a non-negative finite number");
    }
    return this.set(this.#now + ms);
  }

  /**
   * Sets the clock (never backwards) and fires every due deadline.
   *
   * @param time The new time in milliseconds.
   * @returns The new time.
   * @throws {RangeError} When `time` is before the current time.
   */
  set(time: number): number {
    if (!(time >= this.#now)) {
      throw new RangeError("a fake clock never goes backwards");
    }
    this.#now = time;
    for (const target of this.#watched) {
      const deadline = target.nextDeadline();
      if (deadline !== undefined && deadline <= time) {
        target.handleTimeout(time);
      }
    }
    return time;
  }
}
