/**
 * Decoder pieces shared by the v3 decoders (`_decode.ts`) and the 3.1
 * additions (`_search_v31.ts`): key tables, the duplicate/missing field
 * errors, key lookup and variant names. Private to `lib/wire`.
 *
 * @module
 */

import { ProtocolError } from "./errors.ts";
import {
  cborInvalid,
  type CborReader,
  isValidUtf8,
  keyBytes,
  schemaMismatch,
} from "./_cbor_read.ts";
import type {} from "./types.ts";

/** Pre-encoded map keys, matched by `CborReader.key`. */
export type Keys = readonly Uint8Array[];

/**
 * Pre-encodes map keys for `CborReader.key`.
 *
 * @example
 * ```ts
 * import { keys } from "./_decode_parts.ts";
 * console.assert(keys("a", "bc").length === 2);
 * ```
 */
export function keys(...names: string[]): Keys {
  return names.map(keyBytes);
}

/**
 * Throws the peer's `duplicate_key` error for a known field seen twice.
 *
 * @example
 * ```ts
 * import { duplicate } from "./_decode_parts.ts";
 * import { isProtocolError } from "./errors.ts";
 * try { duplicate("name"); } catch (err) { console.assert(isProtocolError(err, "duplicate_key")); }
 * ```
 */
export function duplicate(field: string): never {
  throw new ProtocolError("duplicate_key", `duplicate field \`${field}\``, {
    remote: true,
  });
}

/**
 * Throws the peer's `schema_mismatch` error for a required field not seen.
 *
 * @example
 * ```ts
 * import { missing } from "./_decode_parts.ts";
 * import { isProtocolError } from "./errors.ts";
 * try { missing("name"); } catch (err) { console.assert(isProtocolError(err, "schema_mismatch")); }
 * ```
 */
export function missing(field: string): never {
  return schemaMismatch(`missing field \`${field}\``);
}

/**
 * Reads the key of entry `i` of a map and returns its index in `table`; an
 * unknown key's value is skipped and -1 returned. A known key whose bit is
 * already set in `seen` is a `duplicate_key` error naming `names[k]`.
 *
 * @example
 * ```ts
 * import { entryKey, keys } from "./_decode_parts.ts";
 * import { CborReader } from "./_cbor_read.ts";
 * const r = new CborReader(new Uint8Array([0xa1, 0x61, 0x61, 0x01]));
 * const n = r.map("Example");
 * console.assert(n === 1 && entryKey(r, keys("a"), ["a"], 0, 0) === 0);
 * ```
 */
export function entryKey(
  r: CborReader,
  table: Keys,
  names: readonly string[],
  i: number,
  seen: number,
): number {
  const k = r.key(table, i);
  if (k < 0) {
    r.skip();
    return -1;
  }
  if (seen & (1 << k)) duplicate(names[k]);
  return k;
}

/**
 * Reads a text value naming a variant and returns its index in `names`, or
 * -1 for an unknown (but valid UTF-8) name. Integer variant indexes are
 * rejected (a leniency of the reference we do not copy).
 */
export function variant(r: CborReader, names: Keys, field: string): number {
  const buf = r.buf;
  const ib = buf[r.pos];
  if ((ib >> 5) !== 3 || (ib & 31) === 31) {
    return schemaMismatch(`${field}: expected a variant name (text string)`);
  }
  r.pos++;
  const len = r.arg(ib & 31);
  const start = r.pos;
  r.pos = start + len;
  outer: for (let k = 0; k < names.length; k++) {
    const name = names[k];
    if (name.length !== len) continue;
    for (let i = 0; i < len; i++) {
      if (buf[start + i] !== name[i]) continue outer;
    }
    return k;
  }
  if (!isValidUtf8(buf, start, start + len)) {
    cborInvalid("invalid UTF-8 in text string");
  }
  return -1;
}
