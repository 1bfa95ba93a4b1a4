/**
 * Median timings of the codec against bare cbor-x, interleaving the two
 * implementations sample by sample so background load affects both alike.
 * Run: `deno run --allow-read --allow-env bench/wire_median.ts`.
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
import type { RpcPayload, WireFrame } from "../lib/wire/types.ts";
import { indexShard, shardIndex, smallPacket } from "./_fixtures.ts";

const cborx = new Encoder({ useRecords: false, mapsAsObjects: true });
let sink = 0;

/** Median milliseconds per call of `a` and `b`, sampled alternately. */
function medians(
  a: () => unknown,
  b: () => unknown,
  samples: number,
  batch: number,
): [number, number] {
  const ta: number[] = [];
  const tb: number[] = [];
  for (let i = 0; i < samples + 3; i++) {
    for (const [fn, out] of [[a, ta], [b, tb]] as const) {
      const start = performance.now();
      for (let j = 0; j < batch; j++) sink ^= fn() ? 1 : 0;
      if (i >= 3) out.push((performance.now() - start) / batch);
    }
  }
  const mid = (xs: number[]) => xs.sort((x, y) => x - y)[xs.length >> 1];
  return [mid(ta), mid(tb)];
}

function row(name: string, base: number, ours: number, bytes: number): void {
  const mbps = (ms: number) => (bytes / 1e6 / (ms / 1e3)).toFixed(0);
  console.log(
    `${name.padEnd(18)} cbor-x ${base.toFixed(4).padStart(10)} ms (${
      mbps(base)
    } MB/s)  ` +
      `loom ${ours.toFixed(4).padStart(10)} ms (${mbps(ours)} MB/s)  ` +
      `ratio ${(base / ours).toFixed(2)}x`,
  );
}

console.log(
  `cbor-x native acceleration: ${
    isNativeAccelerationEnabled ? "on" : "off (pure JS)"
  }`,
);
const cases: [string, WireFrame | RpcPayload, boolean, number, number][] = [
  ["(a) packet", smallPacket, true, 200, 2000],
  ["(b) index_shard", indexShard, false, 40, 1],
  ["(c) shard_index", shardIndex, false, 15, 1],
];
for (const [name, value, frame, samples, batch] of cases) {
  const ours = frame
    ? encodeWireFrame(value as WireFrame)
    : encodeRpcPayload(value as RpcPayload);
  const theirs = cborx.encode(value);
  const [ea, eb] = medians(
    () => cborx.encode(value),
    () =>
      frame
        ? encodeWireFrame(value as WireFrame)
        : encodeRpcPayload(value as RpcPayload),
    samples,
    batch,
  );
  row(`${name} encode`, ea, eb, ours.length);
  const [da, db] = medians(
    () => cborx.decode(theirs),
    () => frame ? decodeWireFrame(ours) : decodeRpcPayload(ours),
    samples,
    batch,
  );
  row(`${name} decode`, da, db, ours.length);
}
if (sink === 0.5) console.log(sink);
