import assert from "node:assert/strict";
import { encodeLengthPrefixedFrame } from "./frame.ts";
import { ProtocolError } from "./errors.ts";
import {
  ROUTER_TRANSITIONS,
  SESSION_INPUTS,
  SESSION_STATES,
  type SessionAction,
  type SessionInput,
  WORKER_TRANSITIONS,
} from "./_transitions.ts";
import {
  createRouterSession,
  createWorkerSession,
  type RouterSession,
  type Session,
} from "./session.ts";
import { memoryPair } from "../testing/memory_pair.ts";
import {
  chunkFrame,
  events,
  packetFrame,
  TEST_CAPS,
  testHello,
} from "./session_test_util.ts";

function sessionIn(role: "worker" | "router", state: string): Session {
  if (role === "worker") {
    if (state === "awaiting_welcome") {
      return createWorkerSession({ hello: { shard_id: 7 } });
    }
  } else {
    if (state === "awaiting_hello") return createRouterSession();
    if (state === "awaiting_admission") {
      const r = createRouterSession();
      r.receive(
        encodeLengthPrefixedFrame({ type: "hello", body: testHello() }),
        0,
      );
      events(r);
      return r;
    }
  }
  const pair = memoryPair();
  pair.handshake();
  const s = pair[role];
  if (state === "closed") {
    s.close();
    events(s);
  }
  while (s.pollTransmit() !== undefined) { /* discard */ }
  return s;
}

const WELCOME = {
  worker_id: 1,
  shard_id: 7,
  revision: 0,
  chosen_version: { major: 3, minor: 0 },
  chosen_capabilities: { ...TEST_CAPS },
};

function apply(session: Session, input: SessionInput): void {
  switch (input) {
    case "hello_frame":
      return session.receive(
        encodeLengthPrefixedFrame({ type: "hello", body: testHello() }),
        0,
      );
    case "welcome_frame":
      return session.receive(
        encodeLengthPrefixedFrame({ type: "welcome", body: WELCOME }),
        0,
      );
    case "reject_frame":
      return session.receive(
        encodeLengthPrefixedFrame({
          type: "reject",
          body: { code: "internal", message: "no" },
        }),
        0,
      );
    case "packet_frame":
      return session.receive(packetFrame(2, { type: "unknown" }), 0);
    case "chunk_frame":
      return session.receive(chunkFrame(2, 0, false, new Uint8Array(1)), 0);
    case "unknown_frame":
      return session.receive(encodeLengthPrefixedFrame({ type: "unknown" }), 0);
    case "undecodable_frame":
      return session.receive(new Uint8Array([1, 0, 0, 0, 0xff]), 0);
    case "frame_too_large":
      return session.receive(new Uint8Array([0xff, 0xff, 0xff, 0xff]), 0);
    case "eof":
      return session.receiveEnd(0);
    case "timeout":
      return session.handleTimeout(1e12);
    case "send":
      session.call({ type: "shutdown" });
      return;
    case "close":
      return session.close();
    case "admit":
      return (session as RouterSession).admit();
    case "reject":
      return (session as RouterSession).reject("internal", "no");
  }
}

const CLOSE_CODES: Partial<Record<SessionAction, string | undefined>> = {
  fail_handshake: "handshake_failed",
  fail_unexpected: "unexpected_frame",
  fail_eof: "connection_closed",
  fail_timeout: "handshake_timeout",
  peer_closed: "connection_closed",
  handshake_rejected: "handshake_rejected",
  send_reject: "handshake_rejected",
  close_local: undefined,
};

const tables = [
  ["worker", WORKER_TRANSITIONS],
  ["router", ROUTER_TRANSITIONS],
] as const;

Deno.test("transition tables are frozen and cover every state and input", () => {
  const inputs = Object.values(SESSION_INPUTS);
  const states = Object.values(SESSION_STATES);
  for (const [role, table] of tables) {
    assert.ok(Object.isFrozen(table));
    for (const [state, row] of Object.entries(table)) {
      assert.ok(states.includes(state as never), state);
      assert.ok(Object.isFrozen(row));
      const expected = role === "worker"
        ? inputs.filter((i) => i !== "admit" && i !== "reject")
        : inputs;
      assert.deepEqual(Object.keys(row).sort(), [...expected].sort());
    }
  }
  assert.deepEqual(Object.keys(WORKER_TRANSITIONS), [
    "awaiting_welcome",
    "open",
    "closed",
  ]);
  assert.deepEqual(Object.keys(ROUTER_TRANSITIONS), [
    "awaiting_hello",
    "awaiting_admission",
    "open",
    "closed",
  ]);
});

for (const [role, table] of tables) {
  for (const [state, row] of Object.entries(table)) {
    for (const [input, tr] of Object.entries(row)) {
      const { action, next } = tr as { action: SessionAction; next: string };
      Deno.test(`${role} ${state} + ${input} -> ${action} -> ${next}`, () => {
        const session = sessionIn(role, state);
        assert.equal(session.state, state);
        if (action === "refuse_send" || action === "refuse_command") {
          assert.throws(
            () => apply(session, input as SessionInput),
            ProtocolError,
          );
          assert.equal(session.state, state);
          assert.deepEqual(events(session), []);
          return;
        }
        apply(session, input as SessionInput);
        assert.equal(session.state, next);
        const list = events(session);
        if (action === "ignore" || action === "defer") {
          assert.deepEqual(list, []);
          return;
        }
        if (next === "closed") {
          const closed = list.at(-1);
          assert.ok(closed?.type === "closed", `closed event for ${action}`);
          if (action in CLOSE_CODES) {
            assert.equal(closed.error?.code, CLOSE_CODES[action]);
          } else {
            assert.ok(closed.error instanceof ProtocolError);
          }
        } else if (action === "accept_welcome" || action === "send_welcome") {
          assert.equal(list[0]?.type, "handshake_done");
        } else if (action === "evaluate_hello") {
          assert.equal(list[0]?.type, "admission");
        }
      });
    }
  }
}
