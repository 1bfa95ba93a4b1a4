/**
 * Sending a shard's snapshot to its worker, whatever the shard's size.
 *
 * - On a connection that negotiated protocol 3.1 the snapshot is streamed in
 *   batches of at most {@link SNAPSHOT_BATCH_BYTES}: a replacing `load_files`,
 *   appending `load_files` (`append: true`), and a closing request (appending
 *   `index_shard`, or `load_files` for a rehydration). The router reads the
 *   next batch while the worker parses the previous one; at most two batches
 *   are in flight, so the router never holds the whole shard. A shard that
 *   fits in one batch is sent as one plain request, as before.
 * - A 3.0 connection (the reference worker) has no batches: the snapshot goes
 *   in one request, and one larger than the negotiated `max_packet_len` fails
 *   before anything is sent with a `SnapshotTooLargeError` that says
 *   how to split the root.
 *
 * @module
 */

import { ProtocolError } from "../wire/errors.ts";
import { SnapshotTooLargeError } from "./router_options.ts";
import type {
  FileText,
  ProtocolVersion,
  Request,
  Response,
} from "../wire/types.ts";
import { callWorker } from "./_router_calls.ts";
import { describeSentFile, type SentFile } from "./shard_manifest.ts";
import type { LiveWorker, RouterState, ShardSlot } from "./_router_state.ts";
import {
  collectJavaFiles,
  listJavaFiles,
  readJavaFiles,
  type SkippedFile,
} from "./workspace_fs.ts";

/**
 * Text bytes per batch of a streamed (3.1) snapshot: 8 MiB, or a quarter of
 * the negotiated packet limit when that is smaller.
 */
export const SNAPSHOT_BATCH_BYTES = 8 * 1024 * 1024;
/** Files per batch of a streamed snapshot. */
export const SNAPSHOT_BATCH_FILES = 4096;
/** Paths read per step while a batch fills. */
const READ_STEP = 64;

/**
 * Fewest files worth handing to the reading thread (below this, the round
 * trip costs more than it saves).
 */
const THREAD_READ_MIN_FILES = 256;

/** Options for {@link snapshot}. */
export interface SnapshotOptions {
  signal?: AbortSignal;
  /** Called with the size of every file read. */
  onFile?: (bytes: number) => void;
  /** Called once with the number of files to read. */
  onListed?: (count: number) => void;
}

/** A shard's files as sent to its worker. */
export interface ShardSnapshot {
  files: FileText[];
  bytes: number;
  skipped: SkippedFile[];
}

/**
 * Disk snapshot of a shard with the overlay applied (one shard reads on the
 * router's thread at a time, a second one on the reading thread).
 *
 * @example
 * ```ts ignore
 * import { snapshot } from "./_router_snapshot.ts";
 * const snap = await snapshot(st, st.shards[0], { signal });
 * console.log(snap.files.length, snap.bytes);
 * ```
 */
export async function snapshot(
  st: RouterState,
  shard: ShardSlot,
  options: SnapshotOptions = {},
): Promise<ShardSnapshot> {
  const { signal, onFile, onListed } = options;
  const collect = {
    signal,
    onFile: onFile && ((_p: string, b: number) => onFile(b)),
  };
  // The router's thread reads one shard at a time. A large shard arriving
  // while it is busy is read on the reading thread instead (listed here);
  // small ones, and any further shard, wait for the router's thread.
  let release = st.reads.tryAcquire();
  let snap;
  const unlisted: SkippedFile[] = [];
  if (release === undefined) {
    const threadRelease = st.threadReads.tryAcquire();
    if (threadRelease !== undefined) {
      let paths;
      try {
        paths = await listJavaFiles(shard.root, {
          exclude: shard.exclude,
          signal,
          onSkip: (skip) => unlisted.push(skip),
        });
        if (paths.length >= THREAD_READ_MIN_FILES) {
          onListed?.(paths.length);
          snap = await st.readThread.read(paths, collect);
        }
      } finally {
        threadRelease();
      }
      if (snap === undefined) {
        release = await st.reads.acquire(signal);
        try {
          onListed?.(paths.length);
          snap = await readJavaFiles(paths, collect);
        } finally {
          release();
        }
      }
    } else release = await st.reads.acquire(signal);
  }
  if (snap === undefined) {
    try {
      snap = await collectJavaFiles(shard.root, {
        ...collect,
        exclude: shard.exclude,
        onListed,
      });
    } finally {
      release!();
    }
  }
  if (unlisted.length > 0) snap.skipped.unshift(...unlisted);
  if (snap.skipped.length > 0) {
    st.log.info("skipped files", {
      shard_id: shard.id,
      count: snap.skipped.length,
    });
    st.emit({
      type: "files_skipped",
      shard: shard.id,
      files: snap.skipped,
    });
  }
  if (st.overlayFor(shard).length === 0) return snap;
  const files = st.overlay.rehydrate(snap.files, {
    include: (p) => st.layout.ownsPath(shard.id, p),
  });
  const enc = new TextEncoder();
  const bytes = files.reduce((n, f) => n + enc.encode(f.text).length, 0);
  return { files, bytes, skipped: snap.skipped };
}

