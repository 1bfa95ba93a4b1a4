/**
 * A throwaway single-member etcd server for tests, benches and the demo: a
 * data directory in a temp dir, client and peer URLs on 127.0.0.1 and free
 * ports.
 *
 * Under `CI=true` a missing etcd binary is an error; elsewhere
 * {@link etcdSkipReason} lets a test skip itself.
 *
 * @module
 */

import {
  freeLoopbackPort,
  runningInCi,
  waitUntil,
  whichSync,
} from "./_server_util.ts";

/** The install hint shown when etcd is missing. */
export const ETCD_INSTALL_HINT = "apt-get install etcd-server";

/**
 * Why an etcd test cannot run here, or null when it can. Under CI the answer
 * is always null, so a missing server fails the test instead.
 *
 * @returns A reason to skip, or null.
 */
export function etcdSkipReason(): string | null {
  if (runningInCi()) return null;
  return whichSync("etcd") === null
    ? `etcd is not installed (${ETCD_INSTALL_HINT})`
    : null;
}

/** A running throwaway etcd server. */
export interface EtcdServer {
  /** The client URL, `http://127.0.0.1:<port>`. */
  readonly endpoint: string;
  /** Kills the server with SIGKILL (data directory kept). */
  halt(): Promise<void>;
  /** Starts it again on the same ports and data directory. */
  start(): Promise<void>;
  /** Stops the server and deletes its directory. */
  stop(): Promise<void>;
}

/**
 * Starts a throwaway etcd server and waits until `Status` answers.
 *
 * @returns The running server; call `stop()` when done.
 */
export async function startEtcd(): Promise<EtcdServer> {
  const etcd = whichSync("etcd");
  if (etcd === null) {
    throw new Error(`etcd is not installed: ${ETCD_INSTALL_HINT}`);
  }
  const root = await Deno.makeTempDir({ prefix: "loom-etcd-" });
  const clientPort = freeLoopbackPort();
  let peerPort = freeLoopbackPort();
  while (peerPort === clientPort) peerPort = freeLoopbackPort();
  const endpoint = `http://127.0.0.1:${clientPort}`;
  const peer = `http://127.0.0.1:${peerPort}`;
  let child: Deno.ChildProcess | null = null;
  const start = async (): Promise<void> => {
    const log = await Deno.open(`${root}/etcd.log`, {
      append: true,
      create: true,
      write: true,
    });
    child = new Deno.Command(etcd, {
      args: [
        "--name",
        "loom",
        "--data-dir",
        `${root}/data`,
        "--listen-client-urls",
        endpoint,
        "--advertise-client-urls",
        endpoint,
        "--listen-peer-urls",
        peer,
        "--initial-advertise-peer-urls",
        peer,
        "--initial-cluster",
        `loom=${peer}`,
        "--log-level",
        "error",
      ],
      stdin: "null",
      stdout: "null",
      stderr: "piped",
    }).spawn();
    child.stderr.pipeTo(log.writable).catch(() => undefined);
    await waitUntil(
      async () => {
        try {
          const res = await fetch(`${endpoint}/v3/maintenance/status`, {
            method: "POST",
            body: "{}",
            signal: AbortSignal.timeout(500),
          });
          await res.body?.cancel();
          return res.ok;
        } catch {
          return false;
        }
      },
      15_000,
      "etcd",
    );
  };
  const halt = async (): Promise<void> => {
    const running = child;
    child = null;
    if (running === null) return;
    try {
      running.kill("SIGKILL");
    } catch {
      // already gone
    }
    await running.status;
  };
  await start();
  return {
    endpoint,
    halt,
    start,
    async stop(): Promise<void> {
      await halt();
      await Deno.remove(root, { recursive: true }).catch(() => undefined);
    },
  };
}
