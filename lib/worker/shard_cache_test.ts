import assert from "node:assert/strict";
import fc from "fast-check";
import {
  decodeShardCache as decodeAnyLayout,
  encodeShardCache as encodeVerified,
  resolveShardCacheLimits,
  SHARD_CACHE_HEADER_BYTES,
  SHARD_CACHE_TRAILER_BYTES,
  ShardCacheError,
  shardCacheFileName,
  type ShardCacheMissReason,
} from "./shard_cache.ts";
import { sha256 } from "@noble/hashes/sha2.js";
import { isProtocolError } from "../wire/errors.ts";
import type { ShardIndex } from "../wire/types.ts";

// Most cases below pin the reference layout (format 1, no trailer), which
// is read and written only when asked to; the verified format has its own
// cases at the end.
const encodeShardCache = (
  index: ShardIndex,
  options?: Parameters<typeof encodeVerified>[1],
): Uint8Array => encodeVerified(index, { layout: "reference", ...options });
const decodeShardCache = (
  bytes: Uint8Array,
  options: Parameters<typeof decodeAnyLayout>[1],
): ShardIndex =>
  decodeAnyLayout(bytes, { acceptReferenceLayout: true, ...options });

const SAMPLE: ShardIndex = {
  shard_id: 7,
  revision: 42,
  index_generation: 3,
  symbols: [
    { name: "Alpha", path: "/src/a/Alpha.java", line: 2, column: 13 },
    { name: "run", path: "/src/a/Alpha.java", line: 4, column: 9 },
    { name: "é😀", path: "/src/b/B.java", line: 0, column: 0 },
  ],
};

function hex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

function expectMiss(
  bytes: Uint8Array,
  reason: ShardCacheMissReason,
  shardId = 7,
  limits?: Parameters<typeof resolveShardCacheLimits>[0],
): void {
  assert.throws(
    () => decodeShardCache(bytes, { shardId, limits }),
    (err: unknown) => {
      assert.ok(err instanceof ShardCacheError, String(err));
      assert.ok(isProtocolError(err));
      assert.equal(err.reason, reason);
      return true;
    },
  );
}

Deno.test("encodeShardCache() writes the reference header byte by byte", () => {
  const bytes = encodeShardCache({
    shard_id: 1,
    revision: 2,
    index_generation: 3,
    symbols: [{ name: "A", path: "p", line: 5, column: 6 }],
  });
  assert.equal(
    hex(bytes),
    "4e4f56415348524401000000" + // magic, format 1
      "04000000" + "01000000" + // protocol 4, shard 1
      "0200000000000000" + "0300000000000000" + // revision, generation
      "0100000000000000" + // count
      "0100000000000000" + "41" + "0100000000000000" + "70" + // name, path
      "05000000" + "06000000", // line, column
  );
});

Deno.test("decodeShardCache() round-trips a sample index", () => {
  const bytes = encodeShardCache(SAMPLE);
  assert.deepEqual(decodeShardCache(bytes, { shardId: 7 }), SAMPLE);
  assert.equal(shardCacheFileName(7), "shard_7.bin");
});

Deno.test("decodeShardCache() keeps u64 normal form", () => {
  const index: ShardIndex = {
    shard_id: 0,
    revision: 18446744073709551615n,
    index_generation: 2 ** 53 - 1,
    symbols: [],
  };
  const decoded = decodeShardCache(encodeShardCache(index), { shardId: 0 });
  assert.equal(decoded.revision, 18446744073709551615n);
  assert.equal(decoded.index_generation, 2 ** 53 - 1);
  const big = decodeShardCache(
    encodeShardCache({ ...index, index_generation: 2n ** 53n }),
    { shardId: 0 },
  );
  assert.equal(big.index_generation, 2n ** 53n);
  const small = decodeShardCache(
    encodeShardCache({ ...index, revision: 5n }),
    { shardId: 0 },
  );
  assert.equal(small.revision, 5);
});

