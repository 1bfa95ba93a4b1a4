/**
 * Long fuzz run of the codec: arbitrary and mutated bytes must decode to a
 * value or throw a ProtocolError, never anything else; valid values must
 * round-trip. `deno task fuzz [runs]` (default 1,000,000 per property).
 *
 * @module
 */

import fc from "fast-check";
import {
  decodeRpcPayload,
  decodeWireFrame,
  encodeRpcPayload,
  encodeWireFrame,
} from "../lib/wire/codec.ts";
import { ProtocolError } from "../lib/wire/errors.ts";
import { FrameDecoder } from "../lib/wire/frame.ts";
import { rpcPayloadArb, wireFrameArb } from "../lib/testing/arbitraries.ts";

const runs = Number(Deno.args[0] ?? 1_000_000);
if (!Number.isSafeInteger(runs) || runs <= 0) {
  console.error("usage: deno task fuzz [runs]");
  Deno.exit(2);
}

function tolerant(fn: () => unknown): void {
  try {
    fn();
  } catch (err) {
    if (!(err instanceof ProtocolError)) throw err;
  }
}

function decodeAll(bytes: Uint8Array): void {
  tolerant(() => decodeWireFrame(bytes));
  tolerant(() => decodeRpcPayload(bytes));
  tolerant(() => {
    const decoder = new FrameDecoder({ maxFrameLen: 1 << 20 });
    decoder.push(bytes);
    for (let f = decoder.next(); f !== undefined; f = decoder.next()) {
      tolerant(() => decodeWireFrame(f));
    }
    decoder.end();
  });
}

const significant = fc.constantFrom(
  0x00,
  0x18,
  0x1b,
  0x1f,
  0x20,
  0x3b,
  0x40,
  0x5a,
  0x5f,
  0x60,
  0x61,
  0x64,
  0x7a,
  0x7f,
  0x80,
  0x81,
  0x9a,
  0x9f,
  0xa0,
  0xa1,
  0xa2,
  0xbf,
  0xc1,
  0xd8,
  0xf4,
  0xf5,
  0xf6,
  0xf7,
  0xf8,
  0xf9,
  0xfb,
  0xfc,
  0xff,
);
const mutation = fc.tuple(
  fc.constantFrom("set", "insert", "delete", "truncate", "dup"),
  fc.nat(),
  fc.oneof(significant, fc.integer({ min: 0, max: 255 })),
);

function mutate(
  input: Uint8Array,
  list: [string, number, number][],
): Uint8Array {
  let bytes = Array.from(input);
  for (const [kind, n, value] of list) {
    const at = n % (bytes.length + 1);
    if (kind === "set" && at < bytes.length) bytes[at] = value;
    else if (kind === "insert") bytes.splice(at, 0, value);
    else if (kind === "delete") bytes.splice(at, 1);
    else if (kind === "truncate") bytes = bytes.slice(0, at);
    else if (kind === "dup") {
      bytes.splice(at, 0, ...bytes.slice(at, at + (value % 16)));
    }
  }
  return new Uint8Array(bytes);
}

const started = performance.now();
const seed = Date.now() | 0;
console.log(`fuzz: ${runs} runs per property, seed ${seed}`);

fc.assert(
  fc.property(
    fc.oneof(
      fc.uint8Array({ maxLength: 256 }),
      fc.array(fc.oneof(significant, fc.integer({ min: 0, max: 255 })), {
        maxLength: 256,
      })
        .map((a) => new Uint8Array(a)),
    ),
    decodeAll,
  ),
  { numRuns: runs, seed },
);
console.log(
  `random bytes done (${((performance.now() - started) / 1000).toFixed(1)} s)`,
);

const pool = [
  ...fc.sample(wireFrameArb.map(encodeWireFrame), { numRuns: 2000, seed }),
  ...fc.sample(rpcPayloadArb.map(encodeRpcPayload), {
    numRuns: 2000,
    seed: seed + 1,
  }),
].filter((b) => b.length < 8192);
fc.assert(
  fc.property(
    fc.constantFrom(...pool),
    fc.array(mutation, { minLength: 1, maxLength: 6 }),
    (bytes, list) => decodeAll(mutate(bytes, list)),
  ),
  { numRuns: runs, seed },
);
console.log(
  `mutated encodings done (${
    ((performance.now() - started) / 1000).toFixed(1)
  } s)`,
);

fc.assert(
  fc.property(fc.oneof(wireFrameArb, rpcPayloadArb), (value) => {
    const isFrame = ["hello", "welcome", "reject", "packet", "packet_chunk"]
      .includes(value.type);
    const bytes = isFrame
      ? encodeWireFrame(value as Parameters<typeof encodeWireFrame>[0])
      : encodeRpcPayload(value as Parameters<typeof encodeRpcPayload>[0]);
    const back = isFrame ? decodeWireFrame(bytes) : decodeRpcPayload(bytes);
    const again = isFrame
      ? encodeWireFrame(back as Parameters<typeof encodeWireFrame>[0])
      : encodeRpcPayload(back as Parameters<typeof encodeRpcPayload>[0]);
    if (again.length !== bytes.length || again.some((b, i) => b !== bytes[i])) {
      throw new Error("round trip changed the encoding");
    }
  }),
  { numRuns: Math.max(1, Math.floor(runs / 10)), seed },
);
console.log(
  `fuzz: all properties held (${
    ((performance.now() - started) / 1000).toFixed(1)
  } s)`,
);
