/**
 * The joiner binding: {@link joinCluster} generates this node's key pair
 * and CSR (the private key never leaves the process), binds the mesh
 * listener before saying Hello so the advertised address is dialable,
 * authenticates with the HMAC challenge-response, and returns a
 * {@link ClusterMember} once the first membership that includes it is
 * committed. Any process type can use it: the member exposes rank, world
 * size, generation, the peer table, its leaf certificate and key, and the
 * cluster CA.
 *
 * @module
 */

import * as tls from "node:tls";
import { sha256Digest } from "../auth.ts";
import { SeedError } from "../errors.ts";
import { isLoopbackHost, isValidId, splitHostPort } from "../identity.ts";
import {
  DEFAULT_SEED_LIMITS,
  DEFAULT_SEED_TIMINGS,
  type SeedLimits,
  type SeedTimings,
} from "../limits.ts";
import {
  JoinerCore,
  type JoinerEvent,
  type MembershipView,
} from "../joiner_machine.ts";
import type { PeerEntry } from "../messages.ts";
import {
  createCsr,
  derToPem,
  generateNodeKeys,
  privateKeyPem,
  selfSignedPem,
  verifyIssuedBy,
} from "./certs.ts";
import { FramedSocket, type FrameTap } from "./framed_socket.ts";
import { Mesh, type MeshEvent, type MeshLane } from "./mesh.ts";
import { createLogger, type Logger } from "../../net/log.ts";

/** Options of {@link joinCluster}. */
export interface JoinOptions extends Partial<SeedTimings> {
  /** Seed address `host:port`. */
  seed: string;
  /** The cluster token. Required unless `insecureNoAuth`. */
  token?: Uint8Array;
  /** Join an insecure loopback seed without a token. */
  insecureNoAuth?: boolean;
  /** Mesh listen address `host:port` (port 0 picks one). */
  listen: string;
  /** Advertised mesh address; required when `listen` is a wildcard. */
  advertise?: string;
  /** Stable node id. @default {16 random hex characters} */
  nodeId?: string;
  /** Overall deadline for being admitted. @default {formationTimeoutMs + 10000} */
  joinTimeoutMs?: number;
  /** Limits. */
  limits?: Partial<SeedLimits>;
  /** Logger. */
  logger?: Logger;
  /** Frame tap (tests). */
  tap?: FrameTap;
  /** Protocol version to announce (tests). */
  version?: number;
}

/** Events of a {@link ClusterMember}. */
export type MemberEvent =
  | {
    type: "committed";
    generation: number;
    rank: number;
    previousRank: number;
    worldSize: number;
    peers: PeerEntry[];
  }
  | { type: "proposed"; generation: number; worldSize: number }
  | { type: "mesh_ready"; generation: number }
  | {
    type: "peer_dead";
    nodeId: string;
    rank: number | undefined;
    silentMs: number;
  }
  | { type: "peer_refused"; reason: string }
  | { type: "removed"; code: string; reason: string }
  | { type: "seed_lost"; reason: string }
  | { type: "renewed" };

/** A received application payload. */
export interface MemberMessage {
  /** Sender's node id. */
  nodeId: string;
  /** Sender's rank in the current view (undefined if it just left). */
  rank: number | undefined;
  /** Lane it came on. */
  lane: MeshLane;
  /** Payload. */
  payload: Uint8Array;
}

