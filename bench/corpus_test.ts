// The corpus benchmark's code path on a small zip (the real corpus is too
// slow for CI): unzip once, ctags, cold and warm `search`, peak RSS,
// search latency through `router serve`.
import assert from "node:assert/strict";
import { zipSync } from "fflate";
import {
  CorpusBenchSetupError,
  formatCorpusTable,
  runCorpusBench,
} from "./corpus.ts";

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
    const lines: string[] = [];
    const options = {
      zip,
      cacheDir: `${dir}/cache`,
      runs: 1,
      queryReps: 1,
      queries: ["HashMap", "size", "hm"],
      log: (l: string) => lines.push(l),
    };
    const result = await runCorpusBench(options);
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
    assert.ok(lines.some((l) => l.includes("unzipping")));
    // The second run reuses the unzipped corpus.
    lines.length = 0;
    await runCorpusBench({ ...options, modes: ["distributed"] });
    assert.ok(!lines.some((l) => l.includes("unzipping")));
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
});
