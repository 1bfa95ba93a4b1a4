/**
 * The worker's request state machine, pure and I/O free.
 *
 * {@link WorkerState} keeps the shard's `path -> text` map, the symbols of
 * every file, and the shard-wide sorted index. Requests run as generators of
 * {@link WorkerStep}s: the driver resumes them, lets other work run at each
 * `yield` step (so `GetWorkerStats` and `Cancel` are served during a long
 * rebuild), and performs each `persist` step (writing the cache) before
 * resuming with `next()` or, on failure, `throw(error)`.
 *
 * Behaviour follows the reference worker: `LoadFiles` replaces the map and
 * acks without rebuilding; `IndexShard` replaces it and rebuilds; `UpdateFile`
 * upserts one file and rebuilds; the generation advances only when a rebuild
 * (including persisting it) succeeds; cancellation is checked on entry,
 * between files and around persisting.
 *
 * Deliberate differences:
 * - Rebuilds are incremental: a file's symbols are re-extracted only when its
 *   text changed, and `UpdateFile` patches the sorted index instead of
 *   re-sorting it. The result equals a full rebuild.
 * - `GetWorkerStats` never waits behind another request: it answers from the
 *   state as of the last completed request.
 *
 * @module
 */

import type {
  CachedIndexInfo,
  FileText,
  RemoteDiagnostic,
  Request,
  RpcError,
  RpcResult,
  ShardIndex,
  Symbol,
  U64,
  WorkerStats,
} from "../wire/types.ts";
import { formatErrorChain } from "../wire/errors.ts";
import { MAX_DIAGNOSTICS_PER_MESSAGE } from "../wire/limits.ts";
import {
  CANCELLED_ERROR,
  UNKNOWN_REQUEST_ERROR,
} from "../wire/session_options.ts";
import { concatByName, replaceFileSymbols, sortUtf8 } from "./symbol_order.ts";
import { sanitizeErrorText } from "./sanitize.ts";
import { omitSymbols, WorkerSearch } from "./search.ts";

/** The language-specific part of the worker, injected into the state. */
export interface SymbolIndexer {
  /** Extracts one file's symbols (any order; duplicates allowed). */
  extractSymbols(path: string, text: string): Symbol[];
  /**
   * Sorts and de-duplicates one file's symbols into the shard order
   * (name, path, line, column; UTF-8 byte order; first per (name, path)).
   */
  sortSymbols(symbols: Symbol[]): Symbol[];
  /** Parse diagnostics for one file. */
  diagnostics(path: string, text: string): RemoteDiagnostic[];
}

/** Options for {@link WorkerState}. */
export interface WorkerStateOptions {
  /** This worker's shard id. */
  shardId: number;
  /** Symbol extraction, sorting and diagnostics. */
  indexer: SymbolIndexer;
  /** The index loaded from the cache, if any: seeds `index_generation`. */
  cached?: ShardIndex | null;
}

/** A point where a running request hands control back to its driver. */
export type WorkerStep =
  /** A cooperative pause: the driver may serve other work, then `next()`. */
  | { type: "yield" }
  /**
   * Persist `index` (write the cache), then resume with `next()`, or with
   * `throw(error)` when writing failed.
   */
  | { type: "persist"; index: ShardIndex };

/** Options for {@link WorkerState.handle}. */
export interface HandleOptions {
  /** True once the request was cancelled; checked between steps. */
  isCancelled?: () => boolean;
}

/** A running request: yields steps, returns the result to send. */
export type WorkerJob = Generator<WorkerStep, RpcResult, void>;

interface FileEntry {
  readonly text: string;
  /** Sorted, de-duplicated symbols of `text`, once extracted. */
  symbols: Symbol[] | undefined;
}

// The `cancelled` and unknown-request errors, exactly as the reference
// sends them, are the session layer's.
export { CANCELLED_ERROR, UNKNOWN_REQUEST_ERROR };

/**
 * Builds an `internal` RPC error; message and details are sanitised so
 * quoted or backticked values never leak.
 *
 * @param context What was being done, e.g. `write shard cache`.
 * @param err The underlying error.
 * @returns The RPC error.
 *
 * @example
 * ```ts
 * import { internalError } from "./state.ts";
 * const e = internalError("write shard cache", new Error('bad "secret"'));
 * console.assert(e.code === "internal" && !e.details!.includes("secret"));
 * ```
 */
export function internalError(context: string, err: unknown): RpcError {
  return {
    code: "internal",
    message: sanitizeErrorText(context),
    retryable: false,
    details: sanitizeErrorText(`${context}: ${formatErrorChain(err)}`),
  };
}

