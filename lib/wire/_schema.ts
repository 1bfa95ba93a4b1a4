/**
 * Message schemas as data: a struct is a list of fields, each a name, a
 * value codec and whether it may be absent. One declaration drives both the
 * decoder ({@link readStruct}: unknown keys skipped, duplicate known keys
 * and missing required ones rejected, absent options given their default)
 * and the encoder ({@link writeStruct}: the fields in declaration order,
 * every key pre-encoded once). Private to `lib/wire`.
 *
 * The hottest structs (`Symbol`, `FileText`, `Packet`) keep hand-tuned
 * loops in `_decode.ts` / `_encode.ts` but take their key names from the
 * schemas declared here.
 *
 * @module
 */

import { type CborReader, schemaMismatch } from "./_cbor_read.ts";
import {
  type CborWriter,
  encodeFailed,
  keyTable,
  SMALL_TEXT_CAP,
  textBytes,
  type TextCap,
} from "./_cbor_write.ts";
import {
  entryKey,
  type Keys,
  keys,
  missing,
  variant,
} from "./_decode_parts.ts";
import { requireObject } from "./_encode_parts.ts";
import { ProtocolError } from "./errors.ts";
import type { U64 as U64Value } from "./types.ts";

/**
 * How one value is read and written. `name` is the field (or list) name for
 * error messages.
 */
export interface ValueCodec<T> {
  /** Reads the value at `r.pos`. */
  read(r: CborReader, name: string): T;
  /** Writes `value`, failing with `encode_failed` when it does not fit. */
  write(w: CborWriter, value: T, name: string): void;
}

/** One field of a struct schema. */
export interface FieldSchema {
  /** The wire key, also the property name of the decoded object. */
  readonly name: string;
  /** The value codec. */
  readonly codec: ValueCodec<unknown>;
  /** Whether the key may be missing (the value is then `absent`). */
  readonly optional: boolean;
  /** The decoded value of a missing optional key. */
  readonly absent: unknown;
}

/** A struct: its fields in wire order, with pre-encoded keys. */
export interface StructSchema<T> {
  /** The struct's name in errors. */
  readonly what: string;
  /** The fields, in wire order. */
  readonly fields: readonly FieldSchema[];
  /** The field names, in wire order. */
  readonly names: readonly string[];
  /** The keys as the decoder matches them. */
  readonly keys: Keys;
  /** The keys as the encoder writes them (the map head before the first). */
  readonly encodedKeys: readonly Uint8Array[];
  /** A bit per required field. */
  readonly required: number;
  /** Only for typing: the decoded type. */
  readonly _type?: T;
}

/** A field declaration: `[name, codec]` or `[name, codec, absent]`. */
export type FieldDecl =
  | readonly [string, ValueCodec<unknown>]
  | readonly [string, ValueCodec<unknown>, { absent: unknown }];

/**
 * Declares a struct schema. A field with a third element is optional and
 * decodes to `absent` when its key is missing.
 *
 * @example
 * ```ts
 * import { struct, U32_INT } from "./_schema.ts";
 * const version = struct("ProtocolVersion", [["major", U32_INT], ["minor", U32_INT]]);
 * console.assert(version.names.join() === "major,minor" && version.required === 3);
 * ```
 */
export function struct<T>(
  what: string,
  decls: readonly FieldDecl[],
): StructSchema<T> {
  if (decls.length > 30) throw new RangeError(`${what}: too many fields`);
  const fields: FieldSchema[] = decls.map((d) => ({
    name: d[0],
    codec: d[1],
    optional: d.length === 3,
    absent: d.length === 3 ? d[2].absent : undefined,
  }));
  const names = fields.map((f) => f.name);
  let required = 0;
  fields.forEach((f, k) => {
    if (!f.optional) required |= 1 << k;
  });
  return {
    what,
    fields,
    names,
    keys: keys(...names),
    encodedKeys: keyTable(names),
    required,
  };
}

