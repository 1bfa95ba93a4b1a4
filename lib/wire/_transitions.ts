/**
 * The session state machines as data. Each role has a frozen table keyed by
 * state, then by input event, giving the action the session runs and the
 * state it ends in when the action succeeds. An action that finds a
 * violation closes the session instead (state `closed`); the tests check
 * every (state, event) pair of both tables.
 *
 * @module
 */

/**
 * Session states. The worker starts in `awaiting_welcome`; the router starts
 * in `awaiting_hello` and waits in `awaiting_admission` for the driver's
 * `admit`/`reject`.
 *
 * @example
 * ```ts
 * import { SESSION_STATES } from "./_transitions.ts";
 * console.assert(SESSION_STATES.OPEN === "open");
 * ```
 */
export const SESSION_STATES = {
  AWAITING_WELCOME: "awaiting_welcome",
  AWAITING_HELLO: "awaiting_hello",
  AWAITING_ADMISSION: "awaiting_admission",
  OPEN: "open",
  CLOSED: "closed",
} as const;

/** A session state. */
export type SessionState = typeof SESSION_STATES[keyof typeof SESSION_STATES];

/** The states of a worker-side session. */
export type WorkerSessionState = "awaiting_welcome" | "open" | "closed";
/** The states of a router-side session. */
export type RouterSessionState =
  | "awaiting_hello"
  | "awaiting_admission"
  | "open"
  | "closed";

/**
 * The states of a worker-side session.
 *
 * @deprecated Use {@link WorkerSessionState} (the name clashed with the
 * worker's `WorkerState` class); this alias goes in the next release.
 */
export type WorkerState = WorkerSessionState;
/**
 * The states of a router-side session.
 *
 * @deprecated Use {@link RouterSessionState} (the name clashed with the
 * router runtime's `RouterState`); this alias goes in the next release.
 */
export type RouterState = RouterSessionState;

/**
 * Inputs that drive a session (received frames, time, end of stream, commands).
 *
 * @example
 * ```ts
 * import { SESSION_INPUTS } from "./_transitions.ts";
 * console.assert(SESSION_INPUTS.EOF === "eof");
 * ```
 */
export const SESSION_INPUTS = {
  /** A decoded `Hello` frame. */
  HELLO_FRAME: "hello_frame",
  /** A decoded `Welcome` frame. */
  WELCOME_FRAME: "welcome_frame",
  /** A decoded `Reject` frame. */
  REJECT_FRAME: "reject_frame",
  /** A decoded `Packet` frame. */
  PACKET_FRAME: "packet_frame",
  /** A decoded `PacketChunk` frame. */
  CHUNK_FRAME: "chunk_frame",
  /** A decoded `WireFrame::Unknown`. */
  UNKNOWN_FRAME: "unknown_frame",
  /** A complete frame that does not decode as a v3 `WireFrame`. */
  UNDECODABLE_FRAME: "undecodable_frame",
  /** A length prefix over the current frame limit. */
  FRAME_TOO_LARGE: "frame_too_large",
  /** The peer ended the stream. */
  EOF: "eof",
  /** The driver reported that the deadline passed. */
  TIMEOUT: "timeout",
  /** A local `call`, `respond`, `notify` or `cancel`. */
  SEND: "send",
  /** A local `close`. */
  CLOSE: "close",
  /** The router's driver admitted the worker. */
  ADMIT: "admit",
  /** The router's driver rejected the worker. */
  REJECT: "reject",
} as const;

/** A session input. */
export type SessionInput = typeof SESSION_INPUTS[keyof typeof SESSION_INPUTS];

/** Inputs of the worker role. */
export type WorkerInput = Exclude<SessionInput, "admit" | "reject">;
/** Inputs of the router role. */
export type RouterInput = SessionInput;

/**
 * What a session does for an input:
 * - `accept_welcome`: check the `Welcome`, switch to the negotiated limits;
 * - `handshake_rejected`: report the router's `Reject`, close;
 * - `evaluate_hello`: run the router's checks; `Reject` or ask for admission;
 * - `send_welcome` / `send_reject`: answer the admission;
 * - `legacy_check`: answer a legacy v2 hello with the legacy error, close;
 * - `fail_handshake`: an unexpected frame during the handshake, close;
 * - `fail_unexpected`: a handshake frame after the handshake, close;
 * - `fail_decode`: a frame or decode error, close;
 * - `fail_eof`: end of stream during the handshake, close;
 * - `fail_timeout`: the handshake deadline passed, close;
 * - `peer_closed`: end of stream after the handshake, close;
 * - `process_packet` / `process_chunk`: the data plane;
 * - `send`: queue an outgoing payload;
 * - `refuse_send`: throw a local error (not open), nothing changes;
 * - `refuse_command`: throw a local error (admission not pending);
 * - `defer`: keep the bytes buffered until the admission is answered;
 * - `close_local`: close on request;
 * - `ignore`: nothing happens.
 */
export type SessionAction =
  | "accept_welcome"
  | "handshake_rejected"
  | "evaluate_hello"
  | "send_welcome"
  | "send_reject"
  | "legacy_check"
  | "fail_handshake"
  | "fail_unexpected"
  | "fail_decode"
  | "fail_eof"
  | "fail_timeout"
  | "peer_closed"
  | "process_packet"
  | "process_chunk"
  | "send"
  | "refuse_send"
  | "refuse_command"
  | "defer"
  | "close_local"
  | "ignore";

/** One table cell: the action and the state after it succeeds. */
export interface Transition<S extends string> {
  /** What the session does. */
  readonly action: SessionAction;
  /** The state after the action succeeds. */
  readonly next: S;
}

