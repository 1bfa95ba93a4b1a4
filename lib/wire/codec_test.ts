import assert from "node:assert/strict";
import {
  decodeRpcPayload,
  decodeWireFrame,
  encodeRpcPayload,
  encodeWireFrame,
} from "./codec.ts";
import {
  isProtocolError,
  LimitExceededError,
  ProtocolError,
} from "./errors.ts";
import { MAX_FILE_TEXT_BYTES, MAX_MESSAGE_BYTES } from "./limits.ts";
import type { RpcPayload, WireFrame, WorkerHello } from "./types.ts";
import { bytesToHex, hexToBytes, type JsonValue } from "./wire_json.ts";
import { plainEncode } from "../testing/plain_cbor.ts";

/**
 * Encodes a message with the independent plain encoder, which (unlike the
 * codec's encoder) writes texts over their field caps: decoder-limit input.
 */
function unchecked(message: RpcPayload | WireFrame): Uint8Array {
  return plainEncode(message as unknown as JsonValue);
}

/** Hex of a CBOR text string (ASCII, < 24 bytes). */
function t(s: string): string {
  return (0x60 | s.length).toString(16) +
    bytesToHex(new TextEncoder().encode(s));
}

function throwsCode(fn: () => unknown, code: string): ProtocolError {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof ProtocolError, `not a ProtocolError: ${err}`);
    assert.equal(err.code, code, err.message);
    return err;
  }
  assert.fail(`expected ${code}`);
}

const packet = (id: number | bigint): WireFrame => ({
  type: "packet",
  body: { id, compression: "none", data: new Uint8Array([1, 2, 3]) },
});

Deno.test("u64 fields round-trip the full range in normal form", () => {
  const cases: [number | bigint, string, number | bigint][] = [
    [0, "00", 0],
    [23, "17", 23],
    [24, "1818", 24],
    [255, "18ff", 255],
    [256, "190100", 256],
    [65535, "19ffff", 65535],
    [65536, "1a00010000", 65536],
    [0xffff_ffff, "1affffffff", 0xffff_ffff],
    [0x1_0000_0000, "1b0000000100000000", 0x1_0000_0000],
    [Number.MAX_SAFE_INTEGER, "1b001fffffffffffff", Number.MAX_SAFE_INTEGER],
    [2n ** 53n, "1b0020000000000000", 2n ** 53n],
    [2n ** 64n - 1n, "1bffffffffffffffff", 2n ** 64n - 1n],
    // A small bigint is accepted by the encoder and decodes as a number.
    [7n, "07", 7],
  ];
  for (const [input, head, decoded] of cases) {
    const bytes = encodeWireFrame(packet(input));
    assert.ok(bytesToHex(bytes).includes(`626964${head}6b`), `id ${input}`);
    const frame = decodeWireFrame(bytes);
    assert.equal(frame.type, "packet");
    if (frame.type === "packet") assert.strictEqual(frame.body.id, decoded);
  }
});

Deno.test("encoder rejects values it cannot encode with encode_failed", () => {
  for (const id of [-1, 1.5, 2 ** 53, NaN, Infinity, -1n, 2n ** 64n]) {
    throwsCode(() => encodeWireFrame(packet(id)), "encode_failed");
  }
  const stats = (shard: number): RpcPayload => ({
    type: "response",
    body: {
      status: "ok",
      value: {
        type: "worker_stats",
        body: {
          shard_id: shard,
          revision: 0,
          index_generation: 0,
          file_count: 0,
        },
      },
    },
  });
  encodeRpcPayload(stats(0xffff_ffff));
  for (const bad of [-1, 0x1_0000_0000, 0.5]) {
    throwsCode(() => encodeRpcPayload(stats(bad)), "encode_failed");
  }
  throwsCode(
    () => encodeRpcPayload({ type: "mystery" } as unknown as RpcPayload),
    "encode_failed",
  );
  throwsCode(
    () =>
      encodeWireFrame({
        type: "packet",
        body: { id: 1, compression: "lz4", data: new Uint8Array() },
      } as unknown as WireFrame),
    "encode_failed",
  );
  throwsCode(
    () =>
      encodeRpcPayload({
        type: "request",
        body: { type: "diagnostics", path: "bad\ud800surrogate" },
      }),
    "encode_failed",
  );
  throwsCode(
    () => encodeWireFrame(null as unknown as WireFrame),
    "encode_failed",
  );
});

