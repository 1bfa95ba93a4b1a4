/**
 * Wrappers that keep secret values (DSNs, the tenant secret key) out of
 * every string form: `String()`, template literals, `JSON.stringify`,
 * `Deno.inspect` / `console.log` and `node:util` inspect all show
 * `[redacted]`. The value is reachable only through `reveal()`. Equality is
 * constant time in the length of the longer operand.
 *
 * @module
 */

/** What every string form of a secret shows. */
export const REDACTED = "[redacted]";

/** The runtime's custom-inspect hook (a registered symbol, not an API call). */
export const CUSTOM_INSPECT: unique symbol = Symbol.for(
  ["Deno", "customInspect"].join("."),
) as never;
const DENO_INSPECT = CUSTOM_INSPECT;
const NODE_INSPECT = Symbol.for("nodejs.util.inspect.custom");

/**
 * Constant-time equality of two byte strings: the time depends only on the
 * longer length, never on where they differ.
 *
 * @param a First.
 * @param b Second.
 * @returns True when equal.
 *
 * @example
 * ```ts
 * import { constantTimeEqual } from "./secret.ts";
 * console.assert(constantTimeEqual(new Uint8Array([1, 2]), new Uint8Array([1, 2])));
 * ```
 */
export function constantTimeEqual(a: Uint8Array, b: Uint8Array): boolean {
  const n = Math.max(a.length, b.length);
  let diff = a.length ^ b.length;
  for (let i = 0; i < n; i++) diff |= (a[i] ?? 0) ^ (b[i] ?? 0);
  return diff === 0;
}

/**
 * A secret text (a DSN with a password).
 *
 * @example
 * ```ts
 * import { SecretText } from "./secret.ts";
 * const dsn = new SecretText("postgres://u:pw@localhost/db");
 * console.assert(`${dsn}` === "[redacted]" && JSON.stringify({ dsn }) === '{"dsn":"[redacted]"}');
 * console.assert(dsn.reveal().startsWith("postgres://"));
 * ```
 */
export class SecretText {
  readonly #value: string;

  /**
   * Wraps a secret text.
   *
   * @param value The secret.
   */
  constructor(value: string) {
    this.#value = value;
  }

  /** The secret itself: pass it to the driver, never to a log. */
  reveal(): string {
    return this.#value;
  }

  /** Constant-time comparison. */
  equals(other: SecretText): boolean {
    const enc = new TextEncoder();
    return constantTimeEqual(enc.encode(this.#value), enc.encode(other.#value));
  }

  /** Always `[redacted]`. */
  toString(): string {
    return REDACTED;
  }

  /** Always `[redacted]`. */
  toJSON(): string {
    return REDACTED;
  }

  /** Always `[redacted]`. */
  [DENO_INSPECT](): string {
    return REDACTED;
  }

  /** Always `[redacted]`. */
  [NODE_INSPECT](): string {
    return REDACTED;
  }
}

/**
 * A secret byte string (the 32-byte tenant secret key).
 *
 * @example
 * ```ts
 * import { SecretBytes } from "./secret.ts";
 * const key = new SecretBytes(new Uint8Array(32).fill(7));
 * console.assert(String(key) === "[redacted]" && key.equals(new SecretBytes(new Uint8Array(32).fill(7))));
 * ```
 */
export class SecretBytes {
  readonly #value: Uint8Array;

  /**
   * Wraps secret bytes.
   *
   * @param value The secret (copied).
   */
  constructor(value: Uint8Array) {
    this.#value = value.slice();
  }

  /** The number of bytes. */
  get length(): number {
    return this.#value.length;
  }

  /** A copy of the secret: pass it to the keyed hash, never to a log. */
  reveal(): Uint8Array {
    return this.#value.slice();
  }

  /** Constant-time comparison. */
  equals(other: SecretBytes): boolean {
    return constantTimeEqual(this.#value, other.#value);
  }

  /** Whether every byte is zero (constant time). */
  isAllZero(): boolean {
    let acc = 0;
    for (const b of this.#value) acc |= b;
    return acc === 0;
  }

  /** Always `[redacted]`. */
  toString(): string {
    return REDACTED;
  }

  /** Always `[redacted]`. */
  toJSON(): string {
    return REDACTED;
  }

  /** Always `[redacted]`. */
  [DENO_INSPECT](): string {
    return REDACTED;
  }

  /** Always `[redacted]`. */
  [NODE_INSPECT](): string {
    return REDACTED;
  }
}
