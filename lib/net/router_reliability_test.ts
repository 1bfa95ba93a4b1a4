/**
 * Router reliability against misbehaving workers (the scriptable fixture
 * worker over a real socket): forged symbols are dropped and counted.
 */

import assert from "node:assert/strict";
import { startRouter } from "./router.ts";
import { createLogger } from "./log.ts";
import { fixtureCommand, tempWorkspace } from "./_router_test_util.ts";

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
