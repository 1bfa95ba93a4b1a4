// The encoder refuses every text value the peer's preflight would refuse
// because of its per-field cap, so a round trip never fails on a cap.

import assert from "node:assert/strict";
import fc from "fast-check";
import {
  decodeRpcPayload,
  decodeWireFrame,
  encodeRpcPayload,
  encodeWireFrame,
} from "./codec.ts";
import { isProtocolError, LimitExceededError } from "./errors.ts";
import { MAX_FILE_TEXT_BYTES, MAX_SMALL_STRING_BYTES } from "./limits.ts";
import { FILE_TEXT_CAP, SMALL_TEXT_CAP, type TextCap } from "./_cbor_write.ts";
import { testHello } from "./session_test_util.ts";
import { createWorkerSession } from "./session.ts";
import { drainEvents, memoryPair } from "../testing/memory_pair.ts";
import type {
  RankedSymbol,
  RpcPayload,
  RpcResult,
  ShardIndex,
  Symbol,
  WireFrame,
} from "./types.ts";

/** One capped text field: how to put a value in a message and get it back. */
interface Field {
  name: string;
  cap: TextCap;
  encode(value: string): Uint8Array;
  decode(bytes: Uint8Array): string;
}

function frameField(
  name: string,
  build: (value: string) => WireFrame,
  pick: (frame: WireFrame) => string | null,
): Field {
  return {
    name,
    cap: SMALL_TEXT_CAP,
    encode: (value) => encodeWireFrame(build(value)),
    decode: (bytes) => pick(decodeWireFrame(bytes)) ?? "",
  };
}

function payloadField(
  name: string,
  cap: TextCap,
  build: (value: string) => RpcPayload,
  pick: (payload: RpcPayload) => string | null,
): Field {
  return {
    name,
    cap,
    encode: (value) => encodeRpcPayload(build(value)),
    decode: (bytes) => pick(decodeRpcPayload(bytes)) ?? "",
  };
}

// Loose views for picking a field back out of a decoded message.
// deno-lint-ignore no-explicit-any
type Loose = any;
const body = (frame: WireFrame): Loose => (frame as Loose).body;
const request = (p: RpcPayload): Loose => (p as Loose).body;
const okValue = (p: RpcPayload): Loose => (p as Loose).body.value.body;
const symbol = (name: string, path: string): Symbol => ({
  name,
  path,
  line: 1,
  column: 2,
});
const index = (s: Symbol): ShardIndex => ({
  shard_id: 1,
  revision: 2,
  index_generation: 3,
  symbols: [s],
});
const ok = (value: RpcResult): RpcPayload => ({
  type: "response",
  body: value,
});
/** A 3.1 `symbol_matches` answer holding one match. */
const matches = (match: RankedSymbol): RpcPayload =>
  ok({
    status: "ok",
    value: {
      type: "symbol_matches",
      body: {
        shard_id: 1,
        revision: 2,
        index_generation: 3,
        symbol_count: 1,
        mode: "all",
        hit: false,
        bucket: false,
        trigrams: [],
        matches: [match],
      },
    },
  });
const err = (message: string, details: string | null): RpcPayload =>
  ok({
    status: "err",
    error: { code: "internal", message, retryable: false, details },
  });

const SMALL = SMALL_TEXT_CAP;
const FILE = FILE_TEXT_CAP;

