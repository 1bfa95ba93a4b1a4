/**
 * Partial failure end to end: one failing shard leaves the others served
 * (`search` exits 3 with the healthy shard's results and a per-shard
 * error), and a hung worker cannot stall `router serve` (`status` answers
 * at once, `shutdown` exits within a bounded time).
 */

import assert from "node:assert/strict";
import { fixtureCommand, tempWorkspace } from "../lib/net/router_test_util.ts";

const main = new URL("./main.ts", import.meta.url).pathname;
const dec = new TextDecoder();

async function knobs(dir: string, text: string): Promise<void> {
  await Deno.mkdir(dir, { recursive: true, mode: 0o700 });
  await Deno.writeTextFile(`${dir}/loom-router-test-worker.conf`, text);
}

Deno.test("search: a shard whose index is too large fails alone; the healthy shard's results are printed", async () => {
  await using ws = await tempWorkspace({
    "a/Alpha.java": "class Beta1 {}\n",
    "b/Gen.java": "class Beta2 {}\n",
  });
  const cache = ws.path("cache");
  await knobs(cache, "shard1.index_reply=too_large\n");
  const out = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      "--quiet",
      main,
      "search",
      "--no-progress",
      "--root",
      ws.path("a"),
      "--root",
      ws.path("b"),
      "--cache-dir",
      cache,
      "--worker-command",
      fixtureCommand().join(" "),
      "Beta",
    ],
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const stdout = dec.decode(out.stdout);
  const stderr = dec.decode(out.stderr);
  assert.equal(out.code, 3, stderr);
  assert.match(stdout, /Alpha\.java:1:7 {2}Beta1/);
  assert.match(
    stderr,
    /^search: shard 1 failed, its results are missing: .*too_large/m,
  );
  assert.match(stderr, /1 indexed, 1 failed/);
  assert.doesNotMatch(stderr, /^\s+at /m);
});

Deno.test("router serve: a hung worker leaves status answering at once and shutdown bounded", async () => {
  await using ws = await tempWorkspace({ "a/A.java": "class Alpha {}\n" });
  const cache = ws.path("cache");
  await knobs(cache, "index_reply=hang\n");
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      "--quiet",
      main,
      "router",
      "serve",
      "--no-progress",
      "--root",
      ws.path("a"),
      "--cache-dir",
      cache,
      "--worker-command",
      fixtureCommand().join(" "),
    ],
    stdin: "piped",
    stdout: "piped",
    stderr: "null",
  }).spawn();
  const writer = child.stdin.getWriter();
  const send = (v: unknown): Promise<void> =>
    writer.write(new TextEncoder().encode(JSON.stringify(v) + "\n"));
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let buffered = "";
  const next = async (pred: (l: Record<string, unknown>) => boolean) => {
    for (;;) {
      const nl = buffered.indexOf("\n");
      if (nl >= 0) {
        const line = JSON.parse(buffered.slice(0, nl));
        buffered = buffered.slice(nl + 1);
        if (pred(line)) return line;
        continue;
      }
      const { value, done } = await reader.read();
      assert.ok(!done, "router output ended");
      buffered += value;
    }
  };
  try {
    await next((l) => l.event === "worker_connected");
    // The initial index is now stuck on the hung worker.
    await new Promise((r) => setTimeout(r, 300));
    const t0 = performance.now();
    await send({ id: "s", method: "status" });
    const status = await next((l) => l.id === "s");
    assert.ok(performance.now() - t0 < 2000, "status waited for the index");
    assert.equal(
      (status.result as { shards: unknown[] }).shards.length,
      1,
    );
    const t1 = performance.now();
    await send({ id: "bye", method: "shutdown" });
    const initial = await next((l) => l.id === "initial-index");
    assert.equal((initial.error as { code: string }).code, "cancelled");
    const bye = await next((l) => l.id === "bye");
    assert.deepEqual(bye.result, { shutdown: true });
    const status2 = await child.status;
    assert.equal(status2.code, 0);
    assert.ok(performance.now() - t1 < 15_000, "shutdown took too long");
  } finally {
    await writer.close().catch(() => {});
    try {
      child.kill("SIGKILL");
    } catch {
      // exited
    }
    await child.status;
    await reader.cancel().catch(() => {});
  }
});