Deno.test("text encodes with the shortest head, matching the plain encoding", () => {
  for (
    const s of [
      "",
      "a",
      "é".repeat(11),
      "é".repeat(12),
      "€".repeat(85),
      "€".repeat(86),
      "a".repeat(65535),
      "a".repeat(65536),
      "😀".repeat(20000),
    ]
  ) {
    const payload: RpcPayload = {
      type: "request",
      body: { type: "update_file", revision: 1, file: { path: "p", text: s } },
    };
    const bytes = encodeRpcPayload(payload);
    assert.equal(bytesToHex(bytes), bytesToHex(plainEncode(payload as never)));
    assert.deepStrictEqual(decodeRpcPayload(bytes), payload);
  }
});

Deno.test("decoders reject non-Uint8Array input with TypeError", () => {
  assert.throws(
    () => decodeWireFrame("a0" as unknown as Uint8Array),
    TypeError,
  );
  assert.throws(() => decodeRpcPayload([] as unknown as Uint8Array), TypeError);
});

Deno.test("decoded byte strings are views of the input (no copy)", () => {
  const bytes = encodeWireFrame(packet(1));
  const frame = decodeWireFrame(bytes);
  assert.ok(frame.type === "packet");
  assert.deepEqual([...frame.body.data], [1, 2, 3]);
  assert.equal(frame.body.data.buffer, bytes.buffer);
  bytes.fill(0);
  assert.deepEqual([...frame.body.data], [0, 0, 0]);
});

Deno.test("inputs over 64 MiB are rejected before anything else", () => {
  const big = new Uint8Array(MAX_MESSAGE_BYTES + 1);
  const a = throwsCode(() => decodeWireFrame(big), "frame_too_large");
  assert.ok(
    a instanceof LimitExceededError && a.actual === MAX_MESSAGE_BYTES + 1,
  );
  throwsCode(() => decodeRpcPayload(big), "packet_too_large");
});

/** A LoadFiles request payload with one file of `n` bytes of text. */
function loadFiles(n: number): RpcPayload {
  return {
    type: "request",
    body: {
      type: "load_files",
      revision: 1,
      files: [{ path: "a", text: "x".repeat(n) }],
    },
  };
}

Deno.test("D70-D73: 8 MiB text is accepted, 8 MiB + 1 is rejected", () => {
  const ok = decodeRpcPayload(encodeRpcPayload(loadFiles(MAX_FILE_TEXT_BYTES)));
  assert.ok(ok.type === "request" && ok.body.type === "load_files");
  assert.equal(ok.body.files[0].text.length, MAX_FILE_TEXT_BYTES);
  const tooLong = loadFiles(MAX_FILE_TEXT_BYTES + 1);
  throwsCode(() => decodeRpcPayload(unchecked(tooLong)), "limit_exceeded");
  // The encoder refuses what the decoder would (see encode_caps_test.ts).
  throwsCode(() => encodeRpcPayload(tooLong), "encode_failed");
  const update = unchecked({
    type: "request",
    body: {
      type: "update_file",
      revision: 1,
      file: { path: "a", text: "x".repeat(MAX_FILE_TEXT_BYTES + 1) },
    },
  });
  throwsCode(() => decodeRpcPayload(update), "limit_exceeded");
  const any = plainEncode({ whatever: "x".repeat(MAX_FILE_TEXT_BYTES + 1) });
  throwsCode(() => decodeRpcPayload(any), "limit_exceeded");
});

