import assert from "node:assert/strict";
import { computeProof } from "./auth.ts";
import type { SeedMessage } from "./messages.ts";
import {
  SEED_EVENTS,
  SEED_STATES,
  SEED_TRANSITIONS,
  SeedCore,
  type SeedEventKind,
  type SeedState,
} from "./seed_machine.ts";

const TOKEN = new Uint8Array(32).fill(42);
const BINDING = new Uint8Array(32).fill(7);

function makeCore(expected = 2, max = expected + 2): SeedCore {
  let n = 0;
  return new SeedCore({
    expectedWorldSize: expected,
    maxWorldSize: max,
    token: TOKEN,
    clusterId: "c1",
    caCert: new Uint8Array([1]),
    binding: BINDING,
    randomBytes: (k) => new Uint8Array(k).fill(++n),
    timings: {
      handshakeTimeoutMs: 100,
      heartbeatIntervalMs: 50,
      heartbeatTimeoutMs: 500,
      formationTimeoutMs: 10_000,
      checkpointTimeoutMs: 1000,
    },
    now: 0,
  });
}

function hello(nodeId: string, version = 1): SeedMessage {
  return {
    type: "hello",
    version,
    nodeId,
    listenAddr: "127.0.0.1:1000",
    nonce: new Uint8Array(32).fill(nodeId.length),
  };
}

function sent(core: SeedCore, connId: number): SeedMessage[] {
  return core.poll().flatMap((c) =>
    c.kind === "send" && c.connId === connId ? [c.message] : []
  );
}

/** Drives connection `id` through Hello and a valid Auth; returns commands seen. */
function authenticate(
  core: SeedCore,
  id: number,
  nodeId: string,
  now = 1,
): void {
  core.opened(id, now);
  core.received(id, hello(nodeId), now);
  const challenge = sent(core, id).find((m) =>
    m.type === "challenge"
  ) as Extract<
    SeedMessage,
    { type: "challenge" }
  >;
  const proof = computeProof(TOKEN, "joiner", {
    binding: BINDING,
    joinerNonce: new Uint8Array(32).fill(nodeId.length),
    seedNonce: challenge.nonce,
    nodeId,
  });
  core.received(id, { type: "auth", proof, csr: new Uint8Array([9]) }, now);
}

function driveTo(
  state: SeedState,
): { core: SeedCore; welcomeGeneration: number } {
  const core = makeCore();
  let welcomeGeneration = 0;
  if (state === "closed") {
    core.opened(1, 0);
    core.disconnected(1, 0);
    return { core, welcomeGeneration };
  }
  if (state === "awaiting_hello") {
    core.opened(1, 0);
    return { core, welcomeGeneration };
  }
  if (state === "awaiting_auth") {
    core.opened(1, 0);
    core.received(1, hello("n1"), 0);
    return { core, welcomeGeneration };
  }
  authenticate(core, 1, "n1");
  if (state === "issuing") return { core, welcomeGeneration };
  core.certIssued(1, new Uint8Array([5]), 2);
  if (state === "admitted") return { core, welcomeGeneration };
  authenticate(core, 2, "n02");
  core.certIssued(2, new Uint8Array([6]), 3);
  const w = sent(core, 1).find((m) => m.type === "welcome") as Extract<
    SeedMessage,
    { type: "welcome" }
  >;
  welcomeGeneration = w.generation;
  if (state === "welcomed") return { core, welcomeGeneration };
  core.received(1, { type: "welcome_ack", generation: w.generation }, 4);
  assert.equal(core.stateOf(1), "joined");
  return { core, welcomeGeneration };
}

function sample(event: SeedEventKind, gen: number): SeedMessage | undefined {
  switch (event) {
    case "hello_ok":
    case "hello_bad":
      return hello("n1");
    case "hello_bad_version":
      return hello("n1", 9);
    case "auth_ok":
    case "auth_bad":
    case "auth_refused":
      return {
        type: "auth",
        proof: new Uint8Array(32),
        csr: new Uint8Array([1]),
      };
    case "welcome_ack":
      return { type: "welcome_ack", generation: gen };
    case "propose_ack":
      return { type: "propose_ack", generation: 99 };
    case "leave":
      return { type: "leave" };
    case "heartbeat":
      return { type: "heartbeat", generation: 0, seq: 0 };
    case "suspect":
      return { type: "suspect", generation: 1, nodeId: "n02" };
    case "renew":
      return { type: "renew", csr: new Uint8Array([1]) };
    case "unexpected":
      return { type: "commit", generation: 1 };
    default:
      return undefined;
  }
}

Deno.test("seed machine: every (state, event) pair follows SEED_TRANSITIONS", () => {
  let pairs = 0;
  for (const state of SEED_STATES) {
    for (const event of SEED_EVENTS) {
      const { core, welcomeGeneration } = driveTo(state);
      assert.equal(core.stateOf(1), state, `setup ${state}`);
      core.poll();
      core.dispatch(1, event, sample(event, welcomeGeneration), 10);
      const expected = SEED_TRANSITIONS[state][event].next;
      assert.equal(core.stateOf(1), expected, `${state} × ${event}`);
      const cmds = core.poll();
      const action = SEED_TRANSITIONS[state][event].action;
      if (action.startsWith("reject_")) {
        assert.ok(
          cmds.some((c) => c.kind === "send" && c.message.type === "reject"),
          `${state} × ${event} sends a Reject`,
        );
      }
      if (expected === "closed" && state !== "closed") {
        assert.ok(
          cmds.some((c) => c.kind === "close" && c.connId === 1),
          `${state} × ${event} closes`,
        );
      }
      pairs++;
    }
  }
  assert.equal(pairs, SEED_STATES.length * SEED_EVENTS.length);
});

