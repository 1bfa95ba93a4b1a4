// Protocol 3.0 fallback: a root too large for one packet of a 3.0 worker is
// split into nested roots by directory, and the search still works.
import assert from "node:assert/strict";
import { tempWorkspace } from "../lib/net/router_test_util.ts";

const main = decodeURIComponent(new URL("./main.ts", import.meta.url).pathname);

function padded(name: string, kib: number): string {
  const lines = [`package p;`, `public class ${name} {`, "  int only;"];
  for (let n = 0; lines.join("\n").length < kib * 1024; n++) {
    lines.push(`  // padding line ${n} padding padding padding padding`);
  }
  return lines.join("\n") + "\n}\n";
}

async function search(args: string[]) {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "--quiet", main, "search", ...args],
    stdin: "null",
  }).output();
  const dec = new TextDecoder();
  return {
    code: out.code,
    stdout: dec.decode(out.stdout),
    stderr: dec.decode(out.stderr),
  };
}

Deno.test("search --protocol 3.0: a root over the packet limit is split by directory", async () => {
  const files: Record<string, string> = {};
  // 6 directories of 512 KiB: 3 MiB, three times the 1 MiB limit below.
  for (let d = 0; d < 6; d++) {
    for (let i = 0; i < 4; i++) {
      files[`root/d${d}/Big${d}x${i}.java`] = padded(`Big${d}x${i}`, 128);
    }
  }
  files["root/Top.java"] = "class TopLevel {}\n";
  await using ws = await tempWorkspace(files);
  const args = [
    "--root",
    ws.path("root"),
    "--cache-dir",
    ws.path("cache"),
    "--protocol",
    "3.0",
    "--max-rpc-bytes",
    String(1024 * 1024),
    "--no-progress",
    "--limit",
    "100",
    "Big",
  ];
  const r = await search(args);
  assert.equal(r.code, 0, r.stderr);
  assert.match(
    r.stderr,
    /too large for one packet of its protocol 3\.0 worker .*splitting it by directory: 1 -> \d+ shard\(s\)/,
  );
  assert.equal(r.stdout.trim().split("\n").length, 24);
  const top = await search([...args.slice(0, -1), "TopLevel"]);
  assert.equal(top.code, 0, top.stderr);
  assert.match(top.stdout, /Top\.java:1:7 {2}TopLevel/);
  // 3.1 (the default): one shard, sent in batches, no split.
  const batched = await search([
    ...args.slice(0, 4),
    "--cache-dir",
    ws.path("cache31"),
    "--max-rpc-bytes",
    String(1024 * 1024),
    "--no-progress",
    "Big0x0",
  ]);
  assert.equal(batched.code, 0, batched.stderr);
  assert.doesNotMatch(batched.stderr, /splitting/);
  assert.match(batched.stderr, /0 shard\(s\) from cache, 1 indexed/);
});
