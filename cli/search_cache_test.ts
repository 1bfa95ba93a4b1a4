/**
 * The shard cache cannot lie: attacker-driven end-to-end runs of `search`
 * against a corrupted cache file, a cache directory reused for another
 * root, and a file replaced by an older copy with its old mtime (`cp -p`).
 */

import assert from "node:assert/strict";
import { tempWorkspace } from "../lib/net/router_test_util.ts";

const main = new URL("./main.ts", import.meta.url).pathname;

async function search(
  args: string[],
): Promise<{ code: number; stdout: string; stderr: string }> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "--quiet", main, "search", "--no-progress", ...args],
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const dec = new TextDecoder();
  return {
    code: out.code,
    stdout: dec.decode(out.stdout),
    stderr: dec.decode(out.stderr),
  };
}

function replaceBytes(
  bytes: Uint8Array,
  from: string,
  to: string,
): Uint8Array {
  const enc = new TextEncoder();
  const a = enc.encode(from);
  const b = enc.encode(to);
  assert.equal(a.length, b.length);
  const out = bytes.slice();
  let hits = 0;
  for (let i = 0; i + a.length <= out.length; i++) {
    if (a.every((x, j) => out[i + j] === x)) {
      out.set(b, i);
      hits++;
    }
  }
  assert.ok(hits > 0, `${from} not found`);
  return out;
}

Deno.test("search: flipped bytes in shard_0.bin are a miss, never results", async () => {
  await using ws = await tempWorkspace({
    "a/Alpha.java": "class Alpha {}\n",
  });
  const base = ["--root", ws.path("a"), "--cache-dir", ws.path("cache")];
  const first = await search([...base, "Alpha"]);
  assert.equal(first.code, 0, first.stderr);
  const file = ws.path("cache/shard_0.bin");
  const bytes = await Deno.readFile(file);
  // A forged name and a forged path, same lengths; the mtime stays new.
  let forged = replaceBytes(bytes, "Alpha.java", "Owned.java");
  forged = replaceBytes(forged, "Alpha", "Evil1");
  await Deno.writeFile(file, forged);
  const second = await search([...base, "Evil1"]);
  assert.equal(second.code, 0, second.stderr);
  assert.equal(second.stdout, "");
  assert.match(second.stderr, /0 shard\(s\) from cache, 1 indexed/);
  const third = await search([...base, "Alpha"]);
  assert.match(third.stdout, /Alpha\.java:1:7 {2}Alpha/);
  assert.doesNotMatch(third.stdout, /Owned/);
});

Deno.test("search: a cache directory reused for another root is a miss", async () => {
  await using ws = await tempWorkspace({
    "a/A.java": "class Alpha1 {}\n",
    "b/B.java": "class Beta1 {}\n",
  });
  const cache = ["--cache-dir", ws.path("cache")];
  const b = await search(["--root", ws.path("b"), ...cache, "Beta1"]);
  assert.match(b.stdout, /B\.java/);
  const a = await search(["--root", ws.path("a"), ...cache, "Beta1"]);
  assert.equal(a.code, 0, a.stderr);
  assert.equal(a.stdout, "", "b's symbols served for root a");
  assert.match(a.stderr, /0 shard\(s\) from cache, 1 indexed/);
  const alpha = await search(["--root", ws.path("a"), ...cache, "Alpha1"]);
  assert.match(alpha.stdout, /A\.java:1:7 {2}Alpha1/);
  assert.match(alpha.stderr, /1 shard\(s\) from cache, 0 indexed/);
});

Deno.test("search: a file replaced by an older copy (cp -p) is re-read, by content", async () => {
  await using ws = await tempWorkspace({
    "a/A.java": "class OldName {}\n",
    "a/Keep.java": "class Keep {}\n",
  });
  const old = ws.path("a/A.java");
  const backup = ws.path("backup.java");
  await Deno.copyFile(old, backup);
  const past = new Date(Date.now() - 3_600_000);
  await Deno.utime(backup, past, past);
  const base = ["--root", ws.path("a"), "--cache-dir", ws.path("cache")];
  assert.equal((await search([...base, "OldName"])).code, 0);
  await ws.write("a/A.java", "class NewName {}\n");
  const edited = await search([...base, "NewName"]);
  assert.match(edited.stdout, /NewName/);
  // `cp -p backup A.java`: old text, old mtime, same size (an mtime-only
  // check sees a file older than the cache).
  await Deno.writeFile(old, await Deno.readFile(backup));
  await Deno.utime(old, past, past);
  const restored = await search([...base, "NewName"]);
  assert.equal(restored.code, 0, restored.stderr);
  assert.equal(restored.stdout, "", "symbols of text no longer on disk");
  const back = await search([...base, "OldName"]);
  assert.match(back.stdout, /A\.java:1:7 {2}OldName/);
  // Unchanged files keep the shard warm.
  const warm = await search([...base, "Keep"]);
  assert.match(warm.stderr, /1 shard\(s\) from cache, 0 indexed/);
});
