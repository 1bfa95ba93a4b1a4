/**
 * fast-check arbitraries for every v3 message, with fields in wire
 * (declaration) order. They cover u64/u32 extremes, unicode text, empty and
 * large arrays, and every variant including `unknown`.
 *
 * @module
 */

import fc, {
  type Arbitrary,
  type Random,
  type Stream,
  type Value,
} from "fast-check";
import type {
  Capabilities,
  CompressionAlgo,
  FileText,
  Notification,
  Request,
  Response,
  RpcPayload,
  RpcResult,
  ShardIndex,
  Symbol,
  U64,
  WireFrame,
  WorkerStats,
} from "../wire/types.ts";

/**
 * fast-check's generator type and the types its methods use, re-exported so
 * the arbitraries below have a documented public type.
 */
export type { Arbitrary, Random, Stream, Value };

/** `fc.record` with plain-prototype objects (like decoded values). */
function rec<T extends Record<string, unknown>>(
  model: { [K in keyof T]: Arbitrary<T[K]> },
): Arbitrary<T> {
  return fc.record(model, { noNullPrototype: true }) as Arbitrary<T>;
}

const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

function normal(value: bigint): U64 {
  return value <= MAX_SAFE ? Number(value) : value;
}

/**
 * u64 values in normal form, biased towards boundaries.
 *
 * @example
 * ```ts
 * import fc from "fast-check";
 * import { u64Arb } from "./arbitraries.ts";
 * for (const v of fc.sample(u64Arb, 20)) {
 *   console.assert(typeof v === "bigint" ? v > 2n ** 53n - 1n : Number.isSafeInteger(v));
 * }
 * ```
 */
export const u64Arb: Arbitrary<U64> = fc.oneof(
  fc.constantFrom<U64>(
    0,
    1,
    23,
    24,
    255,
    256,
    65535,
    65536,
    0xffff_ffff,
    0x1_0000_0000,
    Number.MAX_SAFE_INTEGER,
    2n ** 53n,
    2n ** 64n - 2n,
    2n ** 64n - 1n,
  ),
  fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }).map(normal),
  fc.nat(),
);

/**
 * u32 values, biased towards boundaries.
 *
 * @example
 * ```ts
 * import fc from "fast-check";
 * import { u32Arb } from "./arbitraries.ts";
 * console.assert(fc.sample(u32Arb, 10).every((v) => v >= 0 && v <= 0xffffffff));
 * ```
 */
export const u32Arb: Arbitrary<number> = fc.oneof(
  fc.constantFrom(0, 1, 23, 24, 255, 256, 65535, 65536, 0xffff_ffff),
  fc.integer({ min: 0, max: 0xffff_ffff }),
);

/**
 * Well-formed text of at most 16 KiB (the limit of names, paths, messages):
 * ASCII, full Unicode, and some longer strings.
 *
 * @example
 * ```ts
 * import fc from "fast-check";
 * import { textArb } from "./arbitraries.ts";
 * console.assert(fc.sample(textArb, 10).every((s) => s.isWellFormed()));
 * ```
 */
export const textArb: Arbitrary<string> = fc.oneof(
  { weight: 4, arbitrary: fc.string({ maxLength: 40 }) },
  {
    weight: 3,
    arbitrary: fc.string({ unit: "binary", maxLength: 40 }).filter((s) =>
      s.isWellFormed()
    ),
  },
  { weight: 1, arbitrary: fc.string({ unit: "grapheme", maxLength: 300 }) },
  {
    weight: 1,
    arbitrary: fc.tuple(
      fc.constantFrom("a", "é", "€", "😀"),
      fc.constantFrom(23, 24, 255, 256, 4096),
    ).map(([c, n]) => c.repeat(n)),
  },
);

/**
 * Long file texts (over the 16-bit length form), as well as short ones.
 *
 * @example
 * ```ts
 * import fc from "fast-check";
 * import { fileTextArb } from "./arbitraries.ts";
 * console.assert(fc.sample(fileTextArb, 10).every((s) => typeof s === "string"));
 * ```
 */
