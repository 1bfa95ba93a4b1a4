import assert from "node:assert/strict";
import fc from "fast-check";
import { allChunkings } from "../testing/split.ts";
import {
  decodeFrameHeader,
  encodeFrame,
  encodeFrameHeader,
  FRAME_HEADER_SIZE,
  FrameReader,
} from "./frame.ts";
import { isSeedError, SeedLimitError } from "./errors.ts";

function code(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (e) {
    return (e as { code?: string }).code;
  }
  return undefined;
}

Deno.test("header_layout_le: length LE at 0..4, priority at 4, type at 5, zeros at 6..8", () => {
  const h = encodeFrameHeader({ length: 0x01020304, priority: 2, type: 16 });
  assert.deepEqual([...h], [4, 3, 2, 1, 2, 16, 0, 0]);
  assert.deepEqual(decodeFrameHeader(h), {
    length: 0x01020304,
    priority: 2,
    type: 16,
  });
  const max = decodeFrameHeader(
    encodeFrameHeader({ length: 0xffff_ffff, priority: 0, type: 1 }),
  );
  assert.equal(max.length, 0xffff_ffff);
});

Deno.test("header_layout_le: non-zero reserved bytes, unknown priority or type are rejected", () => {
  for (const i of [6, 7]) {
    const h = encodeFrameHeader({ length: 1, priority: 0, type: 1 });
    h[i] = 1;
    assert.equal(code(() => decodeFrameHeader(h)), "bad_header");
  }
  const p = encodeFrameHeader({ length: 1, priority: 0, type: 1 });
  p[4] = 3;
  assert.equal(code(() => decodeFrameHeader(p)), "bad_header");
  for (const t of [0, 18, 255]) {
    const h = encodeFrameHeader({ length: 1, priority: 0, type: 1 });
    h[5] = t;
    assert.equal(code(() => decodeFrameHeader(h)), "bad_header");
  }
  assert.equal(code(() => decodeFrameHeader(new Uint8Array(4))), "malformed");
  assert.throws(
    () => encodeFrameHeader({ length: -1, priority: 0, type: 1 }),
    RangeError,
  );
});

Deno.test("frame_cap_pre_auth: an oversize declared length fails on the header alone", () => {
  const reader = new FrameReader(16 * 1024);
  reader.push(encodeFrameHeader({ length: 0xffff_fff0, priority: 1, type: 1 }));
  let err: unknown;
  try {
    reader.next();
  } catch (e) {
    err = e;
  }
  assert.ok(err instanceof SeedLimitError);
  assert.equal(err.code, "frame_too_large");
  assert.equal(err.limit, "maxFrameBytes");
  assert.equal(err.max, 16 * 1024);
  assert.equal(err.actual, 0xffff_fff0);
  // Nothing of the payload was buffered.
  assert.equal(reader.buffered, 0);
});

Deno.test("frame reader: the cap can be raised after authentication", () => {
  const reader = new FrameReader(4);
  reader.setMaxFrameBytes(100);
  reader.push(encodeFrame(16, 2, new Uint8Array(50)));
  assert.equal(reader.next()?.payload.length, 50);
  assert.equal(reader.maxFrameBytes, 100);
});

Deno.test("frame reader: whole, byte by byte and split at every offset", () => {
  const frames = [
    encodeFrame(11, 0, new Uint8Array([1, 2, 3])),
    encodeFrame(10, 1, new Uint8Array()),
    encodeFrame(16, 2, new Uint8Array(40).fill(9)),
  ];
  const stream = new Uint8Array(frames.reduce((n, f) => n + f.length, 0));
  let off = 0;
  for (const f of frames) {
    stream.set(f, off);
    off += f.length;
  }
  for (const { label, chunks } of allChunkings(stream)) {
    const reader = new FrameReader(1024);
    const got: number[][] = [];
    for (const c of chunks) {
      reader.push(c);
      for (let f = reader.next(); f !== undefined; f = reader.next()) {
        got.push([f.type, f.priority, f.payload.length]);
      }
    }
    assert.deepEqual(got, [[11, 0, 3], [10, 1, 0], [16, 2, 40]], label);
    assert.equal(reader.buffered, 0, label);
  }
});

Deno.test("frame reader: property: any frames round-trip under any chunking", () => {
  fc.assert(
    fc.property(
      fc.array(
        fc.record({
          type: fc.integer({ min: 1, max: 17 }),
          priority: fc.constantFrom(0, 1, 2) as fc.Arbitrary<0 | 1 | 2>,
          payload: fc.uint8Array({ maxLength: 64 }),
        }),
        { maxLength: 5 },
      ),
      fc.array(fc.integer({ min: 1, max: 7 }), { minLength: 1, maxLength: 8 }),
      (frames, cuts) => {
        const bytes = frames.map((f) =>
          encodeFrame(f.type, f.priority, f.payload)
        );
        const all = new Uint8Array(bytes.reduce((n, b) => n + b.length, 0));
        let o = 0;
        for (const b of bytes) {
          all.set(b, o);
          o += b.length;
        }
        const reader = new FrameReader(64);
        const got: typeof frames = [];
        let pos = 0;
        let i = 0;
        while (pos < all.length) {
          const n = cuts[i++ % cuts.length];
          reader.push(all.subarray(pos, pos + n));
          pos += n;
          for (let f = reader.next(); f !== undefined; f = reader.next()) {
            got.push({
              type: f.type,
              priority: f.priority,
              payload: new Uint8Array(f.payload),
            });
          }
        }
        const plain = (l: typeof frames) =>
          l.map((f) => [f.type, f.priority, [...f.payload]]);
        assert.deepEqual(plain(got), plain(frames));
      },
    ),
  );
});

Deno.test("frame reader: a garbage header is bad_header, not a crash", () => {
  const reader = new FrameReader(1024);
  reader.push(new Uint8Array(FRAME_HEADER_SIZE).fill(0xff));
  let err: unknown;
  try {
    reader.next();
  } catch (e) {
    err = e;
  }
  assert.ok(isSeedError(err, "bad_header"));
});
