/**
 * Worker supervision: one local worker process per shard, restarted with
 * backoff when it crashes, exits, disconnects or stalls in its handshake.
 *
 * Differences from the reference supervisor (deliberate):
 * - each spawn can get its own endpoint and token (see
 *   {@link SupervisorOptions.prepare}): the router gives every child a
 *   private listener, so only that child's connection counts as "our
 *   worker"; any other connection claiming the shard is not mistaken for it;
 * - children get `stdin` closed (`null`), not the router's stdin;
 * - {@link WorkerSupervisor.stop} lets the router send `Shutdown` first and
 *   only kills the processes still running after a grace period.
 *
 * @module
 */

import { randomBytes } from "node:crypto";
import { concatBytes } from "../wire/bytes.ts";
import {
  DEFAULT_TOKEN_ENV,
  expandWorkerCommand,
  type WorkerCommandVars,
} from "./worker_command.ts";
import { DEFAULT_HANDSHAKE_TIMEOUT_MS } from "../wire/limits.ts";

/** Restart delays: `nextDelay()` in milliseconds, `reset()` after a stable run. */
export interface SupervisorBackoff {
  /** The delay before the next restart, in milliseconds. */
  nextDelay(): number;
  /** Starts over after a stable run. */
  reset(): void;
}

/** Where one spawned child connects, and with which token. */
export interface SpawnEndpoint {
  /** The address passed as `{connect}`. */
  connect: string;
  /** The token put in the child's environment. */
  token: string;
  /** Releases the endpoint (called after the child is gone). */
  close(): void;
}

/**
 * Longest relayed output line before it is cut (the reference's 64 KiB).
 *
 * @example
 * ```ts
 * import { MAX_OUTPUT_LINE_BYTES } from "./supervisor.ts";
 * console.assert(MAX_OUTPUT_LINE_BYTES === 65536);
 * ```
 */
export const MAX_OUTPUT_LINE_BYTES = 64 * 1024;

/**
 * Marker appended to a cut output line.
 *
 * @example
 * ```ts
 * import { OUTPUT_TRUNCATED_MARKER } from "./supervisor.ts";
 * console.assert(OUTPUT_TRUNCATED_MARKER === "<output truncated>");
 * ```
 */
export const OUTPUT_TRUNCATED_MARKER = "<output truncated>";

/** Something that happened to a supervised worker. */
export type SupervisorEvent =
  | { type: "spawned"; shard: number; attempt: number; pid: number }
  | { type: "spawn_failed"; shard: number; attempt: number; error: unknown }
  | { type: "connected"; shard: number; attempt: number }
  | {
    type: "exited";
    shard: number;
    attempt: number;
    code: number;
    signal: string | null;
    beforeHandshake: boolean;
  }
  | { type: "handshake_timeout"; shard: number; attempt: number }
  | { type: "disconnected"; shard: number; attempt: number }
  | { type: "restart_scheduled"; shard: number; delayMs: number }
  | {
    type: "output";
    shard: number;
    stream: "stdout" | "stderr";
    line: string;
  };

/** Options for {@link WorkerSupervisor}. */
export interface SupervisorOptions {
  /** The shards to run one worker each for. */
  shards: readonly number[];
  /** Worker command template (see `worker_command.ts`). */
  command: string | readonly string[];
  /** The address workers connect to (the bound address). */
  connect: string;
  /**
   * Prepares a per-spawn endpoint (address and token) before each spawn;
   * closed when that child is gone. Default: `connect` and a fresh token.
   */
  prepare?: (shard: number, attempt: number) => Promise<SpawnEndpoint>;
  /** The workers' cache directory. */
  cacheDir: string;
  /** CA certificate path for `{ca_cert}` (TLS workers). */
  caCert?: string;
  /**
   * Environment variable carrying each child's token.
   * @default {"LOOM_WORKER_AUTH_TOKEN"}
   */
  tokenEnv?: string;
  /** Creates one backoff per shard. */
  createBackoff: () => SupervisorBackoff;
  /**
   * Random extra delay for a base delay (the reference adds 0..delay/4 ms).
   * @default {uniform whole ms in [0, floor(delay / 4)]}
   */
  jitter?: (delayMs: number) => number;
  /**
   * Spawn-to-handshake deadline in ms.
   * @default {5000}
   */
  handshakeTimeoutMs?: number;
  /**
   * A connected run at least this long resets the backoff.
   * @default {10000}
   */
  stableAfterMs?: number;
  /**
   * How long to wait for a killed child to be reaped.
   * @default {2000}
   */
  killTimeoutMs?: number;
  /**
   * Extra environment for the children. Children never inherit the
   * router's environment: they get {@link workerEnvironment} (a short list
   * of variables a runtime needs), these entries and their token.
   */
  env?: Record<string, string>;
  /** Receives lifecycle and output events. */
  onEvent?: (event: SupervisorEvent) => void;
}

