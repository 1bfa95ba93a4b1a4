/**
 * The member-to-member mesh: mutual TLS with the cluster CA as the only
 * trust root (the peer's chain is also checked explicitly against the CA),
 * the peer's certificate must name the expected node id, and the rank it
 * claims must be that node's rank in the committed or proposed peer table.
 * Each pair has two connections: `control` (heartbeats are consumed by the
 * reader before any lane sees them) and `bulk`, so a large payload never
 * delays control traffic. The higher rank dials the lower one.
 *
 * @module
 */

import * as tls from "node:tls";
import { SeedError } from "../errors.ts";
import { FailureDetector } from "../health.ts";
import { nodeIdsFromSubjectAltName, splitHostPort } from "../identity.ts";
import type { SeedLimits, SeedTimings } from "../limits.ts";
import type { PeerEntry, SeedMessage } from "../messages.ts";
import type { MembershipView } from "../joiner_machine.ts";
import { verifyIssuedBy } from "./certs.ts";
import { FramedSocket, type FrameTap } from "./framed_socket.ts";
import type { Logger } from "../../net/log.ts";

/** A mesh lane. */
export type MeshLane = "control" | "bulk";

/** Events of the mesh. */
export type MeshEvent =
  | { type: "peer_connected"; nodeId: string; lane: MeshLane }
  | { type: "peer_dead"; nodeId: string; silentMs: number }
  | { type: "peer_refused"; reason: string }
  | { type: "mesh_ready"; generation: number };

/** Options of {@link Mesh}. */
export interface MeshOptions {
  /** Own node id. */
  nodeId: string;
  /** The already-bound listener (credentials are set later). */
  server: tls.Server;
  /** Own private key PEM (stays in this process). */
  keyPem: string;
  /** Timings. */
  timings: SeedTimings;
  /** Limits. */
  limits: SeedLimits;
  /** Logger. */
  log: Logger;
  /** Frame tap. */
  tap?: FrameTap;
  /** Mesh events. */
  onEvent(event: MeshEvent): void;
  /** Application payloads. */
  onData(from: string, lane: MeshLane, payload: Uint8Array): void;
}

/** Peers dialled at the same time by one member. */
const MAX_CONCURRENT_DIALS = 4;

interface PeerLinks {
  control?: FramedSocket;
  bulk?: FramedSocket;
  dialing: boolean;
  /** No new dial before this time (backoff after failures). */
  retryAt: number;
  /** Current backoff (ms). */
  backoff: number;
}

/**
 * The mesh of one member.
 *
 * @example
 * ```ts ignore
 * const mesh = new Mesh({ nodeId, server, keyPem, timings, limits, log, onEvent, onData });
 * mesh.setCredentials({ clusterId, caPem, caDer, leafPem });
 * mesh.update(view);
 * ```
 */
export class Mesh {
  readonly #o: MeshOptions;
  readonly #detector: FailureDetector;
  #clusterId = "";
  #caPem = "";
  #caDer: Uint8Array = new Uint8Array();
  #leafPem = "";
  #view: MembershipView | undefined;
  #allowed = new Map<string, Set<number>>();
  #links = new Map<string, PeerLinks>();
  #pending = new Set<tls.TLSSocket>();
  #timer: ReturnType<typeof setTimeout> | undefined;
  #seq = 0;
  #closed = false;
  #silent = false;
  #dialsInFlight = 0;
  #readyGeneration = -1;

