/**
 * The worker role: connect to a router over `unix:`, `tcp:` or `tcp+tls:`,
 * run the v3 handshake, and return an open {@link Connection}.
 *
 * Plaintext `tcp:` refuses to carry an auth token unless `allowInsecure` is
 * set; plaintext without a token only logs a warning. `tcp+tls:` verifies the
 * router against the given CA certificates only (pinned: no system or
 * built-in roots) and the server name (the address host unless
 * `tls.serverName` overrides it), and presents a client certificate when one
 * is given.
 *
 * @module
 */

import { isIP } from "node:net";
import * as nodeTls from "node:tls";
import { ERROR_CODES, ProtocolError } from "../wire/errors.ts";
import type {
  CachedIndexInfo,
  Capabilities,
  SupportedVersions,
} from "../wire/types.ts";
import { type Address, toAddress, unsupportedPipeError } from "./address.ts";
import {
  type Connection,
  type OutboundLimits,
  sessionOptions,
  type SessionTuning,
  startConnection,
} from "./connection.ts";
import { createLogger, type Logger } from "./log.ts";
import { createWorkerSession } from "../wire/session.ts";
import { type ByteStream, nodeSocketStream } from "./stream.ts";
import { chainsToPinnedCa, pinnedCas } from "./tls_pin.ts";

/** TLS settings of a worker. */
export interface ConnectTlsOptions {
  /**
   * CA certificates (PEM; a text may hold several) that the router's
   * certificate must chain to. Only these are trusted.
   */
  caCerts: string | string[];
  /** Name to verify (and send as SNI). @default {the address host} */
  serverName?: string;
  /** Client certificate chain (PEM) for mutual TLS. */
  cert?: string;
  /** Client private key (PEM) for mutual TLS. */
  key?: string;
}

/** Options for {@link connect}. */
export interface ConnectOptions extends SessionTuning {
  /** The shard this worker serves. */
  shardId: number;
  /** Bearer token sent in the hello. Never logged. */
  authToken?: string | null;
  /** Allow sending a token over plaintext `tcp:`. @default {false} */
  allowInsecure?: boolean;
  /** Summary of a cached index, sent in the hello. */
  cachedIndexInfo?: CachedIndexInfo | null;
  /** Free-form build string, sent in the hello. */
  workerBuild?: string | null;
  /** Overrides of the offered capabilities. */
  capabilities?: Partial<Capabilities>;
  /**
   * Versions offered in the hello (3.1 adds distributed search mode).
   * @default {3.0 to 3.0}
   */
  supportedVersions?: SupportedVersions;
  /** Required for `tcp+tls:`. */
  tls?: ConnectTlsOptions;
  /**
   * Bound on connecting plus the handshake (the reference worker has none).
   * @default {10000}
   */
  handshakeTimeoutMs?: number;
  /** Aborts connecting. */
  signal?: AbortSignal;
  /** Logger. @default {a `LOOM_LOG` logger} */
  logger?: Logger;
  /** Bounds on answers queued for a router that does not read them. */
  outbound?: OutboundLimits;
}

function timeoutSignal(
  ms: number,
  signal: AbortSignal | undefined,
): { signal: AbortSignal; dispose(): void } {
  const controller = new AbortController();
  const timer = setTimeout(
    () => controller.abort(new Deno.errors.TimedOut("connect timed out")),
    ms,
  );
  const forward = (): void => controller.abort(signal!.reason);
  if (signal?.aborted) forward();
  else signal?.addEventListener("abort", forward, { once: true });
  return {
    signal: controller.signal,
    dispose(): void {
      clearTimeout(timer);
      signal?.removeEventListener("abort", forward);
    },
  };
}

async function openTls(
  address: { hostname: string; port: number },
  tls: ConnectTlsOptions,
  signal: AbortSignal,
): Promise<ByteStream> {
  const caCerts = Array.isArray(tls.caCerts) ? tls.caCerts : [tls.caCerts];
  if (caCerts.length === 0) {
    throw new TypeError("tls.caCerts is required for tcp+tls");
  }
  if ((tls.cert === undefined) !== (tls.key === undefined)) {
    throw new TypeError("tls.cert and tls.key must be given together");
  }
  const anchors = pinnedCas(caCerts);
  // node:tls, not Deno.connectTls: its `ca` replaces the built-in roots (a
  // router certificate from any public CA would pass Deno.connectTls, whose
  // `caCerts` only add to them), it separates the server name from the
  // host, and it presents a client certificate.
  const serverName = tls.serverName ?? address.hostname;
  const socket = nodeTls.connect({
    host: address.hostname,
    port: address.port,
    // SNI carries names only; the certificate is checked against the
    // server name either way (an IP address against its IP entries).
    ...(isIP(serverName) === 0 ? { servername: serverName } : {}),
    checkServerIdentity: (_host, cert) =>
      nodeTls.checkServerIdentity(serverName, cert),
    ca: caCerts,
    cert: tls.cert,
    key: tls.key,
  });
  await abortable(
    new Promise<void>((resolve, reject) => {
      socket.once("secureConnect", () => resolve());
      socket.once("error", reject);
    }),
    signal,
    () => socket.destroy(),
  );
  // Checked again here, so that the pin holds whatever the TLS layer trusts.
  if (!chainsToPinnedCa(socket.getPeerCertificate(true), anchors)) {
    socket.destroy();
    throw new Error(
      "the router's certificate does not chain to a pinned CA certificate",
    );
  }
  socket.setNoDelay(true);
  return nodeSocketStream(socket);
}

