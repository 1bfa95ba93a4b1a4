import assert from "node:assert/strict";
import { startRouter } from "./router.ts";
import { connect } from "./connect.ts";
import { isProtocolError } from "../wire/errors.ts";
import { PathNotRoutableError } from "../router/layout.ts";
import {
  fixtureCommand,
  tempWorkspace,
  TEST_WORKER_PROGRAM,
  waitFor,
} from "./router_test_util.ts";

/** The per-run counter part of a revision (`epoch * 2^32 + counter`). */
const counter = (rev: number | bigint): number =>
  Number(BigInt(rev) & 0xffffffffn);

const names = (hits: { symbol: { name: string } }[]): string[] =>
  hits.map((h) => h.symbol.name);

Deno.test("indexWorkspace() with real worker processes: ranking, diagnostics, stats", async () => {
  await using ws = await tempWorkspace({
    "a/p/FooBar.java": "package p;\npublic class FooBar {\n  int x;\n}\n",
    "a/p/Broken.java": "class Broken { int x = \n",
    "b/q/Foo.java": "class foobar {}\nclass barfoo {}\n",
  });
  await using router = await startRouter({
    roots: [ws.path("a"), ws.path("b")],
    spawnWorkers: { program: TEST_WORKER_PROGRAM, cacheDir: ws.path("cache") },
  });
  const progress: number[] = [];
  const result = await router.indexWorkspace({
    onProgress: (p) => progress.push(p.shardsDone),
  });
  assert.equal(counter(result.revision), 1);
  assert.equal(result.files, 3);
  assert.equal(progress.at(-1), 2);
  // Prefix matches outrank fuzzy ones; acronyms work.
  const foo = names(router.workspaceSymbols("foo"));
  assert.ok(foo.indexOf("foobar") < foo.indexOf("barfoo"));
  const fb = names(router.workspaceSymbols("fb"));
  assert.ok(fb.indexOf("FooBar") < fb.indexOf("foobar"));
  const hit = router.workspaceSymbols("FooBar")[0];
  assert.equal(hit.symbol.path, ws.path("a/p/FooBar.java"));
  assert.equal(hit.symbol.line, 1);
  assert.equal(hit.symbol.column, 13);
  assert.equal(hit.shardId, 0);
  assert.equal(hit.stale, false);
  const diags = await router.diagnostics(ws.path("a/p/Broken.java"));
  assert.ok(diags.length > 0);
  assert.deepEqual(await router.diagnostics(ws.path("elsewhere/X.java")), []);
  const stats = await router.workerStats();
  assert.equal(stats.get(0)?.file_count, 2);
  assert.equal(stats.get(1)?.file_count, 1);
});

Deno.test("updateFile() routes by the longest root, checks paths, and nested roots do not duplicate", async () => {
  await using ws = await tempWorkspace({
    "w/Outer.java": "class Outer {}\n",
    "w/inner/Inner.java": "class Inner {}\n",
  });
  await using router = await startRouter({
    roots: [ws.path("w"), ws.path("w/inner")],
    spawnWorkers: { command: fixtureCommand(), cacheDir: ws.path("cache") },
  });
  await router.indexWorkspace();
  assert.deepEqual(
    router.workspaceSymbols("Inner").map((h) => [h.symbol.name, h.shardId]),
    [["Inner", 1]],
  );
  await router.updateFile(ws.path("w/inner/New.java"), "class NestedNew {}");
  assert.equal(router.workspaceSymbols("NestedNew")[0].shardId, 1);
  await router.updateFile(ws.path("w/Top.java"), "class TopNew {}");
  assert.equal(router.workspaceSymbols("TopNew")[0].shardId, 0);
  await assert.rejects(
    router.updateFile(ws.path("w/notes.txt"), "x"),
    (e) => e instanceof PathNotRoutableError && e.reason === "not_java",
  );
  await assert.rejects(
    router.updateFile(ws.path("elsewhere/X.java"), "class X {}"),
    (e) => e instanceof PathNotRoutableError && e.reason === "outside_roots",
  );
  const stats = await router.workerStats();
  assert.equal(stats.get(0)?.file_count, 2);
  assert.equal(stats.get(1)?.file_count, 2);
});