/**
 * Decodes a struct map: every known key at most once, unknown keys skipped,
 * the first missing required field (in wire order) reported.
 *
 * @example
 * ```ts
 * import { readStruct, struct, U32_INT } from "./_schema.ts";
 * import { CborReader } from "./_cbor_read.ts";
 * const version = struct<{ major: number; minor: number }>("V", [["major", U32_INT], ["minor", U32_INT]]);
 * // {"minor": 1, "x": 0, "major": 3}
 * const bytes = new Uint8Array([0xa3, 0x65, 0x6d, 0x69, 0x6e, 0x6f, 0x72, 0x01, 0x61, 0x78, 0x00, 0x65, 0x6d, 0x61, 0x6a, 0x6f, 0x72, 0x03]);
 * const v = readStruct(new CborReader(bytes), version);
 * console.assert(v.major === 3 && v.minor === 1);
 * ```
 */
export function readStruct<T>(
  r: CborReader,
  s: StructSchema<T>,
  what: string = s.what,
): T {
  const n = r.map(what);
  const fields = s.fields;
  const out: Record<string, unknown> = {};
  for (let k = 0; k < fields.length; k++) {
    out[fields[k].name] = fields[k].absent;
  }
  let seen = 0;
  for (let i = 0; i < n; i++) {
    const k = entryKey(r, s.keys, s.names, i, seen);
    if (k < 0) continue;
    seen |= 1 << k;
    const f = fields[k];
    out[f.name] = f.codec.read(r, f.name);
  }
  const lacking = s.required & ~seen;
  if (lacking !== 0) missing(s.names[31 - Math.clz32(lacking & -lacking)]);
  return out as T;
}

/**
 * Encodes a struct map: all fields, in wire order (absent optional values
 * are written by their codec, e.g. as `null`).
 *
 * @example
 * ```ts
 * import { struct, U32_INT, writeStruct } from "./_schema.ts";
 * import { CborWriter } from "./_cbor_write.ts";
 * const version = struct("V", [["major", U32_INT], ["minor", U32_INT]]);
 * const w = new CborWriter();
 * writeStruct(w, version, { major: 3, minor: 1 }, "version");
 * console.assert(w.finish()[0] === 0xa2);
 * ```
 */
export function writeStruct<T>(
  w: CborWriter,
  s: StructSchema<T>,
  value: T,
  what: string,
): void {
  requireObject(value, what);
  const v = value as Record<string, unknown>;
  const fields = s.fields;
  for (let k = 0; k < fields.length; k++) {
    const f = fields[k];
    w.raw(s.encodedKeys[k]);
    f.codec.write(w, v[f.name], f.name);
  }
}

/**
 * A codec for a nested struct: errors name the field.
 *
 * @example
 * ```ts
 * import { nested, struct, U32_INT } from "./_schema.ts";
 * const codec = nested(struct("V", [["major", U32_INT]]));
 * console.assert(typeof codec.read === "function");
 * ```
 */
export function nested<T>(s: StructSchema<T>): ValueCodec<T> {
  return {
    read: (r, name) => readStruct(r, s, name),
    write: (w, value, name) => writeStruct(w, s, value, name),
  };
}

/**
 * A codec for a struct that is an item of a list: errors name the struct
 * rather than the list.
 *
 * @example
 * ```ts
 * import { item, struct, U32_INT } from "./_schema.ts";
 * const codec = item(struct("V", [["major", U32_INT]]), "version");
 * console.assert(typeof codec.write === "function");
 * ```
 */
export function item<T>(s: StructSchema<T>, what: string): ValueCodec<T> {
  return {
    read: (r) => readStruct(r, s),
    write: (w, value) => writeStruct(w, s, value, what),
  };
}

/**
 * A codec for `T | null`: CBOR `null` (or `undefined` when encoding) is
 * `null`.
 *
 * @example
 * ```ts
 * import { nullable, TEXT } from "./_schema.ts";
 * import { CborReader } from "./_cbor_read.ts";
 * console.assert(nullable(TEXT).read(new CborReader(new Uint8Array([0xf6])), "x") === null);
 * ```
 */
export function nullable<T>(codec: ValueCodec<T>): ValueCodec<T | null> {
  return {
    read: (r, name) => r.nullNext() ? null : codec.read(r, name),
    write: (w, value, name) => {
      if (value === null || value === undefined) w.nil();
      else codec.write(w, value, name);
    },
  };
}

/**
 * A codec for an array of values.
 *
 * @example
 * ```ts
 * import { arrayOf, U32_INT } from "./_schema.ts";
 * import { CborReader } from "./_cbor_read.ts";
 * const list = arrayOf(U32_INT).read(new CborReader(new Uint8Array([0x82, 1, 2])), "xs");
 * console.assert(list.join() === "1,2");
 * ```
 */
