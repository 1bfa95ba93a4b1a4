import assert from "node:assert/strict";
import { ShardError, startRouter } from "./router.ts";
import type { RouterEvent } from "./router.ts";
import { createLogger } from "./log.ts";
import { createTlsFixtures } from "./tls_mint.ts";
import { isProtocolError } from "../wire/errors.ts";
import {
  exists,
  fixtureAttempts,
  fixtureCommand,
  tempWorkspace,
  TEST_WORKER_PROGRAM,
  waitFor,
} from "./router_test_util.ts";

const quiet = createLogger({ level: "error", write: () => {} });

async function withKnobs(cacheDir: string, knobs: string): Promise<void> {
  await Deno.mkdir(cacheDir, { recursive: true });
  await Deno.writeTextFile(`${cacheDir}/loom-router-test-worker.conf`, knobs);
}

Deno.test("supervisor backs off on a crash loop and recovers", async () => {
  await using ws = await tempWorkspace();
  const cacheDir = ws.path("cache");
  await withKnobs(cacheDir, "fail_attempts=3\n");
  await using router = await startRouter({
    roots: [ws.path("a")],
    spawnWorkers: { command: fixtureCommand(), cacheDir },
    logger: quiet,
  });
  const stats = await router.workerStats();
  assert.equal(stats.get(0)?.shard_id, 0);
  const starts = await fixtureAttempts(cacheDir, 0);
  assert.ok(starts.length >= 4, `starts: ${starts.length}`);
  const gaps = starts.slice(1).map((t, i) => t - starts[i]);
  // 50, 100, 200 ms base delays (plus process start-up).
  assert.ok(gaps[0] >= 40 && gaps[1] >= 80 && gaps[2] >= 160, `gaps ${gaps}`);
});

Deno.test("supervisor enforces the handshake deadline", async () => {
  await using ws = await tempWorkspace();
  const cacheDir = ws.path("cache");
  await withKnobs(
    cacheDir,
    "connect_delay_ms=8000\nconnect_delay_attempts=1\n",
  );
  const events: RouterEvent[] = [];
  await using router = await startRouter({
    roots: [ws.path("a")],
    // Generous enough for a process start on a loaded machine.
    handshakeTimeoutMs: 2500,
    spawnWorkers: { command: fixtureCommand(), cacheDir },
    onEvent: (e) => events.push(e),
    logger: quiet,
  });
  await router.waitForWorkers();
  const starts = await fixtureAttempts(cacheDir, 0);
  assert.ok(starts.length >= 2, `starts ${starts}`);
  assert.ok(starts[1] - starts[0] >= 2400, `gap ${starts[1] - starts[0]}`);
  assert.ok(
    events.some((e) =>
      e.type === "supervisor" && e.event.type === "handshake_timeout"
    ),
  );
});

Deno.test("supervisor restarts a worker that exits while idle", async () => {
  await using ws = await tempWorkspace({ "a/A.java": "class A {}\n" });
  const cacheDir = ws.path("cache");
  await withKnobs(cacheDir, "exit_after_handshake_attempts=1\n");
  await using router = await startRouter({
    roots: [ws.path("a")],
    spawnWorkers: { command: fixtureCommand(), cacheDir },
    logger: quiet,
  });
  const result = await router.indexWorkspace();
  assert.equal(result.files, 1);
  const starts = await fixtureAttempts(cacheDir, 0);
  assert.ok(starts.length >= 2 && starts.length <= 3, `starts ${starts}`);
  // The reference asks for 2 s; process start-up on a loaded CI box needs slack.
  assert.ok(starts[1] - starts[0] < 4000);
});