/** A frozen transition table: state, then input, to a {@link Transition}. */
export type TransitionTable<S extends string, E extends string> = Readonly<
  Record<S, Readonly<Record<E, Transition<S>>>>
>;

function t<S extends string>(action: SessionAction, next: S): Transition<S> {
  return Object.freeze({ action, next });
}

function freeze<S extends string, E extends string>(
  table: Record<S, Record<E, Transition<S>>>,
): TransitionTable<S, E> {
  for (const row of Object.values(table)) Object.freeze(row);
  return Object.freeze(table);
}

/** The `open` row of both roles (the router adds `admit` and `reject`). */
const OPEN_ROW: Readonly<
  Record<WorkerInput, Transition<"open" | "closed">>
> = Object.freeze({
  hello_frame: t("fail_unexpected", "closed"),
  welcome_frame: t("fail_unexpected", "closed"),
  reject_frame: t("fail_unexpected", "closed"),
  packet_frame: t("process_packet", "open"),
  chunk_frame: t("process_chunk", "open"),
  unknown_frame: t("ignore", "open"),
  undecodable_frame: t("fail_decode", "closed"),
  frame_too_large: t("fail_decode", "closed"),
  eof: t("peer_closed", "closed"),
  timeout: t("ignore", "open"),
  send: t("send", "open"),
  close: t("close_local", "closed"),
});

/** The `closed` row of both roles (the router adds `admit` and `reject`). */
const CLOSED_ROW: Readonly<
  Record<WorkerInput, Transition<"open" | "closed">>
> = Object.freeze({
  hello_frame: t("ignore", "closed"),
  welcome_frame: t("ignore", "closed"),
  reject_frame: t("ignore", "closed"),
  packet_frame: t("ignore", "closed"),
  chunk_frame: t("ignore", "closed"),
  unknown_frame: t("ignore", "closed"),
  undecodable_frame: t("ignore", "closed"),
  frame_too_large: t("ignore", "closed"),
  eof: t("ignore", "closed"),
  timeout: t("ignore", "closed"),
  send: t("refuse_send", "closed"),
  close: t("ignore", "closed"),
});

/**
 * The worker's table.
 *
 * @example
 * ```ts
 * import { WORKER_TRANSITIONS } from "./_transitions.ts";
 * const cell = WORKER_TRANSITIONS.awaiting_welcome.welcome_frame;
 * console.assert(cell.action === "accept_welcome" && cell.next === "open");
 * ```
 */
export const WORKER_TRANSITIONS: TransitionTable<
  WorkerSessionState,
  WorkerInput
> = freeze({
  awaiting_welcome: {
    hello_frame: t("fail_handshake", "closed"),
    welcome_frame: t("accept_welcome", "open"),
    reject_frame: t("handshake_rejected", "closed"),
    packet_frame: t("fail_handshake", "closed"),
    chunk_frame: t("fail_handshake", "closed"),
    unknown_frame: t("fail_handshake", "closed"),
    undecodable_frame: t("fail_decode", "closed"),
    frame_too_large: t("fail_decode", "closed"),
    eof: t("fail_eof", "closed"),
    timeout: t("fail_timeout", "closed"),
    send: t("refuse_send", "awaiting_welcome"),
    close: t("close_local", "closed"),
  },
  open: OPEN_ROW,
  closed: CLOSED_ROW,
});

/**
 * The router's table.
 *
 * @example
 * ```ts
 * import { ROUTER_TRANSITIONS } from "./_transitions.ts";
 * const cell = ROUTER_TRANSITIONS.awaiting_admission.admit;
 * console.assert(cell.action === "send_welcome" && cell.next === "open");
 * ```
 */
export const ROUTER_TRANSITIONS: TransitionTable<
  RouterSessionState,
  RouterInput
> = freeze({
  awaiting_hello: {
    hello_frame: t("evaluate_hello", "awaiting_admission"),
    welcome_frame: t("fail_handshake", "closed"),
    reject_frame: t("fail_handshake", "closed"),
    packet_frame: t("fail_handshake", "closed"),
    chunk_frame: t("fail_handshake", "closed"),
    unknown_frame: t("fail_handshake", "closed"),
    undecodable_frame: t("legacy_check", "closed"),
    frame_too_large: t("fail_decode", "closed"),
    eof: t("fail_eof", "closed"),
    timeout: t("fail_timeout", "closed"),
    send: t("refuse_send", "awaiting_hello"),
    close: t("close_local", "closed"),
    admit: t("refuse_command", "awaiting_hello"),
    reject: t("refuse_command", "awaiting_hello"),
  },
  awaiting_admission: {
    hello_frame: t("defer", "awaiting_admission"),
    welcome_frame: t("defer", "awaiting_admission"),
    reject_frame: t("defer", "awaiting_admission"),
    packet_frame: t("defer", "awaiting_admission"),
    chunk_frame: t("defer", "awaiting_admission"),
    unknown_frame: t("defer", "awaiting_admission"),
    undecodable_frame: t("defer", "awaiting_admission"),
    frame_too_large: t("defer", "awaiting_admission"),
    eof: t("fail_eof", "closed"),
    timeout: t("fail_timeout", "closed"),
    send: t("refuse_send", "awaiting_admission"),
    close: t("close_local", "closed"),
    admit: t("send_welcome", "open"),
    reject: t("send_reject", "closed"),
  },
  open: {
    ...OPEN_ROW,
    admit: t("refuse_command", "open"),
    reject: t("refuse_command", "open"),
  },
  closed: {
    ...CLOSED_ROW,
    admit: t("ignore", "closed"),
    reject: t("ignore", "closed"),
  },
});