const FIELDS: Field[] = [
  frameField(
    "hello.auth_token",
    (v) => ({ type: "hello", body: testHello({ auth_token: v }) }),
    (f) => body(f).auth_token,
  ),
  frameField(
    "hello.worker_build",
    (v) => ({ type: "hello", body: testHello({ worker_build: v }) }),
    (f) => body(f).worker_build,
  ),
  frameField(
    "reject.message",
    (v) => ({ type: "reject", body: { code: "internal", message: v } }),
    (f) => body(f).message,
  ),
  payloadField(
    "load_files.files.path",
    SMALL,
    (v) => ({
      type: "request",
      body: { type: "load_files", revision: 1, files: [{ path: v, text: "" }] },
    }),
    (p) => request(p).files[0].path,
  ),
  payloadField(
    "index_shard.files.text",
    FILE,
    (v) => ({
      type: "request",
      body: {
        type: "index_shard",
        revision: 1,
        files: [{ path: "A", text: v }],
      },
    }),
    (p) => request(p).files[0].text,
  ),
  payloadField(
    "update_file.file.path",
    SMALL,
    (v) => ({
      type: "request",
      body: { type: "update_file", revision: 1, file: { path: v, text: "" } },
    }),
    (p) => request(p).file.path,
  ),
  payloadField(
    "update_file.file.text",
    FILE,
    (v) => ({
      type: "request",
      body: { type: "update_file", revision: 1, file: { path: "A", text: v } },
    }),
    (p) => request(p).file.text,
  ),
  payloadField(
    "diagnostics.path",
    SMALL,
    (v) => ({ type: "request", body: { type: "diagnostics", path: v } }),
    (p) => request(p).path,
  ),
  payloadField(
    "search_shard_symbols.query",
    SMALL,
    (v) => ({
      type: "request",
      body: { type: "search_shard_symbols", query: v, limit: 5 },
    }),
    (p) => request(p).query,
  ),
  payloadField(
    "shard_index.symbols.name",
    SMALL,
    (v) =>
      ok({
        status: "ok",
        value: { type: "shard_index", body: index(symbol(v, "A")) },
      }),
    (p) => okValue(p).symbols[0].name,
  ),
  payloadField(
    "shard_index.symbols.path",
    SMALL,
    (v) =>
      ok({
        status: "ok",
        value: { type: "shard_index", body: index(symbol("A", v)) },
      }),
    (p) => okValue(p).symbols[0].path,
  ),
  payloadField(
    "cached_index.symbols.name",
    SMALL,
    (v) => ({
      type: "notification",
      body: { type: "cached_index", body: index(symbol(v, "A")) },
    }),
    (p) => (p as Loose).body.body.symbols[0].name,
  ),
  payloadField(
    "diagnostics.diagnostics.message",
    SMALL,
    (v) =>
      ok({
        status: "ok",
        value: {
          type: "diagnostics",
          body: {
            diagnostics: [{
              severity: "error",
              line: 0,
              column: 0,
              message: v,
            }],
          },
        },
      }),
    (p) => okValue(p).diagnostics[0].message,
  ),
  payloadField(
    "symbol_matches.matches.name",
    SMALL,
    (v) => matches({ ...symbol(v, "A"), kind: "prefix", score: 1 }),
    (p) => okValue(p).matches[0].name,
  ),
  payloadField(
    "symbol_matches.matches.path",
    SMALL,
    (v) => matches({ ...symbol("A", v), kind: "fuzzy", score: -1 }),
    (p) => okValue(p).matches[0].path,
  ),
  payloadField(
    "error.message",
    SMALL,
    (v) => err(v, null),
    (p) => (p as Loose).body.error.message,
  ),
  payloadField(
    "error.details",
    SMALL,
    (v) => err("m", v),
    (p) => (p as Loose).body.error.details,
  ),
];

const utf8 = new TextEncoder();

function assertRoundTrip(field: Field, value: string): void {
  const bytes = field.encode(value);
  assert.ok(field.decode(bytes) === value, `${field.name}: round trip`);
}

function assertRefused(field: Field, value: string): void {
  const actual = utf8.encode(value).length;
  assert.throws(
    () => field.encode(value),
    (e: unknown) => {
      assert.ok(e instanceof LimitExceededError, `${field.name}: error type`);
      assert.equal(e.code, "encode_failed");
      assert.equal(e.limit, field.cap.limit);
      assert.equal(e.max, field.cap.max);
      assert.equal(e.actual, actual);
      assert.equal(e.remote, false);
      return true;
    },
  );
}

/** ASCII padding followed by `tail`, `bytes` UTF-8 bytes in all. */
function sized(bytes: number, tail = ""): string {
  return "a".repeat(bytes - utf8.encode(tail).length) + tail;
}

Deno.test("the caps are the decoder's limits", () => {
  assert.deepEqual({ ...SMALL_TEXT_CAP }, {
    limit: "max_small_string_bytes",
    max: MAX_SMALL_STRING_BYTES,
  });
  assert.deepEqual({ ...FILE_TEXT_CAP }, {
    limit: "max_file_text_bytes",
    max: MAX_FILE_TEXT_BYTES,
  });
});

Deno.test("a value exactly at its field's cap encodes and decodes", () => {
  for (const field of FIELDS) {
    const cap = field.cap.max;
    assertRoundTrip(field, sized(cap));
    assertRoundTrip(field, sized(cap, "é€😀"));
    assertRoundTrip(field, "😀".repeat(cap / 4));
    assertRoundTrip(field, "é".repeat(cap / 2));
  }
});

Deno.test("a value one byte over its field's cap is refused", () => {
  for (const field of FIELDS) {
    const cap = field.cap.max;
    assertRefused(field, sized(cap + 1)); // more UTF-16 units than the cap
    // Multi-byte characters straddling the boundary: no more units than
    // the cap, so only the written byte count can tell.
    assertRefused(field, sized(cap + 1, "é"));
    assertRefused(field, sized(cap + 1, "€"));
    assertRefused(field, sized(cap + 1, "😀"));
    assertRefused(field, sized(cap + 2, "😀é"));
    assertRefused(field, "é".repeat(cap / 2) + "a");
    assertRefused(field, "€".repeat(cap / 2)); // 1.5x the cap
    assertRefused(field, "😀".repeat(cap / 2 + 1)); // over in units too
  }
});

