/**
 * Shared pieces of the loopback benchmarks: raw-socket baselines (framed
 * echo and one-way stream), loom RPC workloads, and functions that start a far
 * end in a Web Worker (see `_loopback_peer.ts`).
 *
 * @module
 */

import {
  type Connection,
  createLogger,
  formatAddress,
  listen,
} from "../lib/net/mod.ts";
import type { FileText } from "../lib/wire/types.ts";
import type { PeerCommand } from "./_loopback_peer.ts";

export function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

export function peer(
  cmd: PeerCommand,
): { worker: Worker; done: Promise<void> } {
  const worker = new Worker(new URL("./_loopback_peer.ts", import.meta.url), {
    type: "module",
  });
  const done = new Promise<void>((resolve) => {
    worker.onmessage = () => resolve();
  });
  worker.postMessage(cmd);
  return { worker, done };
}

export async function writeAll(
  conn: Deno.Conn,
  bytes: Uint8Array,
): Promise<void> {
  let off = 0;
  while (off < bytes.length) off += await conn.write(bytes.subarray(off));
}

export interface RawServer {
  address: string;
  conn: Promise<Deno.Conn>;
  close(): void;
}

export function rawServer(
  transport: "unix" | "tcp",
  dir: string,
  name: string,
): RawServer {
  const listener = transport === "unix"
    ? Deno.listen({ transport: "unix", path: `${dir}/${name}.sock` })
    : Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const address = transport === "unix"
    ? `unix:${dir}/${name}.sock`
    : `tcp:127.0.0.1:${(listener.addr as Deno.NetAddr).port}`;
  const conn = listener.accept().then((c) => {
    if (transport === "tcp") (c as Deno.TcpConn).setNoDelay(true);
    return c;
  });
  return { address, conn, close: () => listener.close() };
}

/** Raw echo: `count` frames of `size` bytes with `inflight` outstanding. */
export async function rawEcho(
  conn: Deno.Conn,
  inflight: number,
  count: number,
  size: number,
): Promise<number> {
  const frame = new Uint8Array(4 + size);
  new DataView(frame.buffer).setUint32(0, size, true);
  const batch = (n: number): Uint8Array => {
    const out = new Uint8Array(frame.length * n);
    for (let i = 0; i < n; i++) out.set(frame, i * frame.length);
    return out;
  };
  const buf = new Uint8Array(1 << 18);
  let sent = Math.min(inflight, count);
  let received = 0;
  let partial = 0;
  const t0 = performance.now();
  await writeAll(conn, batch(sent));
  while (received < count) {
    const n = await conn.read(buf);
    if (n === null) throw new Error("echo peer closed");
    partial += n;
    const frames = Math.floor(partial / frame.length);
    partial -= frames * frame.length;
    received += frames;
    const more = Math.min(frames, count - sent);
    if (more > 0) {
      sent += more;
      await writeAll(conn, batch(more));
    }
  }
  return count / ((performance.now() - t0) / 1000);
}

/**
 * Raw framed calls: the same promise-per-call pattern as an RPC, without
 * CBOR or a session. Each call writes a `size`-byte frame carrying a u32 id
 * (frames queued in the same tick leave in one write); the reader splits the
 * echoed frames and resolves each call by id. Calls per second.
 */
export async function rawEchoCalls(
  conn: Deno.Conn,
  inflight: number,
  count: number,
  size: number,
): Promise<number> {
  const pending = new Map<number, () => void>();
  let queue: Uint8Array[] = [];
  let flushing = false;
  const flush = async (): Promise<void> => {
    flushing = true;
    while (queue.length > 0) {
      const parts = queue;
      queue = [];
      const out = new Uint8Array(parts.length * (4 + size));
      for (let i = 0; i < parts.length; i++) out.set(parts[i], i * (4 + size));
      await writeAll(conn, out);
    }
    flushing = false;
  };
  let nextId = 1;
  const call = (): Promise<void> => {
    const id = nextId++;
    const frame = new Uint8Array(4 + size);
    const view = new DataView(frame.buffer);
    view.setUint32(0, size, true);
    view.setUint32(4, id, true);
    queue.push(frame);
    if (!flushing && queue.length === 1) queueMicrotask(() => void flush());
    return new Promise<void>((resolve) => pending.set(id, resolve));
  };
  let stop = false;
  const reader = (async () => {
    let buf = new Uint8Array(1 << 18);
    let have = 0;
    while (!stop) {
      if (have === buf.length) {
        const bigger = new Uint8Array(buf.length * 2);
        bigger.set(buf);
        buf = bigger;
      }
      const n = await conn.read(buf.subarray(have));
      if (n === null) return;
      have += n;
      let off = 0;
      while (have - off >= 4) {
        const len = buf[off] | buf[off + 1] << 8 | buf[off + 2] << 16 |
          buf[off + 3] << 24;
        if (have - off - 4 < len) break;
        const id = buf[off + 4] | buf[off + 5] << 8 | buf[off + 6] << 16 |
          buf[off + 7] << 24;
        const resolve = pending.get(id);
        pending.delete(id);
        resolve?.();
        off += 4 + len;
      }
      buf.copyWithin(0, off, have);
      have -= off;
    }
  })();
  let started = 0;
  const t0 = performance.now();
  const lane = async (): Promise<void> => {
    while (started < count) {
      started++;
      await call();
    }
  };
  await Promise.all(Array.from({ length: inflight }, lane));
  const rate = count / ((performance.now() - t0) / 1000);
  stop = true;
  // One more echo lets the reader loop observe `stop`.
  await call();
  await reader;
  return rate;
}

