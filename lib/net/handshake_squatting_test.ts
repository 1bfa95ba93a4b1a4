/**
 * Handshake squatting: idle connections that never send a Hello cannot
 * lock a legitimate worker out (the oldest squatter of the busiest peer is
 * closed to make room), and one peer cannot hold more than its share.
 */

import assert from "node:assert/strict";
import { formatAddress } from "./address.ts";
import { connect } from "./connect.ts";
import { listen } from "./listen.ts";
import { createLogger } from "./log.ts";

const quiet = createLogger({ level: "error", write: () => {} });

Deno.test("128 idle connections do not lock out a worker; one peer holds at most its share", async () => {
  const listener = listen("tcp:127.0.0.1:0", {
    logger: quiet,
    handshakeTimeoutMs: 30_000,
  });
  const address = formatAddress(await listener.ready);
  const port = Number(address.split(":").at(-1));
  const squatters: Deno.TcpConn[] = [];
  try {
    for (let i = 0; i < 128; i++) {
      squatters.push(await Deno.connect({ hostname: "127.0.0.1", port }));
    }
    await new Promise((r) => setTimeout(r, 200));
    // One peer address: no more than 16 of its handshakes are pending.
    assert.ok(
      listener.pendingHandshakes <= 16,
      `pending ${listener.pendingHandshakes}`,
    );
    const accepted = listener.accept();
    const worker = await connect(address, {
      shardId: 3,
      logger: quiet,
      handshakeTimeoutMs: 5000,
    });
    const router = await accepted;
    assert.equal(router?.hello.shard_id, 3);
    await worker.close();
    await router?.close();
  } finally {
    for (const s of squatters) {
      try {
        s.close();
      } catch {
        // closed by the listener
      }
    }
    await listener.close();
  }
});

Deno.test("over the total limit, the oldest handshake of the busiest peer makes room", async () => {
  const dir = await Deno.makeTempDir({ prefix: "loom-squat-" });
  const listener = listen(`unix:${dir}/r.sock`, {
    logger: quiet,
    maxPendingHandshakes: 8,
    handshakeTimeoutMs: 30_000,
  });
  const address = formatAddress(await listener.ready);
  const squatters: Deno.UnixConn[] = [];
  try {
    for (let i = 0; i < 20; i++) {
      squatters.push(
        await Deno.connect({ transport: "unix", path: `${dir}/r.sock` }),
      );
    }
    await new Promise((r) => setTimeout(r, 200));
    assert.ok(listener.pendingHandshakes <= 8);
    const accepted = listener.accept();
    const worker = await connect(address, { shardId: 1, logger: quiet });
    assert.equal((await accepted)?.hello.shard_id, 1);
    await worker.close();
  } finally {
    for (const s of squatters) {
      try {
        s.close();
      } catch {
        // closed by the listener
      }
    }
    await listener.close();
    await Deno.remove(dir, { recursive: true });
  }
});
