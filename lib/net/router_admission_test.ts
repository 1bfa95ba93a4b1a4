import assert from "node:assert/strict";
import { startRouter } from "./router.ts";
import { connect, type ConnectOptions } from "./connect.ts";
import type { Connection } from "./connection.ts";
import { createLogger } from "./log.ts";
import { createTlsFixtures, mintClientIdentity } from "./tls_mint.ts";
import { isProtocolError, ProtocolError } from "../wire/errors.ts";
import type { RpcResult } from "../wire/types.ts";
import { tempWorkspace, waitFor } from "./router_test_util.ts";

const quiet = createLogger({ level: "error", write: () => {} });

async function tryConnect(
  address: string,
  options: ConnectOptions,
): Promise<Connection | ProtocolError> {
  try {
    return await connect(address, { logger: quiet, ...options });
  } catch (err) {
    if (err instanceof ProtocolError) return err;
    throw err;
  }
}

function answer(conn: Connection, shard: number): void {
  conn.setRequestHandler((req): RpcResult => {
    switch (req.type) {
      case "get_worker_stats":
        return {
          status: "ok",
          value: {
            type: "worker_stats",
            body: {
              shard_id: shard,
              revision: 0,
              index_generation: 0,
              file_count: 0,
            },
          },
        };
      case "update_file":
      case "index_shard":
        return {
          status: "ok",
          value: {
            type: "shard_index",
            body: {
              shard_id: shard,
              revision: req.revision,
              index_generation: 1,
              symbols: [],
            },
          },
        };
      default:
        return { status: "ok", value: { type: "ack" } };
    }
  });
}

Deno.test("admission: bearer token required and checked", async () => {
  await using ws = await tempWorkspace();
  await using router = await startRouter({
    roots: [ws.path("a")],
    authToken: "secret-token",
    logger: quiet,
  });
  const bad = await tryConnect(router.address, {
    shardId: 0,
    authToken: "nope",
  });
  assert.ok(bad instanceof ProtocolError);
  assert.match(bad.message, /authentication/);
  const none = await tryConnect(router.address, { shardId: 0 });
  assert.ok(none instanceof ProtocolError);
  const good = await tryConnect(router.address, {
    shardId: 0,
    authToken: "secret-token",
  });
  assert.ok(!(good instanceof ProtocolError));
  answer(good, 0);
  assert.equal((await router.workerStats()).get(0)?.shard_id, 0);
  await good.close();
});

Deno.test("admission: unknown shard, duplicate shard, replacement after disconnect", async () => {
  await using ws = await tempWorkspace();
  await using router = await startRouter({
    roots: [ws.path("a")],
    logger: quiet,
  });
  const unknown = await tryConnect(router.address, { shardId: 5 });
  assert.ok(unknown instanceof ProtocolError);
  assert.match(unknown.message, /unknown shard 5/);
  const both = await Promise.all([
    tryConnect(router.address, { shardId: 0 }),
    tryConnect(router.address, { shardId: 0 }),
  ]);
  const ok = both.filter((c) => !(c instanceof ProtocolError)) as Connection[];
  const errs = both.filter((c) =>
    c instanceof ProtocolError
  ) as ProtocolError[];
  assert.equal(ok.length, 1);
  assert.match(errs[0].message, /shard 0 already has a connected worker/);
  await ok[0].close();
  await waitFor("disconnect", () => router.connectedShards().length === 0);
  const again = await tryConnect(router.address, { shardId: 0 });
  assert.ok(!(again instanceof ProtocolError));
  answer(again, 0);
  assert.equal((await router.workerStats()).size, 1);
  await again.close();
});

Deno.test("admission: a spawning router admits only its own children", async () => {
  await using ws = await tempWorkspace();
  await using router = await startRouter({
    roots: [ws.path("a")],
    // A command that never connects, so the shard stays free.
    spawnWorkers: {
      command: ["sh", "-c", "exec sleep 30", "worker"],
      cacheDir: ws.path("cache"),
    },
    logger: quiet,
  });
  const intruder = await tryConnect(router.address, { shardId: 0 });
  assert.ok(intruder instanceof ProtocolError);
  assert.match(intruder.message, /authentication failed/);
});

