import assert from "node:assert/strict";
import { preflight } from "./preflight.ts";
import {
  isProtocolError,
  LimitExceededError,
  ProtocolError,
} from "./errors.ts";
import { decodeWireFrame } from "./codec.ts";
import { hexToBytes } from "./wire_json.ts";
import { resolvePreflightLimits } from "./limits.ts";

function bytes(
  ...parts: (number | number[] | Uint8Array | string)[]
): Uint8Array {
  const out: number[] = [];
  for (const p of parts) {
    if (typeof p === "number") out.push(p);
    else if (typeof p === "string") out.push(...hexToBytes(p));
    else for (const b of p) out.push(b);
  }
  return new Uint8Array(out);
}

/** A text string head + ASCII bytes. */
function text(s: string): number[] {
  const b = Array.from(new TextEncoder().encode(s));
  return [...head(3, b.length), ...b];
}

function head(major: number, n: number): number[] {
  const m = major << 5;
  if (n < 24) return [m | n];
  if (n < 0x100) return [m | 24, n];
  if (n < 0x10000) return [m | 25, n >> 8, n & 0xff];
  if (n < 0x1_0000_0000) {
    return [
      m | 26,
      (n >>> 24) & 0xff,
      (n >>> 16) & 0xff,
      (n >>> 8) & 0xff,
      n & 0xff,
    ];
  }
  const hi = Math.floor(n / 0x1_0000_0000);
  const lo = n >>> 0;
  return [
    m | 27,
    ...[hi >>> 24, (hi >>> 16) & 0xff, (hi >>> 8) & 0xff, hi & 0xff],
    ...[lo >>> 24, (lo >>> 16) & 0xff, (lo >>> 8) & 0xff, lo & 0xff],
  ];
}

function rejects(input: Uint8Array, code?: string): ProtocolError {
  try {
    preflight(input);
  } catch (err) {
    assert.ok(err instanceof ProtocolError, `not a ProtocolError: ${err}`);
    if (code !== undefined) assert.equal(err.code, code);
    return err;
  }
  assert.fail("expected a rejection");
}

const repeat = (b: number, n: number): number[] => new Array(n).fill(b);

// The validator-only probes of the reference (digest §9.5), by label.
const OK_PROBES: Record<string, Uint8Array> = {
  nested_arrays_63_then_uint: bytes(repeat(0x81, 63), 0),
  nested_arrays_64_then_uint: bytes(repeat(0x81, 64), 0),
  nested_arrays_64_innermost_empty: bytes(repeat(0x81, 63), 0x80),
  nested_arrays_65_innermost_empty: bytes(repeat(0x81, 64), 0x80),
  nested_tags_64: bytes(repeat(0xc1, 64), 0),
  nested_indef_arrays_64: bytes(repeat(0x9f, 64), 0, repeat(0xff, 64)),
  simple_ai24: bytes("f810"),
  float16: bytes("f93c00"),
  float32: bytes("fa3f800000"),
  float64: bytes("fb3ff0000000000000"),
  undefined: bytes("f7"),
  neg_ai27: bytes("3bffffffffffffffff"),
  text_invalid_utf8_value: bytes("62fffe"),
  indef_text_ok: bytes("7f616161", "62ff"),
  nested_array_inside_data_ok: bytes(
    0xa1,
    text("data"),
    0x81,
    0xa1,
    text("x"),
    0x82,
    0,
    0,
  ),
  plain_nested_array_min1: bytes(
    0xa1,
    text("other"),
    0x81,
    0xa1,
    text("xxxxxxxxxx"),
    0x82,
    0,
    0,
  ),
};

