import assert from "node:assert/strict";
import { ThreadReader } from "./_router_reader.ts";
import { listJavaFiles, readJavaFiles } from "./workspace_fs.ts";

async function makeTree(): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "loom-reader-" });
  const enc = new TextEncoder();
  await Deno.mkdir(`${dir}/a/b`, { recursive: true });
  await Deno.mkdir(`${dir}/other`, { recursive: true });
  await Deno.writeTextFile(`${dir}/a/A.java`, "class A {}\n");
  await Deno.writeTextFile(`${dir}/a/b/B.java`, "\ufeffclass B { int é; }\n");
  await Deno.writeTextFile(`${dir}/a/b/notes.txt`, "not java");
  await Deno.writeFile(`${dir}/a/Bad.java`, new Uint8Array([0x63, 0xff, 0x0a]));
  await Deno.writeFile(`${dir}/a/Big.java`, enc.encode("x".repeat(100)));
  await Deno.writeTextFile(`${dir}/other/C.java`, "class C {}\n");
  return dir;
}

Deno.test("ThreadReader reads like readJavaFiles", async () => {
  const dir = await makeTree();
  const reader = new ThreadReader();
  try {
    for (const exclude of [new Set<string>(), new Set([`${dir}/other`])]) {
      const seen: [string, number][][] = [[], []];
      const options = (k: number) => ({
        maxFileBytes: 64,
        onFile: (p: string, b: number) => seen[k].push([p, b]),
      });
      // A listed file that vanished is left out.
      const paths = [
        ...await listJavaFiles(dir, { exclude }),
        `${dir}/a/Gone.java`,
      ].sort();
      const expected = await readJavaFiles(paths, options(0));
      const actual = await reader.read(paths, options(1));
      assert.deepEqual(actual, expected);
      assert.deepEqual(seen[1], seen[0]);
      assert.equal(actual.files.length, exclude.size === 0 ? 3 : 2);
      assert.deepEqual(
        actual.skipped.map((s) => s.reason).sort(),
        ["not_utf8", "too_large"],
      );
    }
    assert.deepEqual(await reader.read([]), {
      files: [],
      bytes: 0,
      skipped: [],
    });
  } finally {
    reader.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("ThreadReader honours an aborted signal", async () => {
  const reader = new ThreadReader();
  try {
    const c = new AbortController();
    c.abort(new Error("stop"));
    await assert.rejects(
      reader.read(["/definitely/not/here/A.java"], { signal: c.signal }),
      /stop/,
    );
  } finally {
    reader.close();
  }
});

Deno.test("ThreadReader falls back to this thread once closed", async () => {
  const dir = await makeTree();
  const reader = new ThreadReader();
  reader.close();
  try {
    const paths = await listJavaFiles(dir);
    const snap = await reader.read(paths, { maxFileBytes: 64 });
    assert.deepEqual(snap, await readJavaFiles(paths, { maxFileBytes: 64 }));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
