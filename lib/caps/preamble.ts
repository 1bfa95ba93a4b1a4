/**
 * The connect preamble as an ordered command plan: a synchronous state
 * machine that hands out one server command at a time and is fed each
 * reply (or error). The order and every step's failure semantics follow the
 * reference:
 *
 * | step | command | on error |
 * |---|---|---|
 * | `ping` | `PING` (reply must be `PONG`) | fatal |
 * | `alive` | `SET ff:worker:{ns}:{iid}:alive 1 NX PX {max(2×ttl,1000)}` (nil = duplicate) | fatal |
 * | `partitions` | `HGETALL ff:config:partitions` | warn, defaults 256/32/32 |
 * | `caps_write` | `HSET …:caps` with 6 fields (non-empty caps) | warn, continue |
 * | `index_add` | `SADD ff:idx:{ns}:workers {iid}` | warn, continue |
 * | `caps_delete` | `DEL …:caps` (empty caps) | ignored |
 * | `index_remove` | `SREM ff:idx:{ns}:workers {iid}` | warn, continue |
 *
 * Deliberate difference: the capabilities are validated before `PING`
 * (`validateFirst`, the default), so a misconfigured worker never takes
 * its alive key and cannot lock itself out for 2 × TTL. With
 * `validateFirst: false` the reference order (validate after `HGETALL`,
 * alive key left behind) is reproduced.
 *
 * @module
 */

import {
  type CapabilitySet,
  lanesCsv,
  validateCapabilities,
} from "./capabilities.ts";
import {
  aliveTtlMs,
  type CapsWorkerConfig,
  checkWorkerConfig,
} from "./config.ts";
import { CapsError } from "./errors.ts";
import { scanCursorSeed } from "./hash.ts";
import {
  PARTITIONS_CONFIG_KEY,
  workerAliveKey,
  workerCapsKey,
  workersIndexKey,
} from "./keys.ts";
import {
  DEFAULT_PARTITION_CONFIG,
  parsePartitionConfig,
  type PartitionConfig,
} from "./partition.ts";

/** A server command: its name then its arguments. */
export type ServerCommand = readonly string[];

/** A RESP2 reply as a client returns it. */
export type ServerReply =
  | string
  | number
  | null
  | readonly ServerReply[];

/** Where the preamble is. */
export type PreambleState =
  | "ping"
  | "alive"
  | "partitions"
  | "caps_write"
  | "index_add"
  | "caps_delete"
  | "index_remove"
  | "done"
  | "failed";

/** What can happen to the command in flight. */
export type PreambleEvent = "reply" | "error";

/** What a step's error does. */
export type PreambleErrorPolicy = "fatal" | "defaults" | "warn" | "ignore";

/** One step of the plan. */
export interface PreambleStepRule {
  /** What an error from the server does. */
  readonly onError: PreambleErrorPolicy;
  /** The error context (fatal) or warning event (warn/defaults). */
  readonly message: string;
}

/**
 * Every command step and what its error does (the single source of truth
 * for the failure semantics).
 *
 * @example
 * ```ts
 * import { PREAMBLE_STEPS } from "./preamble.ts";
 * console.assert(PREAMBLE_STEPS.alive.onError === "fatal");
 * ```
 */
export const PREAMBLE_STEPS: Readonly<
  Record<Exclude<PreambleState, "done" | "failed">, PreambleStepRule>
> = {
  ping: { onError: "fatal", message: "PING failed" },
  alive: { onError: "fatal", message: "SET NX worker alive key" },
  partitions: {
    onError: "defaults",
    message: "ff:config:partitions not found, using defaults",
  },
  caps_write: {
    onError: "warn",
    message: "HSET worker caps advertisement failed; continuing",
  },
  index_add: {
    onError: "warn",
    message: "SADD workers-index failed; continuing",
  },
  caps_delete: { onError: "ignore", message: "DEL worker caps" },
  index_remove: {
    onError: "warn",
    message: "SREM workers-index failed; continuing (non-authoritative)",
  },
};

/** The target of a transition: a state, or `advertise` (caps decide). */
export type PreambleTarget = PreambleState | "advertise";

/**
 * The transition table: state × event → next state. `advertise` means
 * `caps_write` for non-empty capabilities and `caps_delete` for none;
 * `null` marks an event that cannot happen in that state (no command is in
 * flight).
 *
 * @example
 * ```ts
 * import { PREAMBLE_TRANSITIONS } from "./preamble.ts";
 * console.assert(PREAMBLE_TRANSITIONS.ping.error === "failed");
 * console.assert(PREAMBLE_TRANSITIONS.partitions.error === "advertise");
 * ```
 */
export const PREAMBLE_TRANSITIONS: Readonly<
  Record<PreambleState, Readonly<Record<PreambleEvent, PreambleTarget | null>>>
