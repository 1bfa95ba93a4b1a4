import assert from "node:assert/strict";
import fc from "fast-check";
import { isCapsError } from "./errors.ts";
import { claimScanPartitions, prepareExecution } from "./execution.ts";
import {
  executionCoreKey,
  flowPartitionTag,
  laneIndexKey,
  leaseExpiryKey,
  PARTITIONS_CONFIG_KEY,
  workerAliveKey,
  workerCapsKey,
  workerLeasesKey,
  workersIndexKey,
} from "./keys.ts";
import {
  DEFAULT_PARTITION_CONFIG,
  executionIdFor,
  flowPartitionOf,
  parseExecutionId,
  parsePartitionConfig,
  partitionOfExecutionId,
} from "./partition.ts";

const UUID = "3f2504e0-4f89-41d3-9a0c-0305e82c3301";

Deno.test("default_config_values: 256/32/32; per-field fallbacks", () => {
  assert.deepEqual(DEFAULT_PARTITION_CONFIG, {
    numFlowPartitions: 256,
    numBudgetPartitions: 32,
    numQuotaPartitions: 32,
  });
  assert.deepEqual(
    parsePartitionConfig({
      num_flow_partitions: "-1",
      num_budget_partitions: "1.5",
      num_quota_partitions: "65535",
    }),
    {
      numFlowPartitions: 256,
      numBudgetPartitions: 32,
      numQuotaPartitions: 65535,
    },
  );
  assert.throws(
    () => parsePartitionConfig({}),
    (e) => isCapsError(e, "invalid_config"),
  );
});

Deno.test("key formats (keys.rs cases)", () => {
  assert.equal(workerAliveKey("ns", "i"), "ff:worker:ns:i:alive");
  assert.equal(workerCapsKey("ns", "i"), "ff:worker:ns:i:caps");
  assert.equal(workersIndexKey("ns"), "ff:idx:ns:workers");
  assert.equal(PARTITIONS_CONFIG_KEY, "ff:config:partitions");
  assert.equal(flowPartitionTag(7), "{fp:7}");
  const eid = executionIdFor(UUID, 256);
  const core = executionCoreKey(eid);
  assert.ok(core.startsWith("ff:exec:{fp:") && core.endsWith(":core"));
  const tag = /\{fp:\d+\}/.exec(eid)![0];
  const p = parseExecutionId(eid).partition;
  for (
    const key of [
      core,
      laneIndexKey(p, "default", "eligible"),
      leaseExpiryKey(p),
      workerLeasesKey(p, "w"),
    ]
  ) {
    assert.ok(key.includes(tag), key); // every execution key shares the hash tag
  }
  assert.ok(
    laneIndexKey(p, "default", "eligible").endsWith(":lane:default:eligible"),
  );
  assert.ok(leaseExpiryKey(p).endsWith(":lease_expiry"));
});

Deno.test("execution ids: parse cases", () => {
  const bad: [string, RegExp][] = [
    [UUID, /^missing tag/],
    [`{fp:xx}:${UUID}`, /^invalid partition index/],
    [`{fp:65536}:${UUID}`, /^invalid partition index/],
    ["{fp:1}:not-a-uuid", /^invalid uuid/],
  ];
  for (const [id, message] of bad) {
    assert.throws(
      () => parseExecutionId(id),
      (e) =>
        isCapsError(e, "invalid_config") && message.test((e as Error).message),
      id,
    );
  }
  assert.equal(parseExecutionId(`{fp:42}:${UUID}`).partition, 42);
});

Deno.test("property: execution ids round-trip and stay in range", () => {
  fc.assert(
    fc.property(fc.uuid(), fc.integer({ min: 1, max: 65535 }), (uuid, n) => {
      const id = executionIdFor(uuid, n);
      const parsed = parseExecutionId(id);
      assert.equal(parsed.uuid, uuid.toLowerCase());
      assert.ok(parsed.partition < n);
      assert.equal(parsed.partition, flowPartitionOf(uuid, n));
    }),
    { numRuns: 200 },
  );
});