/**
 * Summarises a cached index for the `Hello` (`symbol_count` saturates at
 * u32 max).
 *
 * @param index The cached index.
 * @returns The hello's `cached_index_info`.
 *
 * @example
 * ```ts
 * import { cachedIndexInfo } from "./state.ts";
 * const info = cachedIndexInfo({ shard_id: 0, revision: 4, index_generation: 2, symbols: [] });
 * console.assert(info.revision === 4 && info.symbol_count === 0);
 * ```
 */
export function cachedIndexInfo(index: ShardIndex): CachedIndexInfo {
  return {
    revision: index.revision,
    index_generation: index.index_generation,
    symbol_count: Math.min(index.symbols.length, 0xffff_ffff),
  };
}

function nextGeneration(generation: U64): U64 {
  // Saturating u64 increment, kept in U64 normal form.
  if (typeof generation === "number") {
    return generation < Number.MAX_SAFE_INTEGER
      ? generation + 1
      : BigInt(generation) + 1n;
  }
  return generation >= 0xffff_ffff_ffff_ffffn ? generation : generation + 1n;
}

function ok(value: Extract<RpcResult, { status: "ok" }>["value"]): RpcResult {
  return { status: "ok", value };
}

function err(error: RpcError): RpcResult {
  return { status: "err", error: { ...error } };
}

/**
 * The worker's state: file map, per-file symbols, sorted shard index,
 * revision and generation.
 *
 * @example Index a shard, then update one file
 * ```ts
 * import { WorkerState } from "./state.ts";
 * const indexer = {
 *   extractSymbols: (path: string, text: string) =>
 *     [...text.matchAll(/class (\w+)/g)].map((m) => ({ name: m[1], path, line: 0, column: m.index! + 6 })),
 *   sortSymbols: (s: { name: string; path: string; line: number; column: number }[]) =>
 *     [...s].sort((a, b) => a.name < b.name ? -1 : a.name > b.name ? 1 : a.path < b.path ? -1 : a.path > b.path ? 1 : 0),
 *   diagnostics: () => [],
 * };
 * const state = new WorkerState({ shardId: 0, indexer });
 * const persisted: number[] = [];
 * const run = (request: Parameters<WorkerState["handle"]>[0]) =>
 *   state.run(request, { persist: (index) => void persisted.push(index.symbols.length) });
 * const first = run({ type: "index_shard", revision: 1, files: [{ path: "/A.java", text: "class A {}" }] });
 * console.assert(first.status === "ok" && first.value.type === "shard_index");
 * run({ type: "update_file", revision: 2, file: { path: "/B.java", text: "class B {}" } });
 * console.assert(state.stats.index_generation === 2 && state.stats.file_count === 2);
 * console.assert(persisted.join() === "1,2");
 * ```
 */
export class WorkerState {
  readonly #shardId: number;
  readonly #indexer: SymbolIndexer;
  #revision: U64 = 0;
  #generation: U64;
  #files = new Map<string, FileEntry>();
  /**
   * The sorted shard index, when it matches `#files` except for the paths in
   * `#stale` (whose old symbols are the map values). Undefined after a
   * snapshot replaced the file set: the next rebuild is a full one.
   */
  #index: Symbol[] | undefined;
  #stale = new Map<string, Symbol[]>();
  #stats: WorkerStats;
  #busy = false;
  #shutdown = false;
  /** Distributed search mode (protocol 3.1): see `search.ts`. */
  readonly #search: WorkerSearch;

  /**
   * Creates the state.
   *
   * @param options Shard id, indexer and cached index.
   * @throws {RangeError} When `shardId` is not a u32.
   */
  constructor(options: WorkerStateOptions) {
    if (
      !Number.isInteger(options.shardId) || options.shardId < 0 ||
      options.shardId > 0xffff_ffff
    ) {
      throw new RangeError(`shardId must be a u32, got ${options.shardId}`);
    }
    this.#shardId = options.shardId;
    this.#indexer = options.indexer;
    this.#generation = options.cached?.index_generation ?? 0;
    this.#search = new WorkerSearch(options.shardId, options.cached);
    this.#stats = this.#snapshotStats();
  }