Deno.test("unsaved overlay survives a worker kill (rehydration is disk + overlay)", async () => {
  await using ws = await tempWorkspace({
    "a/A1.java": "class Alpha {}\n",
    "a/A2.java": "class Beta {}\n",
  });
  await using router = await startRouter({
    roots: [ws.path("a")],
    spawnWorkers: { command: fixtureCommand(), cacheDir: ws.path("cache") },
  });
  await router.indexWorkspace();
  await router.updateFile(
    ws.path("a/A1.java"),
    "class Alpha {}\nclass Unsaved {}\n",
  );
  assert.deepEqual(router.overlayPaths(), [ws.path("a/A1.java")]);
  const pid = router.workerPid(0);
  assert.ok(router.killWorker(0));
  await waitFor(
    "restart",
    () =>
      router.workerPid(0) !== undefined && router.workerPid(0) !== pid &&
      router.shardStatus()[0].connected,
  );
  // The restarted worker got the whole shard back, including unsaved text.
  const stats = await router.workerStats();
  assert.equal(stats.get(0)?.file_count, 2);
  // A further edit rebuilds from the worker's file map: nothing is lost.
  await router.updateFile(
    ws.path("a/A2.java"),
    "class Beta {}\nclass Gamma {}\n",
  );
  for (const name of ["Alpha", "Unsaved", "Beta", "Gamma"]) {
    assert.equal(names(router.workspaceSymbols(name))[0], name, name);
  }
  assert.equal(router.workspaceSymbols("Unsaved")[0].stale, false);
  assert.ok(router.discardOverlay(ws.path("a/A1.java")));
});

Deno.test("revision epochs: a fresh index beats a cached index of an earlier router run", async () => {
  await using ws = await tempWorkspace({ "a/A.java": "class OldName {}\n" });
  const options = {
    roots: [ws.path("a")],
    spawnWorkers: { command: fixtureCommand(), cacheDir: ws.path("cache") },
  };
  {
    await using router = await startRouter(options);
    await router.indexWorkspace();
    for (let i = 0; i < 5; i++) {
      await router.updateFile(
        ws.path("a/A.java"),
        `class OldName {}\nclass V${i} {}\n`,
      );
    }
    assert.equal(counter(router.revision), 6);
  }
  await ws.write("a/A.java", "class NewName {}\n");
  await using router = await startRouter(options);
  await router.waitForWorkers();
  // Warm: the cached symbols (revision 6 of the earlier run) are searchable
  // before any indexing...
  assert.equal(router.shardStatus()[0].warm, true);
  assert.equal(names(router.workspaceSymbols("OldName"))[0], "OldName");
  // ...and the fresh index at revision 1 of this run replaces them.
  const result = await router.indexWorkspace();
  assert.equal(counter(result.revision), 1);
  assert.deepEqual(names(router.workspaceSymbols("NewName")), ["NewName"]);
  assert.deepEqual(names(router.workspaceSymbols("OldName")), []);
});

Deno.test("warm start rehydrates the worker file map with LoadFiles", async () => {
  await using ws = await tempWorkspace({
    "a/A1.java": "class Delta {}\n",
    "a/A2.java": "class Epsilon {}\n",
  });
  const options = {
    roots: [ws.path("a")],
    spawnWorkers: { command: fixtureCommand(), cacheDir: ws.path("cache") },
  };
  {
    await using router = await startRouter(options);
    await router.indexWorkspace();
  }
  await using router = await startRouter(options);
  await router.waitForWorkers();
  assert.equal(names(router.workspaceSymbols("Delta"))[0], "Delta");
  const stats = await router.workerStats();
  assert.equal(stats.get(0)?.file_count, 2);
  await router.updateFile(
    ws.path("a/A1.java"),
    "class Delta {}\nclass Gamma {}\n",
  );
  assert.equal(names(router.workspaceSymbols("Epsilon"))[0], "Epsilon");
  assert.equal(names(router.workspaceSymbols("Gamma"))[0], "Gamma");
});