  /**
   * Creates the mesh and starts accepting (connections are refused until
   * credentials are set).
   *
   * @param options Identity, listener, timings and callbacks.
   */
  constructor(options: MeshOptions) {
    this.#o = options;
    this.#detector = new FailureDetector({
      intervalMs: options.timings.heartbeatIntervalMs,
      timeoutMs: options.timings.heartbeatTimeoutMs,
    });
    // Nothing is accepted before this node holds its cluster credentials.
    options.server.on("connection", (raw: { destroy(): void }) => {
      if (this.#clusterId === "" || this.#closed) raw.destroy();
    });
    options.server.on(
      "secureConnection",
      (s: tls.TLSSocket) => this.#accept(s),
    );
    options.server.on("tlsClientError", (e: Error, s: tls.TLSSocket) => {
      this.#o.log.debug("mesh_tls_failed", { error: e });
      s.destroy();
      this.#o.onEvent({ type: "peer_refused", reason: "tls handshake failed" });
    });
  }

  /** The failure detector (read-only use). */
  get detector(): FailureDetector {
    return this.#detector;
  }

  /**
   * Installs the cluster CA and this node's leaf.
   *
   * @param c Cluster id, CA (PEM and DER) and leaf PEM.
   */
  setCredentials(
    c: { clusterId: string; caPem: string; caDer: Uint8Array; leafPem: string },
  ): void {
    this.#clusterId = c.clusterId;
    this.#caPem = c.caPem;
    this.#caDer = c.caDer;
    this.#leafPem = c.leafPem;
    this.#o.server.setSecureContext({
      cert: c.leafPem,
      key: this.#o.keyPem,
      ca: [c.caPem],
    });
  }

  /**
   * Allows nodes of a proposed table to connect (before the commit).
   *
   * @param peers The proposed table.
   */
  allow(peers: readonly PeerEntry[]): void {
    for (const p of peers) {
      const set = this.#allowed.get(p.nodeId) ?? new Set();
      set.add(p.rank);
      this.#allowed.set(p.nodeId, set);
    }
  }

  /**
   * Applies a committed view: drops removed peers, dials lower ranks, and
   * points the failure detector at the new generation.
   *
   * @param view The committed view.
   */
  update(view: MembershipView): void {
    this.#view = view;
    this.#allowed = new Map();
    this.allow(view.peers);
    const others = view.peers.filter((p) => p.nodeId !== this.#o.nodeId);
    const keep = new Set(others.map((p) => p.nodeId));
    for (const [id, links] of this.#links) {
      if (!keep.has(id)) {
        links.control?.close();
        links.bulk?.close();
        this.#links.delete(id);
      }
    }
    this.#detector.setPeers(
      view.generation,
      others.map((p) => p.nodeId),
      performance.now(),
    );
    this.#dialMissing();
    this.#checkReady();
    this.#schedule();
  }

  /** True when a control link to every peer of the current view is up. */
  get ready(): boolean {
    const v = this.#view;
    if (v === undefined) return false;
    return v.peers.every((p) =>
      p.nodeId === this.#o.nodeId ||
      (this.#links.get(p.nodeId)?.control !== undefined &&
        this.#links.get(p.nodeId)?.bulk !== undefined)
    );
  }

  #checkReady(): void {
    const v = this.#view;
    if (
      v !== undefined && this.ready && this.#readyGeneration !== v.generation
    ) {
      this.#readyGeneration = v.generation;
      this.#o.onEvent({ type: "mesh_ready", generation: v.generation });
    }
  }

  #dialMissing(): void {
    const v = this.#view;
    if (v === undefined || this.#closed) return;
    const me = v.peers.find((p) => p.nodeId === this.#o.nodeId);
    if (me === undefined) return;
    for (const p of v.peers) {
      // A few dials at a time: many concurrent TLS handshakes on a loaded
      // host all time out together.
      if (this.#dialsInFlight >= MAX_CONCURRENT_DIALS) return;
      // Dead peers are dialled again too: a slow peer may come back.
      if (p.rank >= me.rank) continue;
      const links = this.#links.get(p.nodeId) ??
        { dialing: false, retryAt: 0, backoff: 0 };
      this.#links.set(p.nodeId, links);
      if (links.dialing || performance.now() < links.retryAt) continue;
      const lanes = (["control", "bulk"] as const).filter((l) =>
        links[l] === undefined
      );
      if (lanes.length === 0) continue;
      links.dialing = true;
      this.#dialsInFlight++;
      (async () => {
        for (const lane of lanes) {
          await this.#dial(p, lane, me.rank, v.generation);
        }
      })().finally(() => {
        this.#dialsInFlight--;
        links.dialing = false;
        if (links.control === undefined || links.bulk === undefined) {
          // Back off (with jitter) so that a loaded host is not stormed.
          links.backoff = Math.min(Math.max(links.backoff * 2, 100), 5000);
          links.retryAt = performance.now() +
            links.backoff * (0.5 + Math.random() / 2);
        } else links.backoff = 0;
        this.#dialMissing();
      });
    }
  }

  async #dial(
    peer: PeerEntry,
    lane: MeshLane,
    rank: number,
    generation: number,
  ): Promise<void> {
    const hp = splitHostPort(peer.addr);
    if (hp === undefined) return;
    const socket = tls.connect({
      host: hp.hostname,
      port: hp.port,
      ca: [this.#caPem],
      cert: this.#leafPem,
      key: this.#o.keyPem,
      rejectUnauthorized: true,
      // The node id in the certificate is checked below instead of a host name.
      checkServerIdentity: () => undefined,
    });
    this.#pending.add(socket);
    // One deadline over every step: a socket closed between two steps (its
    // close event already gone) must not leave the dial pending forever.
    let timer: ReturnType<typeof setTimeout> | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        socket.destroy();
        reject(new SeedError("handshake_timeout", "mesh dial timed out"));
      }, this.#o.timings.handshakeTimeoutMs);
    });
    deadline.catch(() => {});
    try {
      await Promise.race([
        deadline,
        this.#dialSteps(socket, peer, lane, rank, generation),
      ]);
    } catch (err) {
      socket.destroy();
      this.#o.log.debug("mesh_dial_failed", {
        peer: peer.nodeId,
        lane,
        error: err,
      });
    } finally {
      clearTimeout(timer);
      this.#pending.delete(socket);
    }
  }

  async #dialSteps(
    socket: tls.TLSSocket,
    peer: PeerEntry,
    lane: MeshLane,
    rank: number,
    generation: number,
  ): Promise<void> {
    {
      await new Promise<void>((resolve, reject) => {
        if (socket.destroyed) reject(new Error("closed"));
        socket.once("secureConnect", () => resolve());
        socket.once("error", reject);
        socket.once("close", () => reject(new Error("closed")));
      });
      const peerCert = socket.getPeerCertificate(false) as {
        raw?: Uint8Array;
        subjectaltname?: string;
      };
      const ids = nodeIdsFromSubjectAltName(
        peerCert.subjectaltname ?? "",
        this.#clusterId,
      );
      if (
        !socket.authorized || peerCert.raw === undefined ||
        !ids.includes(peer.nodeId) ||
        !(await verifyIssuedBy(new Uint8Array(peerCert.raw), this.#caDer))
      ) {
        throw new SeedError(
          "identity_mismatch",
          `peer at rank ${peer.rank} does not present node ${peer.nodeId}`,
        );
      }
      const { hello: reply, framed } = await this.#handshake(socket, {
        type: "mesh_hello",
        clusterId: this.#clusterId,
        nodeId: this.#o.nodeId,
        rank,
        generation,
        lane,
      }, true);
      if (reply.nodeId !== peer.nodeId) {
        throw new SeedError(
          "identity_mismatch",
          "mesh reply names another node",
        );
      }
      if (socket.destroyed) throw new SeedError("closed", "mesh link closed");
      this.#register(peer.nodeId, lane, framed);
    }
  }

  /**
   * Exchanges `mesh_hello` frames on a fresh socket. The dialer sends first.
   */
  #handshake(
    socket: tls.TLSSocket,
    hello: Extract<SeedMessage, { type: "mesh_hello" }>,
    dialer: boolean,
    check?: (m: Extract<SeedMessage, { type: "mesh_hello" }>) => void,
  ): Promise<
    {
      hello: Extract<SeedMessage, { type: "mesh_hello" }>;
      framed: FramedSocket;
    }
  > {
    return new Promise((resolve, reject) => {
      let done = false;
      const framed = new FramedSocket(socket, {
        limits: this.#o.limits,
        initialMaxFrameBytes: this.#o.limits.maxPreAuthFrameBytes,
        tap: this.#o.tap,
        onMessage: (m) => {
          if (done) return;
          done = true;
          framed.rebind({
            onMessage: () => {},
            onError: () => socket.destroy(),
            onClose: () => {},
          });
          if (m.type !== "mesh_hello") {
            reject(new SeedError("unexpected_message", "expected mesh_hello"));
            return;
          }
          try {
            check?.(m);
          } catch (e) {
            reject(e);
            return;
          }
          if (!dialer) framed.send(hello);
          resolve({ hello: m, framed });
        },
        onError: (e) => {
          done = true;
          reject(e);
        },
        onClose: () => {
          if (!done) reject(new SeedError("closed", "mesh handshake closed"));
        },
      });
      if (socket.destroyed) {
        done = true;
        reject(new SeedError("closed", "mesh handshake closed"));
        return;
      }
      if (dialer) framed.send(hello);
    });
  }

  async #accept(socket: tls.TLSSocket): Promise<void> {
    if (this.#clusterId === "" || this.#closed) {
      socket.destroy();
      return;
    }
    this.#pending.add(socket);
    const timer = setTimeout(
      () => socket.destroy(),
      this.#o.timings.handshakeTimeoutMs,
    );
    try {
      const peerCert = socket.getPeerCertificate(false) as {
        raw?: Uint8Array;
        subjectaltname?: string;
      };
      if (!socket.authorized || peerCert.raw === undefined) {
        throw new SeedError(
          "identity_mismatch",
          "no authorized client certificate",
        );
      }
      const ids = nodeIdsFromSubjectAltName(
        peerCert.subjectaltname ?? "",
        this.#clusterId,
      );
      const chains = verifyIssuedBy(new Uint8Array(peerCert.raw), this.#caDer);
      const me = this.#view?.peers.find((p) => p.nodeId === this.#o.nodeId);
      const { hello, framed } = await this.#handshake(
        socket,
        {
          type: "mesh_hello",
          clusterId: this.#clusterId,
          nodeId: this.#o.nodeId,
          rank: me?.rank ?? 0,
          generation: this.#view?.generation ?? 0,
          lane: "control",
        },
        false,
        (m) => {
          if (m.clusterId !== this.#clusterId) {
            throw new SeedError("identity_mismatch", "other cluster");
          }
          if (!ids.includes(m.nodeId)) {
            throw new SeedError(
              "identity_mismatch",
              "certificate does not name the claimed node",
            );
          }
          if (!(this.#allowed.get(m.nodeId)?.has(m.rank) ?? false)) {
            throw new SeedError(
              "identity_mismatch",
              "claimed rank is not the node's rank in the peer table",
            );
          }
          if (m.lane !== "control" && m.lane !== "bulk") {
            throw new SeedError("malformed", "unknown lane");
          }
        },
      );
      if (!(await chains)) {
        throw new SeedError(
          "identity_mismatch",
          "certificate is not from the cluster CA",
        );
      }
      this.#register(hello.nodeId, hello.lane as MeshLane, framed);
    } catch (err) {
      this.#o.log.debug("mesh_accept_failed", { error: err });
      this.#o.onEvent({
        type: "peer_refused",
        reason: err instanceof SeedError ? err.code : "handshake failed",
      });
      socket.destroy();
    } finally {
      clearTimeout(timer);
      this.#pending.delete(socket);
    }
  }

  #register(nodeId: string, lane: MeshLane, framed: FramedSocket): void {
    const socket = framed.socket;
    if (framed.closed || socket.destroyed) return;
    if (this.#closed) {
      socket.destroy();
      return;
    }
    const links = this.#links.get(nodeId) ??
      { dialing: false, retryAt: 0, backoff: 0 };
    this.#links.set(nodeId, links);
    links[lane]?.socket.destroy();
    framed.rebind({
      onMessage: (m) => {
        this.#detector.received(nodeId, performance.now());
        if (m.type === "heartbeat") return;
        if (m.type === "data") this.#o.onData(nodeId, lane, m.payload);
      },
      onError: () => socket.destroy(),
      onClose: () => {
        if (links[lane] === framed) links[lane] = undefined;
      },
    });
    framed.authenticated();
    links[lane] = framed;
    socket.setNoDelay?.(true);
    // Connecting is not a sign of life for a peer already declared dead:
    // only its heartbeats or data revive it.
    if (!this.#detector.isDead(nodeId)) {
      this.#detector.received(nodeId, performance.now());
    }
    this.#o.log.debug("mesh_link_up", { peer: nodeId, lane });
    this.#o.onEvent({ type: "peer_connected", nodeId, lane });
    this.#checkReady();
  }

  /**
   * Sends a payload to a peer on a lane.
   *
   * @param nodeId Peer node id.
   * @param lane `control` or `bulk`.
   * @param payload Bytes.
   * @throws {SeedError} `closed` when there is no link.
   */
  send(nodeId: string, lane: MeshLane, payload: Uint8Array): void {
    const link = this.#links.get(nodeId)?.[lane];
    if (link === undefined || link.closed) {
      throw new SeedError("closed", `no ${lane} link to ${nodeId}`);
    }
    link.send({ type: "data", payload }, lane === "bulk" ? 2 : 1);
  }

  #schedule(): void {
    if (this.#closed) return;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    const next = this.#detector.nextDeadline();
    const wait = next === undefined
      ? this.#o.timings.heartbeatIntervalMs
      : Math.max(0, next - performance.now());
    this.#timer = setTimeout(
      () => this.#tick(),
      Math.min(wait, this.#o.timings.heartbeatIntervalMs),
    );
  }

  #tick(): void {
    this.#timer = undefined;
    if (this.#closed) return;
    const now = performance.now();
    const poll = this.#detector.poll(now);
    for (const id of this.#silent ? [] : poll.heartbeatsDue) {
      const link = this.#links.get(id)?.control;
      link?.send({
        type: "heartbeat",
        generation: this.#view?.generation ?? 0,
        seq: this.#seq++,
      });
    }
    for (const id of poll.dead) {
      // Links stay: heartbeats keep flowing both ways, and a peer heard
      // from again is alive again.
      this.#o.onEvent({
        type: "peer_dead",
        nodeId: id,
        silentMs: this.#detector.silenceMs(id, now) ?? 0,
      });
    }
    this.#dialMissing();
    this.#schedule();
  }

  /** Stops sending heartbeats but keeps every socket open (fault injection). */
  silence(): void {
    this.#silent = true;
  }

  /** Closes every link and stops timers (the listener is closed by its owner). */
  close(): void {
    this.#closed = true;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    for (const links of this.#links.values()) {
      links.control?.socket.destroy();
      links.bulk?.socket.destroy();
    }
    for (const s of this.#pending) s.destroy();
    this.#links.clear();
  }
}
