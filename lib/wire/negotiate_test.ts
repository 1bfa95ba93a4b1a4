import assert from "node:assert/strict";
import fc from "fast-check";
import {
  checkWelcome,
  chooseVersion,
  compareVersions,
  constantTimeEqual,
  evaluateHello,
  negotiateCapabilities,
  sanitizeCapabilities,
  sanitizeCompressionList,
  sanitizeErrorMessage,
} from "./negotiate.ts";
import { noCompression } from "./compression.ts";
import type { Capabilities, CompressionAlgo, WorkerHello } from "./types.ts";

const ZSTD = {
  algorithms: ["zstd" as const],
  compress: (_a: CompressionAlgo, d: Uint8Array) => d,
  decompress: (_a: CompressionAlgo, d: Uint8Array) => d,
};

const CAPS: Capabilities = {
  max_frame_len: 65536,
  max_packet_len: 8388608,
  supported_compression: ["none"],
  supports_cancel: true,
  supports_chunking: true,
};
const V30 = { major: 3, minor: 0 };

function hello(overrides: Partial<WorkerHello> = {}): WorkerHello {
  return {
    shard_id: 7,
    auth_token: null,
    supported_versions: { min: V30, max: V30 },
    capabilities: { ...CAPS },
    cached_index_info: null,
    worker_build: null,
    ...overrides,
  };
}

Deno.test("sanitizeCompressionList drops unknown/unsupported, dedups, appends none", () => {
  assert.deepEqual(sanitizeCompressionList([], noCompression), ["none"]);
  assert.deepEqual(
    sanitizeCompressionList(["unknown", "zstd", "zstd", "none"], ZSTD),
    ["zstd", "none"],
  );
  assert.deepEqual(
    sanitizeCompressionList(["none", "zstd"], noCompression),
    ["none"],
  );
  assert.deepEqual(sanitizeCompressionList(["zstd"], ZSTD), ["zstd", "none"]);
  const caps = sanitizeCapabilities(
    { ...CAPS, supported_compression: [] },
    ZSTD,
  );
  assert.deepEqual(caps, { ...CAPS, supported_compression: ["none"] });
});

Deno.test("chooseVersion picks the highest common version", () => {
  const r = (a: number, b: number, c: number, d: number) => ({
    min: { major: a, minor: b },
    max: { major: c, minor: d },
  });
  assert.deepEqual(chooseVersion(r(3, 0, 3, 0), r(3, 0, 3, 0)), V30);
  assert.deepEqual(chooseVersion(r(3, 0, 3, 5), r(3, 2, 4, 0)), {
    major: 3,
    minor: 5,
  });
  assert.deepEqual(chooseVersion(r(3, 0, 4, 1), r(2, 0, 3, 9)), {
    major: 3,
    minor: 9,
  });
  assert.equal(chooseVersion(r(3, 0, 3, 0), r(99, 0, 99, 0)), undefined);
  assert.equal(chooseVersion(r(3, 0, 3, 0), r(3, 1, 3, 0)), undefined);
  assert.ok(compareVersions({ major: 2, minor: 9 }, V30) < 0);
});

Deno.test("negotiateCapabilities: min limits, AND flags, router order filtered", () => {
  const router = {
    ...CAPS,
    supported_compression: ["zstd", "none"] as CompressionAlgo[],
  };
  const worker = {
    max_frame_len: 1000,
    max_packet_len: 9_000_000,
    supported_compression: ["none", "zstd"] as CompressionAlgo[],
    supports_cancel: false,
    supports_chunking: true,
  };
  assert.deepEqual(negotiateCapabilities(router, worker), {
    max_frame_len: 1000,
    max_packet_len: 8388608,
    supported_compression: ["zstd", "none"],
    supports_cancel: false,
    supports_chunking: true,
  });
  assert.equal(
    negotiateCapabilities(router, {
      ...worker,
      supported_compression: ["unknown"],
    }),
    undefined,
  );
  assert.deepEqual(
    negotiateCapabilities(
      { ...router, supported_compression: ["none"] },
      worker,
    )?.supported_compression,
    ["none"],
  );
});