Deno.test("cancellation propagates to every shard's worker", async () => {
  await using ws = await tempWorkspace({
    "a/A.java": "class A {}\n",
    "b/B.java": "class B {}\n",
  });
  const cacheDir = ws.path("cache");
  await withKnobs(cacheDir, "block_index_until_cancel=1\n");
  await using router = await startRouter({
    roots: [ws.path("a"), ws.path("b")],
    spawnWorkers: { command: fixtureCommand(), cacheDir },
    logger: quiet,
  });
  await router.waitForWorkers();
  const ac = new AbortController();
  const run = router.indexWorkspace({ signal: ac.signal });
  await waitFor(
    "both shards started",
    async () =>
      await exists(`${cacheDir}/index-started-shard0.marker`) &&
      await exists(`${cacheDir}/index-started-shard1.marker`),
  );
  const t = performance.now();
  ac.abort();
  await assert.rejects(run, (e) => isProtocolError(e, "cancelled"));
  // The reference asks for 1 s; leave slack for a loaded CI machine.
  assert.ok(performance.now() - t < 2000);
  await waitFor(
    "cancel markers",
    async () =>
      await exists(`${cacheDir}/index-cancelled-shard0.marker`) &&
      await exists(`${cacheDir}/index-cancelled-shard1.marker`),
    5000,
  );
});

Deno.test("one shard's failure cancels the others and names the failed shard", async () => {
  await using ws = await tempWorkspace({
    "a/A.java": "class A {}\n",
    "b/B.java": "class B {}\n",
  });
  const cacheDir = ws.path("cache");
  await withKnobs(
    cacheDir,
    "shard0.wrong_shard_index=1\nshard1.block_index_until_cancel=1\n",
  );
  await using router = await startRouter({
    roots: [ws.path("a"), ws.path("b")],
    spawnWorkers: { command: fixtureCommand(), cacheDir },
    logger: quiet,
  });
  await router.waitForWorkers();
  const err = await router.indexWorkspace().then(
    () => undefined,
    (e) => e,
  );
  assert.ok(err instanceof ShardError, String(err));
  assert.equal(err.shard, 0);
  assert.match(err.message, /wrong shard 1 \(expected 0\)/);
  await waitFor(
    "shard 1 cancelled",
    () => exists(`${cacheDir}/index-cancelled-shard1.marker`),
    5000,
  );
});

Deno.test("shutdown sends Shutdown first; stragglers are killed after the grace period", async () => {
  await using ws = await tempWorkspace();
  const cacheDir = ws.path("cache");
  await withKnobs(cacheDir, "shard1.ignore_shutdown=1\n");
  const exits = new Map<number, { code: number; signal: string | null }>();
  const router = await startRouter({
    roots: [ws.path("a"), ws.path("b")],
    spawnWorkers: { command: fixtureCommand(), cacheDir },
    onEvent: (e) => {
      if (e.type === "supervisor" && e.event.type === "exited") {
        exits.set(e.event.shard, e.event);
      }
    },
    logger: quiet,
  });
  await router.waitForWorkers();
  const t = performance.now();
  await router.shutdown();
  assert.ok(performance.now() - t < 8000);
  assert.deepEqual(exits.get(0), { ...exits.get(0), code: 0, signal: null });
  // The worker that ignored Shutdown saw its connection close and exited,
  // or was killed: either way it is gone.
  assert.ok(exits.has(1));
});

Deno.test("spawning works over tcp+tls with mutual TLS (real worker)", async () => {
  await using tls = await createTlsFixtures();
  await using ws = await tempWorkspace({ "a/A.java": "class TlsAlpha {}\n" });
  await using router = await startRouter({
    roots: [ws.path("a")],
    listen: "tcp+tls:127.0.0.1:0",
    tls: {
      certFile: tls.server.certPath,
      keyFile: tls.server.keyPath,
      clientCaFile: tls.ca.certPath,
    },
    fingerprintAllowlist: { shards: { 0: [tls.client.fingerprint] } },
    spawnWorkers: {
      program: TEST_WORKER_PROGRAM,
      cacheDir: ws.path("cache"),
      tls: {
        caCertFile: tls.ca.certPath,
        domain: "localhost",
        clientCertFile: tls.client.certPath,
        clientKeyFile: tls.client.keyPath,
      },
    },
    logger: quiet,
  });
  await router.indexWorkspace();
  assert.equal(router.workspaceSymbols("TlsAlpha")[0]?.symbol.name, "TlsAlpha");
});
