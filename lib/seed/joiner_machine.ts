/**
 * The joiner's side of the bootstrap connection as a synchronous state
 * machine with its transition table as data ({@link JOINER_TRANSITIONS}).
 * It sends Hello on {@link JoinerCore.connected}, checks the seed's proof of
 * the token before it answers, sends its CSR (never a private key),
 * acknowledges the Welcome, and then follows proposals and commits of the
 * cluster membership.
 *
 * @module
 */

import { computeProof, NONCE_BYTES, verifyProof } from "./auth.ts";
import { DEFAULT_SEED_TIMINGS, type SeedTimings } from "./limits.ts";
import {
  type PeerEntry,
  SEED_PROTOCOL_VERSION,
  type SeedMessage,
  type WelcomeMessage,
} from "./messages.ts";

/**
 * Joiner states.
 *
 * @example
 * ```ts
 * import { JOINER_STATES } from "./joiner_machine.ts";
 * console.assert(JOINER_STATES.includes("member"));
 * ```
 */
export const JOINER_STATES = [
  "connecting",
  "awaiting_challenge",
  "awaiting_welcome",
  "welcomed",
  "member",
  "left",
  "failed",
] as const;

/** A joiner state. */
export type JoinerState = typeof JOINER_STATES[number];

/**
 * Classified joiner events.
 *
 * @example
 * ```ts
 * import { JOINER_EVENTS } from "./joiner_machine.ts";
 * console.assert(JOINER_EVENTS.includes("challenge_bad"));
 * ```
 */
export const JOINER_EVENTS = [
  "connected",
  "challenge_ok",
  "challenge_bad",
  "reject",
  "welcome",
  "propose",
  "commit",
  "commit_removed",
  "farewell",
  "heartbeat",
  "renewed",
  "unexpected",
  "protocol_error",
  "deadline",
  "disconnected",
  "leave_requested",
] as const;

/** A classified joiner event. */
export type JoinerEventKind = typeof JOINER_EVENTS[number];

/** What a joiner transition does. */
export type JoinerAction =
  | "send_hello"
  | "send_auth"
  | "seed_impostor"
  | "rejected"
  | "accept_welcome"
  | "ack_propose"
  | "apply_commit"
  | "removed"
  | "note_alive"
  | "renewed"
  | "protocol_failure"
  | "timed_out"
  | "seed_lost"
  | "send_leave"
  | "ignore";

/** One joiner transition. */
export interface JoinerTransition {
  /** Next state. */
  next: JoinerState;
  /** Action. */
  action: JoinerAction;
}

/** One state's row of {@link JOINER_TRANSITIONS}. */
export type JoinerTransitionRow = Record<JoinerEventKind, JoinerTransition>;
type Row = JoinerTransitionRow;

function row(defaults: JoinerTransition, overrides: Partial<Row>): Row {
  const out = {} as Row;
  for (const e of JOINER_EVENTS) out[e] = overrides[e] ?? defaults;
  return out;
}

const fail: JoinerTransition = { next: "failed", action: "protocol_failure" };
const common = {
  reject: { next: "failed", action: "rejected" },
  farewell: { next: "left", action: "removed" },
  protocol_error: fail,
  deadline: { next: "failed", action: "timed_out" },
  disconnected: { next: "failed", action: "seed_lost" },
} as const satisfies Partial<Row>;

/**
 * The joiner transition table: `JOINER_TRANSITIONS[state][event]`.
 *
 * @example
 * ```ts
 * import { JOINER_TRANSITIONS } from "./joiner_machine.ts";
 * console.assert(JOINER_TRANSITIONS.awaiting_challenge.challenge_bad.next === "failed");
 * ```
 */
export const JOINER_TRANSITIONS: Readonly<
  Record<JoinerState, Readonly<JoinerTransitionRow>>