Deno.test("D67-D69, D74-D76: 16 KiB small-string limits", () => {
  const index = (name: string): RpcPayload => ({
    type: "response",
    body: {
      status: "ok",
      value: {
        type: "shard_index",
        body: {
          shard_id: 1,
          revision: 2,
          index_generation: 3,
          symbols: [{ name, path: "Foo.java", line: 0, column: 0 }],
        },
      },
    },
  });
  decodeRpcPayload(encodeRpcPayload(index("a".repeat(16_384))));
  throwsCode(
    () => decodeRpcPayload(unchecked(index("a".repeat(16_385)))),
    "limit_exceeded",
  );
  const path = (n: number): RpcPayload => ({
    type: "request",
    body: {
      type: "load_files",
      revision: 1,
      files: [{ path: "a".repeat(n), text: "x" }],
    },
  });
  decodeRpcPayload(encodeRpcPayload(path(16_384)));
  throwsCode(() => decodeRpcPayload(unchecked(path(16_385))), "limit_exceeded");
  const hello = (
    field: "auth_token" | "worker_build",
    n: number,
  ): WireFrame => {
    const body: WorkerHello = {
      shard_id: 7,
      auth_token: null,
      supported_versions: {
        min: { major: 3, minor: 0 },
        max: { major: 3, minor: 0 },
      },
      capabilities: {
        max_frame_len: 65536,
        max_packet_len: 8388608,
        supported_compression: ["none"],
        supports_cancel: true,
        supports_chunking: true,
      },
      cached_index_info: null,
      worker_build: null,
    };
    body[field] = "a".repeat(n);
    return { type: "hello", body };
  };
  for (const field of ["auth_token", "worker_build"] as const) {
    decodeWireFrame(encodeWireFrame(hello(field, 16_384)));
    throwsCode(
      () => decodeWireFrame(unchecked(hello(field, 16_385))),
      "limit_exceeded",
    );
  }
});

Deno.test("D82/D83: maps of 1024 pairs pass, 1025 fail", () => {
  const map = (pairs: number) => {
    const obj: Record<string, null | string> = { type: "mystery" };
    for (let i = 0; i < pairs - 1; i++) {
      obj[`k${String(i).padStart(4, "0")}`] = null;
    }
    return plainEncode(obj);
  };
  assert.deepEqual(decodeWireFrame(map(1024)), { type: "unknown" });
  throwsCode(() => decodeWireFrame(map(1025)), "limit_exceeded");
});

Deno.test("unknown keys are ignored at every level, with any CBOR value", () => {
  // Packet with an extra body key holding a nested map, a tag, a float, an
  // indefinite array, a negative integer and a byte string, and a root extra key.
  const hex = "a3" + "6474797065" + "667061636b6574" + "64626f6479" + "a4" +
    "626964" + "01" + "6b636f6d7072657373696f6e" + "646e6f6e65" + "6464617461" +
    "43010203" +
    "6178" + "85" + "a1617a9f00ff" + "c11a00000001" + "fb3ff0000000000000" +
    "3bffffffffffffffff" + "5f4101ff" +
    t("extra") + "f7";
  const frame = decodeWireFrame(hexToBytes(hex));
  assert.deepEqual(frame, packet(1));
});

Deno.test("ignored values are still checked for UTF-8 and simple values", () => {
  const base = "a3" + "6474797065" + "667061636b6574" + "64626f6479" +
    "a3" + "626964" + "01" + "6b636f6d7072657373696f6e" + "646e6f6e65" +
    "6464617461" + "40" + "627a7a";
  throwsCode(
    () => decodeWireFrame(hexToBytes(base + "62c328")),
    "cbor_invalid",
  );
  throwsCode(() => decodeWireFrame(hexToBytes(base + "e0")), "cbor_invalid");
  throwsCode(() => decodeWireFrame(hexToBytes(base + "f820")), "cbor_invalid");
  assert.deepEqual(decodeWireFrame(hexToBytes(base + "62c3a9")).type, "packet");
});

