/**
 * The seed as one synchronous state machine: every bootstrap connection has
 * a handshake state from {@link SEED_TRANSITIONS} (the single source of
 * truth), and admitted joiners feed the {@link Membership}. Feed events with
 * a `now`, take commands with {@link SeedCore.poll}, and call
 * {@link SeedCore.tick} at {@link SeedCore.nextDeadline}. Certificate
 * issuance (asynchronous WebCrypto) is a command whose result comes back as
 * {@link SeedCore.certIssued} / {@link SeedCore.certFailed}.
 *
 * @module
 */

import { computeProof, NONCE_BYTES, verifyProof } from "./auth.ts";
import { isValidId, splitHostPort } from "./identity.ts";
import { DEFAULT_SEED_TIMINGS, type SeedTimings } from "./limits.ts";
import { type CommitResult, Membership } from "./membership.ts";
import {
  type PeerEntry,
  type RejectCode,
  type SeedMessage,
  SUPPORTED_VERSIONS,
} from "./messages.ts";

/**
 * Handshake states of one bootstrap connection.
 *
 * @example
 * ```ts
 * import { SEED_STATES } from "./seed_machine.ts";
 * console.assert(SEED_STATES[0] === "awaiting_hello");
 * ```
 */
export const SEED_STATES = [
  "awaiting_hello",
  "awaiting_auth",
  "issuing",
  "admitted",
  "welcomed",
  "joined",
  "closed",
] as const;

/** A seed connection state. */
export type SeedState = typeof SEED_STATES[number];

/**
 * Events of one connection, after classification.
 *
 * @example
 * ```ts
 * import { SEED_EVENTS } from "./seed_machine.ts";
 * console.assert(SEED_EVENTS.includes("auth_bad"));
 * ```
 */
export const SEED_EVENTS = [
  "hello_ok",
  "hello_bad_version",
  "hello_bad",
  "auth_ok",
  "auth_bad",
  "auth_refused",
  "cert_issued",
  "cert_failed",
  "send_welcome",
  "welcome_ack",
  "propose_ack",
  "leave",
  "heartbeat",
  "suspect",
  "renew",
  "unexpected",
  "protocol_error",
  "deadline",
  "disconnected",
  "seed_closing",
] as const;

/** A classified seed event. */
export type SeedEventKind = typeof SEED_EVENTS[number];

/** What a transition does. */
export type SeedAction =
  | "send_challenge"
  | "reject_version"
  | "reject_malformed"
  | "reject_auth"
  | "reject_refused"
  | "reject_timeout"
  | "reject_closed"
  | "issue_cert"
  | "admit"
  | "send_welcome"
  | "welcome_acked"
  | "checkpoint_ack"
  | "mark_leaving"
  | "note_alive"
  | "note_suspect"
  | "renew_cert"
  | "renewed"
  | "renew_failed"
  | "drop"
  | "member_lost"
  | "farewell_closed"
  | "ignore";

/** One transition: next state and action. */
export interface SeedTransition {
  /** The state after the event. */
  next: SeedState;
  /** The action taken. */
  action: SeedAction;
}

/** One state's row of {@link SEED_TRANSITIONS}. */
export type SeedTransitionRow = Record<SeedEventKind, SeedTransition>;
type Row = SeedTransitionRow;

function row(
  defaults: SeedTransition,
  overrides: Partial<Row>,
): Row {
  const out = {} as Row;
  for (const e of SEED_EVENTS) out[e] = overrides[e] ?? defaults;
  return out;
}

const CLOSED = "closed" as const;
const malformed: SeedTransition = { next: CLOSED, action: "reject_malformed" };
const stay = (s: SeedState, action: SeedAction = "ignore"): SeedTransition => ({
  next: s,
  action,
});
const preAuth = {
  protocol_error: malformed,
  deadline: { next: CLOSED, action: "reject_timeout" },
  disconnected: { next: CLOSED, action: "drop" },
  seed_closing: { next: CLOSED, action: "reject_closed" },
  cert_issued: stay("awaiting_hello"),
  cert_failed: stay("awaiting_hello"),
  send_welcome: stay("awaiting_hello"),
} as const satisfies Partial<Row>;

/**
 * The seed's transition table: `SEED_TRANSITIONS[state][event]`. Every
 * (state, event) pair is listed.
 *
 * @example
 * ```ts
 * import { SEED_TRANSITIONS } from "./seed_machine.ts";
 * console.assert(SEED_TRANSITIONS.awaiting_hello.hello_bad_version.action === "reject_version");
 * ```
 */
