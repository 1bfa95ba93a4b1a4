/**
 * The scan engine, pure: one item's bytes in, findings out. Per chunk, the
 * {@link Prefilter} selects candidate rules in one pass; only those rules'
 * regexes run. Entropy thresholds and allowlists (global and per rule) drop
 * matches. Base64, hex and percent-encoded spans are decoded and rescanned
 * up to the decode depth; a finding in decoded text points at the encoded
 * span of the original item.
 *
 * Text is handled as one character per byte (Latin-1), so string offsets
 * are byte offsets.
 *
 * @module
 */

import { Prefilter } from "./anchors.ts";
import type { AnchorMode } from "./config.ts";
import {
  type Allowlist,
  type Rule,
  type RuleSet,
  shannonEntropy,
} from "./rules.ts";

/** The decode depth used when none is configured. */
export const DEFAULT_DECODE_DEPTH = 2;

/** Encodings the engine decodes. */
export type SpanEncoding = "base64" | "hex" | "percent";

/** One finding in one item. */
export interface EngineFinding {
  /** Rule id. */
  readonly ruleId: string;
  /** Index of the rule in the rule set. */
  readonly ruleIndex: number;
  /** Rule description. */
  readonly description: string;
  /** Byte offset of the span in the item (the encoded span when decoded). */
  readonly start: number;
  /** End byte offset (exclusive). */
  readonly end: number;
  /** 1-based line of `start`. */
  readonly line: number;
  /** 1-based byte column of `start`. */
  readonly column: number;
  /** The raw secret bytes: keep in memory only; output a digest. */
  readonly secret: Uint8Array;
  /** Shannon entropy of the secret. */
  readonly entropy: number;
  /** The decodings that revealed it, outermost first (empty: plain text). */
  readonly encodings: readonly SpanEncoding[];
}

/** Options for {@link ScanEngine}. */
export interface ScanEngineOptions {
  /** The rules. */
  readonly rules: RuleSet;
  /** Prefilter anchors. */
  readonly anchorMode: AnchorMode;
  /** Decode depth (0: no decoding). @default {2} */
  readonly decodeDepth?: number;
}

const latin1 = new TextDecoder("latin1");
const ascii = new TextDecoder("utf-8");

/**
 * Bytes as a one-char-per-byte string. Pure ASCII (the common case) goes
 * through the native UTF-8 decoder, which is much faster than Latin-1 and
 * gives the same string.
 *
 * @param bytes The bytes.
 * @returns The string (`length === bytes.length`).
 *
 * @example
 * ```ts
 * import { bytesToText } from "./engine.ts";
 * console.assert(bytesToText(new Uint8Array([0x41, 0xe9])).length === 2);
 * ```
 */
export function bytesToText(bytes: Uint8Array): string {
  return isAscii(bytes) ? ascii.decode(bytes) : latin1.decode(bytes);
}

/** Whether every byte is below 0x80, four bytes at a time where aligned. */
function isAscii(bytes: Uint8Array): boolean {
  const n = bytes.length;
  let high = 0;
  let i = 0;
  const lead = Math.min(n, (4 - (bytes.byteOffset & 3)) & 3);
  for (; i < lead; i++) high |= bytes[i];
  const words = (n - i) >> 2;
  if (words > 0) {
    const view = new Uint32Array(bytes.buffer, bytes.byteOffset + i, words);
    let w = 0;
    for (let k = 0; k < words; k++) w |= view[k];
    if ((w & 0x80808080) !== 0) return false;
    i += words * 4;
  }
  for (; i < n; i++) high |= bytes[i];
  return high < 0x80;
}

function reTest(re: RegExp, text: string): boolean {
  re.lastIndex = 0;
  return re.test(text);
}

function lineAround(text: string, start: number, end: number): string {
  const a = text.lastIndexOf("\n", start - 1) + 1;
  const b = text.indexOf("\n", end);
  return text.slice(a, b < 0 ? text.length : b);
}

function allowed(
  list: Allowlist,
  secret: string,
  match: string,
  line: string,
  path: string,
): boolean {
  const target = list.regexTarget === "match"
    ? match
    : list.regexTarget === "line"
    ? line
    : secret;
  const lower = secret.toLowerCase();
  const checks: boolean[] = [];
  if (list.regexes.length > 0) {
    checks.push(list.regexes.some((re) => reTest(re, target)));
  }
  if (list.paths.length > 0) {
    checks.push(list.paths.some((re) => reTest(re, path)));
  }
  if (list.stopwords.length > 0) {
    checks.push(list.stopwords.some((w) => lower.includes(w)));
  }
  if (checks.length === 0) return false;
  return list.condition === "AND"
    ? checks.every((c) => c)
    : checks.some((c) => c);
}

