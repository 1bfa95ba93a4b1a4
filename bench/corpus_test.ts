// The corpus benchmark's code path on a small zip (the real corpus is too
// slow for CI): unzip once, ctags, cold and warm `search`, peak RSS,
// search latency through `router serve`. The bench reads /proc, which Deno
// grants only with -A, so it runs as a command, as `deno task` runs it.
import assert from "node:assert/strict";
import { zipSync } from "fflate";
import {
  type CorpusBenchResult,
  CorpusBenchSetupError,
  formatCorpusTable,
  runCorpusBench,
} from "./corpus.ts";

const script = decodeURIComponent(
  new URL("./corpus.ts", import.meta.url).pathname,
);

async function bench(
  args: string[],
): Promise<{ code: number; stdout: string; stderr: string }> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "--quiet", script, ...args],
    stdin: "null",
  }).output();
  const dec = new TextDecoder();
  return {
    code: out.code,
    stdout: dec.decode(out.stdout),
    stderr: dec.decode(out.stderr),
  };
}

Deno.test("bench:corpus runs end to end on a small zip", async () => {
  const dir = await Deno.makeTempDir({ prefix: "loom-corpus-test-" });
  try {
    const enc = new TextEncoder();
    const files: Record<string, Uint8Array> = {
      "java.base/README": enc.encode("not java"),
    };
    for (let i = 0; i < 20; i++) {
      files[`java.base/java/util/HashMap${i}.java`] = enc.encode(
        `package java.util;\npublic class HashMap${i} {\n  int size() { return ${i}; }\n}\n`,
      );
    }
    const zip = `${dir}/src.zip`;
    await Deno.writeFile(zip, zipSync(files));
    const args = [
      "--zip",
      zip,
      "--cache-dir",
      `${dir}/cache`,
      "--runs",
      "1",
      "--query-reps",
      "1",
      "--queries",
      "HashMap,size,hm",
      "--json",
    ];
    const first = await bench(args);
    assert.equal(first.code, 0, first.stderr);
    const result: CorpusBenchResult = JSON.parse(first.stdout);
    assert.equal(result.files, 20);
    assert.equal(result.modes.length, 2);
    for (const m of result.modes) {
      assert.ok(m.cold.wallMs > 0 && m.warm.wallMs > 0);
      // Router and at least one worker were sampled.
      assert.ok(m.cold.processes >= 2, `${m.cold.processes} processes`);
      assert.ok(m.cold.peakRssBytes > 0);
      assert.equal(m.searches, 3);
      assert.match(m.summary, /0 shard\(s\) from cache, 1 indexed/);
    }
    const table = formatCorpusTable(result);
    assert.match(table, /^corpus: 20 \.java files/);
    assert.match(table, /loom local cold/);
    assert.match(table, /loom distributed search: p50/);
    assert.match(first.stderr, /unzipping/);
    // The second run reuses the unzipped corpus.
    const second = await bench([...args, "--modes", "distributed"]);
    assert.equal(second.code, 0, second.stderr);
    assert.doesNotMatch(second.stderr, /unzipping/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("bench:corpus says what to install when the sources are missing", async () => {
  const err = await runCorpusBench({
    zip: "/definitely/not/here/src.zip",
    cacheDir: "/definitely/not/here/cache",
  }).catch((e) => e);
  assert.ok(err instanceof CorpusBenchSetupError);
  assert.match(err.message, /openjdk-17-source/);
  const cli = await bench(["--zip", "/definitely/not/here/src.zip"]);
  assert.equal(cli.code, 1);
  assert.match(cli.stderr.trim(), /^bench:corpus: .*openjdk-17-source/);
});