/** Raw stream: `total` bytes one way in 1 MiB writes; MB/s. */
export async function rawStream(
  conn: Deno.Conn,
  total: number,
): Promise<number> {
  const piece = new Uint8Array(1 << 20).fill(97);
  const pieces = Math.ceil(total / piece.length);
  const t0 = performance.now();
  const acks = (async () => {
    const b = new Uint8Array(64);
    let got = 0;
    while (got < pieces) {
      const n = await conn.read(b);
      if (n === null) throw new Error("sink closed");
      got += n;
    }
  })();
  for (let i = 0; i < pieces; i++) await writeAll(conn, piece);
  await acks;
  return (pieces * piece.length) / 1e6 / ((performance.now() - t0) / 1000);
}

/** Small RPC rate with `inflight` calls outstanding. */
export async function rpcSmall(
  conn: Connection,
  inflight: number,
  count: number,
): Promise<number> {
  let started = 0;
  const t0 = performance.now();
  const lane = async (): Promise<void> => {
    while (started < count) {
      started++;
      await conn.call({ type: "get_worker_stats" });
    }
  };
  await Promise.all(Array.from({ length: inflight }, lane));
  return count / ((performance.now() - t0) / 1000);
}

export function text(bytes: number, seed: number): string {
  // Java-ish ASCII that zstd compresses moderately.
  const words = [
    "class",
    "public",
    "void",
    "int",
    "return",
    "static",
    "final",
    "String",
  ];
  let out = "";
  let x = seed;
  while (out.length < bytes) {
    x = (x * 1103515245 + 12345) & 0x7fffffff;
    out += words[x % words.length] + (x % 7 === 0 ? ";\n" : " ") +
      String.fromCharCode(97 + (x >> 8) % 26);
  }
  return out.slice(0, bytes);
}

/** Bulk `update_file` calls of one 1 MiB file; MB/s of text. */
export async function rpcBulk(
  conn: Connection,
  calls: number,
  inflight: number,
  file: string,
): Promise<number> {
  let started = 0;
  const t0 = performance.now();
  const lane = async (): Promise<void> => {
    while (started < calls) {
      started++;
      await conn.call({
        type: "update_file",
        revision: started,
        file: { path: "src/Big.java", text: file },
      });
    }
  };
  await Promise.all(Array.from({ length: inflight }, lane));
  return (calls * file.length) / 1e6 / ((performance.now() - t0) / 1000);
}

/** `index_shard` calls of 1,000 x 2 KiB files; MB/s of text. */
export async function rpcIndexShard(
  conn: Connection,
  calls: number,
  files: FileText[],
): Promise<number> {
  const bytes = files.reduce((n, f) => n + f.text.length, 0);
  const t0 = performance.now();
  for (let i = 0; i < calls; i++) {
    await conn.call({ type: "index_shard", revision: i + 1, files });
  }
  return (calls * bytes) / 1e6 / ((performance.now() - t0) / 1000);
}

/** An open benchmark connection and how to tear it down. */
export interface Opened<C> {
  conn: C;
  close(): Promise<void>;
}

let serial = 0;

/** A raw socket whose far end (in a Web Worker) runs `cmd`. */
export async function openRaw(
  transport: "unix" | "tcp",
  dir: string,
  cmd: (address: string) => PeerCommand,
): Promise<Opened<Deno.Conn>> {
  const server = rawServer(transport, dir, `raw${serial++}`);
  const p = peer(cmd(server.address));
  const conn = await server.conn;
  return {
    conn,
    async close() {
      conn.close();
      server.close();
      await p.done;
      p.worker.terminate();
    },
  };
}

/** A loom router connection whose worker (in a Web Worker) answers calls. */
export async function openRpc(
  transport: "unix" | "tcp",
  dir: string,
  compression: boolean,
): Promise<Opened<Connection>> {
  const address = transport === "unix"
    ? `unix:${dir}/rpc${serial++}.sock`
    : "tcp:127.0.0.1:0";
  const listener = listen(address, {
    compression,
    logger: createLogger({ level: "error" }),
  });
  const bound = formatAddress(await listener.ready);
  const p = peer({ kind: "rpc", address: bound, options: { compression } });
  const conn = (await listener.accept())!;
  return {
    conn,
    async close() {
      await conn.close();
      await listener.close();
      await p.done;
      p.worker.terminate();
    },
  };
}

/** Java-ish text files for `index_shard`: `count` files of `size` bytes. */
export function shardFiles(count: number, size: number): FileText[] {
  return Array.from({ length: count }, (_, i) => ({
    path: `src/p${i % 20}/F${i}.java`,
    text: text(size, i + 7),
  }));
}