  /** Stats as of the last completed request (what `GetWorkerStats` answers). */
  get stats(): WorkerStats {
    return { ...this.#stats };
  }

  /** True once a `Shutdown` request completed. */
  get shutdownRequested(): boolean {
    return this.#shutdown;
  }

  /** True while a request that mutates the state is running. */
  get busy(): boolean {
    return this.#busy;
  }

  /** The current revision (set as soon as a request carrying one starts). */
  get revision(): U64 {
    return this.#revision;
  }

  /** The generation of the last successful rebuild (or of the cache). */
  get indexGeneration(): U64 {
    return this.#generation;
  }

  /** The number of files in the current map. */
  get fileCount(): number {
    return this.#files.size;
  }

  /**
   * True when `request` is answered at once without queueing
   * (`GetWorkerStats` and unknown requests); everything else must run one
   * at a time, in arrival order.
   *
   * @param request The request.
   * @returns Whether it can bypass the queue.
   */
  isImmediate(request: Request): boolean {
    return request.type === "get_worker_stats" ||
      !KNOWN_REQUESTS.has(request.type);
  }

  /**
   * Starts handling a request. Queued requests must not overlap: start the
   * next only after the previous generator returned.
   *
   * @param request The request.
   * @param options The cancellation probe.
   * @returns The job; drive it to completion to get the result.
   * @throws {TypeError} When a queued request starts while another runs.
   */
  handle(request: Request, options?: HandleOptions): WorkerJob {
    if (this.isImmediate(request)) return this.#immediate(request);
    if (this.#busy) {
      throw new TypeError("WorkerState: a request is already running");
    }
    this.#busy = true;
    return this.#queued(request, options?.isCancelled ?? (() => false));
  }

  /**
   * Runs a request synchronously to completion (tests, benchmarks, tools).
   *
   * @param request The request.
   * @param options The cancellation probe and a synchronous persist callback.
   * @returns The result to send.
   */
  run(
    request: Request,
    options?: HandleOptions & { persist?: (index: ShardIndex) => void },
  ): RpcResult {
    const job = this.handle(request, options);
    let step = job.next();
    while (!step.done) {
      if (step.value.type === "persist") {
        try {
          options?.persist?.(step.value.index);
        } catch (error) {
          step = job.throw(error);
          continue;
        }
      }
      step = job.next();
    }
    return step.value;
  }

  // deno-lint-ignore require-yield
  *#immediate(request: Request): WorkerJob {
    if (request.type === "get_worker_stats") {
      return ok({ type: "worker_stats", body: this.stats });
    }
    return err(UNKNOWN_REQUEST_ERROR);
  }

  *#queued(request: Request, isCancelled: () => boolean): WorkerJob {
    try {
      if (isCancelled()) return err(CANCELLED_ERROR);
      switch (request.type) {
        case "load_files":
          this.#revision = request.revision;
          if (request.append === true) {
            // 3.1 batched snapshot: parse while the router reads the next
            // batch, so the closing rebuild only merges.
            if (!(yield* this.#appendFiles(request.files, isCancelled))) {
              return err(CANCELLED_ERROR);
            }
          } else this.#applySnapshot(request.files);
          return ok({ type: "ack" });
        case "index_shard":
          this.#revision = request.revision;
          if (request.append === true) {
            if (!(yield* this.#appendFiles(request.files, isCancelled))) {
              return err(CANCELLED_ERROR);
            }
          } else this.#applySnapshot(request.files);
          return omitSymbols(
            request,
            yield* this.#rebuildAndReply(isCancelled),
          );
        case "update_file":
          this.#revision = request.revision;
          this.#applyUpdate(request.file);
          return omitSymbols(
            request,
            yield* this.#rebuildAndReply(isCancelled),
          );
        case "diagnostics":
          return ok({
            type: "diagnostics",
            body: { diagnostics: this.#diagnostics(request.path) },
          });
        case "search_shard_symbols": // 3.1
          return this.#search.answer(request);
        case "shutdown":
          this.#shutdown = true;
          return ok({ type: "shutdown" });
        default:
          return err(UNKNOWN_REQUEST_ERROR);
      }
    } finally {
      this.#stats = this.#snapshotStats();
      this.#busy = false;
    }
  }

  #snapshotStats(): WorkerStats {
    return {
      shard_id: this.#shardId,
      revision: this.#revision,
      index_generation: this.#generation,
      file_count: this.#files.size,
    };
  }

  #applySnapshot(files: readonly FileText[]): void {
    const next = new Map<string, FileEntry>();
    for (const file of files) {
      const old = this.#files.get(file.path);
      // Unchanged texts keep their extracted symbols.
      next.set(
        file.path,
        old !== undefined && old.text === file.text
          ? old
          : { text: file.text, symbols: undefined },
      );
    }
    this.#files = next;
    this.#index = undefined;
    this.#stale.clear();
  }

