/**
 * Hostile peers against a real listener (unix and tcp sockets): every
 * violation closes the offending connection with a stable code, never the
 * listener, and nothing leaks (Deno's sanitizers stay on).
 */

import assert from "node:assert/strict";
import * as zlib from "node:zlib";
import { encodeRpcPayload } from "../wire/codec.ts";
import { isProtocolError, type ProtocolError } from "../wire/errors.ts";
import { encodeLengthPrefixedFrame } from "../wire/frame.ts";
import { createWorkerSession, type WorkerSession } from "../wire/session.ts";
import type { Capabilities, WireFrame } from "../wire/types.ts";
import { formatAddress } from "./address.ts";
import { connect } from "./connect.ts";
import type { Connection } from "./connection.ts";
import { listen, type Listener, type ListenOptions } from "./listen.ts";
import { writeAll } from "./stream.ts";
import { createTlsFixtures } from "./tls_mint.ts";
import { memoryLogger, readToEnd } from "./net_test_util.ts";
import { nodeZstdCompressor } from "./zstd.ts";

interface Env extends AsyncDisposable {
  listener: Listener;
  address: string;
  logger: ReturnType<typeof memoryLogger>;
}

async function env(
  options: ListenOptions = {},
  transport: "unix" | "tcp" = "unix",
): Promise<Env> {
  const dir = await Deno.makeTempDir({ prefix: "loom-hostile-" });
  const logger = memoryLogger();
  const listener = listen(
    transport === "unix" ? `unix:${dir}/r.sock` : "tcp:127.0.0.1:0",
    { logger, ...options },
  );
  const address = formatAddress(await listener.ready);
  return {
    listener,
    address,
    logger,
    async [Symbol.asyncDispose]() {
      await listener.close();
      await Deno.remove(dir, { recursive: true });
    },
  };
}

function rawConnect(address: string): Promise<Deno.Conn> {
  if (address.startsWith("unix:")) {
    return Deno.connect({ transport: "unix", path: address.slice(5) });
  }
  const [, host, port] = address.match(/^tcp:(.*):(\d+)$/)!;
  return Deno.connect({ hostname: host, port: Number(port) });
}

/** Proves the listener still works: a real worker connects and answers. */
async function assertStillServing(e: Env): Promise<void> {
  const [router, worker] = await Promise.all([
    e.listener.accept(),
    connect(e.address, { shardId: 1, logger: e.logger }),
  ]);
  worker.setRequestHandler(() => ({ status: "ok", value: { type: "ack" } }));
  assert.deepEqual(await router!.call({ type: "get_worker_stats" }), {
    type: "ack",
  });
  await worker.close();
  await router!.close();
}

interface RawWorker {
  conn: Deno.Conn;
  session: WorkerSession;
  router: Connection;
}

/** A hand-driven worker: real handshake, then arbitrary bytes. */
async function rawWorker(
  e: Env,
  capabilities?: Partial<Capabilities>,
): Promise<RawWorker> {
  const session = createWorkerSession({
    hello: { shard_id: 1, capabilities },
    compressor: nodeZstdCompressor,
  });
  const conn = await rawConnect(e.address);
  const routerPromise = e.listener.accept();
  await writeAll(conn, session.pollTransmit()!);
  const buf = new Uint8Array(65536);
  for (;;) {
    const n = await conn.read(buf);
    assert.ok(n !== null, "router closed during the handshake");
    session.receive(buf.subarray(0, n), 0);
    const event = session.pollEvent();
    if (event?.type === "handshake_done") break;
    assert.equal(event, undefined);
  }
  return { conn, session, router: (await routerPromise)! };
}

/** Sends `bytes`, then expects the router side to close with `code`. */
async function expectClose(
  raw: RawWorker,
  bytes: Uint8Array,
  code: ProtocolError["code"] | ((e: ProtocolError) => boolean),
): Promise<ProtocolError> {
  await writeAll(raw.conn, bytes).catch(() => {});
  const reason = await raw.router.closed;
  assert.ok(reason !== undefined, "closed without an error");
  if (typeof code === "string") {
    assert.equal(reason.code, code, reason.message);
  } else {
    assert.ok(code(reason), `${reason.code}: ${reason.message}`);
  }
  const end = await readToEnd(raw.conn, 2000);
  assert.notEqual(end.ended, "timeout");
  raw.conn.close();
  return reason;
}

