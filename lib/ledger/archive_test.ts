import assert from "node:assert/strict";
import { gzipSync, zipSync } from "fflate";
import {
  archiveKind,
  expandArchive,
  gunzipBounded,
  parseTar,
  parseZip,
} from "./archive.ts";
import { LedgerError } from "./errors.ts";

const enc = new TextEncoder();

function tar(files: Record<string, string>): Uint8Array {
  const blocks: Uint8Array[] = [];
  for (const [name, text] of Object.entries(files)) {
    const data = enc.encode(text);
    const h = new Uint8Array(512);
    h.set(enc.encode(name), 0);
    h.set(enc.encode("0000644\0"), 100);
    h.set(enc.encode(data.length.toString(8).padStart(11, "0") + "\0"), 124);
    h[156] = 0x30;
    h.set(enc.encode("ustar\0" + "00"), 257);
    blocks.push(h);
    const body = new Uint8Array(Math.ceil(data.length / 512) * 512);
    body.set(data);
    blocks.push(body);
  }
  blocks.push(new Uint8Array(1024));
  const out = new Uint8Array(blocks.reduce((n, b) => n + b.length, 0));
  let at = 0;
  for (const b of blocks) {
    out.set(b, at);
    at += b.length;
  }
  return out;
}

const LIMITS = {
  maxMemberBytes: 100,
  maxMembers: 3,
  maxTotalBytes: 150,
  maxDepth: 3,
};

Deno.test("archive kinds by magic", () => {
  assert.equal(archiveKind(zipSync({ a: new Uint8Array(1) })), "zip");
  assert.equal(archiveKind(gzipSync(new Uint8Array(1))), "gzip");
  assert.equal(archiveKind(tar({ a: "x" })), "tar");
  assert.equal(archiveKind(enc.encode("plain text")), null);
});

Deno.test("tar: members, sizes checked before slicing, truncation is an error", () => {
  const t = tar({ "a.txt": "hello", "dir/b.txt": "x".repeat(600) });
  const members = parseTar(t);
  assert.deepEqual(members.map((m) => [m.name, m.bytes?.length]), [
    ["a.txt", 5],
    ["dir/b.txt", 600],
  ]);
  assert.deepEqual(parseTar(t, LIMITS).map((m) => m.skipped), [
    null,
    "maxMemberBytes",
  ]);
  assert.throws(
    () => parseTar(t.subarray(0, 1100)),
    (e: unknown) => e instanceof LedgerError && e.code === "source_failed",
  );
  // Every truncation either parses a prefix or fails with a code.
  for (let i = 0; i < t.length; i += 97) {
    try {
      parseTar(t.subarray(0, i));
    } catch (e) {
      assert.ok(e instanceof LedgerError);
    }
  }
});

Deno.test("zip: declared sizes checked before inflating; member and total limits", () => {
  const z = zipSync({
    a: enc.encode("1".repeat(90)),
    b: enc.encode("2".repeat(90)),
    c: enc.encode("3".repeat(200)),
  });
  const members = parseZip(z, LIMITS);
  assert.deepEqual(members.map((m) => [m.name, m.skipped]), [["a", null], [
    "b",
    "maxTotalBytes",
  ], ["c", "maxMemberBytes"]]);
  assert.throws(
    () => parseZip(z.subarray(0, 40)),
    (e: unknown) => e instanceof LedgerError && e.code === "source_failed",
  );
});

Deno.test("gzip: bounded output, tar.gz expands to members", () => {
  const bomb = gzipSync(new Uint8Array(1_000_000));
  assert.equal(gunzipBounded(bomb, 1000), null);
  const tgz = gzipSync(tar({ "k.txt": "key" }));
  assert.deepEqual(expandArchive(tgz, "gzip", "x.tar.gz").map((m) => m.name), [
    "k.txt",
  ]);
  assert.deepEqual(
    expandArchive(bomb, "gzip", "z.gz", LIMITS).map((m) => m.skipped),
    ["maxMemberBytes"],
  );
  assert.throws(() =>
    gunzipBounded(new Uint8Array([0x1f, 0x8b, 8, 0, 1, 2, 3]), 10)
  );
});