interface Slot {
  shard: number;
  attempt: number;
  child?: Deno.ChildProcess;
  pid?: number;
  /** Resolved by {@link WorkerSupervisor.connected} with the close promise. */
  onConnected?: (closed: Promise<unknown>) => void;
  loop?: Promise<void>;
}

/**
 * The variables a spawned worker inherits from the router's environment:
 * what a runtime needs to find programs, its module cache, a temp directory
 * and the locale, plus the log level. Anything else (other tokens, cloud
 * credentials, `DENO_AUTH_TOKENS`) stays in the router.
 */
export const WORKER_ENV_PASSTHROUGH: readonly string[] = Object.freeze([
  "PATH",
  "HOME",
  "DENO_DIR",
  "XDG_CACHE_HOME",
  "TMPDIR",
  "LANG",
  "LC_ALL",
  "LC_CTYPE",
  "TZ",
  "NO_COLOR",
  "LOOM_LOG",
  "SYSTEMROOT",
  "USERPROFILE",
  "LOCALAPPDATA",
]);

/**
 * The minimal environment of a spawned worker: the
 * {@link WORKER_ENV_PASSTHROUGH} variables that are set in this process.
 *
 * @returns A fresh record (unreadable variables are left out).
 *
 * @example
 * ```ts
 * import { workerEnvironment } from "./supervisor.ts";
 * const env = workerEnvironment();
 * console.assert(!("LOOM_WORKER_AUTH_TOKEN" in env));
 * ```
 */
export function workerEnvironment(): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of WORKER_ENV_PASSTHROUGH) {
    let value: string | undefined;
    try {
      value = Deno.env.get(name);
    } catch {
      value = undefined; // No permission for this one: leave it out.
    }
    if (value !== undefined) out[name] = value;
  }
  return out;
}

function defaultJitter(delayMs: number): number {
  const bound = Math.floor(delayMs / 4);
  return bound <= 0 ? 0 : Math.floor(Math.random() * (bound + 1));
}

interface Drain {
  done: Promise<void>;
  cancel(): void;
}

function drainLines(
  stream: ReadableStream<Uint8Array>,
  emit: (line: string) => void,
): Drain {
  const reader = stream.getReader();
  return {
    done: drainReader(reader, emit),
    cancel: () => {
      reader.cancel().catch(() => {});
    },
  };
}

async function drainReader(
  reader: ReadableStreamDefaultReader<Uint8Array>,
  emit: (line: string) => void,
): Promise<void> {
  const decoder = new TextDecoder();
  let pending: Uint8Array[] = [];
  let pendingBytes = 0;
  let discarding = false;
  const flush = (): void => {
    if (discarding) {
      discarding = false;
      pending = [];
      pendingBytes = 0;
      return;
    }
    const buf = new Uint8Array(pendingBytes);
    let off = 0;
    for (const part of pending) {
      buf.set(part, off);
      off += part.length;
    }
    pending = [];
    pendingBytes = 0;
    emit(decoder.decode(buf).replace(/\r$/, ""));
  };
  try {
    while (true) {
      const { value: chunk, done } = await reader.read();
      if (done) break;
      let start = 0;
      while (start < chunk.length) {
        const nl = chunk.indexOf(10, start);
        const end = nl < 0 ? chunk.length : nl;
        if (!discarding) {
          const room = MAX_OUTPUT_LINE_BYTES - pendingBytes;
          const piece = chunk.subarray(start, end);
          if (piece.length > room) {
            pending.push(piece.subarray(0, room));
            pendingBytes += room;
            // Cut at a character boundary, then drop the rest of the line.
            const text = decoder.decode(concatBytes(pending)).replace(
              /\uFFFD$/,
              "",
            );
            emit(text + OUTPUT_TRUNCATED_MARKER);
            pending = [];
            pendingBytes = 0;
            discarding = true;
          } else {
            pending.push(piece.slice());
            pendingBytes += piece.length;
          }
        }
        if (nl < 0) break;
        flush();
        start = nl + 1;
      }
    }
  } catch {
    // The pipe broke: the process is gone.
  }
  if (pendingBytes > 0 || discarding) flush();
}

