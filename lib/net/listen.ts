/**
 * The router role: accept workers on `unix:`, `tcp:` or `tcp+tls:` (with
 * optional client-certificate verification), run the v3 handshake with an
 * admission hook, and yield every connection whose handshake succeeded.
 *
 * Admission limits, checked without blocking when a stream is accepted
 * (excess streams are closed at once and the accept loop never stalls):
 * - `maxConnections` (default 1024): open connections plus handshakes;
 * - `maxPendingHandshakes` (default 128): handshakes in progress (for mutual
 *   TLS the TLS accept counts too);
 * - `maxPendingHandshakesPerPeer` (default 16): handshakes in progress from
 *   one TCP peer address.
 *
 * Idle connections must not lock legitimate workers out: a new stream over
 * the per-peer limit closes that peer's oldest pending handshake, and one
 * over the total limit closes the oldest pending handshake of the peer with
 * the most of them (all local Unix-socket peers count as one), rather than
 * being refused. A new stream is refused only when no peer holds two.
 *
 * Each handshake is bounded by `handshakeTimeoutMs` (default 5000; for mutual
 * TLS the TLS accept gets its own budget of the same length first, as in the
 * reference).
 *
 * @module
 */

import { createRouterSession } from "../wire/session.ts";
import type { Capabilities, SupportedVersions } from "../wire/types.ts";
import {
  type Address,
  formatAddress,
  toAddress,
  unsupportedPipeError,
} from "./address.ts";
import {
  type AdmissionHook,
  type Connection,
  sessionOptions,
  type SessionTuning,
  startConnection,
} from "./connection.ts";
import { createLogger, type Logger } from "./log.ts";
import type { ByteStream } from "./stream.ts";
import { createNodeTlsServer, type NodeTlsServer } from "./tls_server.ts";
import { listenUnixSocket, type UnixSocketListener } from "./unix.ts";
import { DEFAULT_HANDSHAKE_TIMEOUT_MS } from "../wire/limits.ts";

/** TLS settings of a router. */
export interface ListenTlsOptions {
  /** Server certificate chain (PEM). */
  cert: string;
  /** Server private key (PEM). */
  key: string;
  /**
   * CA certificates (PEM) for client certificates. When set, every worker
   * must present a certificate that chains to one of them (mutual TLS), and
   * its fingerprint reaches the admission hook.
   */
  clientCa?: string | string[];
}

/** Options for {@link listen}. */
export interface ListenOptions extends SessionTuning {
  /** The token every hello must carry (never logged). */
  authToken?: string | null;
  /** Allow a token over plaintext `tcp:`. @default {false} */
  allowInsecure?: boolean;
  /** Decides admission (default: accept with worker id 1, revision 0). */
  admit?: AdmissionHook;
  /** Handshakes in progress at once. @default {128} */
  maxPendingHandshakes?: number;
  /** Handshakes in progress from one TCP peer address. @default {16} */
  maxPendingHandshakesPerPeer?: number;
  /** Open connections plus handshakes. @default {1024} */
  maxConnections?: number;
  /** Budget of one handshake in milliseconds. @default {5000} */
  handshakeTimeoutMs?: number;
  /** Overrides of the offered capabilities. */
  capabilities?: Partial<Capabilities>;
  /** Accepted protocol versions. @default {3.0 to 3.0} */
  supportedVersions?: SupportedVersions;
  /** Required for `tcp+tls:`. */
  tls?: ListenTlsOptions;
  /** How long a worker request waits for a request handler. @default {500} */
  handlerWaitMs?: number;
  /** Logger. @default {a `LOOM_LOG` logger} */
  logger?: Logger;
}

/** A running router listener; iterate it for admitted connections. */
export interface Listener extends AsyncIterable<Connection>, AsyncDisposable {
  /**
   * The bound address (port 0 resolved). For mutual TLS the port is known
   * only once {@link Listener.ready} resolved.
   */
  readonly address: Address;
  /** Resolves to the bound address; rejects when binding failed. */
  readonly ready: Promise<Address>;
  /** Handshakes in progress. */
  readonly pendingHandshakes: number;
  /** Connections held (handshaking or open). */
  readonly activeConnections: number;
  /** The next admitted connection, or undefined once closed. */
  accept(): Promise<Connection | undefined>;
  /**
   * Stops accepting, aborts handshakes in progress and closes admitted
   * connections nobody has taken yet. Connections already returned by
   * `accept` or the iterator stay open.
   */
  close(): Promise<void>;
}

