/**
 * The redaction digest: a deterministic correlation token `(length,
 * 64-bit hash)` that stands in for a toxic value (a secret, a path, an
 * identity) in telemetry and output. BLAKE3 in derive-key mode with the
 * context `gossip/worker/v1/coordination-telemetry` over
 * `label ‖ 0x00 ‖ u64le(len) ‖ payload`; the hash is the first 8 output
 * bytes read little-endian. Byte-compatible with the reference.
 *
 * It is not a secrecy mechanism: the context is public, so a low-entropy
 * value can be brute-forced by someone holding the digest.
 *
 * @module
 */

import { blake3 } from "@noble/hashes/blake3.js";
import { CUSTOM_INSPECT } from "./secret.ts";

/** The derive-key context of the digest. */
export const COORDINATION_TELEMETRY_CONTEXT =
  "gossip/worker/v1/coordination-telemetry";

const utf8 = new TextEncoder();
const CONTEXT = utf8.encode(COORDINATION_TELEMETRY_CONTEXT);
/** The initialised derive-key hasher; clones skip re-deriving the context key. */
const BASE = blake3.create({ context: CONTEXT });

/**
 * `(len, hash64)` of one labelled value. Strings render as
 * `len=<n>,hash=<16 hex>`.
 *
 * @example
 * ```ts
 * import { RedactedDigest } from "./digest.ts";
 * console.assert(RedactedDigest.text("shard_id", "test").toString() === "len=4,hash=1e961241f14ef9dd");
 * ```
 */
export class RedactedDigest {
  /** The payload's byte length. */
  readonly len: number;
  /** The 64-bit hash. */
  readonly hash64: bigint;

  private constructor(len: number, hash64: bigint) {
    this.len = len;
    this.hash64 = hash64;
  }

  /**
   * The digest of bytes under a field label.
   *
   * @param label The field label (e.g. `object_path`).
   * @param payload The value.
   * @returns The digest.
   */
  static bytes(label: string, payload: Uint8Array): RedactedDigest {
    const l = utf8.encode(label);
    const msg = new Uint8Array(l.length + 9 + payload.length);
    msg.set(l, 0);
    const view = new DataView(msg.buffer);
    view.setBigUint64(l.length + 1, BigInt(payload.length), true);
    msg.set(payload, l.length + 9);
    const h = BASE.clone();
    h.update(msg);
    const out = h.digest();
    const hash64 = new DataView(out.buffer, out.byteOffset, 8).getBigUint64(
      0,
      true,
    );
    return new RedactedDigest(payload.length, hash64);
  }

  /**
   * The digest of a text's UTF-8 bytes under a field label.
   *
   * @param label The field label.
   * @param text The value.
   * @returns The digest.
   */
  static text(label: string, text: string): RedactedDigest {
    return RedactedDigest.bytes(label, utf8.encode(text));
  }

  /** The hash as 16 lowercase hex digits. */
  get hashHex(): string {
    return this.hash64.toString(16).padStart(16, "0");
  }

  /** `len=<n>,hash=<16 hex>`. */
  toString(): string {
    return `len=${this.len},hash=${this.hashHex}`;
  }

  /** The same as {@link RedactedDigest.toString}. */
  toJSON(): string {
    return this.toString();
  }

  /** `RedactedDigest(len=…,hash=…)`. */
  [CUSTOM_INSPECT](): string {
    return `RedactedDigest(${this.toString()})`;
  }

  /** Whether two digests are equal. */
  equals(other: RedactedDigest): boolean {
    return this.len === other.len && this.hash64 === other.hash64;
  }
}
