import assert from "node:assert/strict";
import fc from "fast-check";
import { Reassembler } from "./reassembly.ts";
import { ProtocolError } from "./errors.ts";
import type { CompressionAlgo, PacketChunk, U64 } from "./types.ts";

function chunk(
  id: U64,
  seq: number,
  last: boolean,
  data: number[] | Uint8Array,
  compression: CompressionAlgo = "none",
): PacketChunk {
  return {
    id,
    compression,
    seq,
    last,
    data: data instanceof Uint8Array ? data : Uint8Array.from(data),
  };
}

function code(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof ProtocolError);
    return e.code;
  }
  throw new Error("did not throw");
}

Deno.test("Reassembler joins any split of a packet (property)", () => {
  fc.assert(
    fc.property(
      fc.uint8Array({ maxLength: 300 }),
      fc.array(fc.nat(300), { maxLength: 10 }),
      (data, cuts) => {
        const points = [...new Set(cuts.map((c) => c % (data.length + 1)))]
          .sort((a, b) => a - b);
        const bounds = [0, ...points, data.length];
        const r = new Reassembler({ maxPacketLen: 300 });
        let out;
        for (let i = 0; i + 1 < bounds.length; i++) {
          const last = i + 2 === bounds.length;
          out = r.push(chunk(5, i, last, data.slice(bounds[i], bounds[i + 1])));
          assert.equal(out === undefined, !last);
        }
        assert.deepEqual(out?.data, data);
        assert.equal(r.bufferedBytes, 0);
        assert.equal(r.streamCount, 0);
      },
    ),
    { numRuns: 200, seed: 3 },
  );
});

Deno.test("Reassembler: single-chunk and empty streams", () => {
  const r = new Reassembler({ maxPacketLen: 10 });
  assert.deepEqual(r.push(chunk(1, 0, true, []))?.data, new Uint8Array());
  assert.equal(r.push(chunk(1, 0, false, [])), undefined);
  assert.deepEqual(r.push(chunk(1, 1, true, [9]))?.data, Uint8Array.of(9));
});

Deno.test("Reassembler: seq must start at 0 and have no gaps or repeats", () => {
  assert.equal(
    code(() =>
      new Reassembler({ maxPacketLen: 10 }).push(chunk(1, 1, false, [1]))
    ),
    "chunk_sequence",
  );
  const r = new Reassembler({ maxPacketLen: 10 });
  r.push(chunk(1, 0, false, [1]));
  assert.equal(code(() => r.push(chunk(1, 0, false, [1]))), "chunk_sequence");
  const g = new Reassembler({ maxPacketLen: 10 });
  g.push(chunk(1, 0, false, [1]));
  assert.equal(code(() => g.push(chunk(1, 2, true, [1]))), "chunk_sequence");
});

Deno.test("Reassembler: compression is fixed per stream", () => {
  const r = new Reassembler({ maxPacketLen: 10 });
  r.push(chunk(1, 0, false, [1], "zstd"));
  assert.equal(
    code(() => r.push(chunk(1, 1, true, [1], "none"))),
    "chunk_sequence",
  );
  const ok = new Reassembler({ maxPacketLen: 10 });
  ok.push(chunk(1, 0, false, [1], "zstd"));
  assert.equal(ok.push(chunk(1, 1, true, [2], "zstd"))?.compression, "zstd");
});

Deno.test("Reassembler: at most 32 streams; the 33rd closes", () => {
  const r = new Reassembler({ maxPacketLen: 10 });
  for (let i = 0; i < 32; i++) r.push(chunk(2 * i + 1, 0, false, [1]));
  assert.equal(r.streamCount, 32);
  assert.equal(code(() => r.push(chunk(999, 0, false, [1]))), "limit_exceeded");
  // Finishing one frees a slot.
  const s = new Reassembler({ maxPacketLen: 10, maxStreams: 2 });
  s.push(chunk(1, 0, false, [1]));
  s.push(chunk(3, 0, false, [1]));
  s.push(chunk(1, 1, true, [1]));
  assert.equal(s.push(chunk(5, 0, true, [1]))?.id, 5);
});

Deno.test("Reassembler: total buffered bytes and per-stream size are bounded", () => {
  const r = new Reassembler({ maxPacketLen: 100, maxBufferedBytes: 150 });
  r.push(chunk(1, 0, false, new Uint8Array(80)));
  r.push(chunk(3, 0, false, new Uint8Array(70)));
  assert.equal(r.bufferedBytes, 150);
  assert.equal(
    code(() => r.push(chunk(5, 0, false, new Uint8Array(1)))),
    "limit_exceeded",
  );
  const p = new Reassembler({ maxPacketLen: 100 });
  p.push(chunk(1, 0, false, new Uint8Array(60)));
  assert.equal(
    code(() => p.push(chunk(1, 1, true, new Uint8Array(41)))),
    "packet_too_large",
  );
  const exact = new Reassembler({ maxPacketLen: 100 });
  exact.push(chunk(1, 0, false, new Uint8Array(60)));
  assert.equal(
    exact.push(chunk(1, 1, true, new Uint8Array(40)))?.data.length,
    100,
  );
  exact.push(chunk(1, 0, false, new Uint8Array(5)));
  exact.clear();
  assert.equal(exact.streamCount, 0);
  assert.equal(exact.bufferedBytes, 0);
  assert.throws(() => new Reassembler({ maxPacketLen: -1 }), RangeError);
});

Deno.test("Reassembler: bigint ids are distinct streams", () => {
  const r = new Reassembler({ maxPacketLen: 10 });
  r.push(chunk(2n ** 60n, 0, false, [1]));
  r.push(chunk(2n ** 60n + 2n, 0, false, [2]));
  assert.deepEqual(
    r.push(chunk(2n ** 60n, 1, true, [3]))?.data,
    Uint8Array.of(1, 3),
  );
});