Deno.test("bad_token_rejected_formation_continues (pure): a wrong proof gets Reject(auth); others form", () => {
  const core = makeCore(2);
  core.opened(9, 0);
  core.received(9, hello("bad"), 0);
  core.poll();
  core.received(9, {
    type: "auth",
    proof: new Uint8Array(32),
    csr: new Uint8Array([1]),
  }, 0);
  const reject = sent(core, 9).find((m) => m.type === "reject");
  assert.deepEqual(reject && { ...reject, reason: "" }, {
    type: "reject",
    code: "auth",
    reason: "",
    supportedVersions: [1],
  });
  assert.equal(core.stateOf(9), "closed");
  authenticate(core, 1, "a");
  core.certIssued(1, new Uint8Array([1]), 1);
  authenticate(core, 2, "bb");
  core.certIssued(2, new Uint8Array([1]), 1);
  const cmds = core.poll();
  const welcomes = cmds.filter((c) =>
    c.kind === "send" && c.message.type === "welcome"
  );
  assert.equal(welcomes.length, 2);
});

Deno.test("version_mismatch_rejected (pure): Reject(version) names the supported versions", () => {
  const core = makeCore();
  core.opened(1, 0);
  core.received(1, hello("a", 2), 0);
  const r = sent(core, 1)[0] as Extract<SeedMessage, { type: "reject" }>;
  assert.equal(r.code, "version");
  assert.deepEqual(r.supportedVersions, [1]);
});

Deno.test("non_hello_first_rejected (pure): a Heartbeat first gets Reject(malformed)", () => {
  const core = makeCore();
  core.opened(1, 0);
  core.received(1, { type: "heartbeat", generation: 0, seq: 0 }, 0);
  assert.equal((sent(core, 1)[0] as { code: string }).code, "malformed");
});

Deno.test("silent_client_times_out (pure): handshake deadline gives Reject(timeout)", () => {
  const core = makeCore();
  core.opened(1, 0);
  assert.equal(core.nextDeadline(), 100);
  core.tick(99);
  assert.equal(core.stateOf(1), "awaiting_hello");
  core.tick(100);
  assert.equal(core.stateOf(1), "closed");
  assert.equal((sent(core, 1)[0] as { code: string }).code, "timeout");
});

Deno.test("formation_timeout_reports_counts (pure): joined=1, expected=2", () => {
  const core = makeCore(2);
  authenticate(core, 1, "a");
  core.certIssued(1, new Uint8Array([1]), 1);
  core.poll();
  for (let t = 0; t <= 10_000; t += 40) {
    core.received(1, { type: "heartbeat", generation: 0, seq: t }, t);
    core.tick(t);
  }
  const events = core.poll().flatMap((c) =>
    c.kind === "event" ? [c.event] : []
  );
  assert.deepEqual(events.find((e) => e.type === "formation_failed"), {
    type: "formation_failed",
    joined: 1,
    expected: 2,
  });
  assert.ok(core.closed);
});

Deno.test("elastic: join, ack, propose to every participant, commit; full cluster is refused", () => {
  const core = makeCore(1, 2);
  authenticate(core, 1, "a");
  core.certIssued(1, new Uint8Array([1]), 1);
  const w = sent(core, 1).find((m) => m.type === "welcome") as {
    generation: number;
  };
  core.received(1, { type: "welcome_ack", generation: w.generation }, 2);
  assert.equal(core.membership.phase, "running");
  core.poll();
  authenticate(core, 2, "bb", 3);
  core.certIssued(2, new Uint8Array([2]), 3);
  const w2 = sent(core, 2).find((m) => m.type === "welcome") as Extract<
    SeedMessage,
    { type: "welcome" }
  >;
  assert.equal(w2.pending, true);
  assert.equal(w2.rank, 1);
  assert.equal(core.membership.members.length, 1);
  authenticate(core, 3, "ccc", 3);
  assert.equal(
    (sent(core, 3).find((m) => m.type === "reject") as { code: string }).code,
    "full",
  );
  core.received(2, { type: "welcome_ack", generation: w2.generation }, 4);
  core.tick(4);
  const proposes = core.poll().filter((c) =>
    c.kind === "send" && c.message.type === "propose"
  );
  assert.deepEqual(
    proposes.map((c) => (c as { connId: number }).connId).sort(),
    [1, 2],
  );
  const g =
    (proposes[0] as { message: { generation: number } }).message.generation;
  core.received(1, { type: "propose_ack", generation: g }, 5);
  assert.equal(core.membership.members.length, 1);
  core.received(2, { type: "propose_ack", generation: g }, 5);
  assert.equal(core.membership.members.length, 2);
  const commits = core.poll().filter((c) =>
    c.kind === "send" && c.message.type === "commit"
  );
  assert.equal(commits.length, 2);
});

Deno.test("seed close: members get a Farewell, later connections are closed at once", () => {
  const core = makeCore(1);
  authenticate(core, 1, "a");
  core.certIssued(1, new Uint8Array([1]), 1);
  core.poll();
  core.close(2);
  const f = sent(core, 1);
  assert.ok(f.some((m) => m.type === "farewell"));
  core.opened(5, 3);
  assert.ok(core.poll().some((c) => c.kind === "close" && c.connId === 5));
  assert.equal(core.nextDeadline(), undefined);
});
