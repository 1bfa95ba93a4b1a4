/**
 * Test helpers for the seed runtime: start a seed, join members, and a raw
 * TLS client that speaks frames by hand (for hostile joiners).
 *
 * @module
 */

import * as tls from "node:tls";
import { FrameReader } from "../frame.ts";
import { decodeSeedMessage, type SeedMessage } from "../messages.ts";
import { encodeSeedMessage } from "../messages.ts";
import { SeedNode, type SeedNodeOptions } from "./seed_node.ts";
import { type ClusterMember, joinCluster, type JoinOptions } from "./joiner.ts";
import { generateToken } from "./token.ts";
import { createLogger, type Logger } from "../../net/log.ts";

/** Fast timings for tests. */
export const FAST = {
  handshakeTimeoutMs: 1500,
  heartbeatIntervalMs: 100,
  heartbeatTimeoutMs: 1500,
  checkpointTimeoutMs: 3000,
  formationTimeoutMs: 20_000,
} as const;

/** A logger that keeps lines (for canary tests). */
export function memoryLogger(lines: string[], component: string): Logger {
  return createLogger({
    level: "debug",
    component,
    write: (l) => lines.push(l),
  });
}

/** A seed plus the pieces tests need. */
export interface TestSeed {
  seed: SeedNode;
  token: Uint8Array;
  addr: string;
}

/** Starts a token seed on loopback. */
export async function startSeed(
  options: Partial<SeedNodeOptions> & { expectedWorldSize: number },
): Promise<TestSeed> {
  const token = options.token ?? generateToken();
  const seed = await SeedNode.bind("127.0.0.1:0", {
    ...FAST,
    logger: createLogger({ level: "error", write: () => {} }),
    ...options,
    token: options.insecureNoAuth === true ? undefined : token,
  });
  return { seed, token, addr: `127.0.0.1:${seed.address.port}` };
}

/** Joins with test defaults. */
export function join(
  s: TestSeed,
  options: Partial<JoinOptions> = {},
): Promise<ClusterMember> {
  return joinCluster({
    seed: s.addr,
    token: s.token,
    listen: "127.0.0.1:0",
    logger: createLogger({ level: "error", write: () => {} }),
    ...FAST,
    ...options,
  });
}

/** A raw TLS client that reads and writes seed frames by hand. */
export interface RawClient {
  socket: tls.TLSSocket;
  /** Certificate DER of the server. */
  serverCert: Uint8Array;
  send(message: SeedMessage): void;
  write(bytes: Uint8Array): void;
  /** Next message, or `undefined` when the socket closed first / timed out. */
  next(timeoutMs?: number): Promise<SeedMessage | undefined>;
  closed: Promise<void>;
  close(): void;
}

/** Opens a raw TLS client. */
export async function rawClient(addr: string): Promise<RawClient> {
  const [host, port] = [
    addr.slice(0, addr.lastIndexOf(":")),
    Number(addr.slice(addr.lastIndexOf(":") + 1)),
  ];
  const socket = tls.connect({
    host,
    port,
    rejectUnauthorized: false,
    checkServerIdentity: () => undefined,
  });
  await new Promise<void>((resolve, reject) => {
    socket.once("secureConnect", () => resolve());
    socket.once("error", reject);
  });
  socket.on("error", () => {});
  const reader = new FrameReader(1 << 24);
  const queue: SeedMessage[] = [];
  let waiter: (() => void) | undefined;
  let isClosed = false;
  const closed = new Promise<void>((resolve) =>
    socket.once("close", () => {
      isClosed = true;
      waiter?.();
      resolve();
    })
  );
  socket.on("data", (chunk: Uint8Array) => {
    reader.push(chunk);
    for (let f = reader.next(); f !== undefined; f = reader.next()) {
      queue.push(decodeSeedMessage(f));
    }
    waiter?.();
  });
  const cert = socket.getPeerCertificate(false) as { raw?: Uint8Array };
  return {
    socket,
    serverCert: new Uint8Array(cert.raw ?? []),
    send: (m) => socket.write(encodeSeedMessage(m)),
    write: (b) => socket.write(b),
    async next(timeoutMs = 5000): Promise<SeedMessage | undefined> {
      const deadline = Date.now() + timeoutMs;
      while (queue.length === 0 && !isClosed && Date.now() < deadline) {
        await new Promise<void>((resolve) => {
          waiter = resolve;
          const t = setTimeout(resolve, Math.max(1, deadline - Date.now()));
          socket.once("close", () => clearTimeout(t));
          void closed.then(() => clearTimeout(t));
          const orig = resolve;
          waiter = () => {
            clearTimeout(t);
            orig();
          };
        });
      }
      return queue.shift();
    },
    closed,
    close: () => socket.destroy(),
  };
}

/** Closes members and the seed, ignoring errors. */
export async function closeAll(
  s: TestSeed | undefined,
  members: readonly ClusterMember[],
): Promise<void> {
  for (const m of members) await m.close().catch(() => {});
  await s?.seed.close().catch(() => {});
  await new Promise((r) => setTimeout(r, 250));
}

/** Waits until `predicate` holds or fails after `timeoutMs`. */
export async function waitFor(
  predicate: () => boolean,
  timeoutMs = 10_000,
  what = "condition",
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
