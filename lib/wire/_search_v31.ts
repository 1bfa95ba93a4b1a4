/**
 * Encoders and decoders for the protocol 3.1 additions (distributed search
 * mode, protocol 3.1): the `search_shard_symbols` request, the `symbol_matches`
 * and `shard_summary` responses, and the optional `omit_symbols` request
 * flag. Hooked into `_encode.ts` / `_decode.ts` with a few lines each.
 * Private to `lib/wire`.
 *
 * Encoding rules (our own design; the reference has no 3.1):
 * - maps in the field order of the `types.ts` interfaces, the tag first;
 * - optional request fields (`mode`, `scan_count`, `omit_symbols`) are
 *   omitted when absent; `null` decodes as absent;
 * - `score` is an i32 (CBOR major 0 or 1); `kind` is `"prefix"` or
 *   `"fuzzy"` and anything else is a schema error (the merge needs it);
 * - `mode` is a string enum: unknown names decode to `"unknown"`.
 *
 * @module
 */

import {
  type CborWriter,
  concatBytes,
  encodeFailed,
  keyTable,
  SMALL_TEXT_CAP,
  textBytes,
} from "./_cbor_write.ts";
import { type CborReader, schemaMismatch } from "./_cbor_read.ts";
import { entryKey, keys, missing, shardCounts } from "./_decode.ts";
import { requireObject, writeShardIds, writeSymbol } from "./_encode.ts";
import { ProtocolError } from "./errors.ts";
import type {
  RankedSymbol,
  Request,
  SearchShardSymbolsRequest,
  ShardSummary,
  SymbolMatches,
  SymbolSearchMode,
  U64,
} from "./types.ts";

const t = textBytes;

const MODES: readonly SymbolSearchMode[] = [
  "all",
  "trigram",
  "bucket",
  "scan",
  "none",
];

function writeI32(w: CborWriter, value: number, field: string): void {
  if (
    !Number.isInteger(value) || value < -0x8000_0000 || value > 0x7fff_ffff
  ) {
    encodeFailed(`${field} must be an i32`);
  }
  if (value >= 0) w.head(0, value);
  else w.head(1, -1 - value);
}

function readI32(r: CborReader, field: string): number {
  const ib = r.peek();
  const major = ib >> 5;
  if ((major !== 0 && major !== 1) || (ib & 31) > 27) {
    return schemaMismatch(`${field}: expected an integer`);
  }
  r.pos++;
  const arg = r.arg(ib & 31);
  const value = major === 0 ? arg : -1 - arg;
  if (value < -0x8000_0000 || value > 0x7fff_ffff) {
    throw new ProtocolError(
      "schema_mismatch",
      `invalid value: integer \`${value}\`, expected i32`,
      { remote: true },
    );
  }
  return value;
}

function writeMode(w: CborWriter, mode: unknown): void {
  if (mode !== "unknown" && !MODES.includes(mode as SymbolSearchMode)) {
    encodeFailed("mode: unknown value");
  }
  w.text(mode as string, "mode");
}

function readMode(r: CborReader): SymbolSearchMode {
  const name = r.text("mode");
  return MODES.includes(name as SymbolSearchMode)
    ? name as SymbolSearchMode
    : "unknown";
}

// omit_symbols ----------------------------------------------------------------

type SnapshotRequest = Extract<
  Request,
  { type: "load_files" | "index_shard" | "update_file" }
>;

const K_OMIT = t("omit_symbols");
const K_APPEND = t("append");
const OMIT_PREFIX = new Map(
  ["load_files", "index_shard", "update_file"].map((name) => [
    name,
    concatBytes(t("type"), t(name), t("revision")),
  ]),
);

/**
 * The map prefix (`{"type": ..., "revision"`) of a snapshot request that
 * carries `omit_symbols` or `append` (3.1), or `undefined` when both are
 * absent (then the 3.0 prefix is used and the bytes are unchanged).
 *
 * @example
 * ```ts
 * import { omitSymbolsPrefix } from "./_search_v31.ts";
 * const req = { type: "index_shard" as const, revision: 1, files: [] };
 * console.assert(omitSymbolsPrefix(req) === undefined);
 * console.assert(omitSymbolsPrefix({ ...req, omit_symbols: true })![0] === 0xa4);
 * console.assert(omitSymbolsPrefix({ ...req, omit_symbols: true, append: true })![0] === 0xa5);
 * ```
 */
