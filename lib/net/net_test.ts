import assert from "node:assert/strict";
import { isProtocolError, type ProtocolError } from "../wire/errors.ts";
import type { Request, RpcResult } from "../wire/types.ts";
import { formatAddress } from "./address.ts";
import { connect, type ConnectTlsOptions } from "./connect.ts";
import { RemoteCallError } from "./connection.ts";
import { listen } from "./listen.ts";
import { createTlsFixtures, type TlsFixtures } from "./tls_mint.ts";
import {
  memoryLogger,
  openPair,
  type TestTransport,
  transportOptions,
  untilAborted,
} from "./net_test_util.ts";
import { CANCELLED_ERROR } from "../wire/session.ts";

const ACK: RpcResult = { status: "ok", value: { type: "ack" } };

async function withEnv(
  transport: TestTransport,
  fn: (dir: string, tls: TlsFixtures | undefined) => Promise<void>,
): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "loom-net-" });
  const tls = transport === "tls" || transport === "mtls"
    ? await createTlsFixtures()
    : undefined;
  try {
    await fn(dir, tls);
  } finally {
    await tls?.remove();
    await Deno.remove(dir, { recursive: true });
  }
}

for (const transport of ["unix", "tcp", "tls", "mtls"] as const) {
  Deno.test(`${transport}: handshake, then 10,000 concurrent calls each way`, async () => {
    await withEnv(transport, async (dir, tls) => {
      await using pair = await openPair(transport, dir, tls, {
        listen: {
          admit: ({ hello }) => ({
            worker_id: 40 + hello.shard_id,
            revision: 7,
          }),
        },
        connect: { shardId: 2 },
      });
      const { router, worker } = pair;
      assert.equal(worker.welcome.worker_id, 42);
      assert.equal(worker.welcome.revision, 7);
      assert.equal(worker.welcome.shard_id, 2);
      assert.equal(router.hello.shard_id, 2);
      assert.equal(router.role, "router");
      assert.equal(worker.role, "worker");
      assert.deepEqual(
        worker.welcome.chosen_capabilities.supported_compression,
        [
          "zstd",
          "none",
        ],
      );
      let served = 0;
      worker.setRequestHandler((request) => {
        served++;
        return request.type === "get_worker_stats"
          ? {
            status: "ok",
            value: {
              type: "worker_stats",
              body: {
                shard_id: 2,
                revision: served,
                index_generation: 0,
                file_count: 0,
              },
            },
          }
          : ACK;
      });
      router.setRequestHandler(() => ACK);
      const N = 10_000;
      const results = await Promise.all(
        Array.from(
          { length: N },
          () => router.call({ type: "get_worker_stats" }),
        ),
      );
      assert.equal(served, N);
      assert.equal(results.length, N);
      assert.ok(results.every((r) => r.type === "worker_stats"));
      const back = await Promise.all(
        Array.from(
          { length: N },
          () => worker.call({ type: "get_worker_stats" }),
        ),
      );
      assert.ok(back.every((r) => r.type === "ack"));
    });
  });
}

Deno.test("mtls: the admission hook sees the client certificate fingerprint", async () => {
  await withEnv("mtls", async (dir, tls) => {
    const seen: (string | undefined)[] = [];
    await using pair = await openPair("mtls", dir, tls, {
      listen: {
        admit: ({ peerFingerprint, authPresent }) => {
          seen.push(peerFingerprint);
          assert.equal(authPresent, false);
          return { worker_id: 1, revision: 0 };
        },
      },
    });
    assert.deepEqual(seen, [tls!.client.fingerprint]);
    assert.equal(pair.router.peerFingerprint, tls!.client.fingerprint);
    assert.match(tls!.client.fingerprint, /^[0-9a-f]{64}$/);
  });
});

/**
 * Starts an mtls listener, requires a worker connecting with `clientTls` to
 * be refused, and returns the listener's pending handshakes afterwards.
 */
async function mtlsRefusal(
  dir: string,
  tls: TlsFixtures | undefined,
  clientTls: ConnectTlsOptions,
): Promise<number> {
  const o = transportOptions("mtls", dir, tls);
  await using listener = listen(o.address, {
    ...o.listen,
    logger: memoryLogger(),
  });
  const address = formatAddress(await listener.ready);
  await assert.rejects(
    connect(address, { shardId: 1, tls: clientTls, logger: memoryLogger() }),
    (err: ProtocolError) => isProtocolError(err),
  );
  return listener.pendingHandshakes;
}