/** An encoded span found in an item. */
export interface EncodedSpan {
  /** Offset in the bytes. */
  readonly start: number;
  /** End (exclusive). */
  readonly end: number;
  /** The encoding. */
  readonly encoding: SpanEncoding;
  /** The decoded bytes. */
  readonly decoded: Uint8Array;
}

/** Character classes for the span scanner: 1 base64, 2 alphanumeric, 4 hex. */
const CLASS = new Uint8Array(256);
for (let c = 0; c < 256; c++) {
  const ch = String.fromCharCode(c);
  if (/[A-Za-z0-9+/_-]/.test(ch)) CLASS[c] |= 1;
  if (/[A-Za-z0-9]/.test(ch)) CLASS[c] |= 2;
  if (/[0-9a-fA-F]/.test(ch)) CLASS[c] |= 4;
}
const URL_BYTE = new Uint8Array(256);
for (let c = 0x21; c < 0x7f; c++) URL_BYTE[c] = 1;
for (const c of [0x22, 0x27, 0x3c, 0x3e, 0x60, 0x5c]) URL_BYTE[c] = 0;

function printableBytes(bytes: Uint8Array, minLength = 8): boolean {
  if (bytes.length < minLength) return false;
  let good = 0;
  for (const c of bytes) {
    if ((c >= 0x20 && c < 0x7f) || c === 9 || c === 10 || c === 13) good++;
  }
  return good >= bytes.length * 0.9;
}

function hexValue(c: number): number {
  return c <= 0x39 ? c - 0x30 : (c | 0x20) - 0x57;
}

function decodeHex(bytes: Uint8Array, start: number, end: number): Uint8Array {
  const out = new Uint8Array((end - start) >> 1);
  for (let i = 0; i < out.length; i++) {
    out[i] = (hexValue(bytes[start + 2 * i]) << 4) |
      hexValue(bytes[start + 2 * i + 1]);
  }
  return out;
}

const B64_VALUE = new Int16Array(256).fill(-1);
for (let i = 0; i < 64; i++) {
  B64_VALUE[
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
      .charCodeAt(i)
  ] = i;
}
B64_VALUE[0x2d] = 62; // '-' (URL-safe)
B64_VALUE[0x5f] = 63; // '_' (URL-safe)

/** Decodes base64 (standard or URL-safe, not mixed); null when invalid. */
function decodeBase64(
  bytes: Uint8Array,
  start: number,
  end: number,
): Uint8Array | null {
  let std = false;
  let url = false;
  let n = end;
  while (n > start && bytes[n - 1] === 0x3d) n--;
  const len = n - start;
  if (len % 4 === 1) return null;
  const out = new Uint8Array((len * 3) >> 2);
  let acc = 0;
  let bits = 0;
  let o = 0;
  for (let i = start; i < n; i++) {
    const c = bytes[i];
    if (c === 0x2b || c === 0x2f) std = true;
    else if (c === 0x2d || c === 0x5f) url = true;
    const v = B64_VALUE[c];
    if (v < 0) return null;
    acc = (acc << 6) | v;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[o++] = (acc >> bits) & 0xff;
    }
  }
  if (std && url) return null;
  return out.subarray(0, o);
}

/** Printable-byte table: 0x20-0x7e, tab, line feed, carriage return. */
const PRINTABLE = new Uint8Array(256);
for (let c = 0x20; c < 0x7f; c++) PRINTABLE[c] = 1;
PRINTABLE[9] = PRINTABLE[10] = PRINTABLE[13] = 1;
/** 1 for the standard-only base64 characters `+` `/`, 2 for URL-safe `-` `_`. */
const B64_KIND = new Uint8Array(256);
B64_KIND[0x2b] = B64_KIND[0x2f] = 1;
B64_KIND[0x2d] = B64_KIND[0x5f] = 2;

/**
 * Whether the first 12 characters of a base64 run (all in the alphabet)
 * decode to 9 printable bytes without mixing the standard and URL-safe
 * alphabets: the same answer as decoding the prefix and checking it, without
 * allocating.
 */
function printableBase64Head(bytes: Uint8Array, start: number): boolean {
  let std = false;
  let url = false;
  for (let q = start; q < start + 12; q += 4) {
    const c0 = bytes[q];
    const c1 = bytes[q + 1];
    const c2 = bytes[q + 2];
    const c3 = bytes[q + 3];
    const v0 = B64_VALUE[c0];
    const v1 = B64_VALUE[c1];
    const v2 = B64_VALUE[c2];
    const v3 = B64_VALUE[c3];
    if (
      PRINTABLE[((v0 << 2) | (v1 >> 4)) & 0xff] === 0 ||
      PRINTABLE[((v1 << 4) | (v2 >> 2)) & 0xff] === 0 ||
      PRINTABLE[((v2 << 6) | v3) & 0xff] === 0
    ) return false;
    const kinds = B64_KIND[c0] | B64_KIND[c1] | B64_KIND[c2] | B64_KIND[c3];
    if ((kinds & 1) !== 0) std = true;
    if ((kinds & 2) !== 0) url = true;
  }
  return !(std && url);
}

