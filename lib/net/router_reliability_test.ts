/**
 * Router reliability against misbehaving workers (the scriptable fixture
 * worker over a real socket): forged symbols are dropped and counted.
 */

import assert from "node:assert/strict";
import { ShardError, startRouter } from "./router.ts";
import { createLogger } from "./log.ts";
import {
  fixtureAttempts,
  fixtureCommand,
  tempWorkspace,
  waitFor,
} from "./router_test_util.ts";

const quiet = createLogger({ level: "error", write: () => {} });

async function withKnobs(cacheDir: string, knobs: string): Promise<void> {
  await Deno.mkdir(cacheDir, { recursive: true, mode: 0o700 });
  await Deno.writeTextFile(`${cacheDir}/loom-router-test-worker.conf`, knobs);
}

Deno.test("symbols outside the shard, with control characters or impossible positions are dropped and counted", async () => {
  await using ws = await tempWorkspace({
    "a/A.java": "class Alpha {}\n",
  });
  const cacheDir = ws.path("cache");
  await withKnobs(cacheDir, "hostile_symbols=1\n");
  await using router = await startRouter({
    roots: [ws.path("a")],
    spawnWorkers: { command: fixtureCommand(), cacheDir },
    logger: quiet,
  });
  await router.waitForWorkers();
  const result = await router.indexWorkspace();
  assert.equal(result.files, 1);
  const all = await router.searchSymbols("", { limit: 100 });
  const paths = new Set(all.map((m) => m.symbol.path));
  assert.deepEqual([...paths], [ws.path("a/A.java")]);
  const names = all.map((m) => m.symbol.name);
  assert.deepEqual(names, ["Alpha"]);
  for (const q of ["shadow", "passwd", "dotdot", "Evil", "FarAway", "Wide"]) {
    assert.equal((await router.searchSymbols(q)).length, 0, q);
  }
  assert.equal(router.shardStatus()[0].rejectedSymbols, 6);
});

Deno.test("a worker answering IndexShard with ack degrades its shard only: restarted, reported, the rest served", async () => {
  await using ws = await tempWorkspace({
    "a/A.java": "class Alpha {}\n",
    "b/B.java": "class Beta {}\n",
  });
  const cacheDir = ws.path("cache");
  await withKnobs(cacheDir, "shard0.index_reply=ack\n");
  await using router = await startRouter({
    roots: [ws.path("a"), ws.path("b")],
    spawnWorkers: { command: fixtureCommand(), cacheDir },
    logger: quiet,
  });
  await router.waitForWorkers();
  const result = await router.indexWorkspace({ partial: true });
  assert.deepEqual(result.failed.map((f) => [f.shard, f.code]), [
    [0, "unexpected_response"],
  ]);
  assert.deepEqual(
    (await router.searchSymbols("Beta")).map((m) => m.symbol.name),
    ["Beta"],
  );
  const status = router.shardStatus();
  assert.equal(status[0].degraded?.code, "unexpected_response");
  assert.equal(status[1].degraded, undefined);
  // The broken worker was dropped and a fresh one started.
  await waitFor(
    "restart",
    async () => (await fixtureAttempts(cacheDir, 0)).length >= 2,
    10_000,
  );
  // Without `partial`, the first failure still fails the run.
  await assert.rejects(() => router.indexWorkspace(), ShardError);
});

Deno.test("a shard whose answer is too large fails alone when partial", async () => {
  await using ws = await tempWorkspace({
    "a/A.java": "class Alpha {}\n",
    "b/B.java": "class Beta {}\n",
  });
  const cacheDir = ws.path("cache");
  await withKnobs(cacheDir, "shard1.index_reply=too_large\n");
  await using router = await startRouter({
    roots: [ws.path("a"), ws.path("b")],
    spawnWorkers: { command: fixtureCommand(), cacheDir },
    logger: quiet,
  });
  await router.waitForWorkers();
  const result = await router.indexWorkspace({ partial: true });
  assert.equal(result.failed.length, 1);
  assert.equal(result.failed[0].shard, 1);
  assert.match(result.failed[0].message, /too_large/);
  assert.equal((await router.searchSymbols("Alpha")).length, 1);
});
