/**
 * The outbound queue bound of a connection, against a router that sends
 * requests and never reads the answers: the worker stops reading (and
 * answering) at the limit, and closes with `timeout` once nothing was
 * written for `stallTimeoutMs`.
 */

import assert from "node:assert/strict";
import { createRouterSession } from "../wire/session.ts";
import { connect } from "./connect.ts";
import { createLogger } from "./log.ts";

Deno.test("a worker connection stops at its outbound limit and closes a stalled peer with timeout", async () => {
  const dir = await Deno.makeTempDir({ prefix: "loom-outbound-" });
  const path = `${dir}/r.sock`;
  const listener = Deno.listen({ transport: "unix", path });
  const workerPromise = connect(`unix:${path}`, {
    shardId: 0,
    logger: createLogger({ level: "error", write: () => {} }),
    outbound: {
      maxQueuedBytes: 1024 * 1024,
      maxQueuedFrames: 1000,
      stallTimeoutMs: 400,
    },
  });
  const raw = await listener.accept();
  listener.close();
  const session = createRouterSession();
  const t0 = performance.now();
  const buf = new Uint8Array(65536);
  const flush = async (): Promise<void> => {
    for (let out; (out = session.pollTransmit()) !== undefined;) {
      for (let at = 0; at < out.length;) {
        at += await raw.write(out.subarray(at));
      }
    }
  };
  while (session.state !== "open") {
    const n = await raw.read(buf);
    assert.ok(n !== null);
    session.receive(buf.subarray(0, n), performance.now() - t0);
    for (let e; (e = session.pollEvent()) !== undefined;) {
      if (e.type === "admission") session.admit({ worker_id: 1 });
    }
    await flush();
  }
  const worker = await workerPromise;
  let answered = 0;
  // About 200 KB per answer.
  const symbols = Array.from({ length: 5000 }, (_, i) => ({
    name: `Symbol${i}`,
    path: `/w/pkg/File${i % 50}.java`,
    line: i,
    column: 4,
  }));
  worker.setRequestHandler(async () => {
    await worker.whenWritable();
    if (!worker.isClosed) answered++;
    return {
      status: "ok",
      value: {
        type: "shard_index",
        body: { shard_id: 0, revision: 1, index_generation: 1, symbols },
      },
    };
  });
  for (let i = 0; i < 200; i++) {
    session.call({ type: "get_worker_stats" });
  }
  // The requests may block once the worker stops reading: do not await.
  const sending = flush().catch(() => {});
  const reason = await worker.closed;
  assert.equal(reason?.code, "timeout", String(reason));
  assert.match(reason!.message, /peer stopped reading/);
  // 1 MiB of queue, ~200 KB answers, plus what the socket buffers hold.
  assert.ok(answered < 40, `answered ${answered} of 200`);
  raw.close();
  await sending;
  await Deno.remove(dir, { recursive: true });
});

Deno.test("a queue filled by a notification wakes the next answer once written, not at the stall timer", async () => {
  const dir = await Deno.makeTempDir({ prefix: "loom-outbound-" });
  const path = `${dir}/r.sock`;
  const listener = Deno.listen({ transport: "unix", path });
  const workerPromise = connect(`unix:${path}`, {
    shardId: 0,
    logger: createLogger({ level: "error", write: () => {} }),
    // The stall timer would wake the waiter too, but only after a minute.
    outbound: { maxQueuedBytes: 64 * 1024, stallTimeoutMs: 60_000 },
  });
  const raw = await listener.accept();
  listener.close();
  const session = createRouterSession();
  const t0 = performance.now();
  const buf = new Uint8Array(65536);
  const flush = async (): Promise<void> => {
    for (let out; (out = session.pollTransmit()) !== undefined;) {
      for (let at = 0; at < out.length;) {
        at += await raw.write(out.subarray(at));
      }
    }
  };
  const events: string[] = [];
  let reading = true;
  const readLoop = (async () => {
    while (reading) {
      const n = await raw.read(buf).catch(() => null);
      if (n === null) return;
      session.receive(buf.subarray(0, n), performance.now() - t0);
      for (let e; (e = session.pollEvent()) !== undefined;) {
        if (e.type === "admission") session.admit({ worker_id: 1 });
        events.push(e.type);
      }
      await flush();
    }
  })();
  const worker = await workerPromise;
  // A large notification (about 300 KB) fills the 64 KiB queue by itself.
  worker.notify({
    type: "cached_index",
    body: {
      shard_id: 0,
      revision: 1,
      index_generation: 1,
      symbols: Array.from({ length: 6000 }, (_, i) => ({
        name: `Symbol${i}`,
        path: `/w/pkg/File${i % 50}.java`,
        line: i,
        column: 4,
      })),
    },
  });
  worker.setRequestHandler(async () => {
    await worker.whenWritable();
    return {
      status: "ok",
      value: {
        type: "worker_stats",
        body: { shard_id: 0, revision: 1, index_generation: 1, file_count: 0 },
      },
    };
  });
  session.call({ type: "get_worker_stats" });
  await flush();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const answered = await Promise.race([
    (async () => {
      while (!events.includes("response")) {
        await new Promise((r) => setTimeout(r, 20));
      }
      return true;
    })(),
    new Promise<false>((r) => timer = setTimeout(() => r(false), 20_000)),
  ]);
  clearTimeout(timer);
  assert.ok(answered, `no answer; events: ${events.join(",")}`);
  reading = false;
  await worker.close();
  raw.close();
  await readLoop;
  await Deno.remove(dir, { recursive: true });
});
