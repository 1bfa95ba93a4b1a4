/**
 * Capability ingress validation, the canonical CSV and its hash, and the
 * routing predicate ("required ⊆ worker", exact and case-sensitive).
 *
 * Messages are byte-identical to the reference, including its Rust `Debug`
 * rendering of the offending token ({@link rustDebugString}).
 *
 * @module
 */

import { CapsError, CapsLimitError } from "./errors.ts";
import { fnv1aXor8Hex } from "./hash.ts";

/** Most distinct tokens in one capability set (inclusive). */
export const CAPS_MAX_TOKENS = 256;
/** Most UTF-8 bytes in one capability CSV (inclusive). */
export const CAPS_MAX_BYTES = 4096;

const encoder = new TextEncoder();
const FORBIDDEN_CHAR = /[\p{Cc}\p{White_Space}]/u;
const GRAPHEME_EXTEND = /^\p{Grapheme_Extend}$/u;
// Rust escapes every char whose category is Cc, Cf, Cs, Co, Cn, Zl, Zp or
// Zs (except the ASCII space).
const NOT_PRINTABLE = /^[\p{Cc}\p{Cf}\p{Cs}\p{Co}\p{Cn}\p{Zl}\p{Zp}\p{Zs}]$/u;

/**
 * Renders a string as Rust's `{:?}` does: double quotes; `\0 \t \r \n \\
 * \"` escaped by a backslash; grapheme-extending and non-printable
 * characters as `\u{hex}`; everything else as is.
 *
 * @param text The string.
 * @returns The quoted, escaped rendering.
 *
 * @example
 * ```ts
 * import { rustDebugString } from "./capabilities.ts";
 * console.assert(rustDebugString("a\tb") === '"a\\tb"');
 * console.assert(rustDebugString("x\u00a0y") === '"x\\u{a0}y"');
 * ```
 */
export function rustDebugString(text: string): string {
  let out = '"';
  for (const ch of text) {
    switch (ch) {
      case "\0":
        out += "\\0";
        continue;
      case "\t":
        out += "\\t";
        continue;
      case "\r":
        out += "\\r";
        continue;
      case "\n":
        out += "\\n";
        continue;
      case "\\":
        out += "\\\\";
        continue;
      case '"':
        out += '\\"';
        continue;
    }
    if (
      ch !== " " && (GRAPHEME_EXTEND.test(ch) || NOT_PRINTABLE.test(ch))
    ) {
      out += `\\u{${ch.codePointAt(0)!.toString(16)}}`;
    } else {
      out += ch;
    }
  }
  return out + '"';
}

/**
 * Compares two strings by code point (the order of their UTF-8 bytes), not
 * by UTF-16 code unit as `Array.prototype.sort` does.
 *
 * @param a One string.
 * @param b The other.
 * @returns Negative, zero or positive.
 *
 * @example
 * ```ts
 * import { compareCodePoints } from "./capabilities.ts";
 * // U+FF61 sorts before U+1F600 by code point, after it by UTF-16 unit.
 * console.assert(compareCodePoints("\uff61", "\u{1f600}") < 0);
 * ```
 */
export function compareCodePoints(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x === y) continue;
    // Two different units: surrogates (0xD800-0xDFFF) stand for code points
    // above every BMP unit, so lift them above 0xFFFF before comparing.
    const xs = x >= 0xd800 && x <= 0xdfff ? x + 0x10000 : x;
    const ys = y >= 0xd800 && y <= 0xdfff ? y + 0x10000 : y;
    return xs - ys;
  }
  return a.length - b.length;
}

/**
 * Sorts (code-point order) and de-duplicates strings.
 *
 * @param values The strings.
 * @returns A new sorted array without duplicates.
 *
 * @example
 * ```ts
 * import { sortedUnique } from "./capabilities.ts";
 * console.assert(sortedUnique(["gpu", "cuda", "gpu"]).join() === "cuda,gpu");
 * ```
 */
export function sortedUnique(values: Iterable<string>): string[] {
  return [...new Set(values)].sort(compareCodePoints);
}

/** A validated capability set. */
export interface CapabilitySet {
  /** The distinct tokens in code-point order. */
  readonly tokens: readonly string[];
  /** The tokens joined by `,` (empty for no capabilities). */
  readonly csv: string;
  /** `fnv1aXor8Hex(csv)`: `4fd0bfc1` for no capabilities. */
  readonly hash: string;
}

function configError(message: string): CapsError {
  return new CapsError("invalid_capability", message, {
    context: "worker_config",
    field: "capabilities",
  });
}

/**
 * Checks one token against the ingress rules; returns the reference's
 * message for the first rule it breaks, or `undefined` when it is valid.
 *
 * @param token The token.
 * @returns The message, or `undefined`.
 *
 * @example
 * ```ts
 * import { capabilityTokenProblem } from "./capabilities.ts";
 * console.assert(capabilityTokenProblem("gpu") === undefined);
 * console.assert(capabilityTokenProblem("") === "capability token must not be empty");
 * ```
 */
