/**
 * The seed process binding: a `node:tls` bootstrap listener whose
 * connections are driven by the pure {@link SeedCore}, the ephemeral
 * {@link ClusterCa}, and the timer that calls `tick` at the core's next
 * deadline. Handshakes run concurrently; each has its own deadline and a
 * pre-authentication frame cap.
 *
 * @module
 */

import * as tls from "node:tls";
import type { Socket } from "node:net";
import { sha256Digest } from "../auth.ts";
import { SeedError } from "../errors.ts";
import { isLoopbackHost, splitHostPort } from "../identity.ts";
import {
  DEFAULT_SEED_LIMITS,
  DEFAULT_SEED_TIMINGS,
  type SeedLimits,
  type SeedTimings,
} from "../limits.ts";
import type { CommitResult } from "../membership.ts";
import type { PeerEntry } from "../messages.ts";
import { SeedCore, type SeedNodeEvent } from "../seed_machine.ts";
import { type ClusterCa, createClusterCa } from "./certs.ts";
import { FramedSocket, type FrameTap } from "./framed_socket.ts";
import { createLogger, type Logger } from "../../net/log.ts";

/** Options of {@link SeedNode.bind}. */
export interface SeedNodeOptions extends Partial<SeedTimings> {
  /** Members needed to form. */
  expectedWorldSize: number;
  /** Cap on live plus pending members after formation. @default {expectedWorldSize} */
  maxWorldSize?: number;
  /** The cluster token (32 bytes). Required unless `insecureNoAuth`. */
  token?: Uint8Array;
  /** Run without a token; only allowed on a loopback address. */
  insecureNoAuth?: boolean;
  /** Leaf validity. @default {86400000} */
  certValidityMs?: number;
  /** CA validity (bounds the cluster's lifetime). @default {604800000} */
  caValidityMs?: number;
  /** Decoder limits. */
  limits?: Partial<SeedLimits>;
  /** Most connections still in TLS or the pre-auth handshake. @default {256} */
  maxPendingHandshakes?: number;
  /** Start checkpoints automatically when changes are pending. @default {true} */
  autoCheckpoint?: boolean;
  /** Cluster id. @default {16 random hex characters} */
  clusterId?: string;
  /** Logger. @default {createLogger({component: "seed"})} */
  logger?: Logger;
  /** Frame tap (tests). */
  tap?: FrameTap;
}

/** The membership as the seed sees it. */
export interface SeedSnapshot {
  /** Phase. */
  phase: "forming" | "running" | "closed";
  /** Committed generation. */
  generation: number;
  /** Committed peer table. */
  members: PeerEntry[];
  /** Pending joiners with their provisional ranks. */
  pending: PeerEntry[];
}

/**
 * A running seed.
 *
 * @example
 * ```ts ignore
 * const seed = await SeedNode.bind("127.0.0.1:0", { expectedWorldSize: 4, token });
 * const formed = await seed.formed;
 * await seed.close();
 * ```
 */
export class SeedNode {
  /** The bound address. */
  readonly address: { hostname: string; port: number };
  /** The cluster id. */
  readonly clusterId: string;
  /** The cluster CA certificate (PEM). */
  readonly caCertPem: string;
  /** Resolves with the first commit; rejects with `formation_timeout` or `closed`. */
  readonly formed: Promise<CommitResult>;
  readonly #core: SeedCore;
  readonly #server: tls.Server;
  readonly #ca: ClusterCa;
  readonly #sockets = new Map<number, FramedSocket>();
  readonly #raw = new Set<Socket>();
  readonly #listeners = new Set<(event: SeedNodeEvent) => void>();
  readonly #log: Logger;
  readonly #auto: boolean;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #timerAt = Infinity;
  #nextId = 1;
  #closing: Promise<void> | undefined;
  #resolveFormed!: (c: CommitResult) => void;
  #rejectFormed!: (e: Error) => void;

  private constructor(
    init: {
      address: { hostname: string; port: number };
      clusterId: string;
      core: SeedCore;
      server: tls.Server;
      ca: ClusterCa;
      log: Logger;
      auto: boolean;
    },
  ) {
    this.address = init.address;
    this.clusterId = init.clusterId;
    this.#core = init.core;
    this.#server = init.server;
    this.#ca = init.ca;
    this.caCertPem = init.ca.certPem;
    this.#log = init.log;
    this.#auto = init.auto;
    this.formed = new Promise((resolve, reject) => {
      this.#resolveFormed = resolve;
      this.#rejectFormed = reject;
    });
    this.formed.catch(() => {});
  }

