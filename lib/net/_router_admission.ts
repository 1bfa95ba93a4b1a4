/**
 * The router's admission and connection bookkeeping: binding the main
 * listener, one private listener per spawned child, the supervisor of
 * spawned workers, admitting a worker for a shard (token, mTLS allowlist,
 * one worker per shard), and wiring an admitted connection into its shard
 * slot (cached indexes, disconnects, rehydration).
 *
 * @module
 */

import { tmpdir } from "node:os";
import type {
  HandshakeReject,
  Notification,
  U64,
  WorkerHello,
} from "../wire/types.ts";
import { type Address, formatAddress, parseAddress } from "./address.ts";
import {
  shardAuthorized,
  validateRouterConfig,
  type WorkerTlsOptions,
} from "./router_config.ts";
import { generateToken, type SpawnWorkersOptions } from "./router_options.ts";
import { type SpawnEndpoint, WorkerSupervisor } from "./supervisor.ts";
import { loomWorkerCommand, splitCommandLine } from "./worker_command.ts";
import { createRestartBackoff } from "./_router_core.ts";
import type { LiveWorker, RouterState, ShardSlot } from "./_router_state.ts";
import {
  listenForWorkers,
  type ListenForWorkersOptions,
  type WorkerConnection,
  type WorkerListener,
} from "./_router_transport.ts";
import { rehydrate } from "./_router_updates.ts";
import { guardSymbols } from "./_router_calls.ts";
import { supportsDistributedSearch } from "../worker/search.ts";
import { DEFAULT_HANDSHAKE_TIMEOUT_MS } from "../wire/limits.ts";

/** Listener settings shared by the main and the per-child listeners. */
function listenOptions(
  st: RouterState,
): Omit<ListenForWorkersOptions, "admit" | "authToken"> {
  const opts = st.options;
  return {
    tls: opts.tls,
    allowInsecure: opts.allowInsecureTcp ?? false,
    maxRpcBytes: Math.min(
      Math.max(1, opts.maxRpcBytes ?? 64 * 1024 * 1024),
      64 * 1024 * 1024,
    ),
    maxInflightHandshakes: Math.max(1, opts.maxInflightHandshakes ?? 128),
    maxConnections: Math.max(1, opts.maxWorkerConnections ?? 1024),
    handshakeTimeoutMs: opts.handshakeTimeoutMs ?? DEFAULT_HANDSHAKE_TIMEOUT_MS,
    // 3.1 always: batched snapshots need it (distributed search is still
    // used only when asked for); a 3.0 worker negotiates 3.0.
    supportedVersions: opts.maxProtocolMinor === 0
      ? undefined
      : { min: { major: 3, minor: 0 }, max: { major: 3, minor: 1 } },
  };
}

/**
 * Validates the configuration, binds the main listener, starts its accept
 * loop and (when asked) the supervisor of spawned workers.
 *
 * @example Binds a unix socket in a fresh private directory
 * ```ts ignore
 * import { bind } from "./_router_admission.ts";
 * import { RouterState } from "./_router_state.ts";
 * import { normalizeAllowlist } from "./router_config.ts";
 * const st = new RouterState({ roots: ["src"] }, normalizeAllowlist(undefined));
 * await bind(st);
 * console.assert(st.address.startsWith("unix:"));
 * st.closed = true;
 * await st.listener!.close();
 * await Promise.all(st.acceptLoops);
 * await Deno.remove(st.tempDir!, { recursive: true });
 * ```
 */
export async function bind(
  st: RouterState,
): Promise<void> {
  const opts = st.options;
  const wanted = opts.spawnWorkers;
  if (
    wanted === true ||
    (wanted && wanted.command === undefined && wanted.program === undefined)
  ) {
    throw new TypeError(
      "spawnWorkers needs a worker `command` or the loom worker `program`",
    );
  }
  const listenText = opts.listen ??
    `unix:${await st.privateDir()}/router.sock`;
  const address = parseAddress(listenText);
  const spawn = opts.spawnWorkers === true
    ? {}
    : opts.spawnWorkers === false
    ? undefined
    : opts.spawnWorkers;
  validateRouterConfig({
    address,
    tokenInUse: opts.authToken !== undefined,
    allowInsecureTcp: opts.allowInsecureTcp ?? false,
    tls: opts.tls,
    allowlist: st.allowlist,
  });
  st.listener = await listenForWorkers(address, {
    ...listenOptions(st),
    authToken: opts.authToken,
    admit: (hello, peerFingerprint) => admit(st, hello, peerFingerprint),
  });
  st.acceptLoops.push(acceptLoop(st, st.listener));
  if (spawn !== undefined) startSupervisor(st, spawn, address);
}

/**
 * A private listener for one spawned child: a unix socket in the router's
 * 0700 directory, or (for a `tcp+tls:` router with worker TLS settings) a
 * fresh TLS port on the same host. Its token is unique to the child, so
 * only that child is admitted through it, as "ours".
 */
