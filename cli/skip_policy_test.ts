// One policy for files that cannot be indexed: skip, count, report the
// count and the first paths on every run (cold or warm); --strict fails.
import assert from "node:assert/strict";
import { tempWorkspace } from "../lib/net/router_test_util.ts";

const main = decodeURIComponent(new URL("./main.ts", import.meta.url).pathname);

async function search(
  args: string[],
  deny: string[],
): Promise<{ code: number; stdout: string; stderr: string }> {
  // Deno's permission denial is an unreadable file or directory even for
  // root, which ignores mode bits.
  const out = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      `--deny-read=${deny.join(",")}`,
      "--quiet",
      main,
      "search",
      ...args,
    ],
    stdin: "null",
  }).output();
  const dec = new TextDecoder();
  return {
    code: out.code,
    stdout: dec.decode(out.stdout),
    stderr: dec.decode(out.stderr),
  };
}

Deno.test("search: unreadable, non-UTF-8 and oversized files are skipped and reported cold and warm; --strict fails", async () => {
  await using ws = await tempWorkspace({
    "ok/A.java": "class Alpha {}\n",
    "ok/Locked.java": "class Locked {}\n",
    "ok/secret/S.java": "class Secret {}\n",
  });
  await ws.write("ok/Latin1.java", new Uint8Array([0x63, 0xe9, 0x0a]));
  await ws.write("ok/Big.java", "// " + "x".repeat(9 * 1024 * 1024) + "\n");
  const deny = [ws.path("ok/Locked.java"), ws.path("ok/secret")];
  const args = [
    "--root",
    ws.path("ok"),
    "--cache-dir",
    ws.path("cache"),
    "--no-progress",
    "Alpha",
  ];
  const expectReport = (stderr: string): void => {
    assert.match(
      stderr,
      /^search: skipped 4 file\(s\): (?=.*2 unreadable)(?=.*1 not UTF-8)(?=.*1 too large)/m,
    );
    assert.match(
      stderr,
      new RegExp(
        `${
          ws.path("ok/Big.java")
        } \\(larger than the 8388608-byte file limit\\)`,
      ),
    );
    assert.ok(stderr.includes(`${ws.path("ok/Latin1.java")} (not UTF-8)`));
    assert.ok(stderr.includes(`${ws.path("ok/Locked.java")} (unreadable`));
    assert.ok(stderr.includes(`${ws.path("ok/secret")} (unreadable`));
  };
  const cold = await search(args, deny);
  assert.equal(cold.code, 0, cold.stderr);
  assert.equal(cold.stdout, `${ws.path("ok/A.java")}:1:7  Alpha\n`);
  expectReport(cold.stderr);
  assert.match(cold.stderr, /0 shard\(s\) from cache, 1 indexed/);
  const warm = await search(args, deny);
  assert.equal(warm.code, 0, warm.stderr);
  expectReport(warm.stderr);
  assert.match(warm.stderr, /1 shard\(s\) from cache, 0 indexed/);
  const strict = await search(["--strict", ...args], deny);
  assert.equal(strict.code, 1);
  assert.equal(strict.stdout, "");
  assert.match(
    strict.stderr.trimEnd().split("\n").at(-1)!,
    /^search: --strict: 4 file\(s\) skipped$/,
  );
  assert.doesNotMatch(strict.stderr, /^\s+at /m);
});
