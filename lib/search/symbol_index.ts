/**
 * The router-local global symbol index: one {@link ShardSymbols} per shard,
 * searched with exactly the reference's candidate selection and ranking
 * (digest sections 2.12 and 5), but built per shard instead of by re-sorting
 * the whole workspace on every update.
 *
 * Candidate selection (the reference rules, evaluated over all shards):
 * 1. No symbols: `[]`. Empty query: the first `limit` symbols in index order
 *    `(name, path, line, column)`.
 * 2. Queries of 3 or more UTF-8 bytes: symbols containing every query
 *    trigram that exists somewhere in the index (absent trigrams are
 *    ignored), if that set is non-empty.
 * 3. Otherwise (and for shorter queries) the first-byte bucket: symbols whose
 *    name starts with the query's first byte, ASCII case-insensitively.
 * 4. Otherwise the first 50,000 symbols in index order.
 *
 * Candidates are scored with the fuzzy matcher and the best `limit` kept under
 * the total order documented on `compareSymbolMatches`.
 *
 * Speed: a shard with at least `limit` prefix matches answers from its prefix
 * ranges alone (every prefix match is a candidate under every rule above and
 * outranks every fuzzy match), so short queries never run the DP over a whole
 * bucket; long queries score only a trigram intersection.
 *
 * Duplicates: within a shard only the first symbol of each `(name, path)`
 * survives. Across shards (nested or overlapping roots, or a cache built for
 * another layout) the same `(name, path)` is kept once: the lowest
 * `(line, column)`, then the lowest shard id; the others are hidden until the
 * winner's shard changes.
 *
 * @example
 * ```ts
 * import { SymbolIndex } from "./symbol_index.ts";
 * const sym = (name: string, path: string) => ({ name, path, line: 0, column: 0 });
 * const index = new SymbolIndex();
 * index.replaceShard(0, [sym("foobar", "a.java")]);
 * index.replaceShard(1, [sym("barfoo", "b.java")]);
 * const names = index.workspaceSymbols("foo").map((m) => m.symbol.name);
 * console.assert(names.join() === "foobar,barfoo");
 * ```
 *
 * @module
 */

import type { Symbol } from "../wire/types.ts";
import { FuzzyMatcher, trigramsOfBytes } from "./fuzzy.ts";
import type { SymbolMatch } from "./ranking.ts";
import {
  type IdRange,
  ShardSymbols,
  type ShardSymbolsOptions,
} from "./shard_symbols.ts";
import { type Candidate, collectShard, TopK } from "./_top_k.ts";

/** The reference's fixed result limit (`WORKSPACE_SYMBOL_LIMIT`). */
export const WORKSPACE_SYMBOL_LIMIT = 200;

/** How many symbols (in index order) the last-resort scan scores. */
export const FALLBACK_SCAN_LIMIT = 50_000;

/** Options for {@link SymbolIndex.workspaceSymbols}. */
export interface WorkspaceSymbolsOptions {
  /**
   * Maximum number of results (a non-negative integer).
   * @default {200}
   */
  limit?: number;
}

/** Options for {@link SymbolIndex.replaceShard} and {@link SymbolIndex.install}. */
export interface ReplaceShardOptions extends ShardSymbolsOptions {
  /**
   * Mark the shard's results stale (its worker is disconnected).
   * @default {false}
   */
  stale?: boolean;
}

/** How a query picks its candidates (see the module docs). */
export type SearchMode = "all" | "trigram" | "bucket" | "scan" | "none";

/**
 * A query's candidate selection, computed over every shard of an index.
 * Evaluate it per shard with {@link SymbolIndex.searchShard}.
 */
export interface SearchPlan {
  /** The query. */
  readonly query: string;
  /** The rule that chose the candidates. */
  readonly mode: SearchMode;
  /** Query trigrams present somewhere in the index (mode `trigram`). */
  readonly trigrams: readonly number[];
  /** Per shard: candidate ids (trigram mode) or id ranges. */
  readonly candidates: ReadonlyMap<number, Uint32Array | readonly IdRange[]>;
  /** The content version (replace/evict count) the plan was made for. */
  readonly version: number;
}

interface Entry {
  shard: ShardSymbols;
  stale: boolean;
  shadow: Uint8Array | undefined;
  shadowCount: number;
}

/** Index order across shards: (name bytes, path, line, column, shard id). */
function before(
  a: ShardSymbols,
  i: number,
  b: ShardSymbols,
  j: number,
): boolean {
  const c = a.compareNames(i, b, j) || a.comparePaths(i, b, j);
  if (c !== 0) return c < 0;
  const sa = a.symbolAt(i);
  const sb = b.symbolAt(j);
  return (sa.line - sb.line || sa.column - sb.column ||
    a.shardId - b.shardId) < 0;
}