> = {
  ping: { reply: "alive", error: "failed" },
  alive: { reply: "partitions", error: "failed" },
  partitions: { reply: "advertise", error: "advertise" },
  caps_write: { reply: "index_add", error: "index_add" },
  index_add: { reply: "done", error: "done" },
  caps_delete: { reply: "index_remove", error: "index_remove" },
  index_remove: { reply: "done", error: "done" },
  done: { reply: null, error: null },
  failed: { reply: null, error: null },
};

/** A log record the preamble asks its runner to write. */
export interface PreambleLogRecord {
  /** `info` or `warn`. */
  readonly level: "info" | "warn";
  /** The event text (the reference's wording). */
  readonly event: string;
  /** Structured fields. */
  readonly fields: Readonly<Record<string, unknown>>;
}

/** What a successful preamble yields. */
export interface PreambleResult {
  /** Partition counts read from the server (or the defaults). */
  readonly partitionConfig: PartitionConfig;
  /** Whether the partition counts are the defaults because the read failed. */
  readonly partitionDefaults: boolean;
  /** The canonical capability CSV. */
  readonly capabilitiesCsv: string;
  /** Its hash (`4fd0bfc1` when empty). */
  readonly capabilitiesHash: string;
  /** The canonical lanes CSV. */
  readonly lanesCsv: string;
  /** The alive key's TTL in ms. */
  readonly aliveTtlMs: number;
  /** The lease TTL in ms. */
  readonly leaseTtlMs: number;
  /** The first partition of the direct-claim scan. */
  readonly scanCursor: number;
}

/** Options for {@link createPreamble}. */
export interface PreambleOptions {
  /** Wall-clock ms written as `registered_at_ms` / `last_heartbeat_ms`. */
  readonly nowMs: number;
  /**
   * Validate the capabilities before taking the alive key (the fix).
   * `false` reproduces the reference order. @default {true}
   */
  readonly validateFirst?: boolean;
}

/** The preamble state machine. */
export interface Preamble {
  /** The current state. */
  readonly state: PreambleState;
  /** The command to send now (the same until a reply or error is fed). */
  poll(): ServerCommand | undefined;
  /** Feeds the reply to the command in flight. */
  handleReply(reply: ServerReply): void;
  /** Feeds a transport or server error for the command in flight. */
  handleError(error: unknown): void;
  /** Log records produced since the last call. */
  takeLogs(): PreambleLogRecord[];
  /** The result once `state` is `done`. */
  readonly result: PreambleResult | undefined;
  /** The fatal error once `state` is `failed`. */
  readonly error: CapsError | undefined;
  /** Whether this run set the alive key (so it holds it). */
  readonly holdsAliveKey: boolean;
}