const ERR_PROBES: Record<string, [Uint8Array, string]> = {
  nested_arrays_65_then_uint: [bytes(repeat(0x81, 65), 0), "limit_exceeded"],
  nested_arrays_66_then_uint: [bytes(repeat(0x81, 66), 0), "limit_exceeded"],
  nested_arrays_66_innermost_empty: [
    bytes(repeat(0x81, 65), 0x80),
    "limit_exceeded",
  ],
  nested_tags_65: [bytes(repeat(0xc1, 65), 0), "limit_exceeded"],
  nested_indef_arrays_65: [
    bytes(repeat(0x9f, 65), 0, repeat(0xff, 65)),
    "limit_exceeded",
  ],
  top_level_break: [bytes("ff"), "cbor_invalid"],
  simple_ai28: [bytes("fc"), "cbor_invalid"],
  uint_ai28: [bytes("1c"), "cbor_invalid"],
  uint_indef: [bytes("1f"), "cbor_invalid"],
  tag_ai31: [bytes("df00"), "cbor_invalid"],
  bytes_len_exceeds_remaining: [bytes("430102"), "unexpected_eof"],
  array_1_remaining_0: [bytes("81"), "limit_exceeded"],
  map_len_times2_exceeds: [bytes("a2616100"), "limit_exceeded"],
  indef_text_mixed_chunk: [bytes("7f4161ff"), "cbor_invalid"],
  indef_text_nested_indef: [bytes("7f7fffff"), "cbor_invalid"],
  indef_map_unterminated: [bytes("bf"), "unexpected_eof"],
  key_indef_text: [bytes("a17f6161ff00"), "schema_mismatch"],
  key_invalid_utf8: [bytes("a161ff00"), "cbor_invalid"],
  files_array2_15_remaining: [
    bytes(0xa1, text("files"), 0x82, repeat(0xa0, 15)),
    "limit_exceeded",
  ],
  files_array2_16_remaining_trailing: [
    bytes(0xa1, text("files"), 0x82, repeat(0xa0, 16)),
    "trailing_bytes",
  ],
  nested_array_inside_symbols_2_items_2_bytes: [
    bytes(0xa1, text("symbols"), 0x81, 0xa1, text("x"), 0x82, 0, 0),
    "limit_exceeded",
  ],
  files_array_100001: [
    bytes(0xa1, text("files"), head(4, 100_001)),
    "limit_exceeded",
  ],
  symbols_array_1000001: [
    bytes(0xa1, text("symbols"), head(4, 1_000_001)),
    "limit_exceeded",
  ],
  plain_array_1000001: [
    bytes(0xa1, text("other"), head(4, 1_000_001)),
    "limit_exceeded",
  ],
  data_array_2000000_declared: [
    bytes(0xa1, text("data"), head(4, 2_000_000)),
    "limit_exceeded",
  ],
  items_array_10001: [
    bytes(0xa1, text("items"), head(4, 10_001)),
    "limit_exceeded",
  ],
  diagnostics_array_100001: [
    bytes(0xa1, text("diagnostics"), head(4, 100_001)),
    "limit_exceeded",
  ],
  query_16k_plus_1: [
    bytes(0xa1, text("query"), text("q".repeat(16_385))),
    "limit_exceeded",
  ],
  message_16k_plus_1: [
    bytes(0xa1, text("message"), text("m".repeat(16_385))),
    "limit_exceeded",
  ],
  details_16k_plus_1: [
    bytes(0xa1, text("details"), text("d".repeat(16_385))),
    "limit_exceeded",
  ],
  compression_65: [
    bytes(0xa1, text("compression"), text("c".repeat(65))),
    "limit_exceeded",
  ],
  symbols_inherited_min8_nested_array: [
    bytes(0xa1, text("symbols"), 0x81, 0xa1, text("xxxxxxxxxx"), 0x82, 0, 0),
    "limit_exceeded",
  ],
  empty_input: [bytes(), "unexpected_eof"],
  int_map_key: [bytes("a101f6"), "schema_mismatch"],
  bytes_map_key: [bytes("a14161f6"), "schema_mismatch"],
  map_key_65: [bytes(0xa1, text("k".repeat(65)), 0xf6), "limit_exceeded"],
  truncated_u64: [bytes("1b0000"), "unexpected_eof"],
  truncated_float: [bytes("fb3ff0"), "unexpected_eof"],
  indef_bytes_unterminated: [bytes("5f4101"), "unexpected_eof"],
  indef_array_unterminated: [bytes("9f00"), "unexpected_eof"],
  stray_break_in_array: [bytes("82ff00"), "cbor_invalid"],
  break_as_map_key: [bytes("a1ff00"), "schema_mismatch"],
  text_ai28: [bytes("7c"), "cbor_invalid"],
  tag_then_nothing: [bytes("c1"), "unexpected_eof"],
};

for (const [label, input] of Object.entries(OK_PROBES)) {
  Deno.test(`preflight accepts ${label}`, () => {
    preflight(input);
  });
}

for (const [label, [input, code]] of Object.entries(ERR_PROBES)) {
  Deno.test(`preflight rejects ${label} (${code})`, () => {
    rejects(input, code);
  });
}

Deno.test("preflight: key-driven limits are inherited and overridden", () => {
  // "path" under "files" keeps the 16 KiB limit...
  const path = (n: number) =>
    bytes(0xa1, text("files"), 0x81, 0xa1, text("path"), text("p".repeat(n)));
  preflight(path(16_384));
  rejects(path(16_385), "limit_exceeded");
  // ...a plain key inherits the 8 MiB default text limit...
  preflight(bytes(0xa1, text("other"), text("x".repeat(16_385))));
  // ...and a special key below another resets only its own limits.
  preflight(
    bytes(0xa1, text("type"), 0xa1, text("path"), text("p".repeat(100))),
  );
  rejects(
    bytes(0xa1, text("type"), 0xa1, text("x"), text("p".repeat(65))),
    "limit_exceeded",
  );
  // supported_compression: at most 32 entries.
  preflight(
    bytes(0xa1, text("supported_compression"), head(4, 32), repeat(0xf6, 32)),
  );
  rejects(
    bytes(0xa1, text("supported_compression"), head(4, 33), repeat(0xf6, 33)),
    "limit_exceeded",
  );
});