/**
 * Runs one worker process per shard and restarts it as needed.
 *
 * The router gives each spawn its own endpoint ({@link SupervisorOptions.prepare})
 * and reports a successful handshake with {@link WorkerSupervisor.connected}.
 *
 * @example Nothing runs before `start()`
 * ```ts
 * import { WorkerSupervisor } from "./supervisor.ts";
 * const sup = new WorkerSupervisor({
 *   shards: [0], command: "w", connect: "unix:/r.sock", cacheDir: "/c",
 *   createBackoff: () => ({ nextDelay: () => 50, reset() {} }),
 * });
 * console.assert(sup.attempts(0) === 0 && sup.pid(0) === undefined);
 * await sup.stop();
 * ```
 */
export class WorkerSupervisor {
  #options: SupervisorOptions;
  #slots = new Map<number, Slot>();
  #stopping = false;
  #stopWaiters = new Set<() => void>();

  /** Creates a supervisor; nothing runs until {@link start}. */
  constructor(options: SupervisorOptions) {
    this.#options = options;
    for (const shard of options.shards) {
      this.#slots.set(shard, { shard, attempt: 0 });
    }
  }

  /** The environment variable that carries the token. */
  get tokenEnv(): string {
    return this.#options.tokenEnv ?? DEFAULT_TOKEN_ENV;
  }

  /** Starts one supervision loop per shard. */
  start(): void {
    for (const slot of this.#slots.values()) {
      slot.loop ??= this.#run(slot);
    }
  }

  /** Reports that the child `attempt` of `shard` completed its handshake. */
  connected(shard: number, attempt: number, closed: Promise<unknown>): void {
    const slot = this.#slots.get(shard);
    if (slot === undefined || slot.attempt !== attempt) return;
    slot.onConnected?.(closed);
  }

  /** The process id of the current child of `shard`, if one is running. */
  pid(shard: number): number | undefined {
    return this.#slots.get(shard)?.pid;
  }

  /** How many processes have been started for `shard`. */
  attempts(shard: number): number {
    return this.#slots.get(shard)?.attempt ?? 0;
  }

  /**
   * Kills the current child of `shard` (SIGKILL); the loop restarts it.
   * Returns false when no child is running.
   */
  kill(shard: number): boolean {
    const child = this.#slots.get(shard)?.child;
    if (child === undefined) return false;
    try {
      child.kill("SIGKILL");
      return true;
    } catch {
      return false;
    }
  }

