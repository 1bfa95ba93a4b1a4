/**
 * Worker restart backoff (digest 2.15): 50 ms doubling to a 5 s cap, plus a
 * uniform whole-millisecond jitter of 0-25 % from an injected random source,
 * reset after a connection that stayed up for at least 10 s. Pure: time is
 * passed in as `now` (milliseconds, any monotonic origin).
 *
 * @example A crash loop, then a stable session
 * ```ts
 * import { RestartBackoff } from "./backoff.ts";
 * const backoff = new RestartBackoff({ random: () => 0 });
 * console.assert(backoff.nextDelay() === 50 && backoff.nextDelay() === 100);
 * backoff.connected(1_000);
 * backoff.disconnected(11_000); // up for 10 s: stable
 * console.assert(backoff.nextDelay() === 50);
 * ```
 *
 * @module
 */

/** Options for {@link RestartBackoff} and {@link backoffDelay}. */
export interface BackoffOptions {
  /**
   * First delay in milliseconds.
   * @default {50}
   */
  initialMs?: number;
  /**
   * Cap in milliseconds.
   * @default {5000}
   */
  maxMs?: number;
  /**
   * A session at least this long (ms) resets the backoff.
   * @default {10000}
   */
  resetAfterMs?: number;
  /**
   * Random source returning a number in `[0, 1)`; any other value means
   * "no jitter" (the reference skips jitter when its RNG fails).
   * @default {Math.random}
   */
  random?: () => number;
}

interface Resolved {
  initialMs: number;
  maxMs: number;
  resetAfterMs: number;
  random: () => number;
}

function resolve(options: BackoffOptions | undefined): Resolved {
  const r: Resolved = {
    initialMs: options?.initialMs ?? 50,
    maxMs: options?.maxMs ?? 5000,
    resetAfterMs: options?.resetAfterMs ?? 10_000,
    random: options?.random ?? Math.random,
  };
  for (const key of ["initialMs", "maxMs", "resetAfterMs"] as const) {
    if (!Number.isFinite(r[key]) || r[key] < 0) {
      throw new RangeError(`${key} must be a non-negative finite number`);
    }
  }
  if (r.maxMs < r.initialMs) throw new RangeError("maxMs must be >= initialMs");
  if (typeof r.random !== "function") {
    throw new TypeError("random must be a function");
  }
  return r;
}

/**
 * The delay before restart number `attempt` (0-based), without jitter:
 * `min(initialMs * 2^attempt, maxMs)`.
 *
 * @param attempt Restarts since the last reset (a non-negative integer).
 * @param options Backoff settings.
 * @returns The delay in milliseconds.
 * @throws {RangeError} On a bad attempt or option.
 *
 * @example
 * ```ts
 * import { backoffDelay } from "./backoff.ts";
 * console.assert([0, 1, 6, 7, 50].map((a) => backoffDelay(a)).join() === "50,100,3200,5000,5000");
 * ```
 */
export function backoffDelay(
  attempt: number,
  options?: BackoffOptions,
): number {
  if (!Number.isInteger(attempt) || attempt < 0) {
    throw new RangeError(
      `attempt must be a non-negative integer, got ${attempt}`,
    );
  }
  const { initialMs, maxMs } = resolve(options);
  let delay = initialMs;
  for (let i = 0; i < attempt && delay < maxMs; i++) delay *= 2;
  return Math.min(delay, maxMs);
}

/**
 * The jitter for a delay: a uniform whole number of milliseconds in
 * `[0, floor(delayMs / 4)]`; 0 when that bound is 0 or `random()` returns a
 * value outside `[0, 1)`.
 *
 * @param delayMs The base delay.
 * @param random A random source returning values in `[0, 1)`.
 * @returns The jitter in milliseconds.
 *
 * @example
 * ```ts
 * import { jitterFor } from "./backoff.ts";
 * console.assert(jitterFor(100, () => 0.999) === 25 && jitterFor(100, () => 0) === 0);
 * console.assert(jitterFor(3, () => 0.5) === 0);
 * ```
 */
export function jitterFor(delayMs: number, random: () => number): number {
  const bound = Math.floor(delayMs / 4);
  if (bound <= 0) return 0;
  const x = random();
  if (typeof x !== "number" || !(x >= 0 && x < 1)) return 0;
  return Math.floor(x * (bound + 1));
}

/**
 * Per-shard restart backoff state.
 *
 * @example Jitter comes from the injected source
 * ```ts
 * import { RestartBackoff } from "./backoff.ts";
 * const b = new RestartBackoff({ random: () => 0.5 });
 * console.assert(b.nextDelay() === 50 + 6); // floor(0.5 * (12 + 1))
 * ```
 */
export class RestartBackoff {
  #options: Resolved;
  #attempt = 0;
  #connectedAt: number | undefined;

  /**
   * Creates the state (next delay: `initialMs`).
   *
   * @param options Backoff settings.
   * @throws {RangeError} On a bad option.
   */
  constructor(options?: BackoffOptions) {
    this.#options = resolve(options);
  }

  /** Restarts scheduled since the last reset. */
  get attempt(): number {
    return this.#attempt;
  }

  /** The next delay without jitter (does not advance). */
  peekBase(): number {
    return backoffDelay(this.#attempt, this.#options);
  }

  /**
   * The delay before the next restart (base plus jitter), and advances.
   *
   * @returns Milliseconds to wait.
   */
  nextDelay(): number {
    const base = this.peekBase();
    this.#attempt++;
    return base + jitterFor(base, this.#options.random);
  }

  /**
   * Records that the worker connected (handshake done).
   *
   * @param now The current time in milliseconds.
   */
  connected(now: number): void {
    this.#connectedAt = now;
  }

  /**
   * Records that the worker's session ended; a session of at least
   * `resetAfterMs` resets the backoff.
   *
   * @param now The current time in milliseconds.
   * @returns True when the session was stable and the backoff was reset.
   */
  disconnected(now: number): boolean {
    const since = this.#connectedAt;
    this.#connectedAt = undefined;
    if (since !== undefined && now - since >= this.#options.resetAfterMs) {
      this.reset();
      return true;
    }
    return false;
  }

  /** Resets to the initial delay. */
  reset(): void {
    this.#attempt = 0;
  }
}