function hashFromReply(reply: ServerReply): Record<string, string> {
  const out: Record<string, string> = {};
  if (Array.isArray(reply)) {
    for (let i = 0; i + 1 < reply.length; i += 2) {
      out[String(reply[i])] = String(reply[i + 1]);
    }
  }
  return out;
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * Creates the preamble for one worker. Configuration errors (and, with
 * `validateFirst`, capability errors) put it straight into `failed`
 * without a single command.
 *
 * @param config The worker configuration.
 * @param options The wall-clock time and the validation order.
 * @returns The state machine.
 *
 * @example Drive it by hand
 * ```ts
 * import { createPreamble } from "./preamble.ts";
 * const p = createPreamble(
 *   { workerId: "w", workerInstanceId: "w-1", namespace: "ns", lanes: ["default"], capabilities: ["gpu"] },
 *   { nowMs: 1 },
 * );
 * console.assert(p.poll()?.[0] === "PING");
 * p.handleReply("PONG");
 * console.assert(p.poll()?.join(" ") === "SET ff:worker:ns:w-1:alive 1 NX PX 60000");
 * ```
 */
export function createPreamble(
  config: CapsWorkerConfig,
  options: PreambleOptions,
): Preamble {
  const validateFirst = options.validateFirst ?? true;
  let state: PreambleState = "ping";
  let error: CapsError | undefined;
  let result: PreambleResult | undefined;
  let holdsAliveKey = false;
  let partitionConfig: PartitionConfig = DEFAULT_PARTITION_CONFIG;
  let partitionDefaults = false;
  let caps: CapabilitySet | undefined;
  let logs: PreambleLogRecord[] = [];
  let leaseTtlMs = 0;
  let aliveTtl = 1000;

  const fail = (err: CapsError): void => {
    error = err;
    state = "failed";
  };
  const validate = (): boolean => {
    try {
      caps = validateCapabilities(config.capabilities);
      return true;
    } catch (err) {
      fail(err as CapsError);
      return false;
    }
  };

  try {
    leaseTtlMs = checkWorkerConfig(config).leaseTtlMs;
    aliveTtl = aliveTtlMs(leaseTtlMs);
    if (validateFirst) validate();
  } catch (err) {
    fail(err as CapsError);
  }

  const aliveKey = workerAliveKey(config.namespace, config.workerInstanceId);
  const capsKey = workerCapsKey(config.namespace, config.workerInstanceId);
  const indexKey = workersIndexKey(config.namespace);

  const advertise = (): PreambleState | undefined => {
    if (caps === undefined && !validate()) return undefined;
    if (caps!.csv !== "") {
      logs.push({
        level: "info",
        event:
          "worker connected with capabilities (full CSV — mismatch logs use hash only)",
        fields: {
          worker_instance_id: config.workerInstanceId,
          worker_caps_hash: caps!.hash,
          worker_caps: caps!.csv,
        },
      });
      return "caps_write";
    }
    return "caps_delete";
  };

  const move = (event: PreambleEvent): void => {
    const target = PREAMBLE_TRANSITIONS[state][event];
    if (target === null) {
      throw new RangeError(`no command is in flight in state ${state}`);
    }
    if (target === "advertise") {
      const next = advertise();
      if (next !== undefined) state = next;
    } else if (target !== "failed") {
      state = target;
    }
    if (state === "done") {
      result = {
        partitionConfig,
        partitionDefaults,
        capabilitiesCsv: caps!.csv,
        capabilitiesHash: caps!.hash,
        lanesCsv: lanesCsv(config.lanes),
        aliveTtlMs: aliveTtl,
        leaseTtlMs,
        scanCursor: scanCursorSeed(
          config.workerInstanceId,
          Math.max(partitionConfig.numFlowPartitions, 1),
        ),
      };
    }
  };

  const now = String(Math.floor(options.nowMs));
  return {
    get state() {
      return state;
    },
    get result() {
      return result;
    },
    get error() {
      return error;
    },
    get holdsAliveKey() {
      return holdsAliveKey;
    },
    poll(): ServerCommand | undefined {
      switch (state) {
        case "ping":
          return ["PING"];
        case "alive":
          return ["SET", aliveKey, "1", "NX", "PX", String(aliveTtl)];
        case "partitions":
          return ["HGETALL", PARTITIONS_CONFIG_KEY];
        case "caps_write":
          return [
            "HSET",
            capsKey,
            "worker_id",
            config.workerId,
            "lanes_csv",
            lanesCsv(config.lanes),
            "caps_csv",
            caps!.csv,
            "ttl_ms",
            String(aliveTtl),
            "registered_at_ms",
            now,
            "last_heartbeat_ms",
            now,
          ];
        case "index_add":
          return ["SADD", indexKey, config.workerInstanceId];
        case "caps_delete":
          return ["DEL", capsKey];
        case "index_remove":
          return ["SREM", indexKey, config.workerInstanceId];
        default:
          return undefined;
      }
    },
    handleReply(reply: ServerReply): void {
      if (state === "ping" && reply !== "PONG") {
        fail(
          new CapsError(
            "unexpected_reply",
            `unexpected PING response: ${String(reply)}`,
            { context: "worker_connect" },
          ),
        );
        return;
      }
      if (state === "alive") {
        if (reply === null) {
          fail(
            new CapsError(
              "duplicate_instance",
              `duplicate worker_instance_id '${config.workerInstanceId}': another process already holds ${aliveKey}`,
              { context: "worker_connect", field: "worker_instance_id" },
            ),
          );
          return;
        }
        holdsAliveKey = true;
      }
      if (state === "partitions") {
        try {
          partitionConfig = parsePartitionConfig(hashFromReply(reply));
        } catch (err) {
          partitionDefaults = true;
          logs.push({
            level: "warn",
            event: PREAMBLE_STEPS.partitions.message,
            fields: { error: describe(err) },
          });
        }
      }
      move("reply");
    },
    handleError(cause: unknown): void {
      if (state === "done" || state === "failed") {
        throw new RangeError(`no command is in flight in state ${state}`);
      }
      const rule = PREAMBLE_STEPS[state];
      if (rule.onError === "fatal") {
        fail(
          new CapsError("backend_error", describe(cause), {
            context: rule.message,
            cause,
          }),
        );
        return;
      }
      if (rule.onError === "defaults") partitionDefaults = true;
      if (rule.onError !== "ignore") {
        logs.push({
          level: "warn",
          event: rule.message,
          fields: { error: describe(cause) },
        });
      }
      move("error");
    },
    takeLogs(): PreambleLogRecord[] {
      const out = logs;
      logs = [];
      return out;
    },
  };
}
