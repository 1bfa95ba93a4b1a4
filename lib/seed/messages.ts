/**
 * Message schemas of the seed protocol and their CBOR payload codec. Every
 * message is a CBOR map with exactly the keys of its schema; anything else
 * is `malformed`. The frame type byte says which schema applies.
 *
 * @module
 */

import { Decoder, Encoder } from "cbor-x";
import { SeedError, SeedLimitError } from "./errors.ts";
import { DEFAULT_SEED_LIMITS, type SeedLimits } from "./limits.ts";
import {
  encodeFrame,
  type Frame,
  FRAME_PRIORITY,
  type FramePriority,
} from "./frame.ts";

/** The protocol version this implementation speaks. */
export const SEED_PROTOCOL_VERSION = 1;

/**
 * Every version this implementation accepts.
 *
 * @example
 * ```ts
 * import { SUPPORTED_VERSIONS } from "./messages.ts";
 * console.assert(SUPPORTED_VERSIONS.includes(1));
 * ```
 */
export const SUPPORTED_VERSIONS: readonly number[] = Object.freeze([1]);

/** One member in a peer table. */
export interface PeerEntry {
  /** Rank (dense, 0-based). */
  rank: number;
  /** Stable node id. */
  nodeId: string;
  /** Advertised, dialable mesh address `host:port`. */
  addr: string;
}

/** Joiner → seed, first message. */
export interface HelloMessage {
  /** Discriminant. */
  type: "hello";
  /** Protocol version. */
  version: number;
  /** Stable node id chosen by the joiner. */
  nodeId: string;
  /** Mesh address (`host:port`) the joiner already listens on. */
  listenAddr: string;
  /** 32 fresh random bytes. */
  nonce: Uint8Array;
}

/** Seed → joiner: the seed's nonce and its proof of the token. */
export interface ChallengeMessage {
  /** Discriminant. */
  type: "challenge";
  /** 32 fresh random bytes. */
  nonce: Uint8Array;
  /** HMAC proof (empty in insecure mode). */
  proof: Uint8Array;
}

/** Joiner → seed: proof of the token and a CSR (never a private key). */
export interface AuthMessage {
  /** Discriminant. */
  type: "auth";
  /** HMAC proof (empty in insecure mode). */
  proof: Uint8Array;
  /** PKCS#10 CSR (DER). */
  csr: Uint8Array;
}

/** Seed → joiner: a typed refusal. */
export interface RejectMessage {
  /** Discriminant. */
  type: "reject";
  /** One of {@link REJECT_CODES}. */
  code: string;
  /** A human-readable reason. */
  reason: string;
  /** Versions the seed supports. */
  supportedVersions: number[];
}

/** Seed → joiner: rank, membership and certificates. */
export interface WelcomeMessage {
  /** Discriminant. */
  type: "welcome";
  /** Cluster id (names the CA and every SAN). */
  clusterId: string;
  /** Rank (provisional while `pending`). */
  rank: number;
  /** World size (of the committed generation, or the formation size). */
  worldSize: number;
  /** Generation this Welcome belongs to. */
  generation: number;
  /** True for an elastic joiner that waits for a checkpoint. */
  pending: boolean;
  /** Peer table sorted by rank (committed members; includes the recipient at formation). */
  peers: PeerEntry[];
  /** The cluster CA certificate (DER). */
  caCert: Uint8Array;
  /** The recipient's leaf certificate (DER). */
  leafCert: Uint8Array;
}

/** Joiner → seed: the Welcome was received and applied. */
export interface WelcomeAckMessage {
  /** Discriminant. */
  type: "welcome_ack";
  /** The Welcome's generation. */
  generation: number;
}

/** Seed → members and joiners: the next membership. */
export interface ProposeMessage {
  /** Discriminant. */
  type: "propose";
  /** The proposed generation. */
  generation: number;
  /** The proposed peer table, sorted by rank. */
  peers: PeerEntry[];
}

/** Member → seed: ready for the proposed generation. */
export interface ProposeAckMessage {
  /** Discriminant. */
  type: "propose_ack";
  /** The generation acknowledged. */
  generation: number;
}

/** Seed → members: apply the proposed generation. */
export interface CommitMessage {
  /** Discriminant. */
  type: "commit";
  /** The committed generation. */
  generation: number;
}

