import assert from "node:assert/strict";
import {
  type CommitProgressEvent,
  CoordinationRecorder,
  type CoreEvent,
  createLogSink,
  diagnosticLevel,
  type GitEvent,
  RECORD_TABLE,
  recordFields,
  sanitizeCoreEvent,
  type TelemetryLevel,
  type TelemetryValue,
} from "./recorder.ts";

const CANARY = "TEST_COORD_RECORDER_CANARY_7f9b2c4d";
const canaryBytes = new TextEncoder().encode(CANARY);

const CORE: CoreEvent[] = [
  {
    kind: "finding",
    ruleId: 3,
    ruleName: CANARY,
    objectPath: canaryBytes,
    changeKind: CANARY,
    commitId: CANARY,
    sizeHint: 10,
    confidenceScore: 0.5,
    normHash: canaryBytes,
  },
  {
    kind: "progress",
    stage: "scan",
    itemsScanned: 1,
    bytesScanned: 2,
    throughputMibS: 3,
  },
  {
    kind: "summary",
    status: "completed",
    itemsScanned: 1,
    bytesScanned: 2,
    findingsEmitted: 3,
  },
  { kind: "diagnostic", level: "warning", message: CANARY },
];
const GIT: GitEvent[] = [
  {
    kind: "commit_meta",
    commitOid: CANARY,
    authorId: null,
    committerId: 4,
    timestamp: 5,
  },
  { kind: "identity_dictionary", identityId: 1, value: canaryBytes },
];
const PROGRESS: CommitProgressEvent[] = [
  {
    kind: "begin",
    tenantId: canaryBytes,
    policyHash: canaryBytes,
    itemKey: canaryBytes,
    runId: 1n,
    leaseShardId: 2n,
    fenceEpoch: 3n,
  },
  {
    kind: "finish",
    tenantId: canaryBytes,
    policyHash: canaryBytes,
    itemKey: canaryBytes,
    runId: 1n,
    leaseShardId: 2n,
    fenceEpoch: 3n,
    status: "committed",
  },
];

type Line = {
  level: TelemetryLevel;
  message: string;
  fields: Readonly<Record<string, TelemetryValue>>;
};

function capture(): {
  lines: Line[];
  log: (
    l: TelemetryLevel,
    m: string,
    f: Readonly<Record<string, TelemetryValue>>,
  ) => void;
} {
  const lines: Line[] = [];
  return {
    lines,
    log: (level, message, fields) => lines.push({ level, message, fields }),
  };
}

function render(lines: Line[]): string {
  return lines.map((l) =>
    JSON.stringify({
      ...l,
      fields: Object.fromEntries(
        Object.entries(l.fields).map(([k, v]) => [k, String(v)]),
      ),
    })
  ).join("\n");
}

Deno.test("recorder: the log sink never writes canary bytes, all 8 events present", () => {
  const { lines, log } = capture();
  const recorder = new CoordinationRecorder(createLogSink(log), log);
  for (const e of CORE) recorder.recordCore(CANARY, e);
  for (const e of GIT) recorder.recordGit(CANARY, e);
  for (const e of PROGRESS) recorder.recordCommitProgress(CANARY, e);
  const text = render(lines);
  assert.ok(!text.includes(CANARY));
  assert.ok(!text.includes("TEST_COORD"));
  const names = new Set(lines.map((l) => l.fields.event_name));
  for (const row of Object.values(RECORD_TABLE)) {
    assert.ok(names.has(row.eventName), row.eventName);
  }
  assert.ok(
    lines.every((l) => l.fields.target === "gossip_worker::coordination"),
  );
});

Deno.test("recorder: levels follow the table; diagnostics follow their level", () => {
  const { lines, log } = capture();
  const recorder = new CoordinationRecorder(createLogSink(log), log);
  for (const e of CORE) recorder.recordCore("s", e);
  for (const e of GIT) recorder.recordGit("s", e);
  for (const e of PROGRESS) recorder.recordCommitProgress("s", e);
  assert.deepEqual(lines.map((l) => l.level), [
    "debug",
    "debug",
    "info",
    "warn",
    "trace",
    "trace",
    "trace",
    "trace",
  ]);
});

Deno.test("recorder: diagnostic level mapping", () => {
  const table: [string, TelemetryLevel][] = [
    ["error", "error"],
    ["fatal", "error"],
    ["warn", "warn"],
    ["warning", "warn"],
    ["debug", "debug"],
    ["trace", "trace"],
    ["info", "info"],
    ["other", "info"],
  ];
  for (const [raw, level] of table) {
    assert.equal(diagnosticLevel(raw), level, raw);
  }
});

Deno.test("recorder: missing optionals render as none", () => {
  const { fields } = recordFields(sanitizeCoreEvent("s", {
    kind: "finding",
    ruleId: 1,
    ruleName: "r",
    objectPath: new Uint8Array(1),
    changeKind: null,
    commitId: null,
    sizeHint: null,
    confidenceScore: 1,
  }));
  assert.equal(fields.change_kind, "none");
  assert.equal(fields.commit_id, "none");
  assert.equal(fields.size_hint, "none");
  const git = capture();
  new CoordinationRecorder(createLogSink(git.log), git.log).recordGit(
    "s",
    GIT[0],
  );
  assert.equal(git.lines[0].fields.author_id, "none");
});

Deno.test("recorder: the finding's norm hash is dropped", () => {
  const record = sanitizeCoreEvent("s", CORE[0]);
  assert.ok(!("normHash" in record));
});

Deno.test("recorder: one warning per category on sink failures, never reset", () => {
  const { lines, log } = capture();
  const recorder = new CoordinationRecorder({
    emit() {
      throw new Error(CANARY);
    },
  }, log);
  for (let i = 0; i < 4; i++) {
    recorder.recordCore(`shard-${i}`, CORE[i]);
    recorder.recordGit(`shard-${i}`, GIT[i % 2]);
    recorder.recordCommitProgress(`shard-${i}`, PROGRESS[i % 2]);
  }
  assert.equal(lines.length, 3);
  assert.deepEqual(lines.map((l) => l.fields.category), [
    "core",
    "git",
    "progress",
  ]);
  for (const l of lines) {
    assert.equal(l.level, "warn");
    assert.equal(l.fields.event_name, "coordination_recorder_sink_failure");
    assert.equal(
      l.message,
      "coordination telemetry sink failed; subsequent failures suppressed",
    );
  }
  assert.ok(!render(lines).includes(CANARY));
});