function validateLimit(limit: number): void {
  if (!Number.isInteger(limit) || limit < 0) {
    throw new RangeError(`limit must be a non-negative integer, got ${limit}`);
  }
}

function validateShardId(shardId: number): void {
  if (!Number.isInteger(shardId) || shardId < 0 || shardId > 0xffffffff) {
    throw new RangeError(`shard id must be a u32, got ${shardId}`);
  }
}

/**
 * The global symbol index over all shards.
 *
 * @example Stale results stay searchable but are flagged
 * ```ts
 * import { SymbolIndex } from "./symbol_index.ts";
 * const index = new SymbolIndex();
 * index.replaceShard(2, [{ name: "HashMap", path: "H.java", line: 1, column: 13 }]);
 * index.setStale(2, true);
 * const [hit] = index.workspaceSymbols("hm");
 * console.assert(hit.stale && hit.shardId === 2 && hit.kind === "fuzzy");
 * ```
 */
export class SymbolIndex {
  #entries = new Map<number, Entry>();
  #ordered: Entry[] | undefined;
  #pathShards = new Map<string, number[]>();
  #visible = 0;
  #version = 0;
  #contents = 0;
  #scan: { version: number; counts: Map<Entry, number> } | undefined;

  /** Number of searchable symbols (after deduplication). */
  get size(): number {
    return this.#visible;
  }

  /** Increases on every change (replace, evict, stale flag). */
  get version(): number {
    return this.#version;
  }

  /** The shard ids present, ascending. */
  get shardIds(): number[] {
    return this.#list().map((e) => e.shard.shardId);
  }

  /**
   * The prepared symbols of one shard.
   *
   * @param shardId A shard id.
   * @returns The shard, or `undefined` when absent.
   */
  shard(shardId: number): ShardSymbols | undefined {
    return this.#entries.get(shardId)?.shard;
  }

  /**
   * Replaces a shard's symbols with a new list, atomically.
   *
   * @param shardId The shard id (a u32).
   * @param symbols The shard's full symbol list (any order; not mutated).
   * @param options Stale flag and deduplication switch.
   * @throws {RangeError} When `shardId` is not a u32.
   */
  replaceShard(
    shardId: number,
    symbols: readonly Symbol[],
    options?: ReplaceShardOptions,
  ): void {
    this.install(new ShardSymbols(shardId, symbols, options), options);
  }

  /**
   * Installs a prepared shard, replacing any previous one with its id. The
   * expensive build happens in the `ShardSymbols` constructor, so a caller
   * can build first and swap in one step.
   *
   * @param shard The prepared shard.
   * @param options Stale flag.
   */
  install(shard: ShardSymbols, options?: ReplaceShardOptions): void {
    this.#swap(shard.shardId, shard, options?.stale ?? false);
  }

