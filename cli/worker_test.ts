/**
 * End-to-end tests: the real `worker` process (spawned with `Deno.execPath()`)
 * against an in-test router listener on unix, tcp and tcp+tls (mutual TLS).
 */

import assert from "node:assert/strict";
import { listen, type Listener } from "../lib/net/listen.ts";
import type { CallOptions, Connection } from "../lib/net/connection.ts";
import type { AdmissionHook } from "../lib/net/connection.ts";
import { formatAddress } from "../lib/net/address.ts";
import { createTlsFixtures } from "../lib/net/tls_mint.ts";
import { isProtocolError } from "../lib/wire/errors.ts";
import type {
  FileText,
  Notification,
  Request,
  Response,
  ShardIndex,
  WorkerStats,
} from "../lib/wire/types.ts";
import { generateJavaCorpus } from "../lib/worker/java_corpus.ts";
import { loadShardCache } from "../lib/net/shard_cache_file.ts";
import { createLogger } from "../lib/net/log.ts";

const logger = createLogger({ level: "error" });

const MAIN = new URL("./main.ts", import.meta.url).pathname;
const PERMISSIONS = [
  "--allow-read",
  "--allow-write",
  "--allow-net",
  "--allow-env",
];
const QUIET = { LOOM_LOG: "error" };

interface WorkerProcess {
  child: Deno.ChildProcess;
  /** Resolves with the exit code and stderr text. */
  done: Promise<{ code: number; stderr: string }>;
}

function spawnWorker(
  args: string[],
  env: Record<string, string> = {},
): WorkerProcess {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "--quiet", ...PERMISSIONS, MAIN, "worker", ...args],
    env: { ...QUIET, ...env },
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).spawn();
  const done = (async () => {
    const [status, stderr] = await Promise.all([
      child.status,
      new Response(child.stderr).text(),
    ]);
    return { code: status.code, stderr };
  })();
  const worker = { child, done };
  live.add(worker);
  done.finally(() => live.delete(worker));
  return worker;
}

/** Workers still running; a failed test kills them in its cleanup. */
const live = new Set<WorkerProcess>();

async function killLeftovers(): Promise<void> {
  for (const worker of [...live]) {
    try {
      worker.child.kill("SIGKILL");
    } catch {
      // already exited
    }
    await worker.done;
  }
}

interface Harness {
  dir: string;
  cacheDir: string;
  listener: Listener;
  connect: string;
  close(): Promise<void>;
}

async function harness(
  kind: "unix" | "tcp",
  options: { authToken?: string; admit?: AdmissionHook } = {},
): Promise<Harness> {
  const dir = await Deno.makeTempDir({ prefix: "loom_worker_e2e_" });
  const address = kind === "unix"
    ? `unix:${dir}/router.sock`
    : "tcp:127.0.0.1:0";
  const listener = listen(address, {
    authToken: options.authToken,
    allowInsecure: true,
    logger,
    admit: options.admit ??
      (({ hello }) => ({ worker_id: hello.shard_id + 100, revision: 0 })),
  });
  const bound = await listener.ready;
  return {
    dir,
    cacheDir: `${dir}/cache`,
    listener,
    connect: formatAddress(bound),
    async close() {
      await killLeftovers();
      await listener.close();
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    },
  };
}

/** The worker's required flags for shard `shard` against the harness. */
function requiredArgs(h: Harness, shard: number): string[] {
  return [
    "--connect",
    h.connect,
    "--shard-id",
    String(shard),
    "--cache-dir",
    h.cacheDir,
  ];
}

/** Bound on every wait, so a stuck worker fails the test instead of hanging. */
const STEP_MS = 20_000;

function within<T>(promise: Promise<T>, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`timed out waiting for ${what}`)),
      STEP_MS,
    );
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

