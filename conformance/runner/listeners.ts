/**
 * The listeners a case opens, one per transport, behind one small interface:
 * every accepted connection is a {@link ByteStream}, so the rest of the
 * runner does not care whether it came from `Deno.listen`,
 * `Deno.listenTls` or the `node:tls` server that mutual TLS needs.
 *
 * I/O lives here: sockets and the TLS server.
 *
 * @module
 */

import type { ByteStream } from "../../lib/net/stream.ts";
import { createNodeTlsServer } from "../../lib/net/tls_server.ts";

/** One accepted connection. */
export interface AcceptedStream {
  /** The (decrypted) byte stream. */
  stream: ByteStream;
  /**
   * SHA-256 of the client certificate's DER (lowercase hex), when the
   * transport asked for one.
   */
  peerFingerprint?: string;
}

/** A case's listener. */
export interface CaseListener {
  /** The address workers are told to connect to (`{connect}`). */
  readonly connect: string;
  /**
   * TLS handshakes that did not complete (mtls only), as short reasons, in
   * order.
   */
  readonly failedHandshakes: readonly string[];
  /** The next connection; rejects once the listener is closed. */
  accept(): Promise<AcceptedStream>;
  /** Stops listening and closes every connection it accepted. */
  close(): Promise<void>;
}

/**
 * Wraps a `Deno.Listener` (unix, tcp or server-auth tls).
 *
 * @param listener The listener.
 * @param connect The address to give the worker.
 * @returns The case listener.
 *
 * @example
 * ```ts ignore
 * import { denoCaseListener } from "./listeners.ts";
 * const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
 * const cl = denoCaseListener(l, `tcp:127.0.0.1:${l.addr.port}`);
 * await cl.close();
 * ```
 */
export function denoCaseListener(
  listener: Deno.Listener,
  connect: string,
): CaseListener {
  return {
    connect,
    failedHandshakes: [],
    async accept(): Promise<AcceptedStream> {
      return { stream: await listener.accept() };
    },
    close(): Promise<void> {
      try {
        listener.close();
      } catch { /* already closed */ }
      return Promise.resolve();
    },
  };
}

/** Options for {@link openMtlsListener}. */
export interface MtlsListenerOptions {
  /** Server certificate (PEM). */
  cert: string;
  /** Server private key (PEM). */
  key: string;
  /** The CA (PEM) that client certificates must chain to. */
  clientCa: string;
  /** Bound on each TLS accept. @default 5000 */
  handshakeTimeoutMs?: number;
}

/**
 * Listens on `127.0.0.1`, port 0, with `node:tls`, requiring a client
 * certificate signed by `clientCa`. Connections that fail TLS (no
 * certificate, an unknown issuer...) never reach `accept`; their reasons are
 * kept in `failedHandshakes`.
 *
 * @param options Credentials and the client CA.
 * @returns The listener, once bound.
 *
 * @example
 * ```ts ignore
 * import { openMtlsListener } from "./listeners.ts";
 * const l = await openMtlsListener({ cert, key, clientCa: caPem });
 * console.log(l.connect); // tcp+tls:localhost:PORT
 * await l.close();
 * ```
 */
export async function openMtlsListener(
  options: MtlsListenerOptions,
): Promise<CaseListener> {
  const ready: AcceptedStream[] = [];
  const waiters: Array<{
    resolve(s: AcceptedStream): void;
    reject(e: Error): void;
  }> = [];
  const all = new Set<ByteStream>();
  const failedHandshakes: string[] = [];
  let closed = false;
  const server = createNodeTlsServer<true>({
    hostname: "127.0.0.1",
    port: 0,
    cert: options.cert,
    key: options.key,
    clientCa: options.clientCa,
    handshakeTimeoutMs: options.handshakeTimeoutMs ?? 5000,
    onConnection: () => (closed ? undefined : true),
    onSecure({ stream, peerFingerprint }) {
      all.add(stream);
      if (closed) {
        stream.close();
        return;
      }
      const got = { stream, peerFingerprint };
      const waiter = waiters.shift();
      if (waiter) waiter.resolve(got);
      else ready.push(got);
    },
    onFailed(_ticket, error) {
      if (!closed) failedHandshakes.push(error.message);
    },
  });
  const { port } = await server.ready;
  return {
    connect: `tcp+tls:localhost:${port}`,
    failedHandshakes,
    accept(): Promise<AcceptedStream> {
      const got = ready.shift();
      if (got) return Promise.resolve(got);
      if (closed) {
        return Promise.reject(new Deno.errors.BadResource("listener closed"));
      }
      return new Promise((resolve, reject) =>
        waiters.push({ resolve, reject })
      );
    },
    async close(): Promise<void> {
      if (!closed) {
        closed = true;
        for (const w of waiters.splice(0)) {
          w.reject(new Deno.errors.BadResource("listener closed"));
        }
        ready.length = 0;
        // Includes streams a timed-out accept never handed to a case.
        for (const s of all) s.close();
      }
      await server.close();
    },
  };
}
