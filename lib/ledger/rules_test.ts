import assert from "node:assert/strict";
import fc from "fast-check";
import { deriveAnchors, Prefilter } from "./anchors.ts";
import { defaultRuleSet } from "./default_rules.ts";
import { ScanEngine } from "./engine.ts";
import { LedgerError } from "./errors.ts";
import { parseRulesToml, shannonEntropy, translateGoRegex } from "./rules.ts";
import { RULE_SAMPLES } from "../testing/ledger_samples.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();

Deno.test("built-in rules: at least 25, unique ids, each with keywords and samples", () => {
  const rules = defaultRuleSet().rules;
  assert.ok(rules.length >= 25);
  assert.equal(new Set(rules.map((r) => r.id)).size, rules.length);
  for (const r of rules) assert.ok(r.keywords.length > 0, r.id);
  assert.deepEqual(
    RULE_SAMPLES.map((s) => s.ruleId).sort(),
    rules.map((r) => r.id).sort(),
  );
});

for (const mode of ["manual", "derived"] as const) {
  const engine = new ScanEngine({
    rules: defaultRuleSet(),
    anchorMode: mode,
    decodeDepth: 0,
  });
  for (const s of RULE_SAMPLES) {
    Deno.test(`built-in rule ${s.ruleId} (${mode}): positive found, negative not`, () => {
      const hits = engine.scan(enc.encode(s.positive), "sample.txt");
      const mine = hits.filter((f) => f.ruleId === s.ruleId);
      assert.equal(
        mine.length,
        1,
        `${s.ruleId}: ${JSON.stringify(hits.map((h) => h.ruleId))}`,
      );
      assert.equal(dec.decode(mine[0].secret), s.secret);
      assert.equal(
        s.positive.slice(mine[0].start, mine[0].end),
        s.secret,
      );
      const neg = engine.scan(enc.encode(s.negative), "sample.txt");
      assert.deepEqual(neg.map((f) => f.ruleId), [], `${s.ruleId} negative`);
    });
  }
}

Deno.test("derived anchors cover every match (property)", () => {
  const rules = defaultRuleSet().rules;
  fc.assert(
    fc.property(
      fc.constantFrom(...RULE_SAMPLES),
      fc.string(),
      fc.string(),
      (s, a, b) => {
        const rule = rules.find((r) => r.id === s.ruleId)!;
        const anchors = deriveAnchors(rule.regex!.source);
        const text = (a + s.positive + b).toLowerCase();
        return anchors.length === 0 || anchors.some((x) => text.includes(x));
      },
    ),
  );
});

Deno.test("prefilter: keywords select candidates, anchor-free rules always run", () => {
  const set = parseRulesToml(
    "t.toml",
    `
[[rules]]
id = "a"
regex = '''alpha[0-9]+'''
keywords = ["alpha"]
[[rules]]
id = "b"
regex = '''[0-9]{5}'''
`,
  );
  const pre = new Prefilter(set.rules, "manual");
  assert.deepEqual(pre.candidates("nothing here"), [1]);
  assert.deepEqual(pre.candidates("xALPHA1"), [0, 1]);
  const derived = new Prefilter(set.rules, "derived");
  assert.deepEqual(derived.anchors, [["alpha"], []]);
});

Deno.test("prefilter: overlapping and nested anchors all count", () => {
  const set = parseRulesToml(
    "t.toml",
    `
[[rules]]
id = "k"
regex = '''key'''
keywords = ["key"]
[[rules]]
id = "kd"
regex = '''key-'''
keywords = ["key-"]
[[rules]]
id = "ey"
regex = '''eyx'''
keywords = ["eyx"]
`,
  );
  const pre = new Prefilter(set.rules, "manual");
  assert.deepEqual(pre.candidates("key-"), [0, 1]);
  assert.deepEqual(pre.candidates("keyx"), [0, 2]);
});

Deno.test("anchor derivation", () => {
  assert.deepEqual(deriveAnchors("abc|abd"), ["abc", "abd"]);
  assert.deepEqual(deriveAnchors("(?:foo)?bar"), ["bar"]);
  assert.deepEqual(deriveAnchors("a.c"), []);
  assert.deepEqual(deriveAnchors("(abc|x)def"), ["def"]);
  assert.deepEqual(deriveAnchors("(?i:TOKEN)_[a-z]{3}"), ["token_"]);
  assert.deepEqual(deriveAnchors("x{3}yz"), ["xxxyz"]);
});