/**
 * The base64, hex and percent-encoded spans of an item whose decoding is
 * mostly printable (at least 8 bytes, 90% printable ASCII). One pass over
 * the bytes; a decoding is started only for runs of the right length.
 *
 * @param bytes The item.
 * @returns The spans: base64, then hex, then percent, each by offset.
 *
 * @example
 * ```ts
 * import { findEncodedSpans } from "./engine.ts";
 * const spans = findEncodedSpans(new TextEncoder().encode("x = " + btoa("token: hello world")));
 * console.assert(spans[0].encoding === "base64" && new TextDecoder().decode(spans[0].decoded) === "token: hello world");
 * ```
 */
export function findEncodedSpans(bytes: Uint8Array): EncodedSpan[] {
  const out: EncodedSpan[] = [];
  const hexSpans: EncodedSpan[] = [];
  const n = bytes.length;
  const cls = CLASS;
  let i = 0;
  while (i < n) {
    // Skip bytes outside the base64 alphabet.
    while (i < n && (cls[bytes[i]] & 1) === 0) i++;
    const start = i;
    while (i < n && (cls[bytes[i]] & 1) !== 0) i++;
    const len = i - start;
    if (len < 20) continue;
    let end = i;
    while (end < n && end - i < 2 && bytes[end] === 0x3d) end++;
    // Long identifiers decode to control bytes at once: check a prefix first.
    if (printableBase64Head(bytes, start)) {
      const decoded = decodeBase64(bytes, start, end);
      if (decoded !== null && printableBytes(decoded)) {
        out.push({ start, end, encoding: "base64", decoded });
      }
    }
    if (len < 32) continue;
    // Hex spans: all-hex alphanumeric runs of 32+ inside this run.
    let k = start;
    while (k < i) {
      while (k < i && (cls[bytes[k]] & 2) === 0) k++;
      const a = k;
      let allHex = true;
      while (k < i && (cls[bytes[k]] & 2) !== 0) {
        if ((cls[bytes[k]] & 4) === 0) allHex = false;
        k++;
      }
      if (!allHex || k - a < 32) continue;
      const hexEnd = a + ((k - a) & ~1);
      const decoded = decodeHex(bytes, a, hexEnd);
      if (printableBytes(decoded)) {
        hexSpans.push({ start: a, end: hexEnd, encoding: "hex", decoded });
      }
    }
  }
  out.push(...hexSpans);
  if (!bytes.includes(0x25)) return out;
  let covered = -1;
  for (let i = 0; i + 2 < n; i++) {
    if (
      bytes[i] !== 0x25 || i < covered || (CLASS[bytes[i + 1]] & 4) === 0 ||
      (CLASS[bytes[i + 2]] & 4) === 0
    ) continue;
    let a = i;
    while (a > 0 && URL_BYTE[bytes[a - 1]] === 1) a--;
    let b = i + 3;
    while (b < n && URL_BYTE[bytes[b]] === 1) b++;
    covered = b;
    const decoded = new Uint8Array(b - a);
    let o = 0;
    for (let k = a; k < b; k++) {
      if (
        bytes[k] === 0x25 && k + 2 < b && (CLASS[bytes[k + 1]] & 4) !== 0 &&
        (CLASS[bytes[k + 2]] & 4) !== 0
      ) {
        decoded[o++] = (hexValue(bytes[k + 1]) << 4) | hexValue(bytes[k + 2]);
        k += 2;
      } else decoded[o++] = bytes[k];
    }
    const result = decoded.subarray(0, o);
    if (o < b - a && printableBytes(result)) {
      out.push({ start: a, end: b, encoding: "percent", decoded: result });
    }
  }
  return out;
}

interface Raw {
  ruleIndex: number;
  start: number;
  end: number;
  secret: Uint8Array;
  entropy: number;
  encodings: SpanEncoding[];
}

/**
 * Scans items with one rule set.
 *
 * @example
 * ```ts
 * import { ScanEngine } from "./engine.ts";
 * import { defaultRuleSet } from "./default_rules.ts";
 * const engine = new ScanEngine({ rules: defaultRuleSet(), anchorMode: "manual" });
 * const text = "x\ntoken = ghp_" + "A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8";
 * const [finding] = engine.scan(new TextEncoder().encode(text), "a.txt");
 * console.assert(finding.ruleId === "github-pat" && finding.line === 2 && finding.column === 9);
 * ```
 */
