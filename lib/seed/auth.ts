/**
 * The cluster token and the HMAC challenge-response that proves knowledge
 * of it. The token never crosses the wire: each side sends
 * `HMAC-SHA-256(token, label ‖ binding ‖ joinerNonce ‖ seedNonce)` with its
 * own label, where `binding` is the SHA-256 of the seed's TLS certificate
 * (the "tls-server-end-point" channel binding). A man in the middle
 * terminates TLS with another certificate, so the proofs it relays do not
 * verify. Digests are compared in constant time.
 *
 * @module
 */

import { hmac } from "@noble/hashes/hmac.js";
import { sha256 } from "@noble/hashes/sha2.js";
import { SeedError } from "./errors.ts";

/** Token length in bytes. */
export const TOKEN_BYTES = 32;
/** Nonce length in bytes. */
export const NONCE_BYTES = 32;

const PREFIX = "loomtok1.";

/**
 * Formats a token the way `join --token-file` and `LOOM_CLUSTER_TOKEN`
 * accept it: `loomtok1.` followed by base64url without padding.
 *
 * @param token 32 bytes.
 * @returns The printable token.
 *
 * @example
 * ```ts
 * import { formatToken, parseToken } from "./auth.ts";
 * const t = new Uint8Array(32).fill(7);
 * console.assert(parseToken(formatToken(t)).every((b) => b === 7));
 * ```
 */
export function formatToken(token: Uint8Array): string {
  if (token.length !== TOKEN_BYTES) {
    throw new SeedError("invalid_token", `a token has ${TOKEN_BYTES} bytes`);
  }
  let bin = "";
  for (const b of token) bin += String.fromCharCode(b);
  return PREFIX +
    btoa(bin).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
}

/**
 * Parses a printed token (surrounding whitespace ignored).
 *
 * @param text The printed token.
 * @returns 32 bytes.
 * @throws {SeedError} `invalid_token` (the message never repeats the input).
 *
 * @example
 * ```ts
 * import { parseToken } from "./auth.ts";
 * let code = "";
 * try { parseToken("nope"); } catch (e) { code = (e as { code: string }).code; }
 * console.assert(code === "invalid_token");
 * ```
 */
export function parseToken(text: string): Uint8Array {
  const trimmed = text.trim();
  if (!trimmed.startsWith(PREFIX)) {
    throw new SeedError(
      "invalid_token",
      `a token starts with "${PREFIX}" (as printed by the seed)`,
    );
  }
  const body = trimmed.slice(PREFIX.length);
  if (!/^[A-Za-z0-9_-]{43}$/.test(body)) {
    throw new SeedError(
      "invalid_token",
      "a token is 43 base64url characters after its prefix",
    );
  }
  const bin = atob(body.replaceAll("-", "+").replaceAll("_", "/") + "=");
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  if (out.length !== TOKEN_BYTES) {
    throw new SeedError("invalid_token", `a token has ${TOKEN_BYTES} bytes`);
  }
  return out;
}

/**
 * Compares two byte strings in time that depends only on their lengths.
 *
 * @param a First.
 * @param b Second.
 * @returns Whether they are equal.
 *
 * @example
 * ```ts
 * import { constantTimeEqual } from "./auth.ts";
 * console.assert(constantTimeEqual(new Uint8Array([1]), new Uint8Array([1])));
 * console.assert(!constantTimeEqual(new Uint8Array([1]), new Uint8Array([1, 2])));
 * ```
 */
export function constantTimeEqual(a: Uint8Array, b: Uint8Array): boolean {
  const n = Math.max(a.length, b.length);
  let diff = a.length ^ b.length;
  for (let i = 0; i < n; i++) {
    diff |= (a[i % (a.length || 1)] ?? 0) ^ (b[i % (b.length || 1)] ?? 0);
  }
  return diff === 0;
}

const enc = new TextEncoder();

/** Which side a proof comes from. */
export type ProofRole = "seed" | "joiner";

/** Inputs bound into a proof. */
export interface ProofInput {
  /** SHA-256 of the seed's TLS certificate DER. */
  binding: Uint8Array;
  /** The joiner's Hello nonce. */
  joinerNonce: Uint8Array;
  /** The seed's Challenge nonce. */
  seedNonce: Uint8Array;
  /** The joiner's node id. */
  nodeId: string;
}

/**
 * Computes a proof of the token for one side.
 *
 * @param token The cluster token.
 * @param role `seed` or `joiner` (distinct labels, so a proof cannot be reflected).
 * @param input Channel binding, nonces and node id.
 * @returns A 32-byte digest.
 *
 * @example
 * ```ts
 * import { computeProof } from "./auth.ts";
 * const input = { binding: new Uint8Array(32), joinerNonce: new Uint8Array(32), seedNonce: new Uint8Array(32), nodeId: "n1" };
 * const t = new Uint8Array(32);
 * console.assert(computeProof(t, "seed", input).length === 32);
 * ```
 */
export function computeProof(
  token: Uint8Array,
  role: ProofRole,
  input: ProofInput,
): Uint8Array {
  const label = enc.encode(`loom-seed/1 ${role} proof`);
  const node = enc.encode(input.nodeId);
  const parts = [
    label,
    input.binding,
    input.joinerNonce,
    input.seedNonce,
    node,
  ];
  let len = 0;
  for (const p of parts) len += 4 + p.length;
  const msg = new Uint8Array(len);
  const view = new DataView(msg.buffer);
  let off = 0;
  for (const p of parts) {
    view.setUint32(off, p.length, false);
    msg.set(p, off + 4);
    off += 4 + p.length;
  }
  return hmac(sha256, token, msg);
}

/**
 * Checks a received proof in constant time.
 *
 * @param token The cluster token.
 * @param role The role of the side that made the proof.
 * @param input Channel binding, nonces and node id.
 * @param proof The received proof.
 * @returns Whether it is valid.
 *
 * @example
 * ```ts
 * import { computeProof, verifyProof } from "./auth.ts";
 * const input = { binding: new Uint8Array(32), joinerNonce: new Uint8Array(32), seedNonce: new Uint8Array(32), nodeId: "n1" };
 * const t = new Uint8Array(32).fill(1);
 * console.assert(verifyProof(t, "joiner", input, computeProof(t, "joiner", input)));
 * console.assert(!verifyProof(t, "seed", input, computeProof(t, "joiner", input)));
 * ```
 */
export function verifyProof(
  token: Uint8Array,
  role: ProofRole,
  input: ProofInput,
  proof: Uint8Array,
): boolean {
  return constantTimeEqual(computeProof(token, role, input), proof);
}

/**
 * SHA-256 of bytes (used for the channel binding).
 *
 * @param bytes Input.
 * @returns 32 bytes.
 *
 * @example
 * ```ts
 * import { sha256Digest } from "./auth.ts";
 * console.assert(sha256Digest(new Uint8Array()).length === 32);
 * ```
 */
export function sha256Digest(bytes: Uint8Array): Uint8Array {
  return sha256(bytes);
}
