/**
 * Handshake decisions as pure functions: capability sanitising, version
 * choice, capability negotiation, the router's ordered `Hello` checks, the
 * worker's `Welcome` checks, and error-message redaction.
 *
 * @module
 */

import { type Compressor, compressorSupports } from "./compression.ts";
import type {
  Capabilities,
  CompressionAlgo,
  HandshakeReject,
  ProtocolVersion,
  RouterWelcome,
  SupportedVersions,
  WorkerHello,
} from "./types.ts";

/**
 * Drops `"unknown"` and every algorithm `compressor` cannot handle from a
 * compression list (keeping order, dropping repeats), then appends `"none"`
 * when it is missing. Applied to our own offer only, never to the peer's.
 *
 * @param list The configured preference list, best first.
 * @param compressor The compressor available locally.
 * @returns The sanitised list.
 *
 * @example
 * ```ts
 * import { sanitizeCompressionList } from "./negotiate.ts";
 * import { noCompression } from "./compression.ts";
 * const list = sanitizeCompressionList(["zstd", "unknown"], noCompression);
 * console.assert(list.join() === "none");
 * ```
 */
export function sanitizeCompressionList(
  list: readonly CompressionAlgo[],
  compressor: Compressor | undefined,
): CompressionAlgo[] {
  const out: CompressionAlgo[] = [];
  for (const algo of list) {
    if (algo === "unknown" || out.includes(algo)) continue;
    if (compressorSupports(compressor, algo)) out.push(algo);
  }
  if (!out.includes("none")) out.push("none");
  return out;
}

/**
 * Returns a copy of `caps` whose compression list is sanitised with
 * {@link sanitizeCompressionList}.
 *
 * @param caps Our own capabilities.
 * @param compressor The compressor available locally.
 * @returns The sanitised capabilities.
 *
 * @example
 * ```ts
 * import { sanitizeCapabilities } from "./negotiate.ts";
 * const caps = sanitizeCapabilities({
 *   max_frame_len: 1024, max_packet_len: 4096, supported_compression: [],
 *   supports_cancel: true, supports_chunking: true,
 * }, undefined);
 * console.assert(caps.supported_compression[0] === "none");
 * ```
 */
export function sanitizeCapabilities(
  caps: Capabilities,
  compressor: Compressor | undefined,
): Capabilities {
  return {
    max_frame_len: caps.max_frame_len,
    max_packet_len: caps.max_packet_len,
    supported_compression: sanitizeCompressionList(
      caps.supported_compression,
      compressor,
    ),
    supports_cancel: caps.supports_cancel,
    supports_chunking: caps.supports_chunking,
  };
}

/**
 * Orders two versions by major, then minor.
 *
 * @param a The first version.
 * @param b The second version.
 * @returns A negative number, zero, or a positive number.
 *
 * @example
 * ```ts
 * import { compareVersions } from "./negotiate.ts";
 * console.assert(compareVersions({ major: 3, minor: 1 }, { major: 3, minor: 0 }) > 0);
 * ```
 */
export function compareVersions(
  a: ProtocolVersion,
  b: ProtocolVersion,
): number {
  return a.major !== b.major ? a.major - b.major : a.minor - b.minor;
}

/**
 * Chooses the highest version both ranges contain.
 *
 * @param router The router's range.
 * @param worker The worker's range.
 * @returns The chosen version, or undefined when the ranges do not overlap.
 *
 * @example
 * ```ts
 * import { chooseVersion } from "./negotiate.ts";
 * const v = chooseVersion(
 *   { min: { major: 3, minor: 0 }, max: { major: 3, minor: 2 } },
 *   { min: { major: 3, minor: 1 }, max: { major: 4, minor: 0 } },
 * );
 * console.assert(v?.major === 3 && v.minor === 2);
 * ```
 */
export function chooseVersion(
  router: SupportedVersions,
  worker: SupportedVersions,
): ProtocolVersion | undefined {
  const lo = compareVersions(router.min, worker.min) >= 0
    ? router.min
    : worker.min;
  const hi = compareVersions(router.max, worker.max) <= 0
    ? router.max
    : worker.max;
  if (compareVersions(lo, hi) > 0) return undefined;
  return { major: hi.major, minor: hi.minor };
}

