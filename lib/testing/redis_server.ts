/**
 * A throwaway `redis-server` for tests and benchmarks: a free loopback
 * port, a temp directory, no persistence (`--save '' --appendonly no`),
 * stopped (and its directory removed) by `stop()`.
 *
 * When the binary is missing, {@link startRedisServer} returns `undefined`
 * so the caller can skip, except under `CI=true`, where it throws: in CI a
 * missing server is a failure, never a skip. Use {@link redisTestMode} to
 * decide once per test file.
 *
 * @module
 */

/** A running server. */
export interface RedisServer {
  /** `127.0.0.1`. */
  readonly host: string;
  /** The port. */
  readonly port: number;
  /** `redis://127.0.0.1:PORT`. */
  readonly url: string;
  /** Stops the server (if running) and starts it again on the same port. */
  restart(): Promise<void>;
  /** Stops the server only (no restart). */
  kill(): Promise<void>;
  /** Stops the server and removes its directory. */
  stop(): Promise<void>;
}

/** Options for {@link startRedisServer}. */
export interface RedisServerOptions {
  /** The binary. @default {"redis-server"} */
  readonly binary?: string;
  /** How long to wait for the port to accept connections, in ms. @default {10000} */
  readonly startTimeoutMs?: number;
}

function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return port;
}

async function binaryExists(binary: string): Promise<boolean> {
  try {
    const out = await new Deno.Command(binary, {
      args: ["--version"],
      stdout: "null",
      stderr: "null",
    }).output();
    return out.success;
  } catch {
    return false;
  }
}

async function waitForPort(port: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const conn = await Deno.connect({ hostname: "127.0.0.1", port });
      const probe = new TextEncoder().encode("PING\r\n");
      await conn.write(probe);
      const buf = new Uint8Array(64);
      const n = await conn.read(buf);
      conn.close();
      if (
        n !== null &&
        new TextDecoder().decode(buf.subarray(0, n)).startsWith("+PONG")
      ) {
        return;
      }
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      throw new Error(`redis-server did not start on port ${port}`);
    }
    await new Promise((r) => setTimeout(r, 20));
  }
}

/**
 * Whether real-server tests run here: `run` when `redis-server` exists,
 * `fail` when it is missing under `CI=true`, `skip` otherwise.
 *
 * @param binary The binary. @default {"redis-server"}
 * @returns The mode.
 *
 * @example
 * ```ts ignore
 * import { redisTestMode } from "./redis_server.ts";
 * console.log(await redisTestMode());
 * ```
 */
export async function redisTestMode(
  binary = "redis-server",
): Promise<"run" | "skip" | "fail"> {
  if (await binaryExists(binary)) return "run";
  return Deno.env.get("CI") === "true" ? "fail" : "skip";
}

/**
 * Starts a server on a free loopback port.
 *
 * @param options Binary and start timeout.
 * @returns The server, or `undefined` when the binary is missing outside CI.
 * @throws {Error} When the binary is missing under `CI=true`, or it does
 *   not start in time.
 *
 * @example
 * ```ts ignore
 * import { startRedisServer } from "./redis_server.ts";
 * const server = await startRedisServer();
 * if (server) await server.stop();
 * ```
 */
export async function startRedisServer(
  options: RedisServerOptions = {},
): Promise<RedisServer | undefined> {
  const binary = options.binary ?? "redis-server";
  if (!(await binaryExists(binary))) {
    if (Deno.env.get("CI") === "true") {
      throw new Error(`${binary} is missing (CI=true: install redis-server)`);
    }
    return undefined;
  }
  const dir = await Deno.makeTempDir({ prefix: "loom-redis-" });
  const timeout = options.startTimeoutMs ?? 10_000;
  let port = 0;
  let child: Deno.ChildProcess | undefined;

  const launch = async (): Promise<void> => {
    child = new Deno.Command(binary, {
      args: [
        "--port",
        String(port),
        "--bind",
        "127.0.0.1",
        "--save",
        "",
        "--appendonly",
        "no",
        "--dir",
        dir,
        "--protected-mode",
        "yes",
      ],
      stdout: "null",
      stderr: "null",
      stdin: "null",
    }).spawn();
    await waitForPort(port, timeout);
  };
  const kill = async (): Promise<void> => {
    const running = child;
    child = undefined;
    if (running === undefined) return;
    try {
      running.kill("SIGKILL");
    } catch {
      // already gone
    }
    await running.status;
  };

  for (let attempt = 0;; attempt++) {
    port = freePort();
    try {
      await launch();
      break;
    } catch (err) {
      await kill();
      if (attempt >= 2) {
        await Deno.remove(dir, { recursive: true }).catch(() => {});
        throw err;
      }
    }
  }
  return {
    host: "127.0.0.1",
    get port() {
      return port;
    },
    get url() {
      return `redis://127.0.0.1:${port}`;
    },
    async restart() {
      await kill();
      await launch();
    },
    kill,
    async stop() {
      await kill();
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    },
  };
}