/** Member → seed: leave voluntarily at the next checkpoint. */
export interface LeaveMessage {
  /** Discriminant. */
  type: "leave";
}

/** Liveness probe on the critical lane. */
export interface HeartbeatMessage {
  /** Discriminant. */
  type: "heartbeat";
  /** Sender's current generation. */
  generation: number;
  /** Sequence number. */
  seq: number;
}

/** Member → seed: a mesh peer went silent. */
export interface SuspectMessage {
  /** Discriminant. */
  type: "suspect";
  /** Reporter's generation. */
  generation: number;
  /** The silent peer. */
  nodeId: string;
}

/** Member → seed: a fresh CSR for a new leaf (same node id). */
export interface RenewMessage {
  /** Discriminant. */
  type: "renew";
  /** PKCS#10 CSR (DER). */
  csr: Uint8Array;
}

/** Seed → member: the renewed leaf. */
export interface RenewedMessage {
  /** Discriminant. */
  type: "renewed";
  /** Leaf certificate (DER). */
  leafCert: Uint8Array;
}

/** First frame on a mesh connection. */
export interface MeshHelloMessage {
  /** Discriminant. */
  type: "mesh_hello";
  /** Cluster id. */
  clusterId: string;
  /** Dialer's node id (must match its certificate). */
  nodeId: string;
  /** Dialer's rank in `generation`. */
  rank: number;
  /** Dialer's generation. */
  generation: number;
  /** `control` or `bulk`. */
  lane: string;
}

/** Application payload on the mesh. */
export interface DataMessage {
  /** Discriminant. */
  type: "data";
  /** Bytes. */
  payload: Uint8Array;
}

/** Seed → member: you are no longer a member. */
export interface FarewellMessage {
  /** Discriminant. */
  type: "farewell";
  /** `left`, `dead`, `seed_closed` or `formation_failed`. */
  code: string;
  /** A human-readable reason. */
  reason: string;
}

/** Any message. */
export type SeedMessage =
  | HelloMessage
  | ChallengeMessage
  | AuthMessage
  | RejectMessage
  | WelcomeMessage
  | WelcomeAckMessage
  | ProposeMessage
  | ProposeAckMessage
  | CommitMessage
  | LeaveMessage
  | HeartbeatMessage
  | SuspectMessage
  | RenewMessage
  | RenewedMessage
  | MeshHelloMessage
  | DataMessage
  | FarewellMessage;

/** A message kind. */
export type SeedMessageType = SeedMessage["type"];

/**
 * Reject codes.
 *
 * @example
 * ```ts
 * import { REJECT_CODES } from "./messages.ts";
 * console.assert(REJECT_CODES.includes("auth"));
 * ```
 */
export const REJECT_CODES = [
  "version",
  "auth",
  "full",
  "malformed",
  "timeout",
  "duplicate",
  "closed",
] as const;

/** A reject code. */
export type RejectCode = typeof REJECT_CODES[number];

/** The kind of one message field. */
export type FieldKind = "uint" | "str" | "bytes" | "bool" | "peers" | "uints";

/** The schema of one message kind. */
export interface MessageSchema {
  /** Frame type byte. */
  id: number;
  /** Default priority. */
  priority: FramePriority;
  /** Field names and kinds (exactly these keys). */
  fields: Record<string, FieldKind>;
}

/**
 * Type byte, priority and fields of every message: the single source of
 * truth for the codec.
 *
 * @example
 * ```ts
 * import { MESSAGE_SCHEMAS } from "./messages.ts";
 * console.assert(MESSAGE_SCHEMAS.heartbeat.priority === 0);
 * ```
 */
