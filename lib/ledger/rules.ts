/**
 * Secret-detection rules in the gitleaks TOML format security teams keep:
 * `[[rules]]` with `id`, `description`, `regex`, `secretGroup`, `entropy`,
 * `keywords`, `path`, `tags` and per-rule allowlists (`[rules.allowlist]`
 * or `[[rules.allowlists]]`), plus a global `[allowlist]` /
 * `[[allowlists]]` with `regexes`, `paths`, `stopwords`, `regexTarget`,
 * `condition` and `description`. Parsed with `smol-toml`; an unknown key,
 * a wrong type or a regex that does not compile is an `invalid_rules` error
 * naming `file:line`.
 *
 * Regexes are Go RE2 syntax; the parts JavaScript spells differently are
 * translated: a leading `(?i)` becomes the `i` flag, a later `(?i)` a
 * modifier group, `(?P<name>` a named group, `\z`/`\A` anchors and POSIX
 * classes such as `[[:alnum:]]`.
 *
 * @module
 */

import { parse, TomlError } from "smol-toml";
import { LedgerError, LedgerLimitError } from "./errors.ts";

/** An allowlist: a finding matching it is dropped. */
export interface Allowlist {
  /** Free text. */
  readonly description: string;
  /** Regexes tested against {@link Allowlist.regexTarget}. */
  readonly regexes: readonly RegExp[];
  /** `secret` (default), `match` or `line`. */
  readonly regexTarget: "secret" | "match" | "line";
  /** Path regexes. */
  readonly paths: readonly RegExp[];
  /** Substrings (case-insensitive) of the secret. */
  readonly stopwords: readonly string[];
  /** `OR` (default): any criterion allows; `AND`: every given criterion must. */
  readonly condition: "OR" | "AND";
}

/** One compiled rule. */
export interface Rule {
  /** Unique id, e.g. `github-pat`. */
  readonly id: string;
  /** Free text. */
  readonly description: string;
  /** The regex as written (Go syntax). */
  readonly regexSource: string;
  /** The compiled regex (flags `dg`, plus `i` from a leading `(?i)`). */
  readonly regex: RegExp | null;
  /** Capture group holding the secret (0: the whole match; default 1 if the regex has groups, else 0). */
  readonly secretGroup: number;
  /** Minimum Shannon entropy (bits per char) of the secret, or null. */
  readonly entropy: number | null;
  /** Prefilter keywords, lowercased. */
  readonly keywords: readonly string[];
  /** Path regex: the rule applies only to matching paths (alone: a path-only rule). */
  readonly path: RegExp | null;
  /** Tags. */
  readonly tags: readonly string[];
  /** Rule allowlists. */
  readonly allowlists: readonly Allowlist[];
}

/** A compiled rule set. */
export interface RuleSet {
  /** The rules, in file order. */
  readonly rules: readonly Rule[];
  /** Global allowlists. */
  readonly allowlists: readonly Allowlist[];
  /** Where it came from (a file name or `built-in`). */
  readonly origin: string;
  /** A canonical text of everything that affects results (hashed into the policy hash). */
  readonly canonical: string;
}

/** Limits of the rules parser. */
export interface RulesLimits {
  /** Largest rules file, bytes. @default {4194304} */
  readonly maxFileBytes: number;
  /** Most rules. @default {10000} */
  readonly maxRules: number;
  /** Longest regex, characters. @default {16384} */
  readonly maxRegexLength: number;
}

/**
 * Default {@link RulesLimits}.
 *
 * @example
 * ```ts
 * import { DEFAULT_RULES_LIMITS } from "./rules.ts";
 * console.assert(DEFAULT_RULES_LIMITS.maxRules === 10_000);
 * ```
 */
export const DEFAULT_RULES_LIMITS: RulesLimits = Object.freeze({
  maxFileBytes: 4 * 1024 * 1024,
  maxRules: 10_000,
  maxRegexLength: 16_384,
});

