import assert from "node:assert/strict";
import fc from "fast-check";
import {
  decodeRunRecord,
  decodeShardOwner,
  decodeShardRecord,
  DEFAULT_ETCD_CODEC_LIMITS,
  encodeRunRecord,
  encodeShardOwner,
  encodeShardRecord,
  OP_KINDS,
  type RunRecord,
  SHARD_STATUSES,
  type ShardRecord,
  type ShardStatus,
} from "./etcd_codec.ts";
import { LedgerError, type LedgerLimitError } from "./errors.ts";

const hex = (b: Uint8Array): string =>
  Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");

function throwsOf(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  throw new Error("expected a throw");
}

function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    if (error instanceof LedgerError) return error.code;
    throw error;
  }
  return "no error";
}

const u64 = fc.bigInt({ min: 0n, max: (1n << 64n) - 1n });
const bytes = fc.uint8Array({ maxLength: 40 });
const tenant = fc.uint8Array({ minLength: 32, maxLength: 32 });
const shardArb: fc.Arbitrary<ShardRecord> = fc.record({
  tenant,
  run: u64,
  shard: u64,
  status: fc.constantFrom(...(Object.keys(SHARD_STATUSES) as ShardStatus[])),
  parkReason: fc.option(fc.string({ maxLength: 20 }), { nil: null }),
  keyRangeStart: bytes,
  keyRangeEnd: bytes,
  metadata: bytes,
  cursor: fc.record({
    lastKey: fc.option(bytes, { nil: null }),
    token: fc.option(bytes, { nil: null }),
    semantics: fc.constant(1),
  }),
  lease: fc.option(fc.record({ owner: u64, deadline: u64 }), { nil: null }),
  fenceEpoch: u64,
  parent: fc.option(u64, { nil: null }),
  spawned: fc.array(u64, { maxLength: 5 }),
  opLog: fc.array(
    fc.record({
      opId: u64,
      kind: fc.constantFrom(
        ...(Object.keys(OP_KINDS) as (keyof typeof OP_KINDS)[]),
      ),
      result: fc.integer({ min: 0, max: 255 }),
      payloadHash: u64,
      executedAt: u64,
    }),
    { maxLength: 5 },
  ),
});
const runArb: fc.Arbitrary<RunRecord> = fc.record({
  tenant,
  run: u64,
  status: fc.constantFrom(
    "active" as const,
    "completed" as const,
    "failed" as const,
    "cancelled" as const,
  ),
  leaseDurationMs: u64,
  createdAt: u64,
  shardCount: u64,
  planHash: u64,
  finishedAt: fc.option(u64, { nil: null }),
});

Deno.test("owner value: the worked example is byte-exact (worker 7, fence 3)", () => {
  const bytes = encodeShardOwner({ worker: 7n, fence: 3n });
  assert.deepStrictEqual(bytes.length, 19);
  assert.deepStrictEqual(
    hex(bytes),
    "763103" + "0700000000000000" + "0300000000000000",
  );
  assert.deepStrictEqual(decodeShardOwner(bytes), { worker: 7n, fence: 3n });
});

Deno.test("owner value: fence 0 (below INITIAL), wrong kind, trailing bytes and truncation are rejected", () => {
  const zero = encodeShardOwner({ worker: 7n, fence: 0n });
  assert.deepStrictEqual(
    codeOf(() => decodeShardOwner(zero)),
    "coordination_codec_invalid",
  );
  const good = encodeShardOwner({ worker: 7n, fence: 3n });
  const wrongKind = good.slice();
  wrongKind[2] = 2;
  assert.deepStrictEqual(
    codeOf(() => decodeShardOwner(wrongKind)),
    "coordination_codec_invalid",
  );
  const badTag = good.slice();
  badTag[1] = 0x32;
  assert.deepStrictEqual(
    codeOf(() => decodeShardOwner(badTag)),
    "coordination_codec_invalid",
  );
  assert.deepStrictEqual(
    codeOf(() => decodeShardOwner(new Uint8Array([...good, 0]))),
    "coordination_codec_invalid",
  );
  for (let cut = 0; cut < good.length; cut++) {
    assert.deepStrictEqual(
      codeOf(() => decodeShardOwner(good.slice(0, cut))),
      "coordination_codec_invalid",
      `cut ${cut}`,
    );
  }
});

