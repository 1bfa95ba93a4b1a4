/**
 * Utilities shared by the socket tests of this folder (not exported).
 *
 * @module
 */

import { formatAddress } from "./address.ts";
import type { Connection } from "./connection.ts";
import { connect, type ConnectOptions } from "./connect.ts";
import { listen, type Listener, type ListenOptions } from "./listen.ts";
import { createLogger, type Logger } from "./log.ts";
import type { TlsFixtures } from "./tls_mint.ts";

/** A logger that keeps its lines (level debug) instead of printing them. */
export function memoryLogger(): Logger & { lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const logger = createLogger({
    level: "debug",
    write: (line) => lines.push(JSON.parse(line)),
  });
  return Object.assign(logger, { lines });
}

/** The transports every socket test runs over. */
export type TestTransport = "unix" | "tcp" | "tls" | "mtls";

/** Listen and connect options for one transport. */
export function transportOptions(
  transport: TestTransport,
  dir: string,
  tls: TlsFixtures | undefined,
): {
  address: string;
  listen: ListenOptions;
  connect: Partial<ConnectOptions>;
} {
  switch (transport) {
    case "unix":
      return {
        address: `unix:${dir}/sock/router.sock`,
        listen: {},
        connect: {},
      };
    case "tcp":
      return { address: "tcp:127.0.0.1:0", listen: {}, connect: {} };
    case "tls":
      return {
        address: "tcp+tls:127.0.0.1:0",
        listen: { tls: { cert: tls!.server.cert, key: tls!.server.key } },
        connect: { tls: { caCerts: tls!.ca.cert } },
      };
    case "mtls":
      return {
        address: "tcp+tls:127.0.0.1:0",
        listen: {
          tls: {
            cert: tls!.server.cert,
            key: tls!.server.key,
            clientCa: tls!.ca.cert,
          },
        },
        connect: {
          tls: {
            caCerts: tls!.ca.cert,
            cert: tls!.client.cert,
            key: tls!.client.key,
          },
        },
      };
  }
}

/** A listener plus one connected pair. */
export interface Pair extends AsyncDisposable {
  listener: Listener;
  router: Connection;
  worker: Connection;
  address: string;
}

/** Starts a listener and connects one worker to it. */
export async function openPair(
  transport: TestTransport,
  dir: string,
  tls: TlsFixtures | undefined,
  extra: { listen?: ListenOptions; connect?: Partial<ConnectOptions> } = {},
): Promise<Pair> {
  const o = transportOptions(transport, dir, tls);
  const quiet = memoryLogger();
  const listener = listen(o.address, {
    logger: quiet,
    ...o.listen,
    ...extra.listen,
  });
  const bound = await listener.ready;
  const address = formatAddress(bound);
  const [router, worker] = await Promise.all([
    listener.accept(),
    connect(address, {
      shardId: 1,
      logger: quiet,
      ...o.connect,
      ...extra.connect,
    }),
  ]);
  return {
    listener,
    router: router!,
    worker,
    address,
    async [Symbol.asyncDispose]() {
      await worker.close();
      await router!.close();
      await listener.close();
    },
  };
}

/** Reads until EOF or error; resolves to the bytes read and how it ended. */
export async function readToEnd(
  conn: Deno.Conn,
  limitMs = 5000,
): Promise<{ bytes: number; ended: "eof" | "error" | "timeout" }> {
  let bytes = 0;
  const buf = new Uint8Array(65536);
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<"timeout">((resolve) => {
    timer = setTimeout(() => resolve("timeout"), limitMs);
  });
  try {
    for (;;) {
      const n = await Promise.race([conn.read(buf), timeout]);
      if (n === "timeout") return { bytes, ended: "timeout" };
      if (n === null) return { bytes, ended: "eof" };
      bytes += n;
    }
  } catch {
    return { bytes, ended: "error" };
  } finally {
    clearTimeout(timer);
  }
}

/** Resolves once `signal` aborts (at once if it already has). */
export function untilAborted(signal: AbortSignal): Promise<void> {
  return new Promise<void>((resolve) => {
    if (signal.aborted) resolve();
    signal.addEventListener("abort", () => resolve(), { once: true });
  });
}