export const SEED_TRANSITIONS: Readonly<
  Record<SeedState, Readonly<SeedTransitionRow>>
> = {
  awaiting_hello: row(malformed, {
    ...preAuth,
    hello_ok: { next: "awaiting_auth", action: "send_challenge" },
    hello_bad_version: { next: CLOSED, action: "reject_version" },
  }),
  awaiting_auth: row(malformed, {
    ...preAuth,
    cert_issued: stay("awaiting_auth"),
    cert_failed: stay("awaiting_auth"),
    send_welcome: stay("awaiting_auth"),
    auth_ok: { next: "issuing", action: "issue_cert" },
    auth_bad: { next: CLOSED, action: "reject_auth" },
    auth_refused: { next: CLOSED, action: "reject_refused" },
  }),
  issuing: row(malformed, {
    ...preAuth,
    disconnected: { next: CLOSED, action: "member_lost" },
    deadline: { next: CLOSED, action: "member_lost" },
    seed_closing: { next: CLOSED, action: "farewell_closed" },
    cert_issued: { next: "admitted", action: "admit" },
    cert_failed: { next: CLOSED, action: "member_lost" },
    send_welcome: stay("issuing"),
    heartbeat: stay("issuing", "note_alive"),
  }),
  admitted: row({ next: CLOSED, action: "member_lost" }, {
    send_welcome: { next: "welcomed", action: "send_welcome" },
    heartbeat: stay("admitted", "note_alive"),
    cert_issued: stay("admitted"),
    cert_failed: stay("admitted"),
    seed_closing: { next: CLOSED, action: "farewell_closed" },
  }),
  welcomed: row({ next: CLOSED, action: "member_lost" }, {
    welcome_ack: { next: "joined", action: "welcome_acked" },
    send_welcome: { next: "welcomed", action: "send_welcome" },
    heartbeat: stay("welcomed", "note_alive"),
    cert_issued: stay("welcomed"),
    cert_failed: stay("welcomed"),
    seed_closing: { next: CLOSED, action: "farewell_closed" },
  }),
  joined: row({ next: CLOSED, action: "member_lost" }, {
    send_welcome: { next: "welcomed", action: "send_welcome" },
    propose_ack: stay("joined", "checkpoint_ack"),
    leave: stay("joined", "mark_leaving"),
    heartbeat: stay("joined", "note_alive"),
    suspect: stay("joined", "note_suspect"),
    renew: stay("joined", "renew_cert"),
    cert_issued: stay("joined", "renewed"),
    cert_failed: stay("joined", "renew_failed"),
    seed_closing: { next: CLOSED, action: "farewell_closed" },
  }),
  closed: row(stay(CLOSED), {}),
};

/** Events the seed reports. */
export type SeedNodeEvent =
  | { type: "rejected"; connId: number; code: RejectCode; nodeId?: string }
  | { type: "admitted"; nodeId: string; rank: number; pending: boolean }
  | { type: "released"; nodeId: string }
  | { type: "proposed"; generation: number; peers: PeerEntry[] }
  | { type: "committed"; commit: CommitResult }
  | { type: "member_failed"; nodeId: string; reason: string }
  | { type: "leave_requested"; nodeId: string }
  | { type: "suspected"; by: string; nodeId: string }
  | { type: "no_quorum"; members: number; failed: number }
  | { type: "formation_failed"; joined: number; expected: number }
  | { type: "renewed"; nodeId: string };

/** A command for the runtime. */
export type SeedCommand =
  | { kind: "send"; connId: number; message: SeedMessage }
  | { kind: "close"; connId: number }
  | {
    kind: "issue";
    connId: number;
    nodeId: string;
    listenAddr: string;
    csr: Uint8Array;
    renewal: boolean;
  }
  | { kind: "event"; event: SeedNodeEvent };

/** Options of {@link SeedCore}. */
export interface SeedCoreOptions {
  /** Members needed to form. */
  expectedWorldSize: number;
  /** Cap on live plus pending members. @default {expectedWorldSize} */
  maxWorldSize?: number;
  /** The cluster token; `undefined` only in insecure loopback mode. */
  token: Uint8Array | undefined;
  /** Cluster id. */
  clusterId: string;
  /** CA certificate DER. */
  caCert: Uint8Array;
  /** SHA-256 of the seed's bootstrap TLS certificate (channel binding). */
  binding: Uint8Array;
  /** Random bytes source. */
  randomBytes: (n: number) => Uint8Array;
  /** Timings. */
  timings?: Partial<SeedTimings>;
  /** Time the seed started (formation deadline origin). */
  now: number;
}