export function omitSymbolsPrefix(
  req: SnapshotRequest,
): Uint8Array | undefined {
  const append = req.type !== "update_file" && req.append !== undefined;
  if (req.omit_symbols === undefined && !append) return undefined;
  const n = 3 + (req.omit_symbols !== undefined ? 1 : 0) + (append ? 1 : 0);
  return concatBytes([0xa0 + n], OMIT_PREFIX.get(req.type)!);
}

/**
 * Writes the trailing `omit_symbols` and `append` entries when present.
 *
 * @example
 * ```ts
 * import { writeOmitSymbols } from "./_search_v31.ts";
 * import { CborWriter } from "./_cbor_write.ts";
 * const w = new CborWriter();
 * writeOmitSymbols(w, { type: "update_file", revision: 1, file: { path: "A.java", text: "" } });
 * console.assert(w.finish().length === 0);
 * ```
 */
export function writeOmitSymbols(w: CborWriter, req: SnapshotRequest): void {
  if (req.omit_symbols !== undefined) {
    w.raw(K_OMIT);
    w.bool(req.omit_symbols, "omit_symbols");
  }
  if (req.type !== "update_file" && req.append !== undefined) {
    w.raw(K_APPEND);
    w.bool(req.append, "append");
  }
}

/**
 * Reads an `omit_symbols` value: `null` gives `undefined` (absent).
 *
 * @example
 * ```ts
 * import { readOmitSymbols } from "./_search_v31.ts";
 * import { CborReader } from "./_cbor_read.ts";
 * console.assert(readOmitSymbols(new CborReader(new Uint8Array([0xf5]))) === true);
 * ```
 */
export function readOmitSymbols(
  r: CborReader,
  field = "omit_symbols",
): boolean | undefined {
  if (r.nullNext()) return undefined;
  return r.bool(field);
}

// search_symbols --------------------------------------------------------------

const K_SEARCH = concatBytes(t("type"), t("search_shard_symbols"), t("query"));
const K_LIMIT = t("limit");
const K_MODE = t("mode");
const K_SCAN = t("scan_count");

/**
 * Writes a `search_shard_symbols` request (the internally tagged map).
 *
 * @example
 * ```ts
 * import { writeSearchShardSymbols } from "./_search_v31.ts";
 * import { CborWriter } from "./_cbor_write.ts";
 * const w = new CborWriter();
 * writeSearchShardSymbols(w, { type: "search_shard_symbols", query: "foo", limit: 5 });
 * console.assert(w.finish()[0] === 0xa3);
 * ```
 */
export function writeSearchShardSymbols(
  w: CborWriter,
  req: SearchShardSymbolsRequest,
): void {
  const n = 3 + (req.mode !== undefined ? 1 : 0) +
    (req.scan_count !== undefined ? 1 : 0);
  w.head(5, n);
  w.raw(K_SEARCH);
  w.text(req.query, "query", SMALL_TEXT_CAP);
  w.raw(K_LIMIT);
  w.u32(req.limit, "limit");
  if (req.mode !== undefined) {
    w.raw(K_MODE);
    writeMode(w, req.mode);
  }
  if (req.scan_count !== undefined) {
    w.raw(K_SCAN);
    w.u32(req.scan_count, "scan_count");
  }
}

const SEARCH_KEYS = ["type", "query", "limit", "mode", "scan_count"];
const SEARCH_KEY_BYTES = keys(...SEARCH_KEYS);

/**
 * Reads the fields of a `search_shard_symbols` request whose map head (`n` pairs)
 * was read; `r.pos` is at the first entry.
 *
 * @example
 * ```ts
 * import { readSearchShardSymbols, writeSearchShardSymbols } from "./_search_v31.ts";
 * import { CborReader } from "./_cbor_read.ts";
 * import { CborWriter } from "./_cbor_write.ts";
 * const w = new CborWriter();
 * writeSearchShardSymbols(w, { type: "search_shard_symbols", query: "x", limit: 2, mode: "scan", scan_count: 9 });
 * const r = new CborReader(w.finish());
 * const req = readSearchShardSymbols(r, r.map("Request"));
 * console.assert(req.mode === "scan" && req.scan_count === 9);
 * ```
 */
