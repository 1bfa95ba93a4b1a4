/**
 * The byte-stream seam between the driver and a socket. Every `Deno.Conn`
 * (TCP, TLS, unix) already is a {@link ByteStream}; sockets from `node:tls`
 * are adapted by {@link nodeSocketStream}.
 *
 * @module
 */

import type { Duplex } from "node:stream";

/** A bidirectional byte stream (the subset of `Deno.Conn` the driver uses). */
export interface ByteStream {
  /** Reads into `buffer`; resolves to the byte count, or `null` at EOF. */
  read(buffer: Uint8Array): Promise<number | null>;
  /** Writes some of `bytes`; resolves to how many were written. */
  write(bytes: Uint8Array): Promise<number>;
  /** Closes both directions and releases the resource. */
  close(): void;
  /** Closes the write side only, if supported. */
  closeWrite?(): Promise<void>;
  /**
   * True when `write` may still refer to the bytes after it resolved, so
   * callers must never reuse a written buffer. Absent for `Deno.Conn`.
   */
  readonly retainsWrites?: boolean;
}

/**
 * Writes all of `bytes` to `stream`, looping over partial writes.
 *
 * @param stream The stream.
 * @param bytes The bytes to write.
 *
 * @example
 * ```ts
 * import { writeAll } from "./stream.ts";
 * const parts: number[] = [];
 * await writeAll({
 *   read: () => Promise.resolve(null),
 *   write: (b) => { parts.push(Math.min(2, b.length)); return Promise.resolve(Math.min(2, b.length)); },
 *   close: () => {},
 * }, new Uint8Array(5));
 * console.assert(parts.join() === "2,2,1");
 * ```
 */
export async function writeAll(
  stream: ByteStream,
  bytes: Uint8Array,
): Promise<void> {
  let off = 0;
  while (off < bytes.length) {
    off += await stream.write(off === 0 ? bytes : bytes.subarray(off));
  }
}

/** Options for {@link nodeSocketStream}. */
export interface NodeSocketStreamOptions {
  /** Pause the socket when this many received bytes are unread. @default {1048576} */
  highWaterMark?: number;
}

/**
 * Adapts a `node:net`/`node:tls` socket to a {@link ByteStream}. Received
 * chunks are queued (the socket is paused above the high-water mark) and
 * handed out by `read`; `write` resolves once the socket accepted the bytes
 * or drained. `write` keeps a reference to the buffer until it is flushed, so
 * callers must not reuse it.
 *
 * @param socket A connected node socket.
 * @param options Buffering.
 * @returns The stream.
 *
 * @example
 * ```ts ignore
 * import { nodeSocketStream } from "./stream.ts";
 * const stream = nodeSocketStream(tlsSocket);
 * ```
 */
export function nodeSocketStream(
  socket: Duplex,
  options: NodeSocketStreamOptions = {},
): ByteStream {
  const highWaterMark = options.highWaterMark ?? 1 << 20;
  const chunks: Uint8Array[] = [];
  let head = 0;
  let buffered = 0;
  let ended = false;
  let failure: Error | undefined;
  let closed = false;
  let waiter: (() => void) | undefined;
  let paused = false;
  const wake = (): void => {
    const w = waiter;
    waiter = undefined;
    w?.();
  };
  socket.on("data", (chunk: Uint8Array) => {
    chunks.push(chunk);
    buffered += chunk.length;
    if (buffered > highWaterMark && !paused) {
      paused = true;
      socket.pause();
    }
    wake();
  });
  socket.on("end", () => {
    ended = true;
    wake();
  });
  socket.on("close", () => {
    ended = true;
    wake();
  });
  socket.on("error", (err: Error) => {
    failure ??= err;
    wake();
  });
  return {
    retainsWrites: true,
    async read(buffer: Uint8Array): Promise<number | null> {
      while (chunks.length === 0) {
        if (closed) throw new Deno.errors.BadResource("stream closed");
        if (failure !== undefined) throw failure;
        if (ended) return null;
        await new Promise<void>((resolve) => waiter = resolve);
      }
      const first = chunks[0];
      const avail = first.length - head;
      const n = Math.min(avail, buffer.length);
      buffer.set(first.subarray(head, head + n));
      head += n;
      buffered -= n;
      if (head === first.length) {
        chunks.shift();
        head = 0;
      }
      if (paused && buffered <= highWaterMark / 2) {
        paused = false;
        socket.resume();
      }
      return n;
    },
    write(bytes: Uint8Array): Promise<number> {
      if (closed || failure !== undefined || socket.destroyed) {
        return Promise.reject(
          failure ?? new Deno.errors.BrokenPipe("stream closed"),
        );
      }
      return new Promise<number>((resolve, reject) => {
        const ok = socket.write(bytes, (err?: Error | null) => {
          if (err) reject(err);
        });
        if (ok) resolve(bytes.length);
        else {
          socket.once("drain", () => resolve(bytes.length));
          socket.once("close", () => resolve(bytes.length));
        }
      });
    },
    close(): void {
      if (closed) return;
      closed = true;
      socket.destroy();
      wake();
    },
    closeWrite(): Promise<void> {
      return new Promise((resolve) => socket.end(() => resolve()));
    },
  };
}