Deno.test("Go regex translation", () => {
  const cases: [string, string, boolean][] = [
    ["(?i)abc", "ABC", true],
    ["x(?i)abc", "xABC", true],
    ["x(?i)abc", "XABC", false],
    ["(?P<n>[[:digit:]]+)\\z", "12", true],
    ["[[:alpha:]_]+", "a_b", true],
    ["\\Aab", "ab", true],
    ["\\Q.*\\E", ".*", true],
    ["\\Q.*\\E", "ab", false],
  ];
  for (const [go, text, expected] of cases) {
    const { source, flags } = translateGoRegex(go);
    assert.equal(new RegExp(source, flags).test(text), expected, go);
  }
});

function rulesError(text: string): LedgerError {
  try {
    parseRulesToml("r.toml", text);
  } catch (error) {
    assert.ok(error instanceof LedgerError);
    return error;
  }
  throw new Error("parsed");
}

Deno.test("rules file errors name file:line", () => {
  const table: [string, string, string][] = [
    [
      "[[rules]]\nid = \"a\"\nregex = '''x'''\ncolour = \"red\"\n",
      "invalid_rules",
      "r.toml:4: unknown key 'colour' in [[rules]]",
    ],
    [
      'title = "t"\nbogus = 1\n',
      "invalid_rules",
      "r.toml:2: unknown key 'bogus'",
    ],
    [
      "[[rules]]\nid = \"a\"\nregex = '''x'''\n[rules.allowlist]\nstopword = [\"a\"]\n",
      "invalid_rules",
      "r.toml:5: unknown key 'stopword' in [rules.allowlist]",
    ],
    [
      "[[rules]]\nid = \"a\"\nregex = '''('''\n",
      "invalid_rules",
      "r.toml:3: 'regex' does not compile",
    ],
    [
      '[[rules]]\nid = "a"\n',
      "invalid_rules",
      "r.toml:1: rule 'a' needs 'regex' or 'path'",
    ],
    ["[[rules]]\nregex = 'x'\n", "invalid_rules", "r.toml:1: missing 'id'"],
    [
      "[[rules]]\nid = \"a\"\nregex = 'x'\n[[rules]]\nid = \"a\"\nregex = 'y'\n",
      "invalid_rules",
      "r.toml:5: duplicate rule id 'a'",
    ],
    [
      "[[rules]]\nid = \"a\"\nregex = 'x'\nsecretGroup = 2\n",
      "invalid_rules",
      "r.toml:4: 'secretGroup' must be an integer 0..0",
    ],
    [
      '[[rules]]\nid = "a"\nregex = \'x\'\nentropy = "high"\n',
      "invalid_rules",
      "r.toml:4: 'entropy' must be a number 0..8",
    ],
    [
      '[[rules]]\nid = "a"\nregex = \'x\'\nkeywords = "x"\n',
      "invalid_rules",
      "r.toml:4: 'keywords' must be an array of strings",
    ],
    ["x = \n", "invalid_rules", "r.toml:1: invalid TOML"],
    ['title = "empty"\n', "invalid_rules", "r.toml:1: no [[rules]] defined"],
    [
      "[extend]\nuseDefault = true\n[[rules]]\nid='a'\nregex='x'\n",
      "invalid_rules",
      "r.toml:1: '[extend]' is not supported",
    ],
  ];
  for (const [text, code, prefix] of table) {
    const e = rulesError(text);
    assert.equal(e.code, code, text);
    assert.ok(e.message.startsWith(prefix), `${e.message} !~ ${prefix}`);
  }
});

Deno.test("rules file: allowlists, stopwords, path rules, entropy", () => {
  const set = parseRulesToml(
    "r.toml",
    `
[allowlist]
paths = ['''^vendor/''']
[[rules]]
id = "tok"
regex = '''tok_([a-z0-9]{8})'''
keywords = ["tok_"]
entropy = 2.0
[rules.allowlist]
stopwords = ["aaaa"]
regexes = ['''^0+$''']
[[rules]]
id = "pemfile"
path = '''\\.pem$'''
`,
  );
  const engine = new ScanEngine({ rules: set, anchorMode: "manual" });
  const ids = (text: string, path = "a.txt") =>
    engine.scan(enc.encode(text), path).map((f) =>
      f.ruleId + ":" + dec.decode(f.secret)
    );
  assert.deepEqual(ids("tok_ab12cd34"), ["tok:ab12cd34"]);
  assert.deepEqual(ids("tok_aaaab123"), []); // stopword
  assert.deepEqual(ids("tok_00000000"), []); // allowlist regex
  assert.deepEqual(ids("tok_abababab"), []); // entropy 1.0 < 2.0
  assert.deepEqual(ids("tok_ab12cd34", "vendor/x.txt"), []); // global path allowlist
  assert.deepEqual(ids("", "k.pem"), ["pemfile:"]);
  assert.ok(engine.pathAllowed("vendor/a"));
});

Deno.test("shannon entropy", () => {
  assert.equal(shannonEntropy(""), 0);
  assert.equal(shannonEntropy("abcd"), 2);
});