export const MESSAGE_SCHEMAS: Readonly<Record<SeedMessageType, MessageSchema>> =
  {
    hello: {
      id: 1,
      priority: FRAME_PRIORITY.control,
      fields: {
        version: "uint",
        nodeId: "str",
        listenAddr: "str",
        nonce: "bytes",
      },
    },
    challenge: {
      id: 2,
      priority: FRAME_PRIORITY.control,
      fields: { nonce: "bytes", proof: "bytes" },
    },
    auth: {
      id: 3,
      priority: FRAME_PRIORITY.control,
      fields: { proof: "bytes", csr: "bytes" },
    },
    reject: {
      id: 4,
      priority: FRAME_PRIORITY.control,
      fields: { code: "str", reason: "str", supportedVersions: "uints" },
    },
    welcome: {
      id: 5,
      priority: FRAME_PRIORITY.control,
      fields: {
        clusterId: "str",
        rank: "uint",
        worldSize: "uint",
        generation: "uint",
        pending: "bool",
        peers: "peers",
        caCert: "bytes",
        leafCert: "bytes",
      },
    },
    welcome_ack: {
      id: 6,
      priority: FRAME_PRIORITY.control,
      fields: { generation: "uint" },
    },
    propose: {
      id: 7,
      priority: FRAME_PRIORITY.control,
      fields: { generation: "uint", peers: "peers" },
    },
    propose_ack: {
      id: 8,
      priority: FRAME_PRIORITY.control,
      fields: { generation: "uint" },
    },
    commit: {
      id: 9,
      priority: FRAME_PRIORITY.control,
      fields: { generation: "uint" },
    },
    leave: { id: 10, priority: FRAME_PRIORITY.control, fields: {} },
    heartbeat: {
      id: 11,
      priority: FRAME_PRIORITY.critical,
      fields: { generation: "uint", seq: "uint" },
    },
    suspect: {
      id: 12,
      priority: FRAME_PRIORITY.control,
      fields: { generation: "uint", nodeId: "str" },
    },
    renew: {
      id: 13,
      priority: FRAME_PRIORITY.control,
      fields: { csr: "bytes" },
    },
    renewed: {
      id: 14,
      priority: FRAME_PRIORITY.control,
      fields: { leafCert: "bytes" },
    },
    mesh_hello: {
      id: 15,
      priority: FRAME_PRIORITY.control,
      fields: {
        clusterId: "str",
        nodeId: "str",
        rank: "uint",
        generation: "uint",
        lane: "str",
      },
    },
    data: {
      id: 16,
      priority: FRAME_PRIORITY.bulk,
      fields: { payload: "bytes" },
    },
    farewell: {
      id: 17,
      priority: FRAME_PRIORITY.control,
      fields: { code: "str", reason: "str" },
    },
  };

const BY_ID = new Map<number, SeedMessageType>(
  (Object.entries(MESSAGE_SCHEMAS) as [SeedMessageType, MessageSchema][]).map((
    [name, s],
  ) => [s.id, name]),
);

const encoder = new Encoder({
  useRecords: false,
  mapsAsObjects: true,
  tagUint8Array: false,
  variableMapSize: true,
});
const decoder = new Decoder({ useRecords: false, mapsAsObjects: false });

/**
 * Encodes a message as a whole frame (header plus CBOR payload).
 *
 * @param message The message.
 * @param priority Override the schema's priority.
 * @returns Frame bytes.
 *
 * @example
 * ```ts
 * import { decodeSeedMessage, encodeSeedMessage } from "./messages.ts";
 * import { FrameReader } from "./frame.ts";
 * const r = new FrameReader(1024);
 * r.push(encodeSeedMessage({ type: "commit", generation: 3 }));
 * const m = decodeSeedMessage(r.next()!);
 * console.assert(m.type === "commit" && m.generation === 3);
 * ```
 */
export function encodeSeedMessage(
  message: SeedMessage,
  priority?: FramePriority,
): Uint8Array {
  const schema = MESSAGE_SCHEMAS[message.type];
  const body: Record<string, unknown> = {};
  for (const [name, kind] of Object.entries(schema.fields)) {
    const value = (message as unknown as Record<string, unknown>)[name];
    checkField(name, kind, value, DEFAULT_SEED_LIMITS, false);
    body[name] = kind === "peers"
      ? (value as PeerEntry[]).map((p) => ({
        rank: p.rank,
        nodeId: p.nodeId,
        addr: p.addr,
      }))
      : value;
  }
  const payload = encoder.encode(body) as Uint8Array;
  return encodeFrame(schema.id, priority ?? schema.priority, payload);
}

function fail(text: string): never {
  throw new SeedError("malformed", text);
}