export function capabilityTokenProblem(token: string): string | undefined {
  if (token.length === 0) return "capability token must not be empty";
  if (token.includes(",")) {
    return `capability token may not contain ',' (CSV delimiter): ${
      rustDebugString(token)
    }`;
  }
  if (FORBIDDEN_CHAR.test(token)) {
    return `capability token must not contain whitespace or control characters: ${
      rustDebugString(token)
    }`;
  }
  return undefined;
}

/**
 * Validates a worker's capabilities and computes the canonical CSV and its
 * hash, in the reference's order: each token in the order given (the first
 * bad one stops), then de-duplicate and sort by code point, then the token
 * count, then the CSV's UTF-8 length.
 *
 * @param capabilities The tokens as configured.
 * @returns The canonical set.
 * @throws {CapsError} `invalid_capability` for a bad token.
 * @throws {CapsLimitError} `caps_limit_exceeded` over 256 tokens or 4096 bytes.
 *
 * @example
 * ```ts
 * import { validateCapabilities } from "./capabilities.ts";
 * const set = validateCapabilities(["gpu", "cuda", "gpu"]);
 * console.assert(set.csv === "cuda,gpu" && set.hash === "c952a6c4");
 * ```
 */
export function validateCapabilities(
  capabilities: readonly string[],
): CapabilitySet {
  for (const token of capabilities) {
    const problem = capabilityTokenProblem(token);
    if (problem !== undefined) throw configError(problem);
  }
  const tokens = sortedUnique(capabilities.filter((t) => t.length > 0));
  if (tokens.length > CAPS_MAX_TOKENS) {
    throw new CapsLimitError(
      "CAPS_MAX_TOKENS",
      CAPS_MAX_TOKENS,
      tokens.length,
      `capability set exceeds CAPS_MAX_TOKENS (${CAPS_MAX_TOKENS}): ${tokens.length}`,
      { context: "worker_config", field: "capabilities" },
    );
  }
  const csv = tokens.join(",");
  const bytes = encoder.encode(csv).length;
  if (bytes > CAPS_MAX_BYTES) {
    throw new CapsLimitError(
      "CAPS_MAX_BYTES",
      CAPS_MAX_BYTES,
      bytes,
      `capability CSV exceeds CAPS_MAX_BYTES (${CAPS_MAX_BYTES}): ${bytes}`,
      { context: "worker_config", field: "capabilities" },
    );
  }
  return { tokens, csv, hash: fnv1aXor8Hex(csv) };
}

/**
 * Splits a capability CSV into its tokens, dropping empty ones (so `""` and
 * `",,,"` are the empty requirement).
 *
 * @param csv The CSV.
 * @returns The non-empty tokens, in input order.
 *
 * @example
 * ```ts
 * import { parseCapabilityCsv } from "./capabilities.ts";
 * console.assert(parseCapabilityCsv(",gpu,,cuda,").length === 2);
 * ```
 */
export function parseCapabilityCsv(csv: string): string[] {
  return csv.split(",").filter((t) => t.length > 0);
}

/**
 * The required tokens a worker lacks, sorted by code point (empty when the
 * worker is capable).
 *
 * @param required The required CSV (empty tokens ignored).
 * @param worker The worker's tokens (a CSV, or any iterable of tokens).
 * @returns The missing tokens.
 *
 * @example
 * ```ts
 * import { missingCapabilities } from "./capabilities.ts";
 * console.assert(missingCapabilities("gpu,cuda", ["gpu"]).join() === "cuda");
 * ```
 */
export function missingCapabilities(
  required: string,
  worker: string | Iterable<string>,
): string[] {
  const have = new Set(
    typeof worker === "string" ? parseCapabilityCsv(worker) : worker,
  );
  return sortedUnique(parseCapabilityCsv(required).filter((t) => !have.has(t)));
}

/**
 * The routing predicate: every required token is among the worker's, exact
 * and case-sensitive. Empty tokens in `required` are ignored.
 *
 * @param required The required CSV.
 * @param worker The worker's tokens (a CSV, or any iterable of tokens).
 * @returns Whether the worker may run the execution.
 *
 * @example
 * ```ts
 * import { capabilitiesSatisfy } from "./capabilities.ts";
 * console.assert(capabilitiesSatisfy("gpu", ["gpu", "cuda"]));
 * console.assert(!capabilitiesSatisfy("GPU", ["gpu"]));
 * console.assert(capabilitiesSatisfy(",,,", []));
 * ```
 */
export function capabilitiesSatisfy(
  required: string,
  worker: string | Iterable<string>,
): boolean {
  return missingCapabilities(required, worker).length === 0;
}

/**
 * The canonical lanes CSV: distinct lanes in code-point order joined by
 * `,` (lanes are not checked for commas, as in the reference).
 *
 * @param lanes The lanes.
 * @returns The CSV.
 *
 * @example
 * ```ts
 * import { lanesCsv } from "./capabilities.ts";
 * console.assert(lanesCsv(["b", "a", "b"]) === "a,b");
 * ```
 */
export function lanesCsv(lanes: readonly string[]): string {
  return sortedUnique(lanes).join(",");
}
