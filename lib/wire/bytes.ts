/**
 * Byte-array helpers shared by the codec, the transports and the tools.
 *
 * @module
 */

/**
 * Concatenates byte arrays (or plain lists of byte values) into one fresh
 * array.
 *
 * @param parts The pieces, in order.
 * @returns A new array holding every piece.
 *
 * @example
 * ```ts
 * import { concatBytes } from "./bytes.ts";
 * const out = concatBytes([[0xa1], new Uint8Array([1, 2])]);
 * console.assert(out.join() === "161,1,2");
 * ```
 */
export function concatBytes(
  parts: readonly (Uint8Array | readonly number[])[],
): Uint8Array {
  let n = 0;
  for (const part of parts) n += part.length;
  const out = new Uint8Array(n);
  let p = 0;
  for (const part of parts) {
    out.set(part, p);
    p += part.length;
  }
  return out;
}
