/**
 * The far end of the loopback benchmarks, run in a Web Worker so that it
 * has its own event loop (and thread). It connects to the address it is
 * given and then serves one of:
 *
 * - `echo`: raw length-prefixed echo (no CBOR): every complete frame read
 *   is written back; frames completed by one read leave in one write;
 * - `sink`: raw stream sink: counts bytes and answers one byte per `ackEvery`
 *   bytes received;
 * - `rpc`: a loom worker connection that answers every request.
 *
 * @module
 */

import { connect, type ConnectOptions, createLogger } from "../lib/net/mod.ts";
import type { Request, RpcResult } from "../lib/wire/types.ts";

/** What the main thread asks for. */
export type PeerCommand =
  | { kind: "echo"; address: string }
  | { kind: "sink"; address: string; ackEvery: number }
  | { kind: "rpc"; address: string; options: Partial<ConnectOptions> };

function open(address: string): Promise<Deno.Conn> {
  if (address.startsWith("unix:")) {
    return Deno.connect({ transport: "unix", path: address.slice(5) });
  }
  const m = address.match(/^tcp:(.*):(\d+)$/)!;
  return Deno.connect({ hostname: m[1], port: Number(m[2]) }).then((c) => {
    c.setNoDelay(true);
    return c;
  });
}

async function writeAll(conn: Deno.Conn, bytes: Uint8Array): Promise<void> {
  let off = 0;
  while (off < bytes.length) off += await conn.write(bytes.subarray(off));
}

async function echo(address: string): Promise<void> {
  const conn = await open(address);
  let buf = new Uint8Array(1 << 18);
  let have = 0;
  try {
    for (;;) {
      if (have === buf.length) {
        const bigger = new Uint8Array(buf.length * 2);
        bigger.set(buf);
        buf = bigger;
      }
      const n = await conn.read(buf.subarray(have));
      if (n === null) break;
      have += n;
      let end = 0;
      while (have - end >= 4) {
        const len = buf[end] | buf[end + 1] << 8 | buf[end + 2] << 16 |
          buf[end + 3] << 24;
        if (have - end - 4 < len) break;
        end += 4 + len;
      }
      if (end > 0) {
        await writeAll(conn, buf.slice(0, end));
        buf.copyWithin(0, end, have);
        have -= end;
      }
    }
  } catch {
    // The bench closed us.
  } finally {
    conn.close();
  }
}

async function sink(address: string, ackEvery: number): Promise<void> {
  const conn = await open(address);
  const buf = new Uint8Array(1 << 18);
  let count = 0;
  const ack = new Uint8Array(1);
  try {
    for (;;) {
      const n = await conn.read(buf);
      if (n === null) break;
      count += n;
      while (count >= ackEvery) {
        count -= ackEvery;
        await writeAll(conn, ack);
      }
    }
  } catch {
    // closed
  } finally {
    conn.close();
  }
}

const ACK: RpcResult = { status: "ok", value: { type: "ack" } };

async function rpc(
  address: string,
  options: Partial<ConnectOptions>,
): Promise<void> {
  const conn = await connect(address, {
    shardId: 0,
    logger: createLogger({ level: "error" }),
    ...options,
  });
  conn.setRequestHandler((request: Request): RpcResult => {
    switch (request.type) {
      case "index_shard":
        return {
          status: "ok",
          value: {
            type: "shard_index",
            body: {
              shard_id: 0,
              revision: request.revision,
              index_generation: 1,
              symbols: [{
                name: "A",
                path: request.files[0]?.path ?? "",
                line: 0,
                column: 0,
              }],
            },
          },
        };
      case "get_worker_stats":
        return {
          status: "ok",
          value: {
            type: "worker_stats",
            body: {
              shard_id: 0,
              revision: 1,
              index_generation: 1,
              file_count: 3,
            },
          },
        };
      default:
        return ACK;
    }
  });
  await conn.closed;
}

/** The worker global scope, typed without the worker lib. */
const scope = globalThis as unknown as {
  onmessage: ((event: MessageEvent<PeerCommand>) => void) | null;
  postMessage(message: unknown): void;
};

scope.onmessage = (event: MessageEvent<PeerCommand>) => {
  const cmd = event.data;
  const run = cmd.kind === "echo"
    ? echo(cmd.address)
    : cmd.kind === "sink"
    ? sink(cmd.address, cmd.ackEvery)
    : rpc(cmd.address, cmd.options);
  run.then(
    () => scope.postMessage({ done: true }),
    (err) => scope.postMessage({ done: true, error: String(err) }),
  );
};