async function accept(listener: Listener): Promise<Connection> {
  const conn = await within(listener.accept(), "the worker to connect");
  assert.ok(conn !== undefined, "no worker connected");
  // Every call gets a deadline unless the test gives its own options.
  return new Proxy(conn, {
    get(target, prop) {
      if (prop === "call") {
        return (request: Request, options?: CallOptions) =>
          target.call(request, options ?? { timeoutMs: STEP_MS });
      }
      const value = Reflect.get(target, prop, target);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
}

function index(response: Response): ShardIndex {
  assert.equal(response.type, "shard_index");
  return (response as { type: "shard_index"; body: ShardIndex }).body;
}

function stats(response: Response): WorkerStats {
  assert.equal(response.type, "worker_stats");
  return (response as { type: "worker_stats"; body: WorkerStats }).body;
}

const names = (i: ShardIndex): string[] => i.symbols.map((s) => s.name);

const ALPHA: FileText = {
  path: "/src/a/Alpha.java",
  text:
    "package a;\n\npublic class Alpha {\n    int x;\n    void run() {}\n}\n",
};
const BETA: FileText = {
  path: "/src/a/Beta.java",
  text: "package a;\nclass Beta { int y; }\n",
};

async function shutdown(
  conn: Connection,
  worker: WorkerProcess,
): Promise<string> {
  assert.deepEqual(await conn.call({ type: "shutdown" }), { type: "shutdown" });
  const { code, stderr } = await within(worker.done, "the worker to exit");
  assert.equal(code, 0, stderr);
  await conn.closed;
  return stderr;
}

Deno.test("worker e2e (unix): index, update, diagnostics, stats, load, shutdown, warm start", async () => {
  const h = await harness("unix");
  try {
    const args = requiredArgs(h, 3);
    const worker = spawnWorker(args);
    const conn = await accept(h.listener);
    assert.equal(conn.hello.shard_id, 3);
    assert.equal(conn.hello.cached_index_info, null);
    assert.equal(conn.hello.capabilities.max_frame_len, 64 * 1024 * 1024);

    const first = index(
      await conn.call({
        type: "index_shard",
        revision: 5,
        files: [ALPHA, BETA],
      }),
    );
    assert.deepEqual(names(first), ["Alpha", "Beta", "run", "x", "y"]);
    assert.equal(first.shard_id, 3);
    assert.equal(first.revision, 5);
    assert.equal(first.index_generation, 1);
    assert.deepEqual(first.symbols[0], {
      name: "Alpha",
      path: ALPHA.path,
      line: 2,
      column: 13,
    });

    const second = index(
      await conn.call({
        type: "update_file",
        revision: 6,
        file: {
          path: BETA.path,
          text: "class Beta { int y; }\nclass Gamma {}\n",
        },
      }),
    );
    assert.deepEqual(names(second), [
      "Alpha",
      "Beta",
      "Gamma",
      "run",
      "x",
      "y",
    ]);
    assert.equal(second.index_generation, 2);

    const diags = await conn.call({
      type: "diagnostics",
      path: "/src/Bad.java",
    });
    assert.deepEqual(diags, { type: "diagnostics", body: { diagnostics: [] } });
    await conn.call({
      type: "update_file",
      revision: 7,
      file: {
        path: "/src/Bad.java",
        text: 'class Bad {\n  String x = "oops;\n}\n',
      },
    });
    const bad = await conn.call({ type: "diagnostics", path: "/src/Bad.java" });
    assert.equal(bad.type, "diagnostics");
    assert.ok(
      (bad as { body: { diagnostics: unknown[] } }).body.diagnostics.length > 0,
    );

    assert.deepEqual(stats(await conn.call({ type: "get_worker_stats" })), {
      shard_id: 3,
      revision: 7,
      index_generation: 3,
      file_count: 3,
    });
    assert.deepEqual(
      await conn.call({ type: "load_files", revision: 8, files: [ALPHA] }),
      { type: "ack" },
    );
    assert.deepEqual(stats(await conn.call({ type: "get_worker_stats" })), {
      shard_id: 3,
      revision: 8,
      index_generation: 3,
      file_count: 1,
    });
    await assert.rejects(
      conn.call({ type: "unknown" }),
      (err: unknown) =>
        isProtocolError(err, "remote_error") &&
        (err as unknown as { rpcError: { code: string } }).rpcError.code ===
          "invalid_request",
    );
    await shutdown(conn, worker);

    // The cache on disk holds the latest index (written before exiting).
    const onDisk = await loadShardCache(h.cacheDir, 3);
    assert.ok(onDisk.ok);
    assert.equal(onDisk.index.index_generation, 3);
    assert.equal(onDisk.index.revision, 7);

    // Warm start: the cache is advertised and pushed after the handshake.
    const again = spawnWorker(args);
    const conn2 = await accept(h.listener);
    const pushed = new Promise<Notification>((resolve) =>
      conn2.setNotificationHandler(resolve)
    );
    assert.deepEqual(conn2.hello.cached_index_info, {
      revision: 7,
      index_generation: 3,
      symbol_count: 8,
    });
    const notification = await pushed;
    assert.equal(notification.type, "cached_index");
    assert.deepEqual(
      (notification as { body: ShardIndex }).body.symbols.map((s) => s.name),
      ["Alpha", "Bad", "Beta", "Gamma", "run", "x", "x", "y"],
    );
    assert.deepEqual(stats(await conn2.call({ type: "get_worker_stats" })), {
      shard_id: 3,
      revision: 0,
      index_generation: 3,
      file_count: 0,
    });
    await shutdown(conn2, again);
  } finally {
    await h.close();
  }
});

Deno.test("worker e2e (tcp): cancel a queued request, stats during a rebuild, token via env", async () => {
  const h = await harness("tcp", { authToken: "e2e-secret" });
  try {
    const worker = spawnWorker([
      "--connect=" + h.connect,
      "--shard-id=0",
      "--cache-dir=" + h.cacheDir,
      "--auth-token-env=LOOM_TEST_TOKEN",
      "--allow-insecure",
    ], { LOOM_TEST_TOKEN: " e2e-secret\n", LOOM_LOG: "debug" });
    const conn = await accept(h.listener);
    const corpus = generateJavaCorpus({ files: 3000, root: "/big/" });
    const big = conn.call({ type: "index_shard", revision: 1, files: corpus });
    // Right behind the big request on the wire: answered at once (at the
    // latest at the rebuild's first pause) from the last completed state.
    const during = conn.call({ type: "get_worker_stats" });
    // Queued behind the big rebuild; its Cancel follows it on the wire, so
    // the worker sees the cancel before the request can start.
    const controller = new AbortController();
    const small = conn.call(
      { type: "index_shard", revision: 2, files: [ALPHA] },
      { signal: controller.signal },
    );
    controller.abort();
    await assert.rejects(
      small,
      (err: unknown) => isProtocolError(err, "cancelled"),
    );
    assert.equal(stats(await during).index_generation, 0);
    const built = index(await big);
    assert.equal(built.index_generation, 1);
    assert.ok(built.symbols.length > 3000);
    // A request after the cancelled one: the cancelled snapshot never applied.
    await conn.call({ type: "diagnostics", path: "/none" });
    assert.deepEqual(stats(await conn.call({ type: "get_worker_stats" })), {
      shard_id: 0,
      revision: 1,
      index_generation: 1,
      file_count: 3000,
    });
    const log = await shutdown(conn, worker);
    // Debug logs: one JSON object per line, and never the token.
    assert.match(log, /"event":"connected to router"/);
    assert.match(log, /"event":"worker shutdown"/);
    assert.ok(!log.includes("e2e-secret"));
    for (const line of log.trim().split("\n")) JSON.parse(line);
  } finally {
    await h.close();
  }
});

Deno.test("worker e2e: status 2 when the router goes away, idle with --linger, 0 on SIGTERM", async () => {
  const h = await harness("unix");
  try {
    const args = requiredArgs(h, 1);
    const worker = spawnWorker(args);
    const conn = await accept(h.listener);
    await conn.call({ type: "get_worker_stats" });
    await conn.close();
    const { code, stderr } = await within(worker.done, "the worker to exit");
    assert.equal(code, 2);
    assert.match(stderr, /router connection lost/);

    const lingering = spawnWorker([...args, "--linger"]);
    const conn2 = await accept(h.listener);
    await conn2.close();
    const early = await Promise.race([
      lingering.done,
      new Promise((resolve) => setTimeout(() => resolve("running"), 500)),
    ]);
    assert.equal(early, "running");
    lingering.child.kill("SIGKILL");
    await lingering.done;

    // SIGTERM stops like Shutdown: status 0, the cache written first.
    const terminated = spawnWorker(args);
    const conn3 = await accept(h.listener);
    await conn3.call({ type: "index_shard", revision: 9, files: [ALPHA] });
    terminated.child.kill("SIGTERM");
    assert.equal((await within(terminated.done, "the worker to exit")).code, 0);
    const cache = await loadShardCache(h.cacheDir, 1);
    assert.ok(cache.ok && cache.index.revision === 9);
    await conn3.closed;
  } finally {
    await h.close();
  }
});

Deno.test("worker e2e: a cache it cannot write is a warning, the index still served", async () => {
  const h = await harness("unix");
  try {
    // A directory below a regular file can never be created, even by root.
    await Deno.writeTextFile(`${h.dir}/file`, "");
    const worker = spawnWorker([
      ...requiredArgs(h, 4).slice(0, 4),
      "--cache-dir",
      `${h.dir}/file/cache`,
    ], { LOOM_LOG: "warn" });
    const conn = await accept(h.listener);
    const built = index(
      await conn.call({ type: "index_shard", revision: 1, files: [ALPHA] }),
    );
    assert.deepEqual(names(built), ["Alpha", "run", "x"]);
    const stderr = await shutdown(conn, worker);
    const events = stderr.split("\n").filter((l) => l.startsWith("{"))
      .map((l) => JSON.parse(l));
    const failed = events.find((e) => e.event === "write shard cache failed");
    assert.equal(failed?.level, "warn", stderr);
  } finally {
    await h.close();
  }
});

Deno.test("worker e2e: startup errors exit 1 with a clear message", async () => {
  const h = await harness("unix", {
    admit: () => ({ reject: { code: "unauthorized", message: "not today" } }),
  });
  try {
    const cases: Array<[string[], RegExp, Record<string, string>?]> = [
      [["--shard-id", "1"], /^error: --connect is required$/m],
      [
        ["--connect", "pipe:x", "--shard-id", "1", "--cache-dir", "/c"],
        /named pipes/,
      ],
      [
        [
          `--connect=${h.connect}`,
          "--shard-id=1",
          `--cache-dir=${h.cacheDir}`,
          "--max-rpc-bytes=0",
        ],
        /^error: v3 handshake failed: hello frame of \d+ bytes exceeds the pre-handshake limit 1$/m,
      ],
      [
        [
          "--connect",
          `unix:${h.dir}/missing.sock`,
          "--shard-id",
          "1",
          "--cache-dir",
          h.cacheDir,
        ],
        /^error: connect unix socket: /m,
      ],
      [
        [...requiredArgs(h, 1), "--auth-token-env", "TOK"],
        /^error: v3 handshake failed: .*not today/m,
        { TOK: "top-secret-token" },
      ],
      [
        [
          `--connect=${h.connect}`,
          "--shard-id=1",
          `--cache-dir=${h.dir}/shared-cache`,
        ],
        /^error: --cache-dir: cache directory .* is writable by others \(mode 777\)/m,
      ],
    ];
    await Deno.mkdir(`${h.dir}/shared-cache`);
    await Deno.chmod(`${h.dir}/shared-cache`, 0o777);
    for (const [args, pattern, env] of cases) {
      const { code, stderr } = await within(
        spawnWorker(args, env).done,
        "the worker to exit",
      );
      assert.equal(code, 1, stderr);
      assert.match(stderr, pattern);
      assert.ok(!stderr.includes("top-secret-token"));
    }
  } finally {
    await h.close();
  }
});

Deno.test("worker e2e (tcp+tls): mutual TLS accepts a client certificate and refuses none", async () => {
  await using tls = await createTlsFixtures();
  await Deno.chmod(tls.client.keyPath, 0o600);
  const listener = listen("tcp+tls:127.0.0.1:0", {
    tls: { cert: tls.server.cert, key: tls.server.key, clientCa: tls.ca.cert },
    logger,
    admit: () => ({ worker_id: 1, revision: 0 }),
  });
  const cacheDir = `${tls.dir}/cache`;
  try {
    const bound = await listener.ready;
    const base = [
      "--connect",
      formatAddress(bound),
      "--shard-id",
      "4",
      "--cache-dir",
      cacheDir,
      "--tls-ca-cert",
      tls.ca.certPath,
      "--tls-domain",
      "localhost",
    ];
    const worker = spawnWorker([
      ...base,
      "--tls-client-cert",
      tls.client.certPath,
      "--tls-client-key",
      tls.client.keyPath,
    ]);
    const conn = await accept(listener);
    assert.equal(conn.peerFingerprint, tls.client.fingerprint);
    assert.equal(
      stats(await conn.call({ type: "get_worker_stats" })).shard_id,
      4,
    );
    const built = index(
      await conn.call({ type: "index_shard", revision: 1, files: [ALPHA] }),
    );
    assert.deepEqual(names(built), ["Alpha", "run", "x"]);
    await shutdown(conn, worker);

    const refused = await within(spawnWorker(base).done, "the worker to exit");
    assert.notEqual(refused.code, 0);

    await Deno.chmod(tls.client.keyPath, 0o644);
    const open = spawnWorker([
      ...base,
      "--tls-client-cert",
      tls.client.certPath,
      "--tls-client-key",
      tls.client.keyPath,
    ]).done;
    assert.equal((await within(open, "the worker to exit")).code, 1);
    assert.match((await open).stderr, /chmod 600/);
  } finally {
    await killLeftovers();
    await listener.close();
  }
});
