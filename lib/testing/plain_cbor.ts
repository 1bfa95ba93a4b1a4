/**
 * An independent, deliberately simple CBOR encoder for wire JSON values (the
 * "plain encoding" of the conformance vectors): definite lengths, shortest
 * unsigned integers, map entries in object order, `$bytes` as byte strings,
 * `$u64` as unsigned integers. Tests use it as an oracle for the codec.
 *
 * @module
 */

import type { JsonValue } from "../wire/wire_json.ts";

/**
 * Encodes a wire JSON value in the plain encoding.
 *
 * @param value Wire JSON (objects with one `$bytes`/`$u64` key are special).
 * @returns The CBOR bytes.
 * @throws {TypeError} For values outside wire JSON (floats, negatives).
 *
 * @example
 * ```ts
 * import { plainEncode } from "./plain_cbor.ts";
 * const bytes = plainEncode({ type: "cancel" });
 * console.assert(bytes.length === 13 && bytes[0] === 0xa1);
 * ```
 */
export function plainEncode(value: JsonValue): Uint8Array {
  const out: number[] = [];
  write(out, value);
  return new Uint8Array(out);
}

const encoder = new TextEncoder();

function writeHead(out: number[], major: number, n: bigint): void {
  const m = major << 5;
  if (n < 0x100_0000n) {
    const v = Number(n);
    if (v < 24) out.push(m | v);
    else if (v < 0x100) out.push(m | 24, v);
    else if (v < 0x10000) out.push(m | 25, v >> 8, v & 0xff);
    else out.push(m | 26, 0, v >> 16, (v >> 8) & 0xff, v & 0xff);
    return;
  }
  let size: number;
  if (n < 24n) {
    out.push(m | Number(n));
    return;
  } else if (n < 0x100n) {
    out.push(m | 24);
    size = 1;
  } else if (n < 0x10000n) {
    out.push(m | 25);
    size = 2;
  } else if (n < 0x1_0000_0000n) {
    out.push(m | 26);
    size = 4;
  } else {
    out.push(m | 27);
    size = 8;
  }
  for (let i = size - 1; i >= 0; i--) {
    out.push(Number((n >> BigInt(8 * i)) & 0xffn));
  }
}

function write(out: number[], value: JsonValue): void {
  if (value === null) {
    out.push(0xf6);
  } else if (value === true) {
    out.push(0xf5);
  } else if (value === false) {
    out.push(0xf4);
  } else if (typeof value === "number") {
    if (!Number.isSafeInteger(value) || value < 0) {
      throw new TypeError(`not a wire integer: ${value}`);
    }
    writeHead(out, 0, BigInt(value));
  } else if (typeof value === "string") {
    const bytes = encoder.encode(value);
    writeHead(out, 3, BigInt(bytes.length));
    for (const b of bytes) out.push(b);
  } else if (Array.isArray(value)) {
    writeHead(out, 4, BigInt(value.length));
    for (const item of value) write(out, item);
  } else {
    const keys = Object.keys(value);
    if (keys.length === 1 && keys[0] === "$bytes") {
      const hex = value.$bytes as string;
      writeHead(out, 2, BigInt(hex.length / 2));
      for (let i = 0; i < hex.length; i += 2) {
        out.push(parseInt(hex.slice(i, i + 2), 16));
      }
    } else if (keys.length === 1 && keys[0] === "$u64") {
      writeHead(out, 0, BigInt(value.$u64 as string));
    } else {
      writeHead(out, 5, BigInt(keys.length));
      for (const key of keys) {
        write(out, key);
        write(out, value[key]);
      }
    }
  }
}