Deno.test("shard record: round trip, and every strict prefix or extension is rejected", () => {
  fc.assert(
    fc.property(shardArb, (record) => {
      const bytes = encodeShardRecord(record);
      assert.deepStrictEqual(decodeShardRecord(bytes), structuredClone(record));
      assert.deepStrictEqual(
        codeOf(() => decodeShardRecord(new Uint8Array([...bytes, 0]))),
        "coordination_codec_invalid",
      );
      for (let cut = 0; cut < bytes.length; cut++) {
        const code = codeOf(() => decodeShardRecord(bytes.slice(0, cut)));
        assert.ok(
          code === "coordination_codec_invalid" || code === "limit_exceeded",
          `cut ${cut}: ${code}`,
        );
      }
    }),
    { numRuns: 60 },
  );
});

Deno.test("run record: round trip, and every strict prefix or extension is rejected", () => {
  fc.assert(
    fc.property(runArb, (record) => {
      const bytes = encodeRunRecord(record);
      assert.deepStrictEqual(decodeRunRecord(bytes), structuredClone(record));
      assert.deepStrictEqual(
        codeOf(() => decodeRunRecord(new Uint8Array([...bytes, 1]))),
        "coordination_codec_invalid",
      );
      for (let cut = 0; cut < bytes.length; cut++) {
        assert.deepStrictEqual(
          codeOf(() => decodeRunRecord(bytes.slice(0, cut))),
          "coordination_codec_invalid",
        );
      }
    }),
    { numRuns: 60 },
  );
});

Deno.test("shard record: the field layout follows the reference order", () => {
  const t = new Uint8Array(32).fill(0x11);
  const record: ShardRecord = {
    tenant: t,
    run: 42n,
    shard: 9n,
    status: "active",
    parkReason: null,
    keyRangeStart: new Uint8Array([0x61]),
    keyRangeEnd: new Uint8Array(),
    metadata: new Uint8Array(),
    cursor: { lastKey: null, token: null, semantics: 1 },
    lease: { owner: 7n, deadline: 1000n },
    fenceEpoch: 3n,
    parent: null,
    spawned: [],
    opLog: [],
  };
  const expected = "763102" + "11".repeat(32) + "2a00000000000000" +
    "0900000000000000" + "01" + "00" +
    "0100000061" + "00000000" + "00000000" + "00" + "00" + "01" + "01" +
    "0700000000000000" + "e803000000000000" +
    "0300000000000000" + "00" + "00000000" + "00000000";
  assert.deepStrictEqual(hex(encodeShardRecord(record)), expected);
});

Deno.test("shard record: declared lengths over the limits are rejected before allocating", () => {
  const t = new Uint8Array(32);
  const head = [0x76, 0x31, 0x02, ...t, ...new Uint8Array(16), 1, 0];
  const huge = new Uint8Array([...head, 0xff, 0xff, 0xff, 0x7f]);
  const error = throwsOf(() => decodeShardRecord(huge)) as LedgerLimitError;
  assert.deepStrictEqual(error.code, "limit_exceeded");
  assert.deepStrictEqual(error.limit, "maxBytesLength");
  assert.deepStrictEqual(error.max, DEFAULT_ETCD_CODEC_LIMITS.maxBytesLength);
  assert.deepStrictEqual(error.actual, 0x7fffffff);
  const tight = { ...DEFAULT_ETCD_CODEC_LIMITS, maxSpawned: 1 };
  const rec = decodeShardRecord(encodeShardRecord({
    tenant: t,
    run: 1n,
    shard: 1n,
    status: "split",
    parkReason: null,
    keyRangeStart: new Uint8Array(),
    keyRangeEnd: new Uint8Array(),
    metadata: new Uint8Array(),
    cursor: { lastKey: null, token: null, semantics: 1 },
    lease: null,
    fenceEpoch: 1n,
    parent: null,
    spawned: [2n, 3n],
    opLog: [],
  }));
  const limited = throwsOf(() =>
    decodeShardRecord(encodeShardRecord(rec), tight)
  ) as LedgerLimitError;
  assert.deepStrictEqual([limited.limit, limited.max, limited.actual], [
    "maxSpawned",
    1,
    2,
  ]);
});

Deno.test("shard record: unknown status, op kind and option flag bytes are rejected", () => {
  const t = new Uint8Array(32);
  const base = [0x76, 0x31, 0x02, ...t, ...new Uint8Array(16)];
  assert.deepStrictEqual(
    codeOf(() => decodeShardRecord(new Uint8Array([...base, 9]))),
    "coordination_codec_invalid",
  );
  assert.deepStrictEqual(
    codeOf(() => decodeShardRecord(new Uint8Array([...base, 1, 2]))),
    "coordination_codec_invalid",
  );
  const park = new Uint8Array([...base, 1, 1, 1, 0, 0, 0, 0xff]);
  assert.deepStrictEqual(
    codeOf(() => decodeShardRecord(park)),
    "coordination_codec_invalid",
  );
});
