import assert from "node:assert/strict";
import type { CapsWorkerConfig } from "./config.ts";
import {
  createPreamble,
  type Preamble,
  PREAMBLE_STEPS,
  PREAMBLE_TRANSITIONS,
  type PreambleEvent,
  type PreambleState,
  type ServerReply,
} from "./preamble.ts";

const GPU: CapsWorkerConfig = {
  workerId: "pool-a",
  workerInstanceId: "inst-1",
  namespace: "ns",
  lanes: ["default", "b", "default"],
  capabilities: ["gpu", "cuda", "gpu"],
  leaseTtlMs: 30_000,
};
const NONE: CapsWorkerConfig = { ...GPU, capabilities: [] };

const OK_REPLIES: Record<string, ServerReply> = {
  ping: "PONG",
  alive: "OK",
  partitions: ["num_flow_partitions", "64"],
  caps_write: 6,
  index_add: 1,
  caps_delete: 1,
  index_remove: 1,
};

function driveTo(state: PreambleState, config: CapsWorkerConfig): Preamble {
  const p = createPreamble(config, { nowMs: 1234 });
  for (let i = 0; i < 10 && p.state !== state; i++) {
    if (state === "failed") {
      p.handleError(new Error("boom"));
      continue;
    }
    p.handleReply(OK_REPLIES[p.state]);
  }
  assert.equal(p.state, state);
  return p;
}

Deno.test("the plan's exact commands, non-empty caps", () => {
  const p = createPreamble(GPU, { nowMs: 1234 });
  const seen: string[] = [];
  for (let c = p.poll(); c !== undefined; c = p.poll()) {
    seen.push(c.join(" "));
    p.handleReply(OK_REPLIES[p.state]);
  }
  assert.deepEqual(seen, [
    "PING",
    "SET ff:worker:ns:inst-1:alive 1 NX PX 60000",
    "HGETALL ff:config:partitions",
    "HSET ff:worker:ns:inst-1:caps worker_id pool-a lanes_csv b,default caps_csv cuda,gpu ttl_ms 60000 registered_at_ms 1234 last_heartbeat_ms 1234",
    "SADD ff:idx:ns:workers inst-1",
  ]);
  assert.equal(p.state, "done");
  assert.equal(p.result?.capabilitiesHash, "c952a6c4");
  assert.equal(p.result?.partitionConfig.numFlowPartitions, 64);
  assert.equal(p.result?.partitionConfig.numBudgetPartitions, 32);
  assert.equal(p.holdsAliveKey, true);
  const info = p.takeLogs();
  assert.equal(info.length, 1);
  assert.equal(info[0].level, "info");
  assert.equal(info[0].fields.worker_caps, "cuda,gpu");
});

Deno.test("the plan's exact commands, empty caps: DEL then SREM, no log", () => {
  const p = createPreamble({ ...NONE, leaseTtlMs: 100 }, { nowMs: 1 });
  const seen: string[] = [];
  for (let c = p.poll(); c !== undefined; c = p.poll()) {
    seen.push(c.join(" "));
    p.handleReply(OK_REPLIES[p.state]);
  }
  assert.deepEqual(seen, [
    "PING",
    "SET ff:worker:ns:inst-1:alive 1 NX PX 1000",
    "HGETALL ff:config:partitions",
    "DEL ff:worker:ns:inst-1:caps",
    "SREM ff:idx:ns:workers inst-1",
  ]);
  assert.equal(p.result?.capabilitiesHash, "4fd0bfc1");
  assert.deepEqual(p.takeLogs(), []);
});

Deno.test("every (state, event) pair follows the transition table", () => {
  const states = Object.keys(PREAMBLE_TRANSITIONS) as PreambleState[];
  const events: PreambleEvent[] = ["reply", "error"];
  for (const state of states) {
    for (const event of events) {
      for (const config of [GPU, NONE]) {
        if (
          config === GPU &&
          (state === "caps_delete" || state === "index_remove")
        ) continue;
        if (
          config === NONE && (state === "caps_write" || state === "index_add")
        ) continue;
        const p = driveTo(state, config);
        const target = PREAMBLE_TRANSITIONS[state][event];
        if (target === null) {
          assert.throws(
            () =>
              event === "reply"
                ? p.handleReply("OK")
                : p.handleError(new Error("x")),
            RangeError,
          );
          continue;
        }
        if (event === "reply") p.handleReply(OK_REPLIES[state]);
        else p.handleError(new Error("down"));
        const expected = target === "advertise"
          ? (config === GPU ? "caps_write" : "caps_delete")
          : target;
        assert.equal(p.state, expected, `${state} × ${event}`);
        if (event === "error" && state !== "done" && state !== "failed") {
          const rule = PREAMBLE_STEPS[state as keyof typeof PREAMBLE_STEPS];
          const logs = p.takeLogs().filter((l) => l.level === "warn");
          if (rule.onError === "warn" || rule.onError === "defaults") {
            assert.equal(logs[0]?.event, rule.message, `${state} warns`);
          } else {
            assert.equal(logs.length, 0, `${state} is silent`);
          }
          if (rule.onError === "fatal") {
            assert.equal(p.error?.code, "backend_error");
            assert.equal(p.error?.context, rule.message);
          }
        }
      }
    }
  }
});

