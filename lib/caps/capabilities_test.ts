import assert from "node:assert/strict";
import fc from "fast-check";
import {
  capabilitiesSatisfy,
  CAPS_MAX_BYTES,
  CAPS_MAX_TOKENS,
  compareCodePoints,
  lanesCsv,
  missingCapabilities,
  parseCapabilityCsv,
  rustDebugString,
  validateCapabilities,
} from "./capabilities.ts";
import { CapsError, CapsLimitError, describeCapsError } from "./errors.ts";
import { fnv1aXor8Hex } from "./hash.ts";

function rejection(tokens: string[]): CapsError {
  try {
    validateCapabilities(tokens);
  } catch (err) {
    assert.ok(err instanceof CapsError);
    return err;
  }
  throw new Error(`accepted ${JSON.stringify(tokens)}`);
}

const COMMA = "capability token may not contain ',' (CSV delimiter): ";
const SPACE =
  "capability token must not contain whitespace or control characters: ";

Deno.test("every validation message, byte for byte", () => {
  const table: [string[], string][] = [
    [[""], "capability token must not be empty"],
    [["gpu", ""], "capability token must not be empty"],
    [["a,b"], COMMA + '"a,b"'],
    [[","], COMMA + '","'],
    [['q"u\\o,'], COMMA + '"q\\"u\\\\o,"'],
    [["\u{1f600},x"], COMMA + '"\u{1f600},x"'],
    [["\u00e9,\u0301"], COMMA + '"\u00e9,\\u{301}"'],
    [["a,\u00ad"], COMMA + '"a,\\u{ad}"'],
    [["a,\ue000"], COMMA + '"a,\\u{e000}"'],
    [["a b"], SPACE + '"a b"'],
    [["a\tb"], SPACE + '"a\\tb"'],
    [["\n"], SPACE + '"\\n"'],
    [["\r"], SPACE + '"\\r"'],
    [["x\0"], SPACE + '"x\\0"'],
    [["del\x7f"], SPACE + '"del\\u{7f}"'],
    [["\x1b[31m"], SPACE + '"\\u{1b}[31m"'],
    [["nel\u0085"], SPACE + '"nel\\u{85}"'],
    [["nb\u00a0sp"], SPACE + '"nb\\u{a0}sp"'],
    [["ls\u2028"], SPACE + '"ls\\u{2028}"'],
    [["ideo\u3000"], SPACE + '"ideo\\u{3000}"'],
    [["\u{1f680} gpu"], SPACE + '"\u{1f680} gpu"'],
    [["\u{10ffff}\t"], SPACE + '"\\u{10ffff}\\t"'],
    [["zwj\u200d\n"], SPACE + '"zwj\\u{200d}\\n"'],
    // The first bad token in input order wins; comma beats whitespace.
    [["ok", "a b", "c,d"], SPACE + '"a b"'],
    [["a, b"], COMMA + '"a, b"'],
  ];
  for (const [tokens, message] of table) {
    const err = rejection(tokens);
    assert.equal(err.message, message, JSON.stringify(tokens));
    assert.equal(err.code, "invalid_capability");
    assert.equal(err.context, "worker_config");
    assert.equal(err.field, "capabilities");
    assert.equal(
      describeCapsError(err),
      `config: worker_config.capabilities: ${message}`,
    );
  }
});

Deno.test("accepted: non-ASCII printable tokens, astral characters", () => {
  const set = validateCapabilities([
    "gpu",
    "\u00e9t\u00e9",
    "\u{1f600}",
    "\uff61",
  ]);
  assert.equal(set.csv, "gpu,\u00e9t\u00e9,\uff61,\u{1f600}");
});

Deno.test("canonical CSV: code-point order, not UTF-16 order", () => {
  // UTF-16 sort would put U+1F600 (surrogates D83D…) before U+FF61.
  assert.deepEqual(["\u{1f600}", "\uff61"].sort(), ["\u{1f600}", "\uff61"]);
  assert.equal(
    validateCapabilities(["\u{1f600}", "\uff61"]).csv,
    "\uff61,\u{1f600}",
  );
});

Deno.test("worked example: [gpu, cuda, gpu] → cuda,gpu → c952a6c4; empty → 4fd0bfc1", () => {
  const set = validateCapabilities(["gpu", "cuda", "gpu"]);
  assert.equal(set.csv, "cuda,gpu");
  assert.equal(set.hash, "c952a6c4");
  assert.deepEqual(validateCapabilities([]), {
    tokens: [],
    csv: "",
    hash: "4fd0bfc1",
  });
});

Deno.test("limits: 256 tokens and 4096 bytes are accepted, one more is not", () => {
  const tokens = (n: number) => Array.from({ length: n }, (_, i) => `t${i}`);
  assert.equal(validateCapabilities(tokens(256)).tokens.length, 256);
  // duplicates do not count
  assert.equal(validateCapabilities([...tokens(256), "t0"]).tokens.length, 256);
  const over = rejection(tokens(257));
  assert.ok(over instanceof CapsLimitError);
  assert.equal(over.code, "caps_limit_exceeded");
  assert.equal(
    over.message,
    "capability set exceeds CAPS_MAX_TOKENS (256): 257",
  );
  assert.deepEqual([over.limit, over.max, over.actual], [
    "CAPS_MAX_TOKENS",
    256,
    257,
  ]);

  // 4096 bytes exactly: 16 tokens of 255 bytes + 15 commas = 4095, + 1.
  const big = Array.from(
    { length: 16 },
    (_, i) => String.fromCharCode(97 + i).repeat(255),
  );
  big[15] += "z";
  assert.equal(validateCapabilities(big).csv.length, CAPS_MAX_BYTES);
  big[15] += "z";
  const tooBig = rejection(big);
  assert.ok(tooBig instanceof CapsLimitError);
  assert.equal(
    tooBig.message,
    "capability CSV exceeds CAPS_MAX_BYTES (4096): 4097",
  );
  assert.deepEqual([tooBig.max, tooBig.actual], [4096, 4097]);
  // counted in UTF-8 bytes: 1366 × "é" (2 bytes) + ...
  const multi = rejection(["\u00e9".repeat(2049)]);
  assert.equal(
    multi.message,
    "capability CSV exceeds CAPS_MAX_BYTES (4096): 4098",
  );
});