Deno.test("mtls: a worker without a client certificate is refused", async () => {
  await withEnv("mtls", async (dir, tls) => {
    const pending = await mtlsRefusal(dir, tls, { caCerts: tls!.ca.cert });
    assert.equal(pending, 0);
  });
});

Deno.test("mtls: a client certificate from another CA is refused", async () => {
  await withEnv("mtls", async (dir, tls) => {
    await using other = await createTlsFixtures();
    await mtlsRefusal(dir, tls, {
      caCerts: tls!.ca.cert,
      cert: other.client.cert,
      key: other.client.key,
    });
  });
});

Deno.test("tls: a server certificate from another CA is refused", async () => {
  await withEnv("tls", async (dir, tls) => {
    await using other = await createTlsFixtures();
    const o = transportOptions("tls", dir, tls);
    const logger = memoryLogger();
    await using listener = listen(o.address, { ...o.listen, logger });
    const address = formatAddress(await listener.ready);
    await assert.rejects(
      connect(address, { shardId: 1, tls: { caCerts: other.ca.cert }, logger }),
      (err: ProtocolError) => isProtocolError(err, "io_error"),
    );
  });
});

Deno.test("tls: the server name can differ from the host (tls domain)", async () => {
  await withEnv("mtls", async (dir, tls) => {
    for (const transport of ["tls", "mtls"] as const) {
      const o = transportOptions(transport, dir, tls);
      const logger = memoryLogger();
      await using listener = listen(o.address, { ...o.listen, logger });
      const bound = await listener.ready;
      const address = formatAddress(bound);
      const [router, worker] = await Promise.all([
        listener.accept(),
        connect(address, {
          shardId: 1,
          logger,
          tls: { ...o.connect.tls!, serverName: "localhost" },
        }),
      ]);
      worker.setRequestHandler(() => ACK);
      assert.deepEqual(await router!.call({ type: "shutdown" }), {
        type: "ack",
      });
      await worker.close();
      await router!.close();
      // A name the certificate does not carry fails verification.
      await assert.rejects(
        connect(address, {
          shardId: 1,
          logger,
          tls: { ...o.connect.tls!, serverName: "not-localhost.example" },
        }),
        (err: ProtocolError) => isProtocolError(err, "io_error"),
      );
    }
  });
});

for (const transport of ["unix", "tls"] as const) {
  Deno.test(`${transport}: a wrong auth token is rejected with unauthorized`, async () => {
    await withEnv(transport, async (dir, tls) => {
      const o = transportOptions(transport, dir, tls);
      const logger = memoryLogger();
      let hookCalls = 0;
      await using listener = listen(o.address, {
        ...o.listen,
        logger,
        authToken: "right-token",
        admit: ({ authPresent }) => {
          hookCalls++;
          assert.equal(authPresent, true);
          return { worker_id: 1, revision: 0 };
        },
      });
      const address = formatAddress(await listener.ready);
      const err = await connect(address, {
        ...o.connect,
        shardId: 1,
        authToken: "wrong-token",
        logger,
      }).then(() => undefined, (e) => e);
      assert.ok(isProtocolError(err, "handshake_rejected"), String(err));
      assert.match(err.message, /unauthorized/);
      assert.ok(!err.message.includes("wrong-token"));
      assert.equal(hookCalls, 0);
      // The right token works, and the hello a router sees is redacted.
      const [router, worker] = await Promise.all([
        listener.accept(),
        connect(address, {
          ...o.connect,
          shardId: 1,
          authToken: "right-token",
          logger,
        }),
      ]);
      assert.equal(router!.hello.auth_token, "<redacted>");
      assert.equal(hookCalls, 1);
      await worker.close();
      await router!.close();
      assert.ok(!JSON.stringify(logger.lines).includes("right-token"));
    });
  });
}

Deno.test("tcp: tokens over plaintext need allowInsecure on both ends", async () => {
  assert.throws(
    () => listen("tcp:127.0.0.1:0", { authToken: "t", logger: memoryLogger() }),
    TypeError,
  );
  await assert.rejects(
    connect("tcp:127.0.0.1:1", {
      shardId: 0,
      authToken: "t",
      logger: memoryLogger(),
    }),
    TypeError,
  );
  const logger = memoryLogger();
  await using listener = listen("tcp:127.0.0.1:0", {
    authToken: "t",
    allowInsecure: true,
    logger,
  });
  const address = formatAddress(listener.address);
  const [router, worker] = await Promise.all([
    listener.accept(),
    connect(address, {
      shardId: 0,
      authToken: "t",
      allowInsecure: true,
      logger,
    }),
  ]);
  await worker.close();
  await router!.close();
  assert.ok(logger.lines.some((l) => l.event === "plaintext tcp connection"));
  assert.ok(logger.lines.some((l) => l.event === "plaintext tcp listener"));
});

