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

import { concatBytes } from "./bytes.ts";
import { type CborWriter, SMALL_TEXT_CAP, textBytes } from "./_cbor_write.ts";
import type { CborReader } from "./_cbor_read.ts";
import { entryKey, keys, missing } from "./_decode_parts.ts";
import { SEARCH_MODE, SHARD_SUMMARY, SYMBOL_MATCHES } from "./_messages.ts";
import { readStruct, writeStruct } from "./_schema.ts";
import type {
  Request,
  SearchShardSymbolsRequest,
  ShardSummary,
  SymbolMatches,
  SymbolSearchMode,
} from "./types.ts";

const t = textBytes;

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
    concatBytes([t("type"), t(name), t("revision")]),
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
  return concatBytes([[0xa0 + n], OMIT_PREFIX.get(req.type)!]);
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

const K_SEARCH = concatBytes([
  t("type"),
  t("search_shard_symbols"),
  t("query"),
]);
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
    SEARCH_MODE.write(w, req.mode, "mode");
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
        if (!r.nullNext()) mode = SEARCH_MODE.read(r, "mode");
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
  writeStruct(w, SYMBOL_MATCHES, b, "symbol_matches body");
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
  return readStruct(r, SYMBOL_MATCHES);
}

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
  writeStruct(w, SHARD_SUMMARY, b, "shard_summary body");
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
  return readStruct(r, SHARD_SUMMARY);
}