Deno.test("invalid UTF-8 in decoded text is cbor_invalid (short and long strings)", () => {
  const reject = (message: Uint8Array) => {
    const head = message.length < 24
      ? [0x60 | message.length]
      : [0x79, message.length >> 8, message.length & 0xff];
    return hexToBytes(
      "a264747970656672656a65637464626f6479a264636f646568696e7465726e616c676d657373616765" +
        bytesToHex(new Uint8Array(head)) + bytesToHex(message),
    );
  };
  for (
    const bad of [[0xff], [0xc0, 0x80], [0xed, 0xa0, 0x80], [
      0xf4,
      0x90,
      0x80,
      0x80,
    ], [0xe2, 0x82]]
  ) {
    throwsCode(
      () => decodeWireFrame(reject(new Uint8Array(bad))),
      "cbor_invalid",
    );
    const long = new Uint8Array(300).fill(0x61);
    long.set(bad, 150);
    throwsCode(() => decodeWireFrame(reject(long)), "cbor_invalid");
  }
  // A genuine U+FFFD in a long string is fine.
  const fffd = new TextEncoder().encode(
    "x".repeat(100) + "\ufffd" + "y".repeat(100),
  );
  const frame = decodeWireFrame(reject(fffd));
  assert.ok(frame.type === "reject" && frame.body.message.includes("\ufffd"));
});

Deno.test("adjacent enums: unknown variants with any body decode to unknown (spec over reference)", () => {
  assert.deepEqual(
    decodeWireFrame(plainEncode({ type: "mystery", body: { x: [1, 2] } })),
    { type: "unknown" },
  );
  assert.deepEqual(
    decodeWireFrame(plainEncode({ body: "text", type: "mystery" })),
    { type: "unknown" },
  );
  assert.deepEqual(
    decodeRpcPayload(plainEncode({ type: "stream", body: null })),
    { type: "unknown" },
  );
  // Known unit variants still reject a non-null body.
  throwsCode(
    () => decodeRpcPayload(plainEncode({ type: "cancel", body: 0 })),
    "schema_mismatch",
  );
  assert.deepEqual(
    decodeRpcPayload(
      plainEncode({ body: null, type: "cancel", zz: { body: 1 } }),
    ),
    { type: "cancel" },
  );
});

Deno.test("duplicate keys are rejected wherever a known key repeats", () => {
  const ack = "a1" + t("type") + t("ack");
  const cases = [
    // Duplicate "body" on a unit variant.
    "a3" + t("type") + t("cancel") + t("body") + "f6" + t("body") + "f6",
    // Duplicate "status" (internally tagged, tag first).
    "a2" + t("type") + t("response") + t("body") +
    "a3" + t("status") + t("ok") + t("status") + t("ok") + t("value") + ack,
    // Duplicate "type" in a Request whose tag is not first.
    "a2" + t("type") + t("request") + t("body") +
    "a3" + t("path") + t("A.java") + t("type") + t("diagnostics") + t("type") +
    t("shutdown"),
    // Duplicate Symbol "line".
    "a2" + t("type") + t("response") + t("body") +
    "a2" + t("status") + t("ok") + t("value") +
    "a2" + t("type") + t("shard_index") + t("body") +
    "a4" + t("shard_id") + "01" + t("revision") + "02" + t("index_generation") +
    "03" +
    t("symbols") + "81" + "a4" + t("name") + t("F") + t("path") + t("F") +
    t("line") + "00" +
    t("line") + "01",
  ];
  for (const hex of cases) {
    throwsCode(() => decodeRpcPayload(hexToBytes(hex)), "duplicate_key");
  }
  // Unknown keys may repeat (the reference ignores them entirely).
  assert.deepEqual(
    decodeRpcPayload(
      hexToBytes(
        "a3" + t("type") + t("cancel") + t("zz") + "01" + t("zz") + "02",
      ),
    ),
    { type: "cancel" },
  );
});