  /**
   * Stops restarting, waits up to `graceMs` for the children to exit on
   * their own (after the router's `Shutdown`), then kills the rest.
   */
  async stop(graceMs = 2000): Promise<void> {
    this.#stopping = true;
    for (const wake of this.#stopWaiters) wake();
    this.#stopWaiters.clear();
    const loops = [...this.#slots.values()].map((s) => s.loop);
    let timer: ReturnType<typeof setTimeout> | undefined;
    const grace = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, graceMs);
    });
    const children = [...this.#slots.values()].flatMap((s) =>
      s.child ? [s.child.status.then(() => {})] : []
    );
    await Promise.race([Promise.all(children), grace]);
    clearTimeout(timer);
    for (const slot of this.#slots.values()) {
      if (slot.child !== undefined) {
        try {
          slot.child.kill("SIGKILL");
        } catch {
          // Already gone.
        }
      }
    }
    await Promise.all(loops);
  }

  #emit(event: SupervisorEvent): void {
    try {
      this.#options.onEvent?.(event);
    } catch {
      // Observers never break supervision.
    }
  }

  /** Resolves after `ms`, or early when stopping. Returns true if stopping. */
  #sleep(ms: number): Promise<boolean> {
    if (this.#stopping) return Promise.resolve(true);
    return new Promise((resolve) => {
      const wake = (): void => {
        clearTimeout(timer);
        this.#stopWaiters.delete(wake);
        resolve(this.#stopping);
      };
      const timer = setTimeout(wake, ms);
      this.#stopWaiters.add(wake);
    });
  }

  async #run(slot: Slot): Promise<void> {
    const opts = this.#options;
    const backoff = opts.createBackoff();
    const jitter = opts.jitter ?? defaultJitter;
    while (!this.#stopping) {
      slot.attempt++;
      const attempt = slot.attempt;
      let endpoint: SpawnEndpoint;
      try {
        endpoint = opts.prepare ? await opts.prepare(slot.shard, attempt) : {
          connect: opts.connect,
          token: randomBytes(32).toString("hex"),
          close() {},
        };
      } catch (error) {
        this.#emit({ type: "spawn_failed", shard: slot.shard, attempt, error });
        if (this.#stopping) break;
        if (await this.#sleep(backoff.nextDelay())) break;
        continue;
      }
      const token = endpoint.token;
      const vars: WorkerCommandVars = {
        connect: endpoint.connect,
        shard: slot.shard,
        cacheDir: opts.cacheDir,
        tokenEnv: this.tokenEnv,
        caCert: opts.caCert,
      };
      let child: Deno.ChildProcess | undefined;
      try {
        const [program, ...args] = expandWorkerCommand(opts.command, vars);
        child = new Deno.Command(program, {
          args,
          clearEnv: true,
          env: {
            ...workerEnvironment(),
            ...opts.env,
            [this.tokenEnv]: token,
          },
          stdin: "null",
          stdout: "piped",
          stderr: "piped",
        }).spawn();
      } catch (error) {
        this.#emit({ type: "spawn_failed", shard: slot.shard, attempt, error });
      }
      if (child !== undefined) {
        await this.#supervise(slot, child, attempt, backoff);
      }
      endpoint.close();
      if (this.#stopping) break;
      const base = backoff.nextDelay();
      const delayMs = base + jitter(base);
      this.#emit({ type: "restart_scheduled", shard: slot.shard, delayMs });
      if (await this.#sleep(delayMs)) break;
    }
  }

  async #supervise(
    slot: Slot,
    child: Deno.ChildProcess,
    attempt: number,
    backoff: SupervisorBackoff,
  ): Promise<void> {
    const opts = this.#options;
    const shard = slot.shard;
    slot.child = child;
    slot.pid = child.pid;
    this.#emit({ type: "spawned", shard, attempt, pid: child.pid });
    const output = [
      drainLines(
        child.stdout,
        (line) => this.#emit({ type: "output", shard, stream: "stdout", line }),
      ),
      drainLines(
        child.stderr,
        (line) => this.#emit({ type: "output", shard, stream: "stderr", line }),
      ),
    ];
    let exitedStatus: Deno.CommandStatus | undefined;
    const exited = child.status.then((s) => {
      exitedStatus = s;
      return "exited" as const;
    });
    // Wrapped: resolving with a bare promise would adopt it.
    const connected = new Promise<{ closed: Promise<unknown> }>((resolve) => {
      slot.onConnected = (closed) => resolve({ closed });
    });
    const stopping = new Promise<"stop">((resolve) => {
      if (this.#stopping) resolve("stop");
      else this.#stopWaiters.add(() => resolve("stop"));
    });
    let deadlineTimer: ReturnType<typeof setTimeout> | undefined;
    const deadline = new Promise<"deadline">((resolve) => {
      deadlineTimer = setTimeout(
        () => resolve("deadline"),
        opts.handshakeTimeoutMs ?? DEFAULT_HANDSHAKE_TIMEOUT_MS,
      );
    });
    const first = await Promise.race([
      connected,
      exited,
      deadline,
      stopping,
    ]);
    clearTimeout(deadlineTimer);
    slot.onConnected = undefined;
    if (typeof first === "object") {
      this.#emit({ type: "connected", shard, attempt });
      const since = Date.now();
      const next = await Promise.race([
        first.closed.then(() => "closed" as const),
        exited,
        stopping,
      ]);
      if (Date.now() - since >= (opts.stableAfterMs ?? 10_000)) backoff.reset();
      if (next === "closed") {
        this.#emit({ type: "disconnected", shard, attempt });
        // Give a well-behaved worker a moment to exit on its own.
        await Promise.race([exited, this.#sleep(200)]);
      }
    } else if (first === "deadline") {
      this.#emit({ type: "handshake_timeout", shard, attempt });
    }
    if (first === "stop" || this.#stopping) {
      // `stop()` owns the grace period and the final kill.
      await exited;
    } else if (exitedStatus === undefined) {
      try {
        child.kill("SIGKILL");
      } catch {
        // Already gone.
      }
      let t: ReturnType<typeof setTimeout> | undefined;
      await Promise.race([
        exited,
        new Promise((r) => t = setTimeout(r, opts.killTimeoutMs ?? 2000)),
      ]);
      clearTimeout(t);
    }
    await exited;
    // A grandchild may keep the pipes open: stop relaying shortly after.
    let drainTimer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([
      Promise.all(output.map((o) => o.done)),
      new Promise((r) => drainTimer = setTimeout(r, 500)),
    ]);
    clearTimeout(drainTimer);
    for (const o of output) o.cancel();
    await Promise.all(output.map((o) => o.done));
    const status = exitedStatus!;
    this.#emit({
      type: "exited",
      shard,
      attempt,
      code: status.code,
      signal: status.signal,
      beforeHandshake: typeof first !== "object",
    });
    slot.child = undefined;
    slot.pid = undefined;
  }
}