> = {
  connecting: row(fail, {
    ...common,
    connected: { next: "awaiting_challenge", action: "send_hello" },
    leave_requested: { next: "left", action: "ignore" },
  }),
  awaiting_challenge: row(fail, {
    ...common,
    challenge_ok: { next: "awaiting_welcome", action: "send_auth" },
    challenge_bad: { next: "failed", action: "seed_impostor" },
    leave_requested: { next: "left", action: "ignore" },
  }),
  awaiting_welcome: row(fail, {
    ...common,
    welcome: { next: "welcomed", action: "accept_welcome" },
    heartbeat: { next: "awaiting_welcome", action: "note_alive" },
    leave_requested: { next: "left", action: "ignore" },
  }),
  welcomed: row(fail, {
    ...common,
    welcome: { next: "welcomed", action: "accept_welcome" },
    propose: { next: "welcomed", action: "ack_propose" },
    commit: { next: "member", action: "apply_commit" },
    commit_removed: { next: "left", action: "removed" },
    heartbeat: { next: "welcomed", action: "note_alive" },
    leave_requested: { next: "left", action: "ignore" },
  }),
  member: row(fail, {
    ...common,
    welcome: { next: "welcomed", action: "accept_welcome" },
    propose: { next: "member", action: "ack_propose" },
    commit: { next: "member", action: "apply_commit" },
    commit_removed: { next: "left", action: "removed" },
    heartbeat: { next: "member", action: "note_alive" },
    renewed: { next: "member", action: "renewed" },
    leave_requested: { next: "member", action: "send_leave" },
    disconnected: { next: "failed", action: "seed_lost" },
  }),
  left: row({ next: "left", action: "ignore" }, {}),
  failed: row({ next: "failed", action: "ignore" }, {}),
};

/** The membership view of a joiner. */
export interface MembershipView {
  /** Cluster id. */
  clusterId: string;
  /** Own rank. */
  rank: number;
  /** World size. */
  worldSize: number;
  /** Generation. */
  generation: number;
  /** Peer table sorted by rank (self included). */
  peers: PeerEntry[];
}

/** Events a joiner reports. */
export type JoinerEvent =
  | {
    type: "welcomed";
    view: MembershipView;
    pending: boolean;
    caCert: Uint8Array;
    leafCert: Uint8Array;
  }
  | { type: "proposed"; generation: number; peers: PeerEntry[] }
  | { type: "committed"; view: MembershipView; previousRank: number }
  | { type: "removed"; code: string; reason: string }
  | {
    type: "rejected";
    code: string;
    reason: string;
    supportedVersions: number[];
  }
  | { type: "failed"; code: string; reason: string }
  | { type: "renewed"; leafCert: Uint8Array };

/** A joiner command. */
export type JoinerCommand =
  | { kind: "send"; message: SeedMessage }
  | { kind: "close" }
  | { kind: "event"; event: JoinerEvent };

/** Options of {@link JoinerCore}. */
export interface JoinerCoreOptions {
  /** Stable node id. */
  nodeId: string;
  /** Advertised mesh address. */
  listenAddr: string;
  /** The CSR (DER) for this node's key. */
  csr: Uint8Array;
  /** The cluster token; `undefined` only against an insecure loopback seed. */
  token: Uint8Array | undefined;
  /** Random bytes source. */
  randomBytes: (n: number) => Uint8Array;
  /** Protocol version to announce. @default {1} */
  version?: number;
  /** Timings (handshake and heartbeat timeouts). */
  timings?: Partial<SeedTimings>;
  /** Overall deadline for being welcomed (absolute time). */
  joinDeadline?: number;
}

/**
 * The joiner core.
 *
 * @example
 * ```ts
 * import { JoinerCore } from "./joiner_machine.ts";
 * const j = new JoinerCore({ nodeId: "n1", listenAddr: "127.0.0.1:1", csr: new Uint8Array(1),
 *   token: undefined, randomBytes: (n) => new Uint8Array(n) });
 * j.connected(new Uint8Array(32), 0);
 * console.assert(j.state === "awaiting_challenge" && j.poll()[0].kind === "send");
 * ```
 */
export class JoinerCore {
  /** This node's id. */
  readonly nodeId: string;
  readonly #o: JoinerCoreOptions;
  readonly #t: SeedTimings;
  #state: JoinerState = "connecting";
  #out: JoinerCommand[] = [];
  #binding: Uint8Array = new Uint8Array();
  #nonce: Uint8Array;
  #deadline: number | undefined;
  #lastReceived = 0;
  #nextHeartbeat = Infinity;
  #seq = 0;
  #view: MembershipView | undefined;
  #proposal: { generation: number; peers: PeerEntry[] } | undefined;
  #welcomeGeneration = 0;
  #clusterId = "";

  /**
   * Creates a joiner.
   *
   * @param options Identity, CSR, token, randomness, timings.
   */
  constructor(options: JoinerCoreOptions) {
    this.nodeId = options.nodeId;
    this.#o = options;
    this.#t = { ...DEFAULT_SEED_TIMINGS, ...options.timings };
    this.#nonce = options.randomBytes(NONCE_BYTES);
  }

  /** Current state. */
  get state(): JoinerState {
    return this.#state;
  }

  /** The committed (or, while welcomed, provisional) view. */
  get view(): MembershipView | undefined {
    return this.#view;
  }

  /**
   * Takes queued commands.
   *
   * @returns Commands.
   */
  poll(): JoinerCommand[] {
    const out = this.#out;
    this.#out = [];
    return out;
  }