/** The outcome of a parser: a partition or the error's code and message. */
function outcome(parse: () => number): string {
  try {
    return `ok ${parse()}`;
  } catch (e) {
    assert.ok(isCapsError(e));
    return `${e.code} ${(e as Error).message}`;
  }
}

Deno.test("partitionOfExecutionId answers and fails as parseExecutionId", () => {
  const cases = [
    `{fp:42}:${UUID}`,
    `{fp:0}:${UUID.toUpperCase()}`,
    `{fp:00042}:${UUID}`,
    `{fp:000042}:${UUID}`,
    `{fp:65535}:${UUID}`,
    `{fp:65536}:${UUID}`,
    `{fp:99999}:${UUID}`,
    `{fp:}:${UUID}`,
    `{fp:-1}:${UUID}`,
    `{fp:1x}:${UUID}`,
    `{fp:1}${UUID}`,
    `{fp:1}:${UUID}x`,
    `{fp:1}:${UUID.slice(1)}`,
    `{fp:1}:${UUID.replaceAll("-", "_")}`,
    `{fp:1}:${UUID.replace("3", "g")}`,
    `{fp:1}:\n${UUID.slice(1)}`,
    `{fp:1}}:${UUID}`,
    `{fp:1:${UUID}`,
    `fp:1}:${UUID}`,
    UUID,
    "",
  ];
  for (const id of cases) {
    assert.equal(
      outcome(() => partitionOfExecutionId(id)),
      outcome(() => parseExecutionId(id).partition),
      id,
    );
  }
});

Deno.test("property: partitionOfExecutionId agrees with parseExecutionId", () => {
  const id = fc.oneof(
    fc.tuple(fc.uuid(), fc.integer({ min: 1, max: 65535 })).map(([u, n]) =>
      executionIdFor(u, n)
    ),
    fc.tuple(fc.stringMatching(/^[0-9a-z}:-]{0,8}$/), fc.uuid(), fc.string())
      .map(([tag, u, tail]) => `{fp:${tag}}:${u}${tail}`),
    fc.string(),
  );
  fc.assert(
    fc.property(id, (text) => {
      assert.equal(
        outcome(() => partitionOfExecutionId(text)),
        outcome(() => parseExecutionId(text).partition),
      );
    }),
    { numRuns: 500 },
  );
});

Deno.test("claim scan windows wrap (iter_partitions cases)", () => {
  assert.deepEqual(claimScanPartitions(10, 256, 5), [10, 11, 12, 13, 14]);
  assert.deepEqual(claimScanPartitions(254, 256, 5), [254, 255, 0, 1, 2]);
  assert.deepEqual(claimScanPartitions(1, 4, 32), [1, 2, 3, 0]);
  assert.equal(claimScanPartitions(0, 256).length, 32);
});

Deno.test("prepareExecution: checks and limits", () => {
  const ok = prepareExecution(
    { namespace: "ns", lane: "l", requiredCapabilities: [] },
    256,
    UUID,
  );
  assert.equal(ok.requiredCsv, "");
  assert.throws(
    () =>
      prepareExecution(
        {
          namespace: "ns",
          lane: "l",
          requiredCapabilities: [],
          payload: "x".repeat((1 << 20) + 1),
        },
        256,
        UUID,
      ),
    (e) => isCapsError(e, "caps_limit_exceeded"),
  );
  assert.throws(
    () =>
      prepareExecution(
        {
          namespace: "ns",
          lane: "l",
          requiredCapabilities: [],
          maxAttempts: 0,
        },
        256,
        UUID,
      ),
    (e) => isCapsError(e, "invalid_config"),
  );
  assert.throws(
    () =>
      prepareExecution(
        {
          namespace: "ns",
          lane: "l",
          requiredCapabilities: Array.from({ length: 257 }, (_, i) => `t${i}`),
        },
        256,
        UUID,
      ),
    (e) =>
      isCapsError(e, "caps_limit_exceeded") &&
      (e as { field?: string }).field === "required_capabilities",
  );
});
