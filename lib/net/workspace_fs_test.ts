import assert from "node:assert/strict";
import {
  collectJavaFiles,
  listJavaFiles,
  newestModification,
} from "./workspace_fs.ts";
import { tempWorkspace } from "./router_test_util.ts";

Deno.test("collectJavaFiles() takes regular .java files only, sorted, symlinks not followed", async () => {
  await using ws = await tempWorkspace({
    "r/b/B.java": "class B {}",
    "r/a/A.java": "class A {}",
    "r/a/notes.txt": "x",
    "r/a/Upper.JAVA": "class U {}",
    "outside/O.java": "class O {}",
    "r/nested/N.java": "class N {}",
  });
  await Deno.symlink(ws.path("outside/O.java"), ws.path("r/a/Link.java"));
  await Deno.symlink(ws.path("outside"), ws.path("r/linkdir"));
  const snap = await collectJavaFiles(ws.path("r"), {
    exclude: new Set([ws.path("r/nested")]),
  });
  assert.deepEqual(snap.files.map((f) => f.path), [
    ws.path("r/a/A.java"),
    ws.path("r/b/B.java"),
  ]);
  assert.equal(snap.bytes, 20);
  assert.deepEqual(await listJavaFiles(ws.path("r/a/A.java")), []);
});

Deno.test("collectJavaFiles() skips non-UTF-8 and oversized files, keeps a BOM", async () => {
  await using ws = await tempWorkspace({ "r/Big.java": "x".repeat(100) });
  await ws.write("r/Bad.java", new Uint8Array([0xc3, 0x28]));
  await ws.write("r/Bom.java", new Uint8Array([0xef, 0xbb, 0xbf, 0x63]));
  const seen: string[] = [];
  const snap = await collectJavaFiles(ws.path("r"), {
    maxFileBytes: 50,
    onFile: (p) => seen.push(p),
  });
  assert.deepEqual(snap.files, [{
    path: ws.path("r/Bom.java"),
    text: "\ufeffc",
  }]);
  assert.deepEqual(seen, [ws.path("r/Bom.java")]);
  assert.deepEqual(snap.skipped, [
    { path: ws.path("r/Bad.java"), reason: "not_utf8" },
    // The notice says the limit.
    { path: ws.path("r/Big.java"), reason: "too_large", limit: 50 },
  ]);
});

Deno.test("collectJavaFiles() honours an aborted signal", async () => {
  await using ws = await tempWorkspace({ "r/A.java": "class A {}" });
  const ac = new AbortController();
  ac.abort(new Error("stop"));
  await assert.rejects(
    collectJavaFiles(ws.path("r"), { signal: ac.signal }),
    /stop/,
  );
});

Deno.test("newestModification() sees edits, additions and removals", async () => {
  await using ws = await tempWorkspace({ "r/p/A.java": "class A {}" });
  const before = await newestModification(ws.path("r"));
  assert.ok(before > 0);
  const later = new Date(before + 5000);
  await Deno.utime(ws.path("r/p/A.java"), later, later);
  assert.equal(await newestModification(ws.path("r")), later.getTime());
  assert.equal(await newestModification(ws.path("missing")), 0);
});
