import assert from "node:assert/strict";
import { computeProof } from "./auth.ts";
import {
  JOINER_EVENTS,
  JOINER_STATES,
  JOINER_TRANSITIONS,
  JoinerCore,
  type JoinerEventKind,
  type JoinerState,
} from "./joiner_machine.ts";
import type { SeedMessage } from "./messages.ts";

const TOKEN = new Uint8Array(32).fill(5);
const BINDING = new Uint8Array(32).fill(6);
const PEERS = [
  { rank: 0, nodeId: "other", addr: "h:1" },
  { rank: 1, nodeId: "me", addr: "h:2" },
];

function makeJoiner(insecure = false): JoinerCore {
  const token = insecure ? undefined : TOKEN;
  return new JoinerCore({
    nodeId: "me",
    listenAddr: "h:2",
    csr: new Uint8Array([1, 2, 3]),
    token,
    randomBytes: (n) => new Uint8Array(n).fill(1),
    timings: {
      handshakeTimeoutMs: 100,
      heartbeatIntervalMs: 50,
      heartbeatTimeoutMs: 300,
    },
    joinDeadline: 5000,
  });
}

function challenge(valid = true): SeedMessage {
  const seedNonce = new Uint8Array(32).fill(2);
  const proof = computeProof(valid ? TOKEN : new Uint8Array(32), "seed", {
    binding: BINDING,
    joinerNonce: new Uint8Array(32).fill(1),
    seedNonce,
    nodeId: "me",
  });
  return { type: "challenge", nonce: seedNonce, proof };
}

const WELCOME: SeedMessage = {
  type: "welcome",
  clusterId: "c",
  rank: 1,
  worldSize: 2,
  generation: 1,
  pending: false,
  peers: PEERS,
  caCert: new Uint8Array([1]),
  leafCert: new Uint8Array([2]),
};

function driveTo(state: JoinerState): JoinerCore {
  const j = makeJoiner();
  if (state === "connecting") return j;
  j.connected(BINDING, 0);
  if (state === "awaiting_challenge") return j;
  if (state === "failed") {
    j.received({
      type: "reject",
      code: "auth",
      reason: "",
      supportedVersions: [1],
    }, 0);
    return j;
  }
  if (state === "left") {
    j.received({ type: "farewell", code: "left", reason: "" }, 0);
    return j;
  }
  j.received(challenge(), 1);
  if (state === "awaiting_welcome") return j;
  j.received(WELCOME, 2);
  if (state === "welcomed") return j;
  j.received({ type: "commit", generation: 1 }, 3);
  return j;
}

function sample(event: JoinerEventKind): SeedMessage | undefined {
  switch (event) {
    case "challenge_ok":
      return challenge();
    case "challenge_bad":
      return challenge(false);
    case "reject":
      return {
        type: "reject",
        code: "full",
        reason: "r",
        supportedVersions: [1],
      };
    case "welcome":
      return WELCOME;
    case "propose":
      return { type: "propose", generation: 2, peers: PEERS };
    case "commit":
    case "commit_removed":
      return { type: "commit", generation: 1 };
    case "farewell":
      return { type: "farewell", code: "dead", reason: "r" };
    case "heartbeat":
      return { type: "heartbeat", generation: 1, seq: 1 };
    case "renewed":
      return { type: "renewed", leafCert: new Uint8Array([3]) };
    case "unexpected":
      return { type: "auth", proof: new Uint8Array(), csr: new Uint8Array() };
    default:
      return undefined;
  }
}

Deno.test("joiner machine: every (state, event) pair follows JOINER_TRANSITIONS", () => {
  let pairs = 0;
  for (const state of JOINER_STATES) {
    for (const event of JOINER_EVENTS) {
      const j = driveTo(state);
      assert.equal(j.state, state, `setup ${state}`);
      j.poll();
      j.dispatch(event, sample(event), 10);
      assert.equal(
        j.state,
        JOINER_TRANSITIONS[state][event].next,
        `${state} × ${event}`,
      );
      pairs++;
    }
  }
  assert.equal(pairs, JOINER_STATES.length * JOINER_EVENTS.length);
});

Deno.test("joiner: Hello, then Auth with a CSR only after the seed proved the token", () => {
  const j = makeJoiner();
  j.connected(BINDING, 0);
  const [hello] = j.poll();
  assert.equal(hello.kind === "send" && hello.message.type, "hello");
  j.received(challenge(false), 1);
  assert.equal(j.state, "failed");
  const cmds = j.poll();
  assert.ok(
    !cmds.some((c) => c.kind === "send" && c.message.type === "auth"),
    "no CSR to an impostor",
  );
  assert.ok(
    cmds.some((c) =>
      c.kind === "event" && c.event.type === "failed" &&
      c.event.code === "auth_failed"
    ),
  );
  const ok = makeJoiner();
  ok.connected(BINDING, 0);
  ok.received(challenge(), 1);
  const auth = ok.poll().find((c) =>
    c.kind === "send" && c.message.type === "auth"
  );
  assert.ok(auth !== undefined);
});

Deno.test("joiner: insecure joiner refuses a seed that sends a proof it cannot check, and vice versa", () => {
  const j = makeJoiner(true);
  j.connected(BINDING, 0);
  j.received(challenge(), 1);
  assert.equal(j.state, "failed");
  const k = makeJoiner(true);
  k.connected(BINDING, 0);
  k.received({
    type: "challenge",
    nonce: new Uint8Array(32),
    proof: new Uint8Array(),
  }, 1);
  assert.equal(k.state, "awaiting_welcome");
});

Deno.test("joiner: a proposal then commit renumbers; a commit without me removes me", () => {
  const j = driveTo("member");
  assert.equal(j.view?.rank, 1);
  j.received({
    type: "propose",
    generation: 2,
    peers: [{ rank: 0, nodeId: "me", addr: "h:2" }],
  }, 5);
  j.received({ type: "commit", generation: 2 }, 6);
  assert.equal(j.view?.rank, 0);
  assert.equal(j.view?.worldSize, 1);
  j.received({
    type: "propose",
    generation: 3,
    peers: [{ rank: 0, nodeId: "x", addr: "h" }],
  }, 7);
  j.received({ type: "commit", generation: 3 }, 8);
  assert.equal(j.state, "left");
});

Deno.test("joiner: silence of the seed after the Welcome is a timeout; heartbeats are sent", () => {
  const j = driveTo("member");
  j.poll();
  j.tick(100);
  assert.ok(
    j.poll().some((c) => c.kind === "send" && c.message.type === "heartbeat"),
  );
  j.tick(400);
  assert.equal(j.state, "failed");
  assert.equal(j.nextDeadline(), undefined);
});

Deno.test("joiner: waiting for the Welcome is bounded by the join deadline", () => {
  const j = driveTo("awaiting_welcome");
  assert.equal(j.nextDeadline() !== undefined, true);
  j.tick(5000);
  assert.equal(j.state, "failed");
});
