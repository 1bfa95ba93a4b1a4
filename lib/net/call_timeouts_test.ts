/**
 * The two phases of a call: the write budget (`writeTimeoutMs`: the
 * request's bytes must reach the socket) and the read budget (`timeoutMs`,
 * counted from the end of the write), down to the driver's byte counters
 * and the router's use of them.
 */

import assert from "node:assert/strict";
import { isProtocolError, ProtocolError } from "../wire/errors.ts";
import { CANCELLED_ERROR, createWorkerSession } from "../wire/session.ts";
import type { Request, Response } from "../wire/types.ts";
import { formatAddress } from "./address.ts";
import { SessionDriver } from "./driver.ts";
import type { Connection } from "./connection.ts";
import { listen } from "./listen.ts";
import type { ByteStream } from "./stream.ts";
import { writeAll } from "./stream.ts";
import { memoryLogger, openPair, untilAborted } from "./net_test_util.ts";
import { callWorker } from "./_router_calls.ts";
import { searchSymbols } from "./_router_queries.ts";
import { type LiveWorker, RouterState } from "./_router_state.ts";
import { normalizeAllowlist } from "./router_config.ts";

const ACK = { status: "ok", value: { type: "ack" } } as const;

/** An index request whose encoding is about `bytes` long (incompressible). */
function bigRequest(bytes: number): Request {
  const files = [];
  const per = 1 << 20;
  let seed = 1;
  for (let left = bytes; left > 0; left -= per) {
    const chars = new Array<string>(Math.min(per, left) / 8);
    for (let i = 0; i < chars.length; i++) {
      seed = (seed * 1103515245 + 12345) >>> 0;
      chars[i] = seed.toString(36).padStart(8, "0").slice(0, 8);
    }
    files.push({ path: `/src/F${files.length}.java`, text: chars.join("") });
  }
  return { type: "index_shard", revision: 1, files };
}

async function tempDir(): Promise<string> {
  return await Deno.makeTempDir({ prefix: "loom-call-timeouts-" });
}

Deno.test("driver: counts queued and flushed bytes and calls back in order", async () => {
  const queue: Uint8Array[] = [];
  let buffered = 0;
  const session = {
    receive() {},
    receiveEnd() {},
    pollEvent: () => undefined,
    pollTransmit() {
      const out = queue.shift();
      if (out !== undefined) buffered -= out.length;
      return out;
    },
    get bufferedTransmitBytes() {
      return buffered;
    },
    nextDeadline: () => undefined,
    handleTimeout() {},
    close() {},
  };
  const gates: (() => void)[] = [];
  let reading: ((n: number | null) => void) | undefined;
  const stream: ByteStream = {
    read: () => new Promise((resolve) => reading = resolve),
    write: (bytes) =>
      new Promise((resolve) => gates.push(() => resolve(bytes.length))),
    close: () => reading?.(null),
  };
  const driver = new SessionDriver(session, stream, {
    onEvent() {},
    isClosed: () => false,
  });
  driver.start();
  const push = (n: number): number => {
    queue.push(new Uint8Array(n));
    buffered += n;
    driver.pump();
    return driver.queuedBytes;
  };
  const seen: string[] = [];
  const a = push(10);
  driver.whenFlushed(a, () => seen.push("a"));
  const b = push(20);
  const cancelled = driver.whenFlushed(b, () => seen.push("cancelled"));
  driver.whenFlushed(b, () => seen.push("b"));
  cancelled.cancel();
  assert.equal(a, 10);
  assert.equal(b, 30);
  await Promise.resolve();
  assert.equal(gates.length, 1); // the first write is in flight
  gates.shift()!();
  await new Promise((r) => setTimeout(r, 0));
  assert.deepEqual(seen, ["a"]);
  assert.equal(driver.flushedBytes, 10);
  gates.shift()!();
  await new Promise((r) => setTimeout(r, 0));
  assert.deepEqual(seen, ["a", "b"]);
  assert.equal(driver.flushedBytes, 30);
  // Already flushed: at once.
  driver.whenFlushed(30, () => seen.push("now"));
  assert.deepEqual(seen, ["a", "b", "now"]);
  // Still waiting at the end: dropped.
  push(5);
  driver.whenFlushed(driver.queuedBytes, () => seen.push("never"));
  driver.abort(new ProtocolError("timeout", "stuck"));
  for (const gate of gates) gate();
  await driver.done;
  assert.deepEqual(seen, ["a", "b", "now"]);
});