/** A node that joined a cluster. */
export interface ClusterMember {
  /** Stable node id. */
  readonly nodeId: string;
  /** Cluster id. */
  readonly clusterId: string;
  /** Current rank. */
  readonly rank: number;
  /** Current world size. */
  readonly worldSize: number;
  /** Current generation. */
  readonly generation: number;
  /** Current peer table (sorted by rank, self included). */
  readonly peers: readonly PeerEntry[];
  /** The advertised mesh address. */
  readonly address: string;
  /** Cluster CA certificate PEM. */
  readonly caCertPem: string;
  /** This node's leaf certificate PEM. */
  readonly leafCertPem: string;
  /** This node's private key PEM (generated here; never sent anywhere). */
  readonly privateKeyPem: string;
  /** True while connected to every peer on both lanes. */
  readonly meshReady: boolean;
  /** Resolves when the mesh of the current generation is ready. */
  whenMeshReady(): Promise<void>;
  /**
   * Subscribes to events.
   *
   * @param listener Called per event.
   * @returns Unsubscribe.
   */
  on(listener: (event: MemberEvent) => void): () => void;
  /**
   * Subscribes to payloads.
   *
   * @param handler Called per payload.
   * @returns Unsubscribe.
   */
  onMessage(handler: (message: MemberMessage) => void): () => void;
  /**
   * Sends a payload to a rank.
   *
   * @param rank Destination rank.
   * @param payload Bytes.
   * @param lane Lane. @default {"control"}
   */
  send(rank: number, payload: Uint8Array, lane?: MeshLane): void;
  /** Leaves at the next checkpoint; resolves when removed. */
  leave(): Promise<void>;
  /** Asks the seed for a fresh leaf (same key). */
  renew(): Promise<void>;
  /** Stops everything (no leave message: peers see silence). */
  close(): Promise<void>;
  /** Stops sending heartbeats while keeping sockets open (tests). */
  goSilent(): void;
}

function randomId(): string {
  return [...crypto.getRandomValues(new Uint8Array(8))].map((b) =>
    b.toString(16).padStart(2, "0")
  ).join("");
}

async function connectSeed(
  host: string,
  port: number,
  deadline: number,
): Promise<tls.TLSSocket> {
  let delay = 50;
  for (;;) {
    try {
      return await new Promise<tls.TLSSocket>((resolve, reject) => {
        // The seed is authenticated by the token proof bound to this
        // certificate, not by a certificate chain (the CA is not known yet).
        const s = tls.connect({
          host,
          port,
          rejectUnauthorized: false,
          checkServerIdentity: () => undefined,
        });
        s.once("secureConnect", () => {
          s.removeAllListeners("error");
          resolve(s);
        });
        s.once("error", (e) => {
          s.destroy();
          reject(e);
        });
      });
    } catch (err) {
      const code = (err as { code?: string }).code;
      if (
        performance.now() + delay > deadline ||
        (code !== "ECONNREFUSED" && code !== "ECONNRESET")
      ) {
        throw new SeedError(
          "io_error",
          `cannot reach the seed at ${host}:${port}`,
          {
            cause: err,
          },
        );
      }
      await new Promise((r) => setTimeout(r, delay));
      delay = Math.min(delay * 2, 1000);
    }
  }
}

/**
 * Joins a cluster.
 *
 * @param options Seed address, token, mesh address and timings.
 * @returns The member, once a membership including it is committed.
 * @throws {SeedError} `rejected` (see `rejectCode`), `auth_failed` (the seed
 *   did not prove the token), `handshake_timeout`, `io_error`, `invalid_option`.
 *
 * @example
 * ```ts ignore
 * const member = await joinCluster({ seed: "127.0.0.1:7000", token, listen: "127.0.0.1:0" });
 * console.log(member.rank, member.worldSize, member.generation);
 * ```
 */