export class ScanEngine {
  readonly #rules: readonly Rule[];
  readonly #global: readonly Allowlist[];
  readonly #prefilter: Prefilter;
  readonly #depth: number;

  /**
   * Creates an engine.
   *
   * @param options Rules, anchor mode and decode depth.
   */
  constructor(options: ScanEngineOptions) {
    this.#rules = options.rules.rules;
    this.#global = options.rules.allowlists;
    this.#prefilter = new Prefilter(this.#rules, options.anchorMode);
    this.#depth = options.decodeDepth ?? DEFAULT_DECODE_DEPTH;
  }

  /**
   * Whether a path is allowlisted globally (by a path-only allowlist), so
   * the item need not be read.
   *
   * @param path The item path.
   * @returns True when every finding in it would be dropped.
   */
  pathAllowed(path: string): boolean {
    return this.#global.some((list) =>
      list.paths.length > 0 && list.regexes.length === 0 &&
      list.stopwords.length === 0 && list.paths.some((re) => reTest(re, path))
    );
  }

  /**
   * Scans one item.
   *
   * @param bytes The item's bytes.
   * @param path Its path (for path rules, allowlists).
   * @returns The findings, by offset then rule.
   */
  scan(bytes: Uint8Array, path: string): EngineFinding[] {
    const raw: Raw[] = [];
    this.#scanBytes(bytes, path, this.#depth, null, [], raw);
    for (let i = 0; i < this.#rules.length; i++) {
      const rule = this.#rules[i];
      if (
        rule.regex === null && rule.path !== null && reTest(rule.path, path)
      ) {
        raw.push({
          ruleIndex: i,
          start: 0,
          end: 0,
          secret: new Uint8Array(0),
          entropy: 0,
          encodings: [],
        });
      }
    }
    if (raw.length === 0) return [];
    raw.sort((a, b) => a.start - b.start || a.ruleIndex - b.ruleIndex);
    const seen = new Set<string>();
    const out: EngineFinding[] = [];
    let lineNo = 1;
    let lineStart = 0;
    let cursor = 0;
    for (const r of raw) {
      const key = `${r.ruleIndex}:${r.start}:${r.end}:${
        latin1.decode(r.secret)
      }`;
      if (seen.has(key)) continue;
      seen.add(key);
      for (; cursor < r.start; cursor++) {
        if (bytes[cursor] === 0x0a) {
          lineNo++;
          lineStart = cursor + 1;
        }
      }
      const rule = this.#rules[r.ruleIndex];
      out.push({
        ruleId: rule.id,
        ruleIndex: r.ruleIndex,
        description: rule.description,
        start: r.start,
        end: r.end,
        line: lineNo,
        column: r.start - lineStart + 1,
        secret: r.secret,
        entropy: r.entropy,
        encodings: r.encodings,
      });
    }
    return out;
  }

  #scanBytes(
    bytes: Uint8Array,
    path: string,
    depth: number,
    outer: { start: number; end: number } | null,
    encodings: SpanEncoding[],
    out: Raw[],
  ): void {
    let text: string | null = null;
    for (const index of this.#prefilter.candidates(bytes)) {
      const rule = this.#rules[index];
      const re = rule.regex;
      if (re === null) continue;
      if (rule.path !== null && !reTest(rule.path, path)) continue;
      text ??= bytesToText(bytes);
      re.lastIndex = 0;
      for (let m; (m = re.exec(text)) !== null;) {
        if (m[0].length === 0) {
          re.lastIndex++;
          continue;
        }
        const group = m[rule.secretGroup];
        const span = m.indices?.[rule.secretGroup];
        if (group === undefined || span === undefined) continue;
        const entropy = shannonEntropy(group);
        if (rule.entropy !== null && entropy < rule.entropy) continue;
        const line = lineAround(text, m.index, m.index + m[0].length);
        if (
          this.#global.some((l) => allowed(l, group, m![0], line, path)) ||
          rule.allowlists.some((l) => allowed(l, group, m![0], line, path))
        ) {
          continue;
        }
        out.push({
          ruleIndex: index,
          start: outer?.start ?? span[0],
          end: outer?.end ?? span[1],
          secret: bytes.slice(span[0], span[1]),
          entropy,
          encodings,
        });
      }
    }
    if (depth <= 0) return;
    for (const span of findEncodedSpans(bytes)) {
      this.#scanBytes(
        span.decoded,
        path,
        depth - 1,
        outer ?? { start: span.start, end: span.end },
        [...encodings, span.encoding],
        out,
      );
    }
  }
}