Deno.test("pipe: addresses parse but connect and listen refuse them", async () => {
  assert.throws(() => listen("pipe:nova-router"), Deno.errors.NotSupported);
  await assert.rejects(
    connect("pipe:nova-router", { shardId: 0 }),
    Deno.errors.NotSupported,
  );
});

Deno.test("admission hook rejections reach the worker, and hook errors become internal", async () => {
  await withEnv("unix", async (dir) => {
    const o = transportOptions("unix", dir, undefined);
    const logger = memoryLogger();
    await using listener = listen(o.address, {
      logger,
      admit: ({ hello }) => {
        if (hello.shard_id === 9) {
          return {
            reject: { code: "invalid_request", message: "unknown shard 9" },
          };
        }
        if (hello.shard_id === 8) throw new Error("hook bug");
        return Promise.resolve({ worker_id: 3, revision: 0 });
      },
    });
    const address = formatAddress(await listener.ready);
    const e1 = await connect(address, { shardId: 9, logger }).catch((e) => e);
    assert.ok(isProtocolError(e1, "handshake_rejected"));
    assert.match(e1.message, /unknown shard 9/);
    const e2 = await connect(address, { shardId: 8, logger }).catch((e) => e);
    assert.ok(isProtocolError(e2, "handshake_rejected"));
    assert.match(e2.message, /internal/);
    const [router, worker] = await Promise.all([
      listener.accept(),
      connect(address, { shardId: 1, logger }),
    ]);
    assert.equal(worker.welcome.worker_id, 3);
    await worker.close();
    await router!.close();
  });
});

Deno.test("calls: remote errors, cancellation by signal, timeouts and handler signals", async () => {
  await withEnv("unix", async (dir) => {
    await using pair = await openPair("unix", dir, undefined);
    const { router, worker } = pair;
    const aborted: unknown[] = [];
    worker.setRequestHandler(async (request: Request, { signal }) => {
      if (request.type === "diagnostics" && request.path === "fail") {
        return {
          status: "err",
          error: {
            code: "internal",
            message: "boom",
            retryable: false,
            details: null,
          },
        };
      }
      if (request.type === "diagnostics" && request.path === "throw") {
        throw new Error("secret detail");
      }
      if (request.type === "diagnostics" && request.path === "slow") {
        await untilAborted(signal);
        aborted.push(signal.reason);
        return { status: "err", error: CANCELLED_ERROR };
      }
      return ACK;
    });
    const remote = await router.call({ type: "diagnostics", path: "fail" })
      .catch((e) => e);
    assert.ok(remote instanceof RemoteCallError);
    assert.equal(remote.code, "remote_error");
    assert.equal(remote.rpcError.message, "boom");

    const thrown = await router.call({ type: "diagnostics", path: "throw" })
      .catch((e) => e);
    assert.ok(isProtocolError(thrown, "remote_error"));
    assert.equal((thrown as RemoteCallError).rpcError.code, "internal");
    assert.ok(!thrown.message.includes("secret detail"));

    const controller = new AbortController();
    const cancelled = router.call({ type: "diagnostics", path: "slow" }, {
      signal: controller.signal,
    });
    setTimeout(() => controller.abort(), 20);
    await assert.rejects(
      cancelled,
      (e: ProtocolError) => isProtocolError(e, "cancelled"),
    );

    const timedOut = router.call({ type: "diagnostics", path: "slow" }, {
      timeoutMs: 30,
    });
    await assert.rejects(
      timedOut,
      (e: ProtocolError) => isProtocolError(e, "timeout"),
    );

    // Both handlers saw their cancel; the connection is still fine.
    for (let i = 0; i < 500 && aborted.length < 2; i++) {
      await new Promise((r) => setTimeout(r, 10));
    }
    assert.equal(aborted.length, 2);
    assert.deepEqual(await router.call({ type: "get_worker_stats" }), {
      type: "ack",
    });

    const pre = new AbortController();
    pre.abort();
    await assert.rejects(
      router.call({ type: "shutdown" }, { signal: pre.signal }),
      (e: ProtocolError) => isProtocolError(e, "cancelled"),
    );
  });
});