Deno.test("preflight: indefinite maps and arrays count their entries", () => {
  const pairs: number[] = [];
  for (let i = 0; i < 1025; i++) pairs.push(...text(`k${i}`), 0xf6);
  rejects(bytes(0xbf, pairs, 0xff), "limit_exceeded");
  const ok: number[] = [];
  for (let i = 0; i < 1024; i++) ok.push(...text(`k${i}`), 0xf6);
  preflight(bytes(0xbf, ok, 0xff));
  rejects(
    bytes(0xa1, text("supported_compression"), 0x9f, repeat(0xf6, 33), 0xff),
    "limit_exceeded",
  );
});

Deno.test("preflight: a 4 GiB declared length in a ~60-byte input is a LimitExceededError", () => {
  const input = hexToBytes(
    "a26474797065667061636b657464626f6479a3626964016b636f6d7072657373696f6e646e6f6e656464617461" +
      "5affffffff",
  );
  assert.ok(input.length < 64);
  const err = rejects(input, "limit_exceeded");
  assert.ok(err instanceof LimitExceededError);
  assert.equal(err.actual, 0xffff_ffff);
  assert.throws(
    () => decodeWireFrame(input),
    (e) => isProtocolError(e, "limit_exceeded"),
  );
  // Declared lengths from 64 MiB + 1 up to u64::MAX with nothing following.
  for (
    const declared of [2 ** 26 + 1, 2 ** 32, 2 ** 40, 2 ** 53, 2 ** 64 - 1]
  ) {
    const tail = declared >= 2 ** 32
      ? [0x5b, ...repeat(0xff, 8)]
      : head(2, declared);
    const bomb = bytes(input.subarray(0, input.length - 5), tail);
    assert.throws(() => decodeWireFrame(bomb), (e) => isProtocolError(e));
  }
  // files declared as 9a ffffffff.
  rejects(
    bytes(0xa1, text("files"), 0x9a, 0xff, 0xff, 0xff, 0xff),
    "limit_exceeded",
  );
  // symbols: 1 000 000 declared with 1 000 000 zero bytes fails the 8-bytes-per-item rule.
  rejects(
    bytes(0xa1, text("symbols"), head(4, 1_000_000), new Uint8Array(1_000_000)),
    "limit_exceeded",
  );
});

function timeDecode(input: Uint8Array, iterations: number): number {
  const start = performance.now();
  for (let i = 0; i < iterations; i++) {
    try {
      decodeWireFrame(input);
    } catch (err) {
      if (!(err instanceof ProtocolError)) throw err;
    }
  }
  return performance.now() - start;
}

Deno.test("decode time stays flat as the declared length grows (allocation bomb)", () => {
  const prefix = hexToBytes(
    "a26474797065667061636b657464626f6479a3626964016b636f6d7072657373696f6e646e6f6e656464617461",
  );
  const lengths = [16, 1 << 16, 1 << 24, 2 ** 26, 2 ** 32 - 1, 2 ** 64 - 1];
  const inputs = lengths.map((n) =>
    bytes(prefix, n >= 2 ** 32 ? [0x5b, ...repeat(0xff, 8)] : head(2, n))
  );
  for (const input of inputs) {
    assert.throws(() => decodeWireFrame(input), ProtocolError);
  }
  const iterations = 3_000;
  for (const input of inputs) timeDecode(input, 1_000); // warm up
  // Take the best of a few rounds for each input to shrug off scheduler noise.
  const best = inputs.map((input) => {
    let min = Infinity;
    for (let round = 0; round < 5; round++) {
      min = Math.min(min, timeDecode(input, iterations));
    }
    return min;
  });
  const smallest = best[0];
  for (let i = 1; i < best.length; i++) {
    assert.ok(
      best[i] <= Math.max(smallest * 10, 20),
      `declared ${lengths[i]} took ${best[i].toFixed(1)} ms vs ${
        smallest.toFixed(1)
      } ms`,
    );
  }
});

Deno.test("resolvePreflightLimits validates and a custom nesting limit applies", () => {
  assert.throws(() => resolvePreflightLimits({ maxNesting: -1 }), RangeError);
  assert.throws(() => resolvePreflightLimits({ maxKeyBytes: 1.5 }), RangeError);
  const limits = resolvePreflightLimits({ maxNesting: 2 });
  preflight(bytes(0x81, 0x81, 0), limits);
  assert.throws(
    () => preflight(bytes(0x81, 0x81, 0x81, 0), limits),
    LimitExceededError,
  );
  assert.throws(
    () =>
      preflight(
        new Uint8Array(10),
        resolvePreflightLimits({ maxInputBytes: 5 }),
      ),
    LimitExceededError,
  );
});