export function readSearchShardSymbols(
  r: CborReader,
  n: number,
): SearchShardSymbolsRequest {
  let query: string | undefined;
  let limit = 0;
  let mode: SymbolSearchMode | undefined;
  let scanCount: number | undefined;
  let seen = 0;
  for (let i = 0; i < n; i++) {
    const k = entryKey(r, SEARCH_KEY_BYTES, SEARCH_KEYS, i, seen);
    if (k < 0) continue;
    seen |= 1 << k;
    switch (k) {
      case 0:
        r.skip(); // the tag, already read
        break;
      case 1:
        query = r.text("query");
        break;
      case 2:
        limit = r.u32("limit");
        break;
      case 3:
        if (!r.nullNext()) mode = readMode(r);
        break;
      default:
        if (!r.nullNext()) scanCount = r.u32("scan_count");
    }
  }
  if (query === undefined) return missing("query");
  if (!(seen & 4)) missing("limit");
  const out: SearchShardSymbolsRequest = {
    type: "search_shard_symbols",
    query,
    limit,
  };
  if (mode !== undefined) out.mode = mode;
  if (scanCount !== undefined) out.scan_count = scanCount;
  return out;
}

// symbol_matches and shard_summary -----------------------------------------

const MATCHES_KEYS = [
  "shard_id",
  "revision",
  "index_generation",
  "symbol_count",
  "mode",
  "hit",
  "bucket",
  "trigrams",
  "matches",
];
const MATCHES_KEY_BYTES = keys(...MATCHES_KEYS);
const K_MATCHES = keyTable(MATCHES_KEYS);
const RANKED_KEYS = ["name", "path", "line", "column", "kind", "score"];
const RANKED_KEY_BYTES = keys(...RANKED_KEYS);
const K_RANKED = keyTable(RANKED_KEYS);

function writeRanked(w: CborWriter, m: RankedSymbol): void {
  writeSymbol(w, m, K_RANKED, "match");
  w.raw(K_RANKED[4]);
  if (m.kind !== "prefix" && m.kind !== "fuzzy") {
    encodeFailed("kind: unknown value");
  }
  w.text(m.kind, "kind");
  w.raw(K_RANKED[5]);
  writeI32(w, m.score, "score");
}

function readRanked(r: CborReader): RankedSymbol {
  const n = r.map("RankedSymbol");
  const out: RankedSymbol = {
    name: "",
    path: "",
    line: 0,
    column: 0,
    kind: "fuzzy",
    score: 0,
  };
  let seen = 0;
  for (let i = 0; i < n; i++) {
    const k = entryKey(r, RANKED_KEY_BYTES, RANKED_KEYS, i, seen);
    if (k < 0) continue;
    seen |= 1 << k;
    switch (k) {
      case 0:
        out.name = r.text("name");
        break;
      case 1:
        out.path = r.text("path");
        break;
      case 2:
        out.line = r.u32("line");
        break;
      case 3:
        out.column = r.u32("column");
        break;
      case 4: {
        const kind = r.text("kind");
        if (kind !== "prefix" && kind !== "fuzzy") {
          return schemaMismatch("kind: expected `prefix` or `fuzzy`");
        }
        out.kind = kind;
        break;
      }
      default:
        out.score = readI32(r, "score");
    }
  }
  for (let k = 0; k < 6; k++) if (!(seen & (1 << k))) missing(RANKED_KEYS[k]);
  return out;
}

/**
 * Writes a `symbol_matches` body.
 *
 * @example
 * ```ts
 * import { readSymbolMatches, writeSymbolMatches } from "./_search_v31.ts";
 * import { CborReader } from "./_cbor_read.ts";
 * import { CborWriter } from "./_cbor_write.ts";
 * const body = { shard_id: 1, revision: 2, index_generation: 3, symbol_count: 1,
 *   mode: "bucket" as const, hit: false, bucket: true, trigrams: [],
 *   matches: [{ name: "Foo", path: "F.java", line: 0, column: 6, kind: "prefix" as const, score: 999997 }] };
 * const w = new CborWriter();
 * writeSymbolMatches(w, body);
 * console.assert(readSymbolMatches(new CborReader(w.finish())).matches[0].score === 999997);
 * ```
 */
