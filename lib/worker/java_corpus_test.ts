import assert from "node:assert/strict";
import { generateJavaCorpus } from "./java_corpus.ts";
import {
  extractJavaSymbols,
  javaDiagnostics,
  sortSymbols,
} from "./java_symbols.ts";

Deno.test("generateJavaCorpus() is deterministic per seed", () => {
  const a = generateJavaCorpus({ files: 30, seed: 5 });
  assert.deepEqual(a, generateJavaCorpus({ files: 30, seed: 5 }));
  assert.notDeepEqual(a, generateJavaCorpus({ files: 30, seed: 6 }));
});

Deno.test("generateJavaCorpus() makes about 2 KB of well-formed Java per file", () => {
  const files = generateJavaCorpus({ files: 200, seed: 1, root: "/r/" });
  const paths = new Set(files.map((f) => f.path));
  assert.equal(paths.size, 200);
  let bytes = 0;
  for (const f of files) {
    assert.ok(
      f.path.startsWith("/r/src/main/java/") && f.path.endsWith(".java"),
    );
    assert.deepEqual(javaDiagnostics(f.text), [], f.path);
    bytes += f.text.length;
  }
  assert.ok(
    bytes / 200 > 1500 && bytes / 200 < 2600,
    `${bytes / 200} bytes per file`,
  );
});

Deno.test("generateJavaCorpus() files index their declarations and nothing from bodies", () => {
  for (const f of generateJavaCorpus({ files: 50, seed: 3 })) {
    const names = new Set(
      sortSymbols(extractJavaSymbols(f.path, f.text)).map((s) => s.name),
    );
    const cls = f.path.slice(f.path.lastIndexOf("/") + 1, -".java".length);
    assert.ok(names.has(cls) && names.has("run") && names.has("compareTo"));
    assert.ok(names.has("serialVersionUID"));
    for (
      const hidden of [
        "local",
        "hidden",
        "compare",
        "Local",
        "r",
        "c",
        "block",
        "i",
      ]
    ) {
      assert.ok(!names.has(hidden), `${hidden} in ${f.path}`);
    }
  }
});

Deno.test("generateJavaCorpus() validates its options", () => {
  assert.deepEqual(generateJavaCorpus({ files: 0 }), []);
  assert.throws(() => generateJavaCorpus({ files: -1 }), RangeError);
  assert.throws(() => generateJavaCorpus({ files: 1.5 }), RangeError);
  assert.throws(
    () => generateJavaCorpus({ files: 1, methodsPerClass: -1 }),
    RangeError,
  );
});