function frame(f: WireFrame): Uint8Array {
  return encodeLengthPrefixedFrame(f);
}

Deno.test("hostile: an absent Hello is closed at the handshake deadline", async () => {
  await using e = await env({ handshakeTimeoutMs: 150 });
  const conn = await rawConnect(e.address);
  const t0 = performance.now();
  const end = await readToEnd(conn, 3000);
  const elapsed = performance.now() - t0;
  conn.close();
  assert.notEqual(end.ended, "timeout");
  assert.equal(end.bytes, 0);
  assert.ok(elapsed >= 100 && elapsed < 4000, `closed after ${elapsed} ms`);
  assert.equal(e.listener.pendingHandshakes, 0);
  assert.ok(
    e.logger.lines.some((l) =>
      (l.error as { code?: string } | undefined)?.code === "handshake_timeout"
    ),
  );
  await assertStillServing(e);
});

Deno.test("hostile: a Hello trickled too slowly is closed at the deadline", async () => {
  await using e = await env({ handshakeTimeoutMs: 200 });
  const session = createWorkerSession({ hello: { shard_id: 1 } });
  const hello = session.pollTransmit()!;
  const conn = await rawConnect(e.address);
  await writeAll(conn, hello.subarray(0, 10));
  const t0 = performance.now();
  const end = await readToEnd(conn, 3000);
  conn.close();
  assert.notEqual(end.ended, "timeout");
  assert.ok(performance.now() - t0 < 4000);
  await assertStillServing(e);
});

Deno.test("hostile: beyond maxPendingHandshakes the oldest pending handshake is closed, not the newcomer", async () => {
  await using e = await env({
    maxPendingHandshakes: 3,
    handshakeTimeoutMs: 10_000,
  });
  const silent = await Promise.all([1, 2, 3].map(() => rawConnect(e.address)));
  for (let i = 0; i < 1000 && e.listener.pendingHandshakes < 3; i++) {
    await new Promise((r) => setTimeout(r, 5));
  }
  assert.equal(e.listener.pendingHandshakes, 3);
  const extra = await rawConnect(e.address);
  const t0 = performance.now();
  // One of the three earlier squatters is closed to make room.
  const ends = await Promise.all(silent.map((c) => readToEnd(c, 3000)));
  assert.equal(ends.filter((x) => x.ended !== "timeout").length, 1);
  assert.ok(performance.now() - t0 < 5000);
  assert.equal(e.listener.pendingHandshakes, 3);
  assert.ok(
    e.logger.lines.some((l) => l.reason === "too many pending handshakes"),
  );
  extra.close();
  for (const c of silent) {
    try {
      c.close();
    } catch {
      // closed
    }
  }
  for (let i = 0; i < 1000 && e.listener.pendingHandshakes > 0; i++) {
    await new Promise((r) => setTimeout(r, 5));
  }
  assert.equal(e.listener.pendingHandshakes, 0);
  assert.equal(e.listener.activeConnections, 0);
  await assertStillServing(e);
});

Deno.test("hostile: one TCP peer holds at most 16 pending handshakes by default", async () => {
  await using e = await env({}, "tcp");
  const silent = await Promise.all(
    Array.from({ length: 128 }, () => rawConnect(e.address)),
  );
  for (let i = 0; i < 200; i++) await new Promise((r) => setTimeout(r, 5));
  assert.equal(e.listener.pendingHandshakes, 16);
  assert.ok(
    e.logger.lines.some((l) =>
      l.reason === "too many pending handshakes from one peer"
    ),
  );
  for (const c of silent) {
    try {
      c.close();
    } catch {
      // closed
    }
  }
  for (let i = 0; i < 1000 && e.listener.pendingHandshakes > 0; i++) {
    await new Promise((r) => setTimeout(r, 5));
  }
  assert.equal(e.listener.pendingHandshakes, 0);
  await assertStillServing(e);
});