Deno.test("unix socket: private directory and 0600 socket", async () => {
  await using ws = await tempWorkspace();
  await using router = await startRouter({
    roots: [ws.path("a")],
    logger: quiet,
  });
  const path = router.address.slice("unix:".length);
  const sock = await Deno.lstat(path);
  assert.equal(sock.mode! & 0o077, 0);
  const dir = await Deno.lstat(path.slice(0, path.lastIndexOf("/")));
  assert.equal(dir.mode! & 0o777, 0o700);
});

Deno.test("config validation follows the reference (plaintext TCP, allowlists)", async () => {
  await using ws = await tempWorkspace();
  const roots = [ws.path("a")];
  await assert.rejects(
    startRouter({ roots, listen: "tcp:127.0.0.1:0", authToken: "t" }),
    (e: Error) =>
      /plaintext TCP/.test(e.message) && /auth token/.test(e.message),
  );
  await assert.rejects(
    startRouter({ roots, listen: "tcp:0.0.0.0:0" }),
    (e: Error) =>
      /plaintext TCP/.test(e.message) && /not loopback/.test(e.message),
  );
  const fp = "ab".repeat(32);
  await assert.rejects(
    startRouter({ roots, fingerprintAllowlist: { global: [fp] } }),
    /TCP\+TLS/,
  );
  await assert.rejects(
    startRouter({
      roots,
      listen: "tcp+tls:127.0.0.1:0",
      tls: { certFile: "x", keyFile: "y" },
      fingerprintAllowlist: { shards: { 0: [fp] } },
    }),
    /client CA/,
  );
  await assert.rejects(
    startRouter({
      roots,
      fingerprintAllowlist: { global: ["not-a-fingerprint"] },
    }),
    /expected 64 hex characters/,
  );
  // Loopback plaintext without a token is fine.
  const ok = await startRouter({
    roots,
    listen: "tcp:127.0.0.1:0",
    logger: quiet,
  });
  assert.match(ok.address, /^tcp:127\.0\.0\.1:[1-9]/);
  await ok.shutdown();
});

Deno.test("protocol violations: wrong-shard index, stats and cached index disconnect the worker", async () => {
  await using ws = await tempWorkspace({ "a/A.java": "class A {}\n" });
  await using router = await startRouter({
    roots: [ws.path("a"), ws.path("b")],
    logger: quiet,
  });
  // update_file answered for shard 1 on a shard-0 connection.
  let conn = await connect(router.address, { shardId: 0, logger: quiet });
  answer(conn, 1);
  await assert.rejects(
    router.updateFile(ws.path("a/A.java"), "class A {}"),
    /wrong shard 1 \(expected 0\)/,
  );
  await conn.closed;
  // The unsaved text stays in the overlay (a new worker would get it).
  assert.ok(router.discardOverlay(ws.path("a/A.java")));
  // Stats for the wrong shard.
  conn = await connect(router.address, { shardId: 0, logger: quiet });
  answer(conn, 1);
  const one = await connect(router.address, { shardId: 1, logger: quiet });
  answer(one, 1);
  await assert.rejects(
    router.workerStats(),
    /returned stats for wrong shard 1 \(expected 0\)/,
  );
  await conn.closed;
  // A cached index for another shard.
  conn = await connect(router.address, { shardId: 0, logger: quiet });
  conn.notify({
    type: "cached_index",
    body: { shard_id: 1, revision: 1, index_generation: 1, symbols: [] },
  });
  await conn.closed;
  const replacement = await connect(router.address, {
    shardId: 0,
    logger: quiet,
  });
  answer(replacement, 0);
  assert.equal((await router.workerStats()).size, 2);
  await replacement.close();
  await one.close();
});

