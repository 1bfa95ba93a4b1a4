/**
 * The nova remote RPC v3 wire: message types, the CBOR codec, framing,
 * limits, errors and the wire JSON form.
 *
 * @example Round-trip a frame
 * ```ts
 * import { decodeWireFrame, encodeLengthPrefixedFrame, FrameDecoder } from "./mod.ts";
 * const decoder = new FrameDecoder();
 * decoder.push(encodeLengthPrefixedFrame({ type: "unknown" }));
 * console.assert(decodeWireFrame(decoder.next()!).type === "unknown");
 * ```
 *
 * @module
 */

export * from "./types.ts";
export * from "./errors.ts";
export * from "./limits.ts";
export * from "./codec.ts";
export * from "./preflight.ts";
export * from "./frame.ts";
export * from "./wire_json.ts";
export * from "./bytes.ts";
export * from "./compression.ts";
export * from "./negotiate.ts";
export * from "./reassembly.ts";
export * from "./session.ts";