Deno.test("rustDebugString escapes like Rust's {:?}", () => {
  assert.equal(rustDebugString(""), '""');
  assert.equal(rustDebugString("it's"), '"it\'s"');
  assert.equal(rustDebugString("\u0301a\u0301"), '"\\u{301}a\\u{301}"');
  assert.equal(rustDebugString("caf\u00e9 \u{1f600}"), '"caf\u00e9 \u{1f600}"');
});

Deno.test("routing predicate (caps.rs table)", () => {
  const table: [string, string[], boolean][] = [
    ["", [], true],
    ["", ["gpu"], true],
    [",,,", ["gpu"], true],
    [",,,", [], true],
    ["gpu", ["gpu"], true],
    ["gpu,cuda", ["gpu"], false],
    ["gpu,cuda", ["gpu", "cuda", "fp16"], true],
    [",gpu,", ["gpu"], true],
    ["GPU", ["gpu"], false],
    ["cuda", ["gpu"], false],
  ];
  for (const [required, worker, expected] of table) {
    assert.equal(capabilitiesSatisfy(required, worker), expected, required);
    assert.equal(
      capabilitiesSatisfy(required, worker.join(",")),
      expected,
      required,
    );
  }
  assert.deepEqual(parseCapabilityCsv(",gpu,,cuda,"), ["gpu", "cuda"]);
  assert.deepEqual(parseCapabilityCsv(""), []);
  assert.deepEqual(missingCapabilities("z,gpu,a", ["gpu"]), ["a", "z"]);
  assert.equal(lanesCsv(["b", "a", "b"]), "a,b");
});

/** Reference model: sort by UTF-8 bytes, built independently. */
function modelCanonical(tokens: string[]): { csv: string; count: number } {
  const enc = new TextEncoder();
  const unique = [...new Set(tokens)];
  unique.sort((a, b) => {
    const x = enc.encode(a);
    const y = enc.encode(b);
    for (let i = 0; i < Math.min(x.length, y.length); i++) {
      if (x[i] !== y[i]) return x[i] - y[i];
    }
    return x.length - y.length;
  });
  return { csv: unique.join(","), count: unique.length };
}

const token = fc.string({ unit: "grapheme", minLength: 1, maxLength: 6 })
  .filter((t) => !/[,\p{Cc}\p{White_Space}]/u.test(t));

Deno.test("property: canonical CSV and hash match a byte-order reference model", () => {
  fc.assert(
    fc.property(fc.array(token, { maxLength: 40 }), (tokens) => {
      const set = validateCapabilities(tokens);
      const model = modelCanonical(tokens);
      assert.equal(set.csv, model.csv);
      assert.equal(set.tokens.length, model.count);
      assert.equal(set.hash, fnv1aXor8Hex(model.csv));
      // canonical: order-independent and idempotent
      assert.equal(validateCapabilities([...tokens].reverse()).csv, set.csv);
      assert.equal(validateCapabilities(set.tokens).csv, set.csv);
    }),
    { numRuns: 300 },
  );
});

Deno.test("property: compareCodePoints agrees with UTF-8 byte order", () => {
  const enc = new TextEncoder();
  fc.assert(
    fc.property(
      fc.string({ unit: "grapheme" }),
      fc.string({ unit: "grapheme" }),
      (a, b) => {
        const x = enc.encode(a);
        const y = enc.encode(b);
        let expected = x.length - y.length;
        for (let i = 0; i < Math.min(x.length, y.length); i++) {
          if (x[i] !== y[i]) {
            expected = x[i] - y[i];
            break;
          }
        }
        assert.equal(Math.sign(compareCodePoints(a, b)), Math.sign(expected));
      },
    ),
    { numRuns: 500 },
  );
});

Deno.test("property: the predicate equals set inclusion", () => {
  const small = fc.constantFrom("a", "b", "c", "gpu", "GPU", "\u{1f600}");
  fc.assert(
    fc.property(fc.array(small), fc.array(small), (required, worker) => {
      const expected = required.every((t) => worker.includes(t));
      assert.equal(capabilitiesSatisfy(required.join(","), worker), expected);
    }),
    { numRuns: 300 },
  );
});

Deno.test("property: any token with a forbidden character is rejected with a Debug-quoted message", () => {
  const bad = fc.tuple(
    token,
    fc.constantFrom(
      ",",
      " ",
      "\t",
      "\n",
      "\0",
      "\x7f",
      "\u0085",
      "\u00a0",
      "\u2028",
      "\u3000",
    ),
    token,
  ).map(([a, c, b]) => a + c + b);
  fc.assert(
    fc.property(bad, (t) => {
      const err = rejection([t]);
      assert.equal(err.code, "invalid_capability");
      assert.ok(err.message.endsWith(rustDebugString(t)));
    }),
    { numRuns: 200 },
  );
  assert.equal(CAPS_MAX_TOKENS, 256);
});
