/**
 * A TLS server on `node:tls` that can require and verify client
 * certificates (mutual TLS), which `Deno.listenTls` cannot. Each verified
 * connection is handed over as a {@link ByteStream} together with the SHA-256
 * fingerprint of the peer's leaf certificate (lowercase hex, no colons).
 *
 * The TLS accept is bounded by `handshakeTimeoutMs`; a connection that has
 * not finished TLS by then is destroyed. Admission of raw connections (for
 * connection and pending-handshake limits) is delegated to `onConnection`.
 *
 * @module
 */

import * as tls from "node:tls";
import type { Socket } from "node:net";
import { createHash } from "node:crypto";
import { type ByteStream, nodeSocketStream } from "./stream.ts";
import { DEFAULT_HANDSHAKE_TIMEOUT_MS } from "../wire/limits.ts";

/** A connection that completed TLS. */
export interface SecureConnection<T> {
  /** The decrypted byte stream. */
  stream: ByteStream;
  /** SHA-256 of the peer's leaf certificate DER (lowercase hex), if any. */
  peerFingerprint?: string;
  /** The value `onConnection` returned for this connection. */
  ticket: T;
}

/** Options for {@link createNodeTlsServer}. */
export interface NodeTlsServerOptions<T> {
  /** Address to bind. */
  hostname: string;
  /** Port to bind (0 picks a free one). */
  port: number;
  /** Server certificate chain (PEM). */
  cert: string;
  /** Server private key (PEM). */
  key: string;
  /**
   * CA certificates (PEM) that client certificates must chain to. When set,
   * a client certificate is required and verified.
   */
  clientCa?: string | string[];
  /** Bound on the TLS accept. @default {5000} */
  handshakeTimeoutMs?: number;
  /**
   * Called for each raw TCP connection before TLS. Return a ticket to go on,
   * or `undefined` to drop the connection immediately.
   */
  onConnection(): T | undefined;
  /** Called when a connection completed TLS (and client verification). */
  onSecure(connection: SecureConnection<T>): void;
  /** Called when a connection failed or timed out before completing TLS. */
  onFailed(ticket: T, error: Error): void;
}

/** A running {@link createNodeTlsServer} server. */
export interface NodeTlsServer {
  /** Resolves to the bound address once listening; rejects on bind errors. */
  readonly ready: Promise<{ hostname: string; port: number }>;
  /** Stops accepting and destroys connections still in the TLS handshake. */
  close(): Promise<void>;
}

/**
 * The SHA-256 fingerprint of DER bytes as lowercase hex without colons.
 *
 * @param der Certificate DER.
 * @returns 64 hex characters.
 *
 * @example
 * ```ts
 * import { derFingerprint } from "./tls_server.ts";
 * console.assert(derFingerprint(new Uint8Array()).startsWith("e3b0c442"));
 * ```
 */
export function derFingerprint(der: Uint8Array): string {
  return createHash("sha256").update(der).digest("hex");
}

interface RawState<T> {
  ticket: T;
  timer: ReturnType<typeof setTimeout>;
  settled: boolean;
}

/**
 * Starts a `node:tls` server (see the module doc).
 *
 * @param options Bind address, credentials, client CA and callbacks.
 * @returns The server handle.
 *
 * @example
 * ```ts ignore
 * import { createNodeTlsServer } from "./tls_server.ts";
 * const server = createNodeTlsServer({ hostname: "127.0.0.1", port: 0, cert, key,
 *   clientCa: ca, onConnection: () => true, onSecure: () => {}, onFailed: () => {} });
 * const { port } = await server.ready;
 * await server.close();
 * ```
 */
export function createNodeTlsServer<T>(
  options: NodeTlsServerOptions<T>,
): NodeTlsServer {
  const handshakeTimeoutMs = options.handshakeTimeoutMs ??
    DEFAULT_HANDSHAKE_TIMEOUT_MS;
  const mutual = options.clientCa !== undefined;
  const server = tls.createServer({
    cert: options.cert,
    key: options.key,
    ca: mutual
      ? (Array.isArray(options.clientCa)
        ? options.clientCa
        : [options.clientCa!])
      : undefined,
    requestCert: mutual,
    rejectUnauthorized: mutual,
    handshakeTimeout: handshakeTimeoutMs,
  });
  const raw = new Map<Socket, RawState<T>>();
  const settle = (socket: Socket, error?: Error): T | undefined => {
    const state = raw.get(socket);
    if (state === undefined || state.settled) return undefined;
    state.settled = true;
    clearTimeout(state.timer);
    raw.delete(socket);
    if (error !== undefined) options.onFailed(state.ticket, error);
    return state.ticket;
  };
  server.on("connection", (socket: Socket) => {
    let ticket: T | undefined;
    try {
      ticket = options.onConnection();
    } catch {
      ticket = undefined;
    }
    if (ticket === undefined) {
      socket.destroy();
      return;
    }
    const state: RawState<T> = {
      ticket,
      settled: false,
      timer: setTimeout(() => {
        settle(socket, new Error("tls accept timed out"));
        socket.destroy();
      }, handshakeTimeoutMs),
    };
    raw.set(socket, state);
    socket.once("close", () => settle(socket, new Error("connection closed")));
  });
  server.on("tlsClientError", (err: Error, tlsSocket: tls.TLSSocket) => {
    const parent = (tlsSocket as unknown as { _parent?: Socket })._parent;
    if (parent !== undefined) settle(parent, err);
    tlsSocket.destroy();
    parent?.destroy();
  });
  server.on("secureConnection", (tlsSocket: tls.TLSSocket) => {
    const parent = (tlsSocket as unknown as { _parent?: Socket })._parent;
    const ticket = parent === undefined ? undefined : settle(parent);
    if (ticket === undefined) {
      // Timed out in the same tick, or an unknown socket: drop it.
      tlsSocket.destroy();
      return;
    }
    if (mutual && !tlsSocket.authorized) {
      options.onFailed(ticket, new Error("client certificate not authorized"));
      tlsSocket.destroy();
      return;
    }
    let peerFingerprint: string | undefined;
    const peer = tlsSocket.getPeerCertificate(false) as
      | { raw?: Uint8Array }
      | null;
    if (peer?.raw !== undefined && peer.raw.length > 0) {
      peerFingerprint = derFingerprint(peer.raw);
    }
    tlsSocket.setNoDelay?.(true);
    options.onSecure({
      stream: nodeSocketStream(tlsSocket),
      peerFingerprint,
      ticket,
    });
  });
  const ready = new Promise<{ hostname: string; port: number }>(
    (resolve, reject) => {
      const onError = (err: Error): void => reject(err);
      server.once("error", onError);
      server.listen(options.port, options.hostname, () => {
        server.off("error", onError);
        const addr = server.address();
        const port = typeof addr === "object" && addr !== null
          ? addr.port
          : options.port;
        resolve({ hostname: options.hostname, port });
      });
    },
  );
  server.on("error", () => {
    // Errors after listening are per-connection; they are handled above.
  });
  let closing: Promise<void> | undefined;
  return {
    ready,
    close(): Promise<void> {
      closing ??= (async () => {
        await ready.catch(() => {});
        for (const socket of [...raw.keys()]) {
          settle(socket, new Error("listener closed"));
          socket.destroy();
        }
        await new Promise<void>((resolve) => {
          if (!server.listening) resolve();
          else server.close(() => resolve());
        });
      })();
      return closing;
    },
  };
}
