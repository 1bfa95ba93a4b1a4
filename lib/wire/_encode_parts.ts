/**
 * Encoder pieces shared by the v3 encoders (`_encode.ts`) and the 3.1
 * additions (`_search_v31.ts`). Private to `lib/wire`.
 *
 * @module
 */

import {
  type CborWriter,
  encodeFailed,
  keyTable,
  SMALL_TEXT_CAP,
} from "./_cbor_write.ts";
import type { Symbol, U64 } from "./types.ts";

/** The pre-encoded keys of a `Symbol` map, the map head first. */
export const K_SYMBOL: readonly Uint8Array[] = keyTable([
  "name",
  "path",
  "line",
  "column",
]);

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
 * Writes `shard_id` (u32), `revision` and `index_generation` (u64), each
 * after its pre-encoded key `keys[0..2]` (the first carries the map head).
 *
 * @example
 * ```ts
 * import { writeShardIds } from "./_encode_parts.ts";
 * import { CborWriter, keyTable } from "./_cbor_write.ts";
 * const w = new CborWriter();
 * const keys = keyTable(["shard_id", "revision", "index_generation"]);
 * writeShardIds(w, { shard_id: 1, revision: 2, index_generation: 3 }, keys);
 * console.assert(w.finish()[0] === 0xa3);
 * ```
 */
export function writeShardIds(
  w: CborWriter,
  b: { shard_id: number; revision: U64; index_generation: U64 },
  keys: readonly Uint8Array[],
): void {
  w.raw(keys[0]);
  w.u32(b.shard_id, "shard_id");
  w.raw(keys[1]);
  w.u64(b.revision, "revision");
  w.raw(keys[2]);
  w.u64(b.index_generation, "index_generation");
}

/**
 * Writes the `name`, `path`, `line` and `column` entries of a symbol-like
 * map after the keys `keys[0..3]` (by default a whole `Symbol` map); `what`
 * names the value in the error when it is not an object.
 *
 * @example
 * ```ts
 * import { writeSymbol } from "./_encode_parts.ts";
 * import { CborWriter } from "./_cbor_write.ts";
 * const w = new CborWriter();
 * writeSymbol(w, { name: "Foo", path: "F.java", line: 0, column: 6 });
 * console.assert(w.finish()[0] === 0xa4);
 * ```
 */
export function writeSymbol(
  w: CborWriter,
  s: Symbol,
  keys: readonly Uint8Array[] = K_SYMBOL,
  what = "symbol",
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
