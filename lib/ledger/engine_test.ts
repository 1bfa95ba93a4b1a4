import assert from "node:assert/strict";
import { defaultRuleSet } from "./default_rules.ts";
import { bytesToText, findEncodedSpans, ScanEngine } from "./engine.ts";
import fc from "fast-check";
import { scanItem } from "./item_scan.ts";
import { gzipSync, zipSync } from "fflate";
import { RULE_SAMPLES } from "../testing/ledger_samples.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();
const GH = RULE_SAMPLES.find((s) => s.ruleId === "github-pat")!.secret;
const AWS = RULE_SAMPLES.find((s) => s.ruleId === "aws-access-key-id")!.secret;

function engine(decodeDepth = 2): ScanEngine {
  return new ScanEngine({
    rules: defaultRuleSet(),
    anchorMode: "manual",
    decodeDepth,
  });
}

function toHex(s: string): string {
  return [...enc.encode(s)].map((b) => b.toString(16).padStart(2, "0")).join(
    "",
  );
}

Deno.test("decode: base64, hex and percent spans point at the encoded span", () => {
  const cases: [string, string][] = [
    ["base64", btoa(`token=${GH}`)],
    ["hex", toHex(`token=${GH}`)],
    ["percent", encodeURIComponent(`{"t":"${GH}"}`)],
  ];
  for (const [kind, encoded] of cases) {
    const text = `line one\nvalue: ${encoded} end\n`;
    const [f, ...rest] = engine().scan(enc.encode(text), "x");
    assert.equal(rest.length, 0, kind);
    assert.equal(f.ruleId, "github-pat");
    assert.deepEqual(f.encodings, [kind]);
    assert.equal(text.slice(f.start, f.end), encoded, kind);
    assert.equal([f.line, f.column].join(":"), "2:8");
    assert.equal(dec.decode(f.secret), GH);
  }
});

Deno.test("decode: nested encodings need the depth", () => {
  const twice = btoa(btoa(`key ${AWS}`));
  assert.equal(engine(1).scan(enc.encode(twice), "x").length, 0);
  const [f] = engine(2).scan(enc.encode(twice), "x");
  assert.deepEqual(f.encodings, ["base64", "base64"]);
  assert.equal(engine(0).scan(enc.encode(btoa(`key ${AWS}`)), "x").length, 0);
});

Deno.test("decode: binary-looking decodings are not rescanned", () => {
  assert.deepEqual(
    findEncodedSpans(enc.encode("AbstractStringBuilderFactoryImpl")),
    [],
  );
  assert.deepEqual(findEncodedSpans(enc.encode("sha " + "ab".repeat(32))), []);
});

Deno.test("engine: line and column are 1-based bytes; multiple findings ordered", () => {
  const text = `é\n  ${AWS} ${GH}\n`;
  const found = engine().scan(enc.encode(text), "x");
  assert.deepEqual(found.map((f) => [f.ruleId, f.line, f.column]), [
    ["aws-access-key-id", 2, 3],
    ["github-pat", 2, 24],
  ]);
});

Deno.test("engine: a finding split across any chunk boundary is the same finding", () => {
  // Items are scanned whole; this checks that surrounding text never changes the span.
  const e = engine();
  const text = `a ${GH} b`;
  for (let cut = 0; cut <= text.length; cut++) {
    const padded = text.slice(0, cut) + "\n" + text.slice(cut);
    const found = e.scan(enc.encode(padded), "x").filter((f) =>
      f.ruleId === "github-pat"
    );
    const expected = cut > 2 && cut < 2 + GH.length ? 0 : 1;
    assert.equal(found.length, expected, `cut ${cut}`);
  }
});

Deno.test("item: zip, tar.gz and gzip members are scanned; binary skipped", () => {
  const e = engine();
  const opts = { engine: e, scanBinary: false, skipArchives: false };
  const zip = zipSync({
    "dir/k.txt": enc.encode(`x ${AWS}`),
    "b.bin": new Uint8Array([0, 1, 2]),
  });
  const r = scanItem(zip, "a.zip", opts);
  assert.deepEqual(r.findings.map((f) => [f.member, f.ruleId]), [[
    "dir/k.txt",
    "aws-access-key-id",
  ]]);
  assert.equal(r.membersScanned, 2);
  const nested = zipSync({ "inner.zip": zipSync({ "s.txt": enc.encode(GH) }) });
  assert.deepEqual(
    scanItem(nested, "n.zip", opts).findings.map((f) => f.member),
    ["inner.zip!s.txt"],
  );
  const gz = gzipSync(enc.encode(`t ${GH}`));
  assert.deepEqual(
    scanItem(gz, "c.txt.gz", opts).findings.map((f) => f.member),
    ["c.txt"],
  );
  assert.equal(
    scanItem(zip, "a.zip", { ...opts, skipArchives: true }).findings.length,
    0,
  );
  const bin = new Uint8Array([...enc.encode(GH), 0]);
  assert.ok(scanItem(bin, "b", opts).skippedBinary);
  assert.equal(
    scanItem(bin, "b", { ...opts, scanBinary: true }).findings.length,
    1,
  );
});

Deno.test("bytesToText: one char per byte at any alignment, ASCII or not", () => {
  const utf8 = new TextDecoder();
  const latin1 = new TextDecoder("latin1");
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 40 }), fc.nat(7), (b, offset) => {
      const buffer = new Uint8Array(b.length + offset);
      buffer.set(b, offset);
      const text = bytesToText(buffer.subarray(offset));
      const want = b.every((x) => x < 0x80) ? utf8.decode(b) : latin1.decode(b);
      assert.equal(text, want);
      assert.equal(text.length, b.length);
    }),
    { numRuns: 2000 },
  );
});