/**
 * Negotiates capabilities: the minimum of each limit, the AND of each flag,
 * and the router's compression list in the router's order, keeping entries
 * that are not `"unknown"` and that the worker offered anywhere in its list.
 *
 * @param router The router's sanitised capabilities.
 * @param worker The worker's capabilities as received (not sanitised).
 * @returns The chosen capabilities, or undefined when no compression
 * algorithm is common.
 *
 * @example
 * ```ts
 * import { negotiateCapabilities } from "./negotiate.ts";
 * const chosen = negotiateCapabilities(
 *   { max_frame_len: 100, max_packet_len: 900, supported_compression: ["zstd", "none"], supports_cancel: true, supports_chunking: true },
 *   { max_frame_len: 200, max_packet_len: 800, supported_compression: ["none", "zstd"], supports_cancel: false, supports_chunking: true },
 * );
 * console.assert(chosen?.max_frame_len === 100 && chosen.max_packet_len === 800);
 * console.assert(chosen?.supported_compression.join() === "zstd,none" && !chosen.supports_cancel);
 * ```
 */
export function negotiateCapabilities(
  router: Capabilities,
  worker: Capabilities,
): Capabilities | undefined {
  const compression = router.supported_compression.filter((algo) =>
    algo !== "unknown" && worker.supported_compression.includes(algo)
  );
  if (compression.length === 0) return undefined;
  return {
    max_frame_len: Math.min(router.max_frame_len, worker.max_frame_len),
    max_packet_len: Math.min(router.max_packet_len, worker.max_packet_len),
    supported_compression: compression,
    supports_cancel: router.supports_cancel && worker.supports_cancel,
    supports_chunking: router.supports_chunking && worker.supports_chunking,
  };
}

/**
 * Compares two strings in time that depends only on their lengths, not on
 * where they differ (pure JS, over their UTF-8 bytes).
 *
 * @param a The first string.
 * @param b The second string.
 * @returns True when the strings are equal.
 *
 * @example
 * ```ts
 * import { constantTimeEqual } from "./negotiate.ts";
 * console.assert(constantTimeEqual("s3cret", "s3cret"));
 * console.assert(!constantTimeEqual("s3cret", "s3creT"));
 * ```
 */
export function constantTimeEqual(a: string, b: string): boolean {
  const x = ENCODER.encode(a);
  const y = ENCODER.encode(b);
  const n = Math.max(x.length, y.length);
  let diff = x.length ^ y.length;
  for (let i = 0; i < n; i++) {
    diff |= (x[i] ?? 0) ^ (y[i] ?? 0);
  }
  return diff === 0;
}

const ENCODER = new TextEncoder();

/** What the router decided about a `Hello` before the admission step. */
export type HelloVerdict =
  | {
    readonly ok: true;
    readonly version: ProtocolVersion;
    readonly capabilities: Capabilities;
  }
  | { readonly ok: false; readonly reject: HandshakeReject };

/** Options for {@link evaluateHello}. */
export interface EvaluateHelloOptions {
  /** The router's version range. */
  supportedVersions: SupportedVersions;
  /** The router's sanitised capabilities. */
  capabilities: Capabilities;
  /** The expected token; null or undefined means any token is accepted. */
  expectedAuthToken?: string | null;
}

/**
 * Runs the router's checks on a `Hello`, in the reference's order: zero
 * limits, auth token (constant time), version overlap, compression
 * intersection. The admission hook comes after a successful verdict.
 *
 * @param hello The worker's `Hello`.
 * @param options The router's configuration.
 * @returns The chosen version and capabilities, or the `Reject` to send.
 *
 * @example
 * ```ts
 * import { evaluateHello } from "./negotiate.ts";
 * const caps = { max_frame_len: 65536, max_packet_len: 65536, supported_compression: ["none" as const], supports_cancel: true, supports_chunking: true };
 * const versions = { min: { major: 3, minor: 0 }, max: { major: 3, minor: 0 } };
 * const hello = { shard_id: 1, auth_token: "nope", supported_versions: versions, capabilities: caps, cached_index_info: null, worker_build: null };
 * const verdict = evaluateHello(hello, { supportedVersions: versions, capabilities: caps, expectedAuthToken: "yes" });
 * console.assert(!verdict.ok && verdict.reject.code === "unauthorized");
 * ```
 */
