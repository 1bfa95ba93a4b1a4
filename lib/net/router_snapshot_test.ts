// Snapshots larger than one packet: batched in 3.1, a clear error in 3.0.
import assert from "node:assert/strict";
import { startRouter } from "./router.ts";
import { ShardError, SnapshotTooLargeError } from "./router_options.ts";
import {
  type TempWorkspace,
  tempWorkspace,
  TEST_WORKER_PROGRAM,
} from "./router_test_util.ts";

const MIB = 1024 * 1024;

/** `count` files of about `kib` KiB each, one class per file. */
function bigFiles(count: number, kib: number): Record<string, string> {
  const files: Record<string, string> = {};
  for (let i = 0; i < count; i++) {
    // Mostly comment text: big snapshots, small replies (the reply size
    // is not what these tests are about).
    const lines = [`package big;`, `public class Big${i} {`, "  int only;"];
    for (let n = 0; lines.join("\n").length < kib * 1024; n++) {
      lines.push(`  // padding line ${n} padding padding padding padding`);
    }
    lines.push("}");
    files[`root/d${i % 3}/Big${i}.java`] = lines.join("\n") + "\n";
  }
  return files;
}

async function workspace(): Promise<TempWorkspace> {
  // 24 files of 128 KiB: 3 MiB, three times the 1 MiB packet limit below.
  return await tempWorkspace(bigFiles(24, 128));
}

Deno.test("a shard over the packet limit is indexed in 3.1 batches", async () => {
  await using ws = await workspace();
  const events: string[] = [];
  await using router = await startRouter({
    roots: [ws.path("root")],
    maxRpcBytes: MIB,
    spawnWorkers: { program: TEST_WORKER_PROGRAM, cacheDir: ws.path("cache") },
    onEvent: (e) => events.push(e.type),
  });
  const result = await router.indexWorkspace();
  assert.equal(result.files, 24);
  assert.ok(result.bytes > 3 * MIB);
  for (const i of [0, 11, 23]) {
    assert.equal(router.workspaceSymbols(`Big${i}`)[0].symbol.name, `Big${i}`);
  }
  assert.equal((await router.workerStats()).get(0)?.file_count, 24);
  // The first batch replaces the worker's file map: a deleted file is gone.
  await Deno.remove(ws.path("root/d0/Big0.java"));
  const again = await router.indexWorkspace();
  assert.equal(again.files, 23);
  assert.equal((await router.workerStats()).get(0)?.file_count, 23);
  assert.equal(
    router.workspaceSymbols("Big0").some((h) => h.symbol.name === "Big0"),
    false,
  );
  // Updates after a batched snapshot rebuild from the whole shard.
  await router.updateFile(ws.path("root/d1/New.java"), "class Newcomer {}");
  assert.equal(router.workspaceSymbols("Newcomer")[0].symbol.name, "Newcomer");
  assert.equal((await router.workerStats()).get(0)?.file_count, 24);
});

Deno.test("a worker restarted from its cache is rehydrated in batches", async () => {
  await using ws = await workspace();
  {
    await using router = await startRouter({
      roots: [ws.path("root")],
      maxRpcBytes: MIB,
      spawnWorkers: {
        program: TEST_WORKER_PROGRAM,
        cacheDir: ws.path("cache"),
      },
    });
    await router.indexWorkspace();
  }
  const rehydrated = Promise.withResolvers<number>();
  await using router = await startRouter({
    roots: [ws.path("root")],
    maxRpcBytes: MIB,
    spawnWorkers: { program: TEST_WORKER_PROGRAM, cacheDir: ws.path("cache") },
    onEvent: (e) => {
      if (e.type === "worker_rehydrated") rehydrated.resolve(e.files);
    },
  });
  await router.waitForWorkers();
  assert.equal(router.shardStatus()[0].warm, true);
  assert.equal(await rehydrated.promise, 24);
  assert.equal((await router.workerStats()).get(0)?.file_count, 24);
});

Deno.test("a 3.0 worker gets a clear limit error, before anything is sent", async () => {
  await using ws = await workspace();
  await using router = await startRouter({
    roots: [ws.path("root")],
    maxRpcBytes: MIB,
    maxProtocolMinor: 0,
    spawnWorkers: { program: TEST_WORKER_PROGRAM, cacheDir: ws.path("cache") },
  });
  const err = await router.indexWorkspace().catch((e) => e);
  assert.ok(err instanceof ShardError, String(err));
  assert.equal(err.code, "limit_exceeded");
  const cause = err.cause;
  assert.ok(cause instanceof SnapshotTooLargeError);
  assert.equal(cause.limit, "max_packet_len");
  assert.equal(cause.max, MIB);
  assert.ok(cause.actual > 3 * MIB);
  assert.equal(cause.root, ws.path("root"));
  // The worker is still connected and usable.
  assert.equal((await router.workerStats()).get(0)?.file_count, 0);
});
