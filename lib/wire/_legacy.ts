/**
 * Just enough of the legacy v2 format to recognise a v2 `WorkerHello` as a
 * first frame and answer it with the legacy `Error` frame.
 *
 * @module
 */

import { MAX_SMALL_STRING_BYTES } from "./limits.ts";

/**
 * The framed legacy `Error { message: "router only supports v3" }` a router
 * sends to a v2 worker before closing.
 */
export const LEGACY_ONLY_V3_REPLY: Uint8Array = Uint8Array.from([
  0x1c,
  0x00,
  0x00,
  0x00,
  0x0c,
  0x17,
  0x00,
  0x00,
  0x00,
  ...new TextEncoder().encode("router only supports v3"),
]);

/** The message of the legacy reply (and of the router's close error). */
export const LEGACY_ONLY_V3_MESSAGE = "router only supports v3";

const UTF8 = new TextDecoder("utf-8", { fatal: true });

/**
 * Whether `payload` (one frame, no prefix) is exactly a legacy v2
 * `WorkerHello`: tag 0, shard u32 LE, optional token string (<= 16 KiB of
 * valid UTF-8), a bool, and nothing after it.
 *
 * @param payload The frame's bytes.
 * @returns True for a well-formed legacy hello.
 */
export function isLegacyWorkerHello(payload: Uint8Array): boolean {
  if (payload.length < 7 || payload[0] !== 0x00) return false;
  let at = 5;
  const option = payload[at++];
  if (option === 1) {
    if (at + 4 > payload.length) return false;
    const len = (payload[at] | (payload[at + 1] << 8) |
      (payload[at + 2] << 16) | (payload[at + 3] << 24)) >>> 0;
    at += 4;
    if (len > MAX_SMALL_STRING_BYTES || at + len > payload.length) {
      return false;
    }
    try {
      UTF8.decode(payload.subarray(at, at + len));
    } catch {
      return false;
    }
    at += len;
  } else if (option !== 0) {
    return false;
  }
  if (at + 1 !== payload.length) return false;
  const flag = payload[at];
  return flag === 0 || flag === 1;
}