async function spawnEndpoint(
  st: RouterState,
  shard: number,
  attempt: number,
  mainAddress: Address,
  tls: WorkerTlsOptions | undefined,
): Promise<SpawnEndpoint> {
  const token = generateToken();
  const address: Address =
    mainAddress.transport === "tcp+tls" && tls !== undefined
      ? { transport: "tcp+tls", hostname: mainAddress.hostname, port: 0 }
      : {
        transport: "unix",
        path: `${await st.privateDir()}/w${shard}-${attempt}.sock`,
      };
  const listener = await listenForWorkers(address, {
    ...listenOptions(st),
    maxInflightHandshakes: 4,
    maxConnections: 4,
    authToken: token,
    admit: (hello, fp) => admit(st, hello, fp, { shard, attempt }),
  });
  const loop = acceptLoop(st, listener);
  st.track(loop);
  return {
    connect: formatAddress(listener.address),
    token,
    close: () => listener.close(),
  };
}

/** Starts supervising one spawned worker per shard. */
function startSupervisor(
  st: RouterState,
  spawn: SpawnWorkersOptions,
  mainAddress: Address,
): void {
  let command: string | readonly string[] = spawn.command ??
    loomWorkerCommand(spawn.program!);
  const tlsChildren = mainAddress.transport === "tcp+tls" &&
    spawn.tls !== undefined;
  if (tlsChildren && spawn.command === undefined) {
    const tls = spawn.tls!;
    const words = typeof command === "string"
      ? splitCommandLine(command)
      : [...command];
    words.push("--tls-ca-cert", tls.caCertFile);
    if (tls.domain) words.push("--tls-domain", tls.domain);
    if (tls.clientCertFile) {
      words.push("--tls-client-cert", tls.clientCertFile);
    }
    if (tls.clientKeyFile) words.push("--tls-client-key", tls.clientKeyFile);
    command = words;
  }
  st.supervisor = new WorkerSupervisor({
    shards: st.shards.map((s) => s.id),
    command,
    connect: st.address,
    prepare: (shard, attempt) =>
      spawnEndpoint(st, shard, attempt, mainAddress, spawn.tls),
    cacheDir: spawn.cacheDir ?? `${tmpdir()}/loom-cache`,
    caCert: spawn.tls?.caCertFile,
    tokenEnv: spawn.tokenEnv,
    env: spawn.env,
    createBackoff: spawn.createBackoff ?? createRestartBackoff,
    // The default backoff adds its own jitter.
    jitter: spawn.createBackoff ? undefined : () => 0,
    handshakeTimeoutMs: spawn.connectTimeoutMs ??
      st.options.handshakeTimeoutMs ?? DEFAULT_HANDSHAKE_TIMEOUT_MS,
    onEvent: (event) => {
      if (event.type === "output") {
        st.log.info("worker output", {
          shard_id: event.shard,
          stream: event.stream,
          line: event.line,
        });
      } else {
        st.log.info(`worker ${event.type}`, { ...event, type: undefined });
      }
      st.emit({ type: "supervisor", event });
    },
  });
  st.supervisor.start();
}

/**
 * The admission decision for a handshaking worker (`spawn` set on a
 * spawned child's private listener); reserves the shard slot on accept.
 */
function admit(
  st: RouterState,
  hello: WorkerHello,
  peerFingerprint: string | undefined,
  spawn?: { shard: number; attempt: number },
): { worker_id: number; revision: U64 } | { reject: HandshakeReject } {
  if (st.closed) {
    return {
      reject: { code: "internal", message: "router is shutting down" },
    };
  }
  const shardId = hello.shard_id;
  // The token itself was checked by the transport (constant time). On the
  // shared listener, a spawning router without a configured token admits
  // nobody: its own children use their private listeners.
  if (
    spawn === undefined && st.supervisor !== undefined &&
    st.authToken === undefined
  ) {
    return {
      reject: { code: "unauthorized", message: "authentication failed" },
    };
  }
  if (spawn !== undefined && spawn.shard !== shardId) {
    return {
      reject: { code: "unauthorized", message: "shard authorization failed" },
    };
  }
  const spawnAttempt = spawn?.attempt;
  if (
    spawn === undefined &&
    !shardAuthorized(st.allowlist, shardId, peerFingerprint)
  ) {
    return {
      reject: { code: "unauthorized", message: "shard authorization failed" },
    };
  }
  const shard = st.shards[shardId];
  if (shard === undefined) {
    return {
      reject: {
        code: "invalid_request",
        message: `unknown shard ${shardId}`,
      },
    };
  }
  if (shard.worker !== undefined || shard.pending !== undefined) {
    return {
      reject: {
        code: "invalid_request",
        message: `shard ${shardId} already has a connected worker`,
      },
    };
  }
  const workerId = st.nextWorkerId++;
  // The reservation lapses if the connection never shows up (the Welcome
  // could not be written).
  const timer = setTimeout(() => {
    if (shard.pending?.workerId === workerId) {
      shard.pending = undefined;
      st.wake();
    }
  }, (st.options.handshakeTimeoutMs ?? DEFAULT_HANDSHAKE_TIMEOUT_MS) + 1000);
  shard.pending = { workerId, spawnAttempt, timer };
  return { worker_id: workerId, revision: st.store.revision };
}