export function writeSymbolMatches(w: CborWriter, b: SymbolMatches): void {
  requireObject(b, "symbol_matches body");
  writeShardIds(w, b, K_MATCHES);
  w.raw(K_MATCHES[3]);
  w.u32(b.symbol_count, "symbol_count");
  w.raw(K_MATCHES[4]);
  writeMode(w, b.mode);
  w.raw(K_MATCHES[5]);
  w.bool(b.hit, "hit");
  w.raw(K_MATCHES[6]);
  w.bool(b.bucket, "bucket");
  w.raw(K_MATCHES[7]);
  if (!Array.isArray(b.trigrams)) encodeFailed("trigrams must be an array");
  w.head(4, b.trigrams.length);
  for (const g of b.trigrams) w.u32(g, "trigrams");
  w.raw(K_MATCHES[8]);
  if (!Array.isArray(b.matches)) encodeFailed("matches must be an array");
  w.head(4, b.matches.length);
  for (const m of b.matches) writeRanked(w, m);
}

/**
 * Reads a `symbol_matches` body.
 *
 * @example
 * ```ts
 * import { readSymbolMatches } from "./_search_v31.ts";
 * import { CborReader } from "./_cbor_read.ts";
 * let threw = false;
 * try { readSymbolMatches(new CborReader(new Uint8Array([0xa0]))); } catch { threw = true; }
 * console.assert(threw);
 * ```
 */
export function readSymbolMatches(r: CborReader): SymbolMatches {
  const n = r.map("SymbolMatches");
  let shard = 0;
  let revision: U64 = 0;
  let generation: U64 = 0;
  let count = 0;
  let mode: SymbolSearchMode = "unknown";
  let hit = false;
  let bucket = false;
  let trigrams: number[] = [];
  let matches: RankedSymbol[] = [];
  let seen = 0;
  for (let i = 0; i < n; i++) {
    const k = entryKey(r, MATCHES_KEY_BYTES, MATCHES_KEYS, i, seen);
    if (k < 0) continue;
    seen |= 1 << k;
    switch (k) {
      case 0:
        shard = r.u32("shard_id");
        break;
      case 1:
        revision = r.u64("revision");
        break;
      case 2:
        generation = r.u64("index_generation");
        break;
      case 3:
        count = r.u32("symbol_count");
        break;
      case 4:
        mode = readMode(r);
        break;
      case 5:
        hit = r.bool("hit");
        break;
      case 6:
        bucket = r.bool("bucket");
        break;
      case 7: {
        const len = r.array("trigrams");
        trigrams = new Array(len);
        for (let j = 0; j < len; j++) trigrams[j] = r.u32("trigrams");
        break;
      }
      default: {
        const len = r.array("matches");
        matches = new Array(len);
        for (let j = 0; j < len; j++) matches[j] = readRanked(r);
      }
    }
  }
  for (let k = 0; k < 9; k++) if (!(seen & (1 << k))) missing(MATCHES_KEYS[k]);
  return {
    shard_id: shard,
    revision,
    index_generation: generation,
    symbol_count: count,
    mode,
    hit,
    bucket,
    trigrams,
    matches,
  };
}

const SUMMARY_KEYS = [
  "shard_id",
  "revision",
  "index_generation",
  "symbol_count",
];
const SUMMARY_KEY_BYTES = keys(...SUMMARY_KEYS);
const K_SUMMARY = keyTable(SUMMARY_KEYS);

/**
 * Writes a `shard_summary` body.
 *
 * @example
 * ```ts
 * import { readShardSummary, writeShardSummary } from "./_search_v31.ts";
 * import { CborReader } from "./_cbor_read.ts";
 * import { CborWriter } from "./_cbor_write.ts";
 * const w = new CborWriter();
 * writeShardSummary(w, { shard_id: 0, revision: 1, index_generation: 2, symbol_count: 3 });
 * console.assert(readShardSummary(new CborReader(w.finish())).symbol_count === 3);
 * ```
 */
export function writeShardSummary(w: CborWriter, b: ShardSummary): void {
  requireObject(b, "shard_summary body");
  writeShardIds(w, b, K_SUMMARY);
  w.raw(K_SUMMARY[3]);
  w.u32(b.symbol_count, "symbol_count");
}

/**
 * Reads a `shard_summary` body.
 *
 * @example
 * ```ts
 * import { readShardSummary } from "./_search_v31.ts";
 * import { CborReader } from "./_cbor_read.ts";
 * let threw = false;
 * try { readShardSummary(new CborReader(new Uint8Array([0xa0]))); } catch { threw = true; }
 * console.assert(threw);
 * ```
 */
export function readShardSummary(r: CborReader): ShardSummary {
  const v = shardCounts(r, "ShardSummary", SUMMARY_KEY_BYTES, SUMMARY_KEYS);
  return {
    shard_id: v[0],
    revision: v[1],
    index_generation: v[2],
    symbol_count: v[3],
  };
}
