/**
 * The worker state behind a real (pure, in-memory) worker session, driven by
 * a router session: requests, responses and cancels cross the v3 codec.
 */

import assert from "node:assert/strict";
import { drainEvents, memoryPair } from "../testing/memory_pair.ts";
import { WorkerState } from "./state.ts";
import { JAVA_INDEXER } from "./indexer.ts";
import type { Request, RpcResult, U64 } from "../wire/types.ts";

function setup() {
  const pair = memoryPair({ worker: { hello: { shard_id: 2 } } });
  pair.handshake({ worker_id: 9, revision: 0 });
  const state = new WorkerState({ shardId: 2, indexer: JAVA_INDEXER });
  /** Serves every delivered request, honouring cancels delivered with it. */
  const serve = (): void => {
    const events = drainEvents(pair.worker);
    const cancelled = new Set<U64>();
    for (const e of events) if (e.type === "cancel") cancelled.add(e.id);
    for (const e of events) {
      if (e.type !== "request") continue;
      pair.worker.respond(
        e.id,
        state.run(e.request, { isCancelled: () => cancelled.has(e.id) }),
      );
    }
  };
  const results = new Map<U64, RpcResult>();
  const roundTrip = (): void => {
    pair.pump();
    serve();
    pair.pump();
    for (const e of drainEvents(pair.router)) {
      if (e.type === "response") results.set(e.id, e.result);
    }
  };
  const call = (request: Request): RpcResult => {
    const id = pair.router.call(request);
    roundTrip();
    const result = results.get(id);
    assert.ok(result !== undefined, "no response");
    return result;
  };
  return { pair, state, call, roundTrip, results };
}

Deno.test("worker state over an in-memory session: index, update, stats, unknown", () => {
  const { call } = setup();
  const indexed = call({
    type: "index_shard",
    revision: 1,
    files: [{ path: "/A.java", text: "class Alpha { void run() {} }" }],
  });
  assert.ok(indexed.status === "ok" && indexed.value.type === "shard_index");
  assert.deepEqual(indexed.value.body.symbols.map((s) => s.name), [
    "Alpha",
    "run",
  ]);
  const updated = call({
    type: "update_file",
    revision: 2,
    file: { path: "/B.java", text: "class Beta {}" },
  });
  assert.ok(updated.status === "ok" && updated.value.type === "shard_index");
  assert.equal(updated.value.body.index_generation, 2);
  assert.deepEqual(call({ type: "get_worker_stats" }), {
    status: "ok",
    value: {
      type: "worker_stats",
      body: { shard_id: 2, revision: 2, index_generation: 2, file_count: 2 },
    },
  });
  assert.deepEqual(call({ type: "unknown" }), {
    status: "err",
    error: {
      code: "invalid_request",
      message: "unknown request",
      retryable: false,
      details: null,
    },
  });
});

Deno.test("worker state over an in-memory session: a cancel that arrives first wins", () => {
  const { pair, state, roundTrip, results } = setup();
  const id = pair.router.call({
    type: "index_shard",
    revision: 5,
    files: [{ path: "/A.java", text: "class A {}" }],
  });
  pair.router.cancel(id);
  roundTrip();
  // The worker answers with the reference's cancelled error and did no work.
  assert.deepEqual(results.get(id), {
    status: "err",
    error: {
      code: "cancelled",
      message: "request cancelled",
      retryable: true,
      details: null,
    },
  });
  assert.equal(state.stats.revision, 0);
  assert.equal(state.stats.index_generation, 0);
});