export function evaluateHello(
  hello: WorkerHello,
  options: EvaluateHelloOptions,
): HelloVerdict {
  const { max_frame_len: frame, max_packet_len: packet } = hello.capabilities;
  if (frame === 0 || packet === 0) {
    return reject(
      "invalid_request",
      `invalid worker capability limits: max_frame_len=${frame}, max_packet_len=${packet}`,
    );
  }
  const expected = options.expectedAuthToken;
  if (expected !== null && expected !== undefined) {
    const token = hello.auth_token;
    // Compare even when the token is missing so timing does not reveal it.
    const same = constantTimeEqual(token ?? "", expected);
    if (token === null || !same) {
      return reject("unauthorized", "authentication failed");
    }
  }
  const version = chooseVersion(
    options.supportedVersions,
    hello.supported_versions,
  );
  if (version === undefined) {
    return reject("unsupported_version", "unsupported protocol version");
  }
  const capabilities = negotiateCapabilities(
    options.capabilities,
    hello.capabilities,
  );
  if (capabilities === undefined) {
    return reject(
      "invalid_request",
      "handshake failed: no common compression algorithm",
    );
  }
  return { ok: true, version, capabilities };
}

function reject(code: HandshakeReject["code"], message: string): HelloVerdict {
  return { ok: false, reject: { code, message } };
}

/**
 * The worker's checks on a `Welcome` (the reference worker checks none of
 * these; we do, and close with `handshake_failed` on a mismatch): the shard
 * id is echoed, the chosen limits are non-zero and no larger than offered,
 * and the chosen version is inside the offered range.
 *
 * @param hello The `Hello` we sent.
 * @param welcome The `Welcome` received.
 * @returns A description of the first problem, or undefined when it is fine.
 *
 * @example
 * ```ts
 * import { checkWelcome } from "./negotiate.ts";
 * const caps = { max_frame_len: 1024, max_packet_len: 1024, supported_compression: ["none" as const], supports_cancel: true, supports_chunking: true };
 * const v = { major: 3, minor: 0 };
 * const hello = { shard_id: 1, auth_token: null, supported_versions: { min: v, max: v }, capabilities: caps, cached_index_info: null, worker_build: null };
 * const welcome = { worker_id: 1, shard_id: 2, revision: 0, chosen_version: v, chosen_capabilities: caps };
 * console.assert(checkWelcome(hello, welcome) === "welcome shard mismatch: expected 1, got 2");
 * ```
 */
export function checkWelcome(
  hello: WorkerHello,
  welcome: RouterWelcome,
): string | undefined {
  if (welcome.shard_id !== hello.shard_id) {
    return `welcome shard mismatch: expected ${hello.shard_id}, got ${welcome.shard_id}`;
  }
  const chosen = welcome.chosen_capabilities;
  const offer = hello.capabilities;
  if (
    chosen.max_frame_len === 0 || chosen.max_packet_len === 0 ||
    chosen.max_frame_len > offer.max_frame_len ||
    chosen.max_packet_len > offer.max_packet_len
  ) {
    return `welcome chose invalid limits: max_frame_len=${chosen.max_frame_len}, max_packet_len=${chosen.max_packet_len}`;
  }
  const v = welcome.chosen_version;
  const range = hello.supported_versions;
  if (
    compareVersions(v, range.min) < 0 || compareVersions(v, range.max) > 0
  ) {
    return `welcome chose an unsupported version ${v.major}.${v.minor}`;
  }
  return undefined;
}

const SANITIZE_TRIGGERS = [
  "invalid type:",
  "invalid value:",
  "unknown field",
  "unknown variant",
];

/**
 * Redacts user-controlled values from a decoder-style error message, like
 * the reference: only messages containing `invalid type:`, `invalid value:`,
 * `unknown field` or `unknown variant` are touched; the contents of every
 * double-quoted substring and every back-ticked segment (except a
 * `missing field` name) become `<redacted>`.
 *
 * @param message The message to clean.
 * @returns The redacted message.
 *
 * @example
 * ```ts
 * import { sanitizeErrorMessage } from "./negotiate.ts";
 * const out = sanitizeErrorMessage('invalid type: string "hunter2", expected u32');
 * console.assert(out === 'invalid type: string "<redacted>", expected u32');
 * ```
 */
export function sanitizeErrorMessage(message: string): string {
  if (!SANITIZE_TRIGGERS.some((t) => message.includes(t))) return message;
  const quoted = message.replace(/"[^"]*"/g, '"<redacted>"');
  return quoted.replace(
    /`[^`]*`/g,
    (segment: string, offset: number, whole: string): string =>
      whole.slice(0, offset).endsWith("missing field ")
        ? segment
        : "`<redacted>`",
  );
}
