/**
 * Codec throughput against bare cbor-x on the same logical objects.
 * Run: `deno bench --allow-read --allow-env bench/wire.bench.ts`.
 * Without `--allow-ffi` cbor-x cannot load its native addon, so the
 * baseline is pure-JS cbor-x (the line printed at start says which).
 *
 * @module
 */

import { Encoder, isNativeAccelerationEnabled } from "cbor-x";
import {
  decodeRpcPayload,
  decodeWireFrame,
  encodeRpcPayload,
  encodeWireFrame,
} from "../lib/wire/codec.ts";
import { indexShard, shardIndex, smallPacket } from "./_fixtures.ts";

console.log(
  `cbor-x native acceleration: ${
    isNativeAccelerationEnabled ? "on" : "off (pure JS)"
  }`,
);

const cborx = new Encoder({ useRecords: false, mapsAsObjects: true });

const packetBytes = encodeWireFrame(smallPacket);
const packetCborx = cborx.encode(smallPacket);
const indexShardBytes = encodeRpcPayload(indexShard);
const indexShardCborx = cborx.encode(indexShard);
const shardIndexBytes = encodeRpcPayload(shardIndex);
const shardIndexCborx = cborx.encode(shardIndex);
console.log(
  `sizes: packet ${packetBytes.length} B, index_shard ${indexShardBytes.length} B, shard_index ${shardIndexBytes.length} B`,
);

let sink = 0;

Deno.bench(
  "(a) packet encode: cbor-x",
  { group: "a-encode", baseline: true },
  () => {
    sink ^= cborx.encode(smallPacket).length;
  },
);
Deno.bench("(a) packet encode: loom", { group: "a-encode" }, () => {
  sink ^= encodeWireFrame(smallPacket).length;
});
Deno.bench(
  "(a) packet decode: cbor-x",
  { group: "a-decode", baseline: true },
  () => {
    sink ^= (cborx.decode(packetCborx) as { type: string }).type.length;
  },
);
Deno.bench("(a) packet decode: loom (preflight + decode)", {
  group: "a-decode",
}, () => {
  sink ^= decodeWireFrame(packetBytes).type.length;
});

Deno.bench("(b) index_shard encode: cbor-x", {
  group: "b-encode",
  baseline: true,
}, () => {
  sink ^= cborx.encode(indexShard).length;
});
Deno.bench("(b) index_shard encode: loom", { group: "b-encode" }, () => {
  sink ^= encodeRpcPayload(indexShard).length;
});
Deno.bench("(b) index_shard decode: cbor-x", {
  group: "b-decode",
  baseline: true,
}, () => {
  sink ^= (cborx.decode(indexShardCborx) as { type: string }).type.length;
});
Deno.bench("(b) index_shard decode: loom (preflight + decode)", {
  group: "b-decode",
}, () => {
  sink ^= decodeRpcPayload(indexShardBytes).type.length;
});

Deno.bench("(c) shard_index encode: cbor-x", {
  group: "c-encode",
  baseline: true,
}, () => {
  sink ^= cborx.encode(shardIndex).length;
});
Deno.bench("(c) shard_index encode: loom", { group: "c-encode" }, () => {
  sink ^= encodeRpcPayload(shardIndex).length;
});
Deno.bench("(c) shard_index decode: cbor-x", {
  group: "c-decode",
  baseline: true,
}, () => {
  sink ^= (cborx.decode(shardIndexCborx) as { type: string }).type.length;
});
Deno.bench("(c) shard_index decode: loom (preflight + decode)", {
  group: "c-decode",
}, () => {
  sink ^= decodeRpcPayload(shardIndexBytes).type.length;
});

globalThis.addEventListener("unload", () => {
  if (sink === 0.5) console.log(sink);
});