interface Conn {
  id: number;
  state: SeedState;
  deadline: number | undefined;
  lastReceived: number;
  nextHeartbeat: number;
  heartbeatSeq: number;
  nodeId?: string;
  listenAddr?: string;
  joinerNonce?: Uint8Array;
  seedNonce?: Uint8Array;
  leaf?: Uint8Array;
  refusal?: RejectCode;
  welcomeGeneration?: number;
  renewing?: boolean;
}

/**
 * The seed core.
 *
 * @example
 * ```ts
 * import { SeedCore } from "./seed_machine.ts";
 * const core = new SeedCore({ expectedWorldSize: 1, token: undefined, clusterId: "c",
 *   caCert: new Uint8Array(1), binding: new Uint8Array(32),
 *   randomBytes: (n) => new Uint8Array(n), now: 0 });
 * core.opened(1, 0);
 * core.received(1, { type: "leave" }, 1);
 * console.assert(core.stateOf(1) === "closed");
 * console.assert(core.poll().some((c) => c.kind === "send" && c.message.type === "reject"));
 * ```
 */
export class SeedCore {
  /** The membership this seed owns. */
  readonly membership: Membership;
  /** The cluster id. */
  readonly clusterId: string;
  readonly #token: Uint8Array | undefined;
  readonly #caCert: Uint8Array;
  readonly #binding: Uint8Array;
  readonly #random: (n: number) => Uint8Array;
  readonly #t: SeedTimings;
  readonly #formationDeadline: number;
  #conns = new Map<number, Conn>();
  #byNode = new Map<string, number>();
  #out: SeedCommand[] = [];
  #checkpointDeadline: number | undefined;
  #checkpointDue: number | undefined;
  #blocked = false;
  #closed = false;

  /**
   * Creates the core.
   *
   * @param options Sizes, token, CA, binding, randomness, timings, start time.
   */
  constructor(options: SeedCoreOptions) {
    this.membership = new Membership({
      expectedWorldSize: options.expectedWorldSize,
      maxWorldSize: options.maxWorldSize,
    });
    this.clusterId = options.clusterId;
    this.#token = options.token;
    this.#caCert = options.caCert;
    this.#binding = options.binding;
    this.#random = options.randomBytes;
    this.#t = { ...DEFAULT_SEED_TIMINGS, ...options.timings };
    this.#formationDeadline = options.now + this.#t.formationTimeoutMs;
  }

  /**
   * The state of a connection (`closed` for unknown ids).
   *
   * @param connId Connection id.
   * @returns The state.
   */
  stateOf(connId: number): SeedState {
    return this.#conns.get(connId)?.state ?? "closed";
  }

  /**
   * The connection of a node, if it has one.
   *
   * @param nodeId Node id.
   * @returns The connection id.
   */
  connectionOf(nodeId: string): number | undefined {
    return this.#byNode.get(nodeId);
  }

  /**
   * Takes the queued commands.
   *
   * @returns Commands in order.
   */
  poll(): SeedCommand[] {
    const out = this.#out;
    this.#out = [];
    return out;
  }