Deno.test("evaluateHello checks in the reference order", () => {
  const opts = {
    supportedVersions: { min: V30, max: V30 },
    capabilities: CAPS,
    expectedAuthToken: "tok",
  };
  const allBad = hello({
    auth_token: "bad",
    supported_versions: {
      min: { major: 9, minor: 0 },
      max: { major: 9, minor: 0 },
    },
    capabilities: {
      ...CAPS,
      max_frame_len: 0,
      supported_compression: ["unknown"],
    },
  });
  const codes: string[] = [];
  let h = allBad;
  const verdict1 = evaluateHello(h, opts);
  assert.ok(!verdict1.ok);
  codes.push(verdict1.reject.code);
  h = { ...h, capabilities: { ...h.capabilities, max_frame_len: 10 } };
  const verdict2 = evaluateHello(h, opts);
  assert.ok(!verdict2.ok);
  codes.push(verdict2.reject.message);
  h = { ...h, auth_token: "tok" };
  const verdict3 = evaluateHello(h, opts);
  assert.ok(!verdict3.ok);
  codes.push(verdict3.reject.code);
  h = { ...h, supported_versions: { min: V30, max: V30 } };
  const verdict4 = evaluateHello(h, opts);
  assert.ok(!verdict4.ok);
  codes.push(verdict4.reject.message);
  h = {
    ...h,
    capabilities: { ...h.capabilities, supported_compression: ["none"] },
  };
  const verdict5 = evaluateHello(h, opts);
  assert.ok(verdict5.ok);
  assert.deepEqual(codes, [
    "invalid_request",
    "authentication failed",
    "unsupported_version",
    "handshake failed: no common compression algorithm",
  ]);
  assert.equal(verdict5.capabilities.max_frame_len, 10);
  // No expected token: any token (or none) passes.
  assert.ok(
    evaluateHello(hello({ auth_token: "x" }), {
      ...opts,
      expectedAuthToken: null,
    }).ok,
  );
  assert.ok(
    evaluateHello(hello(), { ...opts, expectedAuthToken: undefined }).ok,
  );
  // Expected token, none sent.
  const missing = evaluateHello(hello(), opts);
  assert.ok(!missing.ok && missing.reject.code === "unauthorized");
  const emptyExpected = evaluateHello(hello(), {
    ...opts,
    expectedAuthToken: "",
  });
  assert.ok(!emptyExpected.ok);
  assert.ok(
    evaluateHello(hello({ auth_token: "" }), { ...opts, expectedAuthToken: "" })
      .ok,
  );
});

Deno.test("constantTimeEqual agrees with === (property)", () => {
  fc.assert(
    fc.property(fc.string(), fc.string(), (a, b) => {
      assert.equal(constantTimeEqual(a, b), a === b);
      assert.ok(constantTimeEqual(a, a));
    }),
    { numRuns: 300, seed: 1 },
  );
  assert.ok(!constantTimeEqual("ab", "abc"));
  assert.ok(!constantTimeEqual("é", "e"));
});

Deno.test("checkWelcome accepts a compliant Welcome and names the first problem", () => {
  const w = {
    worker_id: 1,
    shard_id: 7,
    revision: 0,
    chosen_version: V30,
    chosen_capabilities: { ...CAPS },
  };
  assert.equal(checkWelcome(hello(), w), undefined);
  assert.match(checkWelcome(hello(), { ...w, shard_id: 1 })!, /shard mismatch/);
  assert.match(
    checkWelcome(hello(), {
      ...w,
      chosen_capabilities: { ...CAPS, max_packet_len: 0 },
    })!,
    /invalid limits/,
  );
  assert.match(
    checkWelcome(hello(), {
      ...w,
      chosen_capabilities: { ...CAPS, max_frame_len: 65537 },
    })!,
    /invalid limits/,
  );
  assert.match(
    checkWelcome(hello(), { ...w, chosen_version: { major: 2, minor: 9 } })!,
    /unsupported version/,
  );
});

Deno.test("sanitizeErrorMessage redacts only decoder-style messages", () => {
  assert.equal(
    sanitizeErrorMessage(
      'invalid type: string "s3cret", expected boolean at line 1 column 1',
    ),
    'invalid type: string "<redacted>", expected boolean at line 1 column 1',
  );
  assert.equal(
    sanitizeErrorMessage("unknown field `password`, expected one of `a`"),
    "unknown field `<redacted>`, expected one of `<redacted>`",
  );
  assert.equal(
    sanitizeErrorMessage(
      "invalid value: integer `7`, missing field `shard_id`",
    ),
    "invalid value: integer `<redacted>`, missing field `shard_id`",
  );
  assert.equal(
    sanitizeErrorMessage('not admitted "quoted"'),
    'not admitted "quoted"',
  );
});
