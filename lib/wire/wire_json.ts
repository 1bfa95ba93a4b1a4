/**
 * "Wire JSON": the JSON form of decoded values used by the conformance
 * vectors. Byte strings become `{"$bytes": "<hex>"}` and integers above
 * 2^53 - 1 become `{"$u64": "<decimal>"}`; everything else maps directly.
 * Object key order is kept (it is significant: wire order).
 *
 * @module
 */

/** A JSON value. */
export type JsonValue =
  | null
  | boolean
  | number
  | string
  | JsonValue[]
  | { [key: string]: JsonValue };

const HEX: string[] = Array.from(
  { length: 256 },
  (_, i) => i.toString(16).padStart(2, "0"),
);

/**
 * Lowercase hex of some bytes.
 *
 * @param bytes The bytes.
 * @returns Two lowercase hex digits per byte.
 *
 * @example
 * ```ts
 * import { bytesToHex } from "./wire_json.ts";
 * console.assert(bytesToHex(new Uint8Array([0, 171])) === "00ab");
 * ```
 */
export function bytesToHex(bytes: Uint8Array): string {
  let out = "";
  for (let i = 0; i < bytes.length; i++) out += HEX[bytes[i]];
  return out;
}

/**
 * Parses lowercase or uppercase hex (an even number of digits).
 *
 * @param hex The hex text.
 * @returns The bytes.
 * @throws {TypeError} For odd lengths or non-hex characters.
 *
 * @example
 * ```ts
 * import { hexToBytes } from "./wire_json.ts";
 * console.assert(hexToBytes("00ab")[1] === 171);
 * ```
 */
export function hexToBytes(hex: string): Uint8Array {
  if (
    typeof hex !== "string" || hex.length % 2 !== 0 || /[^0-9a-fA-F]/.test(hex)
  ) {
    throw new TypeError("invalid hex string");
  }
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) {
    out[i] = parseInt(hex.substr(i * 2, 2), 16);
  }
  return out;
}

/**
 * Converts a decoded value to wire JSON.
 *
 * @param value A decoded message (or any part of one).
 * @returns Its wire JSON form.
 * @throws {TypeError} For values wire JSON cannot express (floats, negatives, undefined...).
 *
 * @example
 * ```ts
 * import { toWireJson } from "./wire_json.ts";
 * const json = toWireJson({ id: 18446744073709551615n, data: new Uint8Array([1]) });
 * console.assert(JSON.stringify(json) === '{"id":{"$u64":"18446744073709551615"},"data":{"$bytes":"01"}}');
 * ```
 */
export function toWireJson(value: unknown): JsonValue {
  if (value === null) return null;
  switch (typeof value) {
    case "boolean":
    case "string":
      return value;
    case "number":
      if (!Number.isSafeInteger(value) || value < 0) {
        throw new TypeError(`not a wire integer: ${value}`);
      }
      return value;
    case "bigint":
      if (value < 0n || value > 0xffff_ffff_ffff_ffffn) {
        throw new TypeError("bigint out of u64 range");
      }
      return value <= BigInt(Number.MAX_SAFE_INTEGER)
        ? Number(value)
        : { $u64: value.toString() };
    case "object": {
      if (value instanceof Uint8Array) return { $bytes: bytesToHex(value) };
      if (Array.isArray(value)) return value.map(toWireJson);
      const out: { [key: string]: JsonValue } = {};
      for (const [k, v] of Object.entries(value)) setKey(out, k, toWireJson(v));
      return out;
    }
    default:
      throw new TypeError(`not a wire value: ${typeof value}`);
  }
}

/**
 * Converts wire JSON back to a value (`$bytes` to `Uint8Array`, `$u64` to
 * the u64 normal form).
 *
 * @param json Wire JSON (e.g. from `JSON.parse`).
 * @returns The value, ready for an encoder.
 * @throws {TypeError} For malformed wire JSON.
 *
 * @example
 * ```ts
 * import { fromWireJson } from "./wire_json.ts";
 * const value = fromWireJson({ id: { $u64: "18446744073709551615" }, data: { $bytes: "01" } }) as
 *   { id: bigint; data: Uint8Array };
 * console.assert(value.id === 18446744073709551615n && value.data[0] === 1);
 * ```
 */
export function fromWireJson(json: JsonValue): unknown {
  if (json === null || typeof json !== "object") {
    if (typeof json === "number" && (!Number.isSafeInteger(json) || json < 0)) {
      throw new TypeError(`not a wire integer: ${json}`);
    }
    return json;
  }
  if (Array.isArray(json)) return json.map(fromWireJson);
  const keys = Object.keys(json);
  if (keys.length === 1 && keys[0].startsWith("$")) {
    const inner = json[keys[0]];
    if (keys[0] === "$bytes" && typeof inner === "string") {
      return hexToBytes(inner);
    }
    if (
      keys[0] === "$u64" && typeof inner === "string" &&
      /^(0|[1-9][0-9]*)$/.test(inner)
    ) {
      const big = BigInt(inner);
      if (big > 0xffff_ffff_ffff_ffffn) {
        throw new TypeError("$u64 out of range");
      }
      return big <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(big) : big;
    }
    throw new TypeError(`malformed wire JSON special object: ${keys[0]}`);
  }
  const out: Record<string, unknown> = {};
  for (const k of keys) setKey(out, k, fromWireJson(json[k]));
  return out;
}

/** Sets an own key (safe for `__proto__`). */
function setKey(
  out: Record<string, unknown>,
  key: string,
  value: unknown,
): void {
  Object.defineProperty(out, key, {
    value,
    enumerable: true,
    writable: true,
    configurable: true,
  });
}