export const fileTextArb: Arbitrary<string> = fc.oneof(
  { weight: 5, arbitrary: textArb },
  {
    weight: 1,
    arbitrary: fc.tuple(
      fc.constantFrom("a", "é", "€", "😀"),
      fc.constantFrom(21846, 65536),
    ).map(([c, n]) => c.repeat(n)),
  },
);

const optText = fc.option(textArb, { nil: null });
const compressionArb: Arbitrary<CompressionAlgo> = fc.constantFrom(
  "none",
  "zstd",
  "unknown",
);
const bytesArb = fc.oneof(
  fc.uint8Array({ maxLength: 64 }),
  fc.constantFrom(23, 24, 255, 256, 65536).map((n) =>
    new Uint8Array(n).fill(7)
  ),
);

const versionArb = rec({ major: u32Arb, minor: u32Arb });
const capsArb: Arbitrary<Capabilities> = rec({
  max_frame_len: u32Arb,
  max_packet_len: u32Arb,
  supported_compression: fc.array(compressionArb, { maxLength: 32 }),
  supports_cancel: fc.boolean(),
  supports_chunking: fc.boolean(),
});

/**
 * Every `WireFrame` variant.
 *
 * @example
 * ```ts
 * import fc from "fast-check";
 * import { wireFrameArb } from "./arbitraries.ts";
 * console.assert(fc.sample(wireFrameArb, 5).length === 5);
 * ```
 */
export const wireFrameArb: Arbitrary<WireFrame> = fc.oneof(
  rec({
    type: fc.constant("hello" as const),
    body: rec({
      shard_id: u32Arb,
      auth_token: optText,
      supported_versions: rec({ min: versionArb, max: versionArb }),
      capabilities: capsArb,
      cached_index_info: fc.option(
        rec({
          revision: u64Arb,
          index_generation: u64Arb,
          symbol_count: u32Arb,
        }),
        { nil: null },
      ),
      worker_build: optText,
    }),
  }),
  rec({
    type: fc.constant("welcome" as const),
    body: rec({
      worker_id: u32Arb,
      shard_id: u32Arb,
      revision: u64Arb,
      chosen_version: versionArb,
      chosen_capabilities: capsArb,
    }),
  }),
  rec({
    type: fc.constant("reject" as const),
    body: rec({
      code: fc.constantFrom(
        "invalid_request",
        "unauthorized",
        "unsupported_version",
        "internal",
        "unknown",
      ),
      message: textArb,
    }),
  }),
  rec({
    type: fc.constant("packet" as const),
    body: rec({ id: u64Arb, compression: compressionArb, data: bytesArb }),
  }),
  rec({
    type: fc.constant("packet_chunk" as const),
    body: rec({
      id: u64Arb,
      compression: compressionArb,
      seq: u32Arb,
      last: fc.boolean(),
      data: bytesArb,
    }),
  }),
  fc.constant({ type: "unknown" as const }),
);

const fileArb: Arbitrary<FileText> = rec({
  path: textArb,
  text: fileTextArb,
});
const filesArb = fc.oneof(
  fc.array(fileArb, { maxLength: 5 }),
  fc.constant([] as FileText[]),
  fc.integer({ min: 24, max: 300 }).map((n) =>
    Array.from(
      { length: n },
      (_, i) => ({ path: `src/F${i}.java`, text: `class F${i} {}` }),
    )
  ),
);

/**
 * Every `Request` variant.
 *
 * @example
 * ```ts
 * import fc from "fast-check";
 * import { requestArb } from "./arbitraries.ts";
 * console.assert(fc.sample(requestArb, 5).every((r) => typeof r.type === "string"));
 * ```
 */