/**
 * Whether a negotiated version carries batched snapshots (`append`), i.e. 3.1
 * or later.
 *
 * @example
 * ```ts
 * import { supportsSnapshotBatches } from "./_router_snapshot.ts";
 * console.assert(supportsSnapshotBatches({ major: 3, minor: 1 }));
 * console.assert(!supportsSnapshotBatches({ major: 3, minor: 0 }));
 * ```
 */
export function supportsSnapshotBatches(version: ProtocolVersion): boolean {
  return version.major > 3 || (version.major === 3 && version.minor >= 1);
}

/** Options for {@link sendSnapshot}. */
export interface SendSnapshotOptions {
  /** `index_shard` rebuilds and answers an index; `load_files` only loads. */
  mode: "index_shard" | "load_files";
  /** The revision every request of the snapshot carries. */
  revision: number | bigint;
  /** Ask a 3.1 worker for a summary instead of the symbols. */
  omitSymbols?: boolean;
  /** Aborts reading and the calls. */
  signal?: AbortSignal;
  /** Called once with the number of files to read. */
  onListed?: (count: number) => void;
  /** Called with the size of every file read. */
  onFile?: (bytes: number) => void;
  /** Called when the last request was handed to the connection. */
  onSent?: () => void;
}

/** What {@link sendSnapshot} sent and the worker's last answer. */
export interface SentSnapshot {
  /** The answer to the last request. */
  response: Response;
  /** Files sent. */
  files: number;
  /** Their UTF-8 bytes. */
  bytes: number;
  /** Files (and directories) left out. */
  skipped: SkippedFile[];
  /** Requests sent (1 when the shard fitted in one). */
  batches: number;
  /** What was sent, file by file (hash and bounds, not the text). */
  sent: SentFile[];
}

/** Encoded size of a file list, at least (texts, paths and CBOR heads). */
function encodedAtLeast(files: readonly FileText[], textBytes: number): number {
  let n = 64 + textBytes;
  for (const f of files) n += f.path.length + 16;
  return n;
}

/**
 * Reads and sends a shard's snapshot to `worker` (see the module notes).
 *
 * @example
 * ```ts ignore
 * import { sendSnapshot } from "./_router_snapshot.ts";
 * const sent = await sendSnapshot(st, shard, worker, { mode: "index_shard", revision: 1 });
 * console.log(sent.batches, sent.response.type);
 * ```
 */
export async function sendSnapshot(
  st: RouterState,
  shard: ShardSlot,
  worker: LiveWorker,
  options: SendSnapshotOptions,
): Promise<SentSnapshot> {
  const maxPacket = worker.conn.welcome.chosen_capabilities.max_packet_len;
  if (!supportsSnapshotBatches(worker.conn.welcome.chosen_version)) {
    const snap = await snapshot(st, shard, options);
    const size = encodedAtLeast(snap.files, snap.bytes);
    if (size > maxPacket) {
      throw new SnapshotTooLargeError(shard.root, maxPacket, size);
    }
    const response = await callWorker(
      st,
      worker,
      request(options, snap.files, false, true),
      { signal: options.signal, onSent: options.onSent },
    );
    return {
      response,
      files: snap.files.length,
      bytes: snap.bytes,
      skipped: snap.skipped,
      batches: 1,
      sent: snap.files.map(describeSentFile),
    };
  }
  return await streamSnapshot(st, shard, worker, options, maxPacket);
}

