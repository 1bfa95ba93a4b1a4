/**
 * Entry point of the router's snapshot-reading thread (a Web Worker): reads
 * one shard's listed `.java` files with synchronous calls and sends the raw
 * bytes back in one transferred buffer. Decoding, skipping and progress
 * stay on the router's thread (see `_router_reader.ts`).
 *
 * @module
 */

/** A request to read one shard. */
export interface ReadRequest {
  id: number;
  paths: string[];
  maxFileBytes: number;
}

/** Size marker of a file that vanished after the walk. */
export const VANISHED = -1;
/** Size marker of a file larger than the per-file limit (bytes not sent). */
export const TOO_LARGE = -2;

/** The answer: sizes (or a marker) per path, bytes back to back. */
export type ReadReply =
  | { id: number; sizes: Int32Array; data: Uint8Array }
  | { id: number; error: string };

/**
 * Reads a shard's listed files (no decoding).
 *
 * @example
 * ```ts
 * import { readShardFiles, VANISHED } from "./_router_read_worker.ts";
 * const reply = readShardFiles({
 *   id: 1, paths: ["/definitely/not/here/A.java"], maxFileBytes: 8,
 * });
 * console.assert("sizes" in reply && reply.sizes[0] === VANISHED);
 * ```
 */
export function readShardFiles(req: ReadRequest): ReadReply {
  const { paths } = req;
  const sizes = new Int32Array(paths.length);
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (let i = 0; i < paths.length; i++) {
    let bytes: Uint8Array;
    try {
      bytes = Deno.readFileSync(paths[i]);
    } catch (err) {
      if (err instanceof Deno.errors.NotFound) {
        sizes[i] = VANISHED;
        continue;
      }
      throw err;
    }
    if (bytes.byteLength > req.maxFileBytes) {
      sizes[i] = TOO_LARGE;
      continue;
    }
    sizes[i] = bytes.byteLength;
    chunks.push(bytes);
    total += bytes.byteLength;
  }
  const data = new Uint8Array(total);
  let pos = 0;
  for (const c of chunks) {
    data.set(c, pos);
    pos += c.byteLength;
  }
  return { id: req.id, sizes, data };
}

interface WorkerScope {
  onmessage: ((e: MessageEvent<ReadRequest>) => void) | null;
  postMessage(message: ReadReply, transfer?: Transferable[]): void;
}

const scope = globalThis as unknown as WorkerScope & {
  DedicatedWorkerGlobalScope?: unknown;
};
// Only inside a worker thread (importing the module elsewhere is inert).
if (typeof scope.DedicatedWorkerGlobalScope === "function") {
  scope.onmessage = (e) => {
    let reply: ReadReply;
    try {
      reply = readShardFiles(e.data);
    } catch (err) {
      reply = { id: e.data.id, error: String(err) };
    }
    scope.postMessage(
      reply,
      "data" in reply
        ? [reply.data.buffer as ArrayBuffer, reply.sizes.buffer as ArrayBuffer]
        : [],
    );
  };
}