  /**
   * TLS to the seed is up.
   *
   * @param binding SHA-256 of the seed's certificate DER.
   * @param now Current time.
   */
  connected(binding: Uint8Array, now: number): void {
    this.#binding = binding;
    this.#apply("connected", undefined, now);
  }

  /**
   * A message arrived from the seed.
   *
   * @param message The message.
   * @param now Current time.
   */
  received(message: SeedMessage, now: number): void {
    this.#lastReceived = now;
    this.#apply(this.#classify(message), message, now);
  }

  /**
   * Applies an already classified event (tests use it to exercise every
   * (state, event) pair of {@link JOINER_TRANSITIONS}).
   *
   * @param event The classified event.
   * @param message The message that carries it, if any.
   * @param now Current time.
   */
  dispatch(
    event: JoinerEventKind,
    message: SeedMessage | undefined,
    now: number,
  ): void {
    this.#apply(event, message, now);
  }

  /**
   * A frame could not be decoded.
   *
   * @param now Current time.
   */
  protocolError(now: number): void {
    this.#apply("protocol_error", undefined, now);
  }

  /**
   * The bootstrap connection closed.
   *
   * @param now Current time.
   */
  disconnected(now: number): void {
    this.#apply("disconnected", undefined, now);
  }

  /**
   * Asks to leave at the next checkpoint.
   *
   * @param now Current time.
   */
  leave(now: number): void {
    this.#apply("leave_requested", undefined, now);
  }

  /**
   * Sends a renewal CSR (member state only).
   *
   * @param csr CSR DER for the same node id.
   */
  renew(csr: Uint8Array): void {
    if (this.#state === "member") {
      this.#out.push({ kind: "send", message: { type: "renew", csr } });
    }
  }