Deno.test("mTLS fingerprint allowlist scopes workers to shards (global list guards every shard)", async () => {
  await using tls = await createTlsFixtures();
  const [a, b, c] = await Promise.all([
    mintClientIdentity(tls, "worker-a"),
    mintClientIdentity(tls, "worker-b"),
    mintClientIdentity(tls, "worker-c"),
  ]);
  await using ws = await tempWorkspace();
  const colon = (fp: string) => fp.toUpperCase().match(/../g)!.join(":");
  await using router = await startRouter({
    roots: [ws.path("a"), ws.path("b"), ws.path("c")],
    listen: "tcp+tls:127.0.0.1:0",
    tls: {
      certFile: tls.server.certPath,
      keyFile: tls.server.keyPath,
      clientCaFile: tls.ca.certPath,
    },
    fingerprintAllowlist: {
      global: [colon(c.fingerprint)],
      shards: {
        0: [`SHA256 Fingerprint=${colon(a.fingerprint)}`],
        1: [b.fingerprint],
      },
    },
    logger: quiet,
  });
  const attempt = async (
    id: { cert: string; key: string },
    shardId: number,
  ) => {
    const r = await tryConnect(router.address, {
      shardId,
      tls: {
        caCerts: tls.ca.cert,
        serverName: "localhost",
        cert: id.cert,
        key: id.key,
      },
    });
    if (r instanceof ProtocolError) return r.message;
    await r.close();
    await waitFor(
      "disconnect",
      () => !router.connectedShards().includes(shardId),
    );
    return "ok";
  };
  assert.equal(await attempt(a, 0), "ok");
  assert.match(await attempt(a, 1), /shard authorization failed/);
  assert.equal(await attempt(b, 1), "ok");
  assert.match(await attempt(a, 2), /shard authorization failed/);
  assert.equal(await attempt(c, 2), "ok");
  assert.equal(await attempt(c, 0), "ok");
});

Deno.test("cancellation: an aborted signal rejects before any work", async () => {
  await using ws = await tempWorkspace();
  await using router = await startRouter({
    roots: [ws.path("a")],
    logger: quiet,
  });
  const ac = new AbortController();
  ac.abort();
  await assert.rejects(
    router.indexWorkspace({ signal: ac.signal }),
    (e) => isProtocolError(e, "cancelled"),
  );
  await assert.rejects(
    router.updateFile(ws.path("a/A.java"), "", { signal: ac.signal }),
    (e) => isProtocolError(e, "cancelled"),
  );
});

Deno.test("waiting for a worker times out with a clear error", async () => {
  await using ws = await tempWorkspace();
  await using router = await startRouter({
    roots: [ws.path("a")],
    workerWaitTimeoutMs: 100,
    logger: quiet,
  });
  await assert.rejects(
    router.indexWorkspace(),
    (e) =>
      isProtocolError(e, "timeout") && /shard 0/.test((e as Error).message),
  );
});

Deno.test("hostile peers: an oversized or stalled hello does not block admission", async () => {
  await using ws = await tempWorkspace();
  await using router = await startRouter({
    roots: [ws.path("a")],
    handshakeTimeoutMs: 2000,
    logger: quiet,
  });
  const path = router.address.slice("unix:".length);
  // A length prefix of u32::MAX: closed without a reply.
  const big = await Deno.connect({ transport: "unix", path });
  await big.write(new Uint8Array([0xff, 0xff, 0xff, 0xff]));
  const buf = new Uint8Array(16);
  assert.equal(await big.read(buf), null);
  big.close();
  // A silent client does not delay another worker's handshake.
  const silent = await Deno.connect({ transport: "unix", path });
  const t = performance.now();
  const conn = await connect(router.address, { shardId: 0, logger: quiet });
  // Admitted well before the silent client's handshake deadline.
  assert.ok(performance.now() - t < 1900);
  answer(conn, 0);
  assert.equal((await router.workerStats()).size, 1);
  await conn.close();
  assert.equal(await silent.read(buf), null); // closed at the deadline
  silent.close();
});