export const requestArb: Arbitrary<Request> = fc.oneof(
  rec({
    type: fc.constant("load_files" as const),
    revision: u64Arb,
    files: filesArb,
  }),
  rec({
    type: fc.constant("index_shard" as const),
    revision: u64Arb,
    files: filesArb,
  }),
  rec({
    type: fc.constant("update_file" as const),
    revision: u64Arb,
    file: fileArb,
  }),
  rec({ type: fc.constant("diagnostics" as const), path: textArb }),
  fc.constantFrom(
    { type: "get_worker_stats" as const },
    { type: "shutdown" as const },
    { type: "unknown" as const },
  ),
);

const symbolArb: Arbitrary<Symbol> = rec({
  name: textArb,
  path: textArb,
  line: u32Arb,
  column: u32Arb,
});

/**
 * A `ShardIndex` with empty, small or large symbol lists.
 *
 * @example
 * ```ts
 * import fc from "fast-check";
 * import { shardIndexArb } from "./arbitraries.ts";
 * console.assert(fc.sample(shardIndexArb, 3).every((s) => Array.isArray(s.symbols)));
 * ```
 */
export const shardIndexArb: Arbitrary<ShardIndex> = rec({
  shard_id: u32Arb,
  revision: u64Arb,
  index_generation: u64Arb,
  symbols: fc.oneof(
    fc.array(symbolArb, { maxLength: 5 }),
    fc.integer({ min: 24, max: 2000 }).map((n) =>
      Array.from({ length: n }, (_, i) => ({
        name: `Sym${i}`,
        path: `src/P${i % 7}.java`,
        line: i,
        column: i % 80,
      }))
    ),
  ),
});

const statsArb: Arbitrary<WorkerStats> = rec({
  shard_id: u32Arb,
  revision: u64Arb,
  index_generation: u64Arb,
  file_count: u32Arb,
});

const responseArb: Arbitrary<Response> = fc.oneof(
  fc.constantFrom(
    { type: "ack" as const },
    { type: "shutdown" as const },
    { type: "unknown" as const },
  ),
  rec({ type: fc.constant("shard_index" as const), body: shardIndexArb }),
  rec({
    type: fc.constant("diagnostics" as const),
    body: rec({
      diagnostics: fc.array(
        rec({
          severity: fc.constantFrom(
            "error",
            "warning",
            "info",
            "hint",
            "unknown",
          ),
          line: u32Arb,
          column: u32Arb,
          message: textArb,
        }),
        { maxLength: 5 },
      ),
    }),
  }),
  rec({ type: fc.constant("worker_stats" as const), body: statsArb }),
);

const resultArb: Arbitrary<RpcResult> = fc.oneof(
  rec({ status: fc.constant("ok" as const), value: responseArb }),
  rec({
    status: fc.constant("err" as const),
    error: rec({
      code: fc.constantFrom(
        "invalid_request",
        "unauthorized",
        "unsupported_version",
        "too_large",
        "cancelled",
        "internal",
        "unknown",
      ),
      message: textArb,
      retryable: fc.boolean(),
      details: optText,
    }),
  }),
  fc.constant({ status: "unknown" as const }),
);

const notificationArb: Arbitrary<Notification> = fc.oneof(
  rec({ type: fc.constant("cached_index" as const), body: shardIndexArb }),
  fc.constant({ type: "unknown" as const }),
);

/**
 * Every `RpcPayload` variant (and every nested variant).
 *
 * @example
 * ```ts
 * import fc from "fast-check";
 * import { rpcPayloadArb } from "./arbitraries.ts";
 * console.assert(fc.sample(rpcPayloadArb, 5).length === 5);
 * ```
 */
export const rpcPayloadArb: Arbitrary<RpcPayload> = fc.oneof(
  rec({ type: fc.constant("request" as const), body: requestArb }),
  rec({ type: fc.constant("response" as const), body: resultArb }),
  rec({ type: fc.constant("notification" as const), body: notificationArb }),
  fc.constantFrom({ type: "cancel" as const }, { type: "unknown" as const }),
);