Deno.test("internally tagged maps: the tag may appear anywhere", () => {
  const request = plainEncode({
    type: "request",
    body: {
      files: [{ text: "t", path: "p" }],
      revision: 9,
      extra: [1],
      type: "index_shard",
    },
  });
  assert.deepEqual(decodeRpcPayload(request), {
    type: "request",
    body: {
      type: "index_shard",
      revision: 9,
      files: [{ path: "p", text: "t" }],
    },
  });
  const result = plainEncode({
    type: "response",
    body: {
      error: { message: "m", code: "cancelled", retryable: true },
      status: "err",
    },
  });
  assert.deepEqual(decodeRpcPayload(result), {
    type: "response",
    body: {
      status: "err",
      error: {
        code: "cancelled",
        message: "m",
        retryable: true,
        details: null,
      },
    },
  });
});

Deno.test("every decode error is a ProtocolError marked remote", () => {
  for (
    const hex of ["", "ff", "a0", "a1647479706501", "a164747970656361636b00"]
  ) {
    try {
      decodeRpcPayload(hexToBytes(hex));
      assert.fail("expected an error");
    } catch (err) {
      assert.ok(isProtocolError(err) && err.remote, String(err));
    }
  }
});

function indexShard(texts: string[]): RpcPayload {
  return {
    type: "request",
    body: {
      type: "index_shard",
      revision: 1,
      files: texts.map((text, i) => ({ path: `/src/F${i}.java`, text })),
    },
  };
}

function indexOf(haystack: Uint8Array, needle: string, from = 0): number {
  const bytes = new TextEncoder().encode(needle);
  outer: for (let i = from; i <= haystack.length - bytes.length; i++) {
    for (let j = 0; j < bytes.length; j++) {
      if (haystack[i + j] !== bytes[j]) continue outer;
    }
    return i;
  }
  return -1;
}

Deno.test("file lists mixing ASCII and non-ASCII text decode exactly", () => {
  const texts = ["class A {}", "// café ☕ 𝄞", "", "x".repeat(3000), "ü"];
  const payload = indexShard(texts);
  assert.deepEqual(decodeRpcPayload(encodeRpcPayload(payload)), payload);
});

Deno.test("file lists larger than the reused decode buffer decode exactly", () => {
  const texts = ["a", "b", "c"].map((c) => c.repeat(3 * 1024 * 1024));
  const payload = indexShard(texts);
  assert.deepEqual(decodeRpcPayload(encodeRpcPayload(payload)), payload);
});

Deno.test("file lists: invalid UTF-8 is reported before a later duplicate key", () => {
  const bytes = encodeRpcPayload(indexShard(["class A {}", "class B {}"]));
  // Break the first file's text, then turn the second file's "text" key
  // into a second "path" key.
  bytes[indexOf(bytes, "class A")] = 0xff;
  const second = indexOf(bytes, "text", indexOf(bytes, "/src/F1.java"));
  bytes.set(new TextEncoder().encode("path"), second);
  throwsCode(() => decodeRpcPayload(bytes), "cbor_invalid");
});

Deno.test("decodeRpcPayload: shard_index paths that share a hash slot stay distinct", () => {
  // Same length and same trailing bytes (what the path interner hashes),
  // different first byte: the second must not get the first's string.
  const tail = "/com/example/m5/AccountAccount2040.java";
  const paths = [`a${tail}`, `b${tail}`, `a${tail}`, `b${tail}`, "Z.java"];
  const symbols = paths.map((path, i) => ({
    name: `S${i}`,
    path,
    line: i,
    column: 0,
  }));
  const payload: RpcPayload = {
    type: "response",
    body: {
      status: "ok",
      value: {
        type: "shard_index",
        body: { shard_id: 1, revision: 2, index_generation: 3, symbols },
      },
    },
  };
  const back = decodeRpcPayload(encodeRpcPayload(payload));
  assert.deepEqual(back, payload);
});