  /**
   * Removes a shard (e.g. it left the layout).
   *
   * @param shardId The shard id.
   * @returns True when the shard was present.
   */
  evictShard(shardId: number): boolean {
    if (!this.#entries.has(shardId)) return false;
    this.#swap(shardId, undefined, false);
    return true;
  }

  /**
   * Keeps only the given shards and evicts every other one.
   *
   * @param shardIds The shard ids to keep (e.g. `0..layout.shardCount`).
   * @returns The evicted shard ids, ascending.
   */
  retainShards(shardIds: Iterable<number>): number[] {
    const keep = new Set(shardIds);
    const evicted = this.shardIds.filter((id) => !keep.has(id));
    for (const id of evicted) this.evictShard(id);
    return evicted;
  }

  /**
   * Flags a shard's results as stale (worker disconnected) or fresh.
   *
   * @param shardId The shard id.
   * @param stale The flag.
   * @returns True when the shard was present.
   */
  setStale(shardId: number, stale: boolean): boolean {
    const entry = this.#entries.get(shardId);
    if (entry === undefined) return false;
    if (entry.stale !== stale) {
      entry.stale = stale;
      this.#version++;
    }
    return true;
  }

  /**
   * Whether a shard is flagged stale.
   *
   * @param shardId The shard id.
   * @returns The flag (false for an absent shard).
   */
  isStale(shardId: number): boolean {
    return this.#entries.get(shardId)?.stale ?? false;
  }

  /**
   * Searches every shard (reference `workspace_symbols`).
   *
   * @param query The query.
   * @param options The result limit.
   * @returns At most `limit` results, best first.
   * @throws {RangeError} When `limit` is not a non-negative integer.
   */
  workspaceSymbols(
    query: string,
    options?: WorkspaceSymbolsOptions,
  ): SymbolMatch[] {
    const limit = options?.limit ?? WORKSPACE_SYMBOL_LIMIT;
    validateLimit(limit);
    const plan = this.plan(query);
    if (plan.mode === "all") return this.#firstInOrder(limit);
    const top = new TopK(limit);
    const matcher = new FuzzyMatcher(query);
    for (const entry of this.#list()) {
      this.#collect(plan, entry, matcher, top, limit);
    }
    return top.sorted().map((c) => this.#toMatch(c));
  }

  /**
   * Chooses a query's candidates over the whole index (the reference rules).
   *
   * @param query The query.
   * @returns The plan.
   */
  plan(query: string): SearchPlan {
    if (typeof query !== "string") {
      throw new TypeError("query must be a string");
    }
    const version = this.#contents;
    const entries = this.#list();
    const make = (
      mode: SearchMode,
      candidates: Map<number, Uint32Array | readonly IdRange[]>,
      trigrams: readonly number[] = [],
    ): SearchPlan => ({ query, mode, trigrams, candidates, version });
    if (this.#visible === 0) return make("none", new Map());
    if (query === "") return make("all", new Map());
    const matcher = new FuzzyMatcher(query);
    const folded = matcher.foldedQueryBytes;
    if (folded.length >= 3) {
      const present = trigramsOfBytes(matcher.queryBytes).filter((t) =>
        entries.some((e) => e.shard.trigrams.has(t))
      );
      if (present.length > 0) {
        const map = new Map<number, Uint32Array>();
        let any = false;
        for (const e of entries) {
          const ids = e.shard.trigrams.intersect(present);
          map.set(e.shard.shardId, ids);
          if (ids.length > 0) any = true;
        }
        if (any) return make("trigram", map, present);
      }
    }
    const first = folded.subarray(0, 1);
    const buckets = new Map<number, IdRange[]>();
    let any = false;
    for (const e of entries) {
      const ranges = e.shard.prefixRanges(first);
      buckets.set(e.shard.shardId, ranges);
      if (ranges.length > 0) any = true;
    }
    if (any) return make("bucket", buckets);
    const counts = this.#firstCounts(FALLBACK_SCAN_LIMIT);
    const scan = new Map<number, IdRange[]>();
    for (const e of entries) {
      scan.set(e.shard.shardId, [[0, counts.get(e) ?? 0]]);
    }
    return make("scan", scan);
  }

  /**
   * Evaluates a plan on one shard: that shard's best `limit` results under
   * the global candidate selection. Merging every shard's list with
   * `mergeTopK` gives exactly {@link workspaceSymbols}.
   *
   * @param plan A plan from {@link plan} on this index, unchanged since.
   * @param shardId The shard to evaluate.
   * @param options The result limit.
   * @returns The shard's results, best first.
   * @throws {RangeError} When the index changed since the plan was made, or on a bad limit.
   */
  searchShard(
    plan: SearchPlan,
    shardId: number,
    options?: WorkspaceSymbolsOptions,
  ): SymbolMatch[] {
    const limit = options?.limit ?? WORKSPACE_SYMBOL_LIMIT;
    validateLimit(limit);
    if (plan.version !== this.#contents) {
      throw new RangeError("the index changed since the plan was made");
    }
    const entry = this.#entries.get(shardId);
    if (entry === undefined) return [];
    if (plan.mode === "all") {
      return this.#firstInOrder(limit).filter((m) => m.shardId === shardId);
    }
    const top = new TopK(limit);
    this.#collect(plan, entry, new FuzzyMatcher(plan.query), top, limit);
    return top.sorted().map((c) => this.#toMatch(c));
  }

  // -------------------------------------------------------------------------

  #list(): Entry[] {
    this.#ordered ??= [...this.#entries.values()].sort((a, b) =>
      a.shard.shardId - b.shard.shardId
    );
    return this.#ordered;
  }

  #toMatch(c: Candidate): SymbolMatch {
    const entry = this.#entries.get(c.shard.shardId)!;
    return {
      symbol: c.shard.symbolAt(c.id),
      shardId: c.shard.shardId,
      stale: entry.stale,
      kind: c.rank === 2 ? "prefix" : "fuzzy",
      score: c.score,
    };
  }

  #collect(
    plan: SearchPlan,
    entry: Entry,
    matcher: FuzzyMatcher,
    top: TopK,
    limit: number,
  ): void {
    const cands = plan.candidates.get(entry.shard.shardId);
    if (cands === undefined || limit === 0) return;
    const shadow = entry.shadowCount > 0 ? entry.shadow : undefined;
    collectShard(entry.shard, cands, matcher, top, { limit, hidden: shadow });
  }

