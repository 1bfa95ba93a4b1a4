/**
 * A second reading thread for snapshots. Reading a shard is a long run of
 * small synchronous file reads; with two shards in flight the router reads
 * one on its own thread and the other on this worker thread, so the second
 * shard's files are ready by the time the first one is sent.
 *
 * The thread only reads; decoding, skip rules and progress callbacks run
 * here, exactly as in {@link readJavaFiles}. Whenever the thread cannot be
 * used (it fails to start, or reports an error) the files are read again on
 * the calling thread, so errors surface unchanged.
 *
 * @module
 */

import {
  MAX_SNAPSHOT_FILE_BYTES,
  readJavaFiles,
  type ReadOptions,
  type ShardSnapshot,
  type SkippedFile,
} from "./workspace_fs.ts";
import type { FileText } from "../wire/types.ts";
import {
  type ReadReply,
  type ReadRequest,
  TOO_LARGE,
  VANISHED,
} from "./_router_read_worker.ts";

type Loaded = Extract<ReadReply, { sizes: Int32Array }>;

/** Turns the thread's raw bytes into a snapshot (strict UTF-8, in order). */
function decodeReply(
  paths: readonly string[],
  reply: Loaded,
  options: ReadOptions,
): ShardSnapshot {
  const decoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
  const files: FileText[] = [];
  const skipped: SkippedFile[] = [];
  let bytes = 0;
  let pos = 0;
  for (let i = 0; i < paths.length; i++) {
    const path = paths[i];
    const size = reply.sizes[i];
    if (size === VANISHED) continue;
    if (size === TOO_LARGE) {
      skipped.push({
        path,
        reason: "too_large",
        limit: options.maxFileBytes ?? MAX_SNAPSHOT_FILE_BYTES,
      });
      continue;
    }
    const data = reply.data.subarray(pos, pos + size);
    pos += size;
    let text: string;
    try {
      text = decoder.decode(data);
    } catch {
      skipped.push({ path, reason: "not_utf8" });
      continue;
    }
    bytes += size;
    files.push({ path, text });
    options.onFile?.(path, size);
  }
  return { files, bytes, skipped };
}

/**
 * The router's reading thread, started on first use.
 *
 * @example
 * ```ts
 * import { ThreadReader } from "./_router_reader.ts";
 * const reader = new ThreadReader();
 * try {
 *   const snap = await reader.read(["/definitely/not/here/A.java"]);
 *   console.assert(snap.files.length === 0 && snap.bytes === 0);
 * } finally {
 *   reader.close();
 * }
 * ```
 */
export class ThreadReader {
  #worker: Worker | undefined;
  #broken = false;
  #nextId = 1;
  #pending = new Map<number, (reply: ReadReply | undefined) => void>();

  /**
   * Reads listed files like {@link readJavaFiles} (same options and
   * result), the reading itself on the worker thread.
   */
  async read(
    paths: readonly string[],
    options: ReadOptions = {},
  ): Promise<ShardSnapshot> {
    const { signal } = options;
    signal?.throwIfAborted();
    const worker = this.#start();
    if (worker === undefined) return await readJavaFiles(paths, options);
    const id = this.#nextId++;
    const reply = new Promise<ReadReply | undefined>((resolve) => {
      this.#pending.set(id, resolve);
    });
    const request: ReadRequest = {
      id,
      paths: [...paths],
      maxFileBytes: options.maxFileBytes ?? MAX_SNAPSHOT_FILE_BYTES,
    };
    worker.postMessage(request);
    let onAbort: (() => void) | undefined;
    const aborted = new Promise<never>((_, reject) => {
      onAbort = () => reject(signal!.reason);
      signal?.addEventListener("abort", onAbort, { once: true });
    });
    let result: ReadReply | undefined;
    try {
      result = await Promise.race([reply, aborted]);
    } finally {
      signal?.removeEventListener("abort", onAbort!);
      aborted.catch(() => {});
    }
    if (result === undefined || !("sizes" in result)) {
      // The thread could not read them: read here, which reports the real
      // error (or succeeds if the problem was transient).
      return await readJavaFiles(paths, options);
    }
    signal?.throwIfAborted();
    return decodeReply(paths, result, options);
  }

  /** Stops the thread; pending and later reads run on the calling thread. */
  close(): void {
    this.#broken = true;
    this.#worker?.terminate();
    this.#worker = undefined;
    this.#settleAll();
  }

  #settleAll(): void {
    const pending = [...this.#pending.values()];
    this.#pending.clear();
    for (const resolve of pending) resolve(undefined);
  }

  #start(): Worker | undefined {
    if (this.#broken) return undefined;
    if (this.#worker !== undefined) return this.#worker;
    try {
      const worker = new Worker(
        new URL("./_router_read_worker.ts", import.meta.url).href,
        { type: "module" },
      );
      worker.onmessage = (e: MessageEvent<ReadReply>) => {
        const resolve = this.#pending.get(e.data.id);
        this.#pending.delete(e.data.id);
        resolve?.(e.data);
      };
      worker.onerror = (e: ErrorEvent) => {
        e.preventDefault();
        this.close();
      };
      worker.onmessageerror = () => this.close();
      this.#worker = worker;
      return worker;
    } catch {
      this.#broken = true;
      return undefined;
    }
  }
}