Deno.test("unexpected PING reply is fatal with the reference message", () => {
  const p = createPreamble(GPU, { nowMs: 0 });
  p.handleReply("PANG");
  assert.equal(p.state, "failed");
  assert.equal(p.error?.code, "unexpected_reply");
  assert.equal(p.error?.message, "unexpected PING response: PANG");
  assert.equal(p.poll(), undefined);
});

Deno.test("nil from SET NX is the duplicate-instance error", () => {
  const p = createPreamble(GPU, { nowMs: 0 });
  p.handleReply("PONG");
  p.handleReply(null);
  assert.equal(p.state, "failed");
  assert.equal(p.error?.code, "duplicate_instance");
  assert.equal(p.error?.field, "worker_instance_id");
  assert.equal(
    p.error?.message,
    "duplicate worker_instance_id 'inst-1': another process already holds ff:worker:ns:inst-1:alive",
  );
  assert.equal(p.holdsAliveKey, false);
});

Deno.test("partition config: empty, bad or zero values fall back per field", () => {
  const run = (reply: ServerReply) => {
    const p = driveTo("partitions", GPU);
    p.handleReply(reply);
    return p;
  };
  const empty = run([]);
  assert.equal(empty.state, "caps_write");
  assert.equal(
    empty.takeLogs().some((l) =>
      l.event === "ff:config:partitions not found, using defaults"
    ),
    true,
  );
  empty.handleReply(6);
  empty.handleReply(1);
  assert.equal(empty.result?.partitionDefaults, true);
  assert.equal(empty.result?.partitionConfig.numFlowPartitions, 256);
  const mixed = run([
    "num_flow_partitions",
    "0",
    "num_budget_partitions",
    "x",
    "num_quota_partitions",
    "7",
  ]);
  mixed.handleReply(6);
  mixed.handleReply(1);
  assert.deepEqual(mixed.result?.partitionConfig, {
    numFlowPartitions: 256,
    numBudgetPartitions: 32,
    numQuotaPartitions: 7,
  });
  const big = run(["num_flow_partitions", "65536"]);
  big.handleReply(6);
  big.handleReply(1);
  assert.equal(big.result?.partitionConfig.numFlowPartitions, 256);
});

Deno.test("fix: bad capabilities fail before any command; reference order takes the alive key first", () => {
  const bad = { ...GPU, capabilities: ["gpu", "a b"] };
  const fixed = createPreamble(bad, { nowMs: 0 });
  assert.equal(fixed.state, "failed");
  assert.equal(fixed.poll(), undefined);
  assert.equal(fixed.error?.code, "invalid_capability");

  const reference = createPreamble(bad, { nowMs: 0, validateFirst: false });
  assert.equal(reference.poll()?.[0], "PING");
  reference.handleReply("PONG");
  reference.handleReply("OK");
  assert.equal(reference.holdsAliveKey, true);
  reference.handleReply([]);
  assert.equal(reference.state, "failed");
  assert.equal(reference.error?.message, fixed.error?.message);
});

Deno.test("configuration errors fail before any command", () => {
  const cases: [Partial<CapsWorkerConfig>, string][] = [
    [{ lanes: [] }, "at least one lane is required"],
    [{ lanes: [""] }, "lane_id is empty"],
    [{ lanes: ["x".repeat(65)] }, "lane_id exceeds 64 bytes (got 65)"],
    [
      { lanes: ["l\u00e9"] },
      "lane_id contains non-ASCII-printable byte at index 1",
    ],
    [{ workerInstanceId: "" }, "worker_instance_id must not be empty"],
    [
      { namespace: "a b" },
      "namespace must not contain whitespace or control characters",
    ],
    [{ leaseTtlMs: 0 }, "lease_ttl_ms must be a positive integer (got 0)"],
  ];
  for (const [patch, message] of cases) {
    const p = createPreamble({ ...GPU, ...patch }, { nowMs: 0 });
    assert.equal(p.state, "failed", message);
    assert.equal(p.error?.code, "invalid_config");
    assert.equal(p.error?.message, message);
  }
  const lane64 = createPreamble({ ...GPU, lanes: ["x".repeat(64)] }, {
    nowMs: 0,
  });
  assert.equal(lane64.state, "ping");
});