  /**
   * Binds a seed and starts accepting joiners.
   *
   * @param addr `host:port` (port 0 picks one).
   * @param options Sizes, token, timings.
   * @returns The seed.
   * @throws {SeedError} `invalid_option` for a bad address, a missing token,
   *   or `insecureNoAuth` on a non-loopback address.
   */
  static async bind(addr: string, options: SeedNodeOptions): Promise<SeedNode> {
    const hp = splitHostPort(addr);
    if (hp === undefined) {
      throw new SeedError("invalid_option", `bad listen address: ${addr}`);
    }
    if (options.insecureNoAuth === true) {
      if (!isLoopbackHost(hp.hostname)) {
        throw new SeedError(
          "invalid_option",
          "insecure no-token mode is only allowed on a loopback address",
        );
      }
      if (options.token !== undefined) {
        throw new SeedError("invalid_option", "insecureNoAuth with a token");
      }
    } else if (options.token === undefined || options.token.length !== 32) {
      throw new SeedError(
        "invalid_option",
        "a 32-byte cluster token is required",
      );
    }
    const log = options.logger ?? createLogger({ component: "seed" });
    if (options.insecureNoAuth === true) {
      log.warn("seed_insecure_mode", {
        detail: "no cluster token: any local process can join (loopback only)",
      });
    }
    const clusterId = options.clusterId ??
      [...crypto.getRandomValues(new Uint8Array(8))].map((b) =>
        b.toString(16).padStart(2, "0")
      ).join("");
    const ca = await createClusterCa({
      clusterId,
      validityMs: options.caValidityMs,
      leafValidityMs: options.certValidityMs,
    });
    const own = await ca.issueLocal("seed", addr);
    const limits = { ...DEFAULT_SEED_LIMITS, ...options.limits };
    const timings: SeedTimings = { ...DEFAULT_SEED_TIMINGS };
    for (
      const k of Object.keys(DEFAULT_SEED_TIMINGS) as (keyof SeedTimings)[]
    ) {
      if (options[k] !== undefined) timings[k] = options[k]!;
    }
    const core = new SeedCore({
      expectedWorldSize: options.expectedWorldSize,
      maxWorldSize: options.maxWorldSize,
      token: options.token,
      clusterId,
      caCert: ca.certDer,
      binding: sha256Digest(own.der),
      randomBytes: (n) => crypto.getRandomValues(new Uint8Array(n)),
      timings: {
        ...timings,
        checkpointDelayMs: options.autoCheckpoint === false
          ? 1e15
          : timings.checkpointDelayMs,
      },
      now: performance.now(),
    });
    const server = tls.createServer({
      cert: own.cert,
      key: own.key,
      handshakeTimeout: timings.handshakeTimeoutMs,
    });
    const address = await new Promise<{ hostname: string; port: number }>(
      (resolve, reject) => {
        server.once("error", reject);
        server.listen(hp.port, hp.hostname, () => {
          server.off("error", reject);
          const a = server.address();
          resolve({
            hostname: hp.hostname,
            port: typeof a === "object" && a !== null ? a.port : hp.port,
          });
        });
      },
    ).catch((cause) => {
      throw new SeedError("io_error", `cannot listen on ${addr}`, { cause });
    });
    const seed = new SeedNode({
      address,
      clusterId,
      core,
      server,
      ca,
      log,
      auto: options.autoCheckpoint !== false,
    });
    seed.#wire(
      server,
      limits,
      options.maxPendingHandshakes ?? 256,
      options.tap,
    );
    seed.#schedule();
    log.info("seed_listening", {
      address: `${address.hostname}:${address.port}`,
      cluster: clusterId,
      expected: options.expectedWorldSize,
    });
    return seed;
  }

  #wire(
    server: tls.Server,
    limits: SeedLimits,
    maxPending: number,
    tap: FrameTap | undefined,
  ): void {
    server.on("connection", (socket: Socket) => {
      if (this.#raw.size >= maxPending || this.#closing !== undefined) {
        socket.destroy();
        return;
      }
      this.#raw.add(socket);
      socket.once("close", () => this.#raw.delete(socket));
    });
    server.on("tlsClientError", (_err: Error, s: tls.TLSSocket) => s.destroy());
    server.on("error", () => {});
    server.on("secureConnection", (socket: tls.TLSSocket) => {
      const parent = (socket as unknown as { _parent?: Socket })._parent;
      if (parent !== undefined) this.#raw.delete(parent);
      if (this.#closing !== undefined) {
        socket.destroy();
        return;
      }
      socket.setNoDelay?.(true);
      const id = this.#nextId++;
      const framed = new FramedSocket(socket, {
        limits,
        initialMaxFrameBytes: limits.maxPreAuthFrameBytes,
        tap,
        onMessage: (m) => {
          if (m.type === "auth") framed.authenticated();
          this.#core.received(id, m, performance.now());
          this.#flush();
        },
        onError: (err) => {
          this.#log.info("seed_bad_frame", { conn: id, error: err });
          this.#core.protocolError(id, performance.now());
          this.#flush();
        },
        onClose: () => {
          this.#sockets.delete(id);
          this.#core.disconnected(id, performance.now());
          this.#flush();
        },
      });
      this.#sockets.set(id, framed);
      this.#core.opened(id, performance.now());
      this.#flush();
    });
  }

  #flush(): void {
    for (const cmd of this.#core.poll()) {
      switch (cmd.kind) {
        case "send":
          this.#sockets.get(cmd.connId)?.send(cmd.message);
          break;
        case "close": {
          const s = this.#sockets.get(cmd.connId);
          this.#sockets.delete(cmd.connId);
          s?.close();
          break;
        }
        case "issue":
          this.#ca.issueLeaf({
            csr: cmd.csr,
            nodeId: cmd.nodeId,
            listenAddr: cmd.listenAddr,
          }).then(
            (der) => this.#core.certIssued(cmd.connId, der, performance.now()),
            () => this.#core.certFailed(cmd.connId, performance.now()),
          ).finally(() => this.#flush());
          break;
        case "event":
          this.#onEvent(cmd.event);
          break;
      }
    }
    this.#schedule();
  }

  #onEvent(event: SeedNodeEvent): void {
    switch (event.type) {
      case "committed":
        this.#log.info("seed_committed", {
          generation: event.commit.generation,
          world: event.commit.peers.length,
          joined: event.commit.joined,
          left: event.commit.left,
          failed: event.commit.failed,
        });
        if (event.commit.formation) this.#resolveFormed(event.commit);
        break;
      case "formation_failed":
        this.#log.warn("seed_formation_failed", event);
        this.#rejectFormed(
          new SeedError(
            "formation_timeout",
            `cluster formation timed out: ${event.joined}/${event.expected} joined`,
            { joined: event.joined, expected: event.expected },
          ),
        );
        break;
      case "rejected":
        this.#log.info("seed_rejected", {
          conn: event.connId,
          code: event.code,
          node: event.nodeId,
        });
        break;
      default:
        this.#log.debug("seed_event", { ...event });
    }
    for (const l of this.#listeners) {
      try {
        l(event);
      } catch {
        // Listeners never break the seed.
      }
    }
  }

  #schedule(): void {
    const next = this.#core.nextDeadline();
    if (next === undefined || this.#closing !== undefined) {
      if (this.#timer !== undefined) clearTimeout(this.#timer);
      this.#timer = undefined;
      this.#timerAt = Infinity;
      return;
    }
    if (this.#timer !== undefined && this.#timerAt <= next) return;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timerAt = next;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#timerAt = Infinity;
      this.#core.tick(performance.now());
      this.#flush();
    }, Math.max(0, next - performance.now()));
  }

  /**
   * Subscribes to seed events.
   *
   * @param listener Called for each event.
   * @returns Unsubscribe.
   */
  on(listener: (event: SeedNodeEvent) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** The membership now. */
  get snapshot(): SeedSnapshot {
    const m = this.#core.membership;
    return {
      phase: m.phase,
      generation: m.generation,
      members: m.peers,
      pending: m.pending.map((p) => ({
        rank: m.rankOf(p.nodeId)!,
        nodeId: p.nodeId,
        addr: p.addr,
      })),
    };
  }

  /** Starts a checkpoint now (needed when `autoCheckpoint` is false). */
  checkpoint(): void {
    this.#core.checkpoint(performance.now());
    this.#flush();
  }

  /** True when checkpoints start on their own. */
  get autoCheckpoint(): boolean {
    return this.#auto;
  }

  /**
   * Closes the seed: members get a Farewell, the listener stops, timers end.
   *
   * @returns When everything is released.
   */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      this.#core.close(performance.now());
      this.#flush();
      this.#rejectFormed(new SeedError("closed", "the seed closed"));
      if (this.#timer !== undefined) clearTimeout(this.#timer);
      this.#timer = undefined;
      for (const s of this.#raw) s.destroy();
      await new Promise<void>((resolve) => this.#server.close(() => resolve()));
      for (const s of this.#sockets.values()) s.socket.destroy();
      this.#sockets.clear();
    })();
    return this.#closing;
  }
}
