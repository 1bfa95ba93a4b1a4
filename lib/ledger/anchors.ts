/**
 * The prefilter: one multi-pattern pass over a chunk finds which rules can
 * match before any rule regex runs. Anchors are lowercased literals matched
 * case-insensitively; a rule without anchors is always a candidate.
 *
 * - `manual` anchors are the rules' `keywords`.
 * - `derived` anchors are extracted from each regex: a set of literals of
 *   which at least one must occur in every match (at least 3 characters
 *   each), or none when the regex has no such set.
 *
 * @module
 */

import type { AnchorMode } from "./config.ts";
import type { Rule } from "./rules.ts";

/** The shortest useful anchor. */
export const MIN_ANCHOR_LENGTH = 3;

interface Info {
  /** The node matches exactly this text (lowercased), or null. */
  exact: string | null;
  /** At least one of these must occur in any match, or null. */
  anyOf: string[] | null;
}

const NONE: Info = { exact: null, anyOf: null };

function score(set: string[] | null): number {
  if (set === null || set.length === 0) return 0;
  return Math.min(...set.map((s) => s.length));
}

function better(a: string[] | null, b: string[] | null): string[] | null {
  return score(b) > score(a) ? b : a;
}

class AnchorParser {
  #s: string;
  #i = 0;

  constructor(source: string) {
    this.#s = source;
  }

  parse(): Info {
    const info = this.alternation();
    return info;
  }

  alternation(): Info {
    const branches: Info[] = [this.concatenation()];
    while (this.#s[this.#i] === "|") {
      this.#i++;
      branches.push(this.concatenation());
    }
    if (branches.length === 1) return branches[0];
    const exacts = branches.map((b) => b.exact);
    if (exacts.every((e) => e !== null)) {
      const set = [...new Set(exacts as string[])];
      return { exact: set.length === 1 ? set[0] : null, anyOf: set };
    }
    const union: string[] = [];
    for (const b of branches) {
      const set = b.anyOf ?? (b.exact !== null ? [b.exact] : null);
      if (set === null || score(set) < MIN_ANCHOR_LENGTH) {
        return NONE;
      }
      union.push(...set);
    }
    return { exact: null, anyOf: [...new Set(union)] };
  }

  concatenation(): Info {
    let run = "";
    let allExact = true;
    let best: string[] | null = null;
    while (this.#i < this.#s.length) {
      const c = this.#s[this.#i];
      if (c === "|" || c === ")") break;
      const atom = this.quantified(this.atom());
      if (atom.exact !== null) {
        run += atom.exact;
      } else {
        allExact = false;
        if (run !== "") best = better(best, [run]);
        run = "";
        best = better(best, atom.anyOf);
      }
    }
    if (run !== "") best = better(best, [run]);
    return { exact: allExact ? run : null, anyOf: best };
  }

