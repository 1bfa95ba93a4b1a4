/**
 * Encoder pieces shared by the v3 encoders (`_encode.ts`) and the 3.1
 * additions (`_search_v31.ts`). Private to `lib/wire`.
 *
 * @module
 */

import {
  type CborWriter,
  encodeFailed,
  SMALL_TEXT_CAP,
} from "./_cbor_write.ts";
import type { Symbol } from "./types.ts";

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null;
}

/**
 * Throws `encode_failed` unless `value` is a non-null object.
 *
 * @example
 * ```ts
 * import { requireObject } from "./_encode_parts.ts";
 * requireObject({}, "body");
 * let threw = false;
 * try { requireObject(null, "body"); } catch { threw = true; }
 * console.assert(threw);
 * ```
 */
export function requireObject(value: unknown, what: string): void {
  if (!isObject(value)) encodeFailed(`${what} must be an object`);
}

/**
 * Writes the `name`, `path`, `line` and `column` entries of a symbol-like
 * map after the keys `keys[0..3]` (the first carries the map head); `what`
 * names the value in the error when it is not an object.
 *
 * @example
 * ```ts
 * import { writeSymbol } from "./_encode_parts.ts";
 * import { CborWriter, keyTable } from "./_cbor_write.ts";
 * const w = new CborWriter();
 * const keys = keyTable(["name", "path", "line", "column"]);
 * writeSymbol(w, { name: "Foo", path: "F.java", line: 0, column: 6 }, keys, "symbol");
 * console.assert(w.finish()[0] === 0xa4);
 * ```
 */
export function writeSymbol(
  w: CborWriter,
  s: Symbol,
  keys: readonly Uint8Array[],
  what: string,
): void {
  requireObject(s, what);
  w.raw(keys[0]);
  w.text(s.name, "name", SMALL_TEXT_CAP);
  w.raw(keys[1]);
  w.text(s.path, "path", SMALL_TEXT_CAP);
  w.raw(keys[2]);
  w.u32(s.line, "line");
  w.raw(keys[3]);
  w.u32(s.column, "column");
}