Deno.test("hostile: mutual TLS counts the TLS accept as a pending handshake", async () => {
  await using tls = await createTlsFixtures();
  const tlsOptions = {
    cert: tls.server.cert,
    key: tls.server.key,
    clientCa: tls.ca.cert,
  };
  {
    await using listener = listen("tcp+tls:127.0.0.1:0", {
      logger: memoryLogger(),
      maxPendingHandshakes: 2,
      handshakeTimeoutMs: 10_000,
      tls: tlsOptions,
    });
    const { port } = (await listener.ready) as { port: number };
    const silent = await Promise.all(
      [1, 2].map(() => Deno.connect({ hostname: "127.0.0.1", port })),
    );
    for (let i = 0; i < 1000 && listener.pendingHandshakes < 2; i++) {
      await new Promise((r) => setTimeout(r, 5));
    }
    assert.equal(listener.pendingHandshakes, 2);
    const extra = await Deno.connect({ hostname: "127.0.0.1", port });
    const t0 = performance.now();
    const end = await readToEnd(extra, 5000);
    extra.close();
    assert.notEqual(end.ended, "timeout");
    assert.ok(performance.now() - t0 < 5000);
    for (const c of silent) c.close();
    for (let i = 0; i < 1000 && listener.pendingHandshakes > 0; i++) {
      await new Promise((r) => setTimeout(r, 5));
    }
    assert.equal(listener.pendingHandshakes, 0);
  }
  {
    // A client that never starts TLS is dropped at the TLS accept deadline.
    await using listener = listen("tcp+tls:127.0.0.1:0", {
      logger: memoryLogger(),
      handshakeTimeoutMs: 150,
      tls: tlsOptions,
    });
    const { port } = (await listener.ready) as { port: number };
    const silent = await Deno.connect({ hostname: "127.0.0.1", port });
    assert.notEqual((await readToEnd(silent, 5000)).ended, "timeout");
    silent.close();
    for (let i = 0; i < 1000 && listener.pendingHandshakes > 0; i++) {
      await new Promise((r) => setTimeout(r, 5));
    }
    assert.equal(listener.pendingHandshakes, 0);
  }
});

Deno.test("hostile: an oversized length prefix is refused before allocation", async () => {
  await using e = await env({ handshakeTimeoutMs: 10_000 });
  const conn = await rawConnect(e.address);
  const before = Deno.memoryUsage().rss;
  await writeAll(conn, new Uint8Array([0xff, 0xff, 0xff, 0xff, 0xa1]));
  const end = await readToEnd(conn, 3000);
  conn.close();
  assert.notEqual(end.ended, "timeout");
  assert.equal(end.bytes, 0);
  assert.ok(Deno.memoryUsage().rss - before < 64 << 20);
  assert.ok(
    e.logger.lines.some((l) =>
      (l.error as { code?: string } | undefined)?.code === "frame_too_large"
    ),
  );
  // After the handshake the negotiated limit applies.
  const raw = await rawWorker(e, { max_frame_len: 4096 });
  await expectClose(
    raw,
    new Uint8Array([0x01, 0x10, 0x00, 0x00]),
    "frame_too_large",
  );
  await assertStillServing(e);
});

Deno.test("hostile: a request id of the router's parity closes the connection", async () => {
  await using e = await env();
  const raw = await rawWorker(e);
  const data = encodeRpcPayload({
    type: "request",
    body: { type: "get_worker_stats" },
  });
  await expectClose(
    raw,
    frame({ type: "packet", body: { id: 2, compression: "none", data } }),
    "protocol_violation",
  );
  const raw0 = await rawWorker(e);
  await expectClose(
    raw0,
    frame({ type: "packet", body: { id: 0, compression: "none", data } }),
    "protocol_violation",
  );
  await assertStillServing(e);
});

Deno.test("hostile: a chunk sequence gap closes the connection", async () => {
  await using e = await env();
  const raw = await rawWorker(e);
  const data = new Uint8Array(10);
  const bytes = new Uint8Array([
    ...frame({
      type: "packet_chunk",
      body: { id: 1, compression: "none", seq: 0, last: false, data },
    }),
    ...frame({
      type: "packet_chunk",
      body: { id: 1, compression: "none", seq: 2, last: false, data },
    }),
  ]);
  await expectClose(raw, bytes, "chunk_sequence");
  await assertStillServing(e);
});

Deno.test("hostile: the 33rd concurrent reassembly closes the connection", async () => {
  await using e = await env();
  const raw = await rawWorker(e);
  const parts: Uint8Array[] = [];
  for (let i = 0; i < 33; i++) {
    parts.push(frame({
      type: "packet_chunk",
      body: {
        id: 2 * i + 1,
        compression: "none",
        seq: 0,
        last: false,
        data: new Uint8Array(4),
      },
    }));
  }
  const bytes = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let off = 0;
  for (const p of parts) {
    bytes.set(p, off);
    off += p.length;
  }
  await expectClose(raw, bytes, (err) => isProtocolError(err) && err.remote);
  await assertStillServing(e);
});