/** Hands every connection accepted by `listener` to its shard slot. */
async function acceptLoop(
  st: RouterState,
  listener: WorkerListener,
): Promise<void> {
  try {
    for await (const conn of listener) {
      onConnection(st, conn);
    }
  } catch (err) {
    if (!st.closed) {
      st.log.error("router accept loop terminated", { err });
    }
  }
}

/**
 * Installs an admitted connection in its reserved shard slot: events,
 * cached-index and close handling, and rehydration when the shard needs it.
 */
function onConnection(
  st: RouterState,
  conn: WorkerConnection,
): void {
  const shard = st.shards[conn.hello.shard_id];
  const workerId = conn.welcome.worker_id;
  if (shard?.pending?.workerId !== workerId || st.closed) {
    conn.close();
    return;
  }
  clearTimeout(shard.pending.timer);
  const worker: LiveWorker = {
    conn,
    workerId,
    spawnAttempt: shard.pending.spawnAttempt,
    cacheSettled: Promise.withResolvers<void>(),
    ready: Promise.resolve(),
    distributed: st.options.distributedSearch === true &&
      supportsDistributedSearch(conn.welcome.chosen_version),
  };
  shard.pending = undefined;
  shard.worker = worker;
  st.store.setStale(shard.id, false);
  const cached = conn.hello.cached_index_info !== null;
  // Evidence, not a guess: the Hello says whether a cached index follows.
  // Without one there is nothing to wait for; with one, the wait ends when
  // the `cached_index` notification arrives or the connection closes,
  // however long a loaded machine takes to send it. A worker that
  // advertises a cache and stays silent for the whole response timeout
  // broke the protocol and is disconnected.
  if (!cached) worker.cacheSettled.resolve();
  else {
    const limitMs = st.options.rpcReadTimeoutMs ?? 600_000;
    const silent = setTimeout(() => {
      st.log.warn(
        "worker advertised a cached index but never sent it; disconnecting worker",
        { shard_id: shard.id, worker_id: workerId, waited_ms: limitMs },
      );
      worker.cacheSettled.resolve();
      st.disconnect(shard, worker);
    }, limitMs);
    worker.cacheSettled.promise.then(() => clearTimeout(silent));
  }
  st.log.info("worker connected", {
    shard_id: shard.id,
    worker_id: workerId,
    has_cached_index: cached,
  });
  conn.setNotificationHandler((n) => onNotification(st, shard, worker, n));
  conn.closed.then(() => {
    worker.cacheSettled.resolve();
    if (st.releaseShard(shard, workerId)) {
      st.log.info("worker connection closed", {
        shard_id: shard.id,
        worker_id: workerId,
      });
      st.wake();
    }
  });
  if (worker.spawnAttempt !== undefined) {
    st.supervisor?.connected(shard.id, worker.spawnAttempt, conn.closed);
  }
  st.emit({
    type: "worker_connected",
    shard: shard.id,
    workerId,
    cached,
    spawned: worker.spawnAttempt !== undefined,
  });
  const overlayFiles = st.overlayFor(shard).length;
  // Calls to this worker wait until it holds the shard's files again, so
  // an update cannot race the rehydration snapshot.
  if (overlayFiles > 0 || (!cached && shard.indexed)) {
    worker.ready = rehydrate(st, shard, { worker, mode: "index_shard" });
  } else if (cached && st.options.rehydrateCachedWorkers !== false) {
    worker.ready = rehydrate(st, shard, { worker, mode: "load_files" });
  }
  st.track(worker.ready);
  st.wake();
}

/** Handles a worker's `cached_index` notification. */
function onNotification(
  st: RouterState,
  shard: ShardSlot,
  worker: LiveWorker,
  n: Notification,
): void {
  if (n.type !== "cached_index") return;
  if (n.body.shard_id !== shard.id) {
    st.log.warn(
      "worker sent cached index for wrong shard; disconnecting worker",
      { shard_id: shard.id, got: n.body.shard_id },
    );
    st.disconnect(shard, worker);
    return;
  }
  const accepted = st.store.offer({
    ...n.body,
    symbols: guardSymbols(st, shard, n.body.symbols),
  });
  if (accepted) {
    shard.warm = true;
    shard.remote = false;
    shard.warmIndex = {
      revision: n.body.revision,
      index_generation: n.body.index_generation,
      symbol_count: n.body.symbols.length,
    };
  }
  worker.cacheSettled.resolve();
  st.emit({
    type: "cached_index",
    shard: shard.id,
    symbols: n.body.symbols.length,
    accepted,
  });
}