function request(
  options: SendSnapshotOptions,
  files: FileText[],
  append: boolean,
  last: boolean,
): Request {
  const base = {
    revision: options.revision,
    files,
    ...(append ? { append: true } : {}),
  };
  if (!last || options.mode === "load_files") {
    return { type: "load_files", ...base };
  }
  return {
    type: "index_shard",
    ...base,
    ...(options.omitSymbols ? { omit_symbols: true } : {}),
  };
}

async function streamSnapshot(
  st: RouterState,
  shard: ShardSlot,
  worker: LiveWorker,
  options: SendSnapshotOptions,
  maxPacket: number,
): Promise<SentSnapshot> {
  const { signal } = options;
  const budget = Math.max(
    1,
    Math.min(SNAPSHOT_BATCH_BYTES, Math.floor(maxPacket / 4)),
  );
  const skipped: SkippedFile[] = [];
  const paths = await listJavaFiles(shard.root, {
    exclude: shard.exclude,
    signal,
    onSkip: (skip) => skipped.push(skip),
  });
  options.onListed?.(paths.length);
  const overlay = new Map(
    st.overlayFor(shard).map((f) => [f.path, f.text] as const),
  );
  const enc = new TextEncoder();
  let files = 0;
  let bytes = 0;
  let next = 0;
  // Files read but not yet sent, with their UTF-8 sizes.
  const queue: { file: FileText; size: number }[] = [];
  let head = 0;
  const readBatch = async (): Promise<FileText[]> => {
    while (next < paths.length && queue.length - head < READ_STEP) {
      const step = paths.slice(next, next + READ_STEP);
      next += step.length;
      const release = await st.reads.acquire(signal);
      const sizes = new Map<string, number>();
      let snap;
      try {
        snap = await readJavaFiles(step, {
          signal,
          onFile: (path, b) => {
            sizes.set(path, b);
            options.onFile?.(b);
          },
        });
      } finally {
        release();
      }
      skipped.push(...snap.skipped);
      for (const f of snap.files) {
        const text = overlay.get(f.path);
        if (text !== undefined) {
          overlay.delete(f.path);
          queue.push({
            file: { path: f.path, text },
            size: enc.encode(text).length,
          });
        } else queue.push({ file: f, size: sizes.get(f.path) ?? 0 });
      }
      if (queue.length - head > 0) break;
    }
    const out: FileText[] = [];
    let size = 0;
    while (
      head < queue.length && out.length < SNAPSHOT_BATCH_FILES &&
      (out.length === 0 || size + queue[head].size <= budget)
    ) {
      out.push(queue[head].file);
      size += queue[head].size;
      head++;
    }
    if (head === queue.length) {
      queue.length = 0;
      head = 0;
    }
    files += out.length;
    bytes += size;
    return out;
  };
  const exhausted = (): boolean => next >= paths.length && head >= queue.length;
  let batches = 0;
  const sent: SentFile[] = [];
  let previous: Promise<Response> | undefined;
  try {
    let batch = await readBatch();
    for (;;) {
      const last = exhausted();
      if (last && overlay.size > 0) {
        // Unsaved files that are not on disk (yet).
        for (const [path, text] of overlay) {
          batch.push({ path, text });
          files++;
          bytes += enc.encode(text).length;
        }
        overlay.clear();
      }
      for (const f of batch) sent.push(describeSentFile(f));
      const req = request(options, batch, batches > 0, last);
      const pending = callWorker(st, worker, req, {
        signal,
        onSent: last ? options.onSent : undefined,
      });
      pending.catch(() => {});
      batches++;
      if (previous !== undefined) expectAck(await previous);
      previous = pending;
      if (last) break;
      batch = await readBatch();
    }
    const response = await previous!;
    previous = undefined;
    if (skipped.length > 0) {
      st.log.info("skipped files", {
        shard_id: shard.id,
        count: skipped.length,
      });
      st.emit({ type: "files_skipped", shard: shard.id, files: skipped });
    }
    return { response, files, bytes, skipped, batches, sent };
  } finally {
    previous?.catch(() => {});
  }
}

function expectAck(response: Response): void {
  if (response.type !== "ack") {
    throw new ProtocolError(
      "unexpected_response",
      `unexpected worker response to a snapshot batch: ${response.type}`,
      { remote: true },
    );
  }
}