/**
 * Runs `body` with a router-side connection whose worker completed the
 * handshake and then never reads again.
 */
async function withStuckPeer(
  transport: "unix" | "tcp",
  body: (router: Connection) => Promise<void>,
): Promise<void> {
  const dir = await tempDir();
  const listener = listen(
    transport === "unix" ? `unix:${dir}/r.sock` : "tcp:127.0.0.1:0",
    { logger: memoryLogger(), compression: false },
  );
  let raw: Deno.Conn | undefined;
  try {
    const address = formatAddress(await listener.ready);
    const session = createWorkerSession({ hello: { shard_id: 1 } });
    raw = address.startsWith("unix:")
      ? await Deno.connect({ transport: "unix", path: address.slice(5) })
      : await Deno.connect({
        hostname: "127.0.0.1",
        port: Number(address.split(":").at(-1)),
      });
    const accepted = listener.accept();
    await writeAll(raw, session.pollTransmit()!);
    const buf = new Uint8Array(65536);
    while (session.pollEvent()?.type !== "handshake_done") {
      const n = await raw.read(buf);
      assert.ok(n !== null);
      session.receive(buf.subarray(0, n), 0);
    }
    const router = (await accepted)!;
    try {
      await body(router);
    } finally {
      await router.close();
    }
  } finally {
    raw?.close();
    await listener.close();
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("write timeout: a peer that stops reading fails the call and closes the connection", async () => {
  for (const transport of ["unix", "tcp"] as const) {
    await withStuckPeer(transport, async (router) => {
      // More than the socket buffers of both ends can hold.
      const size = transport === "unix" ? 8 << 20 : 40 << 20;
      const started = performance.now();
      const big = router.call(bigRequest(size), {
        writeTimeoutMs: 200,
        timeoutMs: 60_000,
      }).catch((e) => e);
      // A call queued behind it loses its connection.
      const behind = router.call({ type: "get_worker_stats" }).catch((e) => e);
      const err = await big;
      const elapsed = performance.now() - started;
      assert.ok(isProtocolError(err, "timeout"), String(err));
      assert.ok(elapsed >= 190 && elapsed < 5000, `${elapsed} ms`);
      assert.ok(isProtocolError(await behind, "connection_closed"));
      const reason = await router.closed;
      assert.equal(reason?.code, "timeout");
      assert.ok(router.isClosed);
    });
  }
});

Deno.test("write timeout: a later call with a shorter budget times out first", async () => {
  await withStuckPeer("unix", async (router) => {
    const started = performance.now();
    const big = router.call(bigRequest(8 << 20), {
      writeTimeoutMs: 60_000,
    }).catch((e) => e);
    // Queued behind the stuck request, so its write cannot finish either.
    const small = router.call({ type: "get_worker_stats" }, {
      writeTimeoutMs: 100,
    }).catch((e) => e);
    const err = await small;
    const elapsed = performance.now() - started;
    assert.ok(isProtocolError(err, "timeout"), String(err));
    assert.ok(elapsed >= 90 && elapsed < 5000, `${elapsed} ms`);
    assert.ok(isProtocolError(await big, "connection_closed"));
    assert.equal((await router.closed)?.code, "timeout");
  });
});

Deno.test("write timeout: calls to a reading peer are unaffected, large or many", async () => {
  const dir = await tempDir();
  try {
    await using pair = await openPair("unix", dir, undefined, {
      listen: { compression: false },
    });
    const { router, worker } = pair;
    let files = 0;
    worker.setRequestHandler((request) => {
      if (request.type === "index_shard") files += request.files.length;
      return ACK;
    });
    const opts = { writeTimeoutMs: 5000, timeoutMs: 5000 };
    assert.deepEqual(await router.call({ type: "get_worker_stats" }, opts), {
      type: "ack",
    });
    assert.deepEqual(await router.call(bigRequest(8 << 20), opts), {
      type: "ack",
    });
    assert.equal(files, 8);
    const many = await Promise.all(
      Array.from(
        { length: 200 },
        (_, i) =>
          router.call(
            { type: "diagnostics", path: `/A${i}.java` },
            i % 2 === 0 ? opts : { writeTimeoutMs: 5000 },
          ),
      ),
    );
    assert.equal(many.length, 200);
    assert.ok(!router.isClosed);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("read timeout: counts after the write and keeps the connection", async () => {
  const dir = await tempDir();
  try {
    await using pair = await openPair("unix", dir, undefined);
    const { router, worker } = pair;
    worker.setRequestHandler(async (request, { signal }) => {
      if (request.type === "diagnostics" && request.path === "slow") {
        await untilAborted(signal);
        return { status: "err", error: CANCELLED_ERROR };
      }
      return ACK;
    });
    const started = performance.now();
    const err = await router.call({ type: "diagnostics", path: "slow" }, {
      writeTimeoutMs: 1000,
      timeoutMs: 60,
    }).catch((e) => e);
    const elapsed = performance.now() - started;
    assert.ok(isProtocolError(err, "timeout"), String(err));
    assert.ok(elapsed >= 55 && elapsed < 3000, `${elapsed} ms`);
    assert.ok(!router.isClosed);
    assert.deepEqual(
      await router.call({ type: "get_worker_stats" }, { writeTimeoutMs: 1 }),
      { type: "ack" },
    );
    // Cancelling during either phase still works.
    const controller = new AbortController();
    const cancelled = router.call({ type: "diagnostics", path: "slow" }, {
      signal: controller.signal,
      writeTimeoutMs: 1000,
    });
    controller.abort();
    await assert.rejects(
      cancelled,
      (e: ProtocolError) => isProtocolError(e, "cancelled"),
    );
    await assert.rejects(
      router.call({ type: "get_worker_stats" }, { writeTimeoutMs: -1 }),
      RangeError,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

function recordingWorker(
  response: Response,
  calls: unknown[],
  distributed = false,
): LiveWorker {
  return {
    distributed,
    conn: {
      call: (_request: Request, options: unknown) => {
        calls.push(options);
        return Promise.resolve(response);
      },
    },
  } as unknown as LiveWorker;
}

Deno.test("router calls: write and read budgets from the options", async () => {
  const calls: unknown[] = [];
  const diag: Response = {
    type: "diagnostics",
    body: { diagnostics: [] },
  };
  const request: Request = { type: "diagnostics", path: "/A.java" };
  const st = new RouterState({ roots: ["src"] }, normalizeAllowlist(undefined));
  await callWorker(st, recordingWorker(diag, calls), request);
  const tuned = new RouterState(
    { roots: ["src"], rpcWriteTimeoutMs: 123, rpcReadTimeoutMs: 4567 },
    normalizeAllowlist(undefined),
  );
  await callWorker(tuned, recordingWorker(diag, calls), request);
  assert.deepEqual(calls, [
    { signal: undefined, writeTimeoutMs: 30_000, timeoutMs: 600_000 },
    { signal: undefined, writeTimeoutMs: 123, timeoutMs: 4567 },
  ]);

  // Distributed search: the same write budget, a read budget of <= 30 s.
  const matches: Response = {
    type: "symbol_matches",
    body: {
      shard_id: 0,
      revision: 1,
      index_generation: 1,
      symbol_count: 0,
      mode: "none",
      hit: false,
      bucket: false,
      trigrams: [],
      matches: [],
    },
  };
  calls.length = 0;
  for (const state of [st, tuned]) {
    state.shards[0].remote = true;
    state.shards[0].worker = recordingWorker(matches, calls, true);
    await searchSymbols(state, "Foo", { limit: 5 });
  }
  assert.deepEqual(calls, [
    { signal: undefined, writeTimeoutMs: 30_000, timeoutMs: 30_000 },
    { signal: undefined, writeTimeoutMs: 123, timeoutMs: 4567 },
  ]);
});