Deno.test("a delayed cached index does not overwrite a newer index", async () => {
  await using ws = await tempWorkspace({
    "a/A.java": "class FreshSymbol {}\n",
  });
  await using router = await startRouter({ roots: [ws.path("a")] });
  const worker = await connect(router.address, { shardId: 0 });
  let generation = 1;
  worker.setRequestHandler((req) => {
    if (req.type !== "index_shard") {
      return { status: "ok", value: { type: "ack" } };
    }
    generation++;
    return {
      status: "ok",
      value: {
        type: "shard_index",
        body: {
          shard_id: 0,
          revision: req.revision,
          index_generation: generation,
          symbols: [{
            name: "FreshSymbol",
            path: ws.path("a/A.java"),
            line: 0,
            column: 6,
          }],
        },
      },
    };
  });
  await router.indexWorkspace();
  const stale = (revision: number, gen: number) =>
    worker.notify({
      type: "cached_index",
      body: {
        shard_id: 0,
        revision,
        index_generation: gen,
        symbols: [{
          name: "StaleSymbol",
          path: ws.path("a/A.java"),
          line: 0,
          column: 0,
        }],
      },
    });
  stale(0, 999);
  stale(1, 1);
  stale(99, 99);
  await new Promise((r) => setTimeout(r, 200));
  assert.deepEqual(names(router.workspaceSymbols("")), ["FreshSymbol"]);
  await worker.close();
});

Deno.test("non-UTF-8 files are skipped and reported, not fatal", async () => {
  await using ws = await tempWorkspace({ "a/Good.java": "class Good {}\n" });
  await ws.write("a/Bad.java", new Uint8Array([0x63, 0xff, 0xfe, 0x0a]));
  await using router = await startRouter({
    roots: [ws.path("a")],
    spawnWorkers: { command: fixtureCommand(), cacheDir: ws.path("cache") },
  });
  const result = await router.indexWorkspace();
  assert.equal(result.files, 1);
  assert.deepEqual(result.skipped, [{
    path: ws.path("a/Bad.java"),
    reason: "not_utf8",
  }]);
  assert.equal(names(router.workspaceSymbols("Good"))[0], "Good");
});

Deno.test("calls after shutdown fail with connection_closed", async () => {
  await using ws = await tempWorkspace({});
  const router = await startRouter({ roots: [ws.path("a")] });
  await router.shutdown();
  await assert.rejects(
    router.indexWorkspace(),
    (e) => isProtocolError(e, "connection_closed"),
  );
});

Deno.test("a worker that restarts without a cache is re-indexed (disk + overlay)", async () => {
  await using ws = await tempWorkspace({
    "a/A1.java": "class Alpha {}\n",
    "a/A2.java": "class Beta {}\n",
  });
  const events: string[] = [];
  await using router = await startRouter({
    roots: [ws.path("a")],
    spawnWorkers: { command: fixtureCommand(), cacheDir: ws.path("cache") },
    onEvent: (e) => {
      if (e.type === "worker_rehydrated") events.push(`${e.mode}:${e.files}`);
    },
  });
  await router.indexWorkspace();
  await router.updateFile(
    ws.path("a/A2.java"),
    "class Beta {}\nclass Kept {}\n",
  );
  await Deno.remove(ws.path("cache/shard_0.bin"));
  const pid = router.workerPid(0);
  router.killWorker(0);
  await waitFor(
    "re-index",
    () => events.length > 0 && router.workerPid(0) !== pid,
  );
  assert.deepEqual(events, ["index_shard:2"]);
  assert.equal((await router.workerStats()).get(0)?.file_count, 2);
  assert.equal(names(router.workspaceSymbols("Kept"))[0], "Kept");
});