function positiveInt(name: string, value: number): number {
  if (!Number.isSafeInteger(value) || value < 1) {
    throw new RangeError(`${name} must be a positive integer`);
  }
  return value;
}

interface Ticket {
  released: boolean;
  /** The peer's address (host), when known. */
  peer?: string;
  /** Closes the stream (set once it is known). */
  close?: () => void;
}

class RouterListener implements Listener {
  #address: Address;
  readonly ready: Promise<Address>;
  #options: ListenOptions;
  #logger: Logger;
  #maxPending: number;
  #maxPendingPerPeer: number;
  #maxConnections: number;
  #pending = 0;
  /** Pending handshakes in arrival order. */
  #pendingTickets = new Set<Ticket>();
  #active = 0;
  #closed = false;
  #queue: Connection[] = [];
  #waiters: ((conn: Connection | undefined) => void)[] = [];
  #handshaking = new Set<ByteStream>();
  #tasks = new Set<Promise<unknown>>();
  #closeHooks: (() => void | Promise<void>)[] = [];
  #closing: Promise<void> | undefined;

  constructor(address: Address, options: ListenOptions) {
    this.#options = options;
    this.#logger = options.logger ??
      createLogger({ component: "loom.net.listen" });
    this.#maxPending = positiveInt(
      "maxPendingHandshakes",
      options.maxPendingHandshakes ?? 128,
    );
    this.#maxPendingPerPeer = positiveInt(
      "maxPendingHandshakesPerPeer",
      options.maxPendingHandshakesPerPeer ?? 16,
    );
    this.#maxConnections = positiveInt(
      "maxConnections",
      options.maxConnections ?? 1024,
    );
    const timeout = options.handshakeTimeoutMs ?? DEFAULT_HANDSHAKE_TIMEOUT_MS;
    if (!(timeout > 0)) {
      throw new RangeError("handshakeTimeoutMs must be positive");
    }
    // Fail fast on bad router options (zero limits, versions...).
    createRouterSession(this.#sessionOptions());
    this.#address = address;
    this.ready = this.#bind(address);
    this.ready.catch(() => {});
  }

  get address(): Address {
    return this.#address;
  }

  get pendingHandshakes(): number {
    return this.#pending;
  }

  get activeConnections(): number {
    return this.#active;
  }

  #sessionOptions(): Parameters<typeof createRouterSession>[0] {
    const o = this.#options;
    return {
      ...sessionOptions(o),
      expectedAuthToken: o.authToken ?? null,
      capabilities: o.capabilities,
      supportedVersions: o.supportedVersions,
      handshakeTimeoutMs: o.handshakeTimeoutMs ?? DEFAULT_HANDSHAKE_TIMEOUT_MS,
      now: performance.now(),
    };
  }

  #bind(address: Address): Promise<Address> {
    switch (address.transport) {
      case "pipe":
        throw unsupportedPipeError(address);
      case "unix": {
        const unix: UnixSocketListener = listenUnixSocket(address.path);
        this.#closeHooks.push(() => unix.close());
        this.#track(this.#acceptLoop(unix.listener, "unix"));
        return Promise.resolve(address);
      }
      case "tcp": {
        const listener = Deno.listen({
          hostname: address.hostname,
          port: address.port,
        });
        this.#closeHooks.push(() => listener.close());
        this.#address = { ...address, port: listener.addr.port };
        this.#track(this.#acceptLoop(listener, "tcp"));
        return Promise.resolve(this.#address);
      }
      case "tcp+tls": {
        const tls = this.#options.tls!;
        if (tls.clientCa === undefined) {
          const listener = Deno.listenTls({
            hostname: address.hostname,
            port: address.port,
            cert: tls.cert,
            key: tls.key,
          });
          this.#closeHooks.push(() => listener.close());
          this.#address = { ...address, port: listener.addr.port };
          this.#track(this.#acceptLoop(listener, "tls"));
          return Promise.resolve(this.#address);
        }
        return this.#bindMutualTls(address, tls);
      }
    }
  }

  async #bindMutualTls(
    address: Extract<Address, { hostname: string }>,
    tls: ListenTlsOptions,
  ): Promise<Address> {
    const server: NodeTlsServer = createNodeTlsServer<Ticket>({
      hostname: address.hostname,
      port: address.port,
      cert: tls.cert,
      key: tls.key,
      clientCa: tls.clientCa,
      handshakeTimeoutMs: this.#options.handshakeTimeoutMs ??
        DEFAULT_HANDSHAKE_TIMEOUT_MS,
      onConnection: () => this.#admitStream("mtls"),
      onSecure: ({ stream, peerFingerprint, ticket }) => {
        if (this.#closed) {
          stream.close();
          this.#release(ticket, false);
          return;
        }
        this.#handshake(stream, ticket, peerFingerprint, undefined);
      },
      onFailed: (ticket, error) => {
        this.#logger.info("tls accept failed", { error });
        this.#release(ticket, false);
      },
    });
    this.#closeHooks.push(() => server.close());
    const bound = await server.ready;
    this.#address = { ...address, port: bound.port };
    return this.#address;
  }

  /**
   * Takes a permit for a new stream, or returns undefined (drop it). Over a
   * pending-handshake limit, the oldest handshake of the busiest peer is
   * closed instead (see the module documentation).
   */
  #admitStream(
    kind: string,
    peer?: string,
    close?: () => void,
  ): Ticket | undefined {
    if (this.#closed) return undefined;
    if (this.#active >= this.#maxConnections) {
      this.#logger.warn("dropping incoming connection", {
        transport: kind,
        reason: "too many active connections",
      });
      return undefined;
    }
    if (peer !== undefined) {
      let count = 0;
      let oldest: Ticket | undefined;
      for (const t of this.#pendingTickets) {
        if (t.peer !== peer) continue;
        count++;
        if (oldest === undefined && t.close !== undefined) oldest = t;
      }
      if (count >= this.#maxPendingPerPeer && oldest !== undefined) {
        this.#evict(oldest, kind, "too many pending handshakes from one peer");
      }
    }
    if (this.#pending >= this.#maxPending) {
      const victim = this.#busiestOldest();
      if (victim === undefined) {
        this.#logger.warn("dropping incoming connection", {
          transport: kind,
          reason: "too many pending handshakes",
        });
        return undefined;
      }
      this.#evict(victim, kind, "too many pending handshakes");
    }
    this.#active++;
    this.#pending++;
    const ticket: Ticket = { released: false, peer, close };
    this.#pendingTickets.add(ticket);
    return ticket;
  }

  /** The oldest closable handshake of the peer holding the most (>= 2). */
  #busiestOldest(): Ticket | undefined {
    const counts = new Map<string, { n: number; oldest: Ticket }>();
    for (const t of this.#pendingTickets) {
      if (t.close === undefined) continue;
      const key = t.peer ?? "local";
      const entry = counts.get(key);
      if (entry === undefined) counts.set(key, { n: 1, oldest: t });
      else entry.n++;
    }
    let best: { n: number; oldest: Ticket } | undefined;
    for (const entry of counts.values()) {
      if (entry.n >= 2 && (best === undefined || entry.n > best.n)) {
        best = entry;
      }
    }
    return best?.oldest;
  }

  #evict(ticket: Ticket, kind: string, reason: string): void {
    this.#logger.info("closing a pending handshake", {
      transport: kind,
      reason,
      peer: ticket.peer,
    });
    this.#release(ticket, false);
    try {
      ticket.close?.();
    } catch {
      // closed
    }
  }

  /** Ends the handshake part of a permit; `keep` holds the connection part. */
  #release(ticket: Ticket, keep: boolean): void {
    if (ticket.released) return;
    ticket.released = true;
    this.#pendingTickets.delete(ticket);
    this.#pending--;
    if (!keep) this.#active--;
  }

  async #acceptLoop(
    listener: Deno.Listener,
    kind: string,
  ): Promise<void> {
    try {
      for await (const conn of listener) {
        const remoteAddr = conn.remoteAddr;
        const peer = remoteAddr.transport === "tcp"
          ? remoteAddr.hostname
          : undefined;
        const ticket = this.#admitStream(kind, peer, () => conn.close());
        if (ticket === undefined) {
          try {
            conn.close();
          } catch {
            // closed
          }
          continue;
        }
        if (kind === "tcp") (conn as Deno.TcpConn).setNoDelay(true);
        const remote = conn.remoteAddr;
        const remoteAddress = remote.transport === "tcp"
          ? `${remote.hostname}:${remote.port}`
          : undefined;
        this.#handshake(conn, ticket, undefined, remoteAddress);
      }
    } catch (err) {
      if (!this.#closed) {
        this.#logger.error("accept loop failed", { error: err });
      }
    }
  }

  #handshake(
    stream: ByteStream,
    ticket: Ticket,
    peerFingerprint: string | undefined,
    remoteAddress: string | undefined,
  ): void {
    this.#handshaking.add(stream);
    let session;
    try {
      session = createRouterSession(this.#sessionOptions());
    } catch (err) {
      this.#handshaking.delete(stream);
      this.#release(ticket, false);
      stream.close();
      this.#logger.error("router session failed", { error: err });
      return;
    }
    const task = startConnection(session, stream, {
      role: "router",
      admit: this.#options.admit,
      peerFingerprint,
      remoteAddress,
      logger: this.#logger,
      handlerWaitMs: this.#options.handlerWaitMs,
      readBufferSize: this.#options.readBufferSize,
      onHandshakeEnd: (ok) => {
        this.#handshaking.delete(stream);
        this.#release(ticket, ok);
      },
    }).then(
      (conn) => {
        conn.closed.then(() => this.#active--);
        if (this.#closed) {
          conn.close();
          return;
        }
        const waiter = this.#waiters.shift();
        if (waiter !== undefined) waiter(conn);
        else this.#queue.push(conn);
      },
      (err) => {
        this.#logger.info("worker handshake failed", {
          error: err,
          remote: remoteAddress,
        });
      },
    );
    this.#track(task);
  }

  #track(task: Promise<unknown>): void {
    this.#tasks.add(task);
    task.finally(() => this.#tasks.delete(task));
  }

  accept(): Promise<Connection | undefined> {
    const next = this.#queue.shift();
    if (next !== undefined) return Promise.resolve(next);
    if (this.#closed) return Promise.resolve(undefined);
    return new Promise((resolve) => this.#waiters.push(resolve));
  }

  async *[Symbol.asyncIterator](): AsyncIterator<Connection> {
    for (;;) {
      const conn = await this.accept();
      if (conn === undefined) return;
      yield conn;
    }
  }

  close(): Promise<void> {
    this.#closing ??= (async () => {
      this.#closed = true;
      for (const hook of this.#closeHooks) {
        try {
          await hook();
        } catch {
          // Already closed.
        }
      }
      for (const stream of this.#handshaking) {
        try {
          stream.close();
        } catch {
          // closed
        }
      }
      for (const waiter of this.#waiters.splice(0)) waiter(undefined);
      while (this.#tasks.size > 0) {
        await Promise.allSettled([...this.#tasks]);
      }
      await Promise.all(this.#queue.splice(0).map((conn) => conn.close()));
    })();
    return this.#closing;
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}

/**
 * Listens for workers (router role).
 *
 * @param address `unix:/path`, `tcp:host:port` or `tcp+tls:host:port`
 *   (port 0 picks a free port; see {@link Listener.address}).
 * @param options Token, admission hook, limits, TLS and tuning.
 * @returns The listener.
 * @throws {TypeError} For a token over plaintext `tcp:` without
 *   `allowInsecure`, or `tcp+tls:` without `tls`.
 *
 * @example
 * ```ts ignore
 * import { listen } from "./listen.ts";
 * await using listener = listen("tcp:127.0.0.1:0", {
 *   admit: ({ hello }) => ({ worker_id: hello.shard_id + 1, revision: 0 }),
 * });
 * for await (const conn of listener) {
 *   console.log(await conn.call({ type: "get_worker_stats" }));
 * }
 * ```
 */
export function listen(
  address: string | Address,
  options: ListenOptions = {},
): Listener {
  const addr = toAddress(address);
  const logger = options.logger ??
    createLogger({ component: "loom.net.listen" });
  const hasToken = options.authToken !== undefined &&
    options.authToken !== null;
  if (addr.transport === "tcp") {
    if (hasToken && options.allowInsecure !== true) {
      throw new TypeError(
        "refusing to accept an auth token over plaintext tcp: use tcp+tls: or set allowInsecure",
      );
    }
    logger.warn("plaintext tcp listener", {
      address: formatAddress(addr),
      auth_present: hasToken,
    });
  }
  if (addr.transport === "tcp+tls" && options.tls === undefined) {
    throw new TypeError("tls.cert and tls.key are required for tcp+tls");
  }
  return new RouterListener(addr, { ...options, logger });
}