export async function joinCluster(
  options: JoinOptions,
): Promise<ClusterMember> {
  const seedHp = splitHostPort(options.seed);
  if (seedHp === undefined) {
    throw new SeedError("invalid_option", `bad seed address: ${options.seed}`);
  }
  const listenHp = splitHostPort(options.listen);
  if (listenHp === undefined) {
    throw new SeedError(
      "invalid_option",
      `bad listen address: ${options.listen}`,
    );
  }
  if (options.insecureNoAuth === true) {
    if (!isLoopbackHost(seedHp.hostname)) {
      throw new SeedError(
        "invalid_option",
        "insecure no-token mode is only allowed with a loopback seed",
      );
    }
  } else if (options.token === undefined || options.token.length !== 32) {
    throw new SeedError(
      "invalid_option",
      "a 32-byte cluster token is required",
    );
  }
  const nodeId = options.nodeId ?? randomId();
  if (!isValidId(nodeId)) {
    throw new SeedError("invalid_option", `bad node id: ${nodeId}`);
  }
  const timings: SeedTimings = { ...DEFAULT_SEED_TIMINGS };
  for (const k of Object.keys(DEFAULT_SEED_TIMINGS) as (keyof SeedTimings)[]) {
    if (options[k] !== undefined) timings[k] = options[k]!;
  }
  const limits = { ...DEFAULT_SEED_LIMITS, ...options.limits };
  const log = options.logger ?? createLogger({ component: "join" });
  const keys = await generateNodeKeys();
  const keyPem = await privateKeyPem(keys.privateKey);
  const csr = await createCsr(keys, nodeId);
  const placeholder = await selfSignedPem(keys);

  // Bind the mesh listener first, so the advertised address is dialable.
  const server = tls.createServer({
    cert: placeholder,
    key: keyPem,
    ca: [placeholder],
    requestCert: true,
    rejectUnauthorized: true,
    handshakeTimeout: timings.handshakeTimeoutMs,
  });
  server.on("error", () => {});
  const port = await new Promise<number>((resolve, reject) => {
    server.once("error", reject);
    server.listen(listenHp.port, listenHp.hostname, () => {
      server.off("error", reject);
      const a = server.address();
      resolve(typeof a === "object" && a !== null ? a.port : listenHp.port);
    });
  }).catch((cause) => {
    throw new SeedError("io_error", `cannot listen on ${options.listen}`, {
      cause,
    });
  });
  let advertise = options.advertise;
  if (advertise === undefined) {
    if (listenHp.hostname === "0.0.0.0" || listenHp.hostname === "::") {
      server.close();
      throw new SeedError(
        "invalid_option",
        "listening on a wildcard address needs an advertised address",
      );
    }
    advertise = listenHp.hostname.includes(":")
      ? `[${listenHp.hostname}]:${port}`
      : `${listenHp.hostname}:${port}`;
  } else if (splitHostPort(advertise) === undefined) {
    server.close();
    throw new SeedError(
      "invalid_option",
      `bad advertised address: ${advertise}`,
    );
  }

  const start = performance.now();
  const joinDeadline = start +
    (options.joinTimeoutMs ?? timings.formationTimeoutMs + 10_000);
  let socket: tls.TLSSocket;
  try {
    socket = await connectSeed(seedHp.hostname, seedHp.port, joinDeadline);
  } catch (err) {
    server.close();
    throw err;
  }
  const seedCert = socket.getPeerCertificate(false) as { raw?: Uint8Array };
  const seedDer = new Uint8Array(seedCert.raw ?? new Uint8Array());

  const core = new JoinerCore({
    nodeId,
    listenAddr: advertise,
    csr,
    token: options.insecureNoAuth === true ? undefined : options.token,
    randomBytes: (n) => crypto.getRandomValues(new Uint8Array(n)),
    version: options.version,
    timings,
    joinDeadline,
  });

  const listeners = new Set<(e: MemberEvent) => void>();
  const handlers = new Set<(m: MemberMessage) => void>();
  const readyWaiters: (() => void)[] = [];
  let view: MembershipView | undefined;
  let caPem = "";
  let caDer: Uint8Array = new Uint8Array();
  let leafPem = "";
  let closed = false;
  let silent = false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let leaveResolve: (() => void) | undefined;
  let renewResolve: (() => void) | undefined;
  let resolveJoin!: (m: ClusterMember) => void;
  let rejectJoin!: (e: Error) => void;
  let joined = false;
  const joinPromise = new Promise<ClusterMember>((res, rej) => {
    resolveJoin = res;
    rejectJoin = rej;
  });

  const emit = (e: MemberEvent): void => {
    for (const l of listeners) {
      try {
        l(e);
      } catch {
        // Listeners never break the member.
      }
    }
  };
  const rankOf = (id: string): number | undefined =>
    view?.peers.find((p) => p.nodeId === id)?.rank;

  const mesh = new Mesh({
    nodeId,
    server,
    keyPem,
    timings,
    limits,
    log,
    tap: options.tap,
    onEvent: (e: MeshEvent) => {
      if (e.type === "mesh_ready") {
        emit(e);
        for (const w of readyWaiters.splice(0)) w();
      } else if (e.type === "peer_dead") {
        const rank = rankOf(e.nodeId);
        log.info("peer_dead", { peer: e.nodeId, rank, silent_ms: e.silentMs });
        emit({
          type: "peer_dead",
          nodeId: e.nodeId,
          rank,
          silentMs: e.silentMs,
        });
        framed.send({
          type: "suspect",
          generation: view?.generation ?? 0,
          nodeId: e.nodeId,
        });
      } else if (e.type === "peer_refused") {
        log.info("peer_refused", { reason: e.reason });
        emit(e);
      }
    },
    onData: (from, lane, payload) => {
      const msg = { nodeId: from, rank: rankOf(from), lane, payload };
      for (const h of handlers) h(msg);
    },
  });

  const shutdown = (): void => {
    if (closed) return;
    closed = true;
    if (timer !== undefined) clearTimeout(timer);
    mesh.close();
    server.close();
    framed.socket.destroy();
  };

  const onJoinerEvent = async (e: JoinerEvent): Promise<void> => {
    switch (e.type) {
      case "welcomed": {
        caDer = e.caCert;
        caPem = derToPem(e.caCert, "CERTIFICATE");
        leafPem = derToPem(e.leafCert, "CERTIFICATE");
        if (
          options.insecureNoAuth !== true &&
          !(await verifyIssuedBy(seedDer, caDer))
        ) {
          rejectJoin(
            new SeedError(
              "auth_failed",
              "seed certificate is not from the cluster CA",
            ),
          );
          shutdown();
          return;
        }
        mesh.setCredentials({
          clusterId: e.view.clusterId,
          caPem,
          caDer,
          leafPem,
        });
        mesh.allow(e.view.peers);
        if (e.pending) {
          mesh.allow([{ rank: e.view.rank, nodeId, addr: advertise! }]);
        }
        log.info("welcomed", {
          rank: e.view.rank,
          world: e.view.worldSize,
          generation: e.view.generation,
          pending: e.pending,
        });
        break;
      }
      case "proposed":
        mesh.allow(e.peers);
        emit({
          type: "proposed",
          generation: e.generation,
          worldSize: e.peers.length,
        });
        break;
      case "committed":
        view = e.view;
        log.info("committed", {
          rank: e.view.rank,
          world: e.view.worldSize,
          generation: e.view.generation,
        });
        emit({
          type: "committed",
          generation: e.view.generation,
          rank: e.view.rank,
          previousRank: e.previousRank,
          worldSize: e.view.worldSize,
          peers: e.view.peers,
        });
        mesh.update(e.view);
        if (!joined) {
          joined = true;
          resolveJoin(member);
        }
        break;
      case "removed":
        emit({ type: "removed", code: e.code, reason: e.reason });
        if (!joined) {
          rejectJoin(new SeedError("removed", `removed: ${e.reason}`));
        }
        leaveResolve?.();
        shutdown();
        break;
      case "rejected":
        rejectJoin(
          new SeedError(
            "rejected",
            `seed rejected the join (${e.code}): ${e.reason}`,
            {
              rejectCode: e.code,
              supportedVersions: e.supportedVersions,
            },
          ),
        );
        break;
      case "failed":
        if (!joined) {
          rejectJoin(
            new SeedError(
              e.code === "auth_failed"
                ? "auth_failed"
                : e.code === "handshake_timeout"
                ? "handshake_timeout"
                : e.code === "rejected"
                ? "rejected"
                : "closed",
              e.reason,
            ),
          );
          shutdown();
        } else {
          emit({ type: "seed_lost", reason: e.reason });
        }
        break;
      case "renewed":
        leafPem = derToPem(e.leafCert, "CERTIFICATE");
        mesh.setCredentials({
          clusterId: view!.clusterId,
          caPem,
          caDer,
          leafPem,
        });
        emit({ type: "renewed" });
        renewResolve?.();
        break;
    }
  };

  // Commands run strictly in order, and an event handler finishes before
  // the next command: the Welcome's credentials are installed on the mesh
  // listener before the WelcomeAck goes out, so no peer dials too early.
  let queue: Promise<void> = Promise.resolve();
  const flush = (): void => {
    const commands = core.poll();
    if (commands.length > 0) {
      queue = queue.then(async () => {
        for (const cmd of commands) {
          if (cmd.kind === "send") {
            if (!(silent && cmd.message.type === "heartbeat")) {
              framed.send(cmd.message);
            }
          } else if (cmd.kind === "close") framed.close();
          else await onJoinerEvent(cmd.event).catch(() => {});
        }
      });
    }
    schedule();
  };
  const schedule = (): void => {
    if (closed) return;
    if (timer !== undefined) clearTimeout(timer);
    const next = core.nextDeadline();
    if (next === undefined) return;
    timer = setTimeout(() => {
      timer = undefined;
      core.tick(performance.now());
      flush();
    }, Math.max(0, next - performance.now()));
  };

  const framed: FramedSocket = new FramedSocket(socket, {
    limits,
    // The seed is unauthenticated until its proof checked out.
    initialMaxFrameBytes: limits.maxPreAuthFrameBytes,
    tap: options.tap,
    onMessage: (m) => {
      core.received(m, performance.now());
      if (m.type === "challenge" && core.state === "awaiting_welcome") {
        framed.authenticated();
      }
      flush();
    },
    onError: () => {
      core.protocolError(performance.now());
      flush();
    },
    onClose: () => {
      core.disconnected(performance.now());
      flush();
    },
  });
  socket.setNoDelay?.(true);

  const member: ClusterMember = {
    nodeId,
    get clusterId() {
      return view?.clusterId ?? "";
    },
    get rank() {
      return view?.rank ?? -1;
    },
    get worldSize() {
      return view?.worldSize ?? 0;
    },
    get generation() {
      return view?.generation ?? 0;
    },
    get peers() {
      return view?.peers ?? [];
    },
    address: advertise,
    get caCertPem() {
      return caPem;
    },
    get leafCertPem() {
      return leafPem;
    },
    privateKeyPem: keyPem,
    get meshReady() {
      return mesh.ready;
    },
    whenMeshReady(): Promise<void> {
      if (mesh.ready) return Promise.resolve();
      return new Promise((resolve) => readyWaiters.push(resolve));
    },
    on(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    onMessage(handler) {
      handlers.add(handler);
      return () => handlers.delete(handler);
    },
    send(rank, payload, lane = "control") {
      const peer = view?.peers.find((p) => p.rank === rank);
      if (peer === undefined) {
        throw new SeedError("invalid_option", `no member with rank ${rank}`);
      }
      mesh.send(peer.nodeId, lane, payload);
    },
    leave(): Promise<void> {
      if (closed) return Promise.resolve();
      const done = new Promise<void>((r) => (leaveResolve = r));
      core.leave(performance.now());
      flush();
      return done;
    },
    async renew(): Promise<void> {
      const done = new Promise<void>((r) => (renewResolve = r));
      core.renew(await createCsr(keys, nodeId));
      flush();
      return done;
    },
    close(): Promise<void> {
      shutdown();
      return Promise.resolve();
    },
    goSilent(): void {
      silent = true;
      mesh.silence();
    },
  };

  core.connected(sha256Digest(seedDer), performance.now());
  flush();
  try {
    return await joinPromise;
  } catch (err) {
    shutdown();
    throw err;
  }
}