function checkField(
  name: string,
  kind: FieldKind,
  value: unknown,
  limits: SeedLimits,
  remote: boolean,
): unknown {
  const bad = (what: string): never =>
    remote ? fail(`field ${name}: ${what}`) : (() => {
      throw new TypeError(`field ${name}: ${what}`);
    })();
  switch (kind) {
    case "uint":
      if (
        typeof value !== "number" || !Number.isSafeInteger(value) || value < 0
      ) bad("expected an unsigned integer");
      return value;
    case "bool":
      if (typeof value !== "boolean") bad("expected a boolean");
      return value;
    case "str": {
      if (typeof value !== "string") bad("expected a string");
      const len = (value as string).length;
      if (len > limits.maxStringBytes) {
        throw new SeedLimitError(
          "malformed",
          "maxStringBytes",
          limits.maxStringBytes,
          len,
        );
      }
      return value;
    }
    case "bytes":
      if (!(value instanceof Uint8Array)) bad("expected bytes");
      return new Uint8Array(value as Uint8Array);
    case "uints": {
      if (!Array.isArray(value) || value.length > 64) bad("expected a list");
      return (value as unknown[]).map((v) =>
        checkField(name, "uint", v, limits, remote)
      );
    }
    case "peers": {
      if (!Array.isArray(value)) bad("expected a peer list");
      const list = value as unknown[];
      if (list.length > limits.maxPeers) {
        throw new SeedLimitError(
          "malformed",
          "maxPeers",
          limits.maxPeers,
          list.length,
        );
      }
      return list.map((p) => {
        const entry = remote
          ? mapToObject(p, name)
          : p as Record<string, unknown>;
        if (typeof entry !== "object" || entry === null) bad("expected a peer");
        const keys = Object.keys(entry);
        if (
          keys.length !== 3 || !("rank" in entry) || !("nodeId" in entry) ||
          !("addr" in entry)
        ) bad("peer needs exactly rank, nodeId, addr");
        return {
          rank: checkField("rank", "uint", entry.rank, limits, remote),
          nodeId: checkField("nodeId", "str", entry.nodeId, limits, remote),
          addr: checkField("addr", "str", entry.addr, limits, remote),
        };
      });
    }
  }
}

function mapToObject(value: unknown, name: string): Record<string, unknown> {
  if (!(value instanceof Map)) fail(`field ${name}: expected a map`);
  const out: Record<string, unknown> = Object.create(null);
  for (const [k, v] of value as Map<unknown, unknown>) {
    if (typeof k !== "string") fail(`field ${name}: non-string key`);
    out[k as string] = v;
  }
  return out;
}

/**
 * Decodes a frame's payload against the schema named by its type byte.
 *
 * @param frame A frame from {@link FrameReader}.
 * @param limits String and table limits.
 * @returns The message.
 * @throws {SeedError} `malformed` for bad CBOR or a schema mismatch.
 *
 * @example
 * ```ts
 * import { decodeSeedMessage, encodeSeedMessage } from "./messages.ts";
 * import { FrameReader } from "./frame.ts";
 * const r = new FrameReader(1024);
 * r.push(encodeSeedMessage({ type: "leave" }));
 * console.assert(decodeSeedMessage(r.next()!).type === "leave");
 * ```
 */
export function decodeSeedMessage(
  frame: Frame,
  limits: SeedLimits = DEFAULT_SEED_LIMITS,
): SeedMessage {
  const type = BY_ID.get(frame.type);
  if (type === undefined) fail(`unknown message type ${frame.type}`);
  let raw: unknown;
  try {
    raw = decoder.decode(frame.payload);
  } catch (cause) {
    throw new SeedError("malformed", "payload is not valid CBOR", { cause });
  }
  const body = mapToObject(raw, "payload");
  const schema = MESSAGE_SCHEMAS[type];
  if (type === "hello") {
    // Version first: an unsupported version must still earn a typed Reject.
    const version = checkField("version", "uint", body.version, limits, true);
    if (!SUPPORTED_VERSIONS.includes(version as number)) {
      return {
        type: "hello",
        version: version as number,
        nodeId: "",
        listenAddr: "",
        nonce: new Uint8Array(),
      };
    }
  }
  const names = Object.keys(schema.fields);
  const keys = Object.keys(body);
  if (keys.length !== names.length || keys.some((k) => !(k in schema.fields))) {
    fail(`${type}: expected exactly the keys ${names.join(", ")}`);
  }
  const out: Record<string, unknown> = { type };
  for (const [name, kind] of Object.entries(schema.fields)) {
    out[name] = checkField(name, kind, body[name], limits, true);
  }
  return out as unknown as SeedMessage;
}