Deno.test("hostile: a zstd bomb is refused at max_packet_len", async () => {
  await using e = await env();
  const raw = await rawWorker(e, { max_packet_len: 1 << 20 });
  assert.ok(
    raw.session.welcome!.chosen_capabilities.supported_compression.includes(
      "zstd",
    ),
  );
  const bomb = zlib.zstdCompressSync(new Uint8Array(32 << 20));
  const before = Deno.memoryUsage().rss;
  await expectClose(
    raw,
    frame({ type: "packet", body: { id: 1, compression: "zstd", data: bomb } }),
    "packet_too_large",
  );
  assert.ok(Deno.memoryUsage().rss - before < 24 << 20);
  await assertStillServing(e);
});

Deno.test("hostile: garbage after the handshake closes the connection", async () => {
  await using e = await env();
  const raw = await rawWorker(e);
  const junk = new Uint8Array(64).map((_, i) => (i * 97 + 13) & 0xff);
  const bytes = new Uint8Array(4 + junk.length);
  new DataView(bytes.buffer).setUint32(0, junk.length, true);
  bytes.set(junk, 4);
  await expectClose(raw, bytes, (err) => isProtocolError(err) && err.remote);
  // A handshake frame after the handshake is a violation too.
  const raw2 = await rawWorker(e);
  await expectClose(
    raw2,
    frame({ type: "reject", body: { code: "internal", message: "x" } }),
    (err) => isProtocolError(err) && err.remote,
  );
  // And so is a stream that stops inside a frame.
  const raw3 = await rawWorker(e);
  await writeAll(raw3.conn, new Uint8Array([10, 0, 0, 0, 1, 2]));
  await raw3.conn.closeWrite();
  const reason = await raw3.router.closed;
  assert.ok(isProtocolError(reason, "unexpected_eof"), reason?.code);
  raw3.conn.close();
  await assertStillServing(e);
});

Deno.test("hostile: a legacy v2 hello gets the legacy error reply", async () => {
  await using e = await env();
  const conn = await rawConnect(e.address);
  const hex = "150000000001000000010a000000746573742d746f6b656e01";
  const hello = Uint8Array.from(hex.match(/../g)!.map((h) => parseInt(h, 16)));
  await writeAll(conn, hello);
  const reply = new Uint8Array(64);
  let got = 0;
  for (;;) {
    const n = await conn.read(reply.subarray(got));
    if (n === null) break;
    got += n;
  }
  conn.close();
  const expected =
    "1c0000000c17000000726f75746572206f6e6c7920737570706f727473207633";
  assert.equal(
    Array.from(reply.subarray(0, got), (b) => b.toString(16).padStart(2, "0"))
      .join(""),
    expected,
  );
  await assertStillServing(e);
});

Deno.test("hostile: plaintext garbage against TLS and mutual TLS listeners", async () => {
  await using tls = await createTlsFixtures();
  for (const clientCa of [undefined, tls.ca.cert]) {
    const logger = memoryLogger();
    await using listener = listen("tcp+tls:127.0.0.1:0", {
      logger,
      handshakeTimeoutMs: 2000,
      tls: { cert: tls.server.cert, key: tls.server.key, clientCa },
    });
    const bound = await listener.ready;
    const address = formatAddress(bound);
    const port = (bound as { port: number }).port;
    const conn = await Deno.connect({ hostname: "127.0.0.1", port });
    // A v3 Hello in clear text is not a TLS ClientHello.
    const hello = createWorkerSession({ hello: { shard_id: 1 } })
      .pollTransmit()!;
    await writeAll(conn, hello).catch(() => {});
    assert.notEqual((await readToEnd(conn, 3000)).ended, "timeout");
    conn.close();
    for (let i = 0; i < 1000 && listener.pendingHandshakes > 0; i++) {
      await new Promise((r) => setTimeout(r, 5));
    }
    assert.equal(listener.pendingHandshakes, 0);
    // Still serving real workers.
    const [router, worker] = await Promise.all([
      listener.accept(),
      connect(address, {
        shardId: 1,
        logger,
        tls: {
          caCerts: tls.ca.cert,
          ...(clientCa === undefined
            ? {}
            : { cert: tls.client.cert, key: tls.client.key }),
        },
      }),
    ]);
    await worker.close();
    await router!.close();
  }
});
