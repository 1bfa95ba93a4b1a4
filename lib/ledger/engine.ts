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

function reTest(re: RegExp, text: string): boolean {
  re.lastIndex = 0;
  return re.test(text);
}

function binaryToBytes(text: string): Uint8Array {
  const out = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) out[i] = text.charCodeAt(i) & 0xff;
  return out;
}

function printable(text: string): boolean {
  if (text.length < 8) return false;
  let good = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if ((c >= 0x20 && c < 0x7f) || c === 9 || c === 10 || c === 13) good++;
  }
  return good >= text.length * 0.9;
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

/** An encoded span found in a text. */
export interface EncodedSpan {
  /** Offset in the text. */
  readonly start: number;
  /** End (exclusive). */
  readonly end: number;
  /** The encoding. */
  readonly encoding: SpanEncoding;
  /** The decoded bytes as a one-char-per-byte string. */
  readonly decoded: string;
}

const BASE64 = /[A-Za-z0-9+/_-]{20,}={0,2}/g;
const HEX = /(?<![0-9A-Za-z])[0-9a-fA-F]{32,}(?![0-9A-Za-z])/g;
const PERCENT = /%[0-9A-Fa-f]{2}/g;
const URL_CHAR = /[^\s"'<>`\\]/;

function decodeBase64(span: string): string | null {
  const std = span.includes("-") || span.includes("_")
    ? (span.includes("+") || span.includes("/")
      ? null
      : span.replace(/-/g, "+").replace(/_/g, "/"))
    : span;
  if (std === null) return null;
  const body = std.replace(/=+$/, "");
  if (body.length % 4 === 1) return null;
  try {
    return atob(body + "===".slice((body.length + 3) % 4));
  } catch {
    return null;
  }
}

/**
 * The base64, hex and percent-encoded spans of a text whose decoding is
 * mostly printable (at least 8 bytes, 90% printable ASCII).
 *
 * @param text One-char-per-byte text.
 * @returns The spans, in order of encoding then offset.
 *
 * @example
 * ```ts
 * import { findEncodedSpans } from "./engine.ts";
 * const spans = findEncodedSpans("x = " + btoa("token: hello world"));
 * console.assert(spans[0].encoding === "base64" && spans[0].decoded === "token: hello world");
 * ```
 */
export function findEncodedSpans(text: string): EncodedSpan[] {
  const out: EncodedSpan[] = [];
  BASE64.lastIndex = 0;
  for (let m; (m = BASE64.exec(text)) !== null;) {
    const decoded = decodeBase64(m[0]);
    if (decoded !== null && printable(decoded)) {
      out.push({
        start: m.index,
        end: m.index + m[0].length,
        encoding: "base64",
        decoded,
      });
    }
  }
  HEX.lastIndex = 0;
  for (let m; (m = HEX.exec(text)) !== null;) {
    const hex = m[0].length % 2 === 0 ? m[0] : m[0].slice(0, -1);
    let decoded = "";
    for (let i = 0; i < hex.length; i += 2) {
      decoded += String.fromCharCode(parseInt(hex.slice(i, i + 2), 16));
    }
    if (printable(decoded)) {
      out.push({
        start: m.index,
        end: m.index + hex.length,
        encoding: "hex",
        decoded,
      });
    }
  }
  if (text.includes("%")) {
    PERCENT.lastIndex = 0;
    let covered = -1;
    for (let m; (m = PERCENT.exec(text)) !== null;) {
      if (m.index < covered) continue;
      let a = m.index;
      while (a > 0 && URL_CHAR.test(text[a - 1])) a--;
      let b = m.index + 3;
      while (b < text.length && URL_CHAR.test(text[b])) b++;
      covered = b;
      const span = text.slice(a, b);
      const decoded = span.replace(
        /%([0-9A-Fa-f]{2})/g,
        (_, h: string) => String.fromCharCode(parseInt(h, 16)),
      );
      if (decoded !== span && printable(decoded)) {
        out.push({ start: a, end: b, encoding: "percent", decoded });
      }
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

  /** @param options Rules, anchor mode and decode depth. */
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
    const text = latin1.decode(bytes);
    const raw: Raw[] = [];
    this.#scanText(text, bytes, path, this.#depth, null, [], raw);
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
      while (cursor < r.start) {
        const nl = text.indexOf("\n", cursor);
        if (nl < 0 || nl >= r.start) {
          cursor = r.start;
          break;
        }
        lineNo++;
        lineStart = nl + 1;
        cursor = nl + 1;
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

  #scanText(
    text: string,
    bytes: Uint8Array | null,
    path: string,
    depth: number,
    outer: { start: number; end: number } | null,
    encodings: SpanEncoding[],
    out: Raw[],
  ): void {
    for (const index of this.#prefilter.candidates(text)) {
      const rule = this.#rules[index];
      const re = rule.regex;
      if (re === null) continue;
      if (rule.path !== null && !reTest(rule.path, path)) continue;
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
          secret: bytes !== null
            ? bytes.slice(span[0], span[1])
            : binaryToBytes(group),
          entropy,
          encodings,
        });
      }
    }
    if (depth <= 0) return;
    for (const span of findEncodedSpans(text)) {
      this.#scanText(
        span.decoded,
        null,
        path,
        depth - 1,
        outer ?? { start: span.start, end: span.end },
        [...encodings, span.encoding],
        out,
      );
    }
  }
}
