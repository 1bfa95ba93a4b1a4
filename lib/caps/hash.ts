/**
 * The small hashes of the caps area: 64-bit FNV-1a and its folded 8-hex
 * digest (the "capabilities hash"), the scan-start helpers built on it, and
 * CRC-16/XMODEM for partitions.
 *
 * @module
 */

const FNV_OFFSET = 0xcbf29ce484222325n;
const FNV_PRIME = 0x100000001b3n;
const MASK64 = 0xffffffffffffffffn;
const encoder = new TextEncoder();

function bytesOf(input: string | Uint8Array): Uint8Array {
  return typeof input === "string" ? encoder.encode(input) : input;
}

/**
 * 64-bit FNV-1a over the UTF-8 bytes of a string (or over raw bytes).
 *
 * @param input The text or bytes.
 * @returns The 64-bit hash.
 *
 * @example
 * ```ts
 * import { fnv1aU64 } from "./hash.ts";
 * console.assert(fnv1aU64("") === 0xcbf29ce484222325n);
 * console.assert(fnv1aU64("gpu") === 0xd5235618fae1fad5n);
 * ```
 */
export function fnv1aU64(input: string | Uint8Array): bigint {
  let hash = FNV_OFFSET;
  for (const byte of bytesOf(input)) {
    hash = ((hash ^ BigInt(byte)) * FNV_PRIME) & MASK64;
  }
  return hash;
}

/**
 * The capabilities hash: FNV-1a 64, low 32 bits XOR high 32 bits, as 8
 * lowercase zero-padded hex digits.
 *
 * @param input The text (normally a canonical capability CSV).
 * @returns 8 hex digits.
 *
 * @example
 * ```ts
 * import { fnv1aXor8Hex } from "./hash.ts";
 * console.assert(fnv1aXor8Hex("") === "4fd0bfc1");
 * console.assert(fnv1aXor8Hex("cuda,gpu") === "c952a6c4");
 * ```
 */
export function fnv1aXor8Hex(input: string | Uint8Array): string {
  const hash = fnv1aU64(input);
  const folded = Number((hash ^ (hash >> 32n)) & 0xffffffffn);
  return folded.toString(16).padStart(8, "0");
}

/**
 * The scheduler's scan-start jitter: the hash truncated to its low 16 bits,
 * then modulo `modulus` (0 when `modulus` is 0).
 *
 * @param input The text (a worker instance id).
 * @param modulus The partition count.
 * @returns A value below `modulus`.
 *
 * @example
 * ```ts
 * import { fnv1aU16Mod } from "./hash.ts";
 * console.assert(fnv1aU16Mod("worker-a", 256) === 253);
 * console.assert(fnv1aU16Mod("worker-a", 0) === 0);
 * ```
 */
export function fnv1aU16Mod(input: string, modulus: number): number {
  if (modulus === 0) return 0;
  return Number(fnv1aU64(input) & 0xffffn) % modulus;
}

/**
 * The worker's direct-claim scan cursor seed: the full 64-bit hash modulo
 * `partitions` (0 when `partitions` is 0). It equals {@link fnv1aU16Mod}
 * only when `partitions` divides 65536.
 *
 * @param instanceId The worker instance id.
 * @param partitions The flow partition count.
 * @returns A value below `partitions`.
 *
 * @example
 * ```ts
 * import { scanCursorSeed } from "./hash.ts";
 * console.assert(scanCursorSeed("worker-a", 100) === 65);
 * ```
 */
export function scanCursorSeed(instanceId: string, partitions: number): number {
  if (partitions === 0) return 0;
  return Number(fnv1aU64(instanceId) % BigInt(partitions));
}

/**
 * CRC-16/XMODEM (polynomial 0x1021, init 0, no reflection, no final XOR).
 *
 * @param input The text (UTF-8) or bytes.
 * @returns The 16-bit checksum.
 *
 * @example
 * ```ts
 * import { crc16Xmodem } from "./hash.ts";
 * console.assert(crc16Xmodem("123456789") === 0x31c3);
 * ```
 */
export function crc16Xmodem(input: string | Uint8Array): number {
  let crc = 0;
  for (const byte of bytesOf(input)) {
    crc ^= byte << 8;
    for (let bit = 0; bit < 8; bit++) {
      crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
    }
  }
  return crc;
}