const POSIX: Record<string, string> = {
  alnum: "A-Za-z0-9",
  alpha: "A-Za-z",
  digit: "0-9",
  xdigit: "0-9A-Fa-f",
  upper: "A-Z",
  lower: "a-z",
  space: "\\s",
  word: "\\w",
  punct: "!-\\/:-@\\[-`{-~",
  blank: " \\t",
  cntrl: "\\x00-\\x1f\\x7f",
  print: " -~",
  graph: "!-~",
};

/**
 * Translates a Go RE2 regex to a JavaScript one.
 *
 * @param source The Go regex.
 * @returns The JavaScript source and extra flags.
 * @throws {SyntaxError} When the result does not compile.
 *
 * @example
 * ```ts
 * import { translateGoRegex } from "./rules.ts";
 * const { source, flags } = translateGoRegex("(?i)key(?P<v>[[:digit:]]+)\\z");
 * console.assert(flags === "i" && new RegExp(source, flags).test("KEY12"));
 * ```
 */
export function translateGoRegex(
  source: string,
): { source: string; flags: string } {
  let flags = "";
  let s = source;
  const lead = /^\(\?([imsU]+)\)/.exec(s);
  if (lead !== null) {
    for (const f of lead[1]) {
      if (f === "i" || f === "m" || f === "s") flags += f;
    }
    s = s.slice(lead[0].length);
  }
  let out = "";
  let inClass = false;
  let classStart = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (c === "\\") {
      const n = s[i + 1];
      if (n === "z") out += "$";
      else if (n === "A") out += "^";
      else if (n === "Q") {
        const end = s.indexOf("\\E", i + 2);
        const lit = s.slice(i + 2, end < 0 ? s.length : end);
        out += lit.replace(/[.*+?^${}()|[\]\\/-]/g, "\\$&");
        i = end < 0 ? s.length : end + 1;
        continue;
      } else out += c + (n ?? "");
      i++;
      continue;
    }
    if (s.startsWith("(?P<", i)) {
      out += "(?<";
      i += 3;
      continue;
    }
    const inline = /^\(\?([ims]+)\)/.exec(s.slice(i));
    if (inline !== null) {
      // A mid-pattern flag group applies to the rest of the enclosing group;
      // approximate with a modifier group over the rest of the pattern.
      const rest = translateGoRegex(s.slice(i + inline[0].length));
      out += `(?${inline[1]}:${rest.source})`;
      return { source: out, flags };
    }
    if (inClass && s.startsWith("[:", i)) {
      const m = /^\[:([a-z]+):\]/.exec(s.slice(i));
      if (m !== null && POSIX[m[1]] !== undefined) {
        out += POSIX[m[1]];
        i += m[0].length - 1;
        continue;
      }
    }
    if (c === "[" && !inClass) {
      inClass = true;
      classStart = out.length + 1;
    } else if (c === "]" && inClass && out.length > classStart) {
      inClass = false;
    } else if (c === "^" && inClass && out.length === classStart) {
      classStart++;
    }
    out += c;
  }
  new RegExp(out, flags + "dg");
  return { source: out, flags };
}

function lineOf(text: string, needle: RegExp, from: number): number {
  const lines = text.split("\n");
  for (let i = Math.max(0, from - 1); i < lines.length; i++) {
    if (needle.test(lines[i])) return i + 1;
  }
  return from;
}

interface Located {
  /** 1-based line of the table header that holds the value. */
  headerLine: number;
}