  /**
   * The next time {@link JoinerCore.tick} has work.
   *
   * @returns A time or `undefined`.
   */
  nextDeadline(): number | undefined {
    if (this.#state === "left" || this.#state === "failed") return undefined;
    const ts = [this.#deadline, this.#nextHeartbeat];
    if (this.#state === "welcomed" || this.#state === "member") {
      ts.push(this.#lastReceived + this.#t.heartbeatTimeoutMs);
    }
    const finite = ts.filter((t): t is number =>
      t !== undefined && t !== Infinity
    );
    return finite.length === 0 ? undefined : Math.min(...finite);
  }

  /**
   * Advances time.
   *
   * @param now Current time.
   */
  tick(now: number): void {
    if (this.#state === "left" || this.#state === "failed") return;
    const live = this.#state === "welcomed" || this.#state === "member";
    if (
      (this.#deadline !== undefined && now >= this.#deadline) ||
      (live && now - this.#lastReceived >= this.#t.heartbeatTimeoutMs)
    ) {
      this.#apply("deadline", undefined, now);
      return;
    }
    if (now >= this.#nextHeartbeat) {
      this.#nextHeartbeat = now + this.#t.heartbeatIntervalMs;
      this.#out.push({
        kind: "send",
        message: {
          type: "heartbeat",
          generation: this.#view?.generation ?? 0,
          seq: this.#seq++,
        },
      });
    }
  }

  #classify(m: SeedMessage): JoinerEventKind {
    switch (m.type) {
      case "challenge": {
        if (this.#state !== "awaiting_challenge") return "unexpected";
        if (m.nonce.length !== NONCE_BYTES) return "challenge_bad";
        const ok = this.#o.token === undefined
          ? m.proof.length === 0
          : verifyProof(this.#o.token, "seed", this.#input(m.nonce), m.proof);
        return ok ? "challenge_ok" : "challenge_bad";
      }
      case "reject":
        return "reject";
      case "welcome":
        return "welcome";
      case "propose":
        return "propose";
      case "commit": {
        const p = this.#proposal;
        if (
          this.#state === "welcomed" && p === undefined &&
          m.generation === this.#welcomeGeneration
        ) return "commit";
        if (p === undefined || p.generation !== m.generation) {
          return "unexpected";
        }
        return p.peers.some((e) => e.nodeId === this.nodeId)
          ? "commit"
          : "commit_removed";
      }
      case "farewell":
        return "farewell";
      case "heartbeat":
        return "heartbeat";
      case "renewed":
        return "renewed";
      default:
        return "unexpected";
    }
  }

  #input(seedNonce: Uint8Array): {
    binding: Uint8Array;
    joinerNonce: Uint8Array;
    seedNonce: Uint8Array;
    nodeId: string;
  } {
    return {
      binding: this.#binding,
      joinerNonce: this.#nonce,
      seedNonce,
      nodeId: this.nodeId,
    };
  }

  #send(message: SeedMessage): void {
    this.#out.push({ kind: "send", message });
  }

  #event(event: JoinerEvent): void {
    this.#out.push({ kind: "event", event });
  }

  #finish(code: string, reason: string): void {
    this.#deadline = undefined;
    this.#nextHeartbeat = Infinity;
    this.#event({ type: "failed", code, reason });
    this.#out.push({ kind: "close" });
  }

  #apply(
    event: JoinerEventKind,
    message: SeedMessage | undefined,
    now: number,
  ): void {
    const t = JOINER_TRANSITIONS[this.#state][event];
    const before = this.#state;
    this.#state = t.next;
    switch (t.action) {
      case "ignore":
      case "note_alive":
        break;
      case "send_hello":
        this.#deadline = now + this.#t.handshakeTimeoutMs;
        this.#send({
          type: "hello",
          version: this.#o.version ?? SEED_PROTOCOL_VERSION,
          nodeId: this.nodeId,
          listenAddr: this.#o.listenAddr,
          nonce: this.#nonce,
        });
        break;
      case "send_auth": {
        const c = message as Extract<SeedMessage, { type: "challenge" }>;
        this.#send({
          type: "auth",
          proof: this.#o.token === undefined
            ? new Uint8Array()
            : computeProof(this.#o.token, "joiner", this.#input(c.nonce)),
          csr: this.#o.csr,
        });
        // Formation may take long: wait for the Welcome until the join
        // deadline; the seed's heartbeats prove it is alive meanwhile.
        this.#deadline = this.#o.joinDeadline;
        this.#nextHeartbeat = now;
        break;
      }
      case "seed_impostor":
        this.#finish("auth_failed", "the seed did not prove the cluster token");
        break;
      case "rejected": {
        const r = message as Extract<SeedMessage, { type: "reject" }>;
        this.#event({
          type: "rejected",
          code: r.code,
          reason: r.reason,
          supportedVersions: r.supportedVersions,
        });
        this.#finish("rejected", `rejected (${r.code}): ${r.reason}`);
        break;
      }
      case "accept_welcome": {
        const w = message as WelcomeMessage;
        this.#clusterId = w.clusterId;
        this.#welcomeGeneration = w.generation;
        this.#proposal = undefined;
        this.#deadline = undefined;
        this.#view = {
          clusterId: w.clusterId,
          rank: w.rank,
          worldSize: w.worldSize,
          generation: w.generation,
          peers: w.peers,
        };
        this.#event({
          type: "welcomed",
          view: this.#view,
          pending: w.pending,
          caCert: w.caCert,
          leafCert: w.leafCert,
        });
        this.#send({ type: "welcome_ack", generation: w.generation });
        break;
      }
      case "ack_propose": {
        const p = message as Extract<SeedMessage, { type: "propose" }>;
        this.#proposal = { generation: p.generation, peers: p.peers };
        this.#event({
          type: "proposed",
          generation: p.generation,
          peers: p.peers,
        });
        this.#send({ type: "propose_ack", generation: p.generation });
        break;
      }
      case "apply_commit": {
        const previousRank = this.#view?.rank ?? -1;
        const peers = this.#proposal?.peers ?? this.#view!.peers;
        const generation = (message as { generation: number }).generation;
        this.#proposal = undefined;
        const me = peers.find((p) => p.nodeId === this.nodeId)!;
        this.#view = {
          clusterId: this.#clusterId,
          rank: me.rank,
          worldSize: peers.length,
          generation,
          peers,
        };
        this.#event({ type: "committed", view: this.#view, previousRank });
        break;
      }
      case "removed": {
        const f = message?.type === "farewell"
          ? message
          : { code: "left", reason: "not in the committed membership" };
        this.#deadline = undefined;
        this.#nextHeartbeat = Infinity;
        this.#event({ type: "removed", code: f.code, reason: f.reason });
        this.#out.push({ kind: "close" });
        break;
      }
      case "renewed":
        this.#event({
          type: "renewed",
          leafCert: (message as { leafCert: Uint8Array }).leafCert,
        });
        break;
      case "protocol_failure":
        this.#finish(
          "unexpected_message",
          message === undefined
            ? `malformed frame in state ${before}`
            : `unexpected ${message.type} in state ${before}`,
        );
        break;
      case "timed_out":
        this.#finish("handshake_timeout", `no progress in state ${before}`);
        break;
      case "seed_lost":
        this.#finish("closed", `seed connection lost in state ${before}`);
        break;
      case "send_leave":
        this.#send({ type: "leave" });
        break;
    }
  }
}