  /**
   * A bootstrap connection completed TLS.
   *
   * @param connId A fresh id.
   * @param now Current time.
   */
  opened(connId: number, now: number): void {
    if (this.#closed) {
      this.#out.push({ kind: "close", connId });
      return;
    }
    this.#conns.set(connId, {
      id: connId,
      state: "awaiting_hello",
      deadline: now + this.#t.handshakeTimeoutMs,
      lastReceived: now,
      nextHeartbeat: Infinity,
      heartbeatSeq: 0,
    });
  }

  /**
   * A message arrived on a connection.
   *
   * @param connId Connection id.
   * @param message The decoded message.
   * @param now Current time.
   */
  received(connId: number, message: SeedMessage, now: number): void {
    const conn = this.#conns.get(connId);
    if (conn === undefined) return;
    conn.lastReceived = now;
    this.#apply(conn, this.#classify(conn, message), message, now);
  }

  /**
   * Applies an already classified event to a connection: the low-level
   * entry that {@link SeedCore.received} and the other inputs go through.
   * Tests use it to exercise every (state, event) pair of
   * {@link SEED_TRANSITIONS}.
   *
   * @param connId Connection id.
   * @param event The classified event.
   * @param message The message that carries it, if any.
   * @param now Current time.
   */
  dispatch(
    connId: number,
    event: SeedEventKind,
    message: SeedMessage | undefined,
    now: number,
  ): void {
    const conn = this.#conns.get(connId);
    if (conn !== undefined) this.#apply(conn, event, message, now);
  }

  /**
   * A frame could not be decoded (oversize, bad header, bad payload).
   *
   * @param connId Connection id.
   * @param now Current time.
   */
  protocolError(connId: number, now: number): void {
    const conn = this.#conns.get(connId);
    if (conn !== undefined) this.#apply(conn, "protocol_error", undefined, now);
  }

  /**
   * A connection closed.
   *
   * @param connId Connection id.
   * @param now Current time.
   */
  disconnected(connId: number, now: number): void {
    const conn = this.#conns.get(connId);
    if (conn !== undefined) this.#apply(conn, "disconnected", undefined, now);
  }

  /**
   * A requested certificate was issued.
   *
   * @param connId Connection id.
   * @param leafCert Leaf DER.
   * @param now Current time.
   */
  certIssued(connId: number, leafCert: Uint8Array, now: number): void {
    const conn = this.#conns.get(connId);
    if (conn === undefined) return;
    conn.leaf = leafCert;
    this.#apply(conn, "cert_issued", undefined, now);
  }

  /**
   * A requested certificate could not be issued (bad CSR).
   *
   * @param connId Connection id.
   * @param now Current time.
   */
  certFailed(connId: number, now: number): void {
    const conn = this.#conns.get(connId);
    if (conn !== undefined) this.#apply(conn, "cert_failed", undefined, now);
  }

  /**
   * Closes the seed: every connection gets a Reject or Farewell.
   *
   * @param now Current time.
   */
  close(now: number): void {
    if (this.#closed) return;
    for (const conn of [...this.#conns.values()]) {
      this.#apply(conn, "seed_closing", undefined, now);
    }
    this.#closed = true;
    this.membership.close();
  }

  /** True once closed. */
  get closed(): boolean {
    return this.#closed;
  }

  /**
   * Starts a checkpoint now, if one has something to apply.
   *
   * @param now Current time.
   */
  checkpoint(now: number): void {
    this.#checkpointDue = undefined;
    this.#maybePropose(now);
  }

  /**
   * The next time {@link SeedCore.tick} has work.
   *
   * @returns A time, or `undefined`.
   */
  nextDeadline(): number | undefined {
    let next: number | undefined;
    const take = (t: number | undefined): void => {
      if (t !== undefined && t !== Infinity) {
        next = next === undefined ? t : Math.min(next, t);
      }
    };
    if (this.#closed) return undefined;
    if (this.membership.phase === "forming") take(this.#formationDeadline);
    take(this.#checkpointDeadline);
    take(this.#checkpointDue);
    for (const c of this.#conns.values()) {
      take(c.deadline);
      if (
        c.state === "admitted" || c.state === "welcomed" || c.state === "joined"
      ) {
        take(c.nextHeartbeat);
        take(c.lastReceived + this.#t.heartbeatTimeoutMs);
      }
    }
    return next;
  }

  /**
   * Advances time: handshake deadlines, heartbeats, receive timeouts,
   * checkpoint and formation deadlines.
   *
   * @param now Current time.
   */
  tick(now: number): void {
    if (this.#closed) return;
    if (
      this.membership.phase === "forming" && now >= this.#formationDeadline
    ) {
      const joined = this.membership.pending.length;
      this.#event({
        type: "formation_failed",
        joined,
        expected: this.membership.expectedWorldSize,
      });
      for (const conn of [...this.#conns.values()]) {
        if (conn.state !== "closed") {
          this.#send(conn, {
            type: "farewell",
            code: "formation_failed",
            reason:
              `formation timed out: ${joined}/${this.membership.expectedWorldSize} joined`,
          });
        }
        this.#closeConn(conn);
      }
      this.#closed = true;
      this.membership.close();
      return;
    }
    for (const conn of [...this.#conns.values()]) {
      if (conn.state === "closed") continue;
      const live = conn.state === "admitted" || conn.state === "welcomed" ||
        conn.state === "joined";
      if (
        (conn.deadline !== undefined && now >= conn.deadline) ||
        (live && now - conn.lastReceived >= this.#t.heartbeatTimeoutMs)
      ) {
        this.#apply(conn, "deadline", undefined, now);
        continue;
      }
      if (live && now >= conn.nextHeartbeat) {
        conn.nextHeartbeat = now + this.#t.heartbeatIntervalMs;
        this.#send(conn, {
          type: "heartbeat",
          generation: this.membership.generation,
          seq: conn.heartbeatSeq++,
        });
      }
    }
    if (
      this.#checkpointDeadline !== undefined && now >= this.#checkpointDeadline
    ) {
      this.#checkpointDeadline = undefined;
      const p = this.membership.proposal;
      if (p !== undefined) {
        for (const id of p.participants) {
          if (!p.acked.has(id)) {
            const c = this.#byNode.get(id);
            const conn = c === undefined ? undefined : this.#conns.get(c);
            if (conn !== undefined) {
              this.#apply(conn, "deadline", undefined, now);
            } else this.membership.fail(id);
          }
        }
      }
    }
    if (this.#checkpointDue !== undefined && now >= this.#checkpointDue) {
      this.#checkpointDue = undefined;
      this.#maybePropose(now);
    }
  }

  #classify(conn: Conn, m: SeedMessage): SeedEventKind {
    switch (m.type) {
      case "hello": {
        if (!SUPPORTED_VERSIONS.includes(m.version)) return "hello_bad_version";
        if (
          !isValidId(m.nodeId) || m.nonce.length !== NONCE_BYTES ||
          splitHostPort(m.listenAddr) === undefined
        ) return "hello_bad";
        return conn.state === "awaiting_hello" ? "hello_ok" : "unexpected";
      }
      case "auth": {
        if (conn.state !== "awaiting_auth") return "unexpected";
        const ok = this.#token === undefined
          ? m.proof.length === 0
          : verifyProof(this.#token, "joiner", this.#proofInput(conn), m.proof);
        if (!ok) return "auth_bad";
        const admission = this.membership.admit(conn.nodeId!, conn.listenAddr!);
        if ("refused" in admission) {
          conn.refusal = admission.refused === "duplicate"
            ? "duplicate"
            : admission.refused === "closed"
            ? "closed"
            : "full";
          return "auth_refused";
        }
        return "auth_ok";
      }
      case "welcome_ack":
        return m.generation === conn.welcomeGeneration
          ? "welcome_ack"
          : "unexpected";
      case "propose_ack":
        return "propose_ack";
      case "leave":
        return "leave";
      case "heartbeat":
        return "heartbeat";
      case "suspect":
        return "suspect";
      case "renew":
        return "renew";
      default:
        return "unexpected";
    }
  }

  #proofInput(conn: Conn): {
    binding: Uint8Array;
    joinerNonce: Uint8Array;
    seedNonce: Uint8Array;
    nodeId: string;
  } {
    return {
      binding: this.#binding,
      joinerNonce: conn.joinerNonce!,
      seedNonce: conn.seedNonce!,
      nodeId: conn.nodeId!,
    };
  }

  #send(conn: Conn, message: SeedMessage): void {
    this.#out.push({ kind: "send", connId: conn.id, message });
  }

  #event(event: SeedNodeEvent): void {
    this.#out.push({ kind: "event", event });
  }

  #reject(conn: Conn, code: RejectCode, reason: string): void {
    this.#send(conn, {
      type: "reject",
      code,
      reason,
      supportedVersions: [...SUPPORTED_VERSIONS],
    });
    this.#event({
      type: "rejected",
      connId: conn.id,
      code,
      nodeId: conn.nodeId,
    });
  }

  #closeConn(conn: Conn): void {
    conn.state = "closed";
    conn.deadline = undefined;
    this.#conns.delete(conn.id);
    if (
      conn.nodeId !== undefined && this.#byNode.get(conn.nodeId) === conn.id
    ) {
      this.#byNode.delete(conn.nodeId);
    }
    this.#out.push({ kind: "close", connId: conn.id });
  }

  #apply(
    conn: Conn,
    event: SeedEventKind,
    message: SeedMessage | undefined,
    now: number,
  ): void {
    const t = SEED_TRANSITIONS[conn.state][event];
    const before = conn.state;
    conn.state = t.next;
    switch (t.action) {
      case "ignore":
        break;
      case "send_challenge": {
        const hello = message as Extract<SeedMessage, { type: "hello" }>;
        conn.nodeId = hello.nodeId;
        conn.listenAddr = hello.listenAddr;
        conn.joinerNonce = hello.nonce;
        conn.seedNonce = this.#random(NONCE_BYTES);
        conn.deadline = now + this.#t.handshakeTimeoutMs;
        this.#send(conn, {
          type: "challenge",
          nonce: conn.seedNonce,
          proof: this.#token === undefined
            ? new Uint8Array()
            : computeProof(this.#token, "seed", this.#proofInput(conn)),
        });
        break;
      }
      case "reject_version":
        this.#reject(
          conn,
          "version",
          `unsupported protocol version ${
            (message as { version: number }).version
          }`,
        );
        break;
      case "reject_malformed":
        this.#reject(
          conn,
          "malformed",
          message === undefined
            ? "malformed frame"
            : `unexpected ${message.type} in state ${before}`,
        );
        break;
      case "reject_auth":
        this.#reject(conn, "auth", "cluster token proof did not verify");
        break;
      case "reject_refused":
        this.#reject(
          conn,
          conn.refusal ?? "full",
          conn.refusal === "duplicate"
            ? "node id already in the cluster"
            : conn.refusal === "closed"
            ? "the seed is closing"
            : `cluster is full (max ${this.membership.maxWorldSize})`,
        );
        break;
      case "reject_timeout":
        this.#reject(conn, "timeout", `no progress in state ${before}`);
        break;
      case "reject_closed":
        this.#reject(conn, "closed", "the seed is closing");
        break;
      case "issue_cert": {
        const auth = message as Extract<SeedMessage, { type: "auth" }>;
        this.#byNode.set(conn.nodeId!, conn.id);
        conn.deadline = now + this.#t.handshakeTimeoutMs;
        this.#out.push({
          kind: "issue",
          connId: conn.id,
          nodeId: conn.nodeId!,
          listenAddr: conn.listenAddr!,
          csr: auth.csr,
          renewal: false,
        });
        break;
      }
      case "admit": {
        conn.deadline = undefined;
        conn.nextHeartbeat = now;
        const rank = this.membership.rankOf(conn.nodeId!)!;
        const forming = this.membership.phase === "forming";
        this.#event({
          type: "admitted",
          nodeId: conn.nodeId!,
          rank,
          pending: !forming,
        });
        if (forming) this.#maybePropose(now);
        else this.#apply(conn, "send_welcome", undefined, now);
        break;
      }
      case "send_welcome": {
        const p = this.membership.proposal;
        const forming = this.membership.phase === "forming";
        conn.deadline = now + this.#t.handshakeTimeoutMs;
        if (forming && !(p?.participants.includes(conn.nodeId!) ?? false)) {
          // Not part of a formation proposal: nothing to welcome to (the
          // Welcome-ack deadline then releases the connection).
          break;
        }
        const generation = forming ? p!.generation : this.membership.generation;
        const peers = forming ? p!.peers : this.membership.peers;
        conn.welcomeGeneration = generation;
        this.#send(conn, {
          type: "welcome",
          clusterId: this.clusterId,
          rank: this.membership.rankOf(conn.nodeId!)!,
          worldSize: forming ? peers.length : this.membership.members.length,
          generation,
          pending: !forming,
          peers,
          caCert: this.#caCert,
          leafCert: conn.leaf!,
        });
        break;
      }
      case "welcome_acked": {
        conn.deadline = undefined;
        if (this.membership.phase === "forming") {
          this.#commitIfDone(
            this.membership.ack(conn.nodeId!, conn.welcomeGeneration!),
            now,
          );
        } else {
          this.membership.welcomed(conn.nodeId!);
          this.#scheduleCheckpoint(now);
        }
        break;
      }
      case "checkpoint_ack": {
        const g = (message as { generation: number }).generation;
        this.#commitIfDone(this.membership.ack(conn.nodeId!, g), now);
        break;
      }
      case "mark_leaving":
        this.membership.leave(conn.nodeId!);
        this.#event({ type: "leave_requested", nodeId: conn.nodeId! });
        this.#scheduleCheckpoint(now);
        break;
      case "note_alive":
        break;
      case "note_suspect":
        this.#event({
          type: "suspected",
          by: conn.nodeId!,
          nodeId: (message as { nodeId: string }).nodeId,
        });
        break;
      case "renew_cert":
        this.#out.push({
          kind: "issue",
          connId: conn.id,
          nodeId: conn.nodeId!,
          listenAddr: conn.listenAddr!,
          csr: (message as { csr: Uint8Array }).csr,
          renewal: true,
        });
        break;
      case "renewed":
        this.#send(conn, { type: "renewed", leafCert: conn.leaf! });
        this.#event({ type: "renewed", nodeId: conn.nodeId! });
        break;
      case "renew_failed":
        break;
      case "drop":
        this.#closeConn(conn);
        break;
      case "member_lost": {
        if (event !== "disconnected" && event !== "deadline") {
          this.#reject(
            conn,
            event === "protocol_error" || event === "unexpected" ||
              event === "hello_ok" || event === "hello_bad" ||
              event === "hello_bad_version" || event === "auth_ok" ||
              event === "auth_bad" || event === "auth_refused" ||
              event === "cert_failed"
              ? "malformed"
              : "closed",
            `connection dropped in state ${before} (${event})`,
          );
        }
        const id = conn.nodeId!;
        this.#closeConn(conn);
        if (this.membership.isMember(id)) {
          this.membership.fail(id);
          this.#event({ type: "member_failed", nodeId: id, reason: event });
        } else if (this.membership.release(id)) {
          this.#event({ type: "released", nodeId: id });
        }
        this.#scheduleCheckpoint(now);
        break;
      }
      case "farewell_closed":
        this.#send(conn, {
          type: "farewell",
          code: "seed_closed",
          reason: "the seed is closing",
        });
        this.#closeConn(conn);
        break;
    }
    if (t.next === "closed" && this.#conns.has(conn.id)) this.#closeConn(conn);
  }

  #scheduleCheckpoint(now: number): void {
    if (this.membership.phase === "forming") {
      this.#maybePropose(now);
      return;
    }
    this.#checkpointDue ??= now + this.#t.checkpointDelayMs;
  }

  #maybePropose(now: number): void {
    if (this.#closed) return;
    if (this.membership.phase === "forming") {
      // Every joiner must hold its certificate before the Welcomes go out.
      const ready = this.membership.pending.every((j) => {
        const c = this.#byNode.get(j.nodeId);
        return c !== undefined && this.#conns.get(c)?.leaf !== undefined;
      });
      if (!ready) return;
    }
    const p = this.membership.propose();
    if (p === undefined) return;
    if ("blocked" in p) {
      if (!this.#blocked) {
        this.#blocked = true;
        this.#event({
          type: "no_quorum",
          members: this.membership.members.length,
          failed: this.membership.pendingRemovals.length,
        });
      }
      return;
    }
    this.#blocked = false;
    this.#checkpointDeadline = now + this.#t.checkpointTimeoutMs;
    this.#event({ type: "proposed", generation: p.generation, peers: p.peers });
    for (const id of p.participants) {
      const c = this.#byNode.get(id);
      const conn = c === undefined ? undefined : this.#conns.get(c);
      if (conn === undefined) continue;
      if (p.formation) this.#apply(conn, "send_welcome", undefined, now);
      else {
        this.#send(conn, {
          type: "propose",
          generation: p.generation,
          peers: p.peers,
        });
      }
    }
  }

  #commitIfDone(commit: CommitResult | undefined, now: number): void {
    if (commit === undefined) return;
    this.#checkpointDeadline = undefined;
    this.#event({ type: "committed", commit });
    for (const id of commit.peers.map((p) => p.nodeId)) {
      const c = this.#byNode.get(id);
      const conn = c === undefined ? undefined : this.#conns.get(c);
      if (conn !== undefined) {
        this.#send(conn, { type: "commit", generation: commit.generation });
      }
    }
    for (const id of commit.left) {
      const c = this.#byNode.get(id);
      const conn = c === undefined ? undefined : this.#conns.get(c);
      if (conn !== undefined) {
        this.#send(conn, {
          type: "farewell",
          code: "left",
          reason: `left at generation ${commit.generation}`,
        });
        this.#closeConn(conn);
      }
    }
    if (this.membership.hasChanges) this.#scheduleCheckpoint(now);
  }
}