export function arrayOf<T>(codec: ValueCodec<T>): ValueCodec<T[]> {
  return {
    read: (r, name) => {
      const len = r.array(name);
      const out: T[] = new Array(len);
      for (let j = 0; j < len; j++) out[j] = codec.read(r, name);
      return out;
    },
    write: (w, value, name) => {
      if (!Array.isArray(value)) encodeFailed(`${name} must be an array`);
      w.head(4, value.length);
      for (let j = 0; j < value.length; j++) codec.write(w, value[j], name);
    },
  };
}

/**
 * A codec for a string enum. Decoding: an unknown (valid UTF-8) name is
 * `"unknown"`, or a `schema_mismatch` when `strict`. Encoding: the known
 * names and `"unknown"` (unless `strict`).
 *
 * @example
 * ```ts
 * import { stringEnum } from "./_schema.ts";
 * import { CborReader } from "./_cbor_read.ts";
 * const algo = stringEnum(["none", "zstd"] as const);
 * // "lz4"
 * console.assert(algo.read(new CborReader(new Uint8Array([0x63, 0x6c, 0x7a, 0x34])), "c") === "unknown");
 * ```
 */
export function stringEnum<T extends string>(
  names: readonly T[],
  strict = false,
): ValueCodec<T | "unknown"> {
  const table = keys(...names);
  const encoded = new Map<string, Uint8Array>();
  for (const name of names) encoded.set(name, textBytes(name));
  if (!strict) encoded.set("unknown", textBytes("unknown"));
  const expected = names.map((n) => `\`${n}\``).join(" or ");
  return {
    read: (r, name) => {
      const v = variant(r, table, name);
      if (v >= 0) return names[v];
      if (strict) return schemaMismatch(`${name}: expected ${expected}`);
      return "unknown";
    },
    write: (w, value, name) => {
      const bytes = encoded.get(value);
      if (bytes === undefined) encodeFailed(`${name}: unknown value`);
      w.raw(bytes);
    },
  };
}

/**
 * Text under a cap.
 *
 * @example
 * ```ts
 * import { text } from "./_schema.ts";
 * import { SMALL_TEXT_CAP } from "./_cbor_write.ts";
 * console.assert(typeof text(SMALL_TEXT_CAP).write === "function");
 * ```
 */
export function text(cap?: TextCap): ValueCodec<string> {
  return {
    read: (r, name) => r.text(name),
    write: (w, value, name) => w.text(value, name, cap),
  };
}

/** Text under the file-text cap (the default). */
export const TEXT: ValueCodec<string> = text();
/** Text under the 16 KiB cap of names, paths and messages. */
export const SMALL_TEXT: ValueCodec<string> = text(SMALL_TEXT_CAP);

/** A u32. */
export const U32_INT: ValueCodec<number> = {
  read: (r, name) => r.u32(name),
  write: (w, value, name) => w.u32(value, name),
};

/** A u64 (a number, or a bigint above 2^53 - 1). */
export const U64_INT: ValueCodec<U64Value> = {
  read: (r, name) => r.u64(name),
  write: (w, value, name) => w.u64(value, name),
};

/** A boolean. */
export const BOOL: ValueCodec<boolean> = {
  read: (r, name) => r.bool(name),
  write: (w, value, name) => w.bool(value, name),
};

/** An i32 (CBOR major 0 or 1). */
export const I32_INT: ValueCodec<number> = {
  read: (r, name) => {
    const ib = r.peek();
    const major = ib >> 5;
    if ((major !== 0 && major !== 1) || (ib & 31) > 27) {
      return schemaMismatch(`${name}: expected an integer`);
    }
    r.pos++;
    const arg = r.arg(ib & 31);
    const value = major === 0 ? arg : -1 - arg;
    if (value < -0x8000_0000 || value > 0x7fff_ffff) {
      throw new ProtocolError(
        "schema_mismatch",
        `invalid value: integer \`${value}\`, expected i32`,
        { remote: true },
      );
    }
    return value;
  },
  write: (w, value, name) => {
    if (
      !Number.isInteger(value) || value < -0x8000_0000 ||
      value > 0x7fff_ffff
    ) {
      encodeFailed(`${name} must be an i32`);
    }
    if (value >= 0) w.head(0, value);
    else w.head(1, -1 - value);
  },
};
