/**
 * The router's view of worker connections: a thin adapter over the
 * transport's `listen()` so the router only depends on the few members it
 * uses.
 *
 * @module
 */

import type { Address } from "./address.ts";
import type {
  HandshakeReject,
  Notification,
  Request,
  Response,
  RouterWelcome,
  SupportedVersions,
  U64,
  WorkerHello,
} from "../wire/types.ts";
import type { RouterTlsOptions } from "./router_config.ts";
import { listen, type Listener, type ListenTlsOptions } from "./listen.ts";

/** Per-call options (see `CallOptions` of `connection.ts`). */
export interface WorkerCallOptions {
  signal?: AbortSignal;
  /** Budget for writing the request; on expiry the connection is closed. */
  writeTimeoutMs?: number;
  /** Budget for the response, counted from the end of the write. */
  timeoutMs?: number;
}

/** An admitted worker connection (the subset of `Connection` the router uses). */
export interface WorkerConnection {
  readonly hello: WorkerHello;
  readonly welcome: RouterWelcome;
  readonly peerFingerprint?: string;
  call(request: Request, options?: WorkerCallOptions): Promise<Response>;
  setNotificationHandler(
    handler: ((n: Notification) => void) | undefined,
  ): void;
  close(): Promise<void>;
  readonly closed: Promise<unknown>;
}

/** Accepted connections plus the bound address. */
export interface WorkerListener extends AsyncIterable<WorkerConnection> {
  readonly address: Address;
  close(): Promise<void>;
}

/** Options for {@link listenForWorkers}. */
export interface ListenForWorkersOptions {
  tls?: RouterTlsOptions;
  allowInsecure: boolean;
  maxRpcBytes: number;
  maxInflightHandshakes: number;
  maxConnections: number;
  handshakeTimeoutMs: number;
  /** Expected bearer token (checked by the transport in constant time). */
  authToken?: string;
  /** Offer zstd compression (pointless CPU on a local socket). */
  compression?: boolean;
  /** Versions offered (default 3.0 only; 3.1 adds distributed search). */
  supportedVersions?: SupportedVersions;
  admit(
    hello: WorkerHello,
    peerFingerprint: string | undefined,
  ): { worker_id: number; revision: U64 } | { reject: HandshakeReject };
}

/**
 * Binds a listener for workers; resolves once bound (port 0 resolved).
 *
 * @example
 * ```ts ignore
 * import { listenForWorkers } from "./_router_transport.ts";
 * const l = await listenForWorkers({ transport: "tcp", hostname: "127.0.0.1", port: 0 }, {
 *   allowInsecure: false, maxRpcBytes: 1 << 20, maxInflightHandshakes: 8,
 *   maxConnections: 8, handshakeTimeoutMs: 5000,
 *   admit: (hello) => ({ worker_id: 1, revision: 0 }),
 * });
 * await l.close();
 * ```
 */
export async function listenForWorkers(
  address: Address,
  options: ListenForWorkersOptions,
): Promise<WorkerListener> {
  let tls: ListenTlsOptions | undefined;
  if (options.tls !== undefined) {
    tls = {
      cert: await Deno.readTextFile(options.tls.certFile),
      key: await Deno.readTextFile(options.tls.keyFile),
    };
    if (
      options.tls.clientCaFile !== undefined &&
      options.tls.requireClientAuth !== false
    ) {
      tls.clientCa = await Deno.readTextFile(options.tls.clientCaFile);
    }
  }
  const listener: Listener = listen(address, {
    compression: options.compression ?? address.transport !== "unix",
    supportedVersions: options.supportedVersions,
    authToken: options.authToken ?? null,
    allowInsecure: options.allowInsecure,
    maxPendingHandshakes: options.maxInflightHandshakes,
    maxConnections: options.maxConnections,
    handshakeTimeoutMs: options.handshakeTimeoutMs,
    capabilities: {
      max_frame_len: options.maxRpcBytes,
      max_packet_len: options.maxRpcBytes,
    },
    tls,
    admit: (info) => options.admit(info.hello, info.peerFingerprint),
  });
  try {
    await listener.ready;
  } catch (err) {
    await listener.close();
    throw err;
  }
  return {
    get address() {
      return listener.address;
    },
    [Symbol.asyncIterator]: () => listener[Symbol.asyncIterator](),
    close: () => listener.close(),
  };
}