  /**
   * 3.1 batched snapshot: adds (or replaces) files without dropping the
   * others, extracting their symbols at once. Returns false when cancelled
   * (the files added so far stay).
   */
  *#appendFiles(
    files: readonly FileText[],
    isCancelled: () => boolean,
  ): Generator<WorkerStep, boolean, void> {
    this.#index = undefined;
    this.#stale.clear();
    for (const file of files) {
      if (isCancelled()) return false;
      const old = this.#files.get(file.path);
      if (old !== undefined && old.text === file.text) continue;
      const entry: FileEntry = { text: file.text, symbols: undefined };
      this.#files.set(file.path, entry);
      this.#symbolsOf(file.path, entry);
      yield { type: "yield" };
    }
    return true;
  }

  #applyUpdate(file: FileText): void {
    const old = this.#files.get(file.path);
    if (old !== undefined && old.text === file.text) return;
    if (this.#index !== undefined && !this.#stale.has(file.path)) {
      // Remember what the index holds for this path, to patch it later.
      this.#stale.set(file.path, old?.symbols ?? []);
    }
    this.#files.set(file.path, { text: file.text, symbols: undefined });
  }

  #diagnostics(path: string): RemoteDiagnostic[] {
    const entry = this.#files.get(path);
    if (entry === undefined || entry.text === "") return [];
    const all = this.#indexer.diagnostics(path, entry.text);
    return all.length > MAX_DIAGNOSTICS_PER_MESSAGE
      ? all.slice(0, MAX_DIAGNOSTICS_PER_MESSAGE)
      : all;
  }

  #symbolsOf(path: string, entry: FileEntry): Symbol[] {
    if (entry.symbols === undefined) {
      entry.symbols = this.#indexer.sortSymbols(
        this.#indexer.extractSymbols(path, entry.text),
      );
    }
    return entry.symbols;
  }

  *#rebuildAndReply(isCancelled: () => boolean): WorkerJob {
    if (isCancelled()) return err(CANCELLED_ERROR);
    const next = nextGeneration(this.#generation);
    let symbols: Symbol[];
    try {
      const built = yield* this.#rebuild(isCancelled);
      if (built === undefined) return err(CANCELLED_ERROR);
      symbols = built;
    } catch (error) {
      return err(internalError("index shard", error));
    }
    if (isCancelled()) return err(CANCELLED_ERROR);
    const index: ShardIndex = {
      shard_id: this.#shardId,
      revision: this.#revision,
      index_generation: next,
      symbols,
    };
    if (isCancelled()) return err(CANCELLED_ERROR);
    try {
      yield { type: "persist", index };
    } catch (error) {
      return err(internalError("write shard cache", error));
    }
    this.#generation = next;
    this.#search.setIndex(index);
    // As the reference: a cancel that lands after the build still wins,
    // although the cache was written and the generation advanced.
    if (isCancelled()) return err(CANCELLED_ERROR);
    return ok({ type: "shard_index", body: index });
  }

  /**
   * Brings `#index` up to date; returns it, or undefined when cancelled.
   * Work done before a cancel (extracted symbols) is kept for next time.
   */
  *#rebuild(
    isCancelled: () => boolean,
  ): Generator<WorkerStep, Symbol[] | undefined, void> {
    if (this.#index !== undefined) {
      // Incremental: re-extract only the stale paths, then patch the index.
      const stale = sortUtf8([...this.#stale.keys()]);
      for (const path of stale) {
        if (isCancelled()) return undefined;
        this.#symbolsOf(path, this.#files.get(path)!);
        yield { type: "yield" };
      }
      if (isCancelled()) return undefined;
      let index = this.#index;
      for (const path of stale) {
        const added = this.#files.get(path)!.symbols!;
        index = replaceFileSymbols(index, this.#stale.get(path)!, added);
      }
      this.#index = index;
      this.#stale.clear();
      return index;
    }
    // Full: visit files in path order; each file's list is sorted and has
    // one symbol per name, so ordering by name (stable) gives the index.
    const lists: Symbol[][] = [];
    for (const path of sortUtf8([...this.#files.keys()])) {
      if (isCancelled()) return undefined;
      const entry = this.#files.get(path)!;
      const fresh = entry.symbols === undefined;
      lists.push(this.#symbolsOf(path, entry));
      if (fresh) yield { type: "yield" };
    }
    if (isCancelled()) return undefined;
    const index = concatByName(lists);
    this.#index = index;
    this.#stale.clear();
    return index;
  }
}

const KNOWN_REQUESTS: ReadonlySet<string> = new Set([
  "load_files",
  "index_shard",
  "update_file",
  "diagnostics",
  "get_worker_stats",
  "shutdown",
  "search_shard_symbols",
]);