function abortable<T>(
  promise: Promise<T>,
  signal: AbortSignal,
  onAbort: () => void,
): Promise<T> {
  if (signal.aborted) {
    onAbort();
    return Promise.reject(signal.reason);
  }
  return new Promise<T>((resolve, reject) => {
    const abort = (): void => {
      onAbort();
      reject(signal.reason);
    };
    signal.addEventListener("abort", abort, { once: true });
    promise.then(
      (v) => {
        signal.removeEventListener("abort", abort);
        resolve(v);
      },
      (e) => {
        signal.removeEventListener("abort", abort);
        reject(e);
      },
    );
  });
}

/**
 * Opens the byte stream for an address (no handshake).
 *
 * @param address Where to connect.
 * @param options TLS settings and abort signal.
 * @returns The connected stream.
 *
 * @example
 * ```ts ignore
 * import { openStream } from "./connect.ts";
 * const stream = await openStream("tcp:127.0.0.1:9000");
 * stream.close();
 * ```
 */
export async function openStream(
  address: string | Address,
  options: { tls?: ConnectTlsOptions; signal?: AbortSignal } = {},
): Promise<ByteStream> {
  const addr = toAddress(address);
  const signal = options.signal ?? new AbortController().signal;
  switch (addr.transport) {
    case "pipe":
      throw unsupportedPipeError(addr);
    case "unix":
      return await Deno.connect({ transport: "unix", path: addr.path });
    case "tcp": {
      const conn = await Deno.connect({
        hostname: addr.hostname,
        port: addr.port,
      });
      conn.setNoDelay(true);
      return conn;
    }
    case "tcp+tls":
      if (options.tls === undefined) {
        throw new TypeError("tls.caCerts is required for tcp+tls");
      }
      return await openTls(addr, options.tls, signal);
  }
}

/**
 * Connects to a router as a worker and completes the handshake.
 *
 * @param address `unix:/path`, `tcp:host:port` or `tcp+tls:host:port`.
 * @param options Shard id, token, TLS and tuning.
 * @returns The open connection.
 * @throws {ProtocolError} `handshake_rejected` (and other handshake codes)
 *   when the router refuses; `io_error` when the socket cannot be opened.
 * @throws {TypeError} For a token over plaintext `tcp:` without
 *   `allowInsecure`, or missing TLS settings.
 *
 * @example
 * ```ts ignore
 * import { connect } from "./connect.ts";
 * const conn = await connect("unix:/run/loom/router.sock", { shardId: 0 });
 * const stats = await conn.call({ type: "get_worker_stats" });
 * await conn.close();
 * ```
 */
export async function connect(
  address: string | Address,
  options: ConnectOptions,
): Promise<Connection> {
  const addr = toAddress(address);
  const logger = options.logger ?? createLogger({ component: "loom.net" });
  if (!Number.isInteger(options.shardId) || options.shardId < 0) {
    throw new TypeError("shardId must be a non-negative integer");
  }
  const hasToken = options.authToken !== undefined &&
    options.authToken !== null;
  if (addr.transport === "tcp") {
    if (hasToken && options.allowInsecure !== true) {
      throw new TypeError(
        "refusing to send an auth token over plaintext tcp: use tcp+tls: or set allowInsecure",
      );
    }
    logger.warn("plaintext tcp connection", {
      address: `${addr.hostname}:${addr.port}`,
      auth_present: hasToken,
    });
  }
  const deadline = timeoutSignal(
    options.handshakeTimeoutMs ?? 10_000,
    options.signal,
  );
  const signal = deadline.signal;
  try {
    return await connectWithin(addr, options, logger, signal);
  } finally {
    deadline.dispose();
  }
}

async function connectWithin(
  addr: Address,
  options: ConnectOptions,
  logger: Logger,
  signal: AbortSignal,
): Promise<Connection> {
  // Built first: bad options throw before any socket is opened.
  const session = createWorkerSession({
    ...sessionOptions(options),
    handshakeTimeoutMs: options.handshakeTimeoutMs ?? 10_000,
    now: performance.now(),
    hello: {
      shard_id: options.shardId,
      auth_token: options.authToken ?? null,
      supported_versions: options.supportedVersions,
      capabilities: options.capabilities,
      cached_index_info: options.cachedIndexInfo ?? null,
      worker_build: options.workerBuild ?? null,
    },
  });
  let stream: ByteStream;
  try {
    stream = await openStream(addr, { tls: options.tls, signal });
  } catch (err) {
    if (err instanceof TypeError || err instanceof Deno.errors.NotSupported) {
      throw err;
    }
    if (signal.aborted) {
      throw new ProtocolError(ERROR_CODES.TIMEOUT, "connect timed out", {
        cause: err,
      });
    }
    throw new ProtocolError(
      ERROR_CODES.IO_ERROR,
      `connect failed: ${err instanceof Error ? err.message : String(err)}`,
      { cause: err },
    );
  }
  const pending = startConnection(session, stream, {
    role: "worker",
    logger,
    readBufferSize: options.readBufferSize,
    outbound: options.outbound,
  });
  const onAbort = (): void => {
    try {
      stream.close();
    } catch {
      // closed
    }
  };
  signal.addEventListener("abort", onAbort, { once: true });
  try {
    return await pending;
  } catch (err) {
    if (
      signal.aborted && err instanceof ProtocolError &&
      err.code !== ERROR_CODES.HANDSHAKE_REJECTED
    ) {
      throw new ProtocolError(
        ERROR_CODES.HANDSHAKE_TIMEOUT,
        "handshake timed out",
        { cause: err },
      );
    }
    throw err;
  } finally {
    signal.removeEventListener("abort", onAbort);
  }
}