Deno.test("notifications are delivered, and buffered until a handler is set", async () => {
  await withEnv("tcp", async (dir) => {
    await using pair = await openPair("tcp", dir, undefined);
    const { router, worker } = pair;
    const index = {
      shard_id: 1,
      revision: 5,
      index_generation: 1,
      symbols: [],
    };
    worker.notify({ type: "cached_index", body: index });
    // Round trip a call so the notification has certainly arrived.
    worker.setRequestHandler(() => ACK);
    await router.call({ type: "get_worker_stats" });
    const got: unknown[] = [];
    router.setNotificationHandler((n) => {
      got.push(n);
    });
    assert.deepEqual(got, [{ type: "cached_index", body: index }]);
  });
});

Deno.test("requests wait for a handler, then get no request handler installed", async () => {
  await withEnv("unix", async (dir) => {
    await using pair = await openPair("unix", dir, undefined, {
      listen: { handlerWaitMs: 50 },
    });
    const err = await pair.worker.call({ type: "get_worker_stats" }).catch((
      e,
    ) => e);
    assert.ok(isProtocolError(err, "remote_error"));
    assert.equal(
      (err as RemoteCallError).rpcError.message,
      "no request handler installed",
    );
    // A handler installed while a request waits answers it.
    const late = pair.worker.call({ type: "shutdown" });
    pair.router.setRequestHandler(() => ({
      status: "ok",
      value: { type: "shutdown" },
    }));
    assert.deepEqual(await late, { type: "shutdown" });
  });
});

Deno.test("close: pending calls fail with connection_closed on both sides", async () => {
  await withEnv("unix", async (dir) => {
    await using pair = await openPair("unix", dir, undefined);
    const { router, worker } = pair;
    worker.setRequestHandler(() => new Promise<RpcResult>(() => {}));
    const pending = router.call({ type: "get_worker_stats" });
    await new Promise((r) => setTimeout(r, 10));
    await worker.close();
    await assert.rejects(
      pending,
      (e: ProtocolError) => isProtocolError(e, "connection_closed"),
    );
    const reason = await router.closed;
    assert.ok(isProtocolError(reason, "connection_closed"));
    assert.equal(await worker.closed, undefined);
    assert.ok(router.isClosed && worker.isClosed);
    await assert.rejects(
      router.call({ type: "shutdown" }),
      (e: ProtocolError) => isProtocolError(e, "connection_closed"),
    );
    assert.throws(
      () => worker.notify({ type: "unknown" }),
      (e: ProtocolError) => isProtocolError(e, "connection_closed"),
    );
  });
});

Deno.test("large payloads are chunked and compressed end to end", async () => {
  await withEnv("tcp", async (dir) => {
    await using pair = await openPair("tcp", dir, undefined, {
      connect: { capabilities: { max_frame_len: 64 * 1024 } },
    });
    const { router, worker } = pair;
    assert.equal(worker.welcome.chosen_capabilities.max_frame_len, 64 * 1024);
    const text = "public class Big { int x; }\n".repeat(80_000); // ~2.2 MB
    let seen = 0;
    worker.setRequestHandler((request) => {
      if (request.type === "update_file") seen = request.file.text.length;
      return ACK;
    });
    await router.call({
      type: "update_file",
      revision: 1,
      file: { path: "Big.java", text },
    });
    assert.equal(seen, text.length);
  });
});

Deno.test("listener: maxConnections drops the extra stream", async () => {
  await withEnv("unix", async (dir) => {
    const o = transportOptions("unix", dir, undefined);
    const logger = memoryLogger();
    await using listener = listen(o.address, { logger, maxConnections: 1 });
    const address = formatAddress(await listener.ready);
    const [router, worker] = await Promise.all([
      listener.accept(),
      connect(address, { shardId: 1, logger }),
    ]);
    assert.equal(listener.activeConnections, 1);
    await assert.rejects(
      connect(address, { shardId: 2, logger }),
      (e: ProtocolError) => isProtocolError(e),
    );
    await worker.close();
    await router!.close();
    assert.equal(listener.activeConnections, 0);
    assert.ok(
      logger.lines.some((l) => l.reason === "too many active connections"),
    );
  });
});

Deno.test("connect: invalid options throw before a socket is opened", async () => {
  await assert.rejects(
    connect("tcp:127.0.0.1:1", {
      shardId: 0,
      capabilities: { max_frame_len: 0 },
      logger: memoryLogger(),
    }),
    RangeError,
  );
  await assert.rejects(connect("tcp:127.0.0.1:1", { shardId: -1 }), TypeError);
  await assert.rejects(
    connect("tcp+tls:127.0.0.1:1", { shardId: 0, logger: memoryLogger() }),
    TypeError,
  );
});

Deno.test("connect: a refused connection is an io_error", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await assert.rejects(
      connect(`unix:${dir}/missing.sock`, { shardId: 0 }),
      (e: ProtocolError) => isProtocolError(e, "io_error"),
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
