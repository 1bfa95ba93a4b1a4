import assert from "node:assert/strict";
import fc from "fast-check";
import { WorkspaceLayout } from "./layout.ts";
import { UnsavedOverlay } from "./overlay.ts";

Deno.test("UnsavedOverlay set/get/delete with normalized keys", () => {
  const o = new UnsavedOverlay();
  o.set("/w/./A.java", "one");
  assert.equal(o.get("/w/A.java"), "one");
  assert.equal(o.has("/w//A.java"), true);
  o.set("/w/A.java", "twoé");
  assert.equal(o.size, 1);
  assert.equal(o.totalBytes, 5);
  assert.equal(o.delete("/w/A.java"), true);
  assert.equal(o.delete("/w/A.java"), false);
  assert.equal(o.totalBytes, 0);
  assert.equal(o.get("/w/A.java"), undefined);
  o.set("/b", "x");
  o.set("/a", "y");
  assert.deepEqual(o.paths(), ["/a", "/b"]);
  o.clear();
  assert.equal(o.size, 0);
});

Deno.test("rehydrate() = disk snapshot + overlay for the shard", () => {
  const layout = new WorkspaceLayout(["/w/a", "/w/b"]);
  const o = new UnsavedOverlay();
  o.set("/w/a/A.java", "class A { int unsaved; }");
  o.set("/w/a/New.java", "class New {}");
  o.set("/w/b/B.java", "class B2 {}");
  const disk = [
    { path: "/w/a/A.java", text: "class A {}" },
    { path: "/w/a/C.java", text: "class C {}" },
  ];
  const files = o.rehydrate(disk, { include: (p) => layout.ownsPath(0, p) });
  assert.deepEqual(files, [
    { path: "/w/a/A.java", text: "class A { int unsaved; }" },
    { path: "/w/a/C.java", text: "class C {}" },
    { path: "/w/a/New.java", text: "class New {}" },
  ]);
  assert.equal(disk[0].text, "class A {}"); // input untouched
});

Deno.test("UnsavedOverlay enforces its limits atomically", () => {
  const o = new UnsavedOverlay({ maxFiles: 1, maxBytes: 4 });
  o.set("/a", "abcd");
  assert.throws(() => o.set("/b", ""), RangeError);
  assert.throws(() => o.set("/a", "abcde"), RangeError);
  assert.equal(o.get("/a"), "abcd");
  o.set("/a", "ab");
  assert.equal(o.totalBytes, 2);
  assert.throws(() => new UnsavedOverlay({ maxFiles: -1 }), RangeError);
  assert.throws(() => o.set("/a", 1 as unknown as string), TypeError);
  assert.throws(() => o.set("", "x"), RangeError);
});

Deno.test("rehydrate() matches a map model (property)", () => {
  const path = fc.constantFrom(
    "/w/A.java",
    "/w/B.java",
    "/w/C.java",
    "/x/D.java",
  );
  fc.assert(
    fc.property(
      fc.array(fc.tuple(path, fc.option(fc.string({ maxLength: 4 })))),
      fc.uniqueArray(path),
      (ops, diskPaths) => {
        const o = new UnsavedOverlay();
        const model = new Map<string, string>();
        for (const [p, t] of ops) {
          if (t === null) {
            o.delete(p);
            model.delete(p);
          } else {
            o.set(p, t);
            model.set(p, t);
          }
        }
        const disk = diskPaths.map((p) => ({ path: p, text: "disk" }));
        const got = o.rehydrate(disk);
        const expected = [
          ...disk.map((f) => ({
            path: f.path,
            text: model.get(f.path) ?? f.text,
          })),
          ...[...model.keys()].filter((p) =>
            !(diskPaths as string[]).includes(p)
          ).sort().map((p) => ({
            path: p,
            text: model.get(p)!,
          })),
        ];
        assert.deepEqual(got, expected);
        assert.equal(o.size, model.size);
      },
    ),
    { numRuns: 300 },
  );
});
