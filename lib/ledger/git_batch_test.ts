import assert from "node:assert/strict";
import fc from "fast-check";
import { LedgerError } from "./errors.ts";
import { CatFileBatchDecoder, type CatFileEvent } from "./git_batch.ts";

const enc = new TextEncoder();
const STREAM = enc.encode(
  "aaaa blob 5\nhello\nbbbb blob 0\n\ncccc missing\ndddd blob 12\nbig-one-here\neeee tree 3\nxyz\n",
);

function run(chunks: Uint8Array[], max = 10): CatFileEvent[] {
  const d = new CatFileBatchDecoder({
    maxObjectBytes: max,
    maxHeaderBytes: 64,
  });
  const out = chunks.flatMap((c) => d.push(c));
  d.finish();
  return out;
}

function summary(events: CatFileEvent[]): string[] {
  return events.map((e) =>
    e.kind === "object"
      ? `${e.oid}:${e.type}:${new TextDecoder().decode(e.bytes)}`
      : e.kind === "missing"
      ? `${e.name}:missing`
      : `${e.oid}:too_large:${e.size}`
  );
}

const EXPECTED = [
  "aaaa:blob:hello",
  "bbbb:blob:",
  "cccc:missing",
  "dddd:too_large:12",
  "eeee:tree:xyz",
];

Deno.test("cat-file decoder: whole", () => {
  assert.deepEqual(summary(run([STREAM])), EXPECTED);
});

Deno.test("cat-file decoder: byte by byte", () => {
  assert.deepEqual(
    summary(run([...STREAM].map((b) => new Uint8Array([b])))),
    EXPECTED,
  );
});

Deno.test("cat-file decoder: split at every offset", () => {
  for (let i = 0; i <= STREAM.length; i++) {
    assert.deepEqual(
      summary(run([STREAM.subarray(0, i), STREAM.subarray(i)])),
      EXPECTED,
      `at ${i}`,
    );
  }
});

Deno.test("cat-file decoder: random splits (property)", () => {
  fc.assert(
    fc.property(fc.array(fc.nat(STREAM.length), { maxLength: 8 }), (cuts) => {
      const points = [0, ...cuts.sort((a, b) => a - b), STREAM.length];
      const chunks = points.slice(1).map((p, i) =>
        STREAM.subarray(points[i], p)
      );
      return JSON.stringify(summary(run(chunks))) === JSON.stringify(EXPECTED);
    }),
  );
});

Deno.test("cat-file decoder: errors have codes", () => {
  const cases: [string, string][] = [
    ["aaaa blob x\n", "source_failed"],
    ["aaaa blob 2\nhiX", "source_failed"],
    ["a".repeat(100), "limit_exceeded"],
  ];
  for (const [text, code] of cases) {
    assert.throws(
      () => run([enc.encode(text)]),
      (e: unknown) => e instanceof LedgerError && e.code === code,
    );
  }
  assert.throws(
    () => run([enc.encode("aaaa blob 5\nhel")]),
    (e: unknown) => e instanceof LedgerError && e.code === "source_failed",
  );
});