  /** Walks all shards in global index order, skipping hidden duplicates. */
  #walk(
    max: number,
    visit: (entry: Entry, id: number) => void,
  ): Map<Entry, number> {
    const entries = this.#list();
    const pos = new Map<Entry, number>(entries.map((e) => [e, 0]));
    const skip = (e: Entry) => {
      let p = pos.get(e)!;
      while (p < e.shard.size && e.shadow !== undefined && e.shadow[p] !== 0) {
        p++;
      }
      pos.set(e, p);
      return p;
    };
    for (let taken = 0; taken < max; taken++) {
      let best: Entry | undefined;
      let bestId = 0;
      for (const e of entries) {
        const p = skip(e);
        if (p >= e.shard.size) continue;
        if (best === undefined || before(e.shard, p, best.shard, bestId)) {
          best = e;
          bestId = p;
        }
      }
      if (best === undefined) break;
      visit(best, bestId);
      pos.set(best, bestId + 1);
    }
    for (const e of entries) skip(e);
    return pos;
  }

  #firstCounts(max: number): Map<Entry, number> {
    // Positions after the walk (hidden ids inside the ranges are never
    // scored). Query-independent, so cached per content version.
    if (this.#scan?.version !== this.#contents) {
      this.#scan = {
        version: this.#contents,
        counts: this.#walk(max, () => {}),
      };
    }
    return this.#scan.counts;
  }

  #firstInOrder(limit: number): SymbolMatch[] {
    const out: SymbolMatch[] = [];
    this.#walk(limit, (e, id) => {
      out.push({
        symbol: e.shard.symbolAt(id),
        shardId: e.shard.shardId,
        stale: e.stale,
        kind: "prefix",
        score: 0,
      });
    });
    return out;
  }

  #swap(
    shardId: number,
    shard: ShardSymbols | undefined,
    stale: boolean,
  ): void {
    validateShardId(shardId);
    const old = this.#entries.get(shardId);
    const affected = new Set<string>();
    if (old !== undefined) {
      this.#visible -= old.shard.size - old.shadowCount;
      for (const p of old.shard.paths) {
        const list = this.#pathShards.get(p)!;
        if (list.length > 1) affected.add(p);
        const i = list.indexOf(shardId);
        if (i >= 0) list.splice(i, 1);
        if (list.length === 0) this.#pathShards.delete(p);
      }
      this.#entries.delete(shardId);
    }
    if (shard !== undefined) {
      const entry: Entry = { shard, stale, shadow: undefined, shadowCount: 0 };
      this.#entries.set(shardId, entry);
      this.#visible += shard.size;
      for (const p of shard.paths) {
        let list = this.#pathShards.get(p);
        if (list === undefined) {
          list = [];
          this.#pathShards.set(p, list);
        }
        let i = list.length;
        while (i > 0 && list[i - 1] > shardId) i--;
        list.splice(i, 0, shardId);
        if (list.length > 1) affected.add(p);
      }
    }
    this.#ordered = undefined;
    for (const p of affected) this.#reshadow(p);
    this.#version++;
    this.#contents++;
  }

  /** Recomputes which duplicates of `(name, path)` are hidden for one path. */
  #reshadow(path: string): void {
    const list = this.#pathShards.get(path) ?? [];
    const entries = list.map((id) => this.#entries.get(id)!);
    for (const e of entries) {
      for (const id of e.shard.idsWithPath(path)) this.#setShadow(e, id, false);
    }
    if (entries.length < 2) return;
    const best = new Map<string, [Entry, number]>();
    for (const e of entries) {
      for (const id of e.shard.idsWithPath(path)) {
        const s = e.shard.symbolAt(id);
        const b = best.get(s.name);
        if (b === undefined) {
          best.set(s.name, [e, id]);
          continue;
        }
        const w = b[0].shard.symbolAt(b[1]);
        if (s.line < w.line || (s.line === w.line && s.column < w.column)) {
          this.#setShadow(b[0], b[1], true);
          best.set(s.name, [e, id]);
        } else {
          this.#setShadow(e, id, true);
        }
      }
    }
  }

  #setShadow(e: Entry, id: number, hidden: boolean): void {
    if (e.shadow === undefined) {
      if (!hidden) return;
      e.shadow = new Uint8Array(e.shard.size);
    }
    const was = e.shadow[id] !== 0;
    if (was === hidden) return;
    e.shadow[id] = hidden ? 1 : 0;
    e.shadowCount += hidden ? 1 : -1;
    this.#visible += hidden ? -1 : 1;
  }
}
