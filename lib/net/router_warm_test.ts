// Warm starts wait on evidence (the Hello's cached_index_info), not a timer.
import assert from "node:assert/strict";
import { startRouter } from "./router.ts";
import { connect } from "./connect.ts";
import { createLogger } from "./log.ts";
import { fixtureCommand, tempWorkspace } from "./router_test_util.ts";

const quiet = createLogger({ level: "error", write: () => {} });
const info = { revision: 1, index_generation: 1, symbol_count: 1 };
// The cached index names a file under the shard's root (the router drops
// symbols outside it).
const indexUnder = (root: string) => ({
  shard_id: 0,
  revision: 1,
  index_generation: 1,
  symbols: [{
    name: "Cached",
    path: `${root}/Cached.java`,
    line: 0,
    column: 6,
  }],
});

Deno.test("waitForWorkers() waits for an advertised cached index however late it comes", async () => {
  await using ws = await tempWorkspace({ "a/A.java": "class A {}\n" });
  await using router = await startRouter({
    roots: [ws.path("a")],
    logger: quiet,
  });
  const conn = await connect(router.address, {
    shardId: 0,
    logger: quiet,
    cachedIndexInfo: info,
  });
  // A busy machine: the cache takes longer than the old fixed 2 s.
  const late = setTimeout(() => {
    conn.notify({ type: "cached_index", body: indexUnder(ws.path("a")) });
  }, 2600);
  try {
    await router.waitForWorkers();
    assert.equal(router.shardStatus()[0].warm, true);
    assert.equal(router.workspaceSymbols("Cached")[0].symbol.name, "Cached");
  } finally {
    clearTimeout(late);
    await conn.close();
  }
});

Deno.test("waitForWorkers() does not wait for a worker without a cache", async () => {
  await using ws = await tempWorkspace();
  await using router = await startRouter({
    roots: [ws.path("a")],
    logger: quiet,
  });
  const conn = await connect(router.address, { shardId: 0, logger: quiet });
  try {
    const started = performance.now();
    await router.waitForWorkers();
    // Not a timing assertion on speed: only that no 2 s wait happened.
    assert.ok(performance.now() - started < 1500);
    assert.equal(router.shardStatus()[0].warm, false);
  } finally {
    await conn.close();
  }
});

Deno.test("a worker that advertises a cache and never sends it is disconnected after the response timeout", async () => {
  await using ws = await tempWorkspace();
  await using router = await startRouter({
    roots: [ws.path("a")],
    logger: quiet,
    rpcReadTimeoutMs: 300,
  });
  const conn = await connect(router.address, {
    shardId: 0,
    logger: quiet,
    cachedIndexInfo: info,
  });
  await conn.closed;
  assert.equal(router.shardStatus()[0].warm, false);
});

Deno.test("a spawned worker slower to connect than the handshake timeout is not killed (spawnWorkers.connectTimeoutMs)", async () => {
  await using ws = await tempWorkspace({ "a/A.java": "class A {}\n" });
  // The fixture sleeps 1.5 s before connecting, as a worker loading a large
  // cache on a busy machine does; the handshake timeout is 300 ms.
  await ws.write(
    "cache/loom-router-test-worker.conf",
    "connect_delay_ms=1500\nconnect_delay_attempts=9\n",
  );
  await using router = await startRouter({
    roots: [ws.path("a")],
    logger: quiet,
    handshakeTimeoutMs: 300,
    spawnWorkers: {
      command: fixtureCommand(),
      cacheDir: ws.path("cache"),
      connectTimeoutMs: 60_000,
    },
  });
  await router.waitForWorkers();
  const starts = (await Deno.readTextFile(ws.path("cache/attempts-shard0.log")))
    .split("\n").filter((l) => l !== "");
  assert.equal(starts.length, 1, "started once, never killed for slowness");
});