function headerLines(text: string): Map<string, number[]> {
  const out = new Map<string, number[]>();
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const m = /^\s*(\[\[?)\s*([A-Za-z0-9_."-]+)\s*\]\]?/.exec(lines[i]);
    if (m === null) continue;
    const name = m[2].replace(/"/g, "");
    const list = out.get(name) ?? [];
    list.push(i + 1);
    out.set(name, list);
  }
  return out;
}

class RulesParser {
  readonly #file: string;
  readonly #text: string;
  readonly #headers: Map<string, number[]>;
  readonly #limits: RulesLimits;

  constructor(file: string, text: string, limits: RulesLimits) {
    this.#file = file;
    this.#text = text;
    this.#headers = headerLines(text);
    this.#limits = limits;
  }

  fail(line: number, message: string): never {
    throw new LedgerError(
      "invalid_rules",
      `${this.#file}:${line}: ${message}`,
      {
        details: { file: this.#file, line },
      },
    );
  }

  keyLine(where: Located, key: string): number {
    const escaped = key.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
    return lineOf(
      this.#text,
      new RegExp(`^\\s*"?${escaped}"?\\s*=`),
      where.headerLine,
    );
  }

  header(name: string, index: number): Located {
    const lines = this.#headers.get(name) ?? [];
    return { headerLine: lines[index] ?? 1 };
  }

  checkKeys(
    table: Record<string, unknown>,
    allowed: readonly string[],
    where: Located,
    what: string,
  ): void {
    for (const key of Object.keys(table)) {
      if (!allowed.includes(key)) {
        this.fail(this.keyLine(where, key), `unknown key '${key}' in ${what}`);
      }
    }
  }

  str(
    table: Record<string, unknown>,
    key: string,
    where: Located,
    required = false,
  ): string | undefined {
    const v = table[key];
    if (v === undefined) {
      if (required) this.fail(where.headerLine, `missing '${key}'`);
      return undefined;
    }
    if (typeof v !== "string") {
      this.fail(this.keyLine(where, key), `'${key}' must be a string`);
    }
    return v;
  }

  strList(
    table: Record<string, unknown>,
    key: string,
    where: Located,
  ): string[] {
    const v = table[key];
    if (v === undefined) return [];
    if (!Array.isArray(v) || v.some((x) => typeof x !== "string")) {
      this.fail(
        this.keyLine(where, key),
        `'${key}' must be an array of strings`,
      );
    }
    return v as string[];
  }

  regex(source: string, where: Located, key: string): RegExp {
    if (source.length > this.#limits.maxRegexLength) {
      throw new LedgerLimitError(
        "maxRegexLength",
        this.#limits.maxRegexLength,
        source.length,
        `${this.#file}:${this.keyLine(where, key)}`,
      );
    }
    try {
      const { source: js, flags } = translateGoRegex(source);
      return new RegExp(js, flags + "dg");
    } catch (error) {
      this.fail(
        this.keyLine(where, key),
        `'${key}' does not compile: ${(error as Error).message}`,
      );
    }
  }

  allowlist(raw: unknown, where: Located, what: string): Allowlist {
    if (typeof raw !== "object" || raw === null || Array.isArray(raw)) {
      this.fail(where.headerLine, `${what} must be a table`);
    }
    const t = raw as Record<string, unknown>;
    this.checkKeys(
      t,
      [
        "description",
        "regexes",
        "regexTarget",
        "paths",
        "stopwords",
        "condition",
        "commits",
      ],
      where,
      what,
    );
    const target = this.str(t, "regexTarget", where) ?? "secret";
    if (target !== "secret" && target !== "match" && target !== "line") {
      this.fail(
        this.keyLine(where, "regexTarget"),
        "'regexTarget' must be secret, match or line",
      );
    }
    const condition = (this.str(t, "condition", where) ?? "OR").toUpperCase();
    if (condition !== "OR" && condition !== "AND") {
      this.fail(
        this.keyLine(where, "condition"),
        "'condition' must be OR or AND",
      );
    }
    if (this.strList(t, "commits", where).length > 0) {
      this.fail(
        this.keyLine(where, "commits"),
        "'commits' allowlists are not supported",
      );
    }
    return {
      description: this.str(t, "description", where) ?? "",
      regexes: this.strList(t, "regexes", where).map((r) =>
        this.regex(r, where, "regexes")
      ),
      regexTarget: target,
      paths: this.strList(t, "paths", where).map((r) =>
        this.regex(r, where, "paths")
      ),
      stopwords: this.strList(t, "stopwords", where).map((w) =>
        w.toLowerCase()
      ),
      condition: condition as "OR" | "AND",
    };
  }

  rule(raw: unknown, index: number, ids: Set<string>): Rule {
    const where = this.header("rules", index);
    if (typeof raw !== "object" || raw === null || Array.isArray(raw)) {
      this.fail(where.headerLine, "each [[rules]] entry must be a table");
    }
    const t = raw as Record<string, unknown>;
    this.checkKeys(
      t,
      [
        "id",
        "description",
        "regex",
        "secretGroup",
        "entropy",
        "keywords",
        "path",
        "tags",
        "allowlist",
        "allowlists",
      ],
      where,
      "[[rules]]",
    );
    const id = this.str(t, "id", where, true)!;
    if (id.trim() === "") this.fail(this.keyLine(where, "id"), "'id' is empty");
    if (ids.has(id)) {
      this.fail(this.keyLine(where, "id"), `duplicate rule id '${id}'`);
    }
    ids.add(id);
    const regexSource = this.str(t, "regex", where);
    const pathSource = this.str(t, "path", where);
    if (regexSource === undefined && pathSource === undefined) {
      this.fail(where.headerLine, `rule '${id}' needs 'regex' or 'path'`);
    }
    const regex = regexSource === undefined
      ? null
      : this.regex(regexSource, where, "regex");
    const groups = regex === null
      ? 0
      : new RegExp(`${regex.source}|`, regex.flags.replace(/[dg]/g, "")).exec(
        "",
      )!.length - 1;
    let secretGroup = groups > 0 ? 1 : 0;
    if (t.secretGroup !== undefined) {
      const g = t.secretGroup;
      if (
        typeof g !== "number" && typeof g !== "bigint" ||
        !Number.isInteger(Number(g)) || Number(g) < 0 || Number(g) > groups
      ) {
        this.fail(
          this.keyLine(where, "secretGroup"),
          `'secretGroup' must be an integer 0..${groups}`,
        );
      }
      secretGroup = Number(g);
    }
    let entropy: number | null = null;
    if (t.entropy !== undefined) {
      const e = Number(t.entropy);
      if (
        typeof t.entropy !== "number" && typeof t.entropy !== "bigint" ||
        !(e >= 0 && e <= 8)
      ) {
        this.fail(
          this.keyLine(where, "entropy"),
          "'entropy' must be a number 0..8",
        );
      }
      entropy = e;
    }
    const allowlists: Allowlist[] = [];
    if (t.allowlist !== undefined) {
      allowlists.push(
        this.allowlist(
          t.allowlist,
          this.header("rules.allowlist", this.#ruleAllowlistIndex++),
          "[rules.allowlist]",
        ),
      );
    }
    if (t.allowlists !== undefined) {
      if (!Array.isArray(t.allowlists)) {
        this.fail(where.headerLine, "'allowlists' must be an array of tables");
      }
      for (const a of t.allowlists) {
        allowlists.push(
          this.allowlist(
            a,
            this.header("rules.allowlists", this.#ruleAllowlistsIndex++),
            "[[rules.allowlists]]",
          ),
        );
      }
    }
    return {
      id,
      description: this.str(t, "description", where) ?? "",
      regexSource: regexSource ?? "",
      regex,
      secretGroup,
      entropy,
      keywords: this.strList(t, "keywords", where).map((k) => k.toLowerCase())
        .filter((k) => k !== ""),
      path: pathSource === undefined
        ? null
        : this.regex(pathSource, where, "path"),
      tags: this.strList(t, "tags", where),
      allowlists,
    };
  }

  #ruleAllowlistIndex = 0;
  #ruleAllowlistsIndex = 0;

  parse(): RuleSet {
    let doc: Record<string, unknown>;
    try {
      doc = parse(this.#text) as Record<string, unknown>;
    } catch (error) {
      if (error instanceof TomlError) {
        this.fail(
          error.line,
          `invalid TOML: ${error.message.split("\n")[0]}`,
        );
      }
      throw error;
    }
    const top: Located = { headerLine: 1 };
    for (const key of Object.keys(doc)) {
      if (!["title", "rules", "allowlist", "allowlists"].includes(key)) {
        const line = key === "extend"
          ? (this.#headers.get("extend")?.[0] ?? 1)
          : this.keyLine(top, key);
        this.fail(
          line,
          key === "extend"
            ? "'[extend]' is not supported: list every rule in one file"
            : `unknown key '${key}'`,
        );
      }
    }
    if (doc.rules !== undefined && !Array.isArray(doc.rules)) {
      this.fail(1, "'rules' must be an array of tables ([[rules]])");
    }
    const rawRules = (doc.rules ?? []) as unknown[];
    if (rawRules.length > this.#limits.maxRules) {
      throw new LedgerLimitError(
        "maxRules",
        this.#limits.maxRules,
        rawRules.length,
        this.#file,
      );
    }
    if (rawRules.length === 0) this.fail(1, "no [[rules]] defined");
    const ids = new Set<string>();
    const rules = rawRules.map((r, i) => this.rule(r, i, ids));
    const allowlists: Allowlist[] = [];
    if (doc.allowlist !== undefined) {
      allowlists.push(
        this.allowlist(
          doc.allowlist,
          this.header("allowlist", 0),
          "[allowlist]",
        ),
      );
    }
    if (doc.allowlists !== undefined) {
      if (!Array.isArray(doc.allowlists)) {
        this.fail(1, "'allowlists' must be an array of tables");
      }
      doc.allowlists.forEach((a, i) =>
        allowlists.push(
          this.allowlist(a, this.header("allowlists", i), "[[allowlists]]"),
        )
      );
    }
    return {
      rules,
      allowlists,
      origin: this.#file,
      canonical: canonicalRules(rules, allowlists),
    };
  }
}

function canonicalAllowlist(a: Allowlist): unknown {
  return {
    regexes: a.regexes.map((r) => r.source),
    target: a.regexTarget,
    paths: a.paths.map((r) => r.source),
    stopwords: a.stopwords,
    condition: a.condition,
  };
}

function canonicalRules(
  rules: readonly Rule[],
  allowlists: readonly Allowlist[],
): string {
  return JSON.stringify({
    rules: rules.map((r) => ({
      id: r.id,
      regex: r.regex === null ? null : [r.regex.source, r.regex.flags],
      group: r.secretGroup,
      entropy: r.entropy,
      keywords: r.keywords,
      path: r.path?.source ?? null,
      allowlists: r.allowlists.map(canonicalAllowlist),
    })),
    allowlists: allowlists.map(canonicalAllowlist),
  });
}

/**
 * Parses and compiles a gitleaks-format rules file.
 *
 * @param file The file name (for `file:line` in errors).
 * @param text The file's text.
 * @param limits Parser limits.
 * @returns The rule set.
 * @throws {LedgerError} `invalid_rules` (with `file:line`) or `limit_exceeded`.
 *
 * @example
 * ```ts
 * import { parseRulesToml } from "./rules.ts";
 * const set = parseRulesToml("rules.toml", `
 * [[rules]]
 * id = "demo"
 * regex = '''demo_[a-z]{8}'''
 * keywords = ["demo_"]
 * `);
 * console.assert(set.rules[0].id === "demo");
 * ```
 */
export function parseRulesToml(
  file: string,
  text: string,
  limits: RulesLimits = DEFAULT_RULES_LIMITS,
): RuleSet {
  const bytes = new TextEncoder().encode(text).length;
  if (bytes > limits.maxFileBytes) {
    throw new LedgerLimitError(
      "maxFileBytes",
      limits.maxFileBytes,
      bytes,
      file,
    );
  }
  return new RulesParser(file, text, limits).parse();
}

/**
 * Shannon entropy of a string, in bits per character.
 *
 * @param text The string.
 * @returns The entropy (0 for the empty string).
 *
 * @example
 * ```ts
 * import { shannonEntropy } from "./rules.ts";
 * console.assert(shannonEntropy("aaaa") === 0 && shannonEntropy("ab") === 1);
 * ```
 */
export function shannonEntropy(text: string): number {
  if (text.length === 0) return 0;
  const counts = new Map<string, number>();
  for (const c of text) counts.set(c, (counts.get(c) ?? 0) + 1);
  let h = 0;
  for (const n of counts.values()) {
    const p = n / text.length;
    h -= p * Math.log2(p);
  }
  return h;
}