const symbolArb = fc.record({
  name: fc.string({ unit: "grapheme", maxLength: 12 }),
  path: fc.constantFrom("/a/A.java", "/b/B.java", "/ü/Ö.java", ""),
  line: fc.nat({ max: 0xffff_ffff }),
  column: fc.nat({ max: 0xffff_ffff }),
}, { noNullPrototype: true });
const indexArb = fc.record({
  shard_id: fc.nat({ max: 0xffff_ffff }),
  revision: fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }).map((v) =>
    v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v
  ),
  index_generation: fc.nat(),
  symbols: fc.array(symbolArb, { maxLength: 20 }),
}, { noNullPrototype: true });

Deno.test("decodeShardCache() round-trips arbitrary indexes (property)", () => {
  fc.assert(
    fc.property(indexArb, (index) => {
      const bytes = encodeShardCache(index);
      assert.deepEqual(
        decodeShardCache(bytes, { shardId: index.shard_id }),
        index,
      );
    }),
    { numRuns: 300 },
  );
});

Deno.test("decodeShardCache() rejects every strict prefix as truncated", () => {
  const bytes = encodeShardCache(SAMPLE);
  for (let cut = 0; cut < bytes.length; cut++) {
    expectMiss(bytes.subarray(0, cut), "truncated");
  }
});

Deno.test("decodeShardCache() rejects trailing bytes", () => {
  const bytes = encodeShardCache(SAMPLE);
  const longer = new Uint8Array(bytes.length + 1);
  longer.set(bytes);
  expectMiss(longer, "trailing_bytes");
});

Deno.test("decodeShardCache() rejects a bad magic, format and protocol", () => {
  const bytes = encodeShardCache(SAMPLE);
  // Without the magic, the bytes are read as a legacy bare index, whose
  // first field is the shard id.
  const badMagic = bytes.slice();
  badMagic[0] = 0x4d;
  expectMiss(badMagic, "wrong_shard_id");
  expectMiss(new Uint8Array([1, 0, 0, 0]), "bad_magic");
  expectMiss(new TextEncoder().encode("not a cache at all"), "bad_magic");
  const badFormat = bytes.slice();
  badFormat[8] = 3;
  expectMiss(badFormat, "bad_format_version");
  const badProtocol = bytes.slice();
  badProtocol[12] = 3;
  expectMiss(badProtocol, "bad_protocol_version");
  try {
    decodeShardCache(badProtocol, { shardId: 7 });
  } catch (err) {
    assert.match(
      (err as Error).message,
      /incompatible protocol version: expected 4, found 3/,
    );
  }
});

Deno.test("decodeShardCache() rejects another shard's cache", () => {
  expectMiss(encodeShardCache(SAMPLE), "wrong_shard_id", 8);
});

Deno.test("decodeShardCache() rejects > 1M symbols without allocating", () => {
  const header = encodeShardCache({ ...SAMPLE, symbols: [] });
  const view = new DataView(header.buffer);
  view.setBigUint64(36, 1_000_001n, true);
  expectMiss(header, "too_many_symbols");
  view.setBigUint64(36, (1n << 64n) - 1n, true);
  expectMiss(header, "too_many_symbols");
  // A count within the limit but impossible for the remaining bytes.
  view.setBigUint64(36, 1_000_000n, true);
  expectMiss(header, "truncated");
});

Deno.test("decodeShardCache() rejects huge string lengths before reading", () => {
  const bytes = encodeShardCache(SAMPLE);
  const view = new DataView(bytes.buffer);
  view.setBigUint64(SHARD_CACHE_HEADER_BYTES, 1n << 40n, true);
  expectMiss(bytes, "string_too_long");
  view.setBigUint64(SHARD_CACHE_HEADER_BYTES, 16_384n, true);
  expectMiss(bytes, "truncated");
});

Deno.test("decodeShardCache() rejects invalid UTF-8", () => {
  const bytes = encodeShardCache({
    ...SAMPLE,
    symbols: [{ name: "A", path: "p", line: 0, column: 0 }],
  });
  bytes[SHARD_CACHE_HEADER_BYTES + 8] = 0xff;
  expectMiss(bytes, "invalid_utf8");
});

