/**
 * The v3 codec: `WireFrame` and `RpcPayload` to and from CBOR, byte-identical
 * to the Rust reference (serde_cbor 0.11).
 *
 * Encoding: definite-length maps with text keys in declaration order,
 * shortest unsigned integers, `null` for absent options, `data` as byte
 * strings, the tag key first, no `body` for unit variants. u64 fields accept
 * a `number` (safe integer) or a `bigint` up to 2^64 - 1.
 *
 * Decoding: every decoder first runs the non-allocating {@link preflight}
 * validator, then a schema-directed reader. It follows the reference's
 * acceptance rules (digest section 4), with these deliberate choices:
 * - an unknown variant of an adjacently tagged enum decodes to
 *   `{ type: "unknown" }` even when it carries a body (the spec says a
 *   receiver must not fail; the reference rejects a non-null body);
 * - leniencies the reference accepts but never emits are rejected:
 *   integer variant indexes, structs given as arrays, CBOR tags on schema
 *   values, indefinite-length maps/arrays/strings on schema values,
 *   `compression` given as a map and `data` given as an array of u8.
 *   Non-minimal integer and length encodings are accepted. Ignored values
 *   (unknown keys, bodies of unknown variants) may use any CBOR the
 *   validator allows, except invalid UTF-8 and unassigned simple values.
 * - `data` byte strings decode to views of the input buffer, not copies
 *   (`FrameDecoder` hands out a fresh buffer per frame, so they are never
 *   overwritten there; copy them if you decode from a buffer you reuse);
 * - u64 values decode to their normal form: a `number` up to 2^53 - 1,
 *   a `bigint` above.
 *
 * Errors are always `ProtocolError`s: `unexpected_eof`,
 * `trailing_bytes`, `cbor_invalid`, `limit_exceeded` (and `frame_too_large` /
 * `packet_too_large` for inputs over 64 MiB), `schema_mismatch`,
 * `duplicate_key`, `integer_out_of_range`; encoders throw `encode_failed`
 * (also for a text over the cap the decoder applies to its field).
 *
 * @module
 */

import { LimitExceededError } from "./errors.ts";
import { MAX_MESSAGE_BYTES } from "./limits.ts";
import { preflight } from "./preflight.ts";
import { CborReader } from "./_cbor_read.ts";
import { CborWriter } from "./_cbor_write.ts";
import { readRpcPayload, readWireFrame } from "./_decode.ts";
import { writeRpcPayload, writeWireFrame } from "./_encode.ts";
import type { RpcPayload, WireFrame } from "./types.ts";

/**
 * Encodes a `WireFrame` as CBOR (without the length prefix).
 *
 * Text values obey the same per-field caps as {@link encodeRpcPayload}:
 * `auth_token`, `worker_build` and the reject `message` at most 16 KiB of
 * UTF-8 (limit `max_small_string_bytes`).
 *
 * @param frame The frame.
 * @returns Fresh bytes.
 * @throws {ProtocolError} `encode_failed` for a value that cannot be encoded,
 * including a text over its field's cap (a {@link LimitExceededError}).
 *
 * @example
 * ```ts
 * import { encodeWireFrame } from "./codec.ts";
 * const bytes = encodeWireFrame({ type: "unknown" });
 * console.assert(bytes.length === 14 && bytes[0] === 0xa1);
 * ```
 */
export function encodeWireFrame(frame: WireFrame): Uint8Array {
  const w = new CborWriter();
  writeWireFrame(w, frame);
  return w.finish();
}

/**
 * Decodes one `WireFrame` (exactly one CBOR item, no length prefix).
 *
 * @param bytes The CBOR document.
 * @returns The frame.
 * @throws {ProtocolError} For any input the codec does not accept.
 *
 * @example
 * ```ts
 * import { decodeWireFrame, encodeWireFrame } from "./codec.ts";
 * const frame = decodeWireFrame(encodeWireFrame({
 *   type: "packet",
 *   body: { id: 18446744073709551615n, compression: "none", data: new Uint8Array([1]) },
 * }));
 * console.assert(frame.type === "packet" && frame.body.id === 18446744073709551615n);
 * ```
 */
export function decodeWireFrame(bytes: Uint8Array): WireFrame {
  checkInput(bytes, "frame_too_large");
  preflight(bytes);
  return readWireFrame(new CborReader(bytes));
}

/**
 * Encodes an `RpcPayload` (the CBOR carried in `Packet.data`).
 *
 * Every text value must fit the cap the peer's decoder (the preflight
 * validator) applies to its field, counted in UTF-8 bytes, so whatever this
 * encodes also decodes: `path`, `name`, `message`, `details` and `query`
 * are capped at 16 KiB (limit `max_small_string_bytes`), file `text` and
 * every other text at 8 MiB (limit `max_file_text_bytes`). A longer value
 * throws a `LimitExceededError` with code `encode_failed`, `limit` as
 * above, `max` the cap and `actual` the value's UTF-8 length.
 *
 * @param payload The payload.
 * @returns Fresh bytes.
 * @throws {ProtocolError} `encode_failed` for a value that cannot be encoded,
 * including a text over its field's cap (a {@link LimitExceededError}).
 *
 * @example
 * ```ts
 * import { encodeRpcPayload } from "./codec.ts";
 * const hex = Array.from(encodeRpcPayload({ type: "cancel" }), (b) => b.toString(16).padStart(2, "0")).join("");
 * console.assert(hex === "a164747970656663616e63656c");
 * ```
 *
 * @example A path over 16 KiB is refused before anything is sent
 * ```ts
 * import { encodeRpcPayload } from "./codec.ts";
 * import { LimitExceededError } from "./errors.ts";
 * try {
 *   encodeRpcPayload({ type: "request", body: { type: "diagnostics", path: "é".repeat(8193) } });
 *   throw new Error("unreachable");
 * } catch (err) {
 *   if (!(err instanceof LimitExceededError)) throw err;
 *   console.assert(err.code === "encode_failed" && err.limit === "max_small_string_bytes");
 *   console.assert(err.max === 16384 && err.actual === 16386);
 * }
 * ```
 */
export function encodeRpcPayload(payload: RpcPayload): Uint8Array {
  const w = new CborWriter();
  writeRpcPayload(w, payload);
  return w.finish();
}

/**
 * Decodes one `RpcPayload`.
 *
 * @param bytes The CBOR document (decompressed `Packet.data`).
 * @returns The payload.
 * @throws {ProtocolError} For any input the codec does not accept.
 *
 * @example
 * ```ts
 * import { decodeRpcPayload, encodeRpcPayload } from "./codec.ts";
 * const payload = decodeRpcPayload(encodeRpcPayload({
 *   type: "request",
 *   body: { type: "diagnostics", path: "A.java" },
 * }));
 * console.assert(payload.type === "request" && payload.body.type === "diagnostics");
 * ```
 */
export function decodeRpcPayload(bytes: Uint8Array): RpcPayload {
  checkInput(bytes, "packet_too_large");
  preflight(bytes);
  return readRpcPayload(new CborReader(bytes));
}

function checkInput(
  bytes: Uint8Array,
  code: "frame_too_large" | "packet_too_large",
): void {
  if (!(bytes instanceof Uint8Array)) {
    throw new TypeError("expected a Uint8Array");
  }
  if (bytes.length > MAX_MESSAGE_BYTES) {
    throw new LimitExceededError(
      "max_message_bytes",
      MAX_MESSAGE_BYTES,
      bytes.length,
      { code, remote: true },
    );
  }
}
