/**
 * A throwaway PostgreSQL server for tests, benches and the demo: a cluster in
 * a temp directory, listening on 127.0.0.1 and a free port, owned by the
 * `postgres` user when the process runs as root (initdb refuses root).
 *
 * Under `CI=true` a missing PostgreSQL installation is an error; elsewhere
 * {@link postgresSkipReason} lets a test skip itself.
 *
 * @module
 */

import {
  firstExisting,
  freeLoopbackPort,
  runChecked,
  runningInCi,
  waitUntil,
  whichSync,
} from "./_server_util.ts";

const PG_BIN_CANDIDATES = [17, 16, 15, 14, 13].map((v) =>
  `/usr/lib/postgresql/${v}/bin`
);

/** The install hint shown when PostgreSQL is missing. */
export const POSTGRES_INSTALL_HINT = "apt-get install postgresql";

/**
 * Finds the directory holding `initdb`, `pg_ctl` and `postgres`.
 *
 * @returns The bin directory, or null when PostgreSQL is not installed.
 */
export function findPostgresBinDir(): string | null {
  for (const dir of PG_BIN_CANDIDATES) {
    if (firstExisting([`${dir}/initdb`]) !== null) return dir;
  }
  const initdb = whichSync("initdb");
  return initdb === null ? null : initdb.slice(0, initdb.lastIndexOf("/"));
}

/**
 * Why a PostgreSQL test cannot run here, or null when it can. Under CI the
 * answer is always null, so a missing server fails the test instead.
 *
 * @returns A reason to skip, or null.
 */
export function postgresSkipReason(): string | null {
  if (runningInCi()) return null;
  return findPostgresBinDir() === null
    ? `PostgreSQL is not installed (${POSTGRES_INSTALL_HINT})`
    : null;
}

/** A running throwaway PostgreSQL cluster. */
export interface PostgresServer {
  /** The TCP port on 127.0.0.1. */
  readonly port: number;
  /** The cluster directory. */
  readonly dataDir: string;
  /**
   * A URI DSN for `database` as the `postgres` superuser (trust auth).
   *
   * @param database Database name (default `postgres`).
   */
  dsn(database?: string): string;
  /**
   * Creates a fresh database and returns its DSN.
   *
   * @param name The database name (letters, digits, underscores).
   */
  createDatabase(name: string): Promise<string>;
  /** Stops the server at once (`immediate` mode: like a crash). */
  halt(): Promise<void>;
  /** Starts it again on the same port and data directory. */
  start(): Promise<void>;
  /** Stops the server and deletes its directory. */
  stop(): Promise<void>;
}

let templateDir: Promise<string> | null = null;

function asPostgres(cmd: string, args: string[]): [string, string[]] {
  if (Deno.uid() !== 0) return [cmd, args];
  return ["runuser", ["-u", "postgres", "--", cmd, ...args]];
}

async function chownToPostgres(path: string): Promise<void> {
  if (Deno.uid() !== 0) return;
  await runChecked("chown", ["-R", "postgres:postgres", path]);
}

async function makeTemplate(bin: string): Promise<string> {
  const root = await Deno.makeTempDir({ prefix: "loom-pg-template-" });
  await Deno.chmod(root, 0o755);
  await chownToPostgres(root);
  const data = `${root}/data`;
  const [cmd, args] = asPostgres(`${bin}/initdb`, [
    "-D",
    data,
    "-A",
    "trust",
    "-U",
    "postgres",
    "--no-sync",
    "-E",
    "UTF8",
    "--locale=C",
  ]);
  await runChecked(cmd, args);
  globalThis.addEventListener("unload", () => {
    try {
      Deno.removeSync(root, { recursive: true });
    } catch {
      // best effort
    }
  });
  return data;
}

/**
 * Starts a throwaway PostgreSQL server. The first call in a process runs
 * `initdb` once; later calls copy that cluster (much faster).
 *
 * @returns The running server; call `stop()` when done.
 */
export async function startPostgres(): Promise<PostgresServer> {
  const bin = findPostgresBinDir();
  if (bin === null) {
    throw new Error(`PostgreSQL is not installed: ${POSTGRES_INSTALL_HINT}`);
  }
  templateDir ??= makeTemplate(bin);
  const template = await templateDir;
  const root = await Deno.makeTempDir({ prefix: "loom-pg-" });
  await Deno.chmod(root, 0o755);
  const dataDir = `${root}/data`;
  await runChecked("cp", ["-a", template, dataDir]);
  await chownToPostgres(root);
  const port = freeLoopbackPort();
  const log = `${root}/server.log`;
  const ctl = (args: string[]): Promise<string> => {
    const [cmd, full] = asPostgres(`${bin}/pg_ctl`, args);
    return runChecked(cmd, full);
  };
  const options =
    `-p ${port} -k ${root} -c listen_addresses=127.0.0.1 -c fsync=off ` +
    `-c max_connections=200`;
  let running = false;
  const start = async (): Promise<void> => {
    await ctl([
      "-D",
      dataDir,
      "-o",
      options,
      "-l",
      log,
      "-w",
      "-t",
      "30",
      "start",
    ]);
    running = true;
    await waitUntil(
      async () => {
        try {
          const conn = await Deno.connect({ hostname: "127.0.0.1", port });
          conn.close();
          return true;
        } catch {
          return false;
        }
      },
      10_000,
      "PostgreSQL",
    );
  };
  const halt = async (): Promise<void> => {
    if (!running) return;
    running = false;
    await ctl(["-D", dataDir, "-m", "immediate", "-w", "stop"]);
  };
  const dsn = (database = "postgres"): string =>
    `postgres://postgres@127.0.0.1:${port}/${database}`;
  await start();
  return {
    port,
    dataDir,
    dsn,
    async createDatabase(name: string): Promise<string> {
      if (!/^[a-z_][a-z0-9_]*$/.test(name)) {
        throw new RangeError(`bad database name ${name}`);
      }
      const psql = `${bin}/psql`;
      const [cmd, args] = asPostgres(psql, [
        "-h",
        "127.0.0.1",
        "-p",
        String(port),
        "-U",
        "postgres",
        "-d",
        "postgres",
        "-v",
        "ON_ERROR_STOP=1",
        "-qc",
        `CREATE DATABASE ${name}`,
      ]);
      await runChecked(cmd, args);
      return dsn(name);
    },
    halt,
    start,
    async stop(): Promise<void> {
      await halt().catch(() => undefined);
      await Deno.remove(root, { recursive: true }).catch(() => undefined);
    },
  };
}