Deno.test("decodeShardCache() rejects oversize input under custom limits", () => {
  const bytes = encodeShardCache(SAMPLE);
  expectMiss(bytes, "oversize", 7, { maxBytes: bytes.length - 1 });
  assert.throws(() => resolveShardCacheLimits({ maxBytes: 0 }), RangeError);
});

Deno.test("encodeShardCache() refuses indexes the decoder would reject", () => {
  assert.throws(
    () => encodeShardCache(SAMPLE, { limits: { maxSymbols: 2 } }),
    (err: unknown) => isProtocolError(err, "encode_failed"),
  );
  assert.throws(
    () => encodeShardCache(SAMPLE, { limits: { maxStringBytes: 4 } }),
    (err: unknown) => isProtocolError(err, "encode_failed"),
  );
  assert.throws(
    () => encodeShardCache({ ...SAMPLE, shard_id: -1 }),
    RangeError,
  );
  assert.throws(
    () => encodeShardCache({ ...SAMPLE, revision: 1.5 }),
    RangeError,
  );
});

Deno.test("decodeShardCache() never throws anything but ShardCacheError on garbage (property)", () => {
  const valid = encodeShardCache(SAMPLE);
  fc.assert(
    fc.property(
      fc.uint8Array({ maxLength: 200 }),
      fc.nat({ max: valid.length }),
      (noise, at) => {
        const mixed = new Uint8Array(at + noise.length);
        mixed.set(valid.subarray(0, at));
        mixed.set(noise, at);
        try {
          decodeShardCache(mixed, { shardId: 7 });
        } catch (err) {
          assert.ok(err instanceof ShardCacheError, String(err));
        }
      },
    ),
    { numRuns: 1000 },
  );
});

/** The reference's legacy layouts, built from a current encoding. */
function legacyRaw(index: ShardIndex): Uint8Array {
  return encodeShardCache(index).slice(16);
}

function legacyWrapper(
  index: ShardIndex,
  options: { protocol?: number; version?: string } = {},
): Uint8Array {
  const version = new TextEncoder().encode(options.version ?? "0.1.0");
  const raw = legacyRaw(index);
  const out = new Uint8Array(4 + 8 + version.length + 4 + 8 + raw.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, 1, true);
  view.setBigUint64(4, BigInt(version.length), true);
  out.set(version, 12);
  let at = 12 + version.length;
  view.setUint32(at, options.protocol ?? 4, true);
  view.setBigUint64(at + 4, 1_700_000_000_000n, true);
  at += 12;
  out.set(raw, at);
  return out;
}

Deno.test("decodeShardCache() loads the legacy bare layout", () => {
  assert.deepEqual(decodeShardCache(legacyRaw(SAMPLE), { shardId: 7 }), SAMPLE);
  expectMiss(legacyRaw(SAMPLE), "wrong_shard_id", 8);
  const tooMany = legacyRaw({ ...SAMPLE, symbols: [] });
  new DataView(tooMany.buffer).setBigUint64(20, 1_000_001n, true);
  expectMiss(tooMany, "too_many_symbols");
});

Deno.test("decodeShardCache() loads the legacy wrapper layout", () => {
  const index = { ...SAMPLE, shard_id: 1 }; // shard 1 also starts with u32 1
  assert.deepEqual(
    decodeShardCache(legacyWrapper(index), { shardId: 1 }),
    index,
  );
  assert.deepEqual(
    decodeShardCache(legacyRaw(index), { shardId: 1 }),
    index,
  );
  expectMiss(legacyWrapper(index, { protocol: 3 }), "bad_protocol_version", 1);
  expectMiss(legacyWrapper(index), "wrong_shard_id", 2);
  // Another crate version is not a wrapper; read as a bare index it fails.
  assert.throws(() =>
    decodeShardCache(legacyWrapper(index, { version: "0.2.0" }), { shardId: 1 })
  );
});