  quantified(atom: Info): Info {
    const s = this.#s;
    const c = s[this.#i];
    let min: number;
    let max: number;
    if (c === "*" || c === "?") {
      min = 0;
      max = c === "*" ? Infinity : 1;
      this.#i++;
    } else if (c === "+") {
      min = 1;
      max = Infinity;
      this.#i++;
    } else if (c === "{") {
      const m = /^\{(\d+)(,(\d*))?\}/.exec(s.slice(this.#i));
      if (m === null) return atom;
      min = Number(m[1]);
      max = m[2] === undefined ? min : m[3] === "" ? Infinity : Number(m[3]);
      this.#i += m[0].length;
    } else {
      return atom;
    }
    if (s[this.#i] === "?" || s[this.#i] === "+") this.#i++; // lazy/possessive
    if (min === 0) return NONE;
    const set = atom.anyOf ?? (atom.exact !== null ? [atom.exact] : null);
    if (atom.exact !== null && min === max) {
      return { exact: atom.exact.repeat(min), anyOf: set };
    }
    return { exact: null, anyOf: set };
  }

  atom(): Info {
    const s = this.#s;
    const c = s[this.#i++];
    switch (c) {
      case "(": {
        if (s[this.#i] === "?") {
          const look = /^\?(=|!|<=|<!)/.exec(s.slice(this.#i));
          if (look !== null) {
            this.#i += look[0].length;
            this.alternation();
            this.#i++; // ")"
            return { exact: "", anyOf: null };
          }
          const m = /^\?(?:<[A-Za-z_][A-Za-z0-9_]*>|[ims-]*:|:)/.exec(
            s.slice(this.#i),
          );
          if (m !== null) this.#i += m[0].length;
        }
        const inner = this.alternation();
        this.#i++; // ")"
        return inner;
      }
      case "[":
        this.skipClass();
        return NONE;
      case ".":
        return NONE;
      case "^":
      case "$":
        return { exact: "", anyOf: null };
      case "\\":
        return this.escape();
      default:
        return { exact: c.toLowerCase(), anyOf: null };
    }
  }

  escape(): Info {
    const s = this.#s;
    const c = s[this.#i++];
    if (c === undefined) return NONE;
    if (c === "b" || c === "B") return { exact: "", anyOf: null };
    if ("dDwWsSpPk".includes(c)) {
      if ((c === "p" || c === "P" || c === "k") && s[this.#i] === "{") {
        this.#i = s.indexOf("}", this.#i) + 1;
      }
      return NONE;
    }
    if (/[0-9]/.test(c)) return NONE; // back-reference
    const simple: Record<string, string> = {
      t: "\t",
      n: "\n",
      r: "\r",
      f: "\f",
      v: "\v",
    };
    if (simple[c] !== undefined) return { exact: simple[c], anyOf: null };
    if (c === "x") {
      const hex = s.slice(this.#i, this.#i + 2);
      this.#i += 2;
      return {
        exact: String.fromCharCode(parseInt(hex, 16)).toLowerCase(),
        anyOf: null,
      };
    }
    if (c === "u") {
      const hex = s.slice(this.#i, this.#i + 4);
      this.#i += 4;
      return {
        exact: String.fromCharCode(parseInt(hex, 16)).toLowerCase(),
        anyOf: null,
      };
    }
    return { exact: c.toLowerCase(), anyOf: null };
  }

  skipClass(): void {
    const s = this.#s;
    if (s[this.#i] === "^") this.#i++;
    if (s[this.#i] === "]") this.#i++;
    while (this.#i < s.length && s[this.#i] !== "]") {
      if (s[this.#i] === "\\") this.#i++;
      this.#i++;
    }
    this.#i++;
  }
}

/** ASCII lowercase of a char code (others unchanged, masked to 8 bits). */
function lower(c: number): number {
  return c >= 65 && c <= 90 ? c + 32 : c & 0xff;
}

/** {@link lower} as a byte table. */
const LOWER = new Uint8Array(256).map((_, c) => lower(c));

/**
 * Literal anchors of a JavaScript regex: lowercased strings of which at
 * least one occurs in every match, or an empty list when there is no such
 * set with every member at least {@link MIN_ANCHOR_LENGTH} long.
 *
 * @param source The regex source (JavaScript syntax).
 * @returns The anchors.
 *
 * @example
 * ```ts
 * import { deriveAnchors } from "./anchors.ts";
 * console.assert(deriveAnchors("\\b(ghp_[A-Za-z0-9]{36})\\b").join() === "ghp_");
 * console.assert(deriveAnchors("(?:sk|rk)_live_[a-z]+").join() === "_live_");
 * console.assert(deriveAnchors("[a-z]+").length === 0);
 * ```
 */
export function deriveAnchors(source: string): string[] {
  let info: Info;
  try {
    info = new AnchorParser(source).parse();
  } catch {
    return [];
  }
  const set = info.anyOf ?? (info.exact !== null ? [info.exact] : null);
  if (set === null || score(set) < MIN_ANCHOR_LENGTH) return [];
  return [...new Set(set)];
}

/**
 * One multi-pattern pass that selects candidate rules for a chunk.
 *
 * @example
 * ```ts
 * import { Prefilter } from "./anchors.ts";
 * import { defaultRuleSet } from "./default_rules.ts";
 * const pre = new Prefilter(defaultRuleSet().rules, "manual");
 * const rules = defaultRuleSet().rules;
 * const hits = pre.candidates("token ghp_x").map((i) => rules[i].id);
 * console.assert(hits.includes("github-pat") && !hits.includes("jwt"));
 * ```
 */
export class Prefilter {
  /** Anchors per rule index (empty: always a candidate). */
  readonly anchors: readonly (readonly string[])[];
  readonly #always: number[];
  /** Anchors (lowercased) grouped by their first two characters. */
  readonly #buckets = new Map<number, { anchor: string; rules: number[] }[]>();
  /** The same buckets in an array indexed by the key. */
  readonly #bucketList: { anchor: string; rules: number[] }[][] = [];
  /** Per key, the call number that closed it (see {@link candidates}). */
  readonly #closed = new Uint32Array(65536);
  #call = 0;
  /** One bit per two-character key that starts some anchor. */
  readonly #pairs = new Uint8Array(65536);
  readonly #ruleCount: number;

  /**
   * Builds the prefilter of a rule list.
   *
   * @param rules The rules, in order.
   * @param mode `manual` (keywords) or `derived` (from the regexes).
   */
  constructor(rules: readonly Rule[], mode: AnchorMode) {
    this.#ruleCount = rules.length;
    this.anchors = rules.map((r) =>
      (mode === "manual"
        ? r.keywords
        : r.regex === null
        ? []
        : deriveAnchors(r.regex.source)).filter((a) => a.length >= 2)
    );
    this.#always = [];
    const direct = new Map<string, number[]>();
    this.anchors.forEach((list, i) => {
      if (list.length === 0) this.#always.push(i);
      for (const a of list) direct.set(a, [...(direct.get(a) ?? []), i]);
    });
    for (const [anchor, ruleList] of direct) {
      const key = (lower(anchor.charCodeAt(0)) << 8) |
        lower(anchor.charCodeAt(1));
      this.#pairs[key] = 1;
      const bucket = this.#buckets.get(key) ?? [];
      bucket.push({ anchor, rules: ruleList });
      this.#buckets.set(key, bucket);
    }
    for (const [key, bucket] of this.#buckets) this.#bucketList[key] = bucket;
  }

  /**
   * The indexes of the rules that may match a chunk, ascending. Anchors
   * match ASCII case-insensitively.
   *
   * @param chunk The chunk (bytes, or a one-char-per-byte string).
   * @returns Rule indexes.
   */
  candidates(chunk: Uint8Array | string): number[] {
    let bytes: Uint8Array;
    if (typeof chunk === "string") {
      bytes = new Uint8Array(chunk.length);
      for (let i = 0; i < chunk.length; i++) bytes[i] = chunk.charCodeAt(i);
    } else bytes = chunk;
    const total = this.#ruleCount;
    const hit = new Uint8Array(total);
    let count = 0;
    for (const i of this.#always) {
      hit[i] = 1;
      count++;
    }
    // A pair is closed for this call once every rule of its anchors is a
    // candidate, so common pairs stop costing a bucket walk.
    const pairs = this.#pairs;
    const closed = this.#closed;
    const call = this.#call = (this.#call + 1) >>> 0 || 1;
    if (call === 1) closed.fill(0);
    const lc = LOWER;
    const n = bytes.length - 1;
    let prev = n >= 0 ? lc[bytes[0]] : 0;
    for (let i = 0; i < n; i++) {
      const next = lc[bytes[i + 1]];
      const key = (prev << 8) | next;
      prev = next;
      if (pairs[key] === 0 || closed[key] === call) continue;
      const bucket = this.#bucketList[key];
      let open = false;
      for (const { anchor, rules } of bucket) {
        let pending = false;
        for (const r of rules) if (hit[r] === 0) pending = true;
        if (!pending) continue;
        open = true;
        let k = 2;
        while (
          k < anchor.length && i + k < bytes.length &&
          lc[bytes[i + k]] === anchor.charCodeAt(k)
        ) k++;
        if (k !== anchor.length) continue;
        for (const r of rules) {
          if (hit[r] === 0) {
            hit[r] = 1;
            count++;
          }
        }
      }
      if (!open) closed[key] = call;
      if (count === total) break;
    }
    const out: number[] = [];
    for (let i = 0; i < hit.length; i++) if (hit[i] === 1) out.push(i);
    return out;
  }
}