Deno.test("a lone surrogate in an oversized value is encode_failed", () => {
  const field = FIELDS.find((f) => f.name === "diagnostics.path")!;
  // Over the cap in UTF-16 units (the limit error), or within it (the
  // surrogate is found first): either way the encoder refuses it.
  for (const value of ["\ud800" + "a".repeat(20000), "\udc00".repeat(6000)]) {
    assert.throws(
      () => field.encode(value),
      (e: unknown) => isProtocolError(e, "encode_failed"),
    );
  }
});

const TAILS = fc.array(fc.constantFrom("a", "ß", "é", "€", "中", "😀", "𝄞"), {
  maxLength: 8,
}).map((chars) => chars.join(""));

Deno.test("property: encodes iff the UTF-8 length fits the field's cap", () => {
  const small = FIELDS.filter((f) => f.cap === SMALL_TEXT_CAP);
  const large = FIELDS.filter((f) => f.cap === FILE_TEXT_CAP);
  for (const [fields, numRuns] of [[small, 300], [large, 12]] as const) {
    fc.assert(
      fc.property(
        fc.constantFrom(...fields),
        fc.integer({ min: -6, max: 6 }),
        TAILS,
        (field, delta, tail) => {
          const value = sized(field.cap.max + delta, tail);
          if (delta <= 0) assertRoundTrip(field, value);
          else assertRefused(field, value);
        },
      ),
      { numRuns },
    );
  }
});

Deno.test("a worker with an oversized auth token fails before sending", () => {
  assert.throws(
    () =>
      createWorkerSession({
        hello: {
          shard_id: 7,
          auth_token: "t".repeat(MAX_SMALL_STRING_BYTES + 1),
        },
      }),
    (e: unknown) =>
      e instanceof LimitExceededError && e.code === "encode_failed" &&
      e.limit === "max_small_string_bytes",
  );
});

Deno.test("session: an oversized field throws and queues nothing", () => {
  const pair = memoryPair();
  pair.handshake();
  const { worker, router } = pair;
  assert.equal(router.pollTransmit(), undefined);
  assert.equal(worker.pollTransmit(), undefined);
  const isCapError = (limit: string) => (e: unknown) =>
    e instanceof LimitExceededError && e.code === "encode_failed" &&
    e.limit === limit;

  // call(): a file text over 8 MiB, a path over 16 KiB.
  assert.throws(
    () =>
      router.call({
        type: "load_files",
        revision: 1,
        files: [{ path: "A.java", text: sized(MAX_FILE_TEXT_BYTES + 1, "é") }],
      }),
    isCapError("max_file_text_bytes"),
  );
  assert.equal(router.pollTransmit(), undefined);
  assert.throws(
    () =>
      router.call({
        type: "diagnostics",
        path: sized(MAX_SMALL_STRING_BYTES + 1, "€"),
      }),
    isCapError("max_small_string_bytes"),
  );
  assert.equal(router.pollTransmit(), undefined);

  // notify(): a symbol name over 16 KiB.
  assert.throws(
    () =>
      worker.notify({
        type: "cached_index",
        body: index(symbol(sized(MAX_SMALL_STRING_BYTES + 1, "😀"), "A")),
      }),
    isCapError("max_small_string_bytes"),
  );
  assert.equal(worker.pollTransmit(), undefined);

  // respond(): refused, the request stays in flight and can still be answered.
  const id = router.call({ type: "get_worker_stats" });
  pair.pump();
  const [event] = drainEvents(worker);
  assert.ok(event.type === "request" && event.id === id);
  const tooLong = sized(MAX_SMALL_STRING_BYTES + 1);
  assert.throws(
    () =>
      worker.respond(id, {
        status: "err",
        error: {
          code: "internal",
          message: tooLong,
          retryable: false,
          details: null,
        },
      }),
    isCapError("max_small_string_bytes"),
  );
  assert.equal(worker.pollTransmit(), undefined);
  const message = sized(MAX_SMALL_STRING_BYTES, "é");
  worker.respond(id, {
    status: "err",
    error: { code: "internal", message, retryable: false, details: null },
  });
  pair.pump();
  const events = drainEvents(router);
  assert.equal(events.length, 1);
  const [response] = events;
  assert.ok(response.type === "response" && response.id === id);
  assert.ok(
    response.result.status === "err" &&
      response.result.error.message === message,
  );
  assert.ok(drainEvents(worker).every((e) => e.type !== "closed"));
});