Deno.test("decodeShardCache() rejects a wrapper declaring 1,000,001 symbols without allocating", () => {
  const bytes = legacyWrapper({ ...SAMPLE, symbols: [] });
  new DataView(bytes.buffer).setBigUint64(29 + 20, 1_000_001n, true);
  expectMiss(bytes, "too_many_symbols");
});

Deno.test("decodeShardCache() rejects every strict prefix of a legacy cache", () => {
  for (const bytes of [legacyRaw(SAMPLE), legacyWrapper(SAMPLE)]) {
    for (let cut = 0; cut < bytes.length; cut++) {
      assert.throws(
        () => decodeShardCache(bytes.subarray(0, cut), { shardId: 7 }),
        ShardCacheError,
      );
    }
  }
});

Deno.test("the verified format (2) round-trips and ends in a SHA-256 trailer", () => {
  const bytes = encodeVerified(SAMPLE);
  const reference = encodeShardCache(SAMPLE);
  assert.equal(bytes.length, reference.length + SHARD_CACHE_TRAILER_BYTES);
  assert.equal(new DataView(bytes.buffer).getUint32(8, true), 2);
  assert.deepEqual(
    bytes.subarray(12, reference.length),
    reference.subarray(12),
  );
  assert.equal(
    new TextDecoder().decode(
      bytes.subarray(reference.length, reference.length + 8),
    ),
    "LOOMSUM1",
  );
  assert.equal(
    hex(bytes.subarray(reference.length + 8)),
    hex(sha256(bytes.subarray(0, reference.length))),
  );
  assert.deepEqual(decodeAnyLayout(bytes, { shardId: 7 }), SAMPLE);
});

Deno.test("a flipped byte anywhere in a verified cache is a miss (corrupt), never a result", () => {
  const bytes = encodeVerified(SAMPLE);
  for (let i = 0; i < bytes.length; i++) {
    const bad = bytes.slice();
    bad[i] ^= 0x01;
    assert.throws(
      () => decodeAnyLayout(bad, { shardId: 7 }),
      (err: unknown) => err instanceof ShardCacheError,
      `offset ${i}`,
    );
  }
  // Inside the body or the digest, the reason is the digest check itself.
  for (const at of [60, bytes.length - 1]) {
    const bad = bytes.slice();
    bad[at] ^= 0x20;
    expectMissAnyLayout(bad, "corrupt");
  }
});

Deno.test("a verified cache decoded whole, cut at every offset, fails cleanly", () => {
  const bytes = encodeVerified(SAMPLE);
  for (let n = 0; n < bytes.length; n++) {
    assert.throws(
      () => decodeAnyLayout(bytes.subarray(0, n), { shardId: 7 }),
      (err: unknown) => err instanceof ShardCacheError,
      `length ${n}`,
    );
  }
});

Deno.test("the reference layout is a miss (unverified) unless asked for", () => {
  expectMissAnyLayout(encodeShardCache(SAMPLE), "unverified");
  assert.deepEqual(
    decodeAnyLayout(encodeShardCache(SAMPLE), {
      shardId: 7,
      acceptReferenceLayout: true,
    }),
    SAMPLE,
  );
});

Deno.test("an injected digest is used on both sides", () => {
  const calls: number[] = [];
  const digest = (b: Uint8Array): Uint8Array => {
    calls.push(b.length);
    return sha256(b);
  };
  const bytes = encodeVerified(SAMPLE, { digest });
  decodeAnyLayout(bytes, { shardId: 7, digest });
  assert.equal(calls.length, 2);
  assert.equal(calls[0], bytes.length - SHARD_CACHE_TRAILER_BYTES);
});

function expectMissAnyLayout(
  bytes: Uint8Array,
  reason: ShardCacheMissReason,
): void {
  assert.throws(
    () => decodeAnyLayout(bytes, { shardId: 7 }),
    (err: unknown) => err instanceof ShardCacheError && err.reason === reason,
  );
}
