import assert from "node:assert/strict";
import fc from "fast-check";
import {
  isJavaPath,
  normalizePath,
  PathNotRoutableError,
  WorkspaceLayout,
} from "./layout.ts";

function rejection(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof PathNotRoutableError);
    assert.ok(err instanceof RangeError);
    return err.reason;
  }
  assert.fail("expected a PathNotRoutableError");
}

Deno.test("WorkspaceLayout shard ids are root positions", () => {
  const layout = new WorkspaceLayout(["/w/a/src", "/w/b/src/"]);
  assert.equal(layout.shardCount, 2);
  assert.deepEqual(layout.roots, ["/w/a/src", "/w/b/src"]);
  assert.equal(layout.rootOf(1), "/w/b/src");
  assert.equal(layout.rootOf(2), undefined);
  assert.equal(layout.hasShard(1), true);
  assert.equal(layout.hasShard(2), false);
  assert.equal(layout.hasShard(-1), false);
  assert.equal(layout.routeFile("/w/b/src/p/B.java"), 1);
});

Deno.test("routeFile() compares whole path components", () => {
  const layout = new WorkspaceLayout(["/w/src"]);
  assert.equal(layout.routeFile("/w/src/A.java"), 0);
  assert.equal(
    rejection(() => layout.routeFile("/w/src2/A.java")),
    "outside_roots",
  );
  assert.equal(
    rejection(() => layout.routeFile("/w/srcA.java")),
    "outside_roots",
  );
  assert.equal(rejection(() => layout.routeFile("/w/src")), "outside_roots");
  assert.equal(
    rejection(() => layout.routeFile("/w/src/../etc/A.java")),
    "outside_roots",
  );
  assert.equal(layout.routeFile("/w//src/./p/../A.java"), 0);
});

Deno.test("routeFile() picks the longest root for nested roots", () => {
  // Order must not matter: the outer root may come first or last.
  for (
    const roots of [["/w", "/w/gen", "/w/gen/deep"], [
      "/w/gen/deep",
      "/w/gen",
      "/w",
    ]]
  ) {
    const layout = new WorkspaceLayout(roots);
    const idx = (r: string) => roots.indexOf(r);
    assert.equal(layout.routeFile("/w/A.java"), idx("/w"));
    assert.equal(layout.routeFile("/w/gen/G.java"), idx("/w/gen"));
    assert.equal(layout.routeFile("/w/gen/deep/x/D.java"), idx("/w/gen/deep"));
    assert.equal(layout.routeFile("/w/general/A.java"), idx("/w"));
    assert.equal(layout.ownsPath(idx("/w"), "/w/gen/G.java"), false);
    assert.equal(layout.ownsPath(idx("/w/gen"), "/w/gen/G.java"), true);
  }
});

Deno.test("routeFile() rejects non-.java files", () => {
  const layout = new WorkspaceLayout(["/w"]);
  assert.equal(rejection(() => layout.routeFile("/w/A.txt")), "not_java");
  assert.equal(rejection(() => layout.routeFile("/w/A.JAVA")), "not_java");
  assert.equal(rejection(() => layout.routeFile("/w/.java")), "not_java");
  assert.equal(rejection(() => layout.routeFile("/w/A.java/x")), "not_java");
  assert.equal(layout.shardForPath("/w/notes.txt"), 0);
});

Deno.test("relative paths only match relative roots", () => {
  const layout = new WorkspaceLayout(["a/src", "/abs"]);
  assert.equal(layout.routeFile("a/src/A.java"), 0);
  assert.equal(layout.routeFile("./a/src/A.java"), 0);
  assert.equal(layout.shardForPath("/a/src/A.java"), undefined);
  assert.equal(layout.shardForPath("abs/A.java"), undefined);
  assert.equal(layout.shardForPath("../a/src/A.java"), undefined);
});

Deno.test("WorkspaceLayout rejects bad roots and paths", () => {
  assert.throws(() => new WorkspaceLayout(["/w", "/w/"]), RangeError);
  assert.throws(() => new WorkspaceLayout([""]), RangeError);
  assert.throws(() => new WorkspaceLayout([1 as unknown as string]), TypeError);
  const layout = new WorkspaceLayout([]);
  assert.equal(layout.shardCount, 0);
  assert.equal(rejection(() => layout.routeFile("/A.java")), "outside_roots");
  assert.throws(() => layout.routeFile(""), RangeError);
  assert.throws(() => layout.routeFile("/a\0.java"), RangeError);
});

Deno.test("root / contains every absolute path", () => {
  const layout = new WorkspaceLayout(["/", "/w"]);
  assert.equal(layout.routeFile("/A.java"), 0);
  assert.equal(layout.routeFile("/w/A.java"), 1);
});

Deno.test("normalizePath() and isJavaPath()", () => {
  assert.equal(normalizePath("/"), "/");
  assert.equal(normalizePath("."), ".");
  assert.equal(normalizePath("a/../.."), "..");
  assert.equal(normalizePath("/a/b/../../.."), "/");
  assert.equal(isJavaPath("A.java"), true);
  assert.equal(isJavaPath("dir.java/x"), false);
});

const seg = fc.constantFrom("a", "b", "src", "gen", "..", ".", "");
const pathArb = fc.array(seg, { maxLength: 6 }).map((p) => "/" + p.join("/"));

Deno.test("routeFile() equals a naive longest-prefix rule (property)", () => {
  fc.assert(
    fc.property(
      fc.uniqueArray(pathArb, { maxLength: 4, selector: normalizePath }),
      pathArb,
      (roots, dir) => {
        const layout = new WorkspaceLayout(roots);
        const file = normalizePath(dir) + "/X.java";
        const norm = normalizePath(file);
        let best = -1;
        let bestLen = -1;
        layout.roots.forEach((r, i) => {
          const prefix = r === "/" ? "/" : r + "/";
          if (norm.startsWith(prefix) && r.length > bestLen) {
            best = i;
            bestLen = r.length;
          }
        });
        if (best < 0) {
          assert.equal(
            rejection(() => layout.routeFile(file)),
            "outside_roots",
          );
        } else assert.equal(layout.routeFile(file), best);
      },
    ),
    { numRuns: 500 },
  );
});
